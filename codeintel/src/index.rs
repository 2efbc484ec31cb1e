//! One index run over a repository checkout: scan, re-parse only what changed, resolve the
//! whole graph, then chunk, embed and write what changed in bounded batches. Files deleted
//! since the last run leave the index. The file hashes that mark work as done are written
//! last, so an interrupted run is redone next time.
//!
//! Memory: no file's text is held beyond its batch — a scan keeps paths and hashes, parsing
//! reads one file at a time, and chunking re-reads a batch of files (at most
//! [`BATCH_TEXT_BYTES`] of text) whose chunks are embedded and written before the next
//! batch is read. What grows with the repository is only its parsed graph (symbols, imports
//! and references, no text).

use crate::chunk::{chunk_file, Chunk, ChunkOptions};
use crate::embed::{EmbedError, Embedder, BATCH};
use crate::extract::parse_file;
use crate::model::ParsedFile;
use crate::resolve::resolve;
use crate::scan::{hash_text, read_source, scan, SkipReason, SourceFile};
use crate::store::{CodeIndex, StoreError, StoredFile};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::time::Instant;

/// Files larger than this are skipped unless configured otherwise.
pub const DEFAULT_MAX_FILE_BYTES: u64 = 1024 * 1024;

/// Files of a repository looked at, at most, unless configured otherwise.
pub const DEFAULT_MAX_FILES: u64 = 100_000;

/// The most file text one chunk-and-embed batch reads.
pub const BATCH_TEXT_BYTES: u64 = 4 * 1024 * 1024;

/// The most files one chunk-and-embed batch reads.
const BATCH_FILES: usize = 500;

/// Texts embedded between two progress reports.
const EMBED_PART: usize = BATCH * 4;

/// Why an index run failed. Nothing of a failed run counts as done: the next run redoes it.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error(transparent)]
    Embed(#[from] EmbedError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Io(String),
}

/// What to index: a repository's checkout and the options that shape its index.
#[derive(Clone, Debug)]
pub struct IndexRequest {
    pub repo_id: String,
    /// The checked-out tree to index.
    pub root: PathBuf,
    pub max_file_bytes: u64,
    /// Files looked at, at most (skipped ones count); the rest are counted as skipped.
    pub max_files: u64,
    pub chunk_options: ChunkOptions,
}

/// Where a run is; streamed to the console as a progress bar.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Scanning,
    Parsing,
    Resolving,
    Embedding,
    Writing,
    Done,
}

impl Phase {
    /// The phase's name, as serialised.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Scanning => "scanning",
            Phase::Parsing => "parsing",
            Phase::Resolving => "resolving",
            Phase::Embedding => "embedding",
            Phase::Writing => "writing",
            Phase::Done => "done",
        }
    }
}

/// How far a run is: `done` of `total` units (files or chunks) of `phase`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    pub phase: Phase,
    pub done: u64,
    pub total: u64,
}

/// What a run did, for the repository's status and the console.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct IndexReport {
    /// Files in the index after the run.
    pub files_indexed: u64,
    pub files_changed: u64,
    pub files_deleted: u64,
    pub files_unchanged: u64,
    pub files_skipped: u64,
    pub skipped: BTreeMap<String, u64>,
    pub bytes_parsed: u64,
    pub symbols: u64,
    pub edges: u64,
    pub chunks: u64,
    pub chunks_embedded: u64,
    pub parse_ms: u64,
    pub embed_ms: u64,
    pub total_ms: u64,
}

/// Indexes `request.root` into `index`, reporting progress.
pub async fn index_repository(
    index: &CodeIndex,
    embedder: &Embedder,
    request: &IndexRequest,
    mut progress: impl FnMut(Progress) + Send,
) -> Result<IndexReport, IndexError> {
    let started = Instant::now();
    progress(Progress {
        phase: Phase::Scanning,
        done: 0,
        total: 0,
    });
    let root = request.root.clone();
    let (max, max_files) = (request.max_file_bytes, request.max_files);
    let scanned = tokio::task::spawn_blocking(move || scan(&root, max, max_files))
        .await
        .map_err(|e| IndexError::Io(e.to_string()))?;
    let mut report = IndexReport {
        files_skipped: scanned.skipped_total(),
        skipped: scanned
            .skipped
            .iter()
            .map(|(reason, n): (&SkipReason, &u64)| (reason.as_str().to_string(), *n))
            .collect(),
        ..IndexReport::default()
    };

    let previous: HashMap<String, StoredFile> = index
        .stored_files(&request.repo_id)
        .await?
        .into_iter()
        .map(|f| (f.parsed.path.clone(), f))
        .collect();
    let present: HashSet<&str> = scanned.files.iter().map(|f| f.path.as_str()).collect();
    let deleted: Vec<String> = previous
        .keys()
        .filter(|p| !present.contains(p.as_str()))
        .cloned()
        .collect();
    let changed: Vec<SourceFile> = scanned
        .files
        .iter()
        .filter(|f| previous.get(&f.path).is_none_or(|p| p.hash != f.hash))
        .cloned()
        .collect();
    report.files_changed = changed.len() as u64;
    report.files_deleted = deleted.len() as u64;
    report.files_unchanged = (scanned.files.len() - changed.len()) as u64;
    report.files_indexed = scanned.files.len() as u64;

    // Parse what changed, one file at a time on a blocking thread, reporting per file. A
    // file is read again here (the scan kept no text) and hashed as read.
    let parse_started = Instant::now();
    let total = changed.len() as u64;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<u64>();
    let (to_parse, root) = (changed.clone(), request.root.clone());
    let parsing = tokio::task::spawn_blocking(move || {
        let mut out = Vec::with_capacity(to_parse.len());
        for (i, file) in to_parse.iter().enumerate() {
            // Gone or changed beyond the limits since the scan: indexed as an empty file
            // now, picked up by the next run.
            let text = read_source(&root, file, max).unwrap_or_default();
            // A file tree-sitter cannot parse at all is indexed as a file without symbols.
            let parsed = parse_file(&file.path, file.language, &text).unwrap_or(ParsedFile {
                path: file.path.clone(),
                language: file.language,
                lines: text.lines().count() as u32,
                bytes: text.len(),
                symbols: Vec::new(),
                imports: Vec::new(),
                refs: Vec::new(),
            });
            out.push((parsed, hash_text(&text), text.len() as u64));
            let _ = tx.send(i as u64 + 1);
        }
        out
    });
    progress(Progress {
        phase: Phase::Parsing,
        done: 0,
        total,
    });
    while let Some(done) = rx.recv().await {
        if done % 25 == 0 || done == total {
            progress(Progress {
                phase: Phase::Parsing,
                done,
                total,
            });
        }
    }
    let parsed_changed = parsing.await.map_err(|e| IndexError::Io(e.to_string()))?;
    report.parse_ms = parse_started.elapsed().as_millis() as u64;
    report.bytes_parsed = parsed_changed.iter().map(|(_, _, bytes)| bytes).sum();

    // Resolve the whole repository: stored parses of unchanged files plus the new ones.
    progress(Progress {
        phase: Phase::Resolving,
        done: 0,
        total: 1,
    });
    let changed_paths: HashSet<&str> = changed.iter().map(|f| f.path.as_str()).collect();
    let mut all: Vec<ParsedFile> = previous
        .values()
        .filter(|f| {
            present.contains(f.parsed.path.as_str())
                && !changed_paths.contains(f.parsed.path.as_str())
        })
        .map(|f| f.parsed.clone())
        .collect();
    let first_changed = all.len();
    all.extend(parsed_changed.iter().map(|(parsed, _, _)| parsed.clone()));
    let graph = resolve(&request.repo_id, &all);
    drop(all);
    report.edges = graph.edges.len() as u64;
    report.symbols = graph
        .symbols
        .iter()
        .filter(|s| s.kind != crate::model::SymbolKind::File)
        .count() as u64;

    // Forget what changed or went, then chunk, embed and write the changed files a batch at
    // a time: only one batch's text, chunks and vectors are held.
    let mut touched: Vec<String> = deleted.clone();
    touched.extend(changed.iter().map(|f| f.path.clone()));
    index.forget_files(&request.repo_id, &touched).await?;
    let embed_started = Instant::now();
    let total = changed.len() as u64;
    progress(Progress {
        phase: Phase::Embedding,
        done: 0,
        total,
    });
    let mut new_symbols = Vec::new();
    let mut start = 0;
    while start < changed.len() {
        let mut end = start;
        let mut bytes = 0;
        while end < changed.len()
            && end - start < BATCH_FILES
            && (end == start || bytes + changed[end].bytes <= BATCH_TEXT_BYTES)
        {
            bytes += changed[end].bytes;
            end += 1;
        }
        let (batch, root) = (changed[start..end].to_vec(), request.root.clone());
        let texts: Vec<String> = tokio::task::spawn_blocking(move || {
            batch
                .iter()
                .map(|f| read_source(&root, f, max).unwrap_or_default())
                .collect()
        })
        .await
        .map_err(|e| IndexError::Io(e.to_string()))?;
        let mut chunks: Vec<Chunk> = Vec::new();
        for (i, text) in (start..end).zip(&texts) {
            let (parsed, hash, _) = &parsed_changed[i];
            // The text the symbols were found in, or none: a file that changed between
            // parsing and now is chunked by the next run.
            if hash_text(text) != *hash {
                continue;
            }
            let symbols: Vec<_> = graph.file_symbols[first_changed + i]
                .iter()
                .map(|&s| graph.symbols[s].clone())
                .collect();
            chunks.extend(chunk_file(parsed, &symbols, text, request.chunk_options));
            new_symbols.extend(symbols);
        }
        drop(texts);
        // Embedded longest text last, so each forward pass's texts are of about one length
        // (its padding is computed like any word piece), a part at a time with the progress
        // moving between files' counts in proportion.
        let texts: Vec<String> = chunks.iter().map(Chunk::embedding_text).collect();
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| texts[i].len());
        let mut vectors: Vec<Vec<f32>> = vec![Vec::new(); chunks.len()];
        let mut embedded = 0;
        for part in order.chunks(EMBED_PART) {
            let batch = part.iter().map(|&i| texts[i].clone()).collect();
            for (&i, vector) in part.iter().zip(embedder.embed(batch).await?) {
                vectors[i] = vector;
            }
            embedded += part.len();
            progress(Progress {
                phase: Phase::Embedding,
                done: start as u64 + ((end - start) * embedded / texts.len()) as u64,
                total,
            });
        }
        report.chunks_embedded += chunks.len() as u64;
        index.add_chunks(&chunks, vectors).await?;
        start = end;
        progress(Progress {
            phase: Phase::Embedding,
            done: start as u64,
            total,
        });
    }
    report.embed_ms = embed_started.elapsed().as_millis() as u64;

    // The symbols and edges, and the file records (what marks the work done) last.
    progress(Progress {
        phase: Phase::Writing,
        done: 0,
        total: 1,
    });
    let stored: Vec<StoredFile> = parsed_changed
        .into_iter()
        .map(|(parsed, hash, _)| StoredFile { hash, parsed })
        .collect();
    index
        .finish_run(&request.repo_id, &new_symbols, &graph.edges, &stored)
        .await?;
    report.chunks = index.count_chunks(Some(&request.repo_id)).await?;
    report.total_ms = started.elapsed().as_millis() as u64;
    progress(Progress {
        phase: Phase::Done,
        done: 1,
        total: 1,
    });
    Ok(report)
}
