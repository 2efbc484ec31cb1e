//! Code intelligence in the control plane and its workers: where indexes live, the embedding
//! model, the `code.index` job, and the operations the REST API, the console and MCP call.
//!
//! A workspace's index is a directory `CODE_DIR/workspaces/{workspace id}/` holding LanceDB
//! tables and a Tantivy index (see `codeintel`). Indexer workers write it; the control plane
//! reads it to answer searches and graph queries. Scaled out, `CODE_DIR` is a volume shared
//! by the control plane and the `indexer` pool.

pub mod indexer;
pub mod ops;
pub mod source;

use codeintel::embed::{EmbedError, Embedder, EmbeddingConfig};
use codeintel::store::CodeIndex;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The job kind that indexes a repository.
pub const INDEX_KIND: &str = "code.index";
/// The worker pool index runs go to.
pub const INDEXER_POOL: &str = "indexer";

/// The job handlers a worker process registers: the indexer.
pub fn handlers(engine: Arc<CodeEngine>) -> workers::runtime::Handlers {
    workers::runtime::Handlers::new(vec![indexer::IndexHandler::new(engine)])
}

/// Code intelligence settings, read from the environment by the server and by
/// `switchyard worker` alike.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodeConfig {
    /// Where indexes, clones and uploads live (`CODE_DIR`, default `DATA_DIR/code`).
    pub dir: PathBuf,
    /// Server directories (and `file://` git URLs) must lie under this; `None` refuses them.
    pub allowed_root: Option<PathBuf>,
    /// Files larger than this are skipped (`CODE_MAX_FILE_BYTES`, default 1 MB).
    pub max_file_bytes: u64,
    /// Largest accepted upload (`CODE_UPLOAD_MAX_BYTES`, default 50 MB).
    pub upload_max_bytes: u64,
    /// The embedding model; `None` makes index runs fail with a message saying so.
    pub embedding: Option<EmbeddingConfig>,
}

impl CodeConfig {
    /// From `CODE_*` and `EMBEDDING_*` variables.
    pub fn from_env(data_dir: &Path) -> Result<CodeConfig, String> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let number = |name: &str, default: u64| -> Result<u64, String> {
            match var(name) {
                None => Ok(default),
                Some(raw) => raw
                    .trim()
                    .parse()
                    .map_err(|_| format!("{name}: {raw:?} is not a number")),
            }
        };
        let embedding = match (var("EMBEDDING_URL"), var("EMBEDDING_MODEL_DIR")) {
            (Some(url), _) => Some(EmbeddingConfig::Remote {
                url,
                model: var("EMBEDDING_MODEL").unwrap_or_else(|| "text-embedding-3-small".into()),
                api_key: var("EMBEDDING_API_KEY"),
                dims: number("EMBEDDING_DIMS", 1536)? as usize,
            }),
            (None, Some(dir)) => Some(EmbeddingConfig::Local(PathBuf::from(dir))),
            (None, None) => None,
        };
        Ok(CodeConfig {
            dir: var("CODE_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| data_dir.join("code")),
            allowed_root: var("CODE_ALLOWED_ROOT").map(PathBuf::from),
            max_file_bytes: number(
                "CODE_MAX_FILE_BYTES",
                codeintel::index::DEFAULT_MAX_FILE_BYTES,
            )?,
            upload_max_bytes: number("CODE_UPLOAD_MAX_BYTES", 50 * 1024 * 1024)?,
            embedding,
        })
    }

    /// The vector size of the configured model (384 for all-MiniLM-L6-v2, read from its
    /// config.json), so an index can be opened for reading without loading the model.
    pub fn dims(&self) -> usize {
        match &self.embedding {
            Some(EmbeddingConfig::Remote { dims, .. }) => *dims,
            Some(EmbeddingConfig::Local(dir)) => std::fs::read_to_string(dir.join("config.json"))
                .ok()
                .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
                .and_then(|v| v.get("hidden_size").and_then(|h| h.as_u64()))
                .map(|h| h as usize)
                .unwrap_or(384),
            None => 384,
        }
    }

    fn workspace_dir(&self, tenant: &str) -> PathBuf {
        self.dir.join("workspaces").join(tenant)
    }
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
