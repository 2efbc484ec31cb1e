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
    /// Beyond the run's cap on files (every file counts, skipped or not).
    OverFileLimit,
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
            SkipReason::OverFileLimit => "over_file_limit",
        }
    }
}

/// A file to index: its repository-relative path (always `/`-separated), language, size
/// and content hash. The content itself is not kept (a scan holds no file's text): it is
/// read again with [`read_source`] when the file is parsed or chunked.
#[derive(Clone, Debug)]
pub struct SourceFile {
    pub path: String,
    pub language: Language,
    pub hash: String,
    pub bytes: u64,
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
/// checkout), and classifies every file, reading at most `max_file_bytes` of each (whose
/// size is checked first). Files past the `max_files`-th (skipped ones count too) are
/// counted as over the limit and not read.
pub fn scan(root: &Path, max_file_bytes: u64, max_files: u64) -> Scan {
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
        if paths.len() as u64 >= max_files {
            *result.skipped.entry(SkipReason::OverFileLimit).or_default() += 1;
            continue;
        }
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
    // Only the head decides "binary", and only a file within the size limit is read whole:
    // memory per file is bounded by the limit, whatever the repository holds.
    let head = read_at_most(path, BINARY_SNIFF_BYTES)?;
    if head.contains(&0) {
        return Err(SkipReason::Binary);
    }
    let language = language.ok_or(SkipReason::UnsupportedLanguage)?;
    if size > max_file_bytes {
        return Err(SkipReason::TooLarge);
    }
    let bytes = read_at_most(path, max_file_bytes.saturating_add(1))?;
    if bytes.len() as u64 > max_file_bytes {
        // It grew since it was measured.
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
        hash: hash_text(&text),
        bytes: text.len() as u64,
    })
}

/// The content hash a scan records for a file's text.
pub fn hash_text(text: &str) -> String {
    blake3::hash(text.as_bytes()).to_hex().to_string()
}

/// The text of a scanned file under `root`, read again (at most `max_file_bytes`). It may
/// differ from what the scan hashed if the file changed since; callers hash what they read.
pub fn read_source(
    root: &Path,
    file: &SourceFile,
    max_file_bytes: u64,
) -> Result<String, SkipReason> {
    let path = file
        .path
        .split('/')
        .fold(root.to_path_buf(), |p, part| p.join(part));
    let bytes = read_at_most(&path, max_file_bytes.saturating_add(1))?;
    if bytes.len() as u64 > max_file_bytes {
        return Err(SkipReason::TooLarge);
    }
    String::from_utf8(bytes).map_err(|_| SkipReason::NotUtf8)
}

/// How much of a file's start is looked at for NUL bytes.
const BINARY_SNIFF_BYTES: u64 = 8000;

/// Up to `limit` bytes from the start of the file.
fn read_at_most(path: &Path, limit: u64) -> Result<Vec<u8>, SkipReason> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|_| SkipReason::Unreadable)?;
    let mut bytes = Vec::new();
    file.take(limit)
        .read_to_end(&mut bytes)
        .map_err(|_| SkipReason::Unreadable)?;
    Ok(bytes)
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The process's peak resident memory so far, in kB (Linux).
    fn peak_rss_kb() -> u64 {
        std::fs::read_to_string("/proc/self/status")
            .unwrap()
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap()
    }

    #[test]
    fn a_huge_file_is_skipped_without_being_read() {
        use std::io::Write;
        let dir = std::env::temp_dir().join(format!("sy-scan-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("small.py"), "def f():\n    return 1\n").unwrap();
        // 2 GiB of Python by its name and its first 16 kB, sparse after that: reading it
        // whole would raise the peak memory by 2 GiB.
        let mut huge = std::fs::File::create(dir.join("huge.py")).unwrap();
        huge.write_all("x = 1\n".repeat(3000).as_bytes()).unwrap();
        huge.set_len(2 << 30).unwrap();
        let before = peak_rss_kb();
        let found = scan(&dir, 1024 * 1024, 1_000);
        let grew_kb = peak_rss_kb().saturating_sub(before);
        let paths: Vec<&str> = found.files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, vec!["small.py"]);
        assert_eq!(found.skipped.get(&SkipReason::TooLarge), Some(&1));
        assert!(grew_kb < 256 * 1024, "peak memory grew by {grew_kb} kB");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_large_source_file_is_too_large() {
        let dir = std::env::temp_dir().join(format!("sy-scan-large-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("big.py"), "x = 1\n".repeat(400_000)).unwrap();
        let found = scan(&dir, 1024 * 1024, 1_000);
        assert!(found.files.is_empty());
        assert_eq!(found.skipped.get(&SkipReason::TooLarge), Some(&1));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn files_past_the_cap_are_counted_not_read() {
        let dir = std::env::temp_dir().join(format!("sy-scan-cap-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for i in 0..5 {
            std::fs::write(dir.join(format!("m{i}.py")), format!("x = {i}\n")).unwrap();
        }
        std::fs::write(dir.join("a.bin"), [0u8, 1, 2]).unwrap();
        let found = scan(&dir, 1024 * 1024, 4);
        // The cap counts every file met, the skipped binary too.
        assert_eq!(found.files.len() as u64 + found.skipped_total(), 6);
        assert_eq!(found.skipped.get(&SkipReason::OverFileLimit), Some(&2));
        let first = &found.files[0];
        assert_eq!(
            read_source(&dir, first, 1024).map(|t| hash_text(&t)),
            Ok(first.hash.clone())
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
