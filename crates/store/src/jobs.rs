//! The durable job queue: a table. A worker claims the first due job by priority, then age, taking a
//! lease; it renews the lease while it works and deletes the job when done. A worker that dies simply
//! stops renewing, and its job is claimed again once the lease runs out. Failed jobs come back after a
//! backoff. Each job does one typed [`Task`], and at most one job per task is queued.
//!
//! Claiming is one statement: `UPDATE … WHERE id = (SELECT … FOR UPDATE SKIP LOCKED) RETURNING` on
//! PostgreSQL, so concurrent workers skip each other's rows; on SQLite the same `UPDATE … RETURNING`
//! without the lock clause is atomic because SQLite runs one writer at a time.

use std::time::Duration;

use crate::vectors::VectorItem;
use crate::{Backend, Store, StoreError, with_pool};

/// The priority of work someone is waiting for; ordinary jobs have 0.
pub const URGENT: i64 = 100;

/// The priority of a unit's quiz, queued as its unit is stored: ahead of ordinary work, so the worker
/// that wrote the unit takes it next while its engine still holds the unit's conversation.
pub const FOLLOW_UP: i64 = 1;

/// The priority of mail: quick work that needs no engine, taken as soon as a slot frees so a unit
/// due at 07:00 does not wait for a whole course to be written.
pub const MAIL: i64 = 2;

/// What a job does. Each kind is one variant: the queue stores it as a kind and a payload, and at
/// most one job per task is queued at a time.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Task {
    /// Write one generated item: its generation record.
    Generate(i64),
    /// Draft an outline: the draft's id.
    Draft(String),
    /// Send one delivery: its id.
    Deliver(i64),
    /// Send a subscription its next unit when due: its id.
    Drip(i64),
    /// Make a unit's or a course's vector for search by meaning (queued by the database itself
    /// whenever what the vector is made from changes; see the `vectors` migrations).
    Embed(VectorItem),
    /// A kind this version does not know (queued by a newer one), as stored.
    Unknown {
        /// The stored kind.
        kind: String,
        /// The stored payload.
        payload: String,
    },
}

impl Task {
    /// What kind of task it is (`generate`, `draft`, …), as stored and logged.
    pub fn kind(&self) -> &str {
        match self {
            Self::Generate(_) => "generate",
            Self::Draft(_) => "draft",
            Self::Deliver(_) => "deliver",
            Self::Drip(_) => "drip",
            Self::Embed(_) => "embed",
            Self::Unknown { kind, .. } => kind,
        }
    }

    pub(crate) fn payload(&self) -> String {
        match self {
            Self::Generate(id) | Self::Deliver(id) | Self::Drip(id) => id.to_string(),
            Self::Draft(id) => id.clone(),
            Self::Embed(item) => item.key(),
            Self::Unknown { payload, .. } => payload.clone(),
        }
    }

    /// The queue's dedupe key: one queued job per task.
    pub fn key(&self) -> String {
        format!("{}:{}", self.kind(), self.payload())
    }

    fn parse(kind: String, payload: String) -> Self {
        match kind.as_str() {
            "generate" | "deliver" | "drip" => match payload.parse() {
                Ok(id) if kind == "generate" => Self::Generate(id),
                Ok(id) if kind == "deliver" => Self::Deliver(id),
                Ok(id) => Self::Drip(id),
                Err(_) => Self::Unknown { kind, payload },
            },
            "draft" => Self::Draft(payload),
            "embed" => match VectorItem::parse(&payload) {
                Some(item) => Self::Embed(item),
                None => Self::Unknown { kind, payload },
            },
            _ => Self::Unknown { kind, payload },
        }
    }
}

/// A job to queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJob {
    /// What the worker does.
    pub task: Task,
    /// Higher runs first.
    pub priority: i64,
    /// Not before this time (Unix ms).
    pub run_at: i64,
}

impl NewJob {
    /// `task`, due at `now` with `priority`.
    pub fn new(task: Task, priority: i64, now: i64) -> Self {
        Self {
            task,
            priority,
            run_at: now,
        }
    }
}

/// A claimed job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// Its id.
    pub id: i64,
    /// What to do.
    pub task: Task,
    /// Times it has been claimed, this one included.
    pub attempts: i64,
    /// Its priority when claimed: [`URGENT`] when someone was waiting for it.
    pub priority: i64,
}

impl Job {
    /// Whether someone was waiting for it when it was claimed.
    pub fn is_urgent(&self) -> bool {
        self.priority >= URGENT
    }
}

#[derive(sqlx::FromRow)]
struct JobRow {
    id: i64,
    kind: String,
    payload: String,
    attempts: i64,
    priority: i64,
}

impl From<JobRow> for Job {
    fn from(row: JobRow) -> Self {
        Self {
            id: row.id,
            task: Task::parse(row.kind, row.payload),
            attempts: row.attempts,
            priority: row.priority,
        }
    }
}

/// Inserts a job on any executor (pool or transaction); evaluates to the new id, or `None` when a job
/// with the same dedupe key is already queued.
macro_rules! insert {
    ($executor:expr, $job:expr) => {{
        let job: &$crate::jobs::NewJob = $job;
        // `fetch_all`, not `fetch_optional`: see `Store::claim`.
        let ids: Vec<i64> = sqlx::query_scalar(
            "INSERT INTO jobs (kind, payload, dedupe_key, priority, run_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (dedupe_key) DO NOTHING RETURNING id",
        )
        .bind(job.task.kind())
        .bind(job.task.payload())
        .bind(job.task.key())
        .bind(job.priority)
        .bind(job.run_at)
        .bind($crate::now_ms())
        .fetch_all($executor)
        .await?;
        ids.into_iter().next()
    }};
}
pub(crate) use insert;

const CLAIM_SQLITE: &str = "UPDATE jobs SET attempts = attempts + 1, locked_by = $1, lease_until = $2 \
     WHERE id = (SELECT id FROM jobs WHERE run_at <= $3 AND (lease_until IS NULL OR lease_until <= $3) \
                 AND priority >= $4 ORDER BY priority DESC, id LIMIT 1) \
     RETURNING id, kind, payload, attempts, priority";

const CLAIM_POSTGRES: &str = "UPDATE jobs SET attempts = attempts + 1, locked_by = $1, lease_until = $2 \
     WHERE id = (SELECT id FROM jobs WHERE run_at <= $3 AND (lease_until IS NULL OR lease_until <= $3) \
                 AND priority >= $4 ORDER BY priority DESC, id LIMIT 1 FOR UPDATE SKIP LOCKED) \
     RETURNING id, kind, payload, attempts, priority";

fn ms(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

impl Store {
    /// Queues a job; returns its id, or `None` when its dedupe key is already queued.
    pub async fn enqueue(&self, job: &NewJob) -> Result<Option<i64>, StoreError> {
        Ok(with_pool!(self, pool => insert!(pool, job)))
    }

    /// Claims the next due job for `worker` with a lease of `lease` from `now`, or `None` when no job is
    /// due. A job whose lease has run out is due again.
    pub async fn claim(
        &self,
        worker: &str,
        lease: Duration,
        now: i64,
    ) -> Result<Option<Job>, StoreError> {
        self.claim_from(worker, lease, now, i64::MIN).await
    }

    /// [`Store::claim`], but only a job someone is waiting for ([`URGENT`]): what a worker whose
    /// slots are full still takes.
    pub async fn claim_urgent(
        &self,
        worker: &str,
        lease: Duration,
        now: i64,
    ) -> Result<Option<Job>, StoreError> {
        self.claim_from(worker, lease, now, URGENT).await
    }

    async fn claim_from(
        &self,
        worker: &str,
        lease: Duration,
        now: i64,
        min_priority: i64,
    ) -> Result<Option<Job>, StoreError> {
        let until = now.saturating_add(ms(lease));
        // `fetch_all` runs the statement to its end, where SQLite commits: `fetch_optional` stops at
        // the row and loses an error of the commit (a full disk), so a claim that was never stored
        // would look made, and the same job would be claimed again and again.
        let jobs: Vec<JobRow> = match &self.backend {
            Backend::Sqlite(pool) => {
                sqlx::query_as(CLAIM_SQLITE)
                    .bind(worker)
                    .bind(until)
                    .bind(now)
                    .bind(min_priority)
                    .fetch_all(pool)
                    .await?
            }
            Backend::Postgres(pool) => {
                sqlx::query_as(CLAIM_POSTGRES)
                    .bind(worker)
                    .bind(until)
                    .bind(now)
                    .bind(min_priority)
                    .fetch_all(pool)
                    .await?
            }
        };
        Ok(jobs.into_iter().next().map(Job::from))
    }

    /// Renews `worker`'s lease on a job; false when the lease was lost (it ran out and another worker
    /// claimed the job, or the job is gone).
    pub async fn extend_lease(
        &self,
        job_id: i64,
        worker: &str,
        lease: Duration,
        now: i64,
    ) -> Result<bool, StoreError> {
        let updated = with_pool!(self, pool => sqlx::query(
            "UPDATE jobs SET lease_until = $3 WHERE id = $1 AND locked_by = $2",
        )
        .bind(job_id)
        .bind(worker)
        .bind(now.saturating_add(ms(lease)))
        .execute(pool)
        .await?
        .rows_affected());
        Ok(updated == 1)
    }

    /// Deletes a finished job.
    pub async fn complete_job(&self, job_id: i64) -> Result<(), StoreError> {
        with_pool!(self, pool => sqlx::query("DELETE FROM jobs WHERE id = $1").bind(job_id).execute(pool).await?.rows_affected());
        Ok(())
    }

    /// Gives a job back untouched, as a worker shutting down does: it is due at once and the claim does
    /// not count as an attempt.
    pub async fn release_job(&self, job_id: i64, worker: &str) -> Result<(), StoreError> {
        with_pool!(self, pool => sqlx::query(
            "UPDATE jobs SET locked_by = NULL, lease_until = NULL, attempts = attempts - 1 \
             WHERE id = $1 AND locked_by = $2",
        )
        .bind(job_id)
        .bind(worker)
        .execute(pool)
        .await?
        .rows_affected());
        Ok(())
    }

    /// Puts a job `worker` holds back in the queue to run at `run_at`. `retry`: after a failed try,
    /// which counts; else it is a job that sleeps until then (a drip), and starts counting afresh.
    /// False when `worker` no longer holds it.
    pub async fn requeue_job(
        &self,
        job_id: i64,
        worker: &str,
        run_at: i64,
        retry: Option<&str>,
    ) -> Result<bool, StoreError> {
        let updated = with_pool!(self, pool => sqlx::query(
            "UPDATE jobs SET locked_by = NULL, lease_until = NULL, run_at = $3, \
             attempts = CASE WHEN $4 IS NULL THEN 0 ELSE attempts END, \
             last_error = COALESCE($4, last_error) WHERE id = $1 AND locked_by = $2",
        )
        .bind(job_id)
        .bind(worker)
        .bind(run_at)
        .bind(retry)
        .execute(pool)
        .await?
        .rows_affected());
        Ok(updated == 1)
    }

    /// Raises the priority of the queued job of this task (never lowers it).
    pub async fn prioritize(&self, task: &Task, priority: i64) -> Result<bool, StoreError> {
        let updated = with_pool!(self, pool => sqlx::query(
            "UPDATE jobs SET priority = $2 WHERE dedupe_key = $1 AND priority < $2",
        )
        .bind(task.key())
        .bind(priority)
        .execute(pool)
        .await?
        .rows_affected());
        Ok(updated == 1)
    }

    /// The earliest time a queued job becomes claimable (now or in the past when one is due), or `None`
    /// when the queue is empty.
    pub async fn next_due(&self) -> Result<Option<i64>, StoreError> {
        Ok(with_pool!(self, pool => sqlx::query_scalar(
            "SELECT MIN(CASE WHEN lease_until IS NOT NULL AND lease_until > run_at THEN lease_until ELSE run_at END) FROM jobs",
        )
        .fetch_one(pool)
        .await?))
    }

    /// Jobs by kind: how many wait (due or not) and how many a worker holds now (`now`, Unix ms).
    pub async fn job_counts(&self, now: i64) -> Result<Vec<(String, i64, i64)>, StoreError> {
        Ok(with_pool!(self, pool => sqlx::query_as(
            "SELECT kind, \
             CAST(SUM(CASE WHEN lease_until > $1 THEN 0 ELSE 1 END) AS BIGINT), \
             CAST(SUM(CASE WHEN lease_until > $1 THEN 1 ELSE 0 END) AS BIGINT) \
             FROM jobs GROUP BY kind ORDER BY kind",
        )
        .bind(now)
        .fetch_all(pool)
        .await?))
    }

    /// How many jobs are due or running at `now`, or writing that waits to be tried again: what a
    /// draining worker (`lyceum generate`) waits for. Mail due later (a drip's next unit, a message
    /// the server did not take for now) is the serving worker's, and is not counted.
    pub async fn unfinished_job_count(&self, now: i64) -> Result<i64, StoreError> {
        Ok(with_pool!(self, pool => sqlx::query_scalar(
            "SELECT COUNT(*) FROM jobs WHERE run_at <= $1 OR lease_until > $1 \
             OR (attempts > 0 AND kind NOT IN ('deliver', 'drip'))",
        )
        .bind(now)
        .fetch_one(pool)
        .await?))
    }

    /// How many jobs are queued or running.
    pub async fn job_count(&self) -> Result<i64, StoreError> {
        Ok(
            with_pool!(self, pool => sqlx::query_scalar("SELECT COUNT(*) FROM jobs").fetch_one(pool).await?),
        )
    }
}
