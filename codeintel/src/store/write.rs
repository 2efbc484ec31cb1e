//! Index runs on disk: replacing what a run touched, forgetting a repository, and reading
//! back the stored parses that let the next run re-parse only what changed.

use super::schema::{chunk_batch, collect, edge_batch, file_batch, strings, symbol_batch};
use super::{in_list, lit, CodeIndex, Result, StoreError, StoredFile};
use crate::chunk::Chunk;
use crate::model::{Edge, ParsedFile, Symbol};
use lancedb::query::{ExecutableQuery, QueryBase, Select};

/// Rows per write batch.
const WRITE_BATCH: usize = 2_000;

impl CodeIndex {
    /// The stored parse of every file of a repository.
    pub async fn stored_files(&self, repo_id: &str) -> Result<Vec<StoredFile>> {
        let batches = collect(
            self.inner
                .files
                .query()
                .only_if(format!("repo_id = {}", lit(repo_id)))
                .select(Select::columns(&["hash", "parsed"]))
                .execute()
                .await?,
        )
        .await?;
        let mut out = Vec::new();
        for batch in &batches {
            let hash = strings(batch, "hash")?;
            let parsed = strings(batch, "parsed")?;
            for row in 0..batch.num_rows() {
                let parsed: ParsedFile = serde_json::from_str(parsed.value(row))
                    .map_err(|e| StoreError::Data(format!("a stored parse is unreadable: {e}")))?;
                out.push(StoredFile {
                    hash: hash.value(row).to_string(),
                    parsed,
                });
            }
        }
        Ok(out)
    }

    /// Writes one index run at once: [`CodeIndex::forget_files`], [`CodeIndex::add_chunks`]
    /// and [`CodeIndex::finish_run`] in a row.
    #[allow(clippy::too_many_arguments)]
    pub async fn write_run(
        &self,
        repo_id: &str,
        touched: &[String],
        symbols: &[Symbol],
        chunks: &[Chunk],
        vectors: Vec<Vec<f32>>,
        edges: &[Edge],
        files: &[StoredFile],
    ) -> Result<()> {
        self.forget_files(repo_id, touched).await?;
        self.add_chunks(chunks, vectors).await?;
        self.finish_run(repo_id, symbols, edges, files).await
    }

    /// The first step of a run's write: forgets the records, chunks and symbols of the
    /// `touched` files (changed or deleted), in the tables and the keyword index. A run
    /// interrupted from here on leaves them unrecorded, so the next run indexes them again.
    pub async fn forget_files(&self, repo_id: &str, touched: &[String]) -> Result<()> {
        let inner = &self.inner;
        for paths in touched.chunks(500) {
            let filter = format!("repo_id = {} AND {}", lit(repo_id), in_list("path", paths));
            inner.files.delete(filter.as_str()).await?;
            inner.chunks.delete(filter.as_str()).await?;
            inner.symbols.delete(filter.as_str()).await?;
        }
        let keyword = inner.bm25.clone();
        let (repo, paths) = (repo_id.to_string(), touched.to_vec());
        tokio::task::spawn_blocking(move || keyword.replace_files(&repo, &paths, &[]))
            .await
            .map_err(|e| StoreError::Data(e.to_string()))??;
        Ok(())
    }

    /// Adds a batch of a run's chunks with their vectors (after [`CodeIndex::forget_files`];
    /// called once per batch, so a run holds one batch of chunks at a time).
    pub async fn add_chunks(&self, chunks: &[Chunk], vectors: Vec<Vec<f32>>) -> Result<()> {
        if vectors.len() != chunks.len() || vectors.iter().any(|v| v.len() != self.inner.dims) {
            return Err(StoreError::Data("vectors do not match the chunks".into()));
        }
        if chunks.is_empty() {
            return Ok(());
        }
        let inner = &self.inner;
        for (batch, vectors) in chunks.chunks(WRITE_BATCH).zip(vectors.chunks(WRITE_BATCH)) {
            inner
                .chunks
                .add(chunk_batch(batch, vectors, inner.dims)?)
                .execute()
                .await?;
        }
        let keyword = inner.bm25.clone();
        let keyword_chunks = chunks.to_vec();
        tokio::task::spawn_blocking(move || keyword.replace_files("", &[], &keyword_chunks))
            .await
            .map_err(|e| StoreError::Data(e.to_string()))??;
        Ok(())
    }

    /// The last step of a run's write: the touched files' symbols, all edges of the
    /// repository (replaced), and the file records last (what marks the work done).
    pub async fn finish_run(
        &self,
        repo_id: &str,
        symbols: &[Symbol],
        edges: &[Edge],
        files: &[StoredFile],
    ) -> Result<()> {
        let inner = &self.inner;
        for batch in symbols.chunks(WRITE_BATCH) {
            inner.symbols.add(symbol_batch(batch)?).execute().await?;
        }
        inner
            .edges
            .delete(format!("repo_id = {}", lit(repo_id)).as_str())
            .await?;
        for batch in edges.chunks(WRITE_BATCH * 5) {
            inner.edges.add(edge_batch(batch)?).execute().await?;
        }
        for batch in files.chunks(WRITE_BATCH) {
            inner
                .files
                .add(file_batch(repo_id, batch)?)
                .execute()
                .await?;
        }
        self.maybe_build_vector_index().await?;
        Ok(())
    }

    /// Removes a repository from every table and the keyword index.
    pub async fn delete_repo(&self, repo_id: &str) -> Result<()> {
        let filter = format!("repo_id = {}", lit(repo_id));
        for table in [
            &self.inner.chunks,
            &self.inner.symbols,
            &self.inner.edges,
            &self.inner.files,
        ] {
            table.delete(filter.as_str()).await?;
        }
        let keyword = self.inner.bm25.clone();
        let repo = repo_id.to_string();
        tokio::task::spawn_blocking(move || keyword.delete_repo(&repo))
            .await
            .map_err(|e| StoreError::Data(e.to_string()))??;
        Ok(())
    }
}
