//! Outlines being drafted, as rows: created with their drafting job, written piece by piece by the
//! worker that holds the job, and confirmed once into a course. Every change is announced on the
//! [feed](crate::feed), so any node can follow a draft another node started and a worker writes.

use std::time::Duration;

use lyceum_course::{CourseRequest, Outline, OutlineSoFar, RequestFields};

use crate::courses::{Course, NewCourse, insert_course};
use crate::feed::Change;
use crate::generations::GenerationStats;
use crate::jobs::{self, NewJob, Task};
use crate::{Store, StoreError, from_json, now_ms, to_json, with_pool};

/// Where a draft is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DraftStatus {
    /// Waiting for a worker, or being written.
    Drafting,
    /// Written: the whole outline is there to edit and confirm.
    Ready,
    /// Drafting gave up; the error says why.
    Failed,
    /// Made into a course.
    Confirmed,
}

impl DraftStatus {
    /// The name stored in the database and shown by the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Drafting => "drafting",
            Self::Ready => "ready",
            Self::Failed => "failed",
            Self::Confirmed => "confirmed",
        }
    }

    fn parse(text: &str) -> Result<Self, StoreError> {
        Ok(match text {
            "drafting" => Self::Drafting,
            "ready" => Self::Ready,
            "failed" => Self::Failed,
            "confirmed" => Self::Confirmed,
            other => return Err(StoreError::Corrupt(format!("unknown draft status {other}"))),
        })
    }
}

/// A stored draft.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draft {
    /// Its id: 32 random hex digits, the capability to see and confirm it.
    pub id: String,
    /// Who asked: a client address, or `account:<id>` for someone signed in.
    pub owner: String,
    /// The account that asked, when signed in: the course made from it is theirs.
    pub user_id: Option<i64>,
    /// What was asked for.
    pub request: CourseRequest,
    /// Where it is.
    pub status: DraftStatus,
    /// What is written so far (all of it once ready).
    pub so_far: OutlineSoFar,
    /// The whole outline, once ready (and after).
    pub outline: Option<Outline>,
    /// How the outline was generated, once ready.
    pub stats: Option<GenerationStats>,
    /// Why drafting failed, for the person.
    pub error: Option<String>,
    /// The course's slug, once confirmed.
    pub course: Option<String>,
    /// When it started (Unix ms).
    pub created_at: i64,
}

#[derive(sqlx::FromRow)]
struct DraftRow {
    id: String,
    owner: String,
    user_id: Option<i64>,
    description: String,
    weeks: i64,
    units_per_week: i64,
    language: String,
    level: String,
    audience: String,
    status: String,
    so_far: String,
    outline: Option<String>,
    engine: Option<String>,
    model: Option<String>,
    tokens_in: Option<i64>,
    tokens_out: Option<i64>,
    duration_ms: Option<i64>,
    error: Option<String>,
    course: Option<String>,
    created_at: i64,
}

impl TryFrom<DraftRow> for Draft {
    type Error = StoreError;
    fn try_from(row: DraftRow) -> Result<Self, StoreError> {
        let request = CourseRequest::parse(&RequestFields {
            description: row.description,
            weeks: row.weeks.to_string(),
            units_per_week: row.units_per_week.to_string(),
            language: row.language,
            level: row.level,
            audience: row.audience,
        })
        .map_err(|errors| {
            let errors: Vec<String> = errors.iter().map(ToString::to_string).collect();
            StoreError::Corrupt(format!("draft {}: {}", row.id, errors.join("; ")))
        })?;
        let stats = match (row.engine, row.model) {
            (Some(engine), Some(model)) => Some(GenerationStats {
                engine,
                model,
                tokens_in: row.tokens_in.and_then(|n| u32::try_from(n).ok()),
                tokens_out: row.tokens_out.and_then(|n| u32::try_from(n).ok()),
                duration: Duration::from_millis(row.duration_ms.unwrap_or(0).max(0) as u64),
            }),
            _ => None,
        };
        Ok(Self {
            status: DraftStatus::parse(&row.status)?,
            so_far: from_json(&row.so_far, "a draft's outline so far")?,
            outline: row
                .outline
                .map(|text| from_json(&text, "a draft's outline"))
                .transpose()?,
            id: row.id,
            owner: row.owner,
            user_id: row.user_id,
            request,
            stats,
            error: row.error,
            course: row.course,
            created_at: row.created_at,
        })
    }
}

/// A draft's outcome, as its worker records it.
#[derive(Debug, Clone, Copy)]
pub enum Drafted<'a> {
    /// The whole outline, and how it was generated.
    Ready(&'a Outline, &'a GenerationStats),
    /// Why it failed, for the person.
    Failed(&'a str),
}

const COLUMNS: &str = "d.id, d.owner, d.user_id, d.description, d.weeks, d.units_per_week, d.language, d.level, \
     d.audience, d.status, d.so_far, d.outline, d.engine, d.model, d.tokens_in, d.tokens_out, \
     d.duration_ms, d.error, c.slug AS course, d.created_at";

const DAY_MS: i64 = 24 * 3600 * 1000;

/// A draft to start, and the limits of the person starting it.
#[derive(Debug, Clone, Copy)]
pub struct NewDraft<'a> {
    /// What to draft.
    pub request: &'a CourseRequest,
    /// Who asks, for the drafts-at-once limit: a client address, or `account:<id>`.
    pub owner: &'a str,
    /// The account that asks, when signed in.
    pub user_id: Option<i64>,
    /// Drafts the owner may have drafting at once (0: no limit).
    pub at_once: u32,
    /// Drafts the account may start in a day (`None`: no limit; needs `user_id`).
    pub per_day: Option<u32>,
}

/// Why a draft was not started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DraftRefused {
    /// Its owner has as many drafts drafting as they may.
    Drafting,
    /// Its account has started as many drafts in the last day as it may.
    Today,
}

fn new_id() -> Result<String, StoreError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)
        .map_err(|error| StoreError::Corrupt(format!("no randomness for a draft id: {error}")))?;
    Ok(bytes.iter().map(|byte| format!("{byte:02x}")).collect())
}

impl Store {
    /// Stores a new draft and queues its drafting ahead of background work; its id, or which limit of
    /// `new` its owner has reached, storing nothing.
    pub async fn create_draft(
        &self,
        new: &NewDraft<'_>,
    ) -> Result<Result<String, DraftRefused>, StoreError> {
        let (owner, request, at_once) = (new.owner, new.request, new.at_once);
        let id = new_id()?;
        let now = now_ms();
        let fields = request.fields();
        with_pool!(self, pool => {
            // The insert comes first, so that on SQLite the transaction holds the write lock before
            // it counts.
            let mut tx = pool.begin().await?;
            sqlx::query(
                "INSERT INTO drafts (id, owner, user_id, description, weeks, units_per_week, language, \
                 level, audience, status, so_far, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'drafting', $10, $11, $11)",
            )
            .bind(&id)
            .bind(owner)
            .bind(new.user_id)
            .bind(&fields.description)
            .bind(request.weeks.get() as i64)
            .bind(request.units_per_week.get() as i64)
            .bind(&fields.language)
            .bind(&fields.level)
            .bind(&fields.audience)
            .bind(to_json(&OutlineSoFar::default()))
            .bind(now)
            .execute(&mut *tx)
            .await?;
            let drafting: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM drafts WHERE owner = $1 AND status = 'drafting'",
            )
            .bind(owner)
            .fetch_one(&mut *tx)
            .await?;
            // Drafts are kept a day, so those of the last day are all still here.
            let today: i64 = match (new.user_id, new.per_day) {
                (Some(user_id), Some(_)) => sqlx::query_scalar(
                    "SELECT COUNT(*) FROM drafts WHERE user_id = $1 AND created_at > $2",
                )
                .bind(user_id)
                .bind(now - DAY_MS)
                .fetch_one(&mut *tx)
                .await?,
                _ => 0,
            };
            let refused = if new.per_day.is_some_and(|per_day| today > i64::from(per_day)) {
                Some(DraftRefused::Today)
            } else if at_once > 0 && drafting > i64::from(at_once) {
                Some(DraftRefused::Drafting)
            } else {
                None
            };
            if let Some(refused) = refused {
                tx.rollback().await?;
                return Ok(Err(refused));
            }
            jobs::insert!(&mut *tx, &NewJob::new(Task::Draft(id.clone()), jobs::URGENT, now));
            tx.commit().await?;
        });
        self.publish(Change::Queued).await;
        Ok(Ok(id))
    }

    /// A draft by id.
    pub async fn draft(&self, id: &str) -> Result<Draft, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM drafts d LEFT JOIN courses c ON c.id = d.course_id WHERE d.id = $1"
        );
        let row: Option<DraftRow> =
            with_pool!(self, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?);
        row.ok_or_else(|| StoreError::NotFound("draft".into()))?
            .try_into()
    }

    /// The drafts an account started (kept a day), newest first.
    pub async fn drafts_of(&self, user_id: i64) -> Result<Vec<Draft>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM drafts d LEFT JOIN courses c ON c.id = d.course_id \
             WHERE d.user_id = $1 ORDER BY d.created_at DESC, d.id"
        );
        let rows: Vec<DraftRow> =
            with_pool!(self, pool => sqlx::query_as(&sql).bind(user_id).fetch_all(pool).await?);
        rows.into_iter().map(Draft::try_from).collect()
    }

    /// Starts a try at drafting: what was written by an earlier try (a worker that died) is thrown
    /// away. Returns the draft as it is now; one no longer drafting is left alone.
    pub async fn start_drafting(&self, id: &str) -> Result<Draft, StoreError> {
        self.draft_progress(id, &OutlineSoFar::default()).await?;
        self.draft(id).await
    }

    /// Records what a draft has so far, while it is drafting.
    pub async fn draft_progress(&self, id: &str, so_far: &OutlineSoFar) -> Result<(), StoreError> {
        let changed = with_pool!(self, pool => sqlx::query(
            "UPDATE drafts SET so_far = $2, updated_at = $3 WHERE id = $1 AND status = 'drafting'",
        )
        .bind(id)
        .bind(to_json(so_far))
        .bind(now_ms())
        .execute(pool)
        .await?
        .rows_affected());
        if changed > 0 {
            self.publish(Change::Draft(id.to_owned())).await;
        }
        Ok(())
    }

    /// Records how drafting ended and deletes its job (`job_id`), in one transaction. A draft no
    /// longer drafting is left alone.
    pub async fn finish_draft(
        &self,
        id: &str,
        outcome: Drafted<'_>,
        job_id: Option<i64>,
    ) -> Result<(), StoreError> {
        let (status, outline, stats, error) = match outcome {
            Drafted::Ready(outline, stats) => ("ready", Some(to_json(outline)), Some(stats), None),
            Drafted::Failed(error) => ("failed", None, None, Some(error)),
        };
        let so_far = outcome_so_far(outcome);
        with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let query = sqlx::query(
                "UPDATE drafts SET status = $2, outline = $3, engine = $4, model = $5, tokens_in = $6, \
                 tokens_out = $7, duration_ms = $8, error = $9, so_far = COALESCE($10, so_far), \
                 updated_at = $11 WHERE id = $1 AND status = 'drafting'",
            )
            .bind(id)
            .bind(status)
            .bind(outline)
            .bind(stats.map(|stats| stats.engine.clone()))
            .bind(stats.map(|stats| stats.model.clone()))
            .bind(stats.and_then(|stats| stats.tokens_in).map(i64::from))
            .bind(stats.and_then(|stats| stats.tokens_out).map(i64::from))
            .bind(stats.map(|stats| i64::try_from(stats.duration.as_millis()).unwrap_or(i64::MAX)))
            .bind(error)
            .bind(so_far)
            .bind(now_ms());
            query.execute(&mut *tx).await?;
            if let Some(job_id) = job_id {
                sqlx::query("DELETE FROM jobs WHERE id = $1").bind(job_id).execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        self.publish(Change::Draft(id.to_owned())).await;
        Ok(())
    }

    /// Makes a ready draft into a course from `new` (its outline as confirmed), once: the draft is
    /// marked confirmed in the same transaction, so of two confirmations at once (a double click,
    /// two nodes) one makes the course and the other gets the same course. An error when the draft
    /// is not ready.
    pub async fn confirm_draft(&self, id: &str, new: NewCourse<'_>) -> Result<Course, StoreError> {
        let made = with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            // On PostgreSQL a second confirmation waits here for the first to commit, then finds the
            // draft confirmed.
            let claimed = sqlx::query(
                "UPDATE drafts SET status = 'confirmed', updated_at = $2 WHERE id = $1 AND status = 'ready'",
            )
            .bind(id)
            .bind(now_ms())
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if claimed == 0 {
                tx.rollback().await?;
                None
            } else {
                let course_id = insert_course!(tx, new);
                sqlx::query("UPDATE drafts SET course_id = $2 WHERE id = $1")
                    .bind(id)
                    .bind(course_id)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(
                    "UPDATE courses SET owner_id = (SELECT user_id FROM drafts WHERE id = $1) \
                     WHERE id = $2",
                )
                .bind(id)
                .bind(course_id)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Some(course_id)
            }
        });
        match made {
            Some(course_id) => {
                self.publish(Change::Draft(id.to_owned())).await;
                self.publish(Change::Queued).await;
                self.course_by_id(course_id).await
            }
            None => {
                let draft = self.draft(id).await?;
                match (&draft.status, &draft.course) {
                    (DraftStatus::Confirmed, Some(slug)) => self.course(slug).await,
                    (status, _) => Err(StoreError::Conflict(format!(
                        "the draft is {}, not ready to confirm",
                        status.as_str()
                    ))),
                }
            }
        }
    }

    /// Deletes drafts started before `before` (Unix ms), with any drafting job they still have;
    /// returns how many.
    pub async fn forget_drafts(&self, before: i64) -> Result<u64, StoreError> {
        Ok(with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "DELETE FROM jobs WHERE kind = 'draft' AND payload IN \
                 (SELECT id FROM drafts WHERE created_at < $1)",
            )
            .bind(before)
            .execute(&mut *tx)
            .await?;
            let deleted = sqlx::query("DELETE FROM drafts WHERE created_at < $1")
                .bind(before)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            tx.commit().await?;
            deleted
        }))
    }
}

/// The outline so far that a finished draft keeps: the whole outline when ready.
fn outcome_so_far(outcome: Drafted<'_>) -> Option<String> {
    match outcome {
        Drafted::Ready(outline, _) => Some(to_json(&outline.so_far())),
        Drafted::Failed(_) => None,
    }
}
