//! Java: classes, records, interfaces, enums and their members, `import` declarations,
//! `extends` / `implements` clauses, Javadoc.

use super::{is_type_use, DocSpan, Role, Source, Syntax};
use crate::model::{Import, ImportedName, RefKind, SymbolKind};
use tree_sitter::Node;

/// The syntax of Java.
pub(super) struct Java;

impl Syntax for Java {
    fn classify<'t>(&self, source: &Source, node: Node<'t>) -> Role<'t> {
        match node.kind() {
            "superclass" | "super_interfaces" | "extends_interfaces" => Role::Skip,
            "class_declaration" | "record_declaration" => {
                source.def(node, SymbolKind::Class, "name")
            }
            "interface_declaration" | "annotation_type_declaration" => {
                source.def(node, SymbolKind::Interface, "name")
            }
            "enum_declaration" => source.def(node, SymbolKind::Enum, "name"),
            "method_declaration" | "constructor_declaration" => {
                source.def(node, SymbolKind::Method, "name")
            }
            "method_invocation" => source.member_call(node, "name", "object"),
            "object_creation_expression" => match node.child_by_field_name("type") {
                Some(ty) => Role::Call {
                    name: source.base_type_name(ty),
                    qualifier: None,
                },
                None => Role::Other,
            },
            "import_declaration" => Role::Import(vec![import(source, node)]),
            "type_identifier" if is_type_use(node) => Role::TypeRef(source.text(node).to_string()),
            _ => Role::Other,
        }
    }

    fn heritage(&self, source: &Source, node: Node) -> Vec<(RefKind, String)> {
        let mut out = Vec::new();
        if let Some(superclass) = node.child_by_field_name("superclass") {
            let mut c = superclass.walk();
            for ty in superclass.named_children(&mut c) {
                out.push((RefKind::Extends, source.base_type_name(ty)));
            }
        }
        let mut cursor = node.walk();
        let children: Vec<Node> = node.named_children(&mut cursor).collect();
        let clauses = node
            .child_by_field_name("interfaces")
            .into_iter()
            .map(|i| (RefKind::Implements, i))
            .chain(
                children
                    .into_iter()
                    .filter(|c| c.kind() == "extends_interfaces")
                    .map(|c| (RefKind::Extends, c)),
            );
        for (kind, clause) in clauses {
            let mut c = clause.walk();
            for list in clause.named_children(&mut c) {
                let mut c2 = list.walk();
                for ty in list.named_children(&mut c2) {
                    out.push((kind, source.base_type_name(ty)));
                }
            }
        }
        out
    }

    fn doc(&self, source: &Source, outer: Node, _body: Option<Node>) -> String {
        source.doc_comments(outer, &["/**"], DocSpan::Nearest)
    }

    /// The access modifier as written; none means package-private.
    fn visibility(&self, source: &Source, node: Node, _outer: Node, _name: &str) -> &'static str {
        let mut cursor = node.walk();
        let modifiers = node
            .children(&mut cursor)
            .find(|c| c.kind() == "modifiers")
            .map(|m| source.text(m))
            .unwrap_or("");
        let words: Vec<&str> = modifiers.split_whitespace().collect();
        if words.contains(&"public") {
            "public"
        } else if words.contains(&"private") {
            "private"
        } else if words.contains(&"protected") {
            "protected"
        } else {
            "package"
        }
    }
}

/// `import a.b.C;` brings `C` from `a.b`; `import a.b.*;` all of `a.b`.
fn import(source: &Source, node: Node) -> Import {
    let mut cursor = node.walk();
    let children: Vec<Node> = node.named_children(&mut cursor).collect();
    let wildcard = children.iter().any(|c| c.kind() == "asterisk");
    let path = children
        .iter()
        .find(|c| matches!(c.kind(), "scoped_identifier" | "identifier"))
        .map(|c| source.text(*c).to_string())
        .unwrap_or_default();
    let line = node.start_position().row as u32 + 1;
    if wildcard {
        return Import {
            module: path,
            names: Vec::new(),
            alias: None,
            wildcard: true,
            line,
        };
    }
    let (module, name) = match path.rsplit_once('.') {
        Some((m, n)) => (m.to_string(), n.to_string()),
        None => (String::new(), path.clone()),
    };
    Import {
        module,
        names: vec![ImportedName { name, alias: None }],
        alias: None,
        wildcard: false,
        line,
    }
}
