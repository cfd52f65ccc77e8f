//! Language-model engines behind one object-safe trait.
//!
//! This crate owns talking to models: the request and stream types, the local llama.cpp engine, the
//! OpenAI-compatible HTTP engine, and the [`Governed`] wrapper that every engine runs behind (concurrency
//! limit and usage accounting). It knows nothing about courses, storage or settings files: callers build
//! the engine configs and the requests.

pub mod encoder;
mod error;
mod governor;
pub mod local;
pub mod openai;
mod request;
mod stop;
mod utf8;

use std::num::NonZeroU32;
use std::pin::Pin;

use futures::{Stream, StreamExt};

pub use error::LlmError;
pub use governor::{Governed, GovernorConfig, UsageSnapshot};
pub use request::{JsonSchema, Message, Priority, Request, Role};

/// What a generation stream yields: text as it is written, then exactly one `Done`.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The next piece of generated text (never empty).
    Delta(String),
    /// The generation finished; no more items follow.
    Done(Usage),
}

/// Token counts of one generation. `None` means the engine did not report it (some servers send no usage
/// in a stream); it is never guessed as zero.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    /// Tokens in the prompt, after the chat template.
    pub prompt_tokens: Option<u32>,
    /// Tokens generated.
    pub completion_tokens: Option<u32>,
    /// Prompt tokens whose KV cache was reused from an earlier request with the same prefix, so they
    /// were not computed again (OpenAI's `prompt_tokens_details.cached_tokens`).
    pub cached_tokens: Option<u32>,
}

/// A stream of generation events. It ends after `Done` or after the first error. Dropping it cancels the
/// generation and frees the engine's slot.
pub type TokenStream = Pin<Box<dyn Stream<Item = Result<Event, LlmError>> + Send>>;

/// Which engine and model answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineInfo {
    /// `local` or `openai`.
    pub kind: &'static str,
    /// The model name (file stem for local models).
    pub model: String,
}

/// A language-model engine. Object-safe: the application holds an `Arc<dyn Engine>`.
pub trait Engine: Send + Sync {
    /// Which engine and model this is.
    fn info(&self) -> &EngineInfo;
    /// Starts a generation. Errors, including those found before any work starts, arrive in the stream.
    fn generate(&self, request: Request) -> TokenStream;

    /// Whether `request` (its prompt and `max_tokens`) fits one sequence of this engine, when it can
    /// tell without running it; `None` when it cannot (a remote server's tokenizer is unknown).
    fn fits(&self, request: &Request) -> BoxFuture<'_, Option<bool>> {
        let _ = request;
        Box::pin(std::future::ready(None))
    }

    /// Requests waiting for the engine to take them, for metrics (0 for an engine without a queue).
    fn waiting(&self) -> usize {
        0
    }

    /// Where the engine's time went since it started, when it decodes itself (the local engine).
    fn profile(&self) -> Option<Profile> {
        None
    }

    /// Whether a prompt decoded once stays cached for the next request that starts with it, so
    /// [`prefill`] is worth its work (the local engine; a remote server's caching is unknown).
    fn keeps_prompts(&self) -> bool {
        false
    }
}

/// Where a batching engine's time went since it started: what `lyceum bench course` reports.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Profile {
    /// Decode calls.
    pub steps: u64,
    /// Sequences in those calls, summed: divided by `steps`, the average batch occupancy.
    pub busy: u64,
    /// Prompt tokens decoded.
    pub prompt_decoded: u64,
    /// Prompt tokens found already in a slot's cache.
    pub prompt_reused: u64,
    /// Tokens sampled.
    pub generated: u64,
    /// Seconds in decode calls that carried prompt tokens (and maybe generated ones too).
    pub prompt_secs: f64,
    /// Seconds in decode calls that carried generated tokens only.
    pub generation_secs: f64,
    /// Seconds spent choosing tokens from the logits (the samplers, a schema's grammar, penalties)
    /// between decode calls, one thread while the others wait.
    pub sampling_secs: f64,
    /// The most cells of the KV cache in use at once since the engine started (a peak, so `since`
    /// keeps the later one), and how many there are; 0 where the engine does not say.
    pub cache_peak: u64,
    pub cache_cells: u64,
    /// Decode calls made while a request waited for room in the cache beside a free slot: what a
    /// larger cache, or shorter reservations, would have put to work.
    pub short_of_room: u64,
    /// Background sequences paused to make room (for a person's request, or when answers outgrew
    /// the cache); each decodes its text so far again when it resumes.
    pub paused: u64,
}

impl Profile {
    /// What was done between `earlier`, a profile of the same engine, and this one.
    pub fn since(&self, earlier: &Self) -> Self {
        Self {
            steps: self.steps - earlier.steps,
            busy: self.busy - earlier.busy,
            prompt_decoded: self.prompt_decoded - earlier.prompt_decoded,
            prompt_reused: self.prompt_reused - earlier.prompt_reused,
            generated: self.generated - earlier.generated,
            prompt_secs: self.prompt_secs - earlier.prompt_secs,
            generation_secs: self.generation_secs - earlier.generation_secs,
            sampling_secs: self.sampling_secs - earlier.sampling_secs,
            cache_peak: self.cache_peak,
            cache_cells: self.cache_cells,
            short_of_room: self.short_of_room - earlier.short_of_room,
            paused: self.paused - earlier.paused,
        }
    }
}

/// A boxed future, as [`Engine`]'s methods return them.
pub type BoxFuture<'a, T> = Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// A finished generation, collected from its stream.
#[derive(Debug, Clone, PartialEq)]
pub struct Completion {
    /// All generated text.
    pub text: String,
    /// Token counts as the engine reported them.
    pub usage: Usage,
}

impl Completion {
    /// Parses the text as JSON and checks it against the request's schema; engines and servers can be
    /// wrong about structured output, so this is always checked on our side.
    pub fn json(&self, schema: &JsonSchema) -> Result<serde_json::Value, LlmError> {
        schema.check_output(&self.text)
    }
}

/// Runs a request to the end and collects its text.
pub async fn complete(engine: &dyn Engine, request: Request) -> Result<Completion, LlmError> {
    let mut stream = engine.generate(request);
    let mut text = String::new();
    while let Some(event) = stream.next().await {
        match event? {
            Event::Delta(delta) => text.push_str(&delta),
            Event::Done(usage) => return Ok(Completion { text, usage }),
        }
    }
    Err(LlmError::Protocol(
        "the generation stream ended without finishing".into(),
    ))
}

/// Decodes `request`'s prompt ahead of the request itself, on an engine that [keeps
/// prompts](Engine::keeps_prompts): the request that follows finds its whole prompt cached and starts
/// writing at once. Returns whether anything was decoded; an engine that keeps nothing is sent nothing.
pub async fn prefill(engine: &dyn Engine, request: Request) -> Result<bool, LlmError> {
    if !engine.keeps_prompts() {
        return Ok(false);
    }
    complete(engine, request.with_max_tokens(NonZeroU32::MIN)).await?;
    Ok(true)
}

/// A stream that yields one error: how engines report a request they refuse before starting work.
pub(crate) fn failed(error: LlmError) -> TokenStream {
    Box::pin(futures::stream::once(async move { Err(error) }))
}
