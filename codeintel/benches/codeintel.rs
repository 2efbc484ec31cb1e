//! `make bench` — code intelligence figures on this repository's own code.
//!
//! Quality: queries are the first sentence of doc comments of this repository's Rust items;
//! the answer is the documented item; the index is built with doc comments stripped from the
//! indexed text, so a query cannot match its own words. MRR@10 and recall@10 for BM25 only,
//! vectors only and hybrid.
//!
//! Speed: parse + graph (extract + resolve) against a raw tree-sitter parse of the same files
//! in the same run; embedding throughput; search latency.

use codeintel::chunk::{chunk_file, Chunk, ChunkOptions};
use codeintel::embed::{Embedder, EmbeddingConfig};
use codeintel::model::{Language, ParsedFile};
use codeintel::resolve::resolve;
use codeintel::scan::{read_source, scan};
use codeintel::search::{Filters, Mode};
use codeintel::store::{CodeIndex, StoredFile};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// A scanned file with its text, read once for the whole benchmark.
struct BenchFile {
    path: String,
    language: Language,
    text: String,
    hash: String,
}

const REPO: &str = "switchyard";
const QUERIES: usize = 200;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i]
}

/// all-MiniLM-L6-v2's shape: layers, hidden size, feed-forward size.
const LAYERS: f64 = 6.0;
const HIDDEN: f64 = 384.0;
const FEED_FORWARD: f64 = 1536.0;

/// The arithmetic the model's passes did: per computed word piece, each layer's four
/// attention projections and its feed-forward pair; per pair of word pieces, each layer's
/// scores and weighted sum (2 FLOP per multiply-add).
fn model_flops(work: &codeintel::embed::Padding) -> f64 {
    let per_token = LAYERS * 2.0 * (4.0 * HIDDEN * HIDDEN + 2.0 * HIDDEN * FEED_FORWARD);
    let per_pair = LAYERS * 2.0 * 2.0 * HIDDEN;
    work.computed as f64 * per_token + work.pairs as f64 * per_pair
}

/// The physical limit here: FLOP/s of a plain f32 matmul of the feed-forward's shape for a
/// full pass (4096 word pieces × 384 by 384 × 1536), through the same kernels, best of 5.
fn matmul_flops() -> f64 {
    use candle_core::{Device, Tensor};
    let rows = codeintel::embed::BATCH_TOKENS;
    let a = Tensor::ones(
        (rows, HIDDEN as usize),
        candle_core::DType::F32,
        &Device::Cpu,
    )
    .expect("a");
    let b = Tensor::ones(
        (HIDDEN as usize, FEED_FORWARD as usize),
        candle_core::DType::F32,
        &Device::Cpu,
    )
    .expect("b");
    let mut best = Duration::MAX;
    for _ in 0..5 {
        let started = Instant::now();
        for _ in 0..10 {
            std::hint::black_box(a.matmul(&b).expect("matmul"));
        }
        best = best.min(started.elapsed());
    }
    10.0 * 2.0 * rows as f64 * HIDDEN * FEED_FORWARD / best.as_secs_f64()
}

fn first_sentence(doc: &str) -> String {
    let flat = doc.split_whitespace().collect::<Vec<_>>().join(" ");
    let end = flat.find(". ").map(|i| i + 1).unwrap_or(flat.len());
    flat[..end].trim_end_matches('.').to_string()
}

#[tokio::main]
async fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let model_dir =
        std::env::var("EMBEDDING_MODEL_DIR").expect("EMBEDDING_MODEL_DIR (make bench sets it)");
    let embedder =
        Embedder::load(&EmbeddingConfig::Local(PathBuf::from(model_dir))).expect("model");

    // The repository's own source: every file the indexer would take.
    let scanned = scan(&root, 1024 * 1024, 100_000);
    let files: Vec<BenchFile> = scanned
        .files
        .into_iter()
        .filter(|f| !f.path.starts_with("end2end/node_modules"))
        .map(|f| BenchFile {
            text: read_source(&root, &f, 1024 * 1024).unwrap_or_default(),
            path: f.path,
            language: f.language,
            hash: f.hash,
        })
        .collect();
    let bytes: usize = files.iter().map(|f| f.text.len()).sum();
    println!(
        "corpus: {} files, {:.2} MB (this repository)",
        files.len(),
        bytes as f64 / 1e6
    );

    // Speed: raw tree-sitter parse vs parse + graph, best of 3 each.
    let mut raw_best = Duration::MAX;
    let mut graph_best = Duration::MAX;
    let mut parsed: Vec<ParsedFile> = Vec::new();
    for _ in 0..3 {
        let started = Instant::now();
        for f in &files {
            let mut parser = tree_sitter::Parser::new();
            parser.set_language(&f.language.grammar()).expect("grammar");
            std::hint::black_box(parser.parse(&f.text, None));
        }
        raw_best = raw_best.min(started.elapsed());
        let started = Instant::now();
        let run: Vec<ParsedFile> = files
            .iter()
            .map(|f| codeintel::parse_file(&f.path, f.language, &f.text).expect("parse"))
            .collect();
        std::hint::black_box(resolve(REPO, &run));
        graph_best = graph_best.min(started.elapsed());
        parsed = run;
    }
    let mb = bytes as f64 / 1e6;
    println!("\n## Speed\n");
    println!("| | MB/s | files/s |");
    println!("|---|---|---|");
    println!(
        "| baseline: raw tree-sitter parse | {:.2} | {:.0} |",
        mb / raw_best.as_secs_f64(),
        files.len() as f64 / raw_best.as_secs_f64()
    );
    println!(
        "| parse + code graph (extract + resolve) | {:.2} | {:.0} |",
        mb / graph_best.as_secs_f64(),
        files.len() as f64 / graph_best.as_secs_f64()
    );
    println!(
        "graph costs {:.2}x a raw parse",
        graph_best.as_secs_f64() / raw_best.as_secs_f64()
    );

    // Chunks with doc comments stripped (the quality set must not see its own answers).
    let graph = resolve(REPO, &parsed);
    let mut chunks: Vec<Chunk> = Vec::new();
    for (i, (p, f)) in parsed.iter().zip(&files).enumerate() {
        let symbols: Vec<_> = graph.file_symbols[i]
            .iter()
            .map(|&s| graph.symbols[s].clone())
            .collect();
        chunks.extend(chunk_file(
            p,
            &symbols,
            &f.text,
            ChunkOptions { strip_docs: true },
        ));
    }
    let matmul = matmul_flops();
    // What padding cost before passes were sorted by length: passes of 32 texts in file
    // order, each padded to its longest.
    let texts: Vec<String> = chunks.iter().map(Chunk::embedding_text).collect();
    let lengths = embedder.token_lengths(&texts).expect("lengths");
    let in_order = lengths
        .chunks(32)
        .fold((0u64, 0u64), |(own, computed), pass| {
            let longest = pass.iter().max().copied().unwrap_or(0);
            (
                own + pass.iter().sum::<usize>() as u64,
                computed + (longest * pass.len()) as u64,
            )
        });
    println!(
        "padding with passes of 32 in file order (before): {:.1}% of {} computed word pieces",
        (1.0 - in_order.0 as f64 / in_order.1 as f64) * 100.0,
        in_order.1
    );
    let started = Instant::now();
    let vectors = embedder.embed(texts).await.expect("embed");
    let embed_time = started.elapsed();
    let work = embedder.padding();
    let flops = model_flops(&work) / embed_time.as_secs_f64();
    println!(
        "embedding (all-MiniLM-L6-v2, CPU, passes sorted by length): {} chunks in {:.1} s = {:.1} chunks/s; \
         padding {:.1}% of {} computed word pieces; {:.1} GFLOP/s = {:.0}% of a plain matmul of the \
         model's shapes in this run ({:.1} GFLOP/s)",
        chunks.len(),
        embed_time.as_secs_f64(),
        chunks.len() as f64 / embed_time.as_secs_f64(),
        work.share() * 100.0,
        work.computed,
        flops / 1e9,
        flops / matmul * 100.0,
        matmul / 1e9
    );

    let dir = std::env::temp_dir().join(format!("sy-bench-{}", std::process::id()));
    let index = CodeIndex::open(&dir, embedder.dims()).await.expect("index");
    let stored: Vec<StoredFile> = parsed
        .iter()
        .zip(&files)
        .map(|(p, f)| StoredFile {
            hash: f.hash.clone(),
            parsed: p.clone(),
        })
        .collect();
    let symbols: Vec<_> = graph.symbols.clone();
    let touched: Vec<String> = files.iter().map(|f| f.path.clone()).collect();
    index
        .write_run(
            REPO,
            &touched,
            &symbols,
            &chunks,
            vectors,
            &graph.edges,
            &stored,
        )
        .await
        .expect("write");

    // The evaluation set: documented items whose first doc sentence has 5+ words.
    let mut cases: Vec<(String, String)> = graph
        .symbols
        .iter()
        .filter(|s| s.language == Language::Rust && s.kind.is_chunked())
        .filter_map(|s| {
            let q = first_sentence(&s.doc);
            (q.split_whitespace().count() >= 5).then(|| (q, s.id.clone()))
        })
        .collect();
    cases.sort();
    let step = (cases.len() / QUERIES).max(1);
    let cases: Vec<_> = cases.into_iter().step_by(step).take(QUERIES).collect();
    let query_vectors = embedder
        .embed(cases.iter().map(|(q, _)| q.clone()).collect())
        .await
        .expect("query vectors");

    println!(
        "\n## Quality ({} queries from doc comments, docs stripped from the index)\n",
        cases.len()
    );
    println!("| ranking | MRR@10 | recall@10 | search p50 | search p95 |");
    println!("|---|---|---|---|---|");
    for (name, mode) in [
        ("BM25 only", Mode::Keyword),
        ("vectors only", Mode::Vector),
        ("hybrid (RRF)", Mode::Hybrid),
    ] {
        let mut reciprocal = 0.0;
        let mut found = 0;
        let mut latencies = Vec::with_capacity(cases.len());
        for ((query, answer), vector) in cases.iter().zip(&query_vectors) {
            let started = Instant::now();
            let hits = index
                .search(query, Some(vector), &Filters::default(), mode, 10)
                .await
                .expect("search");
            latencies.push(started.elapsed());
            if let Some(rank) = hits.iter().position(|h| &h.symbol_id == answer) {
                reciprocal += 1.0 / (rank + 1) as f64;
                found += 1;
            }
        }
        latencies.sort();
        println!(
            "| {name} | {:.3} | {:.3} | {:.1} ms | {:.1} ms |",
            reciprocal / cases.len() as f64,
            found as f64 / cases.len() as f64,
            percentile(&latencies, 0.5).as_secs_f64() * 1e3,
            percentile(&latencies, 0.95).as_secs_f64() * 1e3
        );
    }
    let mut with_embedding = Vec::new();
    for (query, _) in cases.iter().take(50) {
        let started = Instant::now();
        let v = embedder.embed(vec![query.clone()]).await.expect("embed");
        index
            .search(
                query,
                v.first().map(Vec::as_slice),
                &Filters::default(),
                Mode::Hybrid,
                10,
            )
            .await
            .expect("search");
        with_embedding.push(started.elapsed());
    }
    with_embedding.sort();
    println!(
        "\nhybrid search including the query's embedding: p50 {:.1} ms, p95 {:.1} ms",
        percentile(&with_embedding, 0.5).as_secs_f64() * 1e3,
        percentile(&with_embedding, 0.95).as_secs_f64() * 1e3
    );
    let _ = std::fs::remove_dir_all(&dir);
}
