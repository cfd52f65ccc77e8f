//! The local engine: a GGUF model run in-process through llama.cpp.
//!
//! One engine thread owns the model and its context. Requests arrive over a channel and are decoded
//! together in one batch, up to `max_sequences` at once (continuous batching); a finished or cancelled
//! sequence frees its slot for the next waiting request. JSON schemas are enforced while sampling with
//! llguidance. This module must not block async callers: all llama.cpp work happens on the engine thread.

mod batcher;
mod cells;

pub use batcher::{backend, context_params, load_model, model_params};

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use tokio::sync::mpsc as async_mpsc;

use crate::{Engine, EngineInfo, Event, LlmError, Profile, Request, TokenStream, failed};

/// How to run a local model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalConfig {
    /// The GGUF file.
    pub model_path: PathBuf,
    /// CPU threads for llama.cpp.
    pub threads: usize,
    /// Background sequences decoded together in one batch, as far as the cache holds them.
    pub max_sequences: usize,
    /// Slots besides those that only interactive requests take, so a person waiting starts at once.
    pub interactive_sequences: usize,
    /// Context tokens (prompt plus answer) one request may hold.
    pub context_per_sequence: u32,
    /// With the shared layout, tokens of keys and values all sequences share: what sets the engine's
    /// memory. Background requests leave `context_per_sequence` of them to each interactive slot.
    pub cache_tokens: u32,
    /// How the keys and values of those tokens are stored.
    pub kv_cache: KvCache,
    /// Where the keys and values live, and how attention reads them.
    pub layout: CacheLayout,
}

/// How the engine lays out its KV cache.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CacheLayout {
    /// One cache of `cache_tokens` cells for every sequence, read with llama.cpp's flash attention:
    /// a prefix sequences share is held once, and the cells are what sets memory, however many
    /// sequences run. On a CPU the flash-attention kernel walks a generating sequence's cells one at
    /// a time, so long prompts make every step slow.
    #[default]
    Shared,
    /// A stream of `context_per_sequence` cells for each slot, read with plain attention (matrix
    /// products over the stream): memory is slots × `context_per_sequence`, a shared prefix is
    /// copied into each stream rather than held once, and values must be f16. At a course's prompt
    /// lengths a step generates 2–2.5× faster on a CPU (`lyceum bench llm --context`).
    Streams,
}

/// How the engine stores the keys and values of the tokens in its context.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum KvCache {
    /// 16 bits a value, llama.cpp's default.
    #[default]
    #[serde(rename = "f16")]
    F16,
    /// 8 bits a value (with flash attention, which llama.cpp turns on for it): half the memory, so
    /// twice the sequences in one budget, at about the same speed; the Qwen2.5 1.5B measured here
    /// wrote shorter articles and more give-away quiz answers with it, so it is not the default.
    #[serde(rename = "q8_0")]
    Q8,
}

/// A request on its way to the engine thread, with the channel its events go back on.
struct Job {
    request: Request,
    events: async_mpsc::UnboundedSender<Result<Event, LlmError>>,
}

/// What the engine thread is asked to do.
enum Message {
    /// Answer a request.
    Generate(Job),
    /// Count a request's prompt tokens, chat template included.
    Count(
        Request,
        tokio::sync::oneshot::Sender<Result<usize, LlmError>>,
    ),
}

/// The local llama.cpp engine.
pub struct LocalEngine {
    jobs: mpsc::Sender<Message>,
    info: EngineInfo,
    context_per_sequence: u32,
    counters: Arc<Counters>,
    /// The engine thread, joined on drop: a process that exits while it still frees llama.cpp's
    /// context crashes.
    thread: Option<std::thread::JoinHandle<()>>,
}

/// What the engine thread has done since it started; it writes, anyone reads.
#[derive(Debug, Default)]
struct Counters {
    steps: AtomicU64,
    busy: AtomicU64,
    prompt_decoded: AtomicU64,
    prompt_reused: AtomicU64,
    generated: AtomicU64,
    prompt_nanos: AtomicU64,
    generation_nanos: AtomicU64,
    sampling_nanos: AtomicU64,
    cache_peak: AtomicU64,
    cache_cells: AtomicU64,
    short_of_room: AtomicU64,
    paused: AtomicU64,
}

impl Counters {
    /// Counts one decode call of `busy` sequences that carried `prompt` prompt tokens and took `took`,
    /// made while a request waited for cache room beside a free slot or not.
    fn step(&self, busy: usize, prompt: usize, took: Duration, short_of_room: bool) {
        let add = |counter: &AtomicU64, n: u64| counter.fetch_add(n, Ordering::Relaxed);
        add(&self.steps, 1);
        add(&self.short_of_room, u64::from(short_of_room));
        add(&self.busy, busy as u64);
        add(&self.prompt_decoded, prompt as u64);
        let nanos = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
        if prompt > 0 {
            add(&self.prompt_nanos, nanos);
        } else {
            add(&self.generation_nanos, nanos);
        }
    }

    /// Counts time spent sampling after a decode call.
    fn sampled(&self, took: Duration) {
        let nanos = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
        self.sampling_nanos.fetch_add(nanos, Ordering::Relaxed);
    }

    fn profile(&self) -> Profile {
        let read = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        Profile {
            steps: read(&self.steps),
            busy: read(&self.busy),
            prompt_decoded: read(&self.prompt_decoded),
            prompt_reused: read(&self.prompt_reused),
            generated: read(&self.generated),
            prompt_secs: read(&self.prompt_nanos) as f64 / 1e9,
            generation_secs: read(&self.generation_nanos) as f64 / 1e9,
            sampling_secs: read(&self.sampling_nanos) as f64 / 1e9,
            cache_peak: read(&self.cache_peak),
            cache_cells: read(&self.cache_cells),
            short_of_room: read(&self.short_of_room),
            paused: read(&self.paused),
        }
    }
}

impl LocalEngine {
    /// Loads the model on a new engine thread; returns once it is ready to answer. Blocks for the load.
    pub fn load(config: LocalConfig) -> Result<Self, LlmError> {
        check_gguf(&config.model_path)?;
        let model = config.model_path.file_stem().map_or_else(
            || "local".to_owned(),
            |stem| stem.to_string_lossy().into_owned(),
        );
        let context_per_sequence = config.context_per_sequence;
        let (jobs, job_rx) = mpsc::channel();
        let (ready_tx, ready_rx) = mpsc::sync_channel(1);
        let counters = Arc::new(Counters::default());
        let counter = Arc::clone(&counters);
        let thread = std::thread::Builder::new()
            .name("lyceum-llm-local".into())
            .spawn(move || batcher::run(&config, &job_rx, &ready_tx, &counter))
            .map_err(|error| {
                LlmError::Engine(format!("could not start the engine thread: {error}"))
            })?;
        ready_rx.recv().map_err(|_| {
            LlmError::Engine("the engine thread stopped while loading the model".into())
        })??;
        Ok(Self {
            jobs,
            info: EngineInfo {
                kind: "local",
                model,
            },
            context_per_sequence,
            counters,
            thread: Some(thread),
        })
    }

    /// How many tokens the prompt of `request` is with this model's chat template: what counts
    /// against `context_per_sequence`, together with the request's `max_tokens`.
    pub async fn prompt_tokens(&self, request: Request) -> Result<usize, LlmError> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let stopped = || LlmError::Engine("the engine thread has stopped".into());
        self.jobs
            .send(Message::Count(request, reply))
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }

    /// Tokens sampled since the engine started, including those of cancelled generations.
    pub fn tokens_decoded(&self) -> u64 {
        self.counters.generated.load(Ordering::Relaxed)
    }
}

impl Drop for LocalEngine {
    /// Closes the job channel and waits for the engine thread to cancel what it was writing (the
    /// streams are gone with their receivers) and free the model: at most one step.
    fn drop(&mut self) {
        drop(std::mem::replace(&mut self.jobs, mpsc::channel().0));
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::error!("the local engine thread panicked");
        }
    }
}

impl Engine for LocalEngine {
    fn info(&self) -> &EngineInfo {
        &self.info
    }

    fn generate(&self, request: Request) -> TokenStream {
        let (events, mut receiver) = async_mpsc::unbounded_channel();
        if self
            .jobs
            .send(Message::Generate(Job { request, events }))
            .is_err()
        {
            return failed(LlmError::Engine("the engine thread has stopped".into()));
        }
        // Dropping the stream drops the receiver; the engine thread sees that and frees the slot.
        Box::pin(futures::stream::poll_fn(move |cx| receiver.poll_recv(cx)))
    }

    fn profile(&self) -> Option<Profile> {
        Some(self.counters.profile())
    }

    fn keeps_prompts(&self) -> bool {
        true
    }

    fn fits(&self, request: &Request) -> crate::BoxFuture<'_, Option<bool>> {
        let request = request.clone();
        Box::pin(async move {
            let max_tokens = request.max_tokens().get() as usize;
            let prompt = self.prompt_tokens(request).await.ok()?;
            Some(prompt + max_tokens <= self.context_per_sequence as usize)
        })
    }
}

/// Refuses a path that is missing or is not a GGUF file, before llama.cpp sees it.
fn check_gguf(path: &Path) -> Result<(), LlmError> {
    let invalid = |reason: String| LlmError::ModelInvalid {
        path: path.to_owned(),
        reason,
    };
    let mut file = match File::open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Err(LlmError::ModelMissing(path.to_owned()));
        }
        Err(error) => return Err(invalid(format!("cannot open it: {error}"))),
    };
    if file.metadata().is_ok_and(|meta| meta.is_dir()) {
        return Err(invalid("it is a directory, not a GGUF file".into()));
    }
    let mut magic = [0u8; 4];
    match file.read_exact(&mut magic) {
        Ok(()) if &magic == b"GGUF" => Ok(()),
        Ok(()) | Err(_) => Err(invalid(
            "it is not a GGUF model file (GGUF files start with the bytes `GGUF`)".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_file_is_reported_as_missing() {
        let error = check_gguf(Path::new("/nonexistent/model.gguf")).unwrap_err();
        assert!(matches!(error, LlmError::ModelMissing(_)));
        assert!(
            error.to_string().contains("lyceum model install"),
            "{error}"
        );
    }

    #[test]
    fn a_file_that_is_not_gguf_is_refused() {
        let dir = std::env::temp_dir().join(format!("lyceum-gguf-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("notes.gguf");
        std::fs::write(&path, b"hello, I am text").unwrap();
        let error = check_gguf(&path).unwrap_err();
        assert!(
            error.to_string().contains("not a GGUF model file"),
            "{error}"
        );
        std::fs::write(&path, b"GG").unwrap();
        assert!(check_gguf(&path).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
