//! Code intelligence as the REST API, the MCP tools and the console see it.

use crate::error::FieldError;
use crate::jobs::JobProgress;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Where a repository's code comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum RepositorySource {
    /// Cloned from a git URL by the indexer.
    Git,
    /// A directory on the server, under the operator's allowed root.
    Path,
    /// An uploaded .tar.gz or .zip.
    Upload,
}

impl RepositorySource {
    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            RepositorySource::Git => "git",
            RepositorySource::Path => "path",
            RepositorySource::Upload => "upload",
        }
    }

    /// From its stored name.
    pub fn parse(name: &str) -> Option<RepositorySource> {
        match name {
            "git" => Some(RepositorySource::Git),
            "path" => Some(RepositorySource::Path),
            "upload" => Some(RepositorySource::Upload),
            _ => None,
        }
    }
}

/// A repository's index status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum RepositoryStatus {
    /// An index run waits for an indexer.
    Queued,
    /// An index run is going on.
    Indexing,
    /// Indexed; searchable.
    Ready,
    /// The last index run failed (see `error`); an earlier index may still be searchable.
    Failed,
}

impl RepositoryStatus {
    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            RepositoryStatus::Queued => "queued",
            RepositoryStatus::Indexing => "indexing",
            RepositoryStatus::Ready => "ready",
            RepositoryStatus::Failed => "failed",
        }
    }

    /// From its stored name.
    pub fn parse(name: &str) -> Option<RepositoryStatus> {
        match name {
            "queued" => Some(RepositoryStatus::Queued),
            "indexing" => Some(RepositoryStatus::Indexing),
            "ready" => Some(RepositoryStatus::Ready),
            "failed" => Some(RepositoryStatus::Failed),
            _ => None,
        }
    }

    /// Whether an index run is under way.
    pub fn is_busy(self) -> bool {
        matches!(self, RepositoryStatus::Queued | RepositoryStatus::Indexing)
    }
}

/// Register a repository: exactly one of `url` (git) or `path` (server directory).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AddRepositoryRequest {
    /// A git URL: `https://` to a public host (or one the operator allows), or `file://`
    /// under the allowed root. Never with a user name or password in it: see `credential`.
    #[serde(default)]
    pub url: Option<String>,
    /// A directory under the server's allowed root (`CODE_ALLOWED_ROOT`).
    #[serde(default)]
    pub path: Option<String>,
    /// Display name; defaults to the last part of the URL or path.
    #[serde(default)]
    pub name: Option<String>,
    /// Branch to index; defaults to the repository's default branch.
    #[serde(default)]
    pub branch: Option<String>,
    /// For a private repository: the name of the workspace secret holding a token the host
    /// accepts (sent as HTTP basic authentication, user `x-access-token`).
    #[serde(default)]
    pub credential: Option<String>,
}

/// A registered repository and its index.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RepositoryView {
    /// Repository id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Where its code comes from.
    pub source: RepositorySource,
    /// The git URL, server path, or uploaded file name.
    pub url: String,
    /// The branch indexed, when one was named.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    /// The workspace secret its clone authenticates with (the name, never the value).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
    /// Index status.
    pub status: RepositoryStatus,
    /// The commit of the last successful index (git repositories).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// Files in the index.
    pub files_indexed: i64,
    /// Files left out (by reason in `skipped`).
    pub files_skipped: i64,
    /// Files left out, by reason (`binary`, `vendored`, `generated`, `minified`, `too_large`,
    /// `unsupported_language`, `not_utf8`).
    #[serde(default)]
    pub skipped: BTreeMap<String, u64>,
    /// Symbols in the graph.
    pub symbols: i64,
    /// Search chunks.
    pub chunks: i64,
    /// Why the last run failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The current or last index run (a job of kind `code.index`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
    /// Progress of the run under way.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub progress: Option<JobProgress>,
    /// The last successful run's figures (files changed, parse and embed times, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub report: Option<serde_json::Value>,
    /// Registration time (RFC 3339).
    pub created_at: String,
    /// Last successful index (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub indexed_at: Option<String>,
}

/// The answer to registering or re-indexing a repository.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RepositoryAccepted {
    /// Repository id.
    pub id: String,
    /// `queued`.
    pub status: RepositoryStatus,
    /// The index run.
    pub job_id: String,
}

/// A code search: the REST API's query parameters, the console's and MCP's arguments.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct CodeQuery {
    /// The query: words, identifiers, or a description of what the code does.
    pub q: String,
    /// Only this repository id.
    pub repo: Option<String>,
    /// Only this language (`rust`, `python`, `javascript`, `typescript`, `tsx`, `go`, `java`).
    pub lang: Option<String>,
    /// Only this symbol kind (`function`, `method`, `class`, ...).
    pub kind: Option<String>,
    /// Only paths matching this glob (`src/**/*.rs`).
    pub path: Option<String>,
    /// At most this many results (1-100, default 20).
    pub limit: Option<usize>,
    /// `hybrid` (default), `keyword` or `vector`.
    #[serde(default)]
    pub mode: Option<String>,
}

/// Most results a search returns.
pub const MAX_SEARCH_LIMIT: usize = 100;
/// Results a search returns when the query names no limit.
pub const DEFAULT_SEARCH_LIMIT: usize = 20;
/// The languages the code index parses, by the names queries use.
pub const LANGUAGES: [&str; 7] = [
    "rust",
    "python",
    "javascript",
    "typescript",
    "tsx",
    "go",
    "java",
];
/// The symbol kinds of the code graph, by the names queries use.
pub const SYMBOL_KINDS: [&str; 10] = [
    "file",
    "module",
    "function",
    "method",
    "class",
    "struct",
    "enum",
    "trait",
    "interface",
    "type",
];

/// How a search ranks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SearchMode {
    /// Keywords and vectors fused by reciprocal rank.
    Hybrid,
    /// BM25 over identifiers, signatures, docs and code.
    Keyword,
    /// Embedding similarity only.
    Vector,
}

/// A [`CodeQuery`] that passed validation: trimmed, with defaults applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidQuery {
    /// The query text.
    pub q: String,
    /// Only this repository id.
    pub repo: Option<String>,
    /// Only this language (one of [`LANGUAGES`]).
    pub lang: Option<String>,
    /// Only this symbol kind (one of [`SYMBOL_KINDS`]).
    pub kind: Option<String>,
    /// Only paths matching this glob.
    pub path: Option<String>,
    /// At most this many results.
    pub limit: usize,
    /// How to rank.
    pub mode: SearchMode,
}

/// An optional text parameter, trimmed; blank counts as absent.
fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

impl CodeQuery {
    /// Checks the query as the server and the console's search form both do; the error names
    /// the field at fault.
    pub fn validate(&self) -> Result<ValidQuery, FieldError> {
        let q = self.q.trim();
        if q.is_empty() {
            return Err(FieldError::new("q", "q must not be empty"));
        }
        if q.chars().count() > 1000 {
            return Err(FieldError::new("q", "q must be at most 1000 characters"));
        }
        let limit = self.limit.unwrap_or(DEFAULT_SEARCH_LIMIT);
        if limit == 0 || limit > MAX_SEARCH_LIMIT {
            return Err(FieldError::new(
                "limit",
                format!("limit must be from 1 to {MAX_SEARCH_LIMIT}"),
            ));
        }
        let mode = match self.mode.as_deref().unwrap_or("hybrid") {
            "hybrid" => SearchMode::Hybrid,
            "keyword" => SearchMode::Keyword,
            "vector" => SearchMode::Vector,
            _ => {
                return Err(FieldError::new(
                    "mode",
                    "mode must be hybrid, keyword or vector",
                ))
            }
        };
        let lang = given(&self.lang);
        if lang.is_some_and(|l| !LANGUAGES.contains(&l)) {
            return Err(FieldError::new(
                "lang",
                format!("lang must be one of {}", LANGUAGES.join(", ")),
            ));
        }
        let kind = given(&self.kind);
        if kind.is_some_and(|k| !SYMBOL_KINDS.contains(&k)) {
            return Err(FieldError::new(
                "kind",
                format!("kind must be one of {}", SYMBOL_KINDS.join(", ")),
            ));
        }
        let path = given(&self.path);
        if path.is_some_and(|p| p.len() > 300) {
            return Err(FieldError::new(
                "path",
                "path must be at most 300 characters",
            ));
        }
        Ok(ValidQuery {
            q: q.to_owned(),
            repo: given(&self.repo).map(str::to_owned),
            lang: lang.map(str::to_owned),
            kind: kind.map(str::to_owned),
            path: path.map(str::to_owned),
            limit,
            mode,
        })
    }
}

/// One search result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SearchResult {
    /// Repository id.
    pub repo_id: String,
    /// File path in the repository.
    pub path: String,
    /// The symbol's qualified name (the path for a file chunk).
    pub symbol: String,
    /// The symbol's id, for `/code/symbols/{id}`.
    pub symbol_id: String,
    /// Symbol kind.
    pub kind: String,
    /// Language.
    pub language: String,
    /// First line of the matched chunk.
    pub line_start: u32,
    /// Last line of the matched chunk.
    pub line_end: u32,
    /// Fused reciprocal-rank score (higher is better).
    pub score: f32,
    /// Rank in the keyword (BM25) ranking, when it was there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keyword_rank: Option<usize>,
    /// Rank in the vector ranking, when it was there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vector_rank: Option<usize>,
    /// Code around the best match.
    pub snippet: String,
    /// File line of the snippet's first line.
    pub snippet_line_start: u32,
    /// File lines of the snippet containing a query word.
    pub matched_lines: Vec<u32>,
}

/// Search results.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SearchResponse {
    /// Best first.
    pub results: Vec<SearchResult>,
    /// `hybrid`, `keyword` or `vector`.
    pub mode: String,
}

/// A symbol of the code graph.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SymbolView {
    /// Symbol id.
    pub id: String,
    /// Repository id.
    pub repo_id: String,
    /// File path.
    pub path: String,
    /// Name.
    pub name: String,
    /// Qualified name (`Type::method`, `module.func`).
    pub qualified: String,
    /// `function`, `method`, `class`, `struct`, `enum`, `trait`, `interface`, `type`,
    /// `module`, `file`.
    pub kind: String,
    /// Language.
    pub language: String,
    /// First line.
    pub line_start: u32,
    /// Last line.
    pub line_end: u32,
    /// Its header (`pub fn open(path: &Path) -> Result<Store>`).
    pub signature: String,
    /// Its doc comment.
    pub doc: String,
    /// `public`, `private`, `protected`, `crate`, `package` or `module`.
    pub visibility: String,
}

/// A symbol reached from another along the graph.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RelatedSymbol {
    /// The symbol.
    pub symbol: SymbolView,
    /// Steps away (1 = direct).
    pub depth: u32,
    /// How sure resolution was of the edge (1.0: stated by syntax).
    pub confidence: f32,
    /// The edge kind (`calls`, `references`, `implements`, `extends`, `imports`).
    pub relation: String,
    /// Line of the use.
    pub line: u32,
}

/// A symbol with its code and its direct neighbours.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SymbolDetail {
    /// The symbol.
    pub symbol: SymbolView,
    /// Its source lines, when indexed as a chunk.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The file line `code` starts at.
    pub code_line_start: u32,
    /// What contains it (the file, a class, a module).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<SymbolView>,
    /// Who calls it (one step).
    pub callers: Vec<RelatedSymbol>,
    /// What it calls (one step).
    pub callees: Vec<RelatedSymbol>,
    /// Other uses: type references, implementations, extensions, imports.
    pub references: Vec<RelatedSymbol>,
    /// What it implements, extends or references.
    pub uses: Vec<RelatedSymbol>,
}

/// Symbols related to one, as `/callers` and `/callees` return them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RelatedList {
    /// The symbol asked about.
    pub symbol: SymbolView,
    /// The related symbols, nearest first.
    pub results: Vec<RelatedSymbol>,
}

/// The symbols of one file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FileOutline {
    /// Repository id.
    pub repo_id: String,
    /// File path.
    pub path: String,
    /// Symbols in source order; nesting through `parent` ids and line ranges.
    pub symbols: Vec<OutlineEntry>,
}

/// One entry of a file outline.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OutlineEntry {
    /// The symbol.
    pub symbol: SymbolView,
    /// Nesting depth (0: top level).
    pub depth: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_queries_are_checked_field_by_field() {
        let query = |q: &str| CodeQuery {
            q: q.to_owned(),
            ..Default::default()
        };
        let ok = query("  parse config ").validate().unwrap();
        assert_eq!(
            (ok.q.as_str(), ok.limit, ok.mode),
            ("parse config", DEFAULT_SEARCH_LIMIT, SearchMode::Hybrid)
        );
        let field = |q: CodeQuery| q.validate().unwrap_err().field;
        assert_eq!(field(query(" ")), "q");
        assert_eq!(
            field(CodeQuery {
                limit: Some(0),
                ..query("x")
            }),
            "limit"
        );
        assert_eq!(
            field(CodeQuery {
                limit: Some(101),
                ..query("x")
            }),
            "limit"
        );
        assert_eq!(
            field(CodeQuery {
                mode: Some("fuzzy".into()),
                ..query("x")
            }),
            "mode"
        );
        assert_eq!(
            field(CodeQuery {
                lang: Some("cobol".into()),
                ..query("x")
            }),
            "lang"
        );
        assert_eq!(
            field(CodeQuery {
                kind: Some("macro".into()),
                ..query("x")
            }),
            "kind"
        );
        assert_eq!(
            field(CodeQuery {
                path: Some("a".repeat(301)),
                ..query("x")
            }),
            "path"
        );
        let blank = CodeQuery {
            lang: Some(String::new()),
            repo: Some(" ".into()),
            ..query("x")
        }
        .validate()
        .unwrap();
        assert_eq!((blank.lang, blank.repo), (None, None));
    }
}
