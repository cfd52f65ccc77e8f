//! The background worker: claims jobs from the store's queue, runs up to `concurrency` at once (so the
//! engine can batch them) and jobs someone waits for besides, renews each job's lease while it runs,
//! and retries or fails what goes wrong.
//!
//! A worker that is killed simply stops renewing its leases; another worker (or this one restarted)
//! takes the jobs over when the leases run out. Jobs are idempotent, so nothing is written twice.
//!
//! The worker never stops on its own while it serves: a database that cannot be reached is logged and
//! tried again with a growing pause, and [`WorkerHealth`] tells `/readyz` meanwhile. A job whose task
//! panics fails its item visibly at once. A job whose lease another worker took is abandoned.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use lyceum_llm::Priority;
use lyceum_store::drafts::Drafted;
use lyceum_store::{Change, Changes, Job, StoreError, Task};
use tokio::task::JoinSet;

use crate::Lyceum;
use crate::live::Progress;
use crate::mail::{Delivered, DripStep};
use crate::settings::EngineKind;

/// When [`Worker::run`] returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Until {
    /// When the shutdown future completes.
    Shutdown,
    /// When the queue is empty (or at shutdown, whichever is first).
    Idle,
}

/// Whether this process's worker can reach its queue, for `/readyz`.
pub struct WorkerHealth {
    state: tokio::sync::watch::Sender<HealthState>,
}

impl Default for WorkerHealth {
    fn default() -> Self {
        Self {
            state: tokio::sync::watch::Sender::new(HealthState::default()),
        }
    }
}

#[derive(Default)]
struct HealthState {
    running: bool,
    /// Since when the queue could not be read, and why.
    failing: Option<(std::time::Instant, String)>,
}

impl HealthState {
    fn status(&self) -> WorkerStatus {
        match (&self.failing, self.running) {
            (_, false) => WorkerStatus::NotRunning,
            (None, true) => WorkerStatus::Working,
            (Some((since, error)), true) => WorkerStatus::Failing {
                for_secs: since.elapsed().as_secs(),
                error: error.clone(),
            },
        }
    }
}

/// What [`WorkerHealth::status`] reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WorkerStatus {
    /// No worker runs in this process (`lyceum serve --no-worker`, or not started yet).
    NotRunning,
    /// Claiming and recording jobs.
    Working,
    /// The queue has not been reachable for this long; the error says why.
    Failing {
        /// Seconds since the first failure.
        for_secs: u64,
        /// The last error.
        error: String,
    },
}

impl WorkerHealth {
    /// How the worker is doing.
    pub fn status(&self) -> WorkerStatus {
        self.state.borrow().status()
    }

    /// Waits until the worker's status is one `wanted` accepts.
    pub async fn wait_for(&self, wanted: impl Fn(&WorkerStatus) -> bool) {
        let mut changes = self.state.subscribe();
        // The sender lives as long as `self`, so this cannot fail while it is borrowed.
        let _ = changes.wait_for(|state| wanted(&state.status())).await;
    }

    fn set_running(&self, running: bool) {
        self.state.send_modify(|state| state.running = running);
    }

    /// Records a failure; returns how long the queue has been failing.
    fn failed(&self, error: &StoreError) -> Duration {
        let mut failing_for = Duration::ZERO;
        self.state.send_modify(|state| {
            let since = state
                .failing
                .get_or_insert_with(|| (std::time::Instant::now(), String::new()));
            since.1 = error.to_string();
            failing_for = since.0.elapsed();
        });
        failing_for
    }

    /// Records a success; true when it ends a run of failures.
    fn recovered(&self) -> bool {
        self.state
            .send_if_modified(|state| state.failing.take().is_some())
    }
}

/// A worker bound to one application.
pub struct Worker {
    app: Arc<Lyceum>,
    name: String,
    concurrency: usize,
    /// Jobs someone is waiting for that it takes besides, when its `concurrency` is full.
    urgent_extra: usize,
    lease: Duration,
    max_attempts: i64,
    backoff: Duration,
}

/// How long an idle worker waits before looking at the queue again, for jobs queued by other processes.
const POLL: Duration = Duration::from_secs(2);
/// Tries at a message the server keeps refusing for now, before it is recorded as failed.
const MAIL_ATTEMPTS: i64 = 8;
/// The wait before a message is tried again, doubled after each try, up to [`MAIL_RETRY_MAX`].
const MAIL_RETRY: Duration = Duration::from_secs(60);
const MAIL_RETRY_MAX: Duration = Duration::from_secs(3_600);
/// The longest pause between two tries at a queue that cannot be reached.
const MAX_PAUSE: Duration = Duration::from_secs(30);
/// How long a draining worker (`lyceum worker --drain`, `lyceum generate`) keeps trying an unreachable
/// queue before it gives up with the error; a serving worker never gives up.
const DRAIN_GIVES_UP: Duration = Duration::from_secs(120);

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
        // As many as the engine keeps slots for interactive requests, which such jobs make.
        let urgent_extra = match settings.engine.kind {
            EngineKind::Local => settings.engine.local.interactive_sequences.max(1),
            EngineKind::Openai => 1,
        };
        let host = std::fs::read_to_string("/etc/hostname").unwrap_or_default();
        // Containers share hostnames and pids; the random part keeps every worker's leases its own.
        let mut random = [0u8; 4];
        let _ = getrandom::fill(&mut random);
        let random: String = random.iter().map(|byte| format!("{byte:02x}")).collect();
        Self {
            name: format!("{}:{}:{random}", host.trim(), std::process::id()),
            concurrency,
            urgent_extra,
            lease: Duration::from_secs(settings.worker.lease_secs.max(1)),
            max_attempts: i64::from(settings.worker.max_attempts.max(1)),
            backoff: Duration::from_secs(settings.worker.retry_backoff_secs),
            app,
        }
    }

    /// This worker's name, as its leases record it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Runs jobs until `until` says to stop. At shutdown, running jobs are cancelled and their leases
    /// released so another worker takes them at once. A queue that cannot be reached is tried again
    /// and again; only a draining worker gives up on it (after [`DRAIN_GIVES_UP`]) with the error.
    pub async fn run(
        self,
        until: Until,
        shutdown: impl Future<Output = ()>,
    ) -> Result<(), StoreError> {
        let this = Arc::new(self);
        let health = &this.app.worker_health;
        health.set_running(true);
        let mut tasks = JoinSet::new();
        let mut running: HashMap<tokio::task::Id, Job> = HashMap::new();
        let mut failures = 0_u32;
        // Told when jobs are queued, by this process or (on PostgreSQL) any other; without it the
        // worker still looks every `POLL`.
        let mut queued = match this.app.store.changes().await {
            Ok(changes) => Some(changes),
            Err(error) => {
                tracing::warn!(%error, "cannot follow the queue's changes; looking every {POLL:?}");
                None
            }
        };
        tokio::pin!(shutdown);
        tracing::info!(worker = %this.name, concurrency = this.concurrency, "worker started");
        let result = loop {
            let wait = match this.fill(&mut tasks, &mut running, until).await {
                Ok(None) => break Ok(()),
                Ok(Some(wait)) => {
                    if health.recovered() {
                        tracing::info!("the job queue is reachable again");
                    }
                    failures = 0;
                    wait
                }
                Err(error) => {
                    let failing_for = health.failed(&error);
                    if until == Until::Idle && failing_for >= DRAIN_GIVES_UP {
                        break Err(error);
                    }
                    let pause = Duration::from_millis(100)
                        .saturating_mul(2_u32.saturating_pow(failures))
                        .min(MAX_PAUSE);
                    failures = failures.saturating_add(1);
                    tracing::error!(%error, ?pause, "cannot read the job queue; trying again");
                    pause
                }
            };
            tokio::select! {
                Some(finished) = tasks.join_next_with_id() => {
                    let (id, panic) = match finished {
                        Ok((id, ())) => (id, None),
                        Err(error) => (error.id(), Some(error)),
                    };
                    let job = running.remove(&id);
                    if let (Some(error), Some(job)) = (panic, job) {
                        this.panicked(&job, &error).await;
                    }
                }
                () = jobs_queued(&mut queued) => {}
                () = tokio::time::sleep(wait) => {}
                () = &mut shutdown => break Ok(()),
            }
        };
        tasks.abort_all();
        while tasks.join_next().await.is_some() {}
        for job in running.values() {
            if let Err(error) = this.app.store.release_job(job.id, &this.name).await {
                tracing::warn!(job = job.id, %error, "could not hand a job back; its lease will run out");
            }
        }
        if !running.is_empty() {
            tracing::info!(released = running.len(), "worker stopped");
        }
        health.set_running(false);
        result
    }

    /// Claims due jobs into free slots; returns how long to wait before looking again, or `None` when
    /// a draining worker has nothing left.
    async fn fill(
        self: &Arc<Self>,
        tasks: &mut JoinSet<()>,
        running: &mut HashMap<tokio::task::Id, Job>,
        until: Until,
    ) -> Result<Option<Duration>, StoreError> {
        let store = &self.app.store;
        loop {
            let now = self.app.clock.now_ms();
            // Full, a worker still takes what a person waits for (a draft, a unit they opened).
            let job = if tasks.len() < self.concurrency {
                store.claim(&self.name, self.lease, now).await?
            } else if tasks.len() < self.concurrency + self.urgent_extra {
                store.claim_urgent(&self.name, self.lease, now).await?
            } else {
                None
            };
            let Some(job) = job else { break };
            let handle = tasks.spawn(Arc::clone(self).run_job(job.clone()));
            running.insert(handle.id(), job);
        }
        let now = self.app.clock.now_ms();
        if tasks.is_empty() && until == Until::Idle && store.unfinished_job_count(now).await? == 0 {
            return Ok(None);
        }
        if tasks.len() >= self.concurrency {
            return Ok(Some(POLL));
        }
        Ok(Some(match store.next_due().await? {
            Some(due) => Duration::from_millis(due.saturating_sub(now).clamp(5, 2_000) as u64),
            None => POLL,
        }))
    }

    /// A job's task panicked: a bug, and likely to happen again, so its item fails now, visibly,
    /// instead of being retried when the lease runs out.
    async fn panicked(&self, job: &Job, error: &tokio::task::JoinError) {
        tracing::error!(job = job.id, %error, "a job panicked; its item is marked failed");
        let recorded = match &job.task {
            Task::Generate(generation_id) => {
                let message = "Lyceum hit an internal error while writing this; it has been logged";
                self.fail(*generation_id, job.id, message).await
            }
            Task::Draft(draft_id) => {
                let message = "Lyceum hit an internal error while drafting this outline; it has \
                               been logged. Please try again.";
                self.app
                    .store
                    .finish_draft(draft_id, Drafted::Failed(message), Some(job.id))
                    .await
            }
            Task::Deliver(delivery_id) => {
                let recorded = self
                    .app
                    .give_up_delivery(
                        *delivery_id,
                        "Lyceum hit an internal error while sending it",
                    )
                    .await;
                match recorded {
                    Ok(()) => self.app.store.complete_job(job.id).await,
                    Err(error) => Err(error),
                }
            }
            Task::Drip(subscription_id) => {
                let why = "Lyceum hit an internal error while sending the next unit; it has been \
                           logged. Subscribe again to go on.";
                match self
                    .app
                    .store
                    .stop_subscription(*subscription_id, why)
                    .await
                {
                    Ok(()) => self.app.store.complete_job(job.id).await,
                    Err(error) => Err(error),
                }
            }
            // The item keeps no vector until its next edit or `lyceum search reindex`.
            Task::Embed(_) => self.app.store.complete_job(job.id).await,
            Task::Unknown { .. } => Ok(()),
        };
        if let Err(error) = recorded {
            tracing::error!(job = job.id, %error, "could not record a panicked job; its lease will run out");
        }
    }

    // The task's kind, not its payload: a draft's id is its author's capability.
    #[tracing::instrument(name = "job", skip_all, fields(job = job.id, kind = job.task.kind(), attempt = job.attempts))]
    async fn run_job(self: Arc<Self>, job: Job) {
        if let Err(error) = self.try_run_job(&job).await {
            self.app.worker_health.failed(&error);
            tracing::error!(job = job.id, %error, "could not record a job's outcome; its lease will run out and it will be retried");
        }
    }

    async fn try_run_job(&self, job: &Job) -> Result<(), StoreError> {
        match &job.task {
            Task::Generate(generation_id) => self.generate(job, *generation_id).await,
            Task::Draft(draft_id) => {
                if job.attempts > self.max_attempts {
                    let message = "Drafting stopped several times before it could finish. \
                                   Please try again.";
                    return self
                        .app
                        .store
                        .finish_draft(draft_id, Drafted::Failed(message), Some(job.id))
                        .await;
                }
                match self
                    .leased(job, self.app.write_draft(draft_id, job.id))
                    .await
                {
                    Some(result) => result,
                    None => Ok(()),
                }
            }
            Task::Drip(subscription_id) => {
                let store = &self.app.store;
                match self.app.drip_step(*subscription_id).await? {
                    DripStep::Scheduled => Ok(()),
                    DripStep::WakeAt(at) => store
                        .requeue_job(job.id, &self.name, at, None)
                        .await
                        .map(drop),
                    DripStep::Over => store.complete_job(job.id).await,
                }
            }
            Task::Deliver(delivery_id) => self.deliver(job, *delivery_id).await,
            Task::Embed(item) => match self.app.embed(*item).await {
                Ok(()) => self.app.store.complete_job(job.id).await,
                Err(crate::search::EmbedError::Store(error)) => Err(error),
                // The encoder failing is not the queue's problem: said, and left for a reindex.
                Err(error) => {
                    tracing::error!(job = job.id, item = %item.key(), %error, "could not embed an item for search by meaning");
                    self.app.store.complete_job(job.id).await
                }
            },
            Task::Unknown { kind, .. } => {
                tracing::error!(job = job.id, %kind, "a job of a kind this version does not know; dropping it");
                self.app.store.complete_job(job.id).await
            }
        }
    }

    /// Runs `work` while renewing the job's lease beside it; `None` when the lease was lost
    /// (another worker took the job after this one stalled past its lease), and the work stopped,
    /// so the job is done by one worker only.
    async fn leased<T>(&self, job: &Job, work: impl Future<Output = T>) -> Option<T> {
        let store = &self.app.store;
        // The lease is renewed beside the work, never in its place: the work may hold SQLite's write
        // lock in a transaction, and a renewal awaited while the work stands still would wait for
        // that lock until the busy timeout.
        let heartbeat = async {
            let mut every = tokio::time::interval(self.lease / 3);
            every.tick().await;
            loop {
                every.tick().await;
                match store
                    .extend_lease(job.id, &self.name, self.lease, self.app.clock.now_ms())
                    .await
                {
                    Ok(true) => {}
                    Ok(false) => return,
                    // The database is briefly away: keep working; the lease is renewed next beat.
                    Err(error) => tracing::warn!(job = job.id, %error, "could not renew a lease"),
                }
            }
        };
        tokio::select! {
            result = work => Some(result),
            () = heartbeat => {
                tracing::warn!(job = job.id, "lost the lease on a job; leaving it to the worker that has it");
                None
            }
        }
    }

    async fn generate(&self, job: &Job, generation_id: i64) -> Result<(), StoreError> {
        let store = &self.app.store;
        if job.attempts > self.max_attempts {
            let message = format!(
                "gave up after {} attempts: the worker stopped each time",
                job.attempts - 1
            );
            return self.fail(generation_id, job.id, &message).await;
        }
        let Some(result) = self
            .leased(
                job,
                self.app.write_item(generation_id, job.id, priority(job)),
            )
            .await
        else {
            return Ok(());
        };
        match result {
            Ok(()) => Ok(()),
            Err(error) if error.is_transient() && job.attempts < self.max_attempts => {
                let delay =
                    self.backoff * 2_u32.saturating_pow(job.attempts.saturating_sub(1) as u32);
                tracing::warn!(job = job.id, attempt = job.attempts, %error, ?delay, "job failed; retrying later");
                let run_at = self
                    .app
                    .clock
                    .now_ms()
                    .saturating_add(delay.as_millis() as i64);
                store
                    .retry_generation_later(
                        generation_id,
                        job.id,
                        &self.name,
                        &error.to_string(),
                        run_at,
                    )
                    .await?;
                self.report(generation_id).await
            }
            Err(error) => {
                tracing::warn!(job = job.id, %error, "item failed");
                self.fail(generation_id, job.id, &error.to_string()).await
            }
        }
    }

    /// Sends a delivery; one the server did not take for now is tried again later, up to
    /// [`MAIL_ATTEMPTS`] times, a minute after the first try and twice as long after each next one.
    async fn deliver(&self, job: &Job, delivery_id: i64) -> Result<(), StoreError> {
        let Some(delivered) = self.leased(job, self.app.deliver(delivery_id)).await else {
            return Ok(());
        };
        match delivered? {
            Delivered::Done => self.app.store.complete_job(job.id).await,
            Delivered::Retry(error) if job.attempts >= MAIL_ATTEMPTS => {
                self.app
                    .give_up_delivery(delivery_id, &error.to_string())
                    .await?;
                self.app.store.complete_job(job.id).await
            }
            Delivered::Retry(error) => {
                let exponent = u32::try_from(job.attempts.saturating_sub(1)).unwrap_or(u32::MAX);
                let delay = MAIL_RETRY
                    .saturating_mul(2_u32.saturating_pow(exponent))
                    .min(MAIL_RETRY_MAX);
                let run_at = self
                    .app
                    .clock
                    .now_ms()
                    .saturating_add(i64::try_from(delay.as_millis()).unwrap_or(i64::MAX));
                self.app
                    .store
                    .requeue_job(job.id, &self.name, run_at, Some(&error.to_string()))
                    .await
                    .map(drop)
            }
        }
    }

    async fn fail(&self, generation_id: i64, job_id: i64, message: &str) -> Result<(), StoreError> {
        self.app
            .store
            .fail_generation(generation_id, message, Some(job_id))
            .await?;
        self.report(generation_id).await
    }

    /// Tells watchers of the course where an item stands now.
    async fn report(&self, generation_id: i64) -> Result<(), StoreError> {
        let generation = self.app.store.generation(generation_id).await?;
        if generation.status == lyceum_store::Status::Failed {
            self.app.hub.failed(
                generation_id,
                generation.error.as_deref().unwrap_or("writing failed"),
            );
        }
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

/// Waits until the feed says jobs were queued (or that it missed changes, which may have been
/// that); never, without a feed.
async fn jobs_queued(changes: &mut Option<Changes>) {
    let Some(feed) = changes else {
        return std::future::pending().await;
    };
    loop {
        match feed.next().await {
            Some(Change::Queued | Change::Missed) => return,
            Some(_) => {}
            None => {
                *changes = None;
                return std::future::pending().await;
            }
        }
    }
}

/// Interactive for a job someone is waiting for (they opened its unit), so its text comes first.
fn priority(job: &Job) -> Priority {
    if job.is_urgent() {
        Priority::Interactive
    } else {
        Priority::Background
    }
}
