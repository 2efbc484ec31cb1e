//! Code intelligence for Switchyard: a tree-sitter code graph of a repository, embeddings of
//! its code chunks, and BM25 + vector hybrid search over them.
//!
//! - `scan` finds the files worth indexing; `extract` parses one file into definitions,
//!   imports and unresolved references (one file per language); `resolve` turns a
//!   repository's parses into the graph.
//! - `chunk` cuts definitions into search chunks; `embed` turns them into vectors.
//! - `store` keeps a workspace's index (LanceDB tables + the `bm25` Tantivy index) and
//!   answers graph queries and searches, fused by `search`; `index` runs one incremental
//!   index pass.
//! - `filters` (what a search is narrowed to) and `identifiers` (splitting code into
//!   sub-words) are shared by the keyword index and search, which do not import each other.

pub mod bm25;
pub mod chunk;
pub mod embed;
pub mod extract;
pub mod filters;
pub mod identifiers;
pub mod index;
pub mod model;
pub mod resolve;
pub mod scan;
pub mod search;
pub mod store;

pub use extract::parse_file;
pub use model::{Edge, EdgeKind, Language, ParsedFile, Symbol, SymbolKind};
