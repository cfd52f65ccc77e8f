//! The background worker: claims jobs from the store's queue, runs up to `concurrency` at once (so the
//! engine can batch them), renews each job's lease while it runs, and retries or fails what goes wrong.
//!
//! A worker that is killed simply stops renewing its leases; another worker (or this one restarted)
//! takes the jobs over when the leases run out. Jobs are idempotent, so nothing is written twice.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use lyceum_store::generations::GENERATE_JOB;
use lyceum_store::{Job, StoreError, now_ms};
use tokio::task::JoinSet;

use crate::Lyceum;
use crate::live::Progress;
use crate::settings::EngineKind;

/// When [`Worker::run`] returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Until {
    /// When the shutdown future completes.
    Shutdown,
    /// When the queue is empty (or at shutdown, whichever is first).
    Idle,
}

/// A worker bound to one application.
pub struct Worker {
    app: Arc<Lyceum>,
    name: String,
    concurrency: usize,
    lease: Duration,
    max_attempts: i64,
    backoff: Duration,
}

/// How long an idle worker waits before looking at the queue again, for jobs queued by other processes.
const POLL: Duration = Duration::from_secs(2);

impl Worker {
    /// A worker configured from the application's settings, named after this host and process.
    pub fn new(app: Arc<Lyceum>) -> Self {
        let settings = &app.settings;
        let engine_slots = match settings.engine.kind {
            EngineKind::Local => settings.engine.local.max_sequences,
            EngineKind::Openai => settings.engine.openai.max_concurrent,
        };
        let concurrency = match settings.worker.concurrency {
            0 => engine_slots.max(1),
            n => n,
        };
        let host = std::fs::read_to_string("/etc/hostname").unwrap_or_default();
        Self {
            name: format!("{}:{}", host.trim(), std::process::id()),
            concurrency,
            lease: Duration::from_secs(settings.worker.lease_secs.max(1)),
            max_attempts: i64::from(settings.worker.max_attempts.max(1)),
            backoff: Duration::from_secs(settings.worker.retry_backoff_secs),
            app,
        }
    }

    /// Runs jobs until `until` says to stop. At shutdown, running jobs are cancelled and their leases
    /// released so another worker takes them at once.
    pub async fn run(
        self,
        until: Until,
        shutdown: impl Future<Output = ()>,
    ) -> Result<(), StoreError> {
        let this = Arc::new(self);
        let store = &this.app.store;
        let mut tasks = JoinSet::new();
        let mut running: HashMap<tokio::task::Id, i64> = HashMap::new();
        tokio::pin!(shutdown);
        tracing::info!(worker = %this.name, concurrency = this.concurrency, "worker started");
        loop {
            while tasks.len() < this.concurrency {
                let Some(job) = store.claim(&this.name, this.lease, now_ms()).await? else {
                    break;
                };
                let job_id = job.id;
                let handle = tasks.spawn(Arc::clone(&this).run_job(job));
                running.insert(handle.id(), job_id);
            }
            if tasks.is_empty() && until == Until::Idle && store.job_count().await? == 0 {
                break;
            }
            let wait = if tasks.len() < this.concurrency {
                match store.next_due().await? {
                    Some(due) => {
                        Duration::from_millis(due.saturating_sub(now_ms()).clamp(5, 2_000) as u64)
                    }
                    None => POLL,
                }
            } else {
                POLL
            };
            tokio::select! {
                Some(finished) = tasks.join_next_with_id() => {
                    let id = match &finished {
                        Ok((id, ())) => *id,
                        Err(error) => error.id(),
                    };
                    running.remove(&id);
                    if let Err(error) = finished {
                        tracing::error!(%error, "a job task panicked; its lease will run out and it will be retried");
                    }
                }
                () = this.app.work.notified() => {}
                () = tokio::time::sleep(wait) => {}
                () = &mut shutdown => {
                    tasks.abort_all();
                    while tasks.join_next().await.is_some() {}
                    for job_id in running.values() {
                        store.release_job(*job_id, &this.name).await?;
                    }
                    tracing::info!(released = running.len(), "worker stopped");
                    return Ok(());
                }
            }
        }
        Ok(())
    }

    async fn run_job(self: Arc<Self>, job: Job) {
        if let Err(error) = self.try_run_job(&job).await {
            tracing::error!(job = job.id, %error, "could not record a job's outcome; its lease will run out and it will be retried");
        }
    }

    async fn try_run_job(&self, job: &Job) -> Result<(), StoreError> {
        let store = &self.app.store;
        if job.kind != GENERATE_JOB {
            tracing::error!(job = job.id, kind = %job.kind, "unknown job kind; dropping it");
            return store.complete_job(job.id).await;
        }
        let Ok(generation_id) = job.payload.parse::<i64>() else {
            tracing::error!(
                job = job.id,
                "generation job without a generation id; dropping it"
            );
            return store.complete_job(job.id).await;
        };
        if job.attempts > self.max_attempts {
            let message = format!(
                "gave up after {} attempts: the worker stopped each time",
                job.attempts - 1
            );
            return self.fail(generation_id, job.id, &message).await;
        }

        let work = self.app.write_item(generation_id, job.id);
        tokio::pin!(work);
        let mut heartbeat = tokio::time::interval(self.lease / 3);
        heartbeat.tick().await;
        let result = loop {
            tokio::select! {
                result = &mut work => break result,
                _ = heartbeat.tick() => {
                    if !store.extend_lease(job.id, &self.name, self.lease, now_ms()).await? {
                        tracing::warn!(job = job.id, "lost the lease on a job; another worker has it");
                    }
                }
            }
        };
        match result {
            Ok(()) => Ok(()),
            Err(error) if error.is_transient() && job.attempts < self.max_attempts => {
                let delay =
                    self.backoff * 2_u32.saturating_pow(job.attempts.saturating_sub(1) as u32);
                tracing::warn!(job = job.id, attempt = job.attempts, %error, ?delay, "job failed; retrying later");
                let run_at = now_ms().saturating_add(delay.as_millis() as i64);
                store
                    .retry_job_later(job.id, &self.name, &error.to_string(), run_at)
                    .await
            }
            Err(error) => {
                tracing::warn!(job = job.id, %error, "item failed");
                self.fail(generation_id, job.id, &error.to_string()).await
            }
        }
    }

    async fn fail(&self, generation_id: i64, job_id: i64, message: &str) -> Result<(), StoreError> {
        let store = &self.app.store;
        store
            .fail_generation(generation_id, message, Some(job_id))
            .await?;
        let generation = store.generation(generation_id).await?;
        self.app.hub.report(Progress {
            course_id: generation.course_id,
            generation_id,
            kind: generation.kind,
            status: generation.status,
            tokens_out: None,
        });
        Ok(())
    }
}
