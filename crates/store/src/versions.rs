//! A unit's texts over time: the current one stays in `units`, with who wrote it (the model or a
//! person); each one it replaces is kept in `unit_versions`, so that any can be restored. The unit
//! keeps its id through every change, and with it every learner's progress and quiz attempts.

use crate::{Change, Store, StoreError, with_pool};

/// Who wrote a unit's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Author {
    /// The language model.
    Model,
    /// A person (their account's id and name), or one whose account has since gone (`None`).
    Person(Option<(i64, String)>),
}

/// A text a unit had before, kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitVersion {
    pub id: i64,
    pub unit_id: i64,
    pub title: String,
    pub body: String,
    pub author: Author,
    /// When a person stored it (Unix ms); `None` for the model's first text.
    pub written_at: Option<i64>,
    /// When a newer text took its place (Unix ms).
    pub replaced_at: i64,
}

/// Who wrote a unit's current text, and when a person stored it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorship {
    pub author: Author,
    pub written_at: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct VersionRow {
    id: i64,
    unit_id: i64,
    title: String,
    body: String,
    author: String,
    author_id: Option<i64>,
    author_name: Option<String>,
    written_at: Option<i64>,
    replaced_at: i64,
}

pub(crate) fn author(
    kind: &str,
    id: Option<i64>,
    name: Option<String>,
) -> Result<Author, StoreError> {
    match kind {
        "model" => Ok(Author::Model),
        "person" => Ok(Author::Person(id.zip(name))),
        other => Err(StoreError::Corrupt(format!("a unit written by {other:?}"))),
    }
}

/// Keeps, in the open transaction `$tx`, unit `$unit_id`'s current text as a version replaced at
/// `$now`; evaluates to the unit's course id, or `None` when there is no such written unit.
macro_rules! keep_current {
    ($tx:ident, $unit_id:expr, $now:expr) => {{
        let course_id: Option<i64> =
            sqlx::query_scalar("SELECT course_id FROM units WHERE id = $1 AND body IS NOT NULL")
                .bind($unit_id)
                .fetch_optional(&mut *$tx)
                .await?;
        if course_id.is_some() {
            sqlx::query(
                "INSERT INTO unit_versions \
                 (unit_id, title, body, author, author_id, written_at, replaced_at) \
                 SELECT id, title, body, author, author_id, written_at, $2 FROM units WHERE id = $1",
            )
            .bind($unit_id)
            .bind($now)
            .execute(&mut *$tx)
            .await?;
        }
        course_id
    }};
}
pub(crate) use keep_current;

impl Store {
    /// Replaces written unit `unit_id`'s title and text with `by`'s, keeping the ones they replace
    /// as a version; whether there was such a unit (one not written yet has nothing to replace).
    pub async fn edit_unit(
        &self,
        unit_id: i64,
        title: &str,
        body: &str,
        by: i64,
        now: i64,
    ) -> Result<bool, StoreError> {
        let course_id = with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let course_id = keep_current!(tx, unit_id, now);
            if course_id.is_some() {
                sqlx::query(
                    "UPDATE units SET title = $2, body = $3, author = 'person', author_id = $4, \
                     written_at = $5 WHERE id = $1",
                )
                .bind(unit_id)
                .bind(title)
                .bind(body)
                .bind(by)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            course_id
        });
        self.announce_unit(course_id).await
    }

    /// Makes version `version_id` of unit `unit_id` its text again, with its title and who wrote
    /// it, keeping the current text as a version; whether there was such a version of that unit.
    pub async fn restore_unit_version(
        &self,
        unit_id: i64,
        version_id: i64,
        now: i64,
    ) -> Result<bool, StoreError> {
        let course_id = with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let mine: bool = sqlx::query_scalar(
                "SELECT COUNT(*) > 0 FROM unit_versions WHERE id = $1 AND unit_id = $2",
            )
            .bind(version_id)
            .bind(unit_id)
            .fetch_one(&mut *tx)
            .await?;
            if !mine {
                return Ok(false);
            }
            let course_id = keep_current!(tx, unit_id, now);
            if course_id.is_some() {
                sqlx::query(
                    "UPDATE units SET (title, body, author, author_id, written_at) = \
                     (SELECT title, body, author, author_id, written_at FROM unit_versions \
                      WHERE id = $2) WHERE id = $1",
                )
                .bind(unit_id)
                .bind(version_id)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            course_id
        });
        self.announce_unit(course_id).await
    }

    /// Tells every node that a unit of course `course_id` changed, if one did.
    async fn announce_unit(&self, course_id: Option<i64>) -> Result<bool, StoreError> {
        match course_id {
            Some(course_id) => {
                self.publish(Change::Course(course_id)).await;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// The texts unit `unit_id` had before its current one, the most recently replaced first.
    pub async fn unit_versions(&self, unit_id: i64) -> Result<Vec<UnitVersion>, StoreError> {
        let rows: Vec<VersionRow> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT v.id, v.unit_id, v.title, v.body, v.author, v.author_id, \
                 (SELECT u.display_name FROM users u WHERE u.id = v.author_id) AS author_name, \
                 v.written_at, v.replaced_at FROM unit_versions v WHERE v.unit_id = $1 \
                 ORDER BY v.id DESC",
            )
            .bind(unit_id)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter()
            .map(|row| {
                Ok(UnitVersion {
                    author: author(&row.author, row.author_id, row.author_name)?,
                    id: row.id,
                    unit_id: row.unit_id,
                    title: row.title,
                    body: row.body,
                    written_at: row.written_at,
                    replaced_at: row.replaced_at,
                })
            })
            .collect()
    }

    /// Who wrote unit `unit_id`'s current text.
    pub async fn authorship(&self, unit_id: i64) -> Result<Authorship, StoreError> {
        #[derive(sqlx::FromRow)]
        struct Row {
            author: String,
            author_id: Option<i64>,
            author_name: Option<String>,
            written_at: Option<i64>,
        }
        let row: Option<Row> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT n.author, n.author_id, \
                 (SELECT u.display_name FROM users u WHERE u.id = n.author_id) AS author_name, \
                 n.written_at FROM units n WHERE n.id = $1",
            )
            .bind(unit_id)
            .fetch_optional(pool)
            .await?
        });
        let row = row.ok_or_else(|| StoreError::NotFound(format!("unit {unit_id}")))?;
        Ok(Authorship {
            author: author(&row.author, row.author_id, row.author_name)?,
            written_at: row.written_at,
        })
    }
}
