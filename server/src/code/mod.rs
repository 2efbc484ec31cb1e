//! Code intelligence in the control plane and its workers: where indexes live, the embedding
//! model, the `code.index` job kind (`indexer.rs`), the operations the REST API, the console
//! and MCP call (`ops.rs`), their routes (`http.rs`, `mcp.rs`), the repository records
//! (`store.rs`) and how index runs update them (`observer.rs`).
//!
//! A workspace's index is a directory `CODE_DIR/workspaces/{workspace id}/` holding LanceDB
//! tables and a Tantivy index (see `codeintel`). Indexer workers write it; the control plane
//! reads it to answer searches and graph queries. Scaled out, `CODE_DIR` is a volume shared
//! by the control plane and the `indexer` pool.

mod console;
pub mod http;
pub mod indexer;
pub mod mcp;
mod observer;
mod ops;
pub mod source;
pub mod store;
mod views;

pub use observer::RepositoryObserver;
pub use ops::{CodeOps, MAX_DEPTH};
pub use shared::code::MAX_SEARCH_LIMIT;
pub use views::symbol_view;

use crate::config::CodeConfig;
use codeintel::embed::{EmbedError, Embedder};
use codeintel::store::CodeIndex;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

/// The job kind that indexes a repository.
pub const INDEX_KIND: &str = "code.index";

/// The job kinds of a process with code intelligence: the built-in ones and the indexer.
pub fn kinds(engine: Arc<CodeEngine>) -> workers::kinds::Kinds {
    workers::kinds::Kinds::builtin().with(indexer::IndexKind::new(engine))
}

/// Per-process handles: the embedding model (loaded once, on first use) and the opened
/// indexes of workspaces.
pub struct CodeEngine {
    config: CodeConfig,
    embedder: tokio::sync::OnceCell<Result<Embedder, String>>,
    indexes: tokio::sync::Mutex<HashMap<String, CodeIndex>>,
}

impl CodeEngine {
    pub fn new(config: CodeConfig) -> Arc<CodeEngine> {
        Arc::new(CodeEngine {
            config,
            embedder: tokio::sync::OnceCell::new(),
            indexes: tokio::sync::Mutex::new(HashMap::new()),
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

    /// A workspace's index, opened once per process.
    pub async fn index(&self, tenant: &str) -> Result<CodeIndex, String> {
        let mut indexes = self.indexes.lock().await;
        if let Some(index) = indexes.get(tenant) {
            return Ok(index.clone());
        }
        let index = CodeIndex::open(&self.config.workspace_dir(tenant), self.config.dims())
            .await
            .map_err(|e| e.to_string())?;
        indexes.insert(tenant.to_owned(), index.clone());
        Ok(index)
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
}
