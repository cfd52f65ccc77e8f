//! What learners do with a course: their quiz attempts, graded by the application and kept per
//! signed-in learner.

use lyceum_course::Quiz;

use crate::{Store, StoreError, from_json, with_pool};

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
}
