//! Parsing one file with tree-sitter into definitions, imports and unresolved references.
//!
//! One walker serves every language. What differs between languages sits behind
//! [`Syntax`], one implementation per file: what a syntax node means in the language (a
//! definition, a call, an import, a type reference, an `impl` block), which types a
//! definition extends, and how its docs and visibility are written. The walker keeps the
//! stack of enclosing definitions that containment and references hang on.
//!
//! A new language is its grammar (`Language` in `model`), one file here implementing
//! `Syntax`, and its line in `syntax_of`.

mod go;
mod java;
mod javascript;
mod python;
mod rust;

use crate::model::{Import, Language, ParsedFile, RawRef, RefKind, SymbolDef, SymbolKind};
use std::collections::{HashMap, HashSet};
use tree_sitter::{Node, Parser};

/// Why a file could not be parsed.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    /// The grammar does not fit the linked tree-sitter runtime (a dependency mismatch).
    #[error("the {0} grammar could not be loaded: {1}")]
    Grammar(Language, String),
    /// Tree-sitter returned no tree (it was cancelled or timed out).
    #[error("tree-sitter gave up on {0}")]
    Failed(String),
}

/// Parses `source` as `language` and extracts its part of the code graph.
pub fn parse_file(path: &str, language: Language, source: &str) -> Result<ParsedFile, ParseError> {
    let mut parser = Parser::new();
    parser
        .set_language(&language.grammar())
        .map_err(|e| ParseError::Grammar(language, e.to_string()))?;
    let tree = parser
        .parse(source, None)
        .ok_or_else(|| ParseError::Failed(path.to_string()))?;
    let mut walker = Walker {
        syntax: syntax_of(language),
        separator: language.separator(),
        source: Source {
            bytes: source.as_bytes(),
        },
        symbols: Vec::new(),
        imports: Vec::new(),
        refs: Vec::new(),
        seen_refs: HashSet::new(),
        owners: Vec::new(),
        receivers: HashMap::new(),
    };
    walker.walk(tree.root_node(), None);
    walker.attach_owned_members();
    Ok(ParsedFile {
        path: path.to_string(),
        language,
        lines: source.lines().count() as u32,
        bytes: source.len(),
        symbols: walker.symbols,
        imports: walker.imports,
        refs: walker.refs,
    })
}

/// The syntax of each language. JavaScript, TypeScript and TSX share one: TypeScript's
/// grammar extends JavaScript's and TSX is TypeScript with JSX, so their node kinds agree.
fn syntax_of(language: Language) -> &'static dyn Syntax {
    match language {
        Language::Rust => &rust::Rust,
        Language::Python => &python::Python,
        Language::JavaScript | Language::TypeScript | Language::Tsx => &javascript::Script,
        Language::Go => &go::Go,
        Language::Java => &java::Java,
    }
}

/// What one language's syntax means to the code graph. The walker asks it about every node
/// it meets; everything else (scopes, qualified names, signatures, spans) is shared.
trait Syntax: Sync {
    /// What `node` means. `Role::Other` walks on into its children.
    fn classify<'t>(&self, source: &Source, node: Node<'t>) -> Role<'t>;

    /// The types a definition extends or implements, read from its own clauses (which
    /// `classify` then skips, so they are not also recorded as type references).
    fn heritage(&self, _source: &Source, _node: Node) -> Vec<(RefKind, String)> {
        Vec::new()
    }

    /// The documentation of a definition; `outer` and `body` are those of its `Role::Def`.
    fn doc(&self, source: &Source, outer: Node, body: Option<Node>) -> String;

    /// Who may use a definition: `public`, `private`, or one of the language's own levels
    /// (`crate`, `module`, `package`, `protected`). `node` is the definition, `outer` the
    /// node its docs hang on.
    fn visibility(&self, source: &Source, node: Node, outer: Node, name: &str) -> &'static str;

    /// The name a method gives its receiver, which its body uses as `self` does elsewhere
    /// (`s` in Go's `func (s *Store) Get()`).
    fn receiver_name(&self, _source: &Source, _node: Node) -> Option<String> {
        None
    }
}

/// What a syntax node means to the graph.
enum Role<'t> {
    Def {
        kind: SymbolKind,
        name: String,
        /// The node whose text up to `body` is the signature, and whose siblings hold docs.
        outer: Node<'t>,
        body: Option<Node<'t>>,
        /// The type a method belongs to when its definition sits outside the type (Go).
        owner: Option<String>,
    },
    /// A Rust `impl` block: methods inside belong to `type_name`.
    Impl {
        type_name: String,
        trait_name: Option<String>,
    },
    Call {
        name: String,
        qualifier: Option<String>,
    },
    Import(Vec<Import>),
    TypeRef(String),
    /// Inheritance clauses: already recorded by `heritage`, not walked again.
    Skip,
    Other,
}

/// The text of the file being parsed, and the readings of its nodes that languages share.
#[derive(Clone, Copy)]
struct Source<'s> {
    bytes: &'s [u8],
}

impl<'s> Source<'s> {
    fn text(&self, node: Node) -> &'s str {
        node.utf8_text(self.bytes).unwrap_or("")
    }

    /// A definition named by its `name_field` child, with the conventional `body` field.
    fn def<'t>(&self, node: Node<'t>, kind: SymbolKind, name_field: &str) -> Role<'t> {
        match node.child_by_field_name(name_field) {
            Some(name) => Role::Def {
                kind,
                name: self.text(name).to_string(),
                outer: node,
                body: node.child_by_field_name("body"),
                owner: None,
            },
            None => Role::Other,
        }
    }

    /// A call of a plain name: `f(x)`, `new Store()`.
    fn call<'t>(&self, name: Node) -> Role<'t> {
        Role::Call {
            name: self.text(name).to_string(),
            qualifier: None,
        }
    }

    /// A call through a value or path: `member`'s `name_field` child names the function and
    /// its `qualifier_field` child is what comes before it (`store.open()` → `store`).
    fn member_call<'t>(&self, member: Node, name_field: &str, qualifier_field: &str) -> Role<'t> {
        match member.child_by_field_name(name_field) {
            Some(name) => Role::Call {
                name: self.text(name).to_string(),
                qualifier: member
                    .child_by_field_name(qualifier_field)
                    .map(|q| self.text(q).to_string()),
            },
            None => Role::Other,
        }
    }

    /// The plain name inside a type expression: `Vec<T>` → `Vec`, `&mut a::B` → `B`.
    fn base_type_name(&self, node: Node) -> String {
        match node.kind() {
            "type_identifier" | "identifier" | "field_identifier" | "property_identifier" => {
                return self.text(node).to_string()
            }
            "scoped_type_identifier" | "scoped_identifier" | "nested_type_identifier" => {
                if let Some(name) = node.child_by_field_name("name") {
                    return self.text(name).to_string();
                }
            }
            "generic_type" => {
                if let Some(ty) = node
                    .child_by_field_name("type")
                    .or_else(|| node.child_by_field_name("name"))
                {
                    return self.base_type_name(ty);
                }
            }
            _ => {}
        }
        let mut cursor = node.walk();
        let children: Vec<Node> = node.named_children(&mut cursor).collect();
        for child in children {
            let name = self.base_type_name(child);
            if !name.is_empty() {
                return name;
            }
        }
        // The last identifier-like word of the text, for shapes not handled above.
        self.text(node)
            .rsplit(|c: char| !(c.is_alphanumeric() || c == '_'))
            .find(|w| !w.is_empty())
            .unwrap_or("")
            .to_string()
    }

    /// The doc comments right above `anchor`, markers stripped. Attributes and decorators
    /// may sit between them and the definition; a blank line or a plain comment ends them.
    fn doc_comments(&self, anchor: Node, markers: &[&str], span: DocSpan) -> String {
        let mut lines: Vec<String> = Vec::new();
        let mut next_row = anchor.start_position().row;
        let mut sibling = anchor.prev_sibling();
        while let Some(node) = sibling {
            let kind = node.kind();
            if kind == "attribute_item" || kind == "decorator" {
                next_row = node.start_position().row;
                sibling = node.prev_sibling();
                continue;
            }
            if !kind.contains("comment") || node.end_position().row + 1 < next_row {
                break;
            }
            let text = self.text(node);
            if !markers.iter().any(|marker| text.starts_with(marker)) {
                break;
            }
            lines.insert(0, clean_comment(text));
            next_row = node.start_position().row;
            sibling = node.prev_sibling();
            if span == DocSpan::Nearest {
                break;
            }
        }
        lines.join("\n").trim().to_string()
    }
}

/// Which comments above a definition make up its doc.
#[derive(Clone, Copy, PartialEq, Eq)]
enum DocSpan {
    /// Every adjacent doc comment: line comments (`///`, Go's `//`) come one node per line.
    Adjacent,
    /// The nearest comment only: one JSDoc or Javadoc block.
    Nearest,
}

/// A type named where it is used, rather than where it is defined or constructed.
fn is_type_use(node: Node) -> bool {
    !is_definition_name(node) && !is_constructed(node)
}

fn is_definition_name(node: Node) -> bool {
    node.parent()
        .and_then(|p| p.child_by_field_name("name"))
        .is_some_and(|n| n.id() == node.id())
}

/// The type of `new T(...)`: a call (to the constructor), not also a type reference.
fn is_constructed(node: Node) -> bool {
    node.parent()
        .is_some_and(|p| matches!(p.kind(), "object_creation_expression" | "new_expression"))
}

fn strip_quotes(text: &str) -> &str {
    text.trim_matches(|c| c == '"' || c == '\'' || c == '`')
}

struct Walker<'s> {
    syntax: &'static dyn Syntax,
    /// How qualified names are joined in the file's language.
    separator: &'static str,
    source: Source<'s>,
    symbols: Vec<SymbolDef>,
    imports: Vec<Import>,
    refs: Vec<RawRef>,
    seen_refs: HashSet<(Option<usize>, String, RefKind)>,
    /// Symbols whose owning type is named but was not their syntactic parent.
    owners: Vec<(usize, String)>,
    /// Methods' receiver names (Go's `s` in `func (s *Store) Get()`), which act as `self`.
    receivers: HashMap<usize, String>,
}

impl Walker<'_> {
    fn walk(&mut self, node: Node, scope: Option<usize>) {
        match self.syntax.classify(&self.source, node) {
            Role::Def {
                kind,
                name,
                outer,
                body,
                owner,
            } => {
                let index = self.define(node, outer, body, kind, name, scope, owner.clone());
                if let Some(receiver) = self.syntax.receiver_name(&self.source, node) {
                    self.receivers.insert(index, receiver);
                }
                let mut heritage = self.syntax.heritage(&self.source, node);
                heritage.retain(|(_, name)| !name.is_empty());
                for (kind, target) in heritage {
                    self.reference(Some(index), target, None, kind, node);
                }
                if let Some(owner) = owner.filter(|_| scope.is_none()) {
                    self.owners.push((index, owner));
                }
                self.walk_children(node, Some(index));
            }
            Role::Impl {
                type_name,
                trait_name,
            } => {
                // Methods inside are attached to the type once the whole file is read (the
                // type may be defined below the impl, or in another file).
                let first = self.symbols.len();
                self.walk_children(node, scope);
                for index in first..self.symbols.len() {
                    if self.symbols[index].parent == scope && self.symbols[index].kind.is_callable()
                    {
                        self.symbols[index].kind = SymbolKind::Method;
                        self.owners.push((index, type_name.clone()));
                    }
                }
                if let Some(trait_name) = trait_name {
                    // `from` is resolved by name: the implementing type, wherever it is.
                    let line = node.start_position().row as u32 + 1;
                    self.refs.push(RawRef {
                        from: None,
                        name: trait_name,
                        qualifier: Some(format!("impl:{type_name}")),
                        kind: RefKind::Implements,
                        line,
                    });
                }
            }
            Role::Call { name, qualifier } => {
                self.reference(scope, name, qualifier, RefKind::Call, node);
                self.walk_children(node, scope);
            }
            Role::Import(imports) => self.imports.extend(imports),
            Role::TypeRef(name) => self.reference(scope, name, None, RefKind::Type, node),
            Role::Skip => {}
            Role::Other => self.walk_children(node, scope),
        }
    }

    fn walk_children(&mut self, node: Node, scope: Option<usize>) {
        let mut cursor = node.walk();
        for child in node.named_children(&mut cursor) {
            self.walk(child, scope);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn define(
        &mut self,
        node: Node,
        outer: Node,
        body: Option<Node>,
        kind: SymbolKind,
        name: String,
        scope: Option<usize>,
        owner: Option<String>,
    ) -> usize {
        let sep = self.separator;
        let qualified = match (scope, owner) {
            (Some(parent), _) => format!("{}{sep}{name}", self.symbols[parent].qualified),
            (None, Some(owner)) => format!("{owner}{sep}{name}"),
            (None, None) => name.clone(),
        };
        let kind = match (kind, scope.map(|p| self.symbols[p].kind)) {
            (SymbolKind::Function, Some(parent)) if parent.is_type() => SymbolKind::Method,
            (kind, _) => kind,
        };
        let signature = self.signature(outer, body);
        let doc = self.syntax.doc(&self.source, outer, body);
        let visibility = self
            .syntax
            .visibility(&self.source, node, outer, &name)
            .to_string();
        self.symbols.push(SymbolDef {
            name,
            qualified,
            kind,
            parent: scope,
            line_start: outer.start_position().row as u32 + 1,
            line_end: outer.end_position().row as u32 + 1,
            start_byte: outer.start_byte(),
            end_byte: outer.end_byte(),
            signature,
            doc,
            visibility,
        });
        self.symbols.len() - 1
    }

    fn reference(
        &mut self,
        from: Option<usize>,
        name: String,
        qualifier: Option<String>,
        kind: RefKind,
        node: Node,
    ) {
        if name.is_empty() || (kind == RefKind::Type && name.chars().count() < 2) {
            return;
        }
        // A method's receiver name is its language's `self`.
        let qualifier = match (qualifier, from.and_then(|i| self.receivers.get(&i))) {
            (Some(q), Some(receiver)) if &q == receiver => Some("self".to_string()),
            (q, _) => q,
        };
        if self.seen_refs.insert((from, name.clone(), kind)) {
            self.refs.push(RawRef {
                from,
                name,
                qualifier,
                kind,
                line: node.start_position().row as u32 + 1,
            });
        }
    }

    /// Methods defined outside their type (Rust impl blocks, Go receivers) hang on the
    /// type when this file defines it; otherwise they stay top-level with a qualified name.
    fn attach_owned_members(&mut self) {
        let sep = self.separator;
        let mut unattached = HashMap::new();
        for (index, owner) in std::mem::take(&mut self.owners) {
            let scope = self.symbols[index].parent;
            let found = self
                .symbols
                .iter()
                .position(|s| s.name == owner && s.kind.is_type() && s.parent == scope);
            let symbol = &mut self.symbols[index];
            symbol.qualified = format!("{owner}{sep}{}", symbol.name);
            match found {
                Some(owner_index) => symbol.parent = Some(owner_index),
                None => {
                    unattached.insert(index, owner);
                }
            }
        }
        // Members of members: re-qualify children of re-parented methods (closures, nested fns).
        for index in 0..self.symbols.len() {
            if let Some(parent) = self.symbols[index].parent {
                if parent < index {
                    let mut prefix = self.symbols[parent].qualified.clone();
                    if let Some(owner) = unattached.get(&index) {
                        prefix = format!("{prefix}{sep}{owner}");
                    }
                    let name = self.symbols[index].name.clone();
                    self.symbols[index].qualified = format!("{prefix}{sep}{name}");
                }
            }
        }
        // An `impl Trait for Type` names its implementing type in the qualifier; when the
        // type is in this file, the reference starts from it.
        for r in &mut self.refs {
            if let Some(type_name) = r.qualifier.as_deref().and_then(|q| q.strip_prefix("impl:")) {
                if let Some(index) = self
                    .symbols
                    .iter()
                    .position(|s| s.name == type_name && s.kind.is_type())
                {
                    r.from = Some(index);
                }
            }
        }
    }

    /// The definition's header: its text up to the body, whitespace collapsed.
    fn signature(&self, outer: Node, body: Option<Node>) -> String {
        let end = body
            .filter(|b| b.start_byte() > outer.start_byte())
            .map(|b| b.start_byte())
            .unwrap_or(outer.end_byte());
        let raw = self
            .source
            .bytes
            .get(outer.start_byte()..end)
            .and_then(|bytes| std::str::from_utf8(bytes).ok())
            .unwrap_or("");
        let header = if body.is_none() {
            raw.lines().next().unwrap_or("")
        } else {
            raw
        };
        // Leading doc comments and attributes inside the node (Java modifiers hold
        // annotations) stay out of the signature.
        let collapsed = header
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with("//") && !l.starts_with('@'))
            .collect::<Vec<_>>()
            .join(" ");
        let trimmed = collapsed
            .trim_end_matches(['{', ':', ' '])
            .trim()
            .to_string();
        truncate_chars(&trimmed, 300)
    }
}

fn truncate_chars(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

/// Strips comment markers: `///`, `//`, `/** */`, leading `*`.
fn clean_comment(text: &str) -> String {
    let body = text
        .trim()
        .trim_start_matches("/**")
        .trim_start_matches("/*")
        .trim_end_matches("*/");
    body.lines()
        .map(|line| {
            let line = line.trim();
            let line = line
                .strip_prefix("///")
                .or_else(|| line.strip_prefix("//"))
                .or_else(|| line.strip_prefix('*'))
                .unwrap_or(line);
            line.strip_prefix(' ')
                .unwrap_or(line)
                .trim_end()
                .to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_string()
}
