//! Vector search in memory. Up to [`ANN_THRESHOLD`] chunks, a workspace's vectors and the
//! fields search filters look at (repository, path, language, kind) are read from the
//! `chunks` table once into one matrix and scanned there: an exact cosine ranking, as
//! LanceDB's flat scan gives, without reading the table's files on every query. The
//! chunks' other fields (symbol, lines, code) are held beside, so a search's hits are
//! shown without reading the table either.
//!
//! A copy belongs to one version of the table. The version is looked at on every search
//! (a write through the same handle moves it at once; another process's commit within a
//! second, see `CodeIndex::open`), and a copy of an older version is read again. All open
//! indexes' copies together hold at most [`FLAT_BUDGET_BYTES`]; an index that does not fit
//! is searched by LanceDB, as one past [`ANN_THRESHOLD`] is through its vector index, and
//! not read again until its table moves.

use super::schema::{collect, read_chunks, strings, CHUNK_COLUMNS};
use super::{Result, StoreError};
use crate::chunk::Chunk;
use crate::filters::{glob_to_regex, Filters};
use arrow_array::{Array, FixedSizeListArray, Float32Array};
use lancedb::query::{ExecutableQuery, QueryBase, Select};
use lancedb::Table;
use std::cmp::Ordering as CmpOrdering;
use std::collections::{BinaryHeap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use super::search::ANN_THRESHOLD;

/// What the in-memory copies of all open indexes may hold together.
pub const FLAT_BUDGET_BYTES: usize = 512 << 20;

/// Bytes the copies alive in this process hold.
static HELD: AtomicUsize = AtomicUsize::new(0);

/// Bytes held by in-memory copies in this process now.
pub fn flat_bytes_held() -> usize {
    HELD.load(Ordering::Relaxed)
}

/// What an index keeps in memory of its chunks.
#[derive(Default)]
pub(super) struct Kept {
    /// The copy, of the version it says.
    pub(super) copy: Option<Arc<Flat>>,
    /// A version that has no copy (too many rows, or no room in the budget): not read
    /// again until the table moves.
    pub(super) refused: Option<u64>,
}

/// One version of a `chunks` table's vectors, in memory.
pub(super) struct Flat {
    /// The table version this copy was read from.
    pub(super) version: u64,
    dims: usize,
    /// Row-major, each row L2-normalised (a zero vector stays zero: similarity 0 to all).
    vectors: Vec<f32>,
    rows: Vec<Row>,
    /// The chunks without their vectors, in the rows' order.
    chunks: Vec<Chunk>,
    /// Each chunk id's row.
    by_id: HashMap<String, usize>,
    /// Distinct repository ids, paths, languages and kinds; rows point into it.
    names: Vec<String>,
    /// Each distinct value's number in `names`.
    numbers: HashMap<String, u32>,
    bytes: usize,
}

struct Row {
    repo: u32,
    path: u32,
    language: u32,
    kind: u32,
}

impl Drop for Flat {
    fn drop(&mut self) {
        HELD.fetch_sub(self.bytes, Ordering::Relaxed);
    }
}

/// A row's similarity, ordered so that a max-heap's top is the worst kept row.
struct Scored {
    similarity: f32,
    row: usize,
}

impl PartialEq for Scored {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == CmpOrdering::Equal
    }
}
impl Eq for Scored {}
impl PartialOrd for Scored {
    fn partial_cmp(&self, other: &Self) -> Option<CmpOrdering> {
        Some(self.cmp(other))
    }
}
impl Ord for Scored {
    fn cmp(&self, other: &Self) -> CmpOrdering {
        // Lower similarity is "greater": the heap's top is the first to be replaced. Ties
        // keep the earlier row.
        other
            .similarity
            .total_cmp(&self.similarity)
            .then(self.row.cmp(&other.row))
    }
}

impl Flat {
    /// Reads `table` (at `version`, looked at before reading, so a copy is never older
    /// than the version it says) into memory; `None` when it has more than
    /// [`ANN_THRESHOLD`] rows or the budget has no room for it.
    pub(super) async fn load(table: &Table, dims: usize, version: u64) -> Result<Option<Flat>> {
        let count = table.count_rows(None).await?;
        if count > ANN_THRESHOLD {
            return Ok(None);
        }
        // Reserved up front (an estimate: vectors plus ~1 KiB of names and code per row),
        // so two indexes loading at once cannot both take the last room.
        let estimate = count * (dims * 4 + 1024);
        let Some(reserved) = Reserved::take(estimate) else {
            return Ok(None);
        };
        let loaded = read(table, dims, version).await;
        // Given back here, or on drop should this search be abandoned while reading.
        drop(reserved);
        let mut flat = loaded?;
        if !reserve(flat.bytes) {
            flat.bytes = 0;
            return Ok(None);
        }
        Ok(Some(flat))
    }

    /// How many rows the copy holds.
    pub(super) fn len(&self) -> usize {
        self.rows.len()
    }

    /// Chunk ids nearest `query` first (cosine), at most `limit`, among the rows `filters`
    /// allows.
    pub(super) fn search(&self, query: &[f32], filters: &Filters, limit: usize) -> Vec<String> {
        if limit == 0 || query.len() != self.dims {
            return Vec::new();
        }
        let Some(allowed) = Allowed::compile(self, filters) else {
            return Vec::new();
        };
        let norm = query.iter().map(|x| x * x).sum::<f32>().sqrt();
        if norm == 0.0 || !norm.is_finite() {
            return Vec::new();
        }
        let query: Vec<f32> = query.iter().map(|x| x / norm).collect();
        let mut kept: BinaryHeap<Scored> =
            BinaryHeap::with_capacity(limit.min(self.rows.len()) + 1);
        for (row, (meta, vector)) in self
            .rows
            .iter()
            .zip(self.vectors.chunks_exact(self.dims))
            .enumerate()
        {
            if !allowed.admits(meta) {
                continue;
            }
            let similarity = dot(&query, vector);
            if !similarity.is_finite() {
                continue;
            }
            let scored = Scored { similarity, row };
            if kept.len() < limit {
                kept.push(scored);
            } else if kept.peek().is_some_and(|worst| scored < *worst) {
                kept.pop();
                kept.push(scored);
            }
        }
        kept.into_sorted_vec()
            .into_iter()
            .map(|s| self.chunks[s.row].id.clone())
            .collect()
    }

    /// The chunks with these ids that this copy holds, in the ids' order.
    pub(super) fn chunks(&self, ids: &[String]) -> Vec<Chunk> {
        ids.iter()
            .filter_map(|id| self.by_id.get(id).map(|&row| self.chunks[row].clone()))
            .collect()
    }
}

/// Bytes of the budget held while a copy is read, given back when dropped.
struct Reserved(usize);

impl Reserved {
    fn take(bytes: usize) -> Option<Reserved> {
        reserve(bytes).then_some(Reserved(bytes))
    }
}

impl Drop for Reserved {
    fn drop(&mut self) {
        HELD.fetch_sub(self.0, Ordering::Relaxed);
    }
}

/// Takes `bytes` of the budget when it has room.
fn reserve(bytes: usize) -> bool {
    HELD.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |held| {
        (held + bytes <= FLAT_BUDGET_BYTES).then_some(held + bytes)
    })
    .is_ok()
}

async fn read(table: &Table, dims: usize, version: u64) -> Result<Flat> {
    let batches = collect(
        table
            .query()
            .select(Select::columns(
                &[CHUNK_COLUMNS.as_slice(), &["vector"]].concat(),
            ))
            .execute()
            .await?,
    )
    .await?;
    let mut flat = Flat {
        version,
        dims,
        vectors: Vec::new(),
        rows: Vec::new(),
        chunks: Vec::new(),
        by_id: HashMap::new(),
        names: Vec::new(),
        numbers: HashMap::new(),
        bytes: 0,
    };
    let name = |names: &mut Vec<String>, numbers: &mut HashMap<String, u32>, value: &str| {
        if let Some(&i) = numbers.get(value) {
            return i;
        }
        let i = names.len() as u32;
        names.push(value.to_owned());
        numbers.insert(value.to_owned(), i);
        i
    };
    for batch in &batches {
        let (repos, paths) = (strings(batch, "repo_id")?, strings(batch, "path")?);
        let (languages, kinds) = (strings(batch, "language")?, strings(batch, "kind")?);
        let vectors = batch
            .column_by_name("vector")
            .and_then(|c| c.as_any().downcast_ref::<FixedSizeListArray>())
            .ok_or_else(|| StoreError::Data("column vector is missing or not a list".into()))?;
        let values = vectors
            .values()
            .as_any()
            .downcast_ref::<Float32Array>()
            .ok_or_else(|| StoreError::Data("column vector does not hold f32".into()))?;
        if vectors.value_length() as usize != dims {
            return Err(StoreError::Data(format!(
                "the index holds {}-dimensional vectors, not {dims}",
                vectors.value_length()
            )));
        }
        read_chunks(batch, &mut flat.chunks)?;
        for row in 0..batch.num_rows() {
            let start = vectors.value_offset(row) as usize;
            let vector = &values.values()[start..start + dims];
            let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
            let scale = if norm > 0.0 && norm.is_finite() {
                1.0 / norm
            } else {
                0.0
            };
            flat.vectors.extend(vector.iter().map(|x| x * scale));
            flat.rows.push(Row {
                repo: name(&mut flat.names, &mut flat.numbers, repos.value(row)),
                path: name(&mut flat.names, &mut flat.numbers, paths.value(row)),
                language: name(&mut flat.names, &mut flat.numbers, languages.value(row)),
                kind: name(&mut flat.names, &mut flat.numbers, kinds.value(row)),
            });
        }
    }
    flat.by_id = flat
        .chunks
        .iter()
        .enumerate()
        .map(|(row, c)| (c.id.clone(), row))
        .collect();
    flat.bytes = flat.vectors.len() * 4
        + flat.rows.len() * std::mem::size_of::<Row>()
        + flat.chunks.iter().map(chunk_bytes).sum::<usize>()
        + flat
            .names
            .iter()
            .map(|n| 2 * (std::mem::size_of::<String>() + n.len()) + 4)
            .sum::<usize>();
    Ok(flat)
}

/// What one chunk's copy holds (its strings, and its id again as a key of `by_id`).
fn chunk_bytes(c: &Chunk) -> usize {
    std::mem::size_of::<Chunk>()
        + 2 * c.id.len()
        + std::mem::size_of::<(String, usize)>()
        + [
            &c.repo_id,
            &c.path,
            &c.language,
            &c.symbol_id,
            &c.symbol,
            &c.kind,
            &c.signature,
            &c.doc,
            &c.code,
        ]
        .iter()
        .map(|s| s.len())
        .sum::<usize>()
}

/// The filters resolved against a copy's names: which repository, language and kind
/// numbers a row may have, and which paths the glob matches (each distinct value tried once).
struct Allowed {
    /// Per name number, whether it is an allowed repository; `None` without a filter.
    repos: Option<Vec<bool>>,
    language: Option<u32>,
    kind: Option<u32>,
    /// Per name number, whether it is a path the glob matches; `None` without a glob.
    paths: Option<Vec<bool>>,
}

impl Allowed {
    /// `None` when nothing can pass (a filter names a value no row has, or the glob is not
    /// a valid pattern).
    fn compile(flat: &Flat, filters: &Filters) -> Option<Allowed> {
        let number = |value: &str| flat.numbers.get(value).copied();
        let mut repos: Option<Vec<bool>> = None;
        if let Some(repo) = &filters.repo_id {
            let mut one = vec![false; flat.names.len()];
            one[number(repo)? as usize] = true;
            repos = Some(one);
        }
        if !filters.repo_ids.is_empty() {
            let mut listed = vec![false; flat.names.len()];
            for repo in filters.repo_ids.iter().filter_map(|r| number(r)) {
                listed[repo as usize] = true;
            }
            repos = Some(match repos {
                Some(one) => one.iter().zip(&listed).map(|(a, b)| *a && *b).collect(),
                None => listed,
            });
        }
        if repos.as_ref().is_some_and(|r| !r.contains(&true)) {
            return None;
        }
        let language = match &filters.language {
            Some(l) => Some(number(l)?),
            None => None,
        };
        let kind = match &filters.kind {
            Some(k) => Some(number(k)?),
            None => None,
        };
        let paths = match &filters.path_glob {
            Some(glob) => {
                let pattern = regex::Regex::new(&format!("^{}$", glob_to_regex(glob))).ok()?;
                Some(flat.names.iter().map(|n| pattern.is_match(n)).collect())
            }
            None => None,
        };
        Some(Allowed {
            repos,
            language,
            kind,
            paths,
        })
    }

    fn admits(&self, row: &Row) -> bool {
        let marked = |set: &Option<Vec<bool>>, number: u32| {
            set.as_ref()
                .is_none_or(|s| s.get(number as usize).copied().unwrap_or(false))
        };
        marked(&self.repos, row.repo)
            && self.language.is_none_or(|l| l == row.language)
            && self.kind.is_none_or(|k| k == row.kind)
            && marked(&self.paths, row.path)
    }
}

/// The dot product, in eight lanes the compiler turns into vector instructions.
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 8];
    let (a8, b8) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = a8
        .remainder()
        .iter()
        .zip(b8.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in a8.zip(b8) {
        for i in 0..8 {
            lanes[i] += x[i] * y[i];
        }
    }
    lanes.iter().sum::<f32>() + tail
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dot_product_counts_every_element() {
        let a: Vec<f32> = (0..19).map(|i| i as f32).collect();
        let b: Vec<f32> = (0..19).map(|i| (i % 3) as f32).collect();
        let expected: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        assert_eq!(dot(&a, &b), expected);
    }

    #[test]
    fn the_worst_kept_row_is_on_top() {
        let mut heap = BinaryHeap::new();
        for (row, similarity) in [0.5f32, 0.9, 0.1, 0.7].into_iter().enumerate() {
            heap.push(Scored { similarity, row });
        }
        assert_eq!(heap.peek().map(|s| s.row), Some(2));
        let order: Vec<usize> = heap.into_sorted_vec().iter().map(|s| s.row).collect();
        assert_eq!(order, vec![1, 3, 0, 2]);
    }
}
