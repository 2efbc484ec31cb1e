//! Finding the files of a repository worth indexing, and counting why the others were not.

use crate::model::Language;
use ignore::WalkBuilder;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Why a file was left out of the index.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    Binary,
    Vendored,
    Generated,
    Minified,
    TooLarge,
    UnsupportedLanguage,
    NotUtf8,
    Unreadable,
}

impl SkipReason {
    /// The reason's name, as counted in an index report.
    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::Binary => "binary",
            SkipReason::Vendored => "vendored",
            SkipReason::Generated => "generated",
            SkipReason::Minified => "minified",
            SkipReason::TooLarge => "too_large",
            SkipReason::UnsupportedLanguage => "unsupported_language",
            SkipReason::NotUtf8 => "not_utf8",
            SkipReason::Unreadable => "unreadable",
        }
    }
}

/// A file to index: its repository-relative path (always `/`-separated), language, content
/// and content hash.
#[derive(Clone, Debug)]
pub struct SourceFile {
    pub path: String,
    pub language: Language,
    pub text: String,
    pub hash: String,
}

/// What a scan found: the files to index and, per reason, how many were left out.
#[derive(Debug, Default)]
pub struct Scan {
    pub files: Vec<SourceFile>,
    pub skipped: BTreeMap<SkipReason, u64>,
}

impl Scan {
    /// How many files were left out, for any reason.
    pub fn skipped_total(&self) -> u64 {
        self.skipped.values().sum()
    }
}

/// Directory names whose contents are third-party code.
const VENDORED_DIRS: &[&str] = &[
    "vendor",
    "node_modules",
    "third_party",
    "third-party",
    "bower_components",
    ".venv",
    "venv",
    "site-packages",
];

/// Walks `root` honouring .gitignore, .ignore and git's global excludes (also outside a git
/// checkout), and reads every file that is source code of a supported language.
pub fn scan(root: &Path, max_file_bytes: u64) -> Scan {
    let mut result = Scan::default();
    let walker = WalkBuilder::new(root)
        .hidden(true)
        .git_ignore(true)
        .git_global(false)
        .git_exclude(true)
        .require_git(false)
        .follow_links(false)
        .build();
    let mut paths: Vec<(PathBuf, String)> = Vec::new();
    for entry in walker.flatten() {
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let Ok(relative) = entry.path().strip_prefix(root) else {
            continue;
        };
        let relative = relative
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/");
        paths.push((entry.path().to_path_buf(), relative));
    }
    paths.sort_by(|a, b| a.1.cmp(&b.1));
    for (path, relative) in paths {
        match classify(&path, &relative, max_file_bytes) {
            Ok(file) => result.files.push(file),
            Err(reason) => *result.skipped.entry(reason).or_default() += 1,
        }
    }
    result
}

fn classify(path: &Path, relative: &str, max_file_bytes: u64) -> Result<SourceFile, SkipReason> {
    let segments: Vec<&str> = relative.split('/').collect();
    if segments[..segments.len() - 1]
        .iter()
        .any(|s| VENDORED_DIRS.contains(s))
    {
        return Err(SkipReason::Vendored);
    }
    let size = std::fs::metadata(path)
        .map_err(|_| SkipReason::Unreadable)?
        .len();
    let language = Language::of_path(path);
    let bytes = std::fs::read(path).map_err(|_| SkipReason::Unreadable)?;
    if bytes.iter().take(8000).any(|&b| b == 0) {
        return Err(SkipReason::Binary);
    }
    let language = language.ok_or(SkipReason::UnsupportedLanguage)?;
    if size > max_file_bytes {
        return Err(SkipReason::TooLarge);
    }
    let text = String::from_utf8(bytes).map_err(|_| SkipReason::NotUtf8)?;
    let file_name = segments.last().copied().unwrap_or("");
    if is_generated(file_name, &text) {
        return Err(SkipReason::Generated);
    }
    if is_minified(file_name, &text) {
        return Err(SkipReason::Minified);
    }
    Ok(SourceFile {
        path: relative.to_string(),
        language,
        hash: blake3::hash(text.as_bytes()).to_hex().to_string(),
        text,
    })
}

/// Generated files announce themselves in their first lines (Go's `Code generated ... DO NOT
/// EDIT.`, `@generated`), or by name (protobuf and similar outputs).
fn is_generated(file_name: &str, text: &str) -> bool {
    let by_name = [
        ".pb.go",
        "_pb2.py",
        "_pb2_grpc.py",
        ".pb.rs",
        ".generated.ts",
        ".g.dart",
    ]
    .iter()
    .any(|suffix| file_name.ends_with(suffix));
    by_name
        || text.lines().take(5).any(|line| {
            let lower = line.to_ascii_lowercase();
            lower.contains("@generated")
                || (lower.contains("code generated") && lower.contains("do not edit"))
                || lower.contains("auto-generated")
                || lower.contains("autogenerated")
        })
}

/// Minified code: very long lines on average, or a `.min.` name.
fn is_minified(file_name: &str, text: &str) -> bool {
    if file_name.contains(".min.") {
        return true;
    }
    let lines = text.lines().count().max(1);
    let longest = text.lines().map(str::len).max().unwrap_or(0);
    text.len() / lines > 300 || (longest > 5_000 && lines < 20)
}
