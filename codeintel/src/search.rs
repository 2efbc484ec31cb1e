//! Hybrid search: BM25 and vector rankings fused by reciprocal rank, with snippets.

use crate::bm25::{subwords, words};
use crate::chunk::Chunk;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Reciprocal rank fusion's constant (Cormack et al.): a hit's fused score is the sum over
/// rankings of `1 / (K + rank)`.
pub const RRF_K: f32 = 60.0;
/// Lines of code a snippet shows at most.
pub const SNIPPET_LINES: usize = 12;

/// What a search may be narrowed to.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Filters {
    pub repo_id: Option<String>,
    /// When not empty, only these repositories (the ones the caller may see).
    pub repo_ids: Vec<String>,
    pub language: Option<String>,
    pub kind: Option<String>,
    /// A path glob: `*` within a directory, `**` across directories, `?` one character.
    pub path_glob: Option<String>,
}

/// Which rankings a search uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Hybrid,
    Keyword,
    Vector,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Hit {
    pub chunk_id: String,
    pub repo_id: String,
    pub path: String,
    pub symbol_id: String,
    pub symbol: String,
    pub kind: String,
    pub language: String,
    pub line_start: u32,
    pub line_end: u32,
    pub score: f32,
    /// Ranks (1-based) in the keyword and vector rankings, when the hit was in them.
    pub keyword_rank: Option<usize>,
    pub vector_rank: Option<usize>,
    pub snippet: String,
    /// The file line the snippet starts at.
    pub snippet_line_start: u32,
    /// File lines of the snippet that contain a query word.
    pub matched_lines: Vec<u32>,
}

/// Fuses rankings (each best first) by reciprocal rank; returns ids best first with their
/// fused score and per-ranking ranks.
pub fn fuse(rankings: &[&[String]]) -> Vec<(String, f32, Vec<Option<usize>>)> {
    let mut scores: HashMap<&str, (f32, Vec<Option<usize>>)> = HashMap::new();
    for (r, ranking) in rankings.iter().enumerate() {
        for (i, id) in ranking.iter().enumerate() {
            let entry = scores
                .entry(id.as_str())
                .or_insert_with(|| (0.0, vec![None; rankings.len()]));
            entry.0 += 1.0 / (RRF_K + (i + 1) as f32);
            entry.1[r] = Some(i + 1);
        }
    }
    let mut fused: Vec<_> = scores
        .into_iter()
        .map(|(id, (score, ranks))| (id.to_string(), score, ranks))
        .collect();
    fused.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    fused
}

/// The lower-cased words and sub-words of a query, for highlighting.
pub fn query_terms(query: &str) -> Vec<String> {
    let mut terms: Vec<String> = Vec::new();
    for (_, word) in words(query) {
        for candidate in std::iter::once(word).chain(subwords(word).into_iter().map(|(_, p)| p)) {
            let lower = candidate.to_lowercase();
            if lower.chars().count() >= 2 && !terms.contains(&lower) {
                terms.push(lower);
            }
        }
    }
    terms
}

/// A snippet of a chunk around its first matching line, and the matching lines.
pub fn snippet(chunk: &Chunk, terms: &[String]) -> (String, u32, Vec<u32>) {
    let lines: Vec<&str> = chunk.code.lines().collect();
    let matches_line = |line: &str| {
        let lower = line.to_lowercase();
        terms.iter().any(|t| lower.contains(t.as_str()))
    };
    let matched: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| matches_line(l))
        .map(|(i, _)| i)
        .collect();
    let first = matched.first().copied().unwrap_or(0);
    let start = if first < SNIPPET_LINES / 2 {
        0
    } else {
        first - SNIPPET_LINES / 4
    };
    let end = (start + SNIPPET_LINES).min(lines.len());
    let text = lines[start..end].join("\n");
    let base = chunk.line_start;
    let matched_lines = matched
        .into_iter()
        .filter(|&i| i >= start && i < end)
        .map(|i| base + i as u32)
        .collect();
    (text, base + start as u32, matched_lines)
}

/// A path glob as a regular expression matching the whole path (`**` any depth, `*` and `?`
/// within one directory), for Tantivy's regex query and DataFusion's `regexp_like`.
pub fn glob_to_regex(glob: &str) -> String {
    let mut out = String::new();
    let chars: Vec<char> = glob.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '*' if chars.get(i + 1) == Some(&'*') => {
                // `**/` matches zero or more directories.
                if chars.get(i + 2) == Some(&'/') {
                    out.push_str("(.*/)?");
                    i += 3;
                } else {
                    out.push_str(".*");
                    i += 2;
                }
                continue;
            }
            '*' => out.push_str("[^/]*"),
            '?' => out.push_str("[^/]"),
            c if c.is_alphanumeric() || c == '/' || c == '_' || c == '-' => out.push(c),
            c => {
                out.push('\\');
                out.push(c);
            }
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fusion_rewards_agreement() {
        let a: Vec<String> = ["x", "y", "z"].map(String::from).to_vec();
        let b: Vec<String> = ["y", "w"].map(String::from).to_vec();
        let fused = fuse(&[&a, &b]);
        assert_eq!(fused[0].0, "y");
        assert_eq!(fused[0].2, vec![Some(2), Some(1)]);
        assert!((fused[0].1 - (1.0 / 62.0 + 1.0 / 61.0)).abs() < 1e-6);
        assert_eq!(fused.len(), 4);
    }

    #[test]
    fn globs_become_anchored_regexes() {
        assert_eq!(glob_to_regex("src/**/*.rs"), "src/(.*/)?[^/]*\\.rs");
        assert_eq!(glob_to_regex("*.py"), "[^/]*\\.py");
        assert_eq!(glob_to_regex("a?b"), "a[^/]b");
    }
}
