//! The wrapper every engine runs behind: a concurrency limit with a bounded wait queue (interactive
//! requests have slots of their own, so they never wait behind background work), and usage
//! accounting per engine. Per-user quotas will live here too.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use futures::{FutureExt, StreamExt};
use tokio::sync::Semaphore;

use crate::{Engine, EngineInfo, Event, LlmError, Priority, Request, TokenStream, failed};

/// Limits for [`Governed`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GovernorConfig {
    /// Background generations running at once.
    pub max_concurrent: usize,
    /// Interactive generations running at once (at least 1), not counted against `max_concurrent`: a
    /// person waiting never queues behind background work.
    pub max_interactive: usize,
    /// Generations allowed to wait for a free slot; one more is refused as overloaded.
    pub max_queued: usize,
}

/// Totals since the engine started, for metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UsageSnapshot {
    /// Generations started.
    pub requests: u64,
    /// Generations that finished.
    pub completed: u64,
    /// Generations that ended in an error (refusals as overloaded included).
    pub failed: u64,
    /// Prompt tokens of finished generations that reported them.
    pub prompt_tokens: u64,
    /// Completion tokens of finished generations that reported them.
    pub completion_tokens: u64,
    /// Finished generations whose engine reported no usage.
    pub usage_unknown: u64,
}

#[derive(Debug, Default)]
struct Counters {
    requests: AtomicU64,
    completed: AtomicU64,
    failed: AtomicU64,
    prompt_tokens: AtomicU64,
    completion_tokens: AtomicU64,
    usage_unknown: AtomicU64,
}

/// An engine behind a concurrency limit, with usage accounting.
pub struct Governed {
    inner: Arc<dyn Engine>,
    slots: Arc<Semaphore>,
    interactive: Arc<Semaphore>,
    queued: Arc<AtomicUsize>,
    max_queued: usize,
    counters: Arc<Counters>,
}

impl Governed {
    /// Wraps an engine.
    pub fn new(inner: Arc<dyn Engine>, config: GovernorConfig) -> Self {
        Self {
            inner,
            slots: Arc::new(Semaphore::new(config.max_concurrent.max(1))),
            interactive: Arc::new(Semaphore::new(config.max_interactive.max(1))),
            queued: Arc::new(AtomicUsize::new(0)),
            max_queued: config.max_queued,
            counters: Arc::new(Counters::default()),
        }
    }

    /// Usage totals so far.
    pub fn usage(&self) -> UsageSnapshot {
        let c = &self.counters;
        UsageSnapshot {
            requests: c.requests.load(Ordering::Relaxed),
            completed: c.completed.load(Ordering::Relaxed),
            failed: c.failed.load(Ordering::Relaxed),
            prompt_tokens: c.prompt_tokens.load(Ordering::Relaxed),
            completion_tokens: c.completion_tokens.load(Ordering::Relaxed),
            usage_unknown: c.usage_unknown.load(Ordering::Relaxed),
        }
    }
}

/// Counts a waiting request and uncounts it however the wait ends (slot granted or stream dropped).
struct QueueTicket(Arc<AtomicUsize>);

impl Drop for QueueTicket {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Engine for Governed {
    fn info(&self) -> &EngineInfo {
        self.inner.info()
    }

    fn fits(&self, request: &Request) -> crate::BoxFuture<'_, Option<bool>> {
        self.inner.fits(request)
    }

    fn waiting(&self) -> usize {
        self.queued.load(Ordering::Relaxed)
    }

    fn profile(&self) -> Option<crate::Profile> {
        self.inner.profile()
    }

    fn keeps_prompts(&self) -> bool {
        self.inner.keeps_prompts()
    }

    fn generate(&self, request: Request) -> TokenStream {
        let counters = Arc::clone(&self.counters);
        counters.requests.fetch_add(1, Ordering::Relaxed);
        let waiting = self.queued.fetch_add(1, Ordering::AcqRel);
        let ticket = QueueTicket(Arc::clone(&self.queued));
        let slots = Arc::clone(match request.priority() {
            Priority::Background => &self.slots,
            Priority::Interactive => &self.interactive,
        });
        if waiting >= self.max_queued && slots.available_permits() == 0 {
            drop(ticket);
            counters.failed.fetch_add(1, Ordering::Relaxed);
            return failed(LlmError::Overloaded { queued: waiting });
        }
        let inner = Arc::clone(&self.inner);
        let started = async move {
            let permit = slots.acquire_owned().await;
            drop(ticket);
            let stream = match permit {
                Ok(_) => inner.generate(request),
                Err(_) => failed(LlmError::Engine("the engine is shutting down".into())),
            };
            // The permit lives as long as the stream: dropping either frees the slot.
            stream.map(move |event| {
                let _slot = &permit;
                event
            })
        };
        Box::pin(started.flatten_stream().inspect(move |event| match event {
            Ok(Event::Done(usage)) => {
                counters.completed.fetch_add(1, Ordering::Relaxed);
                match (usage.prompt_tokens, usage.completion_tokens) {
                    (Some(prompt), Some(completion)) => {
                        counters
                            .prompt_tokens
                            .fetch_add(prompt.into(), Ordering::Relaxed);
                        counters
                            .completion_tokens
                            .fetch_add(completion.into(), Ordering::Relaxed);
                    }
                    _ => {
                        counters.usage_unknown.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            Ok(Event::Delta(_)) => {}
            Err(_) => {
                counters.failed.fetch_add(1, Ordering::Relaxed);
            }
        }))
    }
}
