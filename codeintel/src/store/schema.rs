//! The tables' Arrow layout: their schemas, creating them, rows into record batches and
//! columns back out. A batch's columns are positional, so each one is built here beside the
//! schema it must match.

use super::{Result, StoreError, StoredFile};
use crate::chunk::Chunk;
use crate::model::{Edge, EdgeKind, Language, Symbol, SymbolKind};
use arrow_array::types::Float32Type;
use arrow_array::{Array, FixedSizeListArray, Float32Array, RecordBatch, StringArray, UInt32Array};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use futures::TryStreamExt;
use lancedb::Table;
use std::sync::Arc;

fn text(name: &str) -> Field {
    Field::new(name, DataType::Utf8, false)
}

/// `chunks`: one row per search chunk, with its embedding of `dims` dimensions.
pub(super) fn chunk_schema(dims: usize) -> SchemaRef {
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

/// `symbols`: the graph's nodes.
pub(super) fn symbol_schema() -> SchemaRef {
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

/// `edges`: the graph's edges.
pub(super) fn edge_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        text("repo_id"),
        text("from_id"),
        text("to_id"),
        text("kind"),
        Field::new("confidence", DataType::Float32, false),
        Field::new("line", DataType::UInt32, false),
    ]))
}

/// `files`: each indexed file's content hash and its parse as JSON.
pub(super) fn file_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        text("repo_id"),
        text("path"),
        text("hash"),
        text("parsed"),
    ]))
}

/// Opens the table `name`, creating it empty with `schema` when absent.
pub(super) async fn open_or_create(
    db: &lancedb::Connection,
    name: &str,
    schema: SchemaRef,
) -> Result<Table> {
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

fn column<T: AsRef<str>>(values: impl Iterator<Item = T>) -> Arc<StringArray> {
    Arc::new(StringArray::from_iter_values(values))
}

/// Rows of `chunks`; `vectors` pairs with `chunks` by position.
pub(super) fn chunk_batch(
    chunks: &[Chunk],
    vectors: &[Vec<f32>],
    dims: usize,
) -> Result<RecordBatch> {
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

/// Rows of `symbols`.
pub(super) fn symbol_batch(symbols: &[Symbol]) -> Result<RecordBatch> {
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

/// Rows of `edges`.
pub(super) fn edge_batch(edges: &[Edge]) -> Result<RecordBatch> {
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

/// Rows of `files` for one repository.
pub(super) fn file_batch(repo_id: &str, files: &[StoredFile]) -> Result<RecordBatch> {
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

/// Every batch a query returns.
pub(super) async fn collect(
    stream: lancedb::arrow::SendableRecordBatchStream,
) -> Result<Vec<RecordBatch>> {
    Ok(stream.try_collect::<Vec<_>>().await?)
}

/// A text column by name.
pub(super) fn strings<'b>(batch: &'b RecordBatch, name: &str) -> Result<&'b StringArray> {
    batch
        .column_by_name(name)
        .and_then(|c| c.as_any().downcast_ref::<StringArray>())
        .ok_or_else(|| StoreError::Data(format!("column {name} is missing or not text")))
}

/// A `u32` column by name.
pub(super) fn u32s<'b>(batch: &'b RecordBatch, name: &str) -> Result<&'b UInt32Array> {
    batch
        .column_by_name(name)
        .and_then(|c| c.as_any().downcast_ref::<UInt32Array>())
        .ok_or_else(|| StoreError::Data(format!("column {name} is missing or not a number")))
}

/// The symbols of a batch of `symbols` rows. Rows whose kind or language this version does
/// not know are skipped rather than failing the whole query.
pub(super) fn read_symbols(batch: &RecordBatch, out: &mut Vec<Symbol>) -> Result<()> {
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

/// The edges of a batch of `edges` rows, skipping kinds this version does not know.
pub(super) fn read_edges(batch: &RecordBatch, out: &mut Vec<Edge>) -> Result<()> {
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
    Ok(())
}

/// The columns of `chunks` that [`read_chunks`] reads (all but the vector).
pub(super) const CHUNK_COLUMNS: [&str; 12] = [
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
];

/// The chunks of a batch of `chunks` rows (without their vectors).
pub(super) fn read_chunks(batch: &RecordBatch, out: &mut Vec<Chunk>) -> Result<()> {
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
    Ok(())
}
