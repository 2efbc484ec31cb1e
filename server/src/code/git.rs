//! Git, run for a tenant: a clone or fetch of one repository with nothing of the server's
//! own around it and nothing of the tenant's beyond it.
//!
//! - No ambient configuration or credentials: the environment is emptied, `HOME` is an
//!   empty directory, system and global config point at nothing, no credential helper,
//!   askpass, ssh agent or terminal prompt.
//! - Only the protocol of the remote that was checked (`https`, `http` where the operator
//!   allows it, `file` under the allowed root), no redirects, and the connection pinned to
//!   the address the egress guard checked (`http.curloptResolve`).
//! - A repository's credential (a token from the workspace's secrets) reaches only this
//!   process, through its environment, never its command line.
//! - Bounded: a time limit and a limit on the bytes written to the checkout.
//! - Git's own output stays in the server's log; callers get a sentence of ours.

pub use crate::config::GitLimits;
use base64::Engine;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::AsyncReadExt;
use tokio::process::Command;
use workers::egress::Destination;

/// Where a repository is fetched from, already checked.
#[derive(Clone, Debug)]
pub enum Remote {
    /// An `https` (or allowed `http`) URL the egress guard accepted.
    Network(Destination),
    /// A repository on this machine, under the operator's allowed root (resolved).
    Local(PathBuf),
}

impl Remote {
    fn url(&self) -> String {
        match self {
            Remote::Network(dest) => dest.url.to_string(),
            Remote::Local(path) => format!("file://{}", path.display()),
        }
    }
}

/// Why a fetch failed, said to the person who registered the repository.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum GitError {
    #[error("could not connect to the repository's host")]
    Unreachable,
    #[error("the repository's host answered with a redirect; Switchyard does not follow redirects, so register the URL it points to")]
    Redirected,
    #[error("the repository was not found, or it is private and needs a credential")]
    NotFound,
    #[error("the host refused the credential, or the repository needs one")]
    Unauthorized,
    #[error("the branch does not exist in the repository")]
    NoSuchBranch,
    #[error(
        "the secure connection to the repository's host failed (its certificate is not trusted)"
    )]
    Tls,
    #[error("the repository is larger than the {limit} bytes a checkout may take")]
    TooLarge { limit: u64 },
    #[error("the repository has more than the {limit} files a checkout may hold")]
    TooManyFiles { limit: u64 },
    #[error("fetching the repository took longer than {}s", .0.as_secs())]
    TimedOut(Duration),
    #[error("git could not fetch the repository")]
    Failed,
    #[error("the server could not run git")]
    Unavailable,
}

impl GitError {
    /// Whether trying again later may help.
    pub fn retryable(&self) -> bool {
        matches!(
            self,
            GitError::Unreachable
                | GitError::TimedOut(_)
                | GitError::Failed
                | GitError::Unavailable
        )
    }

    /// Git's complaint, read into one of ours.
    fn from_stderr(stderr: &str) -> GitError {
        let s = stderr.to_ascii_lowercase();
        let has = |needle: &str| s.contains(needle);
        if has("remote branch") && has("not found") || has("couldn't find remote ref") {
            GitError::NoSuchBranch
        } else if has("returned error: 30") || has("redirect") {
            GitError::Redirected
        } else if has("returned error: 401")
            || has("returned error: 403")
            || has("authentication failed")
            || has("could not read username")
            || has("could not read password")
        {
            GitError::Unauthorized
        } else if has("returned error: 404")
            || has("not found")
            || has("does not appear to be a git repository")
        {
            GitError::NotFound
        } else if has("ssl") || has("certificate") || has("tls") {
            GitError::Tls
        } else if has("could not resolve host")
            || has("connection refused")
            || has("failed to connect")
            || has("couldn't connect")
            || has("connection timed out")
            || has("network is unreachable")
        {
            GitError::Unreachable
        } else {
            GitError::Failed
        }
    }
}

/// Git for one repository's checkout.
pub struct Git<'a> {
    remote: &'a Remote,
    token: Option<&'a str>,
    home: &'a Path,
    limits: GitLimits,
}

impl<'a> Git<'a> {
    /// Git fetching `remote` (with `token` as its credential, when given). `home` is an
    /// empty directory that stands in for the server account's home.
    pub fn new(
        remote: &'a Remote,
        token: Option<&'a str>,
        home: &'a Path,
        limits: GitLimits,
    ) -> Git<'a> {
        Git {
            remote,
            token,
            home,
            limits,
        }
    }

    /// Clones into `dir`, or brings an existing clone to the branch's newest commit, one
    /// commit deep. Answers the commit checked out.
    pub async fn checkout(&self, branch: Option<&str>, dir: &Path) -> Result<String, GitError> {
        let url = self.remote.url();
        let refspec = branch.unwrap_or("HEAD");
        if dir.join(".git").is_dir() {
            // The URL comes from the caller each time, never from the clone's own config.
            self.run(
                &[
                    "fetch",
                    "--depth",
                    "1",
                    "--no-tags",
                    "--quiet",
                    "--",
                    &url,
                    refspec,
                ],
                Some(dir),
                Some(dir),
            )
            .await?;
            self.run(
                &["reset", "--hard", "--quiet", "FETCH_HEAD"],
                Some(dir),
                Some(dir),
            )
            .await?;
        } else {
            if let Some(parent) = dir.parent() {
                tokio::fs::create_dir_all(parent).await.map_err(|e| {
                    tracing::error!(dir = %parent.display(), error = %e, "cannot create the checkout directory");
                    GitError::Unavailable
                })?;
            }
            let _ = tokio::fs::remove_dir_all(dir).await;
            let target = dir.to_str().ok_or(GitError::Unavailable)?;
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
            args.extend(["--", &url, target]);
            let cloned = self.run(&args, None, Some(dir)).await;
            if cloned.is_err() {
                let _ = tokio::fs::remove_dir_all(dir).await;
            }
            cloned?;
        }
        self.run(&["rev-parse", "HEAD"], Some(dir), Some(dir)).await
    }

    /// The configuration git runs with, in place of everything it would otherwise read.
    fn config(&self) -> Vec<(&'static str, String)> {
        let mut config = vec![
            ("protocol.allow", "never".to_owned()),
            ("http.followRedirects", "false".to_owned()),
            ("credential.helper", String::new()),
            ("core.askPass", String::new()),
            ("core.sshCommand", "false".to_owned()),
            ("core.hooksPath", "/dev/null".to_owned()),
            ("core.symlinks", "false".to_owned()),
            ("init.templateDir", String::new()),
            // A stalled transfer (under 1 kB/s for a minute) ends before the time limit.
            ("http.lowSpeedLimit", "1000".to_owned()),
            ("http.lowSpeedTime", "60".to_owned()),
        ];
        match self.remote {
            Remote::Network(dest) => {
                let literal = dest.host.parse::<std::net::IpAddr>().is_ok();
                match dest.pinned() {
                    Some(addr) if !literal => {
                        let ip = match addr.ip() {
                            std::net::IpAddr::V4(ip) => ip.to_string(),
                            std::net::IpAddr::V6(ip) => format!("[{ip}]"),
                        };
                        config.push((
                            "http.curloptResolve",
                            format!("{}:{}:{ip}", dest.host, dest.port),
                        ));
                    }
                    Some(_) => {}
                    // No checked address to pin: git may then use no protocol at all.
                    None if !literal => return config,
                    None => {}
                }
                config.push((protocol_key(dest.url.scheme()), "always".to_owned()));
                if let Some(token) = self.token {
                    let basic = base64::engine::general_purpose::STANDARD
                        .encode(format!("x-access-token:{token}"));
                    config.push(("http.extraHeader", format!("Authorization: Basic {basic}")));
                }
            }
            Remote::Local(_) => config.push(("protocol.file.allow", "always".to_owned())),
        }
        config
    }

    /// Runs git with `args` (in `cwd`), stopping it at the time limit or when `watched`
    /// holds more than the byte limit.
    async fn run(
        &self,
        args: &[&str],
        cwd: Option<&Path>,
        watched: Option<&Path>,
    ) -> Result<String, GitError> {
        let mut command = Command::new("git");
        if let Some(cwd) = cwd {
            command.arg("-C").arg(cwd);
        }
        command.args(args).env_clear();
        if let Some(path) = std::env::var_os("PATH") {
            command.env("PATH", path);
        }
        command
            .env("HOME", self.home)
            .env("XDG_CONFIG_HOME", self.home)
            .env("LANG", "C")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_SYSTEM", "/dev/null")
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("GIT_PROTOCOL_FROM_USER", "0");
        let config = self.config();
        command.env("GIT_CONFIG_COUNT", config.len().to_string());
        for (i, (key, value)) in config.iter().enumerate() {
            command
                .env(format!("GIT_CONFIG_KEY_{i}"), key)
                .env(format!("GIT_CONFIG_VALUE_{i}"), value);
        }
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = command.spawn().map_err(|e| {
            tracing::error!(error = %e, "cannot run git");
            GitError::Unavailable
        })?;
        let stdout = read_bounded(child.stdout.take());
        let stderr = read_bounded(child.stderr.take());
        let deadline = tokio::time::Instant::now() + self.limits.timeout;
        let mut tick = tokio::time::interval(Duration::from_millis(250));
        let status = loop {
            tokio::select! {
                status = child.wait() => break status.map_err(|_| GitError::Unavailable)?,
                _ = tokio::time::sleep_until(deadline) => {
                    let _ = child.kill().await;
                    return Err(GitError::TimedOut(self.limits.timeout));
                }
                _ = tick.tick() => {
                    if let Err(e) = self.limits.check(usage(watched).await) {
                        let _ = child.kill().await;
                        return Err(e);
                    }
                }
            }
        };
        let stdout = stdout.await.unwrap_or_default();
        let stderr = stderr.await.unwrap_or_default();
        if !status.success() {
            tracing::info!(command = args[0], stderr = %stderr.trim(), "git failed");
            return Err(GitError::from_stderr(&stderr));
        }
        // A transfer quicker than one look of the watch above is measured once more.
        self.limits.check(usage(watched).await)?;
        Ok(stdout.trim().to_owned())
    }
}

fn protocol_key(scheme: &str) -> &'static str {
    match scheme {
        "http" => "protocol.http.allow",
        _ => "protocol.https.allow",
    }
}

/// Reads a pipe to its end, keeping the first 16 kB.
fn read_bounded<R>(pipe: Option<R>) -> tokio::task::JoinHandle<String>
where
    R: tokio::io::AsyncRead + Unpin + Send + 'static,
{
    tokio::spawn(async move {
        let Some(mut pipe) = pipe else {
            return String::new();
        };
        let mut kept = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = pipe.read(&mut buf).await {
            if n == 0 {
                break;
            }
            let room = (16 * 1024usize).saturating_sub(kept.len());
            kept.extend_from_slice(&buf[..n.min(room)]);
        }
        String::from_utf8_lossy(&kept).into_owned()
    })
}

async fn usage(dir: Option<&Path>) -> Usage {
    let Some(dir) = dir.map(Path::to_path_buf) else {
        return Usage::default();
    };
    tokio::task::spawn_blocking(move || disk_usage(&dir))
        .await
        .unwrap_or_default()
}

/// What a directory holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Usage {
    /// Bytes of its files.
    bytes: u64,
    /// Its entries (files, links and directories).
    entries: u64,
}

impl GitLimits {
    /// Refuses a checkout holding more than these limits allow.
    fn check(&self, usage: Usage) -> Result<(), GitError> {
        if usage.bytes > self.max_bytes {
            return Err(GitError::TooLarge {
                limit: self.max_bytes,
            });
        }
        if usage.entries > self.max_files {
            return Err(GitError::TooManyFiles {
                limit: self.max_files,
            });
        }
        Ok(())
    }
}

/// Bytes and entries under `dir`, links not followed.
fn disk_usage(dir: &Path) -> Usage {
    let mut total = Usage::default();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            total.entries += 1;
            match entry.metadata() {
                Ok(m) if m.is_dir() => pending.push(entry.path()),
                Ok(m) => total.bytes += m.len(),
                Err(_) => {}
            }
        }
    }
    total
}

/// The commit of a server directory that is a git checkout (`None` for a plain directory).
pub async fn head_commit(dir: &Path, home: &Path) -> Option<String> {
    let remote = Remote::Local(dir.to_path_buf());
    let limits = GitLimits {
        timeout: Duration::from_secs(30),
        max_bytes: u64::MAX,
        max_files: u64::MAX,
    };
    Git::new(&remote, None, home, limits)
        .run(&["rev-parse", "HEAD"], Some(dir), None)
        .await
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_messages_become_sentences_of_ours() {
        let cases = [
            ("fatal: unable to access 'https://h/x.git/': Could not resolve host: h", GitError::Unreachable),
            ("fatal: unable to access 'http://127.0.0.1:1/x/': Failed to connect to 127.0.0.1 port 1: Connection refused", GitError::Unreachable),
            ("fatal: unable to access 'http://h/x/': The requested URL returned error: 302", GitError::Redirected),
            ("fatal: repository 'https://h/x/' not found", GitError::NotFound),
            ("fatal: could not read Username for 'https://h': terminal prompts disabled", GitError::Unauthorized),
            ("fatal: Authentication failed for 'https://h/x/'", GitError::Unauthorized),
            ("warning: Could not find remote branch nope to clone.\nfatal: Remote branch nope not found in upstream origin", GitError::NoSuchBranch),
            ("fatal: unable to access 'https://h/': SSL certificate problem: self-signed certificate", GitError::Tls),
            ("fatal: the remote end hung up unexpectedly", GitError::Failed),
        ];
        for (stderr, expected) in cases {
            assert_eq!(GitError::from_stderr(stderr), expected, "{stderr}");
        }
    }

    #[test]
    fn a_token_travels_as_a_header_and_the_connection_is_pinned() {
        let dest = Destination {
            url: url::Url::parse("https://git.example.com/org/repo.git").unwrap(),
            host: "git.example.com".into(),
            port: 443,
            addrs: vec!["203.0.113.7:443".parse().unwrap()],
        };
        let remote = Remote::Network(dest);
        let limits = GitLimits {
            timeout: Duration::from_secs(1),
            max_bytes: 1,
            max_files: u64::MAX,
        };
        let git = Git::new(&remote, Some("s3cret"), Path::new("/nonexistent"), limits);
        let config = git.config();
        let get = |key: &str| {
            config
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| v.clone())
        };
        assert_eq!(get("protocol.allow").as_deref(), Some("never"));
        assert_eq!(get("protocol.https.allow").as_deref(), Some("always"));
        assert_eq!(get("protocol.file.allow"), None);
        assert_eq!(get("http.followRedirects").as_deref(), Some("false"));
        assert_eq!(
            get("http.curloptResolve").as_deref(),
            Some("git.example.com:443:203.0.113.7")
        );
        // base64("x-access-token:s3cret")
        assert_eq!(
            get("http.extraHeader").as_deref(),
            Some("Authorization: Basic eC1hY2Nlc3MtdG9rZW46czNjcmV0")
        );
        assert!(!remote.url().contains("s3cret"));
    }

    #[test]
    fn a_name_without_a_checked_address_gets_no_protocol() {
        let dest = Destination {
            url: url::Url::parse("https://git.example.com/org/repo.git").unwrap(),
            host: "git.example.com".into(),
            port: 443,
            addrs: Vec::new(),
        };
        let remote = Remote::Network(dest);
        let limits = GitLimits {
            timeout: Duration::from_secs(1),
            max_bytes: 1,
            max_files: u64::MAX,
        };
        let config = Git::new(&remote, None, Path::new("/nonexistent"), limits).config();
        assert!(config
            .iter()
            .any(|(k, v)| *k == "protocol.allow" && v == "never"));
        assert!(!config.iter().any(|(k, _)| k.starts_with("protocol.http")));
        assert!(!config.iter().any(|(k, _)| *k == "http.curloptResolve"));
    }

    #[tokio::test]
    async fn git_reads_no_configuration_but_ours() {
        let dir = std::env::temp_dir().join(format!("sy-gitcfg-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let remote = Remote::Local(dir.clone());
        let limits = GitLimits {
            timeout: Duration::from_secs(30),
            max_bytes: u64::MAX,
            max_files: u64::MAX,
        };
        let listed = Git::new(&remote, None, &dir, limits)
            .run(&["config", "--list", "--show-origin"], Some(&dir), None)
            .await
            .unwrap();
        assert!(listed.contains("protocol.allow=never"), "{listed}");
        assert!(listed.contains("protocol.file.allow=always"), "{listed}");
        for line in listed.lines() {
            assert!(
                line.starts_with("command line:"),
                "read from a file: {line}"
            );
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
