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
    // Every doc line of the file: a chunk's window also holds the docs of the symbols
    // inside it (a class's methods), which stripping must take too.
    let doc_lines: Vec<&str> = if options.strip_docs {
        symbols
            .iter()
            .flat_map(|s| s.doc.lines())
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect()
    } else {
        Vec::new()
    };
    for symbol in symbols.iter().filter(|s| s.kind.is_chunked()) {
        let doc = if options.strip_docs {
            ""
        } else {
            symbol.doc.as_str()
        };
        let start = symbol.line_start.max(1) as usize;
        let end = (symbol.line_end as usize).min(lines.len()).max(start);
        windows(start, end, |from, to| {
            let code = code_lines(&lines, from, to, &doc_lines);
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
                    code: code_lines(&lines, from, to, &[]),
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

/// Lines `from..=to`, without the lines that belong to a doc comment in `doc_lines` (the
/// file's doc lines when docs are stripped, else none; Python docstrings live inside the
/// body).
fn code_lines(lines: &[&str], from: usize, to: usize, doc_lines: &[&str]) -> String {
    let slice = &lines[from.saturating_sub(1)..to.min(lines.len())];
    if doc_lines.is_empty() {
        return slice.join("\n");
    }
    slice
        .iter()
        .filter(|line| {
            let raw = line.trim();
            if matches!(raw, "\"\"\"" | "'''" | "r\"\"\"" | "r'''" | "/**" | "*/") {
                return false;
            }
            let text = raw
                .trim_start_matches("///")
                .trim_start_matches("//")
                .trim_start_matches("/**")
                .trim_start_matches('*')
                .trim_start_matches("r\"\"\"")
                .trim_start_matches("r'''")
                .trim_start_matches("\"\"\"")
                .trim_start_matches("'''")
                .trim_end_matches("\"\"\"")
                .trim_end_matches("'''")
                .trim_end_matches("*/")
                .trim();
            text.is_empty() || !doc_lines.contains(&text)
        })
        .copied()
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Language;

    #[test]
    fn stripping_docs_takes_the_docs_of_symbols_inside_a_chunk_too() {
        let source = "class Greeter:\n    \"\"\"Greets people by name.\"\"\"\n\n    def greet(self, name):\n        r\"\"\"Say hello to someone politely.\"\"\"\n        return 'hello ' + name\n";
        let parsed = crate::parse_file("greet.py", Language::Python, source).expect("parses");
        let graph = crate::resolve::resolve("repo", std::slice::from_ref(&parsed));
        let symbols: Vec<Symbol> = graph.file_symbols[0]
            .iter()
            .map(|&s| graph.symbols[s].clone())
            .collect();
        assert!(
            symbols.iter().any(|s| s.doc.contains("Say hello")),
            "the method's docstring is its doc: {symbols:?}"
        );
        let stripped = chunk_file(&parsed, &symbols, source, ChunkOptions { strip_docs: true });
        let class = stripped
            .iter()
            .find(|c| c.symbol == "Greeter")
            .expect("a chunk of the class");
        // The class's window holds the method: neither docstring is left in it.
        assert!(
            class.code.contains("def greet(self, name):"),
            "{}",
            class.code
        );
        assert!(
            class.code.contains("return 'hello ' + name"),
            "{}",
            class.code
        );
        for chunk in &stripped {
            assert!(!chunk.code.contains("Greets people"), "{}", chunk.code);
            assert!(!chunk.code.contains("Say hello"), "{}", chunk.code);
            assert!(chunk.doc.is_empty());
        }
        // Without stripping, the code is the file's lines as they are.
        let kept = chunk_file(&parsed, &symbols, source, ChunkOptions::default());
        let class = kept.iter().find(|c| c.symbol == "Greeter").expect("class");
        assert!(class
            .code
            .contains("r\"\"\"Say hello to someone politely.\"\"\""));
    }
}
