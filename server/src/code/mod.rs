//! Code intelligence in the control plane and its workers: where indexes live, the embedding
//! model, the `code.index` job kind (`indexer.rs`), how code gets there (`source.rs` checks
//! what a caller registers, `git.rs` fetches it behind the egress guard), the operations the REST API, the console
//! and MCP call (`ops.rs`), their routes (`http.rs`, `mcp.rs`), the repository records
//! (`store.rs`) and how index runs update them (`observer.rs`).
//!
//! A workspace's index is a directory `CODE_DIR/workspaces/{workspace id}/` holding LanceDB
//! tables and a Tantivy index (see `codeintel`). Indexer workers write it; the control plane
//! reads it to answer searches and graph queries. Scaled out, `CODE_DIR` is a volume shared
//! by the control plane and the `indexer` pool.

mod console;
pub mod git;
pub mod http;
pub mod indexer;
pub mod mcp;
mod observer;
mod ops;
pub mod source;
pub mod store;
mod views;

pub use observer::{RepositoryObserver, WorkspaceFiles};
pub use ops::{CodeOps, MAX_DEPTH};
pub use shared::code::MAX_SEARCH_LIMIT;
pub use views::symbol_view;

use crate::config::CodeConfig;
use crate::secrets::cipher::{Keyring, Sealed};
use codeintel::embed::{EmbedError, Embedder};
use codeintel::store::CodeIndex;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The job kind that indexes a repository.
pub const INDEX_KIND: &str = "code.index";

/// The job kinds of a process with code intelligence: the built-in ones and the indexer.
pub fn kinds(engine: Arc<CodeEngine>) -> workers::kinds::Kinds {
    workers::kinds::Kinds::builtin().with(indexer::IndexKind::new(engine))
}

/// The most workspace indexes a process keeps open; past it, the least recently used is
/// closed (opened again on its next use).
pub const OPEN_INDEXES: usize = 32;

/// The most query embeddings remembered (about 1.5 KiB each), per workspace and query text.
pub const QUERY_VECTORS: usize = 1_024;

/// Queries longer than this are embedded every time, not remembered (the cache's memory
/// stays bounded whatever a pipeline renders into a query).
const REMEMBERED_QUERY_BYTES: usize = 1_024;

/// Per-process handles: the embedding model (loaded once, on first use), the opened indexes
/// of workspaces, and the embeddings of recent queries.
pub struct CodeEngine {
    config: CodeConfig,
    embedder: tokio::sync::OnceCell<Result<Embedder, String>>,
    indexes: tokio::sync::Mutex<Recent<String, CodeIndex>>,
    query_vectors: std::sync::Mutex<Recent<(String, String), Vec<f32>>>,
    git_home: PathBuf,
    keyring: Arc<Keyring>,
}

/// A map of at most `bound` entries that forgets the least recently used.
struct Recent<K, V> {
    entries: HashMap<K, (V, u64)>,
    clock: u64,
    bound: usize,
}

impl<K: std::hash::Hash + Eq + Clone, V: Clone> Recent<K, V> {
    fn new(bound: usize) -> Recent<K, V> {
        Recent {
            entries: HashMap::new(),
            clock: 0,
            bound,
        }
    }

    fn get(&mut self, key: &K) -> Option<V> {
        self.clock += 1;
        let clock = self.clock;
        self.entries.get_mut(key).map(|(value, used)| {
            *used = clock;
            value.clone()
        })
    }

    fn insert(&mut self, key: K, value: V) {
        self.clock += 1;
        if self.entries.len() >= self.bound && !self.entries.contains_key(&key) {
            let oldest = self
                .entries
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(k, _)| k.clone());
            if let Some(oldest) = oldest {
                self.entries.remove(&oldest);
            }
        }
        self.entries.insert(key, (value, self.clock));
    }

    fn remove(&mut self, key: &K) {
        self.entries.remove(key);
    }

    fn retain(&mut self, keep: impl Fn(&K) -> bool) {
        self.entries.retain(|k, _| keep(k));
    }
}

impl CodeEngine {
    /// The engine for `config`; `keyring` opens the repositories' credentials.
    pub fn new(config: CodeConfig, keyring: Arc<Keyring>) -> Arc<CodeEngine> {
        let git_home = config.dir.join("git-home");
        Arc::new(CodeEngine {
            git_home,
            keyring,
            config,
            embedder: tokio::sync::OnceCell::new(),
            indexes: tokio::sync::Mutex::new(Recent::new(OPEN_INDEXES)),
            query_vectors: std::sync::Mutex::new(Recent::new(QUERY_VECTORS)),
        })
    }

    pub fn config(&self) -> &CodeConfig {
        &self.config
    }

    /// The embedding model, loading it on first use; the error says what to configure.
    pub async fn embedder(&self) -> Result<Embedder, String> {
        self.embedder
            .get_or_init(|| async {
                let Some(config) = self.config.embedding.clone() else {
                    return Err(EmbedError::NotConfigured.to_string());
                };
                tokio::task::spawn_blocking(move || Embedder::load(&config))
                    .await
                    .map_err(|e| e.to_string())
                    .and_then(|r| r.map_err(|e| e.to_string()))
            })
            .await
            .clone()
    }

    /// A workspace's index, opened once and kept (at most [`OPEN_INDEXES`] at a time).
    pub async fn index(&self, tenant: &str) -> Result<CodeIndex, String> {
        let mut indexes = self.indexes.lock().await;
        if let Some(index) = indexes.get(&tenant.to_owned()) {
            return Ok(index);
        }
        let index = CodeIndex::open(&self.config.workspace_dir(tenant), self.config.dims())
            .await
            .map_err(|e| e.to_string())?;
        indexes.insert(tenant.to_owned(), index.clone());
        Ok(index)
    }

    /// Closes a workspace's index, so its next use opens what is on disk now (an index run
    /// ended; kept handles of other processes see its rows within a second, see
    /// `CodeIndex::open`).
    pub async fn forget(&self, tenant: &str) {
        self.indexes.lock().await.remove(&tenant.to_owned());
    }

    /// [`CodeEngine::forget`], and the workspace's remembered query embeddings too (it was
    /// deleted).
    pub async fn forget_workspace(&self, tenant: &str) {
        self.forget(tenant).await;
        self.query_vectors
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|(t, _)| t != tenant);
    }

    /// The embedding of `query` searched in the workspace `tenant`: remembered (per
    /// workspace, so one workspace's searches cannot be timed from another) for the next
    /// time the same query is asked.
    pub async fn query_vector(
        &self,
        embedder: &Embedder,
        tenant: &str,
        query: &str,
    ) -> Result<Vec<f32>, EmbedError> {
        let key = (tenant.to_owned(), query.to_owned());
        let remember = query.len() <= REMEMBERED_QUERY_BYTES;
        let remembered = remember
            .then(|| {
                self.query_vectors
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .get(&key)
            })
            .flatten();
        if let Some(vector) = remembered {
            return Ok(vector);
        }
        let vector = embedder
            .embed(vec![query.to_owned()])
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| EmbedError::Failed("the model gave no embedding".into()))?;
        if remember {
            self.query_vectors
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(key, vector.clone());
        }
        Ok(vector)
    }

    /// Removes a repository's clone or upload (the index rows are deleted separately).
    pub async fn remove_files_of(&self, repo_id: &str) {
        for dir in [self.checkout_dir(repo_id), self.upload_dir(repo_id)] {
            if let Err(e) = tokio::fs::remove_dir_all(&dir).await {
                if e.kind() != std::io::ErrorKind::NotFound {
                    tracing::warn!(dir = %dir.display(), error = %e, "cannot remove repository files");
                }
            }
        }
    }

    /// Where a registered git URL is fetched from, checked again now: the egress guard
    /// resolves the host (the answer may differ from registration time), and a `file://`
    /// URL must still lie under the allowed root.
    pub async fn remote(&self, location: &str) -> Result<git::Remote, String> {
        if let Err(e) = tokio::fs::create_dir_all(&self.git_home).await {
            tracing::warn!(dir = %self.git_home.display(), error = %e, "cannot create git's empty home");
        }
        if location.starts_with("file:") {
            let path = source::file_url_path(location)?;
            let resolved = self.config.server_paths.check(&path)?;
            return Ok(git::Remote::Local(resolved));
        }
        self.config
            .egress
            .resolve(location)
            .await
            .map(git::Remote::Network)
            .map_err(|e| format!("the repository URL {e}"))
    }

    /// Git for fetching `remote`, with the repository's credential when it has one.
    pub fn git<'a>(&'a self, remote: &'a git::Remote, token: Option<&'a str>) -> git::Git<'a> {
        git::Git::new(remote, token, &self.git_home, self.config.git_limits)
    }

    /// Opens the sealed workspace secret `name` of the workspace `tenant` (an id as text).
    pub fn open_secret(&self, tenant: &str, name: &str, sealed: &Sealed) -> Result<String, String> {
        let tenant = tenant
            .parse()
            .map_err(|_| "the job names no valid workspace".to_owned())?;
        self.keyring
            .open(tenant, name, sealed)
            .map_err(|e| format!("the credential {name} cannot be read: {e}"))
    }

    /// The empty directory git runs with as its home.
    pub fn git_home(&self) -> &Path {
        &self.git_home
    }

    pub fn checkout_dir(&self, repo_id: &str) -> PathBuf {
        self.config.dir.join("checkouts").join(repo_id)
    }

    pub fn upload_dir(&self, repo_id: &str) -> PathBuf {
        self.config.dir.join("uploads").join(repo_id)
    }
}

#[cfg(test)]
mod tests {
    use codeintel::{Language, SymbolKind};

    /// The console and the API validate queries against `shared`'s lists; the index parses
    /// the same names.
    #[test]
    fn query_names_are_the_index_names() {
        let languages: Vec<&str> = Language::ALL.iter().map(|l| l.as_str()).collect();
        assert_eq!(languages, shared::code::LANGUAGES);
        let kinds: Vec<&str> = SymbolKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(kinds, shared::code::SYMBOL_KINDS);
    }

    #[test]
    fn recent_keeps_its_bound_and_forgets_the_least_recently_used() {
        let mut recent: super::Recent<&str, u32> = super::Recent::new(2);
        recent.insert("a", 1);
        recent.insert("b", 2);
        assert_eq!(recent.get(&"a"), Some(1), "a is now more recent than b");
        recent.insert("c", 3);
        assert_eq!(recent.get(&"b"), None, "b was the least recently used");
        assert_eq!((recent.get(&"a"), recent.get(&"c")), (Some(1), Some(3)));
        // Replacing a kept key evicts nothing.
        recent.insert("a", 10);
        assert_eq!((recent.get(&"a"), recent.get(&"c")), (Some(10), Some(3)));
        recent.remove(&"a");
        recent.retain(|k| *k != "c");
        assert!(recent.entries.is_empty());
    }
}
