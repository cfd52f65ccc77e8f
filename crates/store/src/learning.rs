//! What learners do with a course: the courses they started, the units they finished (marked done
//! or passed the quiz of), and their quiz attempts, graded by the application.

use lyceum_course::Quiz;

use crate::courses::{COURSE_COLUMNS, Course, CourseRow};
use crate::{Change, Store, StoreError, from_json, with_pool};

/// One graded attempt at a unit's quiz.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub id: i64,
    pub user_id: i64,
    pub unit_id: i64,
    /// The quiz as it was answered (a digest of its questions): an attempt whose version is not the
    /// stored quiz's was taken before the quiz was written again.
    pub quiz_version: String,
    /// The option chosen for each question, in order.
    pub answers: Vec<usize>,
    pub score: i64,
    pub total: i64,
    pub created_at: i64,
}

/// An attempt to keep.
#[derive(Debug, Clone, Copy)]
pub struct NewAttempt<'a> {
    pub user_id: i64,
    pub unit_id: i64,
    pub quiz_version: &'a str,
    pub answers: &'a [usize],
    pub score: i64,
    pub total: i64,
    pub now: i64,
}

#[derive(sqlx::FromRow)]
struct AttemptRow {
    id: i64,
    user_id: i64,
    unit_id: i64,
    quiz_version: String,
    answers: String,
    score: i64,
    total: i64,
    created_at: i64,
}

impl TryFrom<AttemptRow> for Attempt {
    type Error = StoreError;

    fn try_from(row: AttemptRow) -> Result<Self, StoreError> {
        Ok(Self {
            id: row.id,
            user_id: row.user_id,
            unit_id: row.unit_id,
            quiz_version: row.quiz_version,
            answers: from_json(&row.answers, "quiz attempt answers")?,
            score: row.score,
            total: row.total,
            created_at: row.created_at,
        })
    }
}

const ATTEMPT_COLUMNS: &str =
    "id, user_id, unit_id, quiz_version, answers, score, total, created_at";

impl Store {
    /// The quiz of unit `unit_id`, once written.
    pub async fn quiz(&self, unit_id: i64) -> Result<Option<Quiz>, StoreError> {
        let questions: Option<String> = with_pool!(self, pool => {
            sqlx::query_scalar("SELECT questions FROM quizzes WHERE unit_id = $1")
                .bind(unit_id)
                .fetch_optional(pool)
                .await?
        });
        questions.map(|text| from_json(&text, "quiz")).transpose()
    }

    /// Keeps a graded attempt; the attempt as stored.
    pub async fn record_attempt(&self, new: &NewAttempt<'_>) -> Result<Attempt, StoreError> {
        let answers = serde_json::to_string(new.answers)
            .map_err(|error| StoreError::Corrupt(format!("quiz attempt answers: {error}")))?;
        let sql = format!(
            "INSERT INTO quiz_attempts \
             (user_id, unit_id, quiz_version, answers, score, total, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {ATTEMPT_COLUMNS}"
        );
        let row: AttemptRow = with_pool!(self, pool => {
            sqlx::query_as(&sql)
                .bind(new.user_id)
                .bind(new.unit_id)
                .bind(new.quiz_version)
                .bind(&answers)
                .bind(new.score)
                .bind(new.total)
                .bind(new.now)
                .fetch_one(pool)
                .await?
        });
        self.publish(Change::Account(new.user_id)).await;
        row.try_into()
    }

    /// Learner `user_id`'s attempts, newest first: at unit `unit_id`'s quiz, or at every quiz.
    pub async fn attempts(
        &self,
        user_id: i64,
        unit_id: Option<i64>,
    ) -> Result<Vec<Attempt>, StoreError> {
        let sql = format!(
            "SELECT {ATTEMPT_COLUMNS} FROM quiz_attempts WHERE user_id = $1 \
             AND ($2 IS NULL OR unit_id = $2) ORDER BY created_at DESC, id DESC"
        );
        let rows: Vec<AttemptRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql)
                .bind(user_id)
                .bind(unit_id)
                .fetch_all(pool)
                .await?
        });
        rows.into_iter().map(Attempt::try_from).collect()
    }

    /// Learner `user_id`'s best attempt at each quiz of course `course_id`: the most right of the
    /// questions asked, the newest of equals; in syllabus order.
    pub async fn best_attempts(
        &self,
        user_id: i64,
        course_id: i64,
    ) -> Result<Vec<Attempt>, StoreError> {
        let sql = format!(
            "SELECT {ATTEMPT_COLUMNS} FROM ( \
               SELECT a.*, u.position, ROW_NUMBER() OVER ( \
                 PARTITION BY a.unit_id \
                 ORDER BY a.score * 1.0 / NULLIF(a.total, 0) DESC, a.created_at DESC, a.id DESC \
               ) AS rank \
               FROM quiz_attempts a JOIN units u ON u.id = a.unit_id \
               WHERE a.user_id = $1 AND u.course_id = $2 \
             ) best WHERE rank = 1 ORDER BY position"
        );
        let rows: Vec<AttemptRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql)
                .bind(user_id)
                .bind(course_id)
                .fetch_all(pool)
                .await?
        });
        rows.into_iter().map(Attempt::try_from).collect()
    }
}

/// A learner's start of a course.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct Enrolment {
    pub course_id: i64,
    pub started_at: i64,
    /// The last unit opened, marked or quizzed.
    pub last_active_at: i64,
}

/// How a unit came to be done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DoneHow {
    /// The learner said so.
    Marked,
    /// The learner passed its quiz.
    Quiz,
}

impl DoneHow {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Marked => "marked",
            Self::Quiz => "quiz",
        }
    }
}

/// A unit a learner finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Done {
    pub unit_id: i64,
    pub how: DoneHow,
    pub done_at: i64,
}

/// Starts (or, when started, marks as active) course `$course_id` for `$user_id` in `$tx`.
macro_rules! enrol_in {
    ($tx:expr, $user_id:expr, $course_id:expr, $now:expr) => {
        sqlx::query(
            "INSERT INTO enrolments (user_id, course_id, started_at, last_active_at) \
             VALUES ($1, $2, $3, $3) \
             ON CONFLICT (user_id, course_id) DO UPDATE SET last_active_at = excluded.last_active_at",
        )
        .bind($user_id)
        .bind($course_id)
        .bind($now)
        .execute($tx)
        .await?
    };
}

impl Store {
    /// Starts course `course_id` for learner `user_id` (when started already, it only becomes their
    /// most recent).
    pub async fn enrol(&self, user_id: i64, course_id: i64, now: i64) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            enrol_in!(pool, user_id, course_id, now);
        });
        self.publish(Change::Account(user_id)).await;
        Ok(())
    }

    /// Whether and since when `user_id` has started `course_id`.
    pub async fn enrolment(
        &self,
        user_id: i64,
        course_id: i64,
    ) -> Result<Option<Enrolment>, StoreError> {
        Ok(with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT course_id, started_at, last_active_at FROM enrolments \
                 WHERE user_id = $1 AND course_id = $2",
            )
            .bind(user_id)
            .bind(course_id)
            .fetch_optional(pool)
            .await?
        }))
    }

    /// How many learners have started course `course_id`.
    pub async fn learner_count(&self, course_id: i64) -> Result<i64, StoreError> {
        Ok(with_pool!(self, pool => {
            sqlx::query_scalar("SELECT COUNT(*) FROM enrolments WHERE course_id = $1")
                .bind(course_id)
                .fetch_one(pool)
                .await?
        }))
    }

    /// The courses `user_id` has started, the most recently active first.
    pub async fn enrolments(&self, user_id: i64) -> Result<Vec<Enrolment>, StoreError> {
        Ok(with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT course_id, started_at, last_active_at FROM enrolments WHERE user_id = $1 \
                 ORDER BY last_active_at DESC, course_id DESC",
            )
            .bind(user_id)
            .fetch_all(pool)
            .await?
        }))
    }

    /// Notes that `user_id` is active in `course_id`, if they started it.
    pub async fn touch_enrolment(
        &self,
        user_id: i64,
        course_id: i64,
        now: i64,
    ) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            sqlx::query(
                "UPDATE enrolments SET last_active_at = $3 WHERE user_id = $1 AND course_id = $2",
            )
            .bind(user_id)
            .bind(course_id)
            .bind(now)
            .execute(pool)
            .await?;
        });
        self.publish(Change::Account(user_id)).await;
        Ok(())
    }

    /// Marks unit `unit_id` done for `user_id` (starting its course for them if need be). A unit done
    /// already keeps how and when it was first done.
    pub async fn mark_done(
        &self,
        user_id: i64,
        unit_id: i64,
        how: DoneHow,
        now: i64,
    ) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let course_id: Option<i64> =
                sqlx::query_scalar("SELECT course_id FROM units WHERE id = $1")
                    .bind(unit_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            let Some(course_id) = course_id else {
                return Err(StoreError::NotFound(format!("unit {unit_id}")));
            };
            enrol_in!(&mut *tx, user_id, course_id, now);
            sqlx::query(
                "INSERT INTO units_done (user_id, unit_id, how, done_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (user_id, unit_id) DO NOTHING",
            )
            .bind(user_id)
            .bind(unit_id)
            .bind(how.as_str())
            .bind(now)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        });
        self.publish(Change::Account(user_id)).await;
        Ok(())
    }

    /// Marks unit `unit_id` not done for `user_id`; whether it was done.
    pub async fn mark_not_done(&self, user_id: i64, unit_id: i64) -> Result<bool, StoreError> {
        let undone = with_pool!(self, pool => {
            sqlx::query("DELETE FROM units_done WHERE user_id = $1 AND unit_id = $2")
                .bind(user_id)
                .bind(unit_id)
                .execute(pool)
                .await?
                .rows_affected()
        });
        self.publish(Change::Account(user_id)).await;
        Ok(undone > 0)
    }

    /// The units of course `course_id` that `user_id` has done (every course's when `None`).
    pub async fn units_done(
        &self,
        user_id: i64,
        course_id: Option<i64>,
    ) -> Result<Vec<Done>, StoreError> {
        let rows: Vec<(i64, String, i64)> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT d.unit_id, d.how, d.done_at FROM units_done d JOIN units u ON u.id = d.unit_id \
                 WHERE d.user_id = $1 AND ($2 IS NULL OR u.course_id = $2) ORDER BY u.position",
            )
            .bind(user_id)
            .bind(course_id)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter()
            .map(|(unit_id, how, done_at)| {
                let how = match how.as_str() {
                    "marked" => DoneHow::Marked,
                    "quiz" => DoneHow::Quiz,
                    other => return Err(StoreError::Corrupt(format!("unit done as {other:?}"))),
                };
                Ok(Done {
                    unit_id,
                    how,
                    done_at,
                })
            })
            .collect()
    }
}

/// A course a learner started, with how far they are.
#[derive(Debug, Clone, PartialEq)]
pub struct LearnerCourse {
    pub course: Course,
    pub enrolment: Enrolment,
    pub units: i64,
    pub done: i64,
    /// The first unit not done, in syllabus order: its week, number and title.
    pub next: Option<(i64, i64, String)>,
}

#[derive(sqlx::FromRow)]
struct LearnerCourseRow {
    #[sqlx(flatten)]
    course: CourseRow,
    started_at: i64,
    last_active_at: i64,
    units: i64,
    done: i64,
    next_week: Option<i64>,
    next_number: Option<i64>,
    next_title: Option<String>,
}

impl Store {
    /// The courses `user_id` started (hidden ones, and others' private ones, left out), the most
    /// recently active first, with
    /// how many units each has, how many they have done, and the first one not done.
    pub async fn learner_courses(&self, user_id: i64) -> Result<Vec<LearnerCourse>, StoreError> {
        let next = |column: &str| {
            format!(
                "(SELECT {column} FROM units u JOIN modules m ON m.id = u.module_id \
                 WHERE u.course_id = c.id AND NOT EXISTS \
                 (SELECT 1 FROM units_done d WHERE d.unit_id = u.id AND d.user_id = $1) \
                 ORDER BY u.position LIMIT 1)"
            )
        };
        let sql = format!(
            "SELECT {COURSE_COLUMNS}, e.started_at, e.last_active_at, \
             (SELECT COUNT(*) FROM units u WHERE u.course_id = c.id) AS units, \
             (SELECT COUNT(*) FROM units_done d JOIN units u ON u.id = d.unit_id \
              WHERE u.course_id = c.id AND d.user_id = $1) AS done, \
             {} AS next_week, {} AS next_number, {} AS next_title \
             FROM enrolments e JOIN courses c ON c.id = e.course_id \
             WHERE e.user_id = $1 AND c.hidden_at IS NULL \
             AND (c.visibility <> 'private' OR c.owner_id = $1) \
             ORDER BY e.last_active_at DESC, c.id DESC",
            next("m.number"),
            next("u.number"),
            next("u.title"),
        );
        let rows: Vec<LearnerCourseRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql).bind(user_id).fetch_all(pool).await?
        });
        rows.into_iter()
            .map(|row| {
                let course: Course = row.course.try_into()?;
                let next = match (row.next_week, row.next_number, row.next_title) {
                    (Some(week), Some(number), Some(title)) => Some((week, number, title)),
                    _ => None,
                };
                Ok(LearnerCourse {
                    enrolment: Enrolment {
                        course_id: course.id,
                        started_at: row.started_at,
                        last_active_at: row.last_active_at,
                    },
                    course,
                    units: row.units,
                    done: row.done,
                    next,
                })
            })
            .collect()
    }
}
