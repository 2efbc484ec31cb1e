//! The path rules for server directories a tenant registers (and `file://` git URLs): a
//! directory under the operator's allowed root (`CODE_ALLOWED_ROOT`), after resolving links,
//! and never inside the server's own directories (`DATA_DIR`, `CODE_DIR`, which hold every
//! tenant's uploads, clones and indexes). A path that does not exist, one outside the root and
//! one inside a private directory get the same answer, so nobody can probe what exists.

use std::path::{Path, PathBuf};

/// Where server directories may be registered.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServerPaths {
    /// The allowed root, resolved; `None` refuses every server path.
    root: Option<PathBuf>,
    /// The server's own directories, resolved (or made absolute when they do not exist yet).
    private: Vec<PathBuf>,
}

impl ServerPaths {
    /// No server paths at all.
    pub fn disabled() -> ServerPaths {
        ServerPaths::default()
    }

    /// Paths under `root`, never inside `private`. Refuses a root that does not exist, or
    /// that contains, equals or lies inside one of the private directories.
    pub fn new(root: Option<&Path>, private: &[&Path]) -> Result<ServerPaths, String> {
        let private: Vec<PathBuf> = private.iter().map(|p| resolve_or_absolute(p)).collect();
        let Some(root) = root else {
            return Ok(ServerPaths {
                root: None,
                private,
            });
        };
        let root = root
            .canonicalize()
            .map_err(|_| format!("CODE_ALLOWED_ROOT {} does not exist", root.display()))?;
        if let Some(p) = private
            .iter()
            .find(|p| p.starts_with(&root) || root.starts_with(p))
        {
            return Err(format!(
                "CODE_ALLOWED_ROOT {} must not contain or lie inside the server's own directory {} (DATA_DIR or CODE_DIR): every workspace's files are there",
                root.display(),
                p.display()
            ));
        }
        Ok(ServerPaths {
            root: Some(root),
            private,
        })
    }

    /// `path` resolved, if it is a directory tenants may register.
    pub fn check(&self, path: &Path) -> Result<PathBuf, String> {
        let Some(root) = &self.root else {
            return Err(
                "server paths are disabled: the operator has not set CODE_ALLOWED_ROOT".into(),
            );
        };
        let refused = || {
            format!(
                "{} is not a directory under the allowed root (CODE_ALLOWED_ROOT)",
                path.display()
            )
        };
        let resolved = path.canonicalize().map_err(|_| refused())?;
        let allowed = resolved.starts_with(root)
            && !self.private.iter().any(|p| resolved.starts_with(p))
            && resolved.is_dir();
        if allowed {
            Ok(resolved)
        } else {
            Err(refused())
        }
    }
}

fn resolve_or_absolute(path: &Path) -> PathBuf {
    path.canonicalize()
        .or_else(|_| std::path::absolute(path))
        .unwrap_or_else(|_| path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(what: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("sy-paths-{what}-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        dir.canonicalize().unwrap()
    }

    #[test]
    fn a_root_holding_the_servers_own_files_is_refused_at_start() {
        let base = temp("base");
        let data = base.join("data");
        std::fs::create_dir_all(&data).unwrap();
        for root in [&base, &data, &data.join("code")] {
            std::fs::create_dir_all(root).unwrap();
            let e = ServerPaths::new(Some(root), &[&data]).unwrap_err();
            assert!(e.contains("must not contain or lie inside"), "{e}");
        }
        // A data directory that does not exist yet is compared by its absolute path.
        let later = base.join("not-yet");
        assert!(ServerPaths::new(Some(&base), &[&later]).is_err());
        assert!(ServerPaths::new(Some(&base.join("missing")), &[]).is_err());
        std::fs::remove_dir_all(&base).unwrap();
    }

    #[test]
    fn paths_resolve_under_the_root_and_outside_private_directories() {
        let root = temp("root");
        let elsewhere = temp("elsewhere");
        std::fs::create_dir_all(root.join("app/src")).unwrap();
        std::fs::write(root.join("file.txt"), "x").unwrap();
        std::os::unix::fs::symlink(&elsewhere, root.join("escape")).unwrap();
        let paths = ServerPaths::new(Some(&root), &[&elsewhere]).unwrap();
        assert_eq!(paths.check(&root.join("app")), Ok(root.join("app")));
        assert_eq!(
            paths.check(&root.join("app/../app/src")),
            Ok(root.join("app/src"))
        );
        let same = paths.check(&root.join("nope")).unwrap_err();
        for refused in [
            root.join("escape"),
            root.join("file.txt"),
            root.join("../"),
            PathBuf::from("/etc"),
        ] {
            let e = paths.check(&refused).unwrap_err();
            assert_eq!(
                e.replace(&refused.display().to_string(), "P"),
                same.replace(&root.join("nope").display().to_string(), "P"),
                "{}",
                refused.display()
            );
        }
        assert!(ServerPaths::disabled().check(&root).is_err());
        std::fs::remove_dir_all(&root).unwrap();
        std::fs::remove_dir_all(&elsewhere).unwrap();
    }
}
