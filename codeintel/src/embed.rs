//! Embedding models: all-MiniLM-L6-v2 run on the CPU with candle (the default), or an
//! OpenAI-compatible `/embeddings` endpoint. There is no fallback: without a model, indexing
//! fails and says which setting is missing.

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokenizers::{Tokenizer, TruncationParams};

/// Word pieces per text the local model reads (sentence-transformers' limit for MiniLM).
const MAX_TOKENS: usize = 256;
/// Texts per forward pass at most.
pub const BATCH: usize = 32;
/// Word pieces per forward pass at most, padding included (its rows × its longest row): a
/// batch of long texts has fewer rows, so a pass's activations stay about one size.
pub const BATCH_TOKENS: usize = 4096;

/// How much of the local model's work was padding: every row of a forward pass is as long
/// as its longest, and the model computes over the padding too.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Padding {
    /// The texts' own word pieces.
    pub tokens: u64,
    /// The word pieces the passes computed (the texts' own and their padding).
    pub computed: u64,
    /// The pairs of word pieces attention computed (each pass's rows × its width²).
    pub pairs: u64,
}

impl Padding {
    /// The share of computed word pieces that were padding (0 when nothing was computed).
    pub fn share(&self) -> f64 {
        if self.computed == 0 {
            return 0.0;
        }
        1.0 - self.tokens as f64 / self.computed as f64
    }
}

/// The most of a forward pass's computed word pieces that may be padding.
pub const MAX_PADDING: f64 = 0.1;

/// The forward passes for texts of word-piece `lengths`: indexes into `lengths`, each pass
/// a run of texts of similar length (sorted, shortest first), at most [`BATCH`] texts,
/// [`BATCH_TOKENS`] computed word pieces (a text longer than that alone) and a
/// [`MAX_PADDING`] share of padding; and the padding they compute.
pub fn plan_batches(lengths: &[usize]) -> (Vec<Vec<usize>>, Padding) {
    let mut order: Vec<usize> = (0..lengths.len()).collect();
    order.sort_by_key(|&i| (lengths[i], i));
    let mut batches: Vec<Vec<usize>> = Vec::new();
    let mut padding = Padding::default();
    let mut current: Vec<usize> = Vec::new();
    let mut own = 0usize; // the current pass's own word pieces
    let close = |batch: &mut Vec<usize>, batches: &mut Vec<Vec<usize>>, padding: &mut Padding| {
        if let Some(&last) = batch.last() {
            // Sorted: the last is the longest.
            padding.computed += (lengths[last] * batch.len()) as u64;
            padding.pairs += (lengths[last] * lengths[last] * batch.len()) as u64;
            batches.push(std::mem::take(batch));
        }
    };
    for i in order {
        padding.tokens += lengths[i] as u64;
        let computed = (current.len() + 1) * lengths[i];
        let padded = computed - own - lengths[i];
        if current.len() == BATCH
            || computed > BATCH_TOKENS
            || padded as f64 > MAX_PADDING * computed as f64
        {
            close(&mut current, &mut batches, &mut padding);
            own = 0;
        }
        own += lengths[i];
        current.push(i);
    }
    close(&mut current, &mut batches, &mut padding);
    (batches, padding)
}

/// Why texts could not be embedded.
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    #[error(
        "no embedding model is configured: set EMBEDDING_MODEL_DIR to a directory \
         with config.json, tokenizer.json and model.safetensors (`make model` installs \
         all-MiniLM-L6-v2), or EMBEDDING_URL to an OpenAI-compatible endpoint"
    )]
    NotConfigured,
    #[error("the embedding model in {dir} cannot be loaded: {reason}")]
    Load { dir: String, reason: String },
    #[error("embedding failed: {0}")]
    Failed(String),
    #[error("the embedding endpoint answered badly: {0}")]
    Endpoint(String),
}

/// Where embeddings come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EmbeddingConfig {
    /// A sentence-transformers BERT model directory (config.json, tokenizer.json,
    /// model.safetensors).
    Local(PathBuf),
    /// An OpenAI-compatible endpoint: base URL (…/v1), model name, optional API key, and
    /// the vector size it returns.
    Remote {
        url: String,
        model: String,
        api_key: Option<String>,
        dims: usize,
    },
}

/// A loaded embedding model. Vectors are L2-normalised, so cosine similarity is a dot product.
#[derive(Clone)]
pub struct Embedder {
    inner: Arc<Inner>,
    /// The local model's padding so far (for the benchmark and the index report).
    padding: Arc<std::sync::Mutex<Padding>>,
}

enum Inner {
    Local {
        model: Box<BertModel>,
        tokenizer: Box<Tokenizer>,
        dims: usize,
        name: String,
    },
    Remote {
        client: reqwest::Client,
        url: String,
        model: String,
        api_key: Option<String>,
        dims: usize,
    },
}

impl std::fmt::Debug for Embedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Embedder")
            .field("model", &self.model_name())
            .finish()
    }
}

impl Embedder {
    /// Loads the local model, or prepares a client for the remote endpoint.
    pub fn load(config: &EmbeddingConfig) -> Result<Embedder, EmbedError> {
        let inner = match config {
            EmbeddingConfig::Local(dir) => load_local(dir)?,
            EmbeddingConfig::Remote {
                url,
                model,
                api_key,
                dims,
            } => Inner::Remote {
                client: reqwest::Client::builder()
                    .timeout(std::time::Duration::from_secs(60))
                    .build()
                    .map_err(|e| EmbedError::Endpoint(e.to_string()))?,
                url: format!("{}/embeddings", url.trim_end_matches('/')),
                model: model.clone(),
                api_key: api_key.clone(),
                dims: *dims,
            },
        };
        Ok(Embedder {
            inner: Arc::new(inner),
            padding: Arc::default(),
        })
    }

    /// How many word pieces the local model reads of each text (after truncation).
    pub fn token_lengths(&self, texts: &[String]) -> Result<Vec<usize>, EmbedError> {
        let Inner::Local { tokenizer, .. } = &*self.inner else {
            return Err(EmbedError::Failed("not a local model".into()));
        };
        let encodings = tokenizer
            .encode_batch(texts.to_vec(), true)
            .map_err(|e| EmbedError::Failed(e.to_string()))?;
        Ok(encodings.iter().map(|e| e.get_ids().len()).collect())
    }

    /// The local model's padding so far.
    pub fn padding(&self) -> Padding {
        *self.padding.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The length of the vectors this model makes; an index is opened for one length.
    pub fn dims(&self) -> usize {
        match &*self.inner {
            Inner::Local { dims, .. } | Inner::Remote { dims, .. } => *dims,
        }
    }

    /// The model's name: the local model's directory, or the model the endpoint is asked for.
    pub fn model_name(&self) -> String {
        match &*self.inner {
            Inner::Local { name, .. } => name.clone(),
            Inner::Remote { model, .. } => model.clone(),
        }
    }

    /// Embeds texts, in batches; the local model runs on a blocking thread.
    pub async fn embed(&self, texts: Vec<String>) -> Result<Vec<Vec<f32>>, EmbedError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        match &*self.inner {
            Inner::Local { .. } => {
                let this = self.clone();
                tokio::task::spawn_blocking(move || this.embed_local(&texts))
                    .await
                    .map_err(|e| EmbedError::Failed(e.to_string()))?
            }
            Inner::Remote { .. } => self.embed_remote(texts).await,
        }
    }

    /// Embeds on the calling thread (CPU-bound; call from a blocking context).
    pub fn embed_local(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let Inner::Local {
            model, tokenizer, ..
        } = &*self.inner
        else {
            return Err(EmbedError::Failed("not a local model".into()));
        };
        // Every text's word pieces first, then passes over texts of similar length: padding
        // to a pass's longest text is computed like any word piece.
        let encodings = tokenizer
            .encode_batch(texts.to_vec(), true)
            .map_err(|e| EmbedError::Failed(e.to_string()))?;
        let lengths: Vec<usize> = encodings.iter().map(|e| e.get_ids().len()).collect();
        let (batches, padding) = plan_batches(&lengths);
        let mut out: Vec<Vec<f32>> = vec![Vec::new(); texts.len()];
        for batch in batches {
            let rows: Vec<&tokenizers::Encoding> = batch.iter().map(|&i| &encodings[i]).collect();
            let vectors = forward(model, &rows).map_err(|e| EmbedError::Failed(e.to_string()))?;
            for (i, vector) in batch.into_iter().zip(vectors) {
                out[i] = vector;
            }
        }
        let mut total = self.padding.lock().unwrap_or_else(|p| p.into_inner());
        total.tokens += padding.tokens;
        total.computed += padding.computed;
        total.pairs += padding.pairs;
        Ok(out)
    }

    async fn embed_remote(&self, texts: Vec<String>) -> Result<Vec<Vec<f32>>, EmbedError> {
        let Inner::Remote {
            client,
            url,
            model,
            api_key,
            dims,
        } = &*self.inner
        else {
            return Err(EmbedError::Failed("not a remote model".into()));
        };
        let mut out = Vec::with_capacity(texts.len());
        for batch in texts.chunks(BATCH) {
            let mut request = client
                .post(url)
                .json(&serde_json::json!({ "model": model, "input": batch }));
            if let Some(key) = api_key {
                request = request.bearer_auth(key);
            }
            let response = request
                .send()
                .await
                .map_err(|e| EmbedError::Endpoint(e.to_string()))?;
            let status = response.status();
            if !status.is_success() {
                let body = response.text().await.unwrap_or_default();
                return Err(EmbedError::Endpoint(format!(
                    "{status}: {}",
                    body.chars().take(300).collect::<String>()
                )));
            }
            let body: RemoteResponse = response
                .json()
                .await
                .map_err(|e| EmbedError::Endpoint(format!("unreadable response: {e}")))?;
            let mut data = body.data;
            data.sort_by_key(|d| d.index);
            if data.len() != batch.len() {
                return Err(EmbedError::Endpoint(format!(
                    "asked for {} vectors, got {}",
                    batch.len(),
                    data.len()
                )));
            }
            for item in data {
                if item.embedding.len() != *dims {
                    return Err(EmbedError::Endpoint(format!(
                        "vectors have {} dimensions, configured {dims}",
                        item.embedding.len()
                    )));
                }
                out.push(normalise(item.embedding));
            }
        }
        Ok(out)
    }
}

#[derive(serde::Deserialize)]
struct RemoteResponse {
    data: Vec<RemoteItem>,
}

#[derive(serde::Deserialize)]
struct RemoteItem {
    index: usize,
    embedding: Vec<f32>,
}

fn load_local(dir: &Path) -> Result<Inner, EmbedError> {
    let fail = |reason: String| EmbedError::Load {
        dir: dir.display().to_string(),
        reason,
    };
    for file in ["config.json", "tokenizer.json", "model.safetensors"] {
        if !dir.join(file).is_file() {
            return Err(fail(format!("{file} is missing")));
        }
    }
    let config: Config = std::fs::read_to_string(dir.join("config.json"))
        .map_err(|e| fail(e.to_string()))
        .and_then(|text| {
            serde_json::from_str(&text).map_err(|e| fail(format!("config.json: {e}")))
        })?;
    let mut tokenizer = Tokenizer::from_file(dir.join("tokenizer.json"))
        .map_err(|e| fail(format!("tokenizer.json: {e}")))?;
    tokenizer
        .with_truncation(Some(TruncationParams {
            max_length: MAX_TOKENS,
            ..Default::default()
        }))
        .map_err(|e| fail(format!("tokenizer truncation: {e}")))?;
    // Texts are padded per forward pass (see `plan_batches`), not by the tokenizer.
    tokenizer.with_padding(None);
    let weights = candle_core::safetensors::load(dir.join("model.safetensors"), &Device::Cpu)
        .and_then(laid_out_for_matmul)
        .map_err(|e| fail(format!("model.safetensors: {e}")))?;
    let weights = VarBuilder::from_tensors(weights, DType::F32, &Device::Cpu);
    let model = BertModel::load(weights, &config).map_err(|e| fail(format!("weights: {e}")))?;
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .filter(|n| n != "model")
        .unwrap_or_else(|| "all-MiniLM-L6-v2".to_string());
    Ok(Inner::Local {
        model: Box::new(model),
        tokenizer: Box::new(tokenizer),
        dims: config.hidden_size,
        name,
    })
}

/// The weights with every linear layer's matrix stored transposed (its shape unchanged):
/// a layer multiplies by its matrix's transpose, which is then contiguous in memory, the
/// layout the matrix multiply reads fastest. Stored as the file has them, each multiply
/// first gathers the transpose column by column: measured here, a 4-row pass through a
/// 384×1536 layer took 0.86 ms that way and 0.19 ms this way, so a short query's embedding
/// was mostly that gathering. Embedding tables are looked up by row and stay as they are.
fn laid_out_for_matmul(
    weights: std::collections::HashMap<String, Tensor>,
) -> candle_core::Result<std::collections::HashMap<String, Tensor>> {
    weights
        .into_iter()
        .map(|(name, tensor)| {
            let tensor = if tensor.rank() == 2 && !name.ends_with("embeddings.weight") {
                tensor.t()?.contiguous()?.t()?
            } else {
                tensor
            };
            Ok((name, tensor))
        })
        .collect()
}

/// One forward pass over `encodings`, each padded to the longest ([PAD] is 0 and masked
/// out): mean of the token vectors under the attention mask, L2-normalised
/// (sentence-transformers' pooling for this model).
fn forward(
    model: &BertModel,
    encodings: &[&tokenizers::Encoding],
) -> candle_core::Result<Vec<Vec<f32>>> {
    let device = Device::Cpu;
    let rows = encodings.len();
    let width = encodings
        .iter()
        .map(|e| e.get_ids().len())
        .max()
        .unwrap_or(0);
    if width == 0 {
        // The tokenizer adds [CLS] and [SEP] to every text; a pass of empty rows is not ours.
        return Err(candle_core::Error::Msg(
            "a text has no word pieces (not even [CLS])".to_owned(),
        ));
    }
    let mut ids = Vec::with_capacity(rows * width);
    let mut mask = Vec::with_capacity(rows * width);
    for encoding in encodings {
        let pad = width - encoding.get_ids().len();
        ids.extend_from_slice(encoding.get_ids());
        ids.extend(std::iter::repeat_n(0u32, pad));
        mask.extend_from_slice(encoding.get_attention_mask());
        mask.extend(std::iter::repeat_n(0u32, pad));
    }
    let ids = Tensor::from_vec(ids, (rows, width), &device)?;
    let mask = Tensor::from_vec(mask, (rows, width), &device)?;
    let token_types = ids.zeros_like()?;
    let hidden = model.forward(&ids, &token_types, Some(&mask))?;
    let mask = mask.to_dtype(DType::F32)?.unsqueeze(2)?;
    let summed = hidden.broadcast_mul(&mask)?.sum(1)?;
    let counts = mask.sum(1)?.clamp(1e-9, f64::MAX)?;
    let mean = summed.broadcast_div(&counts)?;
    let norms = mean.sqr()?.sum_keepdim(1)?.sqrt()?.clamp(1e-12, f64::MAX)?;
    mean.broadcast_div(&norms)?.to_vec2::<f32>()
}

fn normalise(mut v: Vec<f32>) -> Vec<f32> {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
    v
}

/// Cosine similarity of two normalised vectors.
pub fn similarity(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passes_take_texts_of_one_length_and_count_their_padding_exactly() {
        // Lengths out of order: sorted into passes, shortest first. The 3 beside the 5s
        // would be 20% padding and the 250 beside them mostly padding, so each starts a
        // pass; the 250 and the 256 share one.
        let lengths = [5, 256, 3, 5, 250, 5];
        let (batches, padding) = plan_batches(&lengths);
        assert_eq!(batches, vec![vec![2], vec![0, 3, 5], vec![4, 1]]);
        assert_eq!(padding.tokens, 524);
        assert_eq!(padding.computed, 3 + 3 * 5 + 2 * 256);
        // 4096 word pieces at most per pass: sixteen 256s fill one, the seventeenth starts
        // the next; a pass of short texts stops at 32 rows.
        let mut lengths = vec![256; 17];
        lengths.extend([10; 40]);
        let (batches, padding) = plan_batches(&lengths);
        let sizes: Vec<usize> = batches.iter().map(Vec::len).collect();
        assert_eq!(sizes, vec![32, 8, 16, 1]);
        assert!(batches[0].iter().all(|&i| lengths[i] == 10));
        assert_eq!(padding.tokens, 17 * 256 + 400);
        assert_eq!(padding.computed, padding.tokens);
        assert_eq!(padding.share(), 0.0);
        // A mixed pass's share of padding, within the bound; past it, two passes.
        let (batches, mixed) = plan_batches(&[10, 9]);
        assert_eq!(batches, vec![vec![1, 0]]);
        assert_eq!(
            mixed,
            Padding {
                tokens: 19,
                computed: 20,
                pairs: 200
            }
        );
        assert!((mixed.share() - 0.05).abs() < 1e-12);
        let (batches, _) = plan_batches(&[10, 7]);
        assert_eq!(batches, vec![vec![1], vec![0]]);
        assert_eq!(plan_batches(&[]), (vec![], Padding::default()));
    }
}
