//! A workspace's code index on disk: LanceDB tables (`chunks` with their vectors, `symbols`,
//! `edges`, `files`) and the Tantivy keyword index, under one directory per workspace.

use crate::bm25::{Bm25, Bm25Error};
use crate::chunk::Chunk;
use crate::model::{Edge, EdgeKind, Language, ParsedFile, Symbol, SymbolKind};
use crate::search::{fuse, glob_to_regex, query_terms, snippet, Filters, Hit, Mode};
use arrow_array::types::Float32Type;
use arrow_array::{Array, FixedSizeListArray, Float32Array, RecordBatch, StringArray, UInt32Array};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use futures::TryStreamExt;
use lancedb::index::vector::IvfPqIndexBuilder;
use lancedb::index::Index as LanceIndex;
use lancedb::query::{ExecutableQuery, QueryBase, Select};
use lancedb::{DistanceType, Table};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

/// Rows of `chunks` past which a vector index replaces brute-force search. Below this,
/// a flat scan of 384-dimensional vectors answers in single-digit milliseconds.
pub const ANN_THRESHOLD: usize = 50_000;
/// Rows per write batch.
const WRITE_BATCH: usize = 2_000;
/// Per ranking, how many candidates hybrid search fuses.
const CANDIDATES: usize = 50;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("vector store: {0}")]
    Lance(#[from] lancedb::Error),
    #[error(transparent)]
    Keyword(#[from] Bm25Error),
    #[error("index data: {0}")]
    Data(String),
    #[error(transparent)]
    Embed(#[from] crate::embed::EmbedError),
}

type Result<T> = std::result::Result<T, StoreError>;

/// One file's parse as stored, with the content hash it was made from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredFile {
    pub hash: String,
    pub parsed: ParsedFile,
}

/// A symbol reached by walking the graph, with how it was reached.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Reached {
    pub symbol: Symbol,
    /// Steps from the start symbol (1 = direct).
    pub depth: u32,
    /// The confidence of the edge that reached it.
    pub confidence: f32,
    /// The symbol on the other end of that edge.
    pub via: String,
    pub line: u32,
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
}

fn text(name: &str) -> Field {
    Field::new(name, DataType::Utf8, false)
}

fn chunk_schema(dims: usize) -> SchemaRef {
    Arc::new(Schema::new(vec![
        text("id"),
        text("repo_id"),
        text("path"),
        text("language"),
        text("symbol_id"),
        text("symbol"),
        text("kind"),
        Field::new("line_start", DataType::UInt32, false),
        Field::new("line_end", DataType::UInt32, false),
        text("signature"),
        text("doc"),
        text("code"),
        Field::new(
            "vector",
            DataType::FixedSizeList(
                Arc::new(Field::new("item", DataType::Float32, true)),
                dims as i32,
            ),
            false,
        ),
    ]))
}

fn symbol_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        text("id"),
        text("repo_id"),
        text("path"),
        text("name"),
        text("qualified"),
        text("kind"),
        text("language"),
        Field::new("parent_id", DataType::Utf8, true),
        Field::new("line_start", DataType::UInt32, false),
        Field::new("line_end", DataType::UInt32, false),
        text("signature"),
        text("doc"),
        text("visibility"),
    ]))
}

fn edge_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        text("repo_id"),
        text("from_id"),
        text("to_id"),
        text("kind"),
        Field::new("confidence", DataType::Float32, false),
        Field::new("line", DataType::UInt32, false),
    ]))
}

fn file_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        text("repo_id"),
        text("path"),
        text("hash"),
        text("parsed"),
    ]))
}

/// A string as an SQL literal.
pub fn lit(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

fn in_list(column: &str, values: &[String]) -> String {
    let items: Vec<String> = values.iter().map(|v| lit(v)).collect();
    format!("{column} IN ({})", items.join(", "))
}

async fn open_or_create(db: &lancedb::Connection, name: &str, schema: SchemaRef) -> Result<Table> {
    let names = db.table_names().execute().await?;
    if names.iter().any(|n| n == name) {
        return Ok(db.open_table(name).execute().await?);
    }
    match db.create_empty_table(name, schema).execute().await {
        Ok(table) => Ok(table),
        // Another process created it between the listing and now.
        Err(lancedb::Error::TableAlreadyExists { .. }) => Ok(db.open_table(name).execute().await?),
        Err(e) => Err(e.into()),
    }
}

impl CodeIndex {
    /// Opens (creating when absent) the index in `dir` for vectors of `dims` dimensions.
    pub async fn open(dir: &Path, dims: usize) -> Result<CodeIndex> {
        std::fs::create_dir_all(dir).map_err(|e| StoreError::Data(e.to_string()))?;
        let lance_dir = dir.join("lance");
        let uri = lance_dir
            .to_str()
            .ok_or_else(|| StoreError::Data("the index directory is not valid UTF-8".into()))?;
        let db = lancedb::connect(uri).execute().await?;
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
            }),
        })
    }

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

    /// Writes one index run: the symbols and chunks of `touched` files are replaced, all
    /// edges of the repository are replaced, and the file records last.
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
        if vectors.len() != chunks.len() || vectors.iter().any(|v| v.len() != self.inner.dims) {
            return Err(StoreError::Data("vectors do not match the chunks".into()));
        }
        let inner = &self.inner;
        // Forget the touched files' records first: a run interrupted from here on leaves
        // them unrecorded, so the next run indexes them again.
        for paths in touched.chunks(500) {
            let filter = format!("repo_id = {} AND {}", lit(repo_id), in_list("path", paths));
            inner.files.delete(filter.as_str()).await?;
            inner.chunks.delete(filter.as_str()).await?;
            inner.symbols.delete(filter.as_str()).await?;
        }
        for (batch, vectors) in chunks.chunks(WRITE_BATCH).zip(vectors.chunks(WRITE_BATCH)) {
            inner
                .chunks
                .add(chunk_batch(batch, vectors, inner.dims)?)
                .execute()
                .await?;
        }
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
        let keyword = inner.bm25.clone();
        let (repo, paths, keyword_chunks) =
            (repo_id.to_string(), touched.to_vec(), chunks.to_vec());
        tokio::task::spawn_blocking(move || keyword.replace_files(&repo, &paths, &keyword_chunks))
            .await
            .map_err(|e| StoreError::Data(e.to_string()))??;
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

    /// Past `ANN_THRESHOLD` chunks, builds (or refreshes) an IVF-PQ index on the vectors.
    async fn maybe_build_vector_index(&self) -> Result<()> {
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

    /// Vector ranking: chunk ids nearest first (cosine distance).
    pub async fn vector_search(
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
        let keyword = match mode {
            Mode::Vector => Vec::new(),
            _ => self.keyword_search(query, filters, candidates).await?,
        };
        let vectors = match (mode, vector) {
            (Mode::Keyword, _) | (_, None) => Vec::new(),
            (_, Some(v)) => self.vector_search(v, filters, candidates).await?,
        };
        let fused = fuse(&[&keyword, &vectors]);
        let top: Vec<_> = fused.into_iter().take(limit).collect();
        let ids: Vec<String> = top.iter().map(|(id, _, _)| id.clone()).collect();
        let chunks: HashMap<String, Chunk> = self
            .chunks_by_ids(&ids)
            .await?
            .into_iter()
            .map(|c| (c.id.clone(), c))
            .collect();
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

    pub async fn chunks_by_ids(&self, ids: &[String]) -> Result<Vec<Chunk>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let batches = collect(
            self.inner
                .chunks
                .query()
                .only_if(in_list("id", ids))
                .select(Select::columns(&[
                    "id",
                    "repo_id",
                    "path",
                    "language",
                    "symbol_id",
                    "symbol",
                    "kind",
                    "line_start",
                    "line_end",
                    "signature",
                    "doc",
                    "code",
                ]))
                .execute()
                .await?,
        )
        .await?;
        let mut out = Vec::new();
        for batch in &batches {
            let s = |name| strings(batch, name);
            let (id, repo, path, language, symbol_id, symbol, kind, signature, doc, code) = (
                s("id")?,
                s("repo_id")?,
                s("path")?,
                s("language")?,
                s("symbol_id")?,
                s("symbol")?,
                s("kind")?,
                s("signature")?,
                s("doc")?,
                s("code")?,
            );
            let (start, end) = (u32s(batch, "line_start")?, u32s(batch, "line_end")?);
            for i in 0..batch.num_rows() {
                out.push(Chunk {
                    id: id.value(i).into(),
                    repo_id: repo.value(i).into(),
                    path: path.value(i).into(),
                    language: language.value(i).into(),
                    symbol_id: symbol_id.value(i).into(),
                    symbol: symbol.value(i).into(),
                    kind: kind.value(i).into(),
                    line_start: start.value(i),
                    line_end: end.value(i),
                    signature: signature.value(i).into(),
                    doc: doc.value(i).into(),
                    code: code.value(i).into(),
                });
            }
        }
        Ok(out)
    }

    /// Symbols matching an SQL filter over the `symbols` table.
    pub async fn symbols_where(&self, filter: &str, limit: usize) -> Result<Vec<Symbol>> {
        let batches = collect(
            self.inner
                .symbols
                .query()
                .only_if(filter)
                .limit(limit)
                .execute()
                .await?,
        )
        .await?;
        let mut out = Vec::new();
        for batch in &batches {
            read_symbols(batch, &mut out)?;
        }
        Ok(out)
    }

    pub async fn symbol(&self, id: &str) -> Result<Option<Symbol>> {
        Ok(self
            .symbols_where(&format!("id = {}", lit(id)), 1)
            .await?
            .into_iter()
            .next())
    }

    /// Definitions named `name` (exact), best-known kinds first.
    pub async fn definitions(
        &self,
        name: &str,
        repo_ids: &[String],
        limit: usize,
    ) -> Result<Vec<Symbol>> {
        let mut filter = format!(
            "(name = {0} OR qualified = {0}) AND kind <> 'file'",
            lit(name)
        );
        if !repo_ids.is_empty() {
            filter = format!("{filter} AND {}", in_list("repo_id", repo_ids));
        }
        self.symbols_where(&filter, limit).await
    }

    /// The symbols of one file, in source order (nesting through `parent_id`).
    pub async fn outline(&self, repo_id: &str, path: &str) -> Result<Vec<Symbol>> {
        let filter = format!(
            "repo_id = {} AND path = {} AND kind <> 'file'",
            lit(repo_id),
            lit(path)
        );
        let mut symbols = self.symbols_where(&filter, 100_000).await?;
        symbols.sort_by_key(|s| (s.line_start, std::cmp::Reverse(s.line_end)));
        Ok(symbols)
    }

    async fn edges_where(&self, filter: &str) -> Result<Vec<Edge>> {
        let batches = collect(self.inner.edges.query().only_if(filter).execute().await?).await?;
        let mut out = Vec::new();
        for batch in &batches {
            let s = |name| strings(batch, name);
            let (repo, from, to, kind) = (s("repo_id")?, s("from_id")?, s("to_id")?, s("kind")?);
            let confidence = batch
                .column_by_name("confidence")
                .and_then(|c| c.as_any().downcast_ref::<Float32Array>())
                .ok_or_else(|| StoreError::Data("edges.confidence is missing".into()))?;
            let line = u32s(batch, "line")?;
            for i in 0..batch.num_rows() {
                let Some(kind) = EdgeKind::parse(kind.value(i)) else {
                    continue;
                };
                out.push(Edge {
                    repo_id: repo.value(i).into(),
                    from_id: from.value(i).into(),
                    to_id: to.value(i).into(),
                    kind,
                    confidence: confidence.value(i),
                    line: line.value(i),
                });
            }
        }
        Ok(out)
    }

    /// Walks edges of `kinds` from `id` up to `depth` steps: `incoming` follows edges to
    /// their source (callers), otherwise to their target (callees).
    pub async fn walk(
        &self,
        id: &str,
        kinds: &[EdgeKind],
        incoming: bool,
        depth: u32,
    ) -> Result<Vec<Reached>> {
        let kind_list: Vec<String> = kinds.iter().map(|k| k.as_str().to_string()).collect();
        let mut seen: HashSet<String> = HashSet::from([id.to_string()]);
        let mut frontier = vec![id.to_string()];
        let mut reached: Vec<(String, u32, f32, String, u32)> = Vec::new();
        for level in 1..=depth.max(1) {
            if frontier.is_empty() {
                break;
            }
            let (near, far) = if incoming {
                ("to_id", "from_id")
            } else {
                ("from_id", "to_id")
            };
            let mut next = Vec::new();
            for ids in frontier.chunks(500) {
                let filter = format!("{} AND {}", in_list(near, ids), in_list("kind", &kind_list));
                let mut edges = self.edges_where(&filter).await?;
                edges.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
                for edge in edges {
                    let (via, other) = match far {
                        "from_id" => (edge.to_id, edge.from_id),
                        _ => (edge.from_id, edge.to_id),
                    };
                    if seen.insert(other.clone()) {
                        next.push(other.clone());
                        reached.push((other, level, edge.confidence, via, edge.line));
                    }
                }
            }
            frontier = next;
        }
        let ids: Vec<String> = reached.iter().map(|r| r.0.clone()).collect();
        let mut symbols: HashMap<String, Symbol> = HashMap::new();
        for chunk in ids.chunks(500) {
            for symbol in self
                .symbols_where(&in_list("id", chunk), chunk.len())
                .await?
            {
                symbols.insert(symbol.id.clone(), symbol);
            }
        }
        Ok(reached
            .into_iter()
            .filter_map(|(id, depth, confidence, via, line)| {
                Some(Reached {
                    symbol: symbols.remove(&id)?,
                    depth,
                    confidence,
                    via,
                    line,
                })
            })
            .collect())
    }

    pub async fn callers(&self, id: &str, depth: u32) -> Result<Vec<Reached>> {
        self.walk(id, &[EdgeKind::Calls], true, depth).await
    }

    pub async fn callees(&self, id: &str, depth: u32) -> Result<Vec<Reached>> {
        self.walk(id, &[EdgeKind::Calls], false, depth).await
    }

    /// Everything that uses a symbol: calls, type references, implementations, extensions,
    /// imports.
    pub async fn references(&self, id: &str) -> Result<Vec<(EdgeKind, Reached)>> {
        let mut out = Vec::new();
        for kind in [
            EdgeKind::Calls,
            EdgeKind::References,
            EdgeKind::Implements,
            EdgeKind::Extends,
            EdgeKind::Imports,
        ] {
            for reached in self.walk(id, &[kind], true, 1).await? {
                out.push((kind, reached));
            }
        }
        Ok(out)
    }

    /// The symbol's neighbourhood: every edge in or out, one step.
    pub async fn neighbourhood(&self, id: &str) -> Result<(Vec<Edge>, Vec<Symbol>)> {
        let filter = format!("from_id = {0} OR to_id = {0}", lit(id));
        let edges = self.edges_where(&filter).await?;
        let mut ids: Vec<String> = edges
            .iter()
            .flat_map(|e| [e.from_id.clone(), e.to_id.clone()])
            .collect();
        ids.sort();
        ids.dedup();
        let mut symbols = Vec::new();
        for chunk in ids.chunks(500) {
            symbols.extend(
                self.symbols_where(&in_list("id", chunk), chunk.len())
                    .await?,
            );
        }
        Ok((edges, symbols))
    }

    /// The source lines of a symbol, read from its chunks (joined across windows).
    pub async fn code_of(&self, symbol_id: &str) -> Result<Option<(u32, String)>> {
        let batches = collect(
            self.inner
                .chunks
                .query()
                .only_if(format!("symbol_id = {}", lit(symbol_id)))
                .select(Select::columns(&["line_start", "line_end", "code"]))
                .execute()
                .await?,
        )
        .await?;
        let mut windows = Vec::new();
        for batch in &batches {
            let (start, end, code) = (
                u32s(batch, "line_start")?,
                u32s(batch, "line_end")?,
                strings(batch, "code")?,
            );
            for i in 0..batch.num_rows() {
                windows.push((start.value(i), end.value(i), code.value(i).to_string()));
            }
        }
        windows.sort_by_key(|w| w.0);
        let Some(first) = windows.first().map(|w| w.0) else {
            return Ok(None);
        };
        let mut lines: Vec<String> = Vec::new();
        let mut next = first;
        for (start, _, code) in windows {
            for (i, line) in code.lines().enumerate() {
                if start + i as u32 >= next {
                    lines.push(line.to_string());
                    next = start + i as u32 + 1;
                }
            }
        }
        Ok(Some((first, lines.join("\n"))))
    }
}

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

async fn collect(stream: lancedb::arrow::SendableRecordBatchStream) -> Result<Vec<RecordBatch>> {
    Ok(stream.try_collect::<Vec<_>>().await?)
}

fn strings<'b>(batch: &'b RecordBatch, name: &str) -> Result<&'b StringArray> {
    batch
        .column_by_name(name)
        .and_then(|c| c.as_any().downcast_ref::<StringArray>())
        .ok_or_else(|| StoreError::Data(format!("column {name} is missing or not text")))
}

fn u32s<'b>(batch: &'b RecordBatch, name: &str) -> Result<&'b UInt32Array> {
    batch
        .column_by_name(name)
        .and_then(|c| c.as_any().downcast_ref::<UInt32Array>())
        .ok_or_else(|| StoreError::Data(format!("column {name} is missing or not a number")))
}

fn read_symbols(batch: &RecordBatch, out: &mut Vec<Symbol>) -> Result<()> {
    let s = |name| strings(batch, name);
    let (id, repo, path, name, qualified, kind, language, parent, signature, doc, visibility) = (
        s("id")?,
        s("repo_id")?,
        s("path")?,
        s("name")?,
        s("qualified")?,
        s("kind")?,
        s("language")?,
        s("parent_id")?,
        s("signature")?,
        s("doc")?,
        s("visibility")?,
    );
    let (start, end) = (u32s(batch, "line_start")?, u32s(batch, "line_end")?);
    for i in 0..batch.num_rows() {
        let (Some(kind), Some(language)) = (
            SymbolKind::parse(kind.value(i)),
            Language::parse(language.value(i)),
        ) else {
            continue;
        };
        out.push(Symbol {
            id: id.value(i).into(),
            repo_id: repo.value(i).into(),
            path: path.value(i).into(),
            name: name.value(i).into(),
            qualified: qualified.value(i).into(),
            kind,
            language,
            parent_id: (!parent.is_null(i)).then(|| parent.value(i).to_string()),
            line_start: start.value(i),
            line_end: end.value(i),
            signature: signature.value(i).into(),
            doc: doc.value(i).into(),
            visibility: visibility.value(i).into(),
        });
    }
    Ok(())
}

fn column<T: AsRef<str>>(values: impl Iterator<Item = T>) -> Arc<StringArray> {
    Arc::new(StringArray::from_iter_values(values))
}

fn chunk_batch(chunks: &[Chunk], vectors: &[Vec<f32>], dims: usize) -> Result<RecordBatch> {
    let flat: Vec<Option<Vec<Option<f32>>>> = vectors
        .iter()
        .map(|v| Some(v.iter().copied().map(Some).collect()))
        .collect();
    let vector = FixedSizeListArray::from_iter_primitive::<Float32Type, _, _>(flat, dims as i32);
    RecordBatch::try_new(
        chunk_schema(dims),
        vec![
            column(chunks.iter().map(|c| &c.id)),
            column(chunks.iter().map(|c| &c.repo_id)),
            column(chunks.iter().map(|c| &c.path)),
            column(chunks.iter().map(|c| &c.language)),
            column(chunks.iter().map(|c| &c.symbol_id)),
            column(chunks.iter().map(|c| &c.symbol)),
            column(chunks.iter().map(|c| &c.kind)),
            Arc::new(UInt32Array::from_iter_values(
                chunks.iter().map(|c| c.line_start),
            )),
            Arc::new(UInt32Array::from_iter_values(
                chunks.iter().map(|c| c.line_end),
            )),
            column(chunks.iter().map(|c| &c.signature)),
            column(chunks.iter().map(|c| &c.doc)),
            column(chunks.iter().map(|c| &c.code)),
            Arc::new(vector),
        ],
    )
    .map_err(|e| StoreError::Data(e.to_string()))
}

fn symbol_batch(symbols: &[Symbol]) -> Result<RecordBatch> {
    RecordBatch::try_new(
        symbol_schema(),
        vec![
            column(symbols.iter().map(|s| &s.id)),
            column(symbols.iter().map(|s| &s.repo_id)),
            column(symbols.iter().map(|s| &s.path)),
            column(symbols.iter().map(|s| &s.name)),
            column(symbols.iter().map(|s| &s.qualified)),
            column(symbols.iter().map(|s| s.kind.as_str())),
            column(symbols.iter().map(|s| s.language.as_str())),
            Arc::new(StringArray::from_iter(
                symbols.iter().map(|s| s.parent_id.as_deref()),
            )),
            Arc::new(UInt32Array::from_iter_values(
                symbols.iter().map(|s| s.line_start),
            )),
            Arc::new(UInt32Array::from_iter_values(
                symbols.iter().map(|s| s.line_end),
            )),
            column(symbols.iter().map(|s| &s.signature)),
            column(symbols.iter().map(|s| &s.doc)),
            column(symbols.iter().map(|s| &s.visibility)),
        ],
    )
    .map_err(|e| StoreError::Data(e.to_string()))
}

fn edge_batch(edges: &[Edge]) -> Result<RecordBatch> {
    RecordBatch::try_new(
        edge_schema(),
        vec![
            column(edges.iter().map(|e| &e.repo_id)),
            column(edges.iter().map(|e| &e.from_id)),
            column(edges.iter().map(|e| &e.to_id)),
            column(edges.iter().map(|e| e.kind.as_str())),
            Arc::new(Float32Array::from_iter_values(
                edges.iter().map(|e| e.confidence),
            )),
            Arc::new(UInt32Array::from_iter_values(edges.iter().map(|e| e.line))),
        ],
    )
    .map_err(|e| StoreError::Data(e.to_string()))
}

fn file_batch(repo_id: &str, files: &[StoredFile]) -> Result<RecordBatch> {
    let parsed: Vec<String> = files
        .iter()
        .map(|f| serde_json::to_string(&f.parsed))
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| StoreError::Data(e.to_string()))?;
    RecordBatch::try_new(
        file_schema(),
        vec![
            column(files.iter().map(|_| repo_id)),
            column(files.iter().map(|f| &f.parsed.path)),
            column(files.iter().map(|f| &f.hash)),
            column(parsed.iter()),
        ],
    )
    .map_err(|e| StoreError::Data(e.to_string()))
}
