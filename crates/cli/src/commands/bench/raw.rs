//! The raw llama.cpp baseline of `lyceum bench llm`: the same model, threads, prompts, sampling,
//! number of sequences and model and cache settings the engine is measured with, in a minimal decode loop of llama-cpp-2 calls and
//! nothing of Lyceum's, so the engine's figure reads as a share of what llama.cpp itself does here.

use std::num::NonZeroU32;
use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::{LlamaChatMessage, LlamaModel};
use llama_cpp_2::sampling::LlamaSampler;
use lyceum_llm::local::{CacheLayout, context_params};

/// Tokens per `llama_decode` call, as the engine feeds them.
const BATCH_TOKENS: usize = 1024;

/// How the raw loop lays out its KV cache.
#[derive(Debug, Clone, Copy)]
pub enum Cache {
    /// llama.cpp's default: each sequence has a stream of its own of this many cells and attends
    /// over it alone.
    Split { context_per_sequence: u32 },
    /// One cache of this many cells for all sequences, as the engine runs: every token's attention
    /// walks the cells all sequences hold and skips those of the others.
    Unified { cells: u32 },
    /// A stream per sequence as in `Split`, with llama.cpp's flash attention off: attention is then
    /// matrix products over each stream, which on this CPU costs far less per cell of context than
    /// the flash-attention kernel does for a few rows at a time.
    SplitPlainAttention { context_per_sequence: u32 },
}

/// What one run of the raw loop measured.
#[derive(Debug, Clone, Copy)]
pub struct Rates {
    /// Generated tokens per second, prompt decoding included.
    pub aggregate: f64,
    /// Seconds spent decoding the prompts.
    pub prompt_secs: f64,
    /// Generated tokens per second once every prompt is decoded.
    pub generating: f64,
}

/// What the loop measures when every user message of `prompts` is answered at once with `tokens`
/// tokens each (end-of-text is not a stop: each writes all of them).
pub fn aggregate(
    model_path: &Path,
    threads: usize,
    prompts: &[String],
    tokens: u32,
    cache: Cache,
    kv_cache: lyceum_llm::local::KvCache,
) -> anyhow::Result<Rates> {
    let backend = lyceum_llm::local::backend()?;
    let model = LlamaModel::load_from_file(backend, model_path, &lyceum_llm::local::model_params())
        .with_context(|| format!("llama.cpp could not load {}", model_path.display()))?;
    let template = model.chat_template(None)?;
    let width = u32::try_from(prompts.len())?;
    let threads = i32::try_from(threads.max(1))?;
    // The engine's two layouts as it sets them up, and llama.cpp's default: streams read with
    // flash attention.
    let (params, cells) = match cache {
        Cache::Split {
            context_per_sequence,
        } => (
            context_params(kv_cache, CacheLayout::Shared).with_kv_unified(false),
            width * context_per_sequence,
        ),
        Cache::Unified { cells } => (context_params(kv_cache, CacheLayout::Shared), cells),
        Cache::SplitPlainAttention {
            context_per_sequence,
        } => (
            context_params(kv_cache, CacheLayout::Streams),
            width * context_per_sequence,
        ),
    };
    let params = params
        .with_n_ctx(NonZeroU32::new(cells))
        .with_n_batch(BATCH_TOKENS as u32)
        .with_n_ubatch(512)
        .with_n_seq_max(width)
        .with_n_threads(threads)
        .with_n_threads_batch(threads);
    let mut ctx = model.new_context(backend, params)?;
    let mut prompt_tokens = Vec::new();
    for text in prompts {
        let chat = [LlamaChatMessage::new("user".into(), text.clone())?];
        let templated = model.apply_chat_template(&template, &chat, true)?;
        prompt_tokens.push(model.vocab().tokenize(templated.as_bytes(), true, true));
    }
    let mut samplers: Vec<LlamaSampler> = (0..width)
        .map(|seed| {
            LlamaSampler::chain_simple([
                LlamaSampler::top_k(40),
                LlamaSampler::top_p(0.95, 1),
                LlamaSampler::min_p(0.05, 1),
                LlamaSampler::temp(0.7),
                LlamaSampler::dist(seed),
            ])
        })
        .collect();
    let mut batch = LlamaBatch::new(BATCH_TOKENS, 1);
    let started = Instant::now();

    // Every prompt, in chunks of at most BATCH_TOKENS; a sequence samples its first token as soon as
    // the chunk holding its prompt's last token is decoded.
    let mut next = vec![None; prompts.len()];
    let mut queue: Vec<(usize, usize)> = prompt_tokens
        .iter()
        .enumerate()
        .flat_map(|(seq, prompt)| (0..prompt.len()).map(move |at| (seq, at)))
        .collect();
    queue.reverse();
    while !queue.is_empty() {
        batch.clear();
        let mut ends = Vec::new();
        while let Some(&(seq, at)) = queue.last() {
            if batch.n_tokens() as usize == BATCH_TOKENS {
                break;
            }
            queue.pop();
            let last = at + 1 == prompt_tokens[seq].len();
            batch.add(prompt_tokens[seq][at], at as i32, &[seq as i32], last)?;
            if last {
                ends.push((seq, batch.n_tokens() - 1));
            }
        }
        ctx.decode(&mut batch)?;
        for (seq, at) in ends {
            next[seq] = Some(samplers[seq].sample(&ctx, at));
        }
    }

    let prompted = started.elapsed();
    // One token per sequence per decode until each has written `tokens`.
    let mut positions: Vec<i32> = prompt_tokens.iter().map(|p| p.len() as i32).collect();
    for _ in 1..tokens {
        batch.clear();
        for (seq, token) in next.iter().enumerate() {
            let token = token.context("a sequence has no token to decode")?;
            batch.add(token, positions[seq], &[seq as i32], true)?;
            positions[seq] += 1;
        }
        ctx.decode(&mut batch)?;
        for (seq, sampler) in samplers.iter_mut().enumerate() {
            next[seq] = Some(sampler.sample(&ctx, seq as i32));
        }
    }
    let total = started.elapsed();
    Ok(Rates {
        aggregate: f64::from(width * tokens) / total.as_secs_f64(),
        prompt_secs: prompted.as_secs_f64(),
        // The first token of each came with its prompt.
        generating: f64::from(width * tokens.saturating_sub(1))
            / (total - prompted).as_secs_f64().max(f64::EPSILON),
    })
}
