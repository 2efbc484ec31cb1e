//! Hybrid search: BM25 and vector rankings fused by reciprocal rank, with snippets. Pure:
//! `store` runs the two rankings and hands them here.

use crate::chunk::Chunk;
use crate::identifiers::{subwords, words};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// What a search may be narrowed to; defined beside the glob translation `bm25` shares.
pub use crate::filters::Filters;

/// Reciprocal rank fusion's constant (Cormack et al.): a hit's fused score is the sum over
/// rankings of `1 / (K + rank)`.
pub const RRF_K: f32 = 60.0;
/// Lines of code a snippet shows at most.
pub const SNIPPET_LINES: usize = 12;

/// Which rankings a search uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Both rankings, fused.
    Hybrid,
    /// BM25 only: no query embedding needed.
    Keyword,
    /// Vector similarity only.
    Vector,
}

/// One search result: a chunk, where it sits, how it ranked, and a snippet to show.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Hit {
    /// The chunk that matched (`Chunk::id`).
    pub chunk_id: String,
    /// The repository the chunk belongs to.
    pub repo_id: String,
    /// The file, relative to the repository root.
    pub path: String,
    /// The symbol the chunk belongs to.
    pub symbol_id: String,
    /// The symbol's qualified name (the path, for a file chunked whole).
    pub symbol: String,
    /// The symbol's kind (`SymbolKind::as_str`).
    pub kind: String,
    /// The file's language (`Language::as_str`).
    pub language: String,
    /// The chunk's first file line (1-based).
    pub line_start: u32,
    /// The chunk's last file line (inclusive).
    pub line_end: u32,
    /// The fused reciprocal-rank score: higher is better, comparable within one search.
    pub score: f32,
    /// Ranks (1-based, among symbols: see [`fuse_symbols`]) in the keyword and vector
    /// rankings, when the hit was in them.
    pub keyword_rank: Option<usize>,
    /// See `keyword_rank`.
    pub vector_rank: Option<usize>,
    /// Up to `SNIPPET_LINES` lines of the chunk around its first matching line.
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

/// The symbol a chunk belongs to, from the chunk's id (`{symbol id}:{first line}`).
pub fn symbol_of(chunk_id: &str) -> &str {
    chunk_id
        .rsplit_once(':')
        .map_or(chunk_id, |(symbol, _)| symbol)
}

/// Fuses chunk rankings (each best first) per symbol: in each ranking a symbol counts once,
/// at its best chunk's place (the chunks of one long symbol would otherwise fill the top),
/// the symbols are fused by reciprocal rank ([`fuse`]), and each is answered by the chunk
/// of it that ranked best (the earlier ranking on a tie). Ranks are among symbols.
pub fn fuse_symbols(rankings: &[&[String]]) -> Vec<(String, f32, Vec<Option<usize>>)> {
    let chunks: Vec<Vec<&String>> = rankings
        .iter()
        .map(|ranking| {
            let mut seen = std::collections::HashSet::new();
            ranking
                .iter()
                .filter(|chunk| seen.insert(symbol_of(chunk)))
                .collect()
        })
        .collect();
    let symbols: Vec<Vec<String>> = chunks
        .iter()
        .map(|ranking| ranking.iter().map(|c| symbol_of(c).to_owned()).collect())
        .collect();
    let symbols: Vec<&[String]> = symbols.iter().map(Vec::as_slice).collect();
    fuse(&symbols)
        .into_iter()
        .map(|(symbol, score, ranks)| {
            let best = ranks
                .iter()
                .enumerate()
                .filter_map(|(r, rank)| rank.map(|at| (at, r)))
                .min();
            let chunk = best
                .and_then(|(at, r)| chunks[r].get(at - 1))
                .map_or(symbol, |c| (*c).clone());
            (chunk, score, ranks)
        })
        .collect()
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
    fn a_symbol_counts_once_at_its_best_chunk() {
        let ids = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        // `long` has three chunks in the keyword ranking and two in the vector ranking.
        let keyword = ids(&[
            "r:a.py:long:1",
            "r:a.py:long:40",
            "r:a.py:long:80",
            "r:b.py:f:3",
        ]);
        let vector = ids(&[
            "r:b.py:g:9",
            "r:a.py:long:40",
            "r:a.py:long:1",
            "r:b.py:f:3",
        ]);
        let fused = fuse_symbols(&[&keyword, &vector]);
        let chunks: Vec<&str> = fused.iter().map(|f| f.0.as_str()).collect();
        assert_eq!(chunks, vec!["r:a.py:long:1", "r:b.py:f:3", "r:b.py:g:9"]);
        // Ranks among symbols: `f` is second in keyword (after `long`), third in vector.
        assert_eq!(fused[0].2, vec![Some(1), Some(2)]);
        assert_eq!(fused[1].2, vec![Some(2), Some(3)]);
        assert!((fused[0].1 - (1.0 / 61.0 + 1.0 / 62.0)).abs() < 1e-6);
        // The chunk that ranked best answers, whichever ranking it came from.
        let vector_first = fuse_symbols(&[&ids(&["r:a.py:long:80"]), &ids(&["r:a.py:long:40"])]);
        assert_eq!(
            vector_first[0].0, "r:a.py:long:80",
            "a tie goes to the first ranking"
        );
        let better = fuse_symbols(&[
            &ids(&["r:x:1", "r:a.py:long:80"]),
            &ids(&["r:a.py:long:40"]),
        ]);
        assert_eq!(
            better
                .iter()
                .find(|f| f.0.contains("long"))
                .map(|f| f.0.as_str()),
            Some("r:a.py:long:40")
        );
        assert_eq!(symbol_of("no-colon"), "no-colon");
    }
}
