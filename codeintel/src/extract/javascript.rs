//! JavaScript, TypeScript and TSX: TypeScript's grammar extends JavaScript's and TSX is
//! TypeScript with JSX, so one reading serves all three (TypeScript-only nodes never occur
//! in JavaScript).

use super::{is_type_use, strip_quotes, DocSpan, Role, Source, Syntax};
use crate::model::{Import, ImportedName, RefKind, SymbolKind};
use tree_sitter::Node;

/// The syntax of JavaScript, TypeScript and TSX.
pub(super) struct Script;

impl Syntax for Script {
    fn classify<'t>(&self, source: &Source, node: Node<'t>) -> Role<'t> {
        match node.kind() {
            "class_heritage" | "extends_type_clause" => Role::Skip,
            "function_declaration" | "generator_function_declaration" | "function_signature" => {
                source.def(node, SymbolKind::Function, "name")
            }
            "class_declaration" | "abstract_class_declaration" | "class" => {
                source.def(node, SymbolKind::Class, "name")
            }
            "method_definition" | "method_signature" | "abstract_method_signature" => {
                source.def(node, SymbolKind::Method, "name")
            }
            "interface_declaration" => source.def(node, SymbolKind::Interface, "name"),
            "enum_declaration" => source.def(node, SymbolKind::Enum, "name"),
            "type_alias_declaration" => source.def(node, SymbolKind::Type, "name"),
            "internal_module" | "module" => source.def(node, SymbolKind::Module, "name"),
            "variable_declarator" => {
                let value = node.child_by_field_name("value");
                let name = node.child_by_field_name("name");
                match (name, value) {
                    (Some(name), Some(value))
                        if name.kind() == "identifier"
                            && matches!(
                                value.kind(),
                                "arrow_function" | "function_expression" | "function"
                            ) =>
                    {
                        // `const f = () => ...`: the declaration statement carries the docs.
                        let outer = node
                            .parent()
                            .filter(|p| {
                                matches!(p.kind(), "lexical_declaration" | "variable_declaration")
                            })
                            .unwrap_or(node);
                        Role::Def {
                            kind: SymbolKind::Function,
                            name: source.text(name).to_string(),
                            outer,
                            body: value.child_by_field_name("body"),
                            owner: None,
                        }
                    }
                    _ => Role::Other,
                }
            }
            "call_expression" => match node.child_by_field_name("function") {
                Some(f) if f.kind() == "identifier" => source.call(f),
                Some(f) if f.kind() == "member_expression" => {
                    source.member_call(f, "property", "object")
                }
                _ => Role::Other,
            },
            "new_expression" => match node.child_by_field_name("constructor") {
                Some(c) if matches!(c.kind(), "identifier" | "type_identifier") => source.call(c),
                _ => Role::Other,
            },
            "import_statement" => Role::Import(import(source, node).into_iter().collect()),
            "type_identifier" if is_type_use(node) => Role::TypeRef(source.text(node).to_string()),
            _ => Role::Other,
        }
    }

    fn heritage(&self, source: &Source, node: Node) -> Vec<(RefKind, String)> {
        let mut out = Vec::new();
        let mut cursor = node.walk();
        let children: Vec<Node> = node.named_children(&mut cursor).collect();
        for child in children {
            match child.kind() {
                // JavaScript: `class A extends B` puts the expression directly here.
                "class_heritage" => {
                    let mut c = child.walk();
                    for clause in child.named_children(&mut c) {
                        match clause.kind() {
                            "extends_clause" => {
                                if let Some(v) = clause.child_by_field_name("value") {
                                    out.push((RefKind::Extends, source.base_type_name(v)));
                                }
                            }
                            "implements_clause" => {
                                let mut c2 = clause.walk();
                                for ty in clause.named_children(&mut c2) {
                                    out.push((RefKind::Implements, source.base_type_name(ty)));
                                }
                            }
                            _ => out.push((RefKind::Extends, source.base_type_name(clause))),
                        }
                    }
                }
                "extends_type_clause" => {
                    let mut c = child.walk();
                    for ty in child.named_children(&mut c) {
                        out.push((RefKind::Extends, source.base_type_name(ty)));
                    }
                }
                _ => {}
            }
        }
        out
    }

    fn doc(&self, source: &Source, outer: Node, _body: Option<Node>) -> String {
        // Exported declarations carry their comment above the `export`.
        let anchor = match outer.parent() {
            Some(p) if p.kind() == "export_statement" => p,
            _ => outer,
        };
        source.doc_comments(anchor, &["/**"], DocSpan::Nearest)
    }

    /// `private` / `protected` and `#private` names as written; otherwise what a module
    /// exports and class methods are public, and the rest is visible in the module only.
    fn visibility(&self, source: &Source, node: Node, outer: Node, name: &str) -> &'static str {
        let exported = outer
            .parent()
            .is_some_and(|p| p.kind() == "export_statement");
        let mut cursor = node.walk();
        let modifier = node
            .children(&mut cursor)
            .find(|c| c.kind() == "accessibility_modifier")
            .map(|c| source.text(c));
        match modifier {
            Some("private") => "private",
            Some("protected") => "protected",
            _ if name.starts_with('#') => "private",
            _ if exported => "public",
            _ if matches!(node.kind(), "method_definition" | "method_signature") => "public",
            _ => "module",
        }
    }
}

/// An `import` statement: default, namespace (`* as x`) and named imports of one module.
fn import(source: &Source, node: Node) -> Option<Import> {
    let module_node = node.child_by_field_name("source")?;
    let module = strip_quotes(source.text(module_node)).to_string();
    let mut import = Import {
        module,
        names: Vec::new(),
        alias: None,
        wildcard: false,
        line: node.start_position().row as u32 + 1,
    };
    let mut cursor = node.walk();
    let clause = node
        .named_children(&mut cursor)
        .find(|c| c.kind() == "import_clause");
    if let Some(clause) = clause {
        let mut cursor = clause.walk();
        for part in clause.named_children(&mut cursor) {
            match part.kind() {
                "identifier" => import.names.push(ImportedName {
                    name: "default".into(),
                    alias: Some(source.text(part).to_string()),
                }),
                "namespace_import" => {
                    let mut c = part.walk();
                    import.alias = part
                        .named_children(&mut c)
                        .next()
                        .map(|i| source.text(i).to_string());
                }
                "named_imports" => {
                    let mut c = part.walk();
                    for spec in part.named_children(&mut c) {
                        if spec.kind() != "import_specifier" {
                            continue;
                        }
                        if let Some(name) = spec.child_by_field_name("name") {
                            import.names.push(ImportedName {
                                name: strip_quotes(source.text(name)).to_string(),
                                alias: spec
                                    .child_by_field_name("alias")
                                    .map(|a| source.text(a).to_string()),
                            });
                        }
                    }
                }
                _ => {}
            }
        }
    }
    Some(import)
}
