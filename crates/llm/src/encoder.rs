//! A sentence encoder run in process: a BERT (all-MiniLM-L6-v2 by default) through llama.cpp's
//! embedding mode, turning a text into a unit vector whose dot product with another text's says how
//! close their meanings are. One thread owns the model and its context, as the chat engine's does;
//! texts arrive over a channel and are encoded a few at a time.

pub mod gguf;

use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread::JoinHandle;

use llama_cpp_2::context::params::{LlamaContextParams, LlamaPoolingType};
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::token::LlamaToken;
use tokio::sync::oneshot;

use crate::LlmError;
use crate::local::load_model;

/// Tokens of a text the encoder reads, `[CLS]` and `[SEP]` included; the rest is not looked at.
/// sentence-transformers reads all-MiniLM-L6-v2 this far, and it was trained on shorter texts.
pub const MAX_TOKENS: usize = 256;

/// Tokens encoded in one pass. Attention runs over every token of a pass (other texts' masked), so
/// a pass of a few texts costs little more than their own attention would.
const PASS_TOKENS: usize = 512;

/// Texts in one pass.
const PASS_TEXTS: usize = 16;

/// How to run an encoder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncoderConfig {
    /// The GGUF file (see [`gguf::bert_to_gguf`]).
    pub model_path: PathBuf,
    /// CPU threads for llama.cpp.
    pub threads: usize,
}

/// A request to the encoder thread.
struct Job {
    texts: Vec<String>,
    reply: oneshot::Sender<Result<Vec<Vec<f32>>, LlmError>>,
}

/// A sentence encoder.
pub struct Encoder {
    jobs: Option<mpsc::Sender<Job>>,
    thread: Option<JoinHandle<()>>,
    dimensions: usize,
    model: String,
}

impl Encoder {
    /// Loads the model on a thread of its own; returns once it is ready, or why it could not be.
    pub fn load(config: &EncoderConfig) -> Result<Self, LlmError> {
        let (jobs, receiver) = mpsc::channel::<Job>();
        let (ready, loaded) = mpsc::sync_channel(1);
        let thread_config = config.clone();
        let thread = std::thread::Builder::new()
            .name("lyceum-encoder".into())
            .spawn(move || run(&thread_config, &receiver, &ready))
            .map_err(|error| LlmError::Engine(format!("could not start the encoder: {error}")))?;
        let dimensions = loaded
            .recv()
            .map_err(|_| LlmError::Engine("the encoder thread ended while loading".into()))??;
        Ok(Self {
            jobs: Some(jobs),
            thread: Some(thread),
            dimensions,
            model: model_name(&config.model_path),
        })
    }

    /// The length of every vector this encoder gives.
    pub fn dimensions(&self) -> usize {
        self.dimensions
    }

    /// The model's name (its file stem).
    pub fn model(&self) -> &str {
        &self.model
    }

    /// The unit vectors of `texts`, in order. Only the first [`MAX_TOKENS`] tokens of a text count.
    pub async fn embed(&self, texts: Vec<String>) -> Result<Vec<Vec<f32>>, LlmError> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .as_ref()
            .and_then(|jobs| jobs.send(Job { texts, reply }).ok())
            .ok_or_else(|| LlmError::Engine("the encoder has stopped".into()))?;
        answer
            .await
            .map_err(|_| LlmError::Engine("the encoder stopped before answering".into()))?
    }
}

impl Drop for Encoder {
    fn drop(&mut self) {
        // The thread ends when its channel closes; wait for it so llama.cpp is done before exit.
        self.jobs.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn model_name(path: &Path) -> String {
    path.file_stem()
        .map(|stem| stem.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The encoder thread: loads the model, says so on `ready` with the vector length, then answers
/// jobs until the encoder is dropped.
fn run(
    config: &EncoderConfig,
    jobs: &mpsc::Receiver<Job>,
    ready: &mpsc::SyncSender<Result<usize, LlmError>>,
) {
    let (backend, model) = match load_model(&config.model_path) {
        Ok(loaded) => loaded,
        Err(error) => {
            let _ = ready.send(Err(error));
            return;
        }
    };
    let threads = i32::try_from(config.threads.max(1)).unwrap_or(1);
    let tokens = NonZeroU32::new(PASS_TOKENS as u32);
    let params = LlamaContextParams::default()
        .with_embeddings(true)
        .with_pooling_type(LlamaPoolingType::Mean)
        .with_n_ctx(tokens)
        .with_n_batch(PASS_TOKENS as u32)
        .with_n_ubatch(PASS_TOKENS as u32)
        .with_n_seq_max(PASS_TEXTS as u32)
        .with_n_threads(threads)
        .with_n_threads_batch(threads);
    let mut ctx = match model.new_context(backend, params) {
        Ok(ctx) => ctx,
        Err(error) => {
            let _ = ready.send(Err(LlmError::Engine(format!(
                "could not create the encoder's llama.cpp context: {error}"
            ))));
            return;
        }
    };
    let dimensions = usize::try_from(model.n_embd()).unwrap_or_default();
    if ready.send(Ok(dimensions)).is_err() {
        return;
    }
    let mut batch = LlamaBatch::new(PASS_TOKENS, PASS_TEXTS as i32);
    while let Ok(job) = jobs.recv() {
        let vectors = job
            .texts
            .iter()
            .map(|text| tokens_of(&model, text))
            .collect::<Vec<_>>();
        let result = encode_all(&mut ctx, &mut batch, &vectors, dimensions);
        let _ = job.reply.send(result);
    }
}

/// The tokens the encoder reads of `text`: `[CLS]`, its first pieces, `[SEP]`.
fn tokens_of(model: &LlamaModel, text: &str) -> Vec<LlamaToken> {
    let mut tokens = model.vocab().tokenize(text.as_bytes(), true, false);
    if tokens.len() > MAX_TOKENS
        && let Some(&last) = tokens.last()
    {
        tokens.truncate(MAX_TOKENS - 1);
        tokens.push(last);
    }
    tokens
}

/// Encodes every text, a pass of up to [`PASS_TOKENS`] tokens and [`PASS_TEXTS`] texts at a time.
fn encode_all(
    ctx: &mut llama_cpp_2::context::LlamaContext<'_>,
    batch: &mut LlamaBatch,
    texts: &[Vec<LlamaToken>],
    dimensions: usize,
) -> Result<Vec<Vec<f32>>, LlmError> {
    let mut vectors = Vec::with_capacity(texts.len());
    let mut start = 0;
    while start < texts.len() {
        let mut end = start;
        let mut tokens = 0;
        while end < texts.len()
            && end - start < PASS_TEXTS
            && (end == start || tokens + texts[end].len() <= PASS_TOKENS)
        {
            tokens += texts[end].len();
            end += 1;
        }
        batch.clear();
        for (seq, text) in texts[start..end].iter().enumerate() {
            batch
                .add_sequence(text, seq as i32, true)
                .map_err(|error| LlmError::Engine(format!("could not batch a text: {error}")))?;
        }
        ctx.encode(batch)
            .map_err(|error| LlmError::Engine(format!("the encoder failed: {error}")))?;
        for seq in 0..end - start {
            let pooled = ctx.embeddings_seq_ith(seq as i32).map_err(|error| {
                LlmError::Engine(format!("the encoder gave no vector: {error}"))
            })?;
            vectors.push(unit(&pooled[..dimensions.min(pooled.len())]));
        }
        start = end;
    }
    Ok(vectors)
}

/// `vector` scaled to length 1 (a zero vector stays zero).
fn unit(vector: &[f32]) -> Vec<f32> {
    let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        vector.iter().map(|x| x / norm).collect()
    } else {
        vector.to_vec()
    }
}

/// The cosine similarity of two unit vectors.
pub fn similarity(a: &[f32], b: &[f32]) -> f32 {
    // Eight running sums, which the compiler keeps in vector registers: one running sum is a single
    // chain of dependent additions, and search compares a query with every stored vector.
    let n = a.len().min(b.len());
    let ((a, a_tail), (b, b_tail)) = (a[..n].as_chunks::<8>(), b[..n].as_chunks::<8>());
    let tail: f32 = a_tail.iter().zip(b_tail).map(|(x, y)| x * y).sum();
    let mut sums = [0.0f32; 8];
    for (x, y) in a.iter().zip(b) {
        for ((sum, x), y) in sums.iter_mut().zip(x).zip(y) {
            *sum += x * y;
        }
    }
    sums.iter().sum::<f32>() + tail
}

#[cfg(test)]
mod tests {
    use super::similarity;

    #[test]
    fn similarity_counts_every_component_whatever_the_length() {
        for length in [0, 1, 7, 8, 9, 384, 389] {
            let a: Vec<f32> = (0..length).map(|i| (i as f32 * 0.37).sin()).collect();
            let b: Vec<f32> = (0..length).map(|i| (i as f32 * 0.11).cos()).collect();
            let plain: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
            assert!((similarity(&a, &b) - plain).abs() < 1e-4, "length {length}");
        }
        // Vectors of different lengths compare over the shorter one.
        assert_eq!(similarity(&[1.0; 9], &[2.0; 20]), 18.0);
    }
}
