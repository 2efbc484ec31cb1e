//! The code graph's vocabulary: languages, symbol and edge kinds, and what parsing one file
//! yields before references are resolved against the rest of the repository.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::Path;

/// A language the indexer parses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    Rust,
    Python,
    JavaScript,
    TypeScript,
    Tsx,
    Go,
    Java,
}

impl Language {
    /// Every variant, in declaration order.
    pub const ALL: [Language; 7] = [
        Language::Rust,
        Language::Python,
        Language::JavaScript,
        Language::TypeScript,
        Language::Tsx,
        Language::Go,
        Language::Java,
    ];

    /// The language of a file, by its extension.
    pub fn of_path(path: &Path) -> Option<Language> {
        let ext = path.extension()?.to_str()?;
        Some(match ext {
            "rs" => Language::Rust,
            "py" | "pyi" => Language::Python,
            "js" | "jsx" | "mjs" | "cjs" => Language::JavaScript,
            "ts" | "mts" | "cts" => Language::TypeScript,
            "tsx" => Language::Tsx,
            "go" => Language::Go,
            "java" => Language::Java,
            _ => return None,
        })
    }

    /// The name stored in the index and used in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Language::Rust => "rust",
            Language::Python => "python",
            Language::JavaScript => "javascript",
            Language::TypeScript => "typescript",
            Language::Tsx => "tsx",
            Language::Go => "go",
            Language::Java => "java",
        }
    }

    /// The variant named `name` (as `as_str` spells it).
    pub fn parse(name: &str) -> Option<Language> {
        Language::ALL.into_iter().find(|l| l.as_str() == name)
    }

    /// How qualified names are joined in this language.
    pub fn separator(self) -> &'static str {
        match self {
            Language::Rust => "::",
            _ => ".",
        }
    }

    /// The tree-sitter grammar of the language.
    pub fn grammar(self) -> tree_sitter::Language {
        match self {
            Language::Rust => tree_sitter_rust::LANGUAGE.into(),
            Language::Python => tree_sitter_python::LANGUAGE.into(),
            Language::JavaScript => tree_sitter_javascript::LANGUAGE.into(),
            Language::TypeScript => tree_sitter_typescript::LANGUAGE_TYPESCRIPT.into(),
            Language::Tsx => tree_sitter_typescript::LANGUAGE_TSX.into(),
            Language::Go => tree_sitter_go::LANGUAGE.into(),
            Language::Java => tree_sitter_java::LANGUAGE.into(),
        }
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a node of the code graph is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SymbolKind {
    File,
    Module,
    Function,
    Method,
    Class,
    Struct,
    Enum,
    Trait,
    Interface,
    Type,
}

impl SymbolKind {
    /// Every variant, in declaration order.
    pub const ALL: [SymbolKind; 10] = [
        SymbolKind::File,
        SymbolKind::Module,
        SymbolKind::Function,
        SymbolKind::Method,
        SymbolKind::Class,
        SymbolKind::Struct,
        SymbolKind::Enum,
        SymbolKind::Trait,
        SymbolKind::Interface,
        SymbolKind::Type,
    ];

    /// The name stored in the index and used in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            SymbolKind::File => "file",
            SymbolKind::Module => "module",
            SymbolKind::Function => "function",
            SymbolKind::Method => "method",
            SymbolKind::Class => "class",
            SymbolKind::Struct => "struct",
            SymbolKind::Enum => "enum",
            SymbolKind::Trait => "trait",
            SymbolKind::Interface => "interface",
            SymbolKind::Type => "type",
        }
    }

    /// The variant named `name` (as `as_str` spells it).
    pub fn parse(name: &str) -> Option<SymbolKind> {
        SymbolKind::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// Functions and methods: what calls can land on.
    pub fn is_callable(self) -> bool {
        matches!(self, SymbolKind::Function | SymbolKind::Method)
    }

    /// Classes, structs, enums, traits, interfaces and type aliases: what type references name.
    pub fn is_type(self) -> bool {
        matches!(
            self,
            SymbolKind::Class
                | SymbolKind::Struct
                | SymbolKind::Enum
                | SymbolKind::Trait
                | SymbolKind::Interface
                | SymbolKind::Type
        )
    }

    /// Whether the symbol gets its own search chunk.
    pub fn is_chunked(self) -> bool {
        self.is_callable() || self.is_type()
    }
}

impl fmt::Display for SymbolKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How two nodes of the code graph relate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EdgeKind {
    Contains,
    Imports,
    Calls,
    References,
    Implements,
    Extends,
}

impl EdgeKind {
    /// Every variant, in declaration order.
    pub const ALL: [EdgeKind; 6] = [
        EdgeKind::Contains,
        EdgeKind::Imports,
        EdgeKind::Calls,
        EdgeKind::References,
        EdgeKind::Implements,
        EdgeKind::Extends,
    ];

    /// The name stored in the index and used in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            EdgeKind::Contains => "contains",
            EdgeKind::Imports => "imports",
            EdgeKind::Calls => "calls",
            EdgeKind::References => "references",
            EdgeKind::Implements => "implements",
            EdgeKind::Extends => "extends",
        }
    }

    /// The variant named `name` (as `as_str` spells it).
    pub fn parse(name: &str) -> Option<EdgeKind> {
        EdgeKind::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

/// A definition found in one file. `parent` indexes the same file's `symbols`; the file
/// itself is the parent of top-level symbols.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SymbolDef {
    pub name: String,
    pub qualified: String,
    pub kind: SymbolKind,
    pub parent: Option<usize>,
    pub line_start: u32,
    pub line_end: u32,
    pub start_byte: usize,
    pub end_byte: usize,
    pub signature: String,
    pub doc: String,
    pub visibility: String,
}

/// One imported name: `name` as the module exports it, `alias` as this file uses it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ImportedName {
    pub name: String,
    pub alias: Option<String>,
}

/// An import statement: the module as written, and what it brings in. A module imported
/// whole (`import os`, Go packages) has no names and may have an alias.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Import {
    pub module: String,
    pub names: Vec<ImportedName>,
    pub alias: Option<String>,
    pub wildcard: bool,
    pub line: u32,
}

/// What a reference means.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RefKind {
    Call,
    Type,
    Implements,
    Extends,
}

impl RefKind {
    /// The kind of edge the reference becomes once resolved.
    pub fn edge(self) -> EdgeKind {
        match self {
            RefKind::Call => EdgeKind::Calls,
            RefKind::Type => EdgeKind::References,
            RefKind::Implements => EdgeKind::Implements,
            RefKind::Extends => EdgeKind::Extends,
        }
    }
}

/// A use of a name that resolution turns into an edge. `from` is the innermost enclosing
/// symbol (None: the file). `qualifier` is what stood before the name (`self`, a module
/// alias, a receiver expression).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RawRef {
    pub from: Option<usize>,
    pub name: String,
    pub qualifier: Option<String>,
    pub kind: RefKind,
    pub line: u32,
}

/// Everything parsing one file yields. Kept per file so that a re-index re-parses only what
/// changed and resolves the whole repository again from these.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ParsedFile {
    pub path: String,
    pub language: Language,
    pub lines: u32,
    pub bytes: usize,
    pub symbols: Vec<SymbolDef>,
    pub imports: Vec<Import>,
    pub refs: Vec<RawRef>,
}

/// A resolved symbol of the graph, as stored and returned.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Symbol {
    pub id: String,
    pub repo_id: String,
    pub path: String,
    pub name: String,
    pub qualified: String,
    pub kind: SymbolKind,
    pub language: Language,
    pub parent_id: Option<String>,
    pub line_start: u32,
    pub line_end: u32,
    pub signature: String,
    pub doc: String,
    pub visibility: String,
}

/// A resolved edge. `confidence` is 1.0 for what the syntax states (containment) and lower
/// for what resolution inferred (see `resolve`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Edge {
    pub repo_id: String,
    pub from_id: String,
    pub to_id: String,
    pub kind: EdgeKind,
    pub confidence: f32,
    pub line: u32,
}
