//! Getting a repository's code onto the indexer: validating what a caller registers,
//! cloning and updating git checkouts, and unpacking uploads.

use crate::paths::ServerPaths;
use std::io::Read;
use std::path::{Component, Path, PathBuf};
use workers::egress::EgressPolicy;

/// Checks a git URL a caller registers: an `https` URL (or `http` where the operator allows
/// it) that the egress guard accepts, or a `file://` URL under the operator's allowed root.
/// Answers the URL to store.
pub fn check_git_url(
    url: &str,
    server_paths: &ServerPaths,
    egress: &EgressPolicy,
) -> Result<String, String> {
    let url = url.trim();
    if url.is_empty() {
        return Err("url must not be empty".into());
    }
    if url.starts_with('-') || url.chars().any(char::is_control) {
        return Err("url is not a git URL".into());
    }
    if url.starts_with("file:") {
        let resolved = server_paths.check(&file_url_path(url)?)?;
        return Ok(format!("file://{}", resolved.display()));
    }
    if is_scp_like(url) || url.starts_with("ssh://") || url.starts_with("git://") {
        return Err("url must be an https:// URL: ssh, scp-style and git:// URLs are not fetched (they would use the server's own keys, or no encryption)".into());
    }
    egress
        .check_url(url)
        .map(|(checked, ..)| checked.to_string())
        .map_err(|e| format!("url {e}"))
}

/// The path of a `file://` URL, percent-decoded.
pub fn file_url_path(url: &str) -> Result<PathBuf, String> {
    url::Url::parse(url)
        .ok()
        .filter(|u| u.scheme() == "file")
        .and_then(|u| u.to_file_path().ok())
        .ok_or_else(|| "url is not a valid file:// URL".to_owned())
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

/// What an archive may unpack to.
#[derive(Clone, Copy, Debug)]
pub struct UnpackLimits {
    /// Bytes of files written, in all.
    pub bytes: u64,
    /// Entries met, in all: files, directories, links and anything else (skipped ones
    /// count, so an archive of a million links cannot keep the server busy).
    pub entries: u64,
}

/// Unpacks an uploaded archive into `dir` (replacing what was there). Entries that would
/// leave `dir` are refused (the whole upload fails), links are skipped, and the unpacked
/// size and entry count are capped by `limits`. Answers the files written.
pub fn unpack(bytes: &[u8], dir: &Path, limits: UnpackLimits) -> Result<u64, String> {
    let kind = archive_kind(bytes).ok_or("the upload is neither a .tar.gz nor a .zip archive")?;
    let staging = dir.with_extension("unpacking");
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging)
        .map_err(|e| format!("cannot create the upload directory: {e}"))?;
    let written = match kind {
        ArchiveKind::TarGz => unpack_tar(bytes, &staging, limits),
        ArchiveKind::Zip => unpack_zip(bytes, &staging, limits),
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

/// Counts one more entry against `limits`.
fn count_entry(seen: &mut u64, limits: UnpackLimits) -> Result<(), String> {
    *seen += 1;
    if *seen > limits.entries {
        return Err(format!(
            "the archive has more than the {} entries an upload may hold",
            limits.entries
        ));
    }
    Ok(())
}

fn unpack_tar(bytes: &[u8], dir: &Path, limits: UnpackLimits) -> Result<u64, String> {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes));
    let mut budget = limits.bytes;
    let (mut files, mut seen) = (0, 0);
    let entries = archive
        .entries()
        .map_err(|e| format!("unreadable archive: {e}"))?;
    for entry in entries {
        count_entry(&mut seen, limits)?;
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

fn unpack_zip(bytes: &[u8], dir: &Path, limits: UnpackLimits) -> Result<u64, String> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| format!("unreadable archive: {e}"))?;
    let mut budget = limits.bytes;
    let (mut files, mut seen) = (0, 0);
    for i in 0..archive.len() {
        count_entry(&mut seen, limits)?;
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
    fn only_https_git_urls_without_credentials_are_accepted() {
        let egress = EgressPolicy::public_https();
        let check = |url: &str| check_git_url(url, &ServerPaths::disabled(), &egress);
        assert_eq!(
            check(" https://github.com/org/repo.git ").as_deref(),
            Ok("https://github.com/org/repo.git")
        );
        for url in [
            "git@github.com:org/repo.git",
            "ssh://git@github.com/org/private.git",
            "git://10.0.0.1:22/x",
        ] {
            let message = check(url).unwrap_err();
            assert!(
                message.starts_with("url must be an https:// URL"),
                "{url}: {message}"
            );
        }
        assert_eq!(
            check("http://github.com/org/repo.git").unwrap_err(),
            "url must be an https:// URL"
        );
        assert_eq!(
            check("https://user:token@github.com/org/repo.git").unwrap_err(),
            "url must not carry a user name or password; store the credential as a workspace secret and name it in `credential`"
        );
        for url in [
            "http://169.254.169.254/latest/meta-data",
            "https://169.254.169.254/latest/meta-data",
            "https://127.0.0.1:3000/x.git",
            "https://[::1]/x.git",
        ] {
            let message = check(url).unwrap_err();
            assert!(
                message.contains("Switchyard connects only to public addresses")
                    || message == "url must be an https:// URL",
                "{url}: {message}"
            );
        }
        assert!(check("--upload-pack=evil").is_err());
        assert!(check("ftp://host/repo").is_err());
        assert_eq!(
            check("file:///etc").unwrap_err(),
            "server paths are disabled: the operator has not set CODE_ALLOWED_ROOT"
        );
        assert_eq!(default_name("https://github.com/org/repo.git"), "repo");
        assert_eq!(default_name("/srv/code/app/"), "app");
    }

    #[test]
    fn file_urls_are_decoded_resolved_and_kept_under_the_root() {
        let base = std::env::temp_dir().join(format!("sy-src-{}", uuid::Uuid::new_v4().simple()));
        let root = base.join("root");
        std::fs::create_dir_all(root.join("my repo")).unwrap();
        std::fs::create_dir_all(base.join("outside")).unwrap();
        std::os::unix::fs::symlink(base.join("outside"), root.join("link")).unwrap();
        let egress = EgressPolicy::public_https();
        let paths = ServerPaths::new(Some(&root), &[]).unwrap();
        let check = |url: &str| check_git_url(url, &paths, &egress);
        let inside = root.canonicalize().unwrap().join("my repo");
        assert_eq!(
            check(&format!("file://{}/my%20repo", root.display())),
            Ok(format!("file://{}", inside.display()))
        );
        // A link out of the root, `..`, and a path that does not exist get one answer.
        let link = check(&format!("file://{}/link", root.display())).unwrap_err();
        let dotdot = check(&format!("file://{}/../outside", root.display())).unwrap_err();
        let missing = check(&format!("file://{}/nope", root.display())).unwrap_err();
        for message in [&link, &dotdot, &missing] {
            assert!(
                message.ends_with("is not a directory under the allowed root (CODE_ALLOWED_ROOT)"),
                "{message}"
            );
        }
        std::fs::remove_dir_all(&base).unwrap();
    }

    /// A .tar.gz with `n` small files.
    fn tarball(n: usize) -> Vec<u8> {
        let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
            Vec::new(),
            flate2::Compression::fast(),
        ));
        for i in 0..n {
            let body = format!("x = {i}\n");
            let mut header = tar::Header::new_gnu();
            header.set_size(body.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            builder
                .append_data(&mut header, format!("src/m{i}.py"), body.as_bytes())
                .unwrap();
        }
        builder.into_inner().unwrap().finish().unwrap()
    }

    #[test]
    fn an_archive_is_capped_in_entries_as_well_as_bytes() {
        let dir = std::env::temp_dir().join(format!("sy-unpack-{}", uuid::Uuid::new_v4().simple()));
        let roomy = UnpackLimits {
            bytes: 1 << 20,
            entries: 10,
        };
        assert_eq!(unpack(&tarball(10), &dir, roomy), Ok(10));
        let err = unpack(&tarball(11), &dir, roomy).unwrap_err();
        assert!(err.contains("more than the 10 entries"), "{err}");
        let tight = UnpackLimits {
            bytes: 20,
            entries: 100,
        };
        let err = unpack(&tarball(11), &dir, tight).unwrap_err();
        assert!(err.contains("more than the upload size limit"), "{err}");
        // A refused archive leaves what was there before.
        assert_eq!(std::fs::read_dir(dir.join("src")).unwrap().count(), 10);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
