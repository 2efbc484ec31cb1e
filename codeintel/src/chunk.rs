//! Search chunks: one per function, method or type, with its doc comment; long definitions
//! split into overlapping windows. A file with no definitions is chunked as a whole.

use crate::model::{ParsedFile, Symbol, SymbolKind};
use serde::{Deserialize, Serialize};

/// Lines per chunk before a definition is split.
pub const MAX_CHUNK_LINES: usize = 60;
/// Lines shared by consecutive windows of a split definition.
pub const OVERLAP_LINES: usize = 10;

/// One unit of search: a definition (or one window of a long one, or a whole file), with
/// what the keyword index and the embedding model read of it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Chunk {
    pub id: String,
    pub repo_id: String,
    pub path: String,
    pub language: String,
    pub symbol_id: String,
    pub symbol: String,
    pub kind: String,
    pub line_start: u32,
    pub line_end: u32,
    pub signature: String,
    pub doc: String,
    /// The code of the window, as in the file.
    pub code: String,
}

impl Chunk {
    /// What the embedding model reads: the symbol's name and header, its docs, its code.
    pub fn embedding_text(&self) -> String {
        let mut text = format!("{} {}\n", self.kind, self.symbol);
        if !self.doc.is_empty() {
            text.push_str(&self.doc);
            text.push('\n');
        }
        text.push_str(&self.code);
        text
    }
}

/// Options that change what is indexed; `strip_docs` exists for the quality benchmark,
/// which asks doc-comment queries of code whose doc comments were removed.
#[derive(Clone, Copy, Debug, Default)]
pub struct ChunkOptions {
    pub strip_docs: bool,
}

/// Chunks of one file. `symbols` are the file's resolved symbols (the file first).
pub fn chunk_file(
    parsed: &ParsedFile,
    symbols: &[Symbol],
    source: &str,
    options: ChunkOptions,
) -> Vec<Chunk> {
    let lines: Vec<&str> = source.lines().collect();
    let mut chunks = Vec::new();
    for symbol in symbols.iter().filter(|s| s.kind.is_chunked()) {
        let doc = if options.strip_docs {
            ""
        } else {
            symbol.doc.as_str()
        };
        let start = symbol.line_start.max(1) as usize;
        let end = (symbol.line_end as usize).min(lines.len()).max(start);
        windows(start, end, |from, to| {
            let code = code_lines(&lines, from, to, options.strip_docs, &symbol.doc);
            chunks.push(Chunk {
                id: format!("{}:{from}", symbol.id),
                repo_id: symbol.repo_id.clone(),
                path: symbol.path.clone(),
                language: symbol.language.to_string(),
                symbol_id: symbol.id.clone(),
                symbol: symbol.qualified.clone(),
                kind: symbol.kind.to_string(),
                line_start: from as u32,
                line_end: to as u32,
                signature: symbol.signature.clone(),
                doc: doc.to_string(),
                code,
            });
        });
    }
    if chunks.is_empty() && !lines.is_empty() {
        if let Some(file) = symbols.iter().find(|s| s.kind == SymbolKind::File) {
            windows(1, lines.len(), |from, to| {
                chunks.push(Chunk {
                    id: format!("{}:{from}", file.id),
                    repo_id: file.repo_id.clone(),
                    path: file.path.clone(),
                    language: parsed.language.to_string(),
                    symbol_id: file.id.clone(),
                    symbol: file.path.clone(),
                    kind: SymbolKind::File.to_string(),
                    line_start: from as u32,
                    line_end: to as u32,
                    signature: String::new(),
                    doc: String::new(),
                    code: code_lines(&lines, from, to, false, ""),
                });
            });
        }
    }
    chunks
}

/// Calls `emit(from, to)` (1-based, inclusive) for each window of `start..=end`.
fn windows(start: usize, end: usize, mut emit: impl FnMut(usize, usize)) {
    let mut from = start;
    loop {
        let to = (from + MAX_CHUNK_LINES - 1).min(end);
        emit(from, to);
        if to >= end {
            break;
        }
        from = to + 1 - OVERLAP_LINES;
    }
}

/// Lines `from..=to`; with `strip_docs`, lines that belong to the doc comment are left out
/// (Python docstrings live inside the body).
fn code_lines(lines: &[&str], from: usize, to: usize, strip_docs: bool, doc: &str) -> String {
    let slice = &lines[from.saturating_sub(1)..to.min(lines.len())];
    if !strip_docs || doc.is_empty() {
        return slice.join("\n");
    }
    let doc_lines: Vec<&str> = doc
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    slice
        .iter()
        .filter(|line| {
            let raw = line.trim();
            if matches!(raw, "\"\"\"" | "'''" | "/**" | "*/") {
                return false;
            }
            let text = raw
                .trim_start_matches("///")
                .trim_start_matches("//")
                .trim_start_matches("/**")
                .trim_start_matches('*')
                .trim_start_matches("\"\"\"")
                .trim_end_matches("\"\"\"")
                .trim_end_matches("*/")
                .trim();
            text.is_empty() || !doc_lines.contains(&text)
        })
        .copied()
        .collect::<Vec<_>>()
        .join("\n")
}
