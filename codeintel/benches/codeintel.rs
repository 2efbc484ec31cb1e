//! `make bench` — code intelligence figures on this repository's own code and on the
//! corpora nobody here wrote that `codeintel/corpora/build.sh` fetches from the registries
//! (each subdirectory of `CODE_CORPORA`, when set; `make bench` sets it).
//!
//! Quality: queries are the first sentence of a documented item's doc comment (or
//! docstring); the answer is that item (its path and symbol); the index is built with doc
//! comments stripped from the indexed text, so a query cannot match its own words. MRR@10,
//! recall@1 and recall@10 for BM25 only, vectors only and hybrid.
//!
//! Speed: parse + graph (extract + resolve) against a raw tree-sitter parse of the same files
//! in the same run; indexing time split into parse, embed and write; embedding throughput
//! against a plain matmul of the model's shapes in the same run; search latency.

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

/// One corpus's headline figures, for the summary table.
struct Summary {
    name: String,
    chunks: usize,
    queries: usize,
    mrr: [f64; 3],
    chunks_per_second: f64,
    matmul_share: f64,
    keyword_p50: Duration,
    hybrid_with_embedding_p50: Duration,
    hybrid_with_embedding_p95: Duration,
}

#[tokio::main]
async fn main() {
    let model_dir =
        std::env::var("EMBEDDING_MODEL_DIR").expect("EMBEDDING_MODEL_DIR (make bench sets it)");
    let embedder =
        Embedder::load(&EmbeddingConfig::Local(PathBuf::from(model_dir))).expect("model");
    let matmul = matmul_flops();
    println!(
        "plain f32 matmul of the model's feed-forward shape, this run: {:.1} GFLOP/s",
        matmul / 1e9
    );
    let mut corpora = vec![(
        "switchyard".to_owned(),
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".."),
    )];
    if let Ok(dir) = std::env::var("CODE_CORPORA") {
        let mut more: Vec<(String, PathBuf)> = std::fs::read_dir(&dir)
            .expect("CODE_CORPORA is a directory (codeintel/corpora/build.sh makes it)")
            .filter_map(Result::ok)
            .filter(|e| e.path().is_dir() && !e.file_name().to_string_lossy().starts_with('.'))
            .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
            .collect();
        more.sort();
        corpora.extend(more);
    }
    // `cargo bench --bench codeintel -- NAME` evaluates only the corpora whose name has NAME.
    let only: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let mut summaries = Vec::new();
    for (name, root) in corpora {
        if only.as_deref().is_some_and(|o| !name.contains(o)) {
            continue;
        }
        summaries.push(evaluate(&name, &root, &embedder, matmul).await);
    }
    println!("\n## Summary\n");
    println!("| corpus | chunks | queries | MRR@10 BM25 | vectors | hybrid | chunks/s | of matmul | keyword p50 | hybrid+embedding p50 / p95 |");
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for s in summaries {
        if s.queries == 0 {
            // Nothing documented to ask about: no quality or search figures to show.
            println!(
                "| {} | {} | 0 | – | – | – | {:.1} | {:.0}% | – | – |",
                s.name,
                s.chunks,
                s.chunks_per_second,
                s.matmul_share * 100.0
            );
            continue;
        }
        println!(
            "| {} | {} | {} | {:.3} | {:.3} | {:.3} | {:.1} | {:.0}% | {:.1} ms | {:.1} / {:.1} ms |",
            s.name,
            s.chunks,
            s.queries,
            s.mrr[0],
            s.mrr[1],
            s.mrr[2],
            s.chunks_per_second,
            s.matmul_share * 100.0,
            s.keyword_p50.as_secs_f64() * 1e3,
            s.hybrid_with_embedding_p50.as_secs_f64() * 1e3,
            s.hybrid_with_embedding_p95.as_secs_f64() * 1e3,
        );
    }
}

/// Indexes the corpus at `root` as the repository `name` and evaluates search over it.
async fn evaluate(name: &str, root: &std::path::Path, embedder: &Embedder, matmul: f64) -> Summary {
    // Every file the indexer would take.
    let scanned = scan(root, 1024 * 1024, 100_000);
    let files: Vec<BenchFile> = scanned
        .files
        .into_iter()
        .filter(|f| !f.path.starts_with("end2end/node_modules"))
        .map(|f| BenchFile {
            text: read_source(root, &f, 1024 * 1024).unwrap_or_default(),
            path: f.path,
            language: f.language,
            hash: f.hash,
        })
        .collect();
    let bytes: usize = files.iter().map(|f| f.text.len()).sum();
    println!(
        "\n# {name}: {} files, {:.2} MB",
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
        std::hint::black_box(resolve(name, &run));
        graph_best = graph_best.min(started.elapsed());
        parsed = run;
    }
    let mb = bytes as f64 / 1e6;
    println!("\n## Parsing\n");
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
    let graph = resolve(name, &parsed);
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
    let before = embedder.padding();
    let started = Instant::now();
    let vectors = embedder.embed(texts).await.expect("embed");
    let embed_time = started.elapsed();
    let after = embedder.padding();
    let work = codeintel::embed::Padding {
        tokens: after.tokens - before.tokens,
        computed: after.computed - before.computed,
        pairs: after.pairs - before.pairs,
    };
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

    let dir = std::env::temp_dir().join(format!("sy-bench-{}-{name}", std::process::id()));
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
    let started = Instant::now();
    index
        .write_run(
            name,
            &touched,
            &symbols,
            &chunks,
            vectors,
            &graph.edges,
            &stored,
        )
        .await
        .expect("write");
    let write_time = started.elapsed();
    println!(
        "indexing time: parse + graph {:.1} s, embed {:.1} s, write {:.1} s",
        graph_best.as_secs_f64(),
        embed_time.as_secs_f64(),
        write_time.as_secs_f64()
    );

    // The evaluation set: documented items whose first doc sentence has 5+ words.
    let mut cases: Vec<(String, String)> = graph
        .symbols
        .iter()
        .filter(|s| s.kind.is_chunked())
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
    println!("| ranking | MRR@10 | recall@1 | recall@10 | search p50 | search p95 |");
    println!("|---|---|---|---|---|---|");
    let mut mrr = [0.0; 3];
    let mut keyword_p50 = Duration::ZERO;
    for (i, (label, mode)) in [
        ("BM25 only", Mode::Keyword),
        ("vectors only", Mode::Vector),
        ("hybrid (RRF)", Mode::Hybrid),
    ]
    .into_iter()
    .enumerate()
    {
        let mut reciprocal = 0.0;
        let (mut first, mut found) = (0, 0);
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
                first += usize::from(rank == 0);
            }
        }
        latencies.sort();
        let queries = cases.len().max(1) as f64;
        mrr[i] = reciprocal / queries;
        if mode == Mode::Keyword {
            keyword_p50 = percentile(&latencies, 0.5);
        }
        println!(
            "| {label} | {:.3} | {:.3} | {:.3} | {:.1} ms | {:.1} ms |",
            mrr[i],
            first as f64 / queries,
            found as f64 / queries,
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
    Summary {
        name: name.to_owned(),
        chunks: chunks.len(),
        queries: cases.len(),
        mrr,
        chunks_per_second: chunks.len() as f64 / embed_time.as_secs_f64(),
        matmul_share: flops / matmul,
        keyword_p50,
        hybrid_with_embedding_p50: percentile(&with_embedding, 0.5),
        hybrid_with_embedding_p95: percentile(&with_embedding, 0.95),
    }
}
