//! Searching the chunks: the keyword ranking (Tantivy), the vector ranking (in memory, or
//! LanceDB's vector index for large workspaces), their
//! fusion into hits (the pure part is `crate::search`), and the vector index that keeps the
//! vector ranking fast as a workspace grows.

use super::flat::Flat;
use super::schema::{collect, read_chunks, strings, CHUNK_COLUMNS};
use super::{in_list, lit, CodeIndex, Result, StoreError};
use crate::chunk::Chunk;
use crate::filters::{glob_to_regex, Filters};
use crate::search::{fuse_symbols, query_terms, snippet, Hit, Mode};
use lancedb::index::vector::IvfPqIndexBuilder;
use lancedb::index::Index as LanceIndex;
use lancedb::query::{ExecutableQuery, QueryBase, Select};
use lancedb::DistanceType;
use std::collections::HashMap;
use std::sync::Arc;

/// Rows of `chunks` past which a vector index replaces brute-force search. Up to this, the
/// vectors are scanned in memory (`flat`): 50,000 of 384 dimensions in a few milliseconds.
pub const ANN_THRESHOLD: usize = 50_000;
/// Up to this many rows an in-memory scan runs on the calling task (well under a
/// millisecond); larger ones on a blocking thread.
const INLINE_ROWS: usize = 8_192;
/// Per ranking, how many candidates hybrid search fuses.
const CANDIDATES: usize = 50;

impl CodeIndex {
    /// Past `ANN_THRESHOLD` chunks, builds (or refreshes) an IVF-PQ index on the vectors.
    pub(super) async fn maybe_build_vector_index(&self) -> Result<()> {
        let rows = self.inner.chunks.count_rows(None).await?;
        if rows < ANN_THRESHOLD {
            return Ok(());
        }
        let partitions = ((rows as f64).sqrt() as u32).clamp(16, 1024);
        self.inner
            .chunks
            .create_index(
                &["vector"],
                LanceIndex::IvfPq(
                    IvfPqIndexBuilder::default()
                        .distance_type(DistanceType::Cosine)
                        .num_partitions(partitions),
                ),
            )
            .replace(true)
            .execute()
            .await?;
        Ok(())
    }

    /// How many chunks are indexed, in one repository or in the whole workspace.
    pub async fn count_chunks(&self, repo_id: Option<&str>) -> Result<u64> {
        let filter = repo_id.map(|r| format!("repo_id = {}", lit(r)));
        Ok(self.inner.chunks.count_rows(filter).await? as u64)
    }

    /// Keyword ranking: chunk ids best first.
    pub async fn keyword_search(
        &self,
        query: &str,
        filters: &Filters,
        limit: usize,
    ) -> Result<Vec<String>> {
        let keyword = self.inner.bm25.clone();
        let (query, filters) = (query.to_string(), filters.clone());
        let hits = tokio::task::spawn_blocking(move || keyword.search(&query, &filters, limit))
            .await
            .map_err(|e| StoreError::Data(e.to_string()))??;
        Ok(hits.into_iter().map(|(id, _)| id).collect())
    }

    /// Vector ranking: chunk ids nearest first (cosine distance). In memory up to
    /// [`ANN_THRESHOLD`] chunks (see `flat`), else LanceDB's vector index.
    pub async fn vector_search(
        &self,
        vector: &[f32],
        filters: &Filters,
        limit: usize,
    ) -> Result<Vec<String>> {
        let flat = self.flat().await?;
        self.vector_search_in(flat, vector, filters, limit).await
    }

    /// [`CodeIndex::vector_search`] in `flat` when there is a copy.
    async fn vector_search_in(
        &self,
        flat: Option<Arc<Flat>>,
        vector: &[f32],
        filters: &Filters,
        limit: usize,
    ) -> Result<Vec<String>> {
        if let Some(flat) = flat {
            if flat.len() <= INLINE_ROWS {
                return Ok(flat.search(vector, filters, limit));
            }
            let (vector, filters) = (vector.to_vec(), filters.clone());
            return tokio::task::spawn_blocking(move || flat.search(&vector, &filters, limit))
                .await
                .map_err(|e| StoreError::Data(e.to_string()));
        }
        self.lance_vector_search(vector, filters, limit).await
    }

    /// The in-memory copy of the chunks for the table's current version, read now when the
    /// kept one is older; `None` when the index is too large for one or the budget has no
    /// room (then not tried again until the table moves).
    async fn flat(&self) -> Result<Option<Arc<Flat>>> {
        let version = self.inner.chunks.version().await?;
        let mut kept = self.inner.flat.lock().await;
        if let Some(flat) = kept.copy.as_ref().filter(|f| f.version == version) {
            return Ok(Some(flat.clone()));
        }
        if kept.refused == Some(version) {
            return Ok(None);
        }
        // The older copy's room is given back before the new one is read.
        kept.copy = None;
        let loaded = Flat::load(&self.inner.chunks, self.inner.dims, version)
            .await?
            .map(Arc::new);
        kept.copy.clone_from(&loaded);
        kept.refused = loaded.is_none().then_some(version);
        Ok(loaded)
    }

    /// Vector ranking by LanceDB (its vector index past [`ANN_THRESHOLD`] chunks, a scan of
    /// the table's files below).
    pub async fn lance_vector_search(
        &self,
        vector: &[f32],
        filters: &Filters,
        limit: usize,
    ) -> Result<Vec<String>> {
        let mut query = self
            .inner
            .chunks
            .query()
            .nearest_to(vector)?
            .distance_type(DistanceType::Cosine)
            .select(Select::columns(&["id"]))
            .limit(limit);
        if let Some(filter) = filter_sql(filters) {
            query = query.only_if(filter);
        }
        let batches = collect(query.execute().await?).await?;
        let mut out = Vec::new();
        for batch in &batches {
            let ids = strings(batch, "id")?;
            out.extend((0..batch.num_rows()).map(|i| ids.value(i).to_string()));
        }
        Ok(out)
    }

    /// Hybrid (or single-ranking) search; `vector` is the query's embedding, needed unless
    /// the mode is keyword-only.
    pub async fn search(
        &self,
        query: &str,
        vector: Option<&[f32]>,
        filters: &Filters,
        mode: Mode,
        limit: usize,
    ) -> Result<Vec<Hit>> {
        let candidates = CANDIDATES.max(limit);
        // The in-memory copy ranks by vector and holds the hits' fields; an index too large
        // for one is read from LanceDB.
        let flat = self.flat().await?;
        let keyword = match mode {
            Mode::Vector => Vec::new(),
            _ => self.keyword_search(query, filters, candidates).await?,
        };
        let vectors = match (mode, vector) {
            (Mode::Keyword, _) | (_, None) => Vec::new(),
            (_, Some(v)) => {
                self.vector_search_in(flat.clone(), v, filters, candidates)
                    .await?
            }
        };
        let fused = fuse_symbols(&[&keyword, &vectors]);
        let top: Vec<_> = fused.into_iter().take(limit).collect();
        let ids: Vec<String> = top.iter().map(|(id, _, _)| id.clone()).collect();
        let mut chunks: HashMap<String, Chunk> = flat
            .map(|f| f.chunks(&ids))
            .unwrap_or_default()
            .into_iter()
            .map(|c| (c.id.clone(), c))
            .collect();
        // Those the copy does not hold (none, or keyword hits written after its version).
        let missing: Vec<String> = ids
            .iter()
            .filter(|id| !chunks.contains_key(*id))
            .cloned()
            .collect();
        for chunk in self.chunks_by_ids(&missing).await? {
            chunks.insert(chunk.id.clone(), chunk);
        }
        let terms = query_terms(query);
        Ok(top
            .into_iter()
            .filter_map(|(id, score, ranks)| {
                let chunk = chunks.get(&id)?;
                let (snippet, snippet_line_start, matched_lines) = snippet(chunk, &terms);
                Some(Hit {
                    chunk_id: id,
                    repo_id: chunk.repo_id.clone(),
                    path: chunk.path.clone(),
                    symbol_id: chunk.symbol_id.clone(),
                    symbol: chunk.symbol.clone(),
                    kind: chunk.kind.clone(),
                    language: chunk.language.clone(),
                    line_start: chunk.line_start,
                    line_end: chunk.line_end,
                    score,
                    keyword_rank: ranks[0],
                    vector_rank: ranks[1],
                    snippet,
                    snippet_line_start,
                    matched_lines,
                })
            })
            .collect())
    }

    /// The chunks with these ids, without their vectors, in no particular order.
    pub async fn chunks_by_ids(&self, ids: &[String]) -> Result<Vec<Chunk>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let batches = collect(
            self.inner
                .chunks
                .query()
                .only_if(in_list("id", ids))
                .select(Select::columns(&CHUNK_COLUMNS))
                .execute()
                .await?,
        )
        .await?;
        let mut out = Vec::new();
        for batch in &batches {
            read_chunks(batch, &mut out)?;
        }
        Ok(out)
    }
}

/// The filters as a LanceDB SQL predicate; `None` when nothing narrows the search.
fn filter_sql(filters: &Filters) -> Option<String> {
    let mut parts = Vec::new();
    if let Some(repo) = &filters.repo_id {
        parts.push(format!("repo_id = {}", lit(repo)));
    }
    if !filters.repo_ids.is_empty() {
        parts.push(in_list("repo_id", &filters.repo_ids));
    }
    if let Some(language) = &filters.language {
        parts.push(format!("language = {}", lit(language)));
    }
    if let Some(kind) = &filters.kind {
        parts.push(format!("kind = {}", lit(kind)));
    }
    if let Some(glob) = &filters.path_glob {
        parts.push(format!(
            "regexp_like(path, {})",
            lit(&format!("^{}$", glob_to_regex(glob)))
        ));
    }
    (!parts.is_empty()).then(|| parts.join(" AND "))
}
