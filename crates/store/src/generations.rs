//! The generation record of every generated item: its status, which engine and model wrote it, tokens,
//! duration, attempts and last error; and the transactions that save an item together with its record
//! and its job.

use std::time::Duration;

use lyceum_course::Quiz;

use crate::feed::Change;
use crate::jobs::{self, NewJob, Task};
use crate::{Store, StoreError, now_ms, to_json, with_pool};

/// What kind of item a generation writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ItemKind {
    /// The course outline (item: the course).
    Outline,
    /// A week's overview (item: the module).
    Overview,
    /// A unit's article (item: the unit).
    Unit,
    /// A unit's quiz (item: the unit).
    Quiz,
    /// A unit's article written again at its maker's request (item: the unit): the current text
    /// stays until the new one is stored.
    Rewrite,
}

impl ItemKind {
    /// The name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Outline => "outline",
            Self::Overview => "overview",
            Self::Unit => "unit",
            Self::Quiz => "quiz",
            Self::Rewrite => "rewrite",
        }
    }

    fn parse(text: &str) -> Result<Self, StoreError> {
        Ok(match text {
            "outline" => Self::Outline,
            "overview" => Self::Overview,
            "unit" => Self::Unit,
            "quiz" => Self::Quiz,
            "rewrite" => Self::Rewrite,
            other => return Err(StoreError::Corrupt(format!("unknown item kind {other}"))),
        })
    }
}

/// Where an item is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// Waiting for a worker.
    Pending,
    /// A worker is writing it.
    Generating,
    /// Written and saved.
    Ready,
    /// Gave up; the error says why. A retry makes it pending again.
    Failed,
}

impl Status {
    /// The name stored in the database and shown to people.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Generating => "generating",
            Self::Ready => "ready",
            Self::Failed => "failed",
        }
    }

    pub(crate) fn parse(text: &str) -> Result<Self, StoreError> {
        Ok(match text {
            "pending" => Self::Pending,
            "generating" => Self::Generating,
            "ready" => Self::Ready,
            "failed" => Self::Failed,
            other => return Err(StoreError::Corrupt(format!("unknown status {other}"))),
        })
    }
}

/// A generation record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generation {
    /// Its id, which the generation job carries.
    pub id: i64,
    /// The course it belongs to.
    pub course_id: i64,
    /// What it writes.
    pub kind: ItemKind,
    /// The course, module or unit it writes for.
    pub item_id: i64,
    /// Where it is.
    pub status: Status,
    /// `local` or `openai`, once tried.
    pub engine: Option<String>,
    /// The model, once tried.
    pub model: Option<String>,
    /// Prompt tokens of the last try, when the engine reported them.
    pub tokens_in: Option<i64>,
    /// Generated tokens of the last try, when the engine reported them.
    pub tokens_out: Option<i64>,
    /// How long the last try took.
    pub duration_ms: Option<i64>,
    /// Why the last try failed.
    pub error: Option<String>,
    /// How many times it was started.
    pub attempts: i64,
    /// When it last changed.
    pub updated_at: i64,
}

/// How a finished generation went, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenerationStats {
    /// `local` or `openai`.
    pub engine: String,
    /// The model.
    pub model: String,
    /// Prompt tokens, if reported.
    pub tokens_in: Option<u32>,
    /// Generated tokens, if reported.
    pub tokens_out: Option<u32>,
    /// Wall time.
    pub duration: Duration,
}

/// A generated item's content.
#[derive(Debug, Clone, Copy)]
pub enum Output<'a> {
    /// A week's overview.
    Overview(&'a str),
    /// A unit's article; saving it also creates the unit's quiz generation and its job.
    Unit(&'a str),
    /// A unit's quiz.
    Quiz(&'a Quiz),
    /// A unit's article written again: its current text is kept as a version, and its quiz is
    /// written again too (the stored one stays until then).
    Rewrite(&'a str),
}

#[derive(sqlx::FromRow)]
struct GenerationRow {
    id: i64,
    course_id: i64,
    kind: String,
    item_id: i64,
    status: String,
    engine: Option<String>,
    model: Option<String>,
    tokens_in: Option<i64>,
    tokens_out: Option<i64>,
    duration_ms: Option<i64>,
    error: Option<String>,
    attempts: i64,
    updated_at: i64,
}

impl TryFrom<GenerationRow> for Generation {
    type Error = StoreError;
    fn try_from(row: GenerationRow) -> Result<Self, StoreError> {
        Ok(Self {
            id: row.id,
            course_id: row.course_id,
            kind: ItemKind::parse(&row.kind)?,
            item_id: row.item_id,
            status: Status::parse(&row.status)?,
            engine: row.engine,
            model: row.model,
            tokens_in: row.tokens_in,
            tokens_out: row.tokens_out,
            duration_ms: row.duration_ms,
            error: row.error,
            attempts: row.attempts,
            updated_at: row.updated_at,
        })
    }
}

const COLUMNS: &str = "id, course_id, kind, item_id, status, engine, model, tokens_in, tokens_out, \
                       duration_ms, error, attempts, updated_at";

pub(crate) fn generate_job(generation_id: i64, priority: i64, now: i64) -> NewJob {
    NewJob::new(Task::Generate(generation_id), priority, now)
}

/// Sets a generation that is not ready to `pending` or `failed` with the error of its last try, on any
/// executor; a ready one is left alone.
macro_rules! set_unready {
    ($executor:expr, $id:expr, $status:literal, $error:expr) => {
        sqlx::query(concat!(
            "UPDATE generations SET status = '",
            $status,
            "', error = $2, live_text = NULL, updated_at = $3 WHERE id = $1 AND status <> 'ready'"
        ))
        .bind($id)
        .bind($error)
        .bind(now_ms())
        .execute($executor)
        .await?
    };
}

impl Store {
    /// A generation record by id.
    pub async fn generation(&self, id: i64) -> Result<Generation, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM generations WHERE id = $1");
        let row: Option<GenerationRow> =
            with_pool!(self, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?);
        row.ok_or_else(|| StoreError::NotFound(format!("generation {id}")))?
            .try_into()
    }

    /// The generation record of one item, if it has one.
    pub async fn generation_of(
        &self,
        kind: ItemKind,
        item_id: i64,
    ) -> Result<Option<Generation>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM generations WHERE kind = $1 AND item_id = $2");
        let row: Option<GenerationRow> = with_pool!(self, pool => sqlx::query_as(&sql)
            .bind(kind.as_str())
            .bind(item_id)
            .fetch_optional(pool)
            .await?);
        row.map(Generation::try_from).transpose()
    }

    /// Every generation record of a course, in the order the items were created.
    pub async fn generations(&self, course_id: i64) -> Result<Vec<Generation>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM generations WHERE course_id = $1 ORDER BY id");
        let rows: Vec<GenerationRow> =
            with_pool!(self, pool => sqlx::query_as(&sql).bind(course_id).fetch_all(pool).await?);
        rows.into_iter().map(Generation::try_from).collect()
    }

    /// Marks a generation as being written and counts the attempt; returns the record as it was before,
    /// so the caller sees whether it is already ready.
    pub async fn start_generation(&self, id: i64) -> Result<Generation, StoreError> {
        let before = self.generation(id).await?;
        if before.status != Status::Ready {
            with_pool!(self, pool => sqlx::query(
                "UPDATE generations SET status = 'generating', attempts = attempts + 1, error = NULL, \
                 live_text = NULL, updated_at = $2 WHERE id = $1 AND status <> 'ready'",
            )
            .bind(id)
            .bind(now_ms())
            .execute(pool)
            .await?
            .rows_affected());
            self.publish(Change::Item(id)).await;
        }
        Ok(before)
    }

    /// Saves a generated item, marks its record ready with its stats and, in the same transaction,
    /// deletes the job that ran it (`job_id`) and, for a unit, creates its quiz record and job. Returns
    /// false, changing nothing, when the item was already ready: a generation is never saved twice.
    pub async fn finish_generation(
        &self,
        id: i64,
        output: Output<'_>,
        stats: &GenerationStats,
        job_id: Option<i64>,
    ) -> Result<bool, StoreError> {
        let generation = self.generation(id).await?;
        let now = now_ms();
        let (content_sql, content): (&str, String) = match output {
            Output::Overview(text) => (
                "UPDATE modules SET overview = $2 WHERE id = $1",
                text.to_owned(),
            ),
            Output::Unit(text) => ("UPDATE units SET body = $2 WHERE id = $1", text.to_owned()),
            Output::Quiz(quiz) => (
                "INSERT INTO quizzes (unit_id, questions) VALUES ($1, $2) \
                 ON CONFLICT (unit_id) DO UPDATE SET questions = excluded.questions",
                to_json(quiz),
            ),
            Output::Rewrite(text) => (
                "UPDATE units SET body = $2, author = 'model', author_id = NULL, written_at = NULL \
                 WHERE id = $1",
                text.to_owned(),
            ),
        };
        with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let updated = sqlx::query(
                "UPDATE generations SET status = 'ready', engine = $2, model = $3, tokens_in = $4, \
                 tokens_out = $5, duration_ms = $6, error = NULL, live_text = NULL, updated_at = $7 \
                 WHERE id = $1 AND status <> 'ready'",
            )
            .bind(id)
            .bind(&stats.engine)
            .bind(&stats.model)
            .bind(stats.tokens_in.map(i64::from))
            .bind(stats.tokens_out.map(i64::from))
            .bind(i64::try_from(stats.duration.as_millis()).unwrap_or(i64::MAX))
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if let Some(job_id) = job_id {
                sqlx::query("DELETE FROM jobs WHERE id = $1").bind(job_id).execute(&mut *tx).await?;
            }
            if updated == 0 {
                tx.commit().await?;
                return Ok(false);
            }
            if matches!(output, Output::Rewrite(_)) {
                crate::versions::keep_current!(tx, generation.item_id, now);
            }
            sqlx::query(content_sql).bind(generation.item_id).bind(&content).execute(&mut *tx).await?;
            // A unit written gets its quiz; a unit written again gets it written again (the stored
            // quiz stays until then).
            let quiz_sql = match output {
                Output::Unit(_) => Some(
                    "INSERT INTO generations (course_id, kind, item_id, status, updated_at) \
                     VALUES ($1, 'quiz', $2, 'pending', $3) ON CONFLICT (kind, item_id) DO NOTHING RETURNING id",
                ),
                Output::Rewrite(_) => Some(
                    "UPDATE generations SET status = 'pending', attempts = 0, error = NULL, updated_at = $3 \
                     WHERE course_id = $1 AND kind = 'quiz' AND item_id = $2 RETURNING id",
                ),
                Output::Overview(_) | Output::Quiz(_) => None,
            };
            if let Some(quiz_sql) = quiz_sql {
                let quiz_id: Option<i64> = sqlx::query_scalar(quiz_sql)
                    .bind(generation.course_id)
                    .bind(generation.item_id)
                    .bind(now)
                    .fetch_optional(&mut *tx)
                    .await?;
                if let Some(quiz_id) = quiz_id {
                    jobs::insert!(&mut *tx, &generate_job(quiz_id, jobs::FOLLOW_UP, now));
                }
            }
            if !matches!(output, Output::Rewrite(_)) {
                crate::mail::queue_ready_mail!(tx, generation.course_id, now);
            }
            tx.commit().await?;
        });
        self.publish(Change::Item(id)).await;
        if matches!(output, Output::Rewrite(_)) {
            self.publish(Change::Course(generation.course_id)).await;
            self.publish(Change::Queued).await;
        }
        Ok(true)
    }

    /// Queues written unit `unit_id` to be written again, with its maker's `instruction` (the wish
    /// for the new text), ahead of background work; the rewrite's record. Refused with `Conflict`
    /// while the unit is not written or is being written again already.
    pub async fn request_rewrite(
        &self,
        unit_id: i64,
        instruction: Option<&str>,
        now: i64,
    ) -> Result<Generation, StoreError> {
        let id = with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let course_id: Option<i64> = sqlx::query_scalar(
                "SELECT u.course_id FROM units u JOIN generations g ON g.kind = 'unit' \
                 AND g.item_id = u.id AND g.status = 'ready' WHERE u.id = $1 AND u.body IS NOT NULL",
            )
            .bind(unit_id)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(course_id) = course_id else {
                return Err(StoreError::Conflict(
                    "this unit is not written yet; ask for it to be written again once it is".into(),
                ));
            };
            let id: Option<i64> = sqlx::query_scalar(
                "INSERT INTO generations (course_id, kind, item_id, status, instruction, updated_at) \
                 VALUES ($1, 'rewrite', $2, 'pending', $3, $4) \
                 ON CONFLICT (kind, item_id) DO UPDATE SET status = 'pending', attempts = 0, \
                 error = NULL, live_text = NULL, instruction = excluded.instruction, \
                 updated_at = excluded.updated_at \
                 WHERE generations.status IN ('ready', 'failed') RETURNING id",
            )
            .bind(course_id)
            .bind(unit_id)
            .bind(instruction)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(id) = id else {
                return Err(StoreError::Conflict(
                    "this unit is being written again already".into(),
                ));
            };
            jobs::insert!(&mut *tx, &generate_job(id, jobs::URGENT, now));
            tx.commit().await?;
            id
        });
        self.publish(Change::Item(id)).await;
        self.publish(Change::Queued).await;
        self.generation(id).await
    }

    /// The wish a rewrite was asked for with, if any.
    pub async fn rewrite_instruction(&self, id: i64) -> Result<Option<String>, StoreError> {
        Ok(with_pool!(self, pool => sqlx::query_scalar(
            "SELECT instruction FROM generations WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(pool)
        .await?)
        .flatten())
    }

    /// Records that a generation gave up, with the error a person will see, and deletes its job.
    pub async fn fail_generation(
        &self,
        id: i64,
        error: &str,
        job_id: Option<i64>,
    ) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            set_unready!(&mut *tx, id, "failed", error);
            if let Some(job_id) = job_id {
                sqlx::query("DELETE FROM jobs WHERE id = $1").bind(job_id).execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        self.publish(Change::Item(id)).await;
        Ok(())
    }

    /// Makes every failed generation of a course pending again and queues it (a failed rewrite is
    /// asked for again by its maker, not here); returns how many.
    pub async fn retry_failed(&self, course_id: i64) -> Result<usize, StoreError> {
        let now = now_ms();
        let ids = with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let ids: Vec<i64> = sqlx::query_scalar(
                "UPDATE generations SET status = 'pending', error = NULL, updated_at = $2 \
                 WHERE course_id = $1 AND status = 'failed' AND kind <> 'rewrite' RETURNING id",
            )
            .bind(course_id)
            .bind(now)
            .fetch_all(&mut *tx)
            .await?;
            for id in &ids {
                jobs::insert!(&mut *tx, &generate_job(*id, 0, now));
            }
            tx.commit().await?;
            ids
        });
        for id in &ids {
            self.publish(Change::Item(*id)).await;
        }
        if !ids.is_empty() {
            self.publish(Change::Queued).await;
        }
        Ok(ids.len())
    }

    /// Failed items of every course, by kind.
    pub async fn failed_counts(&self) -> Result<Vec<(String, i64)>, StoreError> {
        Ok(with_pool!(self, pool => sqlx::query_as(
            "SELECT kind, COUNT(*) FROM generations WHERE status = 'failed' GROUP BY kind ORDER BY kind",
        )
        .fetch_all(pool)
        .await?))
    }

    /// Shares the text so far of an item being written, for watchers on other nodes; nothing once
    /// it is no longer being written.
    pub async fn share_live_text(&self, id: i64, text: &str) -> Result<(), StoreError> {
        let changed = with_pool!(self, pool => sqlx::query(
            "UPDATE generations SET live_text = $2 WHERE id = $1 AND status = 'generating'",
        )
        .bind(id)
        .bind(text)
        .execute(pool)
        .await?
        .rows_affected());
        if changed > 0 {
            self.publish(Change::Text(id)).await;
        }
        Ok(())
    }

    /// The shared text so far of an item being written, with the attempt it belongs to; `None`
    /// when none is shared.
    pub async fn live_text(&self, id: i64) -> Result<Option<(i64, String)>, StoreError> {
        let row: Option<(i64, Option<String>)> = with_pool!(self, pool => sqlx::query_as(
            "SELECT attempts, live_text FROM generations WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(pool)
        .await?);
        Ok(row.and_then(|(attempts, text)| Some((attempts, text?))))
    }

    /// Someone is waiting for this item: its queued job moves to the front of the queue. Nothing else
    /// changes: a failed item stays failed until someone asks for it again ([`Store::retry_failed`]),
    /// so reading a page never queues work. Returns the record as it is now.
    pub async fn hurry_generation(
        &self,
        kind: ItemKind,
        item_id: i64,
    ) -> Result<Generation, StoreError> {
        let generation = self
            .generation_of(kind, item_id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("{} {item_id}", kind.as_str())))?;
        if matches!(generation.status, Status::Pending | Status::Generating)
            && self
                .prioritize(&Task::Generate(generation.id), jobs::URGENT)
                .await?
        {
            self.publish(Change::Queued).await;
        }
        self.generation(generation.id).await
    }

    /// Puts a generation's job back to run again at `run_at` after a failed try, and the item back to
    /// pending with that try's error, in one transaction. Nothing changes when `worker` no longer holds
    /// the job.
    pub async fn retry_generation_later(
        &self,
        id: i64,
        job_id: i64,
        worker: &str,
        error: &str,
        run_at: i64,
    ) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let held = sqlx::query(
                "UPDATE jobs SET locked_by = NULL, lease_until = NULL, run_at = $3, last_error = $4 \
                 WHERE id = $1 AND locked_by = $2",
            )
            .bind(job_id)
            .bind(worker)
            .bind(run_at)
            .bind(error)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if held == 1 {
                set_unready!(&mut *tx, id, "pending", error);
            }
            tx.commit().await?;
        });
        self.publish(Change::Item(id)).await;
        Ok(())
    }
}
