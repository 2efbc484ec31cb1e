//! Go: functions, methods declared outside their type on a receiver, type specs, imports of
//! whole packages, embedded interfaces and structs.

use super::{is_type_use, strip_quotes, DocSpan, Role, Source, Syntax};
use crate::model::{Import, RefKind, SymbolKind};
use tree_sitter::Node;

/// The syntax of Go.
pub(super) struct Go;

impl Syntax for Go {
    fn classify<'t>(&self, source: &Source, node: Node<'t>) -> Role<'t> {
        match node.kind() {
            "function_declaration" => source.def(node, SymbolKind::Function, "name"),
            "method_declaration" => match node.child_by_field_name("name") {
                Some(name) => Role::Def {
                    kind: SymbolKind::Method,
                    name: source.text(name).to_string(),
                    outer: node,
                    body: node.child_by_field_name("body"),
                    owner: node
                        .child_by_field_name("receiver")
                        .and_then(|r| receiver_type(source, r)),
                },
                None => Role::Other,
            },
            "method_elem" => source.def(node, SymbolKind::Method, "name"),
            "type_spec" => {
                let kind = match node.child_by_field_name("type").map(|t| t.kind()) {
                    Some("struct_type") => SymbolKind::Struct,
                    Some("interface_type") => SymbolKind::Interface,
                    _ => SymbolKind::Type,
                };
                match node.child_by_field_name("name") {
                    Some(name) => {
                        // Docs sit above `type X struct`, the parent declaration.
                        let outer = node
                            .parent()
                            .filter(|p| {
                                p.kind() == "type_declaration" && p.named_child_count() == 1
                            })
                            .unwrap_or(node);
                        Role::Def {
                            kind,
                            name: source.text(name).to_string(),
                            outer,
                            body: node.child_by_field_name("type").and_then(|t| {
                                let mut c = t.walk();
                                let list = t
                                    .named_children(&mut c)
                                    .find(|n| n.kind().ends_with("_list"));
                                list
                            }),
                            owner: None,
                        }
                    }
                    None => Role::Other,
                }
            }
            "call_expression" => match node.child_by_field_name("function") {
                Some(f) if f.kind() == "identifier" => source.call(f),
                Some(f) if f.kind() == "selector_expression" => {
                    source.member_call(f, "field", "operand")
                }
                _ => Role::Other,
            },
            "import_spec" => match node.child_by_field_name("path") {
                Some(path) => Role::Import(vec![Import {
                    module: strip_quotes(source.text(path)).to_string(),
                    names: Vec::new(),
                    alias: node
                        .child_by_field_name("name")
                        .map(|n| source.text(n).to_string()),
                    wildcard: false,
                    line: node.start_position().row as u32 + 1,
                }]),
                None => Role::Other,
            },
            "type_identifier" if is_type_use(node) => Role::TypeRef(source.text(node).to_string()),
            _ => Role::Other,
        }
    }

    /// Embedded interfaces and structs: `type ReadWriter interface { Reader }`.
    fn heritage(&self, source: &Source, node: Node) -> Vec<(RefKind, String)> {
        let mut out = Vec::new();
        if node.kind() != "type_spec" {
            return out;
        }
        if let Some(ty) = node.child_by_field_name("type") {
            let mut c = ty.walk();
            for member in ty.named_children(&mut c) {
                if matches!(member.kind(), "type_elem" | "constraint_elem") {
                    out.push((RefKind::Extends, source.base_type_name(member)));
                }
            }
        }
        out
    }

    fn doc(&self, source: &Source, outer: Node, _body: Option<Node>) -> String {
        source.doc_comments(outer, &["//", "/*"], DocSpan::Adjacent)
    }

    /// Go exports by capitalisation; everything else is visible in its package.
    fn visibility(&self, _source: &Source, _node: Node, _outer: Node, name: &str) -> &'static str {
        if name.chars().next().is_some_and(char::is_uppercase) {
            "public"
        } else {
            "package"
        }
    }

    fn receiver_name(&self, source: &Source, node: Node) -> Option<String> {
        if node.kind() != "method_declaration" {
            return None;
        }
        let receiver = node.child_by_field_name("receiver")?;
        let mut cursor = receiver.walk();
        let param = receiver
            .named_children(&mut cursor)
            .find(|c| c.kind() == "parameter_declaration")?;
        param
            .child_by_field_name("name")
            .map(|n| source.text(n).to_string())
    }
}

/// The type a method's receiver names: `*Store` → `Store`.
fn receiver_type(source: &Source, receiver: Node) -> Option<String> {
    let mut cursor = receiver.walk();
    let param = receiver
        .named_children(&mut cursor)
        .find(|c| c.kind() == "parameter_declaration")?;
    let ty = param.child_by_field_name("type")?;
    Some(source.base_type_name(ty))
}
