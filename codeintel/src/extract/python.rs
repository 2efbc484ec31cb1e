//! Python: functions and classes, docstrings, `import` / `from ... import`, base classes.

use super::{strip_quotes, Role, Source, Syntax};
use crate::model::{Import, ImportedName, RefKind, SymbolKind};
use tree_sitter::Node;

/// The syntax of Python.
pub(super) struct Python;

impl Syntax for Python {
    fn classify<'t>(&self, source: &Source, node: Node<'t>) -> Role<'t> {
        match node.kind() {
            "function_definition" => source.def(node, SymbolKind::Function, "name"),
            "class_definition" => source.def(node, SymbolKind::Class, "name"),
            "call" => match node.child_by_field_name("function") {
                Some(f) if f.kind() == "identifier" => source.call(f),
                Some(f) if f.kind() == "attribute" => source.member_call(f, "attribute", "object"),
                _ => Role::Other,
            },
            "import_statement" => {
                let line = node.start_position().row as u32 + 1;
                let mut imports = Vec::new();
                let mut cursor = node.walk();
                for name in node.children_by_field_name("name", &mut cursor) {
                    let (module, alias) = aliased(source, name);
                    imports.push(Import {
                        module,
                        names: Vec::new(),
                        alias,
                        wildcard: false,
                        line,
                    });
                }
                Role::Import(imports)
            }
            "import_from_statement" => {
                let line = node.start_position().row as u32 + 1;
                let module = node
                    .child_by_field_name("module_name")
                    .map(|m| source.text(m).to_string())
                    .unwrap_or_default();
                let mut names = Vec::new();
                let mut cursor = node.walk();
                for name in node.children_by_field_name("name", &mut cursor) {
                    let (name, alias) = aliased(source, name);
                    names.push(ImportedName { name, alias });
                }
                let mut cursor = node.walk();
                let wildcard = node
                    .named_children(&mut cursor)
                    .any(|c| c.kind() == "wildcard_import");
                Role::Import(vec![Import {
                    module,
                    names,
                    alias: None,
                    wildcard,
                    line,
                }])
            }
            "type" => {
                let mut cursor = node.walk();
                let first = node.named_children(&mut cursor).next();
                match first {
                    Some(ident) if ident.kind() == "identifier" => {
                        Role::TypeRef(source.text(ident).to_string())
                    }
                    _ => Role::Other,
                }
            }
            _ => Role::Other,
        }
    }

    fn heritage(&self, source: &Source, node: Node) -> Vec<(RefKind, String)> {
        let mut out = Vec::new();
        if node.kind() != "class_definition" {
            return out;
        }
        if let Some(bases) = node.child_by_field_name("superclasses") {
            let mut c = bases.walk();
            for base in bases.named_children(&mut c) {
                let name = match base.kind() {
                    "identifier" => source.text(base).to_string(),
                    "attribute" => base
                        .child_by_field_name("attribute")
                        .map(|a| source.text(a).to_string())
                        .unwrap_or_default(),
                    _ => continue,
                };
                out.push((RefKind::Extends, name));
            }
        }
        out
    }

    fn doc(&self, source: &Source, _outer: Node, body: Option<Node>) -> String {
        body.map(|b| docstring(source, b)).unwrap_or_default()
    }

    /// Python has no access modifiers; a leading underscore is the convention, and dunder
    /// methods (`__init__`) are part of the public protocol despite theirs.
    fn visibility(&self, _source: &Source, _node: Node, _outer: Node, name: &str) -> &'static str {
        if name.starts_with("__") && name.ends_with("__") {
            "public"
        } else if name.starts_with('_') {
            "private"
        } else {
            "public"
        }
    }
}

/// `a.b as c` → (`a.b`, `c`).
fn aliased(source: &Source, node: Node) -> (String, Option<String>) {
    if node.kind() == "aliased_import" {
        let name = node
            .child_by_field_name("name")
            .map(|n| source.text(n).to_string())
            .unwrap_or_default();
        let alias = node
            .child_by_field_name("alias")
            .map(|a| source.text(a).to_string());
        (name, alias)
    } else {
        (source.text(node).to_string(), None)
    }
}

/// The string that opens a body, quotes stripped and dedented.
fn docstring(source: &Source, body: Node) -> String {
    let mut cursor = body.walk();
    let first = body.named_children(&mut cursor).next();
    let Some(statement) = first.filter(|s| s.kind() == "expression_statement") else {
        return String::new();
    };
    let mut c = statement.walk();
    let string = statement.named_children(&mut c).next();
    match string {
        Some(s) if s.kind() == "string" => {
            let text = source.text(s);
            let text = text.trim_start_matches(['r', 'u', 'R', 'U']);
            let inner = text
                .strip_prefix("\"\"\"")
                .and_then(|t| t.strip_suffix("\"\"\""))
                .or_else(|| text.strip_prefix("'''").and_then(|t| t.strip_suffix("'''")))
                .unwrap_or_else(|| strip_quotes(text));
            dedent(inner)
        }
        _ => String::new(),
    }
}

/// Removes the indentation a docstring's continuation lines share (its first line, right
/// after the quotes, has none).
fn dedent(text: &str) -> String {
    let indent = text
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    text.lines()
        .enumerate()
        .map(|(i, l)| {
            if i == 0 {
                l.trim()
            } else {
                l.get(indent..).unwrap_or(l.trim())
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_string()
}
