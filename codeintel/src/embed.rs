//! Embedding models: all-MiniLM-L6-v2 run on the CPU with candle (the default), or an
//! OpenAI-compatible `/embeddings` endpoint. There is no fallback: without a model, indexing
//! fails and says which setting is missing.

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokenizers::{PaddingParams, PaddingStrategy, Tokenizer, TruncationParams};

/// Word pieces per text the local model reads (sentence-transformers' limit for MiniLM).
const MAX_TOKENS: usize = 256;
/// Texts per forward pass.
pub const BATCH: usize = 32;

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
        })
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
        let mut out = Vec::with_capacity(texts.len());
        for batch in texts.chunks(BATCH) {
            out.extend(
                forward(model, tokenizer, batch).map_err(|e| EmbedError::Failed(e.to_string()))?,
            );
        }
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
    tokenizer.with_padding(Some(PaddingParams {
        strategy: PaddingStrategy::BatchLongest,
        ..Default::default()
    }));
    // SAFETY: the weights file is memory-mapped read-only; the model directory is installed
    // by `make model` and not modified while the process runs.
    let weights = unsafe {
        VarBuilder::from_mmaped_safetensors(
            &[dir.join("model.safetensors")],
            DType::F32,
            &Device::Cpu,
        )
    }
    .map_err(|e| fail(format!("model.safetensors: {e}")))?;
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

/// One forward pass: mean of the token vectors under the attention mask, L2-normalised
/// (sentence-transformers' pooling for this model).
fn forward(
    model: &BertModel,
    tokenizer: &Tokenizer,
    texts: &[String],
) -> candle_core::Result<Vec<Vec<f32>>> {
    let encodings = tokenizer
        .encode_batch(texts.to_vec(), true)
        .map_err(|e| candle_core::Error::Msg(e.to_string()))?;
    let device = Device::Cpu;
    let rows = encodings.len();
    let width = encodings.first().map(|e| e.get_ids().len()).unwrap_or(0);
    let mut ids = Vec::with_capacity(rows * width);
    let mut mask = Vec::with_capacity(rows * width);
    for encoding in &encodings {
        ids.extend_from_slice(encoding.get_ids());
        mask.extend_from_slice(encoding.get_attention_mask());
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
