//! Getting a repository's code onto the indexer: validating what a caller registers,
//! cloning and updating git checkouts, and unpacking uploads.

use std::io::Read;
use std::path::{Component, Path, PathBuf};
use std::time::Duration;
use tokio::process::Command;

/// The longest a clone or fetch may take.
const GIT_TIMEOUT: Duration = Duration::from_secs(600);

/// Checks a git URL a caller registers. `file://` URLs (and plain paths) are only allowed
/// under the operator's allowed root, like server directories.
pub fn check_git_url(url: &str, allowed_root: Option<&Path>) -> Result<String, String> {
    let url = url.trim();
    if url.is_empty() {
        return Err("url must not be empty".into());
    }
    if url.starts_with('-') || url.chars().any(char::is_control) {
        return Err("url is not a git URL".into());
    }
    if let Some(path) = url.strip_prefix("file://") {
        check_under_root(Path::new(path), allowed_root)?;
        return Ok(url.to_owned());
    }
    let allowed = ["https://", "http://", "ssh://", "git://"];
    if allowed.iter().any(|p| url.starts_with(p)) || is_scp_like(url) {
        return Ok(url.to_owned());
    }
    Err("url must be an https://, http://, ssh://, git:// or file:// URL, or user@host:path".into())
}

/// A branch name as git allows it (and never an option).
pub fn check_branch(branch: &str) -> Result<String, String> {
    let branch = branch.trim();
    let valid = !branch.is_empty()
        && branch.len() <= 200
        && !branch.starts_with(['-', '/', '.'])
        && !branch.ends_with(['/', '.'])
        && !branch.contains("..")
        && !branch.ends_with(".lock")
        && branch
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'));
    if valid {
        Ok(branch.to_owned())
    } else {
        Err("branch is not a valid branch name".into())
    }
}

/// `git@github.com:org/repo.git`.
fn is_scp_like(url: &str) -> bool {
    match url.split_once(':') {
        Some((host, path)) => {
            host.contains('@') && !host.contains('/') && !path.is_empty() && !path.starts_with("//")
        }
        None => false,
    }
}

/// A server directory must exist and lie under the allowed root (after resolving links).
pub fn check_under_root(path: &Path, allowed_root: Option<&Path>) -> Result<PathBuf, String> {
    let Some(root) = allowed_root else {
        return Err("server paths are disabled: the operator has not set CODE_ALLOWED_ROOT".into());
    };
    let root = root
        .canonicalize()
        .map_err(|_| "CODE_ALLOWED_ROOT does not exist".to_owned())?;
    let resolved = path
        .canonicalize()
        .map_err(|_| format!("{} does not exist", path.display()))?;
    if !resolved.starts_with(&root) {
        return Err(format!("{} is outside the allowed root", path.display()));
    }
    if !resolved.is_dir() {
        return Err(format!("{} is not a directory", path.display()));
    }
    Ok(resolved)
}

/// A name for a repository from its URL or path: the last part, without `.git`.
pub fn default_name(location: &str) -> String {
    let trimmed = location.trim_end_matches(['/', '\\']);
    let last = trimmed
        .rsplit(['/', ':', '\\'])
        .find(|s| !s.is_empty())
        .unwrap_or(trimmed);
    let name = last.strip_suffix(".git").unwrap_or(last);
    if name.is_empty() {
        "repository".to_owned()
    } else {
        name.chars().take(100).collect()
    }
}

async fn git(args: &[&str], dir: Option<&Path>) -> Result<String, String> {
    let mut command = Command::new("git");
    if let Some(dir) = dir {
        command.arg("-C").arg(dir);
    }
    command
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_ASKPASS", "true")
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    let output = tokio::time::timeout(GIT_TIMEOUT, command.output())
        .await
        .map_err(|_| format!("git {} took longer than {GIT_TIMEOUT:?}", args[0]))?
        .map_err(|e| format!("cannot run git: {e}"))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let message: String = stderr.trim().chars().take(500).collect();
        return Err(format!("git {} failed: {message}", args[0]));
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// Clones `url` into `dir`, or brings an existing clone to the branch's newest commit.
/// Answers the commit checked out.
pub async fn checkout(url: &str, branch: Option<&str>, dir: &Path) -> Result<String, String> {
    let refspec = branch.unwrap_or("HEAD");
    if dir.join(".git").is_dir() {
        git(
            &["fetch", "--depth", "1", "--no-tags", "origin", refspec],
            Some(dir),
        )
        .await?;
        git(&["reset", "--hard", "--quiet", "FETCH_HEAD"], Some(dir)).await?;
    } else {
        if let Some(parent) = dir.parent() {
            tokio::fs::create_dir_all(parent)
                .await
                .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        let _ = tokio::fs::remove_dir_all(dir).await;
        let target = dir.to_str().ok_or("the checkout directory is not UTF-8")?;
        let mut args = vec![
            "clone",
            "--depth",
            "1",
            "--single-branch",
            "--no-tags",
            "--quiet",
        ];
        if let Some(branch) = branch {
            args.extend(["--branch", branch]);
        }
        args.extend(["--", url, target]);
        git(&args, None).await?;
    }
    git(&["rev-parse", "HEAD"], Some(dir)).await
}

/// The commit of a server directory that is a git checkout (`None` for a plain directory).
pub async fn head_commit(dir: &Path) -> Option<String> {
    git(&["rev-parse", "HEAD"], Some(dir)).await.ok()
}

/// Which archive format an upload is, by its first bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArchiveKind {
    TarGz,
    Zip,
}

pub fn archive_kind(bytes: &[u8]) -> Option<ArchiveKind> {
    match bytes {
        [0x1f, 0x8b, ..] => Some(ArchiveKind::TarGz),
        [b'P', b'K', 0x03, 0x04, ..] => Some(ArchiveKind::Zip),
        _ => None,
    }
}

/// A path inside an archive, made safe: relative, no `..`, no root or drive. `None` when it
/// tries to leave the target directory.
fn safe_relative(name: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for component in name.components() {
        match component {
            Component::Normal(part) => out.push(part),
            Component::CurDir => {}
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    (!out.as_os_str().is_empty()).then_some(out)
}

/// Unpacks an uploaded archive into `dir` (replacing what was there). Entries that would
/// leave `dir` are refused (the whole upload fails), links are skipped, and the unpacked
/// size is capped at `max_unpacked` bytes. Answers the files written.
pub fn unpack(bytes: &[u8], dir: &Path, max_unpacked: u64) -> Result<u64, String> {
    let kind = archive_kind(bytes).ok_or("the upload is neither a .tar.gz nor a .zip archive")?;
    let staging = dir.with_extension("unpacking");
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging)
        .map_err(|e| format!("cannot create the upload directory: {e}"))?;
    let written = match kind {
        ArchiveKind::TarGz => unpack_tar(bytes, &staging, max_unpacked),
        ArchiveKind::Zip => unpack_zip(bytes, &staging, max_unpacked),
    };
    match written {
        Ok(files) => {
            let _ = std::fs::remove_dir_all(dir);
            std::fs::rename(&staging, dir)
                .map_err(|e| format!("cannot move the upload in place: {e}"))?;
            Ok(files)
        }
        Err(e) => {
            let _ = std::fs::remove_dir_all(&staging);
            Err(e)
        }
    }
}

fn write_entry(
    dir: &Path,
    name: &Path,
    reader: &mut dyn Read,
    budget: &mut u64,
) -> Result<(), String> {
    let relative = safe_relative(name).ok_or_else(|| {
        format!(
            "the archive entry {} would leave the upload directory",
            name.display()
        )
    })?;
    let target = dir.join(relative);
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
    }
    let mut file = std::fs::File::create(&target).map_err(|e| e.to_string())?;
    let limit = *budget + 1;
    let copied = std::io::copy(&mut reader.take(limit), &mut file).map_err(|e| e.to_string())?;
    if copied > *budget {
        return Err("the archive unpacks to more than the upload size limit allows".into());
    }
    *budget -= copied;
    Ok(())
}

fn unpack_tar(bytes: &[u8], dir: &Path, max_unpacked: u64) -> Result<u64, String> {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes));
    let mut budget = max_unpacked;
    let mut files = 0;
    let entries = archive
        .entries()
        .map_err(|e| format!("unreadable archive: {e}"))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| format!("unreadable archive: {e}"))?;
        let kind = entry.header().entry_type();
        let name = entry
            .path()
            .map_err(|e| format!("unreadable archive entry name: {e}"))?
            .into_owned();
        if kind.is_dir() {
            safe_relative(&name).ok_or_else(|| {
                format!(
                    "the archive entry {} would leave the upload directory",
                    name.display()
                )
            })?;
            continue;
        }
        if !kind.is_file() {
            continue; // links, devices: never followed, never written
        }
        write_entry(dir, &name, &mut entry, &mut budget)?;
        files += 1;
    }
    Ok(files)
}

fn unpack_zip(bytes: &[u8], dir: &Path, max_unpacked: u64) -> Result<u64, String> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| format!("unreadable archive: {e}"))?;
    let mut budget = max_unpacked;
    let mut files = 0;
    for i in 0..archive.len() {
        let mut entry = archive
            .by_index(i)
            .map_err(|e| format!("unreadable archive: {e}"))?;
        let name = PathBuf::from(entry.name());
        if entry.is_dir() {
            safe_relative(&name).ok_or_else(|| {
                format!(
                    "the archive entry {} would leave the upload directory",
                    name.display()
                )
            })?;
            continue;
        }
        if entry.is_symlink() {
            continue;
        }
        write_entry(dir, &name, &mut entry, &mut budget)?;
        files += 1;
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archive_paths_cannot_leave_the_directory() {
        assert_eq!(
            safe_relative(Path::new("src/lib.rs")),
            Some(PathBuf::from("src/lib.rs"))
        );
        assert_eq!(
            safe_relative(Path::new("./a/b")),
            Some(PathBuf::from("a/b"))
        );
        assert_eq!(safe_relative(Path::new("../etc/passwd")), None);
        assert_eq!(safe_relative(Path::new("a/../../b")), None);
        assert_eq!(safe_relative(Path::new("/etc/passwd")), None);
    }

    #[test]
    fn git_urls_are_checked() {
        assert!(check_git_url("https://github.com/org/repo.git", None).is_ok());
        assert!(check_git_url("git@github.com:org/repo.git", None).is_ok());
        assert!(check_git_url("--upload-pack=evil", None).is_err());
        assert!(check_git_url("file:///etc", None).is_err());
        assert!(check_git_url("ftp://host/repo", None).is_err());
        assert_eq!(default_name("https://github.com/org/repo.git"), "repo");
        assert_eq!(default_name("/srv/code/app/"), "app");
    }
}
