//! What a search may be narrowed to. Both rankings apply the same filters, each in its own
//! query language (`bm25` as Tantivy term and regex queries, `store` as SQL), so a hybrid
//! search never fuses a hit that one ranking would have excluded.

use serde::{Deserialize, Serialize};

/// What a search may be narrowed to.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Filters {
    /// Only this repository.
    pub repo_id: Option<String>,
    /// When not empty, only these repositories (the ones the caller may see).
    pub repo_ids: Vec<String>,
    /// Only chunks of this language (`Language::as_str`).
    pub language: Option<String>,
    /// Only chunks of this symbol kind (`SymbolKind::as_str`).
    pub kind: Option<String>,
    /// A path glob: `*` within a directory, `**` across directories, `?` one character.
    pub path_glob: Option<String>,
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
    fn globs_become_anchored_regexes() {
        assert_eq!(glob_to_regex("src/**/*.rs"), "src/(.*/)?[^/]*\\.rs");
        assert_eq!(glob_to_regex("*.py"), "[^/]*\\.py");
        assert_eq!(glob_to_regex("a?b"), "a[^/]b");
    }
}
