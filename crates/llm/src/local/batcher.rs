//! The engine thread: admits waiting requests into free sequence slots, decodes every active
//! sequence in one batch per step, samples each, and streams the text back.
//!
//! Interactive requests (a person waits for the text) wait ahead of background ones, may take any
//! free slot while background ones hold at most `max_sequences`, so `interactive_sequences` slots
//! are always theirs, and have their prompts decoded first; other prompts are decoded oldest first,
//! not at all while an interactive request is in the batch, and otherwise in chunks small enough
//! that one arriving meanwhile waits well under a second for the step to end. While an interactive
//! request is in the batch, all but the oldest two background sequences also pause their answers,
//! so each step, and each token of the reply, stays short.
//!
//! With the shared layout, every sequence's keys and values live in one cache of `cache_tokens`
//! cells (llama.cpp's unified cache), so memory is set by that number, not by how many sequences
//! run: a request is admitted when its prompt and reserved answer (a person's longest, half a
//! background one's) fit beside what the running ones are admitted for (background requests leave
//! room for `interactive_sequences` requests of `context_per_sequence` tokens), and otherwise
//! waits. When background answers outgrow the cache, or a person's request finds no room, the
//! background sequence admitted last pauses: it gives up its cells and, once there is room, decodes
//! its text so far again and goes on. A prompt that starts like tokens some other sequence has
//! decoded (the course's system message, the syllabus; a unit before its quiz) shares that
//! sequence's cells instead of being decoded again, and one whose start an earlier sequence is
//! still decoding waits for it to finish that part. A slot keeps the cache of its last prompt and
//! answer when its request ends, until the room is needed (oldest first), so a request that
//! continues a conversation (a unit's quiz after the unit) finds the earlier answer there.
//! Attention runs over the whole cache; llama.cpp's CPU flash attention skips the cells another
//! sequence holds, but walks a sequence's own cells one at a time, which at a course's prompt
//! lengths costs more than the weights do (`lyceum bench llm --context`: its plain attention over a
//! stream per sequence generated 2.4× faster at ~1,600 tokens).
//!
//! With the streams layout, each slot has a stream of `context_per_sequence` cells of its own, read
//! with plain attention: a request that fits a sequence fits its slot, so nothing waits for room or
//! pauses for it, and a prefix found in another slot is copied (the whole stream, then cut) rather
//! than shared. llama.cpp computes a batch over several streams in micro-batches of sequences whose
//! ids follow one another, each reading the weights once, so the batch is built in slot order.

use std::collections::VecDeque;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{OnceLock, mpsc};
use std::time::Instant;

use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::context::params::{KvCacheType, LlamaContextParams};
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::llama_batch::{BatchAddError, LlamaBatch};
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::model::{LlamaChatMessage, LlamaChatTemplate, LlamaModel};
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::LlamaToken;
use llguidance::api::TopLevelGrammar;
use llguidance::{Matcher, ParserFactory};

use super::cells::Cells;
use super::{CacheLayout, Counters, Job, KvCache, LocalConfig, Message};
use crate::stop::StopMatcher;
use crate::utf8::Utf8Decoder;
use crate::{Event, LlmError, Priority, Request, Usage};

/// Tokens decoded per `llama_decode` call at most; prompts longer than this are fed in chunks.
const BATCH_TOKENS: u32 = 1024;
/// Tokens llama.cpp computes at once inside a batch.
const MICRO_BATCH_TOKENS: u32 = 512;
/// A cached prefix shorter than this (every prompt shares the chat template's first few tokens) is not
/// worth keeping a slot's cache for: the request goes to the slot whose cache is worth least.
const MIN_REUSED_TOKENS: usize = 32;
/// Background prompt tokens per step at most. A step cannot be interrupted, so a tutor's request
/// that arrives during one waits for it to end: at 1,024 tokens a step, ~7 s on the 1.5B on 2 cores;
/// at 128, well under a second. A fixed number rather than one sized by measured speed: how a
/// prompt is cut into steps changes the floating-point sums a little, and a request with a seed must
/// get the same text on every run.
const BACKGROUND_PROMPT_TOKENS: usize = 128;
/// Background sequences that go on generating, a token a step, while an interactive one is in the
/// batch; the others wait with their next token. A step's time grows with its tokens (on the 1.5B
/// on 2 cores, 16 take about 5× as long as one) and a reply gets one token a step, so beside a full
/// batch a reply would fall below reading speed; the oldest two keep the courses moving.
const BACKGROUND_BESIDE_INTERACTIVE: usize = 2;

/// How hard DRY pushes a loop-guarded answer away from repeating itself (see `Batcher::sampler`).
const DRY_MULTIPLIER: f32 = 1.5;

/// A message's text with every `<|` broken by a zero-width space. The templated prompt is tokenized with
/// special tokens recognised (the template's own `<|im_start|>` must be), so text that spells one —
/// a learner's words, a model's answer shown back — would otherwise end its message and open another
/// as the system.
fn without_special_tokens(text: &str) -> String {
    text.replace("<|", "<\u{200B}|")
}

/// llama.cpp may be initialised once per process; every engine, and anything else in the process
/// that calls llama.cpp (the raw baseline of `lyceum bench llm`), shares this.
pub fn backend() -> Result<&'static LlamaBackend, LlmError> {
    static BACKEND: OnceLock<Result<LlamaBackend, String>> = OnceLock::new();
    BACKEND
        .get_or_init(|| {
            llama_cpp_2::send_logs_to_tracing(llama_cpp_2::LogOptions::default());
            LlamaBackend::init().map_err(|error| error.to_string())
        })
        .as_ref()
        .map_err(|error| LlmError::Engine(format!("could not initialise llama.cpp: {error}")))
}

/// The GGUF file at `path`, loaded as [`model_params`] says, with the process's backend.
pub fn load_model(path: &std::path::Path) -> Result<(&'static LlamaBackend, LlamaModel), LlmError> {
    let backend = backend()?;
    let model = LlamaModel::load_from_file(backend, path, &model_params()).map_err(|error| {
        LlmError::ModelInvalid {
            path: path.to_owned(),
            reason: format!("llama.cpp could not load it: {error}"),
        }
    })?;
    Ok((backend, model))
}

/// How the engine loads a model: read into memory rather than mapped. On a CPU llama.cpp repacks
/// most weights into a faster layout in a buffer of their own; a mapped file would stay resident
/// beside that copy (measured on the 1.5B: 1,060 MiB mapped plus 597 MiB repacked), read in it is
/// held once.
pub fn model_params() -> LlamaModelParams {
    LlamaModelParams::default().with_use_mmap(false)
}

/// The context settings every engine context starts from: keys and values laid out as `layout`
/// says and stored as `kv_cache` says, except that streams store f16, the one type plain
/// attention takes (quantized values need flash attention).
pub fn context_params(kv_cache: KvCache, layout: CacheLayout) -> LlamaContextParams {
    let stored = match (kv_cache, layout) {
        (KvCache::Q8, CacheLayout::Shared) => KvCacheType::Q8_0,
        (KvCache::F16, _) | (_, CacheLayout::Streams) => KvCacheType::F16,
    };
    let params = LlamaContextParams::default()
        .with_type_k(stored)
        .with_type_v(stored);
    match layout {
        CacheLayout::Shared => params.with_kv_unified(true),
        CacheLayout::Streams => params
            .with_kv_unified(false)
            .with_flash_attention_policy(llama_cpp_sys_2::LLAMA_FLASH_ATTN_TYPE_DISABLED),
    }
}

/// Runs the engine thread until its `LocalEngine` is dropped; streams still open then end with an
/// error.
pub(super) fn run(
    config: &LocalConfig,
    jobs: &mpsc::Receiver<Message>,
    ready: &mpsc::SyncSender<Result<(), LlmError>>,
    counters: &Counters,
) {
    let (backend, model) = match load_model(&config.model_path) {
        Ok(loaded) => loaded,
        Err(error) => {
            let _ = ready.send(Err(error));
            return;
        }
    };
    match Batcher::new(config, backend, &model, counters) {
        Ok(mut batcher) => {
            let _ = ready.send(Ok(()));
            batcher.run(jobs);
        }
        Err(error) => {
            let _ = ready.send(Err(error));
        }
    }
}

/// One request being answered in a slot of the batch.
struct Sequence {
    events: tokio::sync::mpsc::UnboundedSender<Result<Event, LlmError>>,
    priority: Priority,
    /// When it was admitted, counted in admissions: prompts are decoded oldest first.
    admitted: u64,
    sampler: LlamaSampler,
    /// The tokens to decode before the next answer token: the request's prompt, and after a pause
    /// the answer so far as well.
    prompt: Vec<LlamaToken>,
    /// The request's own prompt tokens, for its usage.
    prompt_tokens: usize,
    /// Prompt tokens already decoded.
    fed: usize,
    /// Prompt tokens in place when it took its slot: more may be found in another slot's cache
    /// until it decodes one itself.
    start: usize,
    /// Sampled tokens decoded into the KV cache after the prompt, in order.
    answer: Vec<LlamaToken>,
    /// Position of the next token in this sequence's KV cache.
    n_past: i32,
    /// The token sampled last step, to be decoded this step.
    next: Option<LlamaToken>,
    /// Where this sequence's logits are in the current batch, if it asked for any.
    logits_at: Option<i32>,
    /// Prompt tokens found in the cache instead of being decoded.
    reused: usize,
    /// Cells it was admitted for: its prompt and the share of its answer [`reserved_answer`] says.
    reserve: usize,
    generated: u32,
    max_tokens: u32,
    utf8: Utf8Decoder,
    stops: StopMatcher,
}

/// Whether a sequence decodes more of its prompt this step.
#[derive(PartialEq, Eq)]
enum CatchUp {
    Go,
    /// A sequence ahead of it is still decoding the start they share.
    Wait,
}

/// What a slot adds to the batch in one step.
#[derive(Clone, Copy)]
enum Feed {
    Nothing,
    /// The token it sampled last step.
    Token(LlamaToken),
    /// This many more tokens of its prompt.
    Prompt(usize),
}

/// How a sequence's step ended.
enum Outcome {
    Continue,
    Finished,
    Cancelled,
}

struct Batcher<'m> {
    model: &'m LlamaModel,
    ctx: LlamaContext<'m>,
    template: LlamaChatTemplate,
    grammars: ParserFactory,
    slots: Vec<Option<Sequence>>,
    /// The tokens whose KV each slot holds at positions `0..len`, for reuse by its next request.
    cached: Vec<Vec<LlamaToken>>,
    /// Whether each slot's cache is an interactive request's (a tutor's prompt decoded ahead, a
    /// conversation): background requests take such a slot last.
    cached_interactive: Vec<bool>,
    /// When each slot's request ended, counted in releases: caches are given up oldest first.
    released: Vec<u64>,
    releases: u64,
    /// Which cells of the cache each slot holds.
    cells: Cells,
    /// Whether each slot has a stream of its own (the streams layout): then a request fits wherever
    /// a slot is free, and a prefix is copied between slots rather than shared.
    streams: bool,
    /// Cells background requests leave free for interactive ones.
    interactive_room: usize,
    /// Interactive requests first, then background ones, each in arrival order.
    waiting: VecDeque<Job>,
    /// Background sequences paused to make room, with their answers so far.
    paused: Vec<Sequence>,
    /// How many slots background requests may hold at once; the rest are for interactive ones.
    background_slots: usize,
    /// Admissions so far.
    admissions: u64,
    /// Whether the last admission round left a request waiting for cache room beside a free slot.
    short_of_room: bool,
    batch: LlamaBatch<'static>,
    context_per_sequence: u32,
    counters: &'m Counters,
}

impl<'m> Batcher<'m> {
    fn new(
        config: &LocalConfig,
        backend: &LlamaBackend,
        model: &'m LlamaModel,
        counters: &'m Counters,
    ) -> Result<Self, LlmError> {
        let invalid = |reason: String| LlmError::ModelInvalid {
            path: config.model_path.clone(),
            reason,
        };
        let template = model
            .chat_template(None)
            .map_err(|error| invalid(format!("it has no usable chat template: {error}")))?;
        let background_slots = config.max_sequences.max(1);
        let sequences = background_slots + config.interactive_sequences.max(1);
        let threads = i32::try_from(config.threads.max(1)).unwrap_or(i32::MAX);
        let interactive_room =
            config.interactive_sequences.max(1) * config.context_per_sequence as usize;
        let streams = config.layout == CacheLayout::Streams;
        let (cells, params) = if streams {
            if config.kv_cache != KvCache::F16 {
                return Err(LlmError::InvalidRequest(
                    "engine.local.kv_cache q8_0 needs flash attention, which the streams layout \
                     does without: set kv_cache to f16, or layout to shared"
                        .into(),
                ));
            }
            (
                sequences * config.context_per_sequence as usize,
                context_params(KvCache::F16, CacheLayout::Streams),
            )
        } else {
            let cells = config.cache_tokens as usize;
            if cells < interactive_room + config.context_per_sequence as usize {
                return Err(LlmError::InvalidRequest(format!(
                    "engine.local.cache_tokens is {cells}, but it must hold context_per_sequence \
                     ({}) tokens for each interactive sequence ({}) and one background one: raise \
                     it to at least {}, or lower context_per_sequence",
                    config.context_per_sequence,
                    config.interactive_sequences.max(1),
                    interactive_room + config.context_per_sequence as usize
                )));
            }
            (cells, context_params(config.kv_cache, CacheLayout::Shared))
        };
        let n_ctx = u32::try_from(cells)
            .ok()
            .and_then(NonZeroU32::new)
            .ok_or_else(|| {
                LlmError::InvalidRequest(format!(
                    "a cache of {cells} tokens cannot be made: lower cache_tokens, or \
                     context_per_sequence and the number of sequences"
                ))
            })?;
        let params = params
            .with_n_ctx(Some(n_ctx))
            .with_n_batch(BATCH_TOKENS)
            .with_n_ubatch(MICRO_BATCH_TOKENS)
            .with_n_seq_max(u32::try_from(sequences).unwrap_or(u32::MAX))
            .with_n_threads(threads)
            .with_n_threads_batch(threads);
        let ctx = model.new_context(backend, params).map_err(|error| {
            LlmError::Engine(format!("could not create a llama.cpp context: {error}"))
        })?;
        let mut grammars = ParserFactory::new_simple(&LlamaSampler::llguidance_tok_env(model))
            .map_err(|error| {
                LlmError::Engine(format!("could not prepare JSON schema support: {error}"))
            })?;
        grammars.quiet();
        counters.cache_cells.store(cells as u64, Ordering::Relaxed);
        Ok(Self {
            model,
            ctx,
            template,
            grammars,
            slots: (0..sequences).map(|_| None).collect(),
            cached: vec![Vec::new(); sequences],
            cached_interactive: vec![false; sequences],
            released: vec![0; sequences],
            releases: 0,
            cells: Cells::new(cells, sequences),
            streams,
            interactive_room,
            waiting: VecDeque::new(),
            paused: Vec::new(),
            background_slots,
            admissions: 0,
            short_of_room: false,
            batch: LlamaBatch::new(BATCH_TOKENS as usize, 1),
            context_per_sequence: config.context_per_sequence,
            counters,
        })
    }

    fn run(&mut self, jobs: &mpsc::Receiver<Message>) {
        loop {
            let idle = self.waiting.is_empty()
                && self.paused.is_empty()
                && self.slots.iter().all(Option::is_none);
            if idle {
                match jobs.recv() {
                    Ok(message) => self.take(message),
                    Err(_) => return,
                }
            }
            loop {
                match jobs.try_recv() {
                    Ok(message) => self.take(message),
                    Err(mpsc::TryRecvError::Empty) => break,
                    // The engine was dropped: what is still being written ends with it.
                    Err(mpsc::TryRecvError::Disconnected) => return,
                }
            }
            self.drop_cancelled();
            self.admit();
            self.step();
        }
    }

    /// Queues a request, or answers a token count at once.
    fn take(&mut self, message: Message) {
        match message {
            Message::Generate(job) => {
                let at = match job.request.priority() {
                    Priority::Background => self.waiting.len(),
                    Priority::Interactive => self
                        .waiting
                        .iter()
                        .position(|waiting| waiting.request.priority() == Priority::Background)
                        .unwrap_or(self.waiting.len()),
                };
                self.waiting.insert(at, job);
            }
            Message::Count(request, reply) => {
                let _ = reply.send(self.tokenize(&request).map(|tokens| tokens.len()));
            }
        }
    }

    /// Frees the slots of generations whose streams were dropped, and forgets waiting ones.
    fn drop_cancelled(&mut self) {
        self.waiting.retain(|job| !job.events.is_closed());
        self.paused.retain(|seq| !seq.events.is_closed());
        for id in 0..self.slots.len() {
            if self.slots[id]
                .as_ref()
                .is_some_and(|seq| seq.events.is_closed())
            {
                self.release(id);
            }
        }
    }

    /// Ends the sequence in slot `id`, keeping the KV cache of the tokens it decoded: its prompt, and
    /// its answer once the whole prompt was in.
    fn release(&mut self, id: usize) {
        if let Some(mut seq) = self.slots[id].take() {
            if seq.fed == seq.prompt.len() {
                seq.prompt.append(&mut seq.answer);
            } else {
                seq.prompt.truncate(seq.fed);
            }
            self.cached[id] = seq.prompt;
            self.cached_interactive[id] = seq.priority == Priority::Interactive;
            self.releases += 1;
            self.released[id] = self.releases;
        }
    }

    /// Ends the sequence in slot `id` and empties its KV cache.
    fn clear(&mut self, id: usize) {
        self.slots[id] = None;
        self.forget(id, 0);
    }

    /// Lets slot `id` give up its cache from position `from` on.
    fn forget(&mut self, id: usize, from: usize) {
        self.cached[id].truncate(from);
        self.cells.truncate(id, from);
        // Ids are below `slots.len()`, which fits a u32; a removal from position 0 cannot fail.
        let seq = u32::try_from(id).ok();
        let position = u32::try_from(from).ok().filter(|&from| from > 0);
        if !self
            .ctx
            .clear_kv_cache_seq(seq, position, None)
            .unwrap_or(false)
        {
            self.cached[id].clear();
            self.cells.truncate(id, 0);
            let _ = self.ctx.clear_kv_cache_seq(seq, None, None);
        }
    }

    /// The tokens whose keys and values slot `id` holds, in position order: a running sequence's
    /// prompt as far as it is decoded (its answer is its own), a free slot's cache.
    fn decoded(&self, id: usize) -> &[LlamaToken] {
        match &self.slots[id] {
            Some(seq) => &seq.prompt[..seq.fed],
            None => &self.cached[id],
        }
    }

    /// Cells in use, and those running sequences may still add: what must fit in the cache.
    fn committed(&self) -> usize {
        let growth: usize = self
            .slots
            .iter()
            .flatten()
            .map(|seq| seq.reserve.saturating_sub(seq.n_past as usize))
            .sum();
        self.cells.used() + growth
    }

    /// The cells a request of this priority may bring the committed total to.
    fn limit(&self, priority: Priority) -> usize {
        match priority {
            Priority::Interactive => self.cells.capacity(),
            Priority::Background => self.cells.capacity() - self.interactive_room,
        }
    }

    /// Moves requests into free slots while their prompt and reserved answer fit in the cache: waiting
    /// interactive ones first (pausing background sequences when nothing else makes room), then
    /// paused sequences, oldest first, then waiting background ones while they hold fewer than
    /// their share of the slots.
    fn admit(&mut self) {
        self.short_of_room = false;
        while self.slots.iter().any(Option::is_none) {
            let interactive_waits = self
                .waiting
                .front()
                .is_some_and(|job| job.request.priority() == Priority::Interactive);
            let background = self
                .slots
                .iter()
                .flatten()
                .filter(|seq| seq.priority == Priority::Background)
                .count();
            if !interactive_waits && background >= self.background_slots {
                return;
            }
            if !interactive_waits && !self.paused.is_empty() {
                if !self.resume() {
                    self.short_of_room = true;
                    return;
                }
                continue;
            }
            let Some(job) = self.waiting.pop_front() else {
                return;
            };
            let (prompt, sampler) = match self.start(&job.request) {
                Ok(started) => started,
                Err(error) => {
                    let _ = job.events.send(Err(error));
                    continue;
                }
            };
            let priority = job.request.priority();
            let max_tokens = job.request.max_tokens().get();
            let reserve = prompt.len() + reserved_answer(priority, max_tokens);
            let placed = loop {
                match self.place(&prompt, reserve, priority) {
                    Some(placed) => break Some(placed),
                    // A person does not wait for background work: it pauses to make room.
                    None if priority == Priority::Interactive && self.pause_youngest() => {}
                    None => break None,
                }
            };
            let Some((id, reused)) = placed else {
                // It waits for room, and everything behind it with it: first come, first served.
                self.waiting.push_front(job);
                self.short_of_room = true;
                return;
            };
            self.admissions += 1;
            self.counters
                .prompt_reused
                .fetch_add(reused as u64, Ordering::Relaxed);
            self.slots[id] = Some(Sequence {
                events: job.events,
                priority,
                admitted: self.admissions,
                sampler,
                prompt_tokens: prompt.len(),
                prompt,
                fed: reused,
                start: reused,
                answer: Vec::new(),
                n_past: i32::try_from(reused).unwrap_or(0),
                next: None,
                logits_at: None,
                reused,
                reserve,
                generated: 0,
                max_tokens,
                utf8: Utf8Decoder::default(),
                stops: StopMatcher::new(job.request.stop()),
            });
        }
    }

    /// Puts the oldest paused sequence back in a free slot if its text so far and the rest of its
    /// reserved answer fit; it decodes that text again (or finds it cached) and goes on where it
    /// stopped. Returns whether it did.
    fn resume(&mut self) -> bool {
        let Some(at) = (0..self.paused.len()).min_by_key(|&at| self.paused[at].admitted) else {
            return false;
        };
        let mut seq = self.paused.swap_remove(at);
        let remaining = seq.max_tokens - seq.generated;
        let reserve = seq.prompt.len() + reserved_answer(seq.priority, remaining);
        let Some((id, reused)) = self.place(&seq.prompt, reserve, seq.priority) else {
            self.paused.push(seq);
            return false;
        };
        seq.fed = reused;
        seq.start = reused;
        seq.n_past = i32::try_from(reused).unwrap_or(0);
        seq.reserve = reserve;
        self.slots[id] = Some(seq);
        true
    }

    /// Pauses the background sequence admitted last, giving up the cells only it holds: what it has
    /// decoded and sampled becomes prompt to decode again when it resumes, and its sampler, which has
    /// seen every token, goes on from there. Returns whether there was one to pause.
    fn pause_youngest(&mut self) -> bool {
        let Some(id) = (0..self.slots.len())
            .filter(|&id| {
                self.slots[id]
                    .as_ref()
                    .is_some_and(|seq| seq.priority == Priority::Background)
            })
            .max_by_key(|&id| self.slots[id].as_ref().map(|seq| seq.admitted))
        else {
            return false;
        };
        let Some(mut seq) = self.slots[id].take() else {
            return false;
        };
        if seq.fed == seq.prompt.len() {
            seq.prompt.append(&mut seq.answer);
            seq.prompt.extend(seq.next.take());
        }
        seq.fed = 0;
        seq.n_past = 0;
        seq.logits_at = None;
        self.forget(id, 0);
        self.counters.paused.fetch_add(1, Ordering::Relaxed);
        self.paused.push(seq);
        true
    }

    /// Gives up the oldest cache of a free slot (a person's last). Returns whether there was one.
    fn forget_oldest_cache(&mut self) -> bool {
        let Some(id) = (0..self.slots.len())
            .filter(|&id| self.slots[id].is_none() && self.cells.len(id) > 0)
            .min_by_key(|&id| (self.cached_interactive[id], self.released[id]))
        else {
            return false;
        };
        self.forget(id, 0);
        true
    }

    /// Finds a free slot for `prompt` and the cells it starts with: the free slot whose own cache
    /// shares the longest prefix with it, or, when another slot has decoded a longer one, the free
    /// slot whose cache is worth least, given that slot's cells. Then gives up the oldest caches of
    /// other free slots until the request's `reserve` fits. Returns the slot and the prompt tokens
    /// already in place, or `None` when it does not fit even with every free cache given up.
    fn place(
        &mut self,
        prompt: &[LlamaToken],
        reserve: usize,
        priority: Priority,
    ) -> Option<(usize, usize)> {
        let free: Vec<usize> = (0..self.slots.len())
            .filter(|&id| self.slots[id].is_none())
            .collect();
        // A background request leaves a person's cache for last; then the emptiest, then the oldest.
        let worth = |batcher: &Self, id: usize| {
            let spares_a_person =
                priority == Priority::Interactive || !batcher.cached_interactive[id];
            (
                spares_a_person,
                std::cmp::Reverse(batcher.cached[id].len()),
                std::cmp::Reverse(batcher.released[id]),
            )
        };
        let (own_id, own) = free
            .iter()
            .map(|&id| (id, shared_prefix(&self.cached[id], prompt)))
            .max_by_key(|&(id, reused)| (reused, worth(self, id)))?;
        let elsewhere = (0..self.slots.len())
            .filter(|&id| id != own_id)
            .map(|id| (id, shared_prefix(self.decoded(id), prompt)))
            .max_by_key(|&(_, reused)| reused)
            .filter(|&(_, reused)| reused > own);
        let (id, from, reused) = match elsewhere {
            Some((from, reused)) => {
                let id = free
                    .iter()
                    .copied()
                    .filter(|&id| id != from)
                    .max_by_key(|&id| (self.cached[id].is_empty(), worth(self, id)))?;
                (id, Some(from), reused)
            }
            None => (own_id, None, own),
        };
        let keeps = if from.is_some() { 0 } else { reused };
        if self.streams {
            // The slot's stream holds the whole request: `start` checked that it fits a sequence.
            self.forget(id, keeps);
            if let Some(from) = from {
                self.share(from, id, reused);
            }
            return Some((id, self.cells.len(id)));
        }
        // Would it fit with every other free slot's cache given up? Cells only a free slot holds are
        // what giving them up frees.
        let evictable: usize = free
            .iter()
            .filter(|&&other| other != id && Some(other) != from)
            .map(|&other| self.cells.own(other))
            .sum();
        let dropped = self.cells.len(id).saturating_sub(keeps);
        let needed = self.committed().saturating_sub(evictable + dropped) + reserve - reused;
        if needed > self.limit(priority) {
            return None;
        }
        self.forget(id, keeps);
        if let Some(from) = from {
            self.share(from, id, reused);
        }
        let reused = self.cells.len(id);
        let mut oldest: Vec<usize> = free
            .into_iter()
            .filter(|&other| other != id && self.cells.len(other) > 0)
            .collect();
        oldest.sort_by_key(|&other| (self.cached_interactive[other], self.released[other]));
        let mut oldest = oldest.into_iter();
        while self.committed() + reserve - reused > self.limit(priority) {
            // Cells shared by two free caches are freed only with the second: keep going.
            let other = oldest.next()?;
            self.forget(other, 0);
        }
        Some((id, self.cells.len(id)))
    }

    /// Slot `to`, empty, takes the keys and values of the first `len` positions of slot `from`: their
    /// cells in the shared cache, a copy in its own stream.
    fn share(&mut self, from: usize, to: usize, len: usize) {
        let (Ok(source), Ok(target), Ok(end)) =
            (i32::try_from(from), i32::try_from(to), u32::try_from(len))
        else {
            return;
        };
        let taken = if self.streams {
            // Between streams llama.cpp copies all of one into the other (when the next batch is
            // decoded, before anything of it is written); the target then lets go of the rest.
            self.ctx
                .copy_kv_cache_seq(source, target, None, None)
                .is_ok()
                && self
                    .ctx
                    .clear_kv_cache_seq(u32::try_from(to).ok(), Some(end), None)
                    .unwrap_or(false)
        } else {
            self.ctx
                .copy_kv_cache_seq(source, target, None, Some(end))
                .is_ok()
        };
        if !taken {
            self.forget(to, 0);
            return;
        }
        if self.streams {
            self.cells.push(to, len);
        } else {
            self.cells.share(from, to, len);
        }
        let tokens = self.decoded(from)[..len].to_vec();
        self.cached[to] = tokens;
    }

    /// Before slot `id` decodes its prompt: takes the cells of a longer start of it that another slot
    /// has decoded since it was admitted, or waits while a sequence `ahead` of it is decoding one.
    fn catch_up(&mut self, id: usize, ahead: &[usize]) -> CatchUp {
        let Some(seq) = &self.slots[id] else {
            return CatchUp::Go;
        };
        // Only a sequence that has decoded none of its prompt itself: otherwise that work is lost.
        if seq.fed == seq.prompt.len() || seq.fed != seq.start {
            return CatchUp::Go;
        }
        let fed = seq.fed;
        let (from, found) = (0..self.slots.len())
            .filter(|&other| other != id)
            .map(|other| (other, shared_prefix(self.decoded(other), &seq.prompt)))
            .max_by_key(|&(_, found)| found)
            .unwrap_or((id, 0));
        let coming = ahead.iter().any(|&other| {
            self.slots[other].as_ref().is_some_and(|earlier| {
                let shared = shared_prefix(&earlier.prompt, &seq.prompt);
                earlier.fed < shared && shared >= found.max(fed) + MIN_REUSED_TOKENS
            })
        });
        if coming {
            return CatchUp::Wait;
        }
        if found < fed + MIN_REUSED_TOKENS {
            return CatchUp::Go;
        }
        self.forget(id, 0);
        self.share(from, id, found);
        let got = self.cells.len(id);
        self.counters
            .prompt_reused
            .fetch_add(got.saturating_sub(fed) as u64, Ordering::Relaxed);
        if let Some(seq) = self.slots[id].as_mut() {
            seq.reused += got.saturating_sub(seq.fed);
            seq.fed = got;
            seq.start = got;
            seq.n_past = i32::try_from(got).unwrap_or(0);
        }
        CatchUp::Go
    }

    /// Applies the chat template, tokenizes, checks the length, and builds the sampler.
    fn start(&self, request: &Request) -> Result<(Vec<LlamaToken>, LlamaSampler), LlmError> {
        let tokens = self.tokenize(request)?;
        let needed = tokens.len() as u64 + u64::from(request.max_tokens().get());
        if tokens.is_empty() || needed > u64::from(self.context_per_sequence) {
            return Err(LlmError::InvalidRequest(format!(
                "the prompt is {} tokens and asks for up to {} more, but a sequence holds {} tokens; \
                 shorten the prompt, lower max_tokens, or raise engine.local.context_per_sequence",
                tokens.len(),
                request.max_tokens(),
                self.context_per_sequence
            )));
        }
        Ok((tokens, self.sampler(request)?))
    }

    /// The prompt of `request` as tokens, through the model's chat template.
    fn tokenize(&self, request: &Request) -> Result<Vec<LlamaToken>, LlmError> {
        let chat = request
            .messages()
            .iter()
            .map(|message| {
                LlamaChatMessage::new(
                    message.role.as_str().to_owned(),
                    without_special_tokens(&message.content),
                )
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| LlmError::InvalidRequest("a message contains a NUL character".into()))?;
        let prompt = self
            .model
            .apply_chat_template(&self.template, &chat, true)
            .map_err(|error| {
                LlmError::Engine(format!("the model's chat template failed: {error}"))
            })?;
        Ok(self.model.vocab().tokenize(prompt.as_bytes(), true, true))
    }

    fn sampler(&self, request: &Request) -> Result<LlamaSampler, LlmError> {
        let mut chain = Vec::new();
        if let Some(schema) = request.schema() {
            let grammar = TopLevelGrammar::from_json_schema(compact(schema.value()));
            let parser = self.grammars.create_parser(grammar).map_err(|error| {
                LlmError::InvalidRequest(format!("the JSON schema cannot be enforced: {error}"))
            })?;
            chain.push(LlamaSampler::from(Matcher::new(Ok(parser))));
        }
        // The 40 likeliest tokens go on. The penalties below look up every candidate in a table of
        // the answer's tokens: over the whole vocabulary (152k on Qwen) that is a millisecond a token
        // per sampler, spent while the decoding threads wait. A token outside the 40 is never
        // chosen anyway: top-p and min-p below keep far fewer.
        chain.push(LlamaSampler::top_k(40));
        if request.frequency_penalty() > 0.0 {
            // Over the whole answer so far; the schema matcher above has already masked what may follow.
            chain.push(LlamaSampler::penalties(
                self.model.n_vocab(),
                request.max_tokens().get() as i32,
                1.0,
                request.frequency_penalty(),
                0.0,
            ));
        }
        if request.loop_guard() {
            // DRY: a repeat of 2 tokens or more is penalised more the longer it runs, over the whole
            // answer; a new line, a colon, a quote or Markdown emphasis starts a fresh sequence, so
            // headings and list items may share openings. The multiplier is stronger than the 0.8
            // its authors suggest: on the 0.5B model, 1.5 cut the mean share of repeated 4-word
            // sequences in first drafts from 19% to 8% and from 33% to 10% in two paired runs.
            // The window must be positive: llama.cpp turns a negative one into 0, which disables DRY.
            chain.push(LlamaSampler::dry(
                self.model,
                DRY_MULTIPLIER,
                1.75,
                2,
                request.max_tokens().get() as i32,
                ["\n", ":", "\"", "*"],
            ));
        }
        if request.temperature() <= 0.0 {
            chain.push(LlamaSampler::greedy());
        } else {
            chain.extend([
                LlamaSampler::top_p(0.95, 1),
                LlamaSampler::min_p(0.05, 1),
                LlamaSampler::temp(request.temperature()),
                LlamaSampler::dist(request.seed().unwrap_or_else(fresh_seed)),
            ]);
        }
        Ok(LlamaSampler::chain_simple(chain))
    }

    /// One decode over all active sequences: a token each for those generating, prompt chunks for the rest.
    fn step(&mut self) {
        // Each generating sequence takes a cell this step. Background answers are admitted for part
        // of their longest answer, so a full cache pauses the youngest until there is room again.
        while self.cells.used()
            + self
                .slots
                .iter()
                .flatten()
                .filter(|seq| seq.next.is_some())
                .count()
            > self.cells.capacity()
        {
            if !self.forget_oldest_cache() && !self.pause_youngest() {
                break;
            }
        }
        let mut budget = BATCH_TOKENS as usize;
        let mut background_budget = BACKGROUND_PROMPT_TOKENS;
        // Generated tokens in this batch, and sequences with any token in it.
        let (mut generating, mut busy) = (0, 0);
        // Whether a prompt got no cells this step.
        let mut out_of_cells = false;
        let someone_waits = self
            .slots
            .iter()
            .flatten()
            .any(|seq| seq.priority == Priority::Interactive);
        // While someone waits for a reply, only the oldest few background sequences go on; the rest
        // keep their next token until the reply is done.
        let held = if someone_waits {
            let mut going: Vec<(u64, usize)> = self
                .slots
                .iter()
                .enumerate()
                .filter_map(|(id, seq)| Some((seq.as_ref()?, id)))
                .filter(|(seq, _)| seq.priority == Priority::Background && seq.next.is_some())
                .map(|(seq, id)| (seq.admitted, id))
                .collect();
            going.sort_unstable();
            going
                .into_iter()
                .skip(BACKGROUND_BESIDE_INTERACTIVE)
                .map(|(_, id)| id)
                .collect()
        } else {
            Vec::new()
        };
        // What each slot adds to the batch this step, decided first and added in slot order.
        let mut feeds = vec![Feed::Nothing; self.slots.len()];
        for (id, seq) in self.slots.iter_mut().enumerate() {
            let Some(seq) = seq else { continue };
            seq.logits_at = None;
            if held.contains(&id) {
                continue;
            }
            if let Some(token) = seq.next.take() {
                feeds[id] = Feed::Token(token);
                self.cells.push(id, 1);
                budget -= 1;
                generating += 1;
                busy += 1;
            }
        }
        // Prompts are decoded interactive first, then oldest first: the text someone waits for, and
        // then the request that has waited longest, get their first token soonest.
        let mut order: Vec<usize> = (0..self.slots.len())
            .filter(|&id| self.slots[id].is_some())
            .collect();
        order.sort_by_key(|&id| {
            self.slots[id]
                .as_ref()
                .map(|seq| (seq.priority != Priority::Interactive, seq.admitted))
        });
        // While someone waits for a reply, background prompts wait: a step that decodes a chunk of
        // one takes seconds, and the reply would get one token per such step.
        // Before anything of this step is added: a slot's decoded tokens must be in the cache to be
        // shared.
        let waits: Vec<bool> = (0..order.len())
            .map(|at| self.catch_up(order[at], &order[..at]) == CatchUp::Wait)
            .collect();
        for (&id, waits) in order.iter().zip(waits) {
            if waits {
                continue;
            }
            let Some(seq) = self.slots[id].as_ref() else {
                continue;
            };
            let background = seq.priority == Priority::Background;
            let remaining = seq.prompt.len() - seq.fed;
            let room = if background {
                budget.min(background_budget)
            } else {
                budget
            };
            if remaining == 0 || room == 0 || (someone_waits && background) {
                continue;
            }
            while self.cells.used() + remaining.min(room) > self.cells.capacity()
                && self.forget_oldest_cache()
            {}
            let take = remaining
                .min(room)
                .min(self.cells.capacity() - self.cells.used());
            if take == 0 {
                out_of_cells = true;
                continue;
            }
            feeds[id] = Feed::Prompt(take);
            self.cells.push(id, take);
            budget -= take;
            if background {
                background_budget -= take;
            }
            busy += 1;
        }
        if busy == 0 {
            // Nothing could go on: a prompt needs cells that running answers hold.
            if out_of_cells {
                self.pause_youngest();
            }
            return;
        }
        let started = Instant::now();
        let decoded = match self.fill(&feeds) {
            Ok(()) => self
                .ctx
                .decode(&mut self.batch)
                .map_err(|error| error.to_string()),
            Err(error) => Err(error.to_string()),
        };
        let prompt = self.batch.n_tokens() as usize - generating;
        self.counters
            .step(busy, prompt, started.elapsed(), self.short_of_room);
        self.counters
            .cache_peak
            .store(self.cells.peak() as u64, Ordering::Relaxed);
        if let Err(error) = decoded {
            tracing::error!(%error, "llama.cpp decode failed; failing the active generations");
            for id in 0..self.slots.len() {
                if let Some(seq) = &self.slots[id] {
                    let _ = seq
                        .events
                        .send(Err(LlmError::Engine(format!("decoding failed: {error}"))));
                    self.clear(id);
                }
            }
            return;
        }
        let started = Instant::now();
        for id in 0..self.slots.len() {
            match self.sample(id) {
                Outcome::Continue => {}
                Outcome::Finished | Outcome::Cancelled => self.release(id),
            }
        }
        self.counters.sampled(started.elapsed());
    }

    /// Adds what `feeds` says to the batch, slot by slot in id order (so llama.cpp computes streams
    /// whose ids follow one another together), and notes where each sequence's logits will be.
    /// The step's budget keeps it within the batch's `BATCH_TOKENS`, so it does not fail.
    fn fill(&mut self, feeds: &[Feed]) -> Result<(), BatchAddError> {
        self.batch.clear();
        for (id, feed) in feeds.iter().enumerate() {
            let Some(seq) = self.slots[id].as_mut() else {
                continue;
            };
            let seq_ids = [id as i32];
            match *feed {
                Feed::Nothing => {}
                Feed::Token(token) => {
                    self.batch.add(token, seq.n_past, &seq_ids, true)?;
                    seq.logits_at = Some(self.batch.n_tokens() - 1);
                    seq.n_past += 1;
                    seq.answer.push(token);
                }
                Feed::Prompt(take) => {
                    for at in seq.fed..seq.fed + take {
                        let token = seq.prompt[at];
                        seq.fed += 1;
                        let last = seq.fed == seq.prompt.len();
                        self.batch.add(token, seq.n_past, &seq_ids, last)?;
                        seq.n_past += 1;
                        if last {
                            seq.logits_at = Some(self.batch.n_tokens() - 1);
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Samples the next token of sequence `id` if it has logits this step, and sends its text.
    fn sample(&mut self, id: usize) -> Outcome {
        let Some(seq) = self.slots[id].as_mut() else {
            return Outcome::Continue;
        };
        let Some(at) = seq.logits_at else {
            return Outcome::Continue;
        };
        let token = seq.sampler.sample(&self.ctx, at);
        self.counters.generated.fetch_add(1, Ordering::Relaxed);
        let vocab = self.model.vocab();
        let mut finished = vocab.is_eog(token);
        let mut text = String::new();
        if !finished {
            seq.generated += 1;
            text = seq.utf8.push(&vocab.token_to_piece(token, false, None));
            finished = seq.generated >= seq.max_tokens;
        }
        if finished {
            text.push_str(&seq.utf8.finish());
        }
        let step = seq.stops.push(&text);
        let mut emit = step.emit;
        finished |= step.stopped;
        if finished && !step.stopped {
            emit.push_str(&seq.stops.finish());
        }
        if !emit.is_empty() && seq.events.send(Ok(Event::Delta(emit))).is_err() {
            return Outcome::Cancelled;
        }
        if finished {
            let usage = Usage {
                prompt_tokens: u32::try_from(seq.prompt_tokens).ok(),
                completion_tokens: Some(seq.generated),
                cached_tokens: u32::try_from(seq.reused.min(seq.prompt_tokens)).ok(),
            };
            let _ = seq.events.send(Ok(Event::Done(usage)));
            return Outcome::Finished;
        }
        seq.next = Some(token);
        Outcome::Continue
    }
}

/// Cells a request is admitted for beyond its prompt. A person's reply gets room for its longest
/// answer. Background answers get half of theirs: a course's answers end well short of their caps
/// (an article of 400 to 700 words under 1,200 tokens, a quiz under 1,000), and reserving every cap
/// left half the slots empty with the cache half used (stop 46: 8.6 of 16 sequences busy, 9,881 of
/// 20,480 cells at the peak). One that outgrows the room pauses the youngest instead.
fn reserved_answer(priority: Priority, max_tokens: u32) -> usize {
    match priority {
        Priority::Interactive => max_tokens as usize,
        Priority::Background => max_tokens.div_ceil(2) as usize,
    }
}

/// How many of `prompt`'s first tokens `cached` holds, if enough to be worth reusing; never the whole
/// prompt, since its last token is decoded again for its logits.
fn shared_prefix(cached: &[LlamaToken], prompt: &[LlamaToken]) -> usize {
    let shared = cached
        .iter()
        .zip(prompt)
        .take_while(|(a, b)| a == b)
        .count()
        .min(prompt.len().saturating_sub(1));
    if shared < MIN_REUSED_TOKENS {
        0
    } else {
        shared
    }
}

/// The schema with llguidance told to allow no free whitespace: small models otherwise tend to fill
/// the answer with newlines until they run out of tokens. Items and keys keep one readable space.
fn compact(schema: &serde_json::Value) -> serde_json::Value {
    let mut schema = schema.clone();
    if let Some(object) = schema.as_object_mut() {
        object.entry("x-guidance").or_insert_with(|| {
            serde_json::json!({"whitespace_flexible": false, "item_separator": ", ", "key_separator": ": "})
        });
    }
    schema
}

/// A seed for requests that did not ask for one: distinct per request.
fn fresh_seed() -> u32 {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.subsec_nanos());
    nanos ^ COUNTER.fetch_add(0x9E37_79B9, Ordering::Relaxed)
}
