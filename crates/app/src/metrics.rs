//! What an operator's Prometheus scrapes from `/metrics`: requests by route and status with their
//! latency, jobs waiting and running by kind, failed items, generated tokens and their speed by
//! engine, the engine's queue, and page-cache hits. Counters live in this process; queue figures are
//! read from the database at each scrape, so every node reports the whole queue.

use std::time::Duration;

use lyceum_store::{GenerationStats, StoreError};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::Lyceum;

/// The content type of [`Lyceum::metrics_text`].
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    method: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EngineLabels {
    engine: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct JobLabels {
    kind: String,
    state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CacheLabels {
    result: &'static str,
}

/// Every metric of this process.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    request_seconds: Family<RouteLabels, Histogram>,
    tokens: Family<EngineLabels, Counter>,
    tokens_per_second: Family<EngineLabels, Histogram>,
    jobs: Family<JobLabels, Gauge>,
    failed_items: Family<KindLabels, Gauge>,
    engine_waiting: Gauge,
    page_cache: Family<CacheLabels, Counter>,
    discarded_answers: Counter,
    discarded_tokens: Counter,
}

/// Model answers written and then not kept: structured answers rejected by their checks, prose
/// written again (empty, looping, in the wrong language) or kept in favour of a better text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Discarded {
    /// Answers thrown away.
    pub answers: u64,
    /// Their generated tokens, where the engine said how many.
    pub tokens: u64,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("lyceum");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by route, method and status",
            requests.clone(),
        );
        let request_seconds = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            // 1 ms to about 16 s.
            Histogram::new(exponential_buckets(0.001, 2.0, 15))
        });
        registry.register(
            "http_request_duration_seconds",
            "Time to answer a request (to its first byte for streams), by route",
            request_seconds.clone(),
        );
        let tokens = Family::<EngineLabels, Counter>::default();
        registry.register(
            "generated_tokens",
            "Tokens generated for stored items and drafts, by engine",
            tokens.clone(),
        );
        let tokens_per_second = Family::<EngineLabels, Histogram>::new_with_constructor(|| {
            // 1 to about 4,000 tokens a second.
            Histogram::new(exponential_buckets(1.0, 2.0, 13))
        });
        registry.register(
            "generation_tokens_per_second",
            "Speed of each generation, by engine",
            tokens_per_second.clone(),
        );
        let jobs = Family::<JobLabels, Gauge>::default();
        registry.register(
            "jobs",
            "Jobs in the queue (all nodes), by kind and state (waiting or running)",
            jobs.clone(),
        );
        let failed_items = Family::<KindLabels, Gauge>::default();
        registry.register(
            "failed_items",
            "Generated items that failed and wait for a retry, by kind",
            failed_items.clone(),
        );
        let engine_waiting = Gauge::default();
        registry.register(
            "engine_waiting_requests",
            "Requests waiting for a free slot of this process's engine",
            engine_waiting.clone(),
        );
        let page_cache = Family::<CacheLabels, Counter>::default();
        registry.register(
            "page_cache_lookups",
            "Course pages asked of the page cache, by result (hit or miss)",
            page_cache.clone(),
        );
        let discarded_answers = Counter::default();
        registry.register(
            "discarded_answers",
            "Model answers generated and then thrown away (rejected by a check, or written again)",
            discarded_answers.clone(),
        );
        let discarded_tokens = Counter::default();
        registry.register(
            "discarded_tokens",
            "Tokens of the model answers thrown away",
            discarded_tokens.clone(),
        );
        Self {
            registry,
            requests,
            request_seconds,
            tokens,
            tokens_per_second,
            jobs,
            failed_items,
            engine_waiting,
            page_cache,
            discarded_answers,
            discarded_tokens,
        }
    }
}

impl Metrics {
    /// Counts a request answered on `route` (the route's pattern, never the path asked for, so
    /// the labels stay few).
    pub fn request(&self, route: &str, method: &str, status: u16, took: Duration) {
        self.requests
            .get_or_create(&RequestLabels {
                route: route.to_owned(),
                method: method.to_owned(),
                status,
            })
            .inc();
        self.request_seconds
            .get_or_create(&RouteLabels {
                route: route.to_owned(),
            })
            .observe(took.as_secs_f64());
    }

    /// Counts a page-cache lookup.
    pub fn page_cache(&self, hit: bool) {
        let result = if hit { "hit" } else { "miss" };
        self.page_cache.get_or_create(&CacheLabels { result }).inc();
    }

    /// Counts a model answer thrown away, with its generated tokens when known.
    pub(crate) fn discarded(&self, tokens: Option<u32>) {
        self.discarded_answers.inc();
        self.discarded_tokens
            .inc_by(u64::from(tokens.unwrap_or_default()));
    }

    /// The answers thrown away since this process started.
    pub fn discarded_so_far(&self) -> Discarded {
        Discarded {
            answers: self.discarded_answers.get(),
            tokens: self.discarded_tokens.get(),
        }
    }

    /// Counts what a finished generation produced.
    pub(crate) fn generated(&self, stats: &GenerationStats) {
        let labels = EngineLabels {
            engine: stats.engine.clone(),
        };
        let Some(tokens) = stats.tokens_out else {
            return;
        };
        self.tokens.get_or_create(&labels).inc_by(u64::from(tokens));
        let seconds = stats.duration.as_secs_f64();
        if tokens > 0 && seconds > 0.0 {
            self.tokens_per_second
                .get_or_create(&labels)
                .observe(f64::from(tokens) / seconds);
        }
    }
}

impl Lyceum {
    /// Every metric in the OpenMetrics text format ([`CONTENT_TYPE`]), the queue's read from the
    /// database now.
    pub async fn metrics_text(&self) -> Result<String, StoreError> {
        let metrics = &self.metrics;
        let queue = self.store.job_counts(lyceum_store::now_ms()).await?;
        metrics.jobs.clear();
        for (kind, waiting, running) in queue {
            for (state, count) in [("waiting", waiting), ("running", running)] {
                metrics
                    .jobs
                    .get_or_create(&JobLabels {
                        kind: kind.clone(),
                        state,
                    })
                    .set(count);
            }
        }
        metrics.failed_items.clear();
        for (kind, count) in self.store.failed_counts().await? {
            metrics
                .failed_items
                .get_or_create(&KindLabels { kind })
                .set(count);
        }
        metrics
            .engine_waiting
            .set(i64::try_from(self.engine.waiting()).unwrap_or(i64::MAX));
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &metrics.registry);
        Ok(text)
    }
}
