//! Rust: items, `impl` blocks (whose methods belong to the implemented type), `use` trees.

use super::{is_type_use, DocSpan, Role, Source, Syntax};
use crate::model::{Import, ImportedName, SymbolKind};
use tree_sitter::Node;

/// The syntax of Rust.
pub(super) struct Rust;

impl Syntax for Rust {
    fn classify<'t>(&self, source: &Source, node: Node<'t>) -> Role<'t> {
        match node.kind() {
            "function_item" | "function_signature_item" => {
                source.def(node, SymbolKind::Function, "name")
            }
            "struct_item" | "union_item" => source.def(node, SymbolKind::Struct, "name"),
            "enum_item" => source.def(node, SymbolKind::Enum, "name"),
            "trait_item" => source.def(node, SymbolKind::Trait, "name"),
            "type_item" => source.def(node, SymbolKind::Type, "name"),
            "mod_item" => source.def(node, SymbolKind::Module, "name"),
            "impl_item" => match node.child_by_field_name("type") {
                Some(ty) => Role::Impl {
                    type_name: source.base_type_name(ty),
                    trait_name: node
                        .child_by_field_name("trait")
                        .map(|t| source.base_type_name(t)),
                },
                None => Role::Other,
            },
            "call_expression" => match node.child_by_field_name("function") {
                Some(function) => callee(source, function),
                None => Role::Other,
            },
            "use_declaration" => {
                let line = node.start_position().row as u32 + 1;
                let mut paths = Vec::new();
                if let Some(argument) = node.child_by_field_name("argument") {
                    use_paths(source, argument, String::new(), &mut paths);
                }
                Role::Import(
                    paths
                        .into_iter()
                        .map(|(path, alias)| import(&path, alias, line))
                        .collect(),
                )
            }
            "type_identifier" if is_type_use(node) => Role::TypeRef(source.text(node).to_string()),
            _ => Role::Other,
        }
    }

    fn doc(&self, source: &Source, outer: Node, _body: Option<Node>) -> String {
        source.doc_comments(outer, &["///", "/**"], DocSpan::Adjacent)
    }

    fn visibility(&self, source: &Source, node: Node, _outer: Node, _name: &str) -> &'static str {
        let mut cursor = node.walk();
        let modifier = node
            .children(&mut cursor)
            .find(|c| c.kind() == "visibility_modifier");
        match modifier {
            Some(v) if source.text(v) == "pub" => "public",
            Some(_) => "crate",
            None => "private",
        }
    }
}

fn callee<'t>(source: &Source, function: Node<'t>) -> Role<'t> {
    match function.kind() {
        "identifier" => source.call(function),
        "field_expression" => source.member_call(function, "field", "value"),
        // A path (`store::open`, `Store::new`) is marked by its trailing `::`, so that
        // resolution can tell it from a value receiver (`store.open()`).
        "scoped_identifier" => match function.child_by_field_name("name") {
            Some(name) => Role::Call {
                name: source.text(name).to_string(),
                qualifier: function
                    .child_by_field_name("path")
                    .map(|p| format!("{}::", source.text(p))),
            },
            None => Role::Other,
        },
        "generic_function" => match function.child_by_field_name("function") {
            Some(inner) => callee(source, inner),
            None => Role::Other,
        },
        _ => Role::Other,
    }
}

/// Flattens a `use` tree into full paths with their aliases.
fn use_paths(source: &Source, node: Node, prefix: String, out: &mut Vec<(String, Option<String>)>) {
    let join = |rest: &str| {
        if prefix.is_empty() {
            rest.to_string()
        } else {
            format!("{prefix}::{rest}")
        }
    };
    match node.kind() {
        "use_as_clause" => {
            if let Some(path) = node.child_by_field_name("path") {
                let alias = node
                    .child_by_field_name("alias")
                    .map(|a| source.text(a).to_string());
                out.push((join(source.text(path)), alias));
            }
        }
        "scoped_use_list" => {
            let base = node
                .child_by_field_name("path")
                .map(|p| join(source.text(p)))
                .unwrap_or_else(|| prefix.clone());
            if let Some(list) = node.child_by_field_name("list") {
                use_paths(source, list, base, out);
            }
        }
        "use_list" => {
            let mut cursor = node.walk();
            for child in node.named_children(&mut cursor) {
                use_paths(source, child, prefix.clone(), out);
            }
        }
        "use_wildcard" => {
            let text = source.text(node);
            out.push((join(text), None));
        }
        _ => out.push((join(source.text(node)), None)),
    }
}

/// One flattened `use` path as an import: `a::b::C` brings `C` from `a::b`.
fn import(path: &str, alias: Option<String>, line: u32) -> Import {
    let (module, name) = match path.rsplit_once("::") {
        Some((m, n)) => (m.to_string(), n.to_string()),
        None => (String::new(), path.to_string()),
    };
    if name == "*" {
        return Import {
            module,
            names: Vec::new(),
            alias: None,
            wildcard: true,
            line,
        };
    }
    if name == "self" {
        // `use a::b::{self}` imports the module `a::b` under its last segment.
        let last = module.rsplit("::").next().unwrap_or("").to_string();
        return Import {
            alias: alias.or(Some(last)),
            module,
            names: Vec::new(),
            wildcard: false,
            line,
        };
    }
    Import {
        module,
        names: vec![ImportedName { name, alias }],
        alias: None,
        wildcard: false,
        line,
    }
}
