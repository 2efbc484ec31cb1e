//! A workspace's code index on disk: LanceDB tables (`chunks` with their vectors, `symbols`,
//! `edges`, `files`) and the Tantivy keyword index, under one directory per workspace.
//!
//! - `schema` — the tables' Arrow layout: creating them, rows into batches and back.
//! - `write` — index runs: replacing the files a run touched, forgetting a repository, and
//!   the stored parses the next run starts from.
//! - `graph` — graph queries: definitions, outlines, callers / callees, references, code.
//! - `search` — keyword, vector and hybrid search over the chunks, and the vector index.
//! - `flat` — the chunks of an index up to `ANN_THRESHOLD` held in memory: vectors scanned
//!   there, hits shown from there.

mod flat;
mod graph;
mod schema;
mod search;
mod write;

pub use flat::{flat_bytes_held, FLAT_BUDGET_BYTES};
pub use graph::Reached;
pub use search::ANN_THRESHOLD;

use crate::bm25::{Bm25, Bm25Error};
use crate::model::ParsedFile;
use arrow_schema::DataType;
use lancedb::Table;
use schema::{chunk_schema, edge_schema, file_schema, open_or_create, symbol_schema};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::Arc;

/// Why the index could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// LanceDB failed (I/O, a query, a table operation).
    #[error("vector store: {0}")]
    Lance(#[from] lancedb::Error),
    /// The Tantivy keyword index failed.
    #[error(transparent)]
    Keyword(#[from] Bm25Error),
    /// What is on disk (or was handed in) does not fit the index's layout.
    #[error("index data: {0}")]
    Data(String),
    /// The embedding model failed.
    #[error(transparent)]
    Embed(#[from] crate::embed::EmbedError),
}

type Result<T> = std::result::Result<T, StoreError>;

/// One file's parse as stored, with the content hash it was made from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredFile {
    /// The BLAKE3 hash of the file's content when it was parsed.
    pub hash: String,
    /// What parsing it yielded, kept so that the next run re-parses only changed files.
    pub parsed: ParsedFile,
}

/// A workspace's index. Cheap to clone.
#[derive(Clone)]
pub struct CodeIndex {
    inner: Arc<Inner>,
}

struct Inner {
    dims: usize,
    chunks: Table,
    symbols: Table,
    edges: Table,
    files: Table,
    bm25: Bm25,
    /// The chunks in memory, for the table version they were read at.
    flat: tokio::sync::Mutex<flat::Kept>,
}

impl CodeIndex {
    /// Opens (creating when absent) the index in `dir` for vectors of `dims` dimensions.
    pub async fn open(dir: &Path, dims: usize) -> Result<CodeIndex> {
        std::fs::create_dir_all(dir).map_err(|e| StoreError::Data(e.to_string()))?;
        let lance_dir = dir.join("lance");
        let uri = lance_dir
            .to_str()
            .ok_or_else(|| StoreError::Data("the index directory is not valid UTF-8".into()))?;
        // A kept handle looks for rows other processes committed (an indexer worker writing
        // beside a control plane, another replica) at most a second after its last look.
        let db = lancedb::connect(uri)
            .read_consistency_interval(std::time::Duration::from_secs(1))
            .execute()
            .await?;
        let chunks = open_or_create(&db, "chunks", chunk_schema(dims)).await?;
        let stored_dims = chunks
            .schema()
            .await?
            .field_with_name("vector")
            .ok()
            .and_then(|f| match f.data_type() {
                DataType::FixedSizeList(_, n) => Some(*n as usize),
                _ => None,
            });
        if stored_dims != Some(dims) {
            return Err(StoreError::Data(format!(
                "the index holds {}-dimensional vectors but the embedding model makes {dims}; \
                 remove the repositories and index them again to change models",
                stored_dims.unwrap_or(0)
            )));
        }
        let bm25_dir = dir.join("bm25");
        let bm25 = tokio::task::spawn_blocking(move || Bm25::open(&bm25_dir))
            .await
            .map_err(|e| StoreError::Data(e.to_string()))??;
        Ok(CodeIndex {
            inner: Arc::new(Inner {
                dims,
                symbols: open_or_create(&db, "symbols", symbol_schema()).await?,
                edges: open_or_create(&db, "edges", edge_schema()).await?,
                files: open_or_create(&db, "files", file_schema()).await?,
                chunks,
                bm25,
                flat: tokio::sync::Mutex::new(flat::Kept::default()),
            }),
        })
    }
}

/// A string as an SQL literal.
fn lit(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

fn in_list(column: &str, values: &[String]) -> String {
    let items: Vec<String> = values.iter().map(|v| lit(v)).collect();
    format!("{column} IN ({})", items.join(", "))
}
