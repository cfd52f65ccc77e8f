//! Learners' conversations with the tutor: one per learner and unit, kept message by message until
//! the learner clears it (or their account, the course or the unit goes).

use crate::{Change, Store, StoreError, with_pool};

/// Who said it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatRole {
    Learner,
    Tutor,
}

impl ChatRole {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Learner => "learner",
            Self::Tutor => "tutor",
        }
    }

    fn parse(text: &str) -> Result<Self, StoreError> {
        match text {
            "learner" => Ok(Self::Learner),
            "tutor" => Ok(Self::Tutor),
            other => Err(StoreError::Corrupt(format!("chat message role {other:?}"))),
        }
    }
}

/// One message of a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatMessage {
    pub id: i64,
    pub user_id: i64,
    pub course_id: i64,
    pub unit_id: i64,
    pub role: ChatRole,
    /// What kind of message it is; the application names the kinds.
    pub kind: String,
    /// What was said, as Markdown (the learner's words as typed).
    pub text: String,
    /// The structured part of a tutor's answer, as JSON.
    pub data: Option<String>,
    pub created_at: i64,
}

/// A message to keep.
#[derive(Debug, Clone, Copy)]
pub struct NewChatMessage<'a> {
    pub role: ChatRole,
    pub kind: &'a str,
    pub text: &'a str,
    pub data: Option<&'a str>,
}

#[derive(sqlx::FromRow)]
struct ChatRow {
    id: i64,
    user_id: i64,
    course_id: i64,
    unit_id: i64,
    role: String,
    kind: String,
    text: String,
    data: Option<String>,
    created_at: i64,
}

impl TryFrom<ChatRow> for ChatMessage {
    type Error = StoreError;

    fn try_from(row: ChatRow) -> Result<Self, StoreError> {
        Ok(Self {
            id: row.id,
            user_id: row.user_id,
            course_id: row.course_id,
            unit_id: row.unit_id,
            role: ChatRole::parse(&row.role)?,
            kind: row.kind,
            text: row.text,
            data: row.data,
            created_at: row.created_at,
        })
    }
}

const CHAT_COLUMNS: &str = "id, user_id, course_id, unit_id, role, kind, text, data, created_at";

/// How many messages a learner sent in a window of time, and when the oldest of them was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sent {
    pub count: i64,
    pub oldest_at: Option<i64>,
}

impl Store {
    /// Adds `messages`, in order, to learner `user_id`'s conversation about unit `unit_id` of course
    /// `course_id`; the messages as stored.
    pub async fn add_chat_messages(
        &self,
        user_id: i64,
        course_id: i64,
        unit_id: i64,
        messages: &[NewChatMessage<'_>],
        now: i64,
    ) -> Result<Vec<ChatMessage>, StoreError> {
        let sql = format!(
            "INSERT INTO chat_messages (user_id, course_id, unit_id, role, kind, text, data, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {CHAT_COLUMNS}"
        );
        let mut stored = Vec::with_capacity(messages.len());
        with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            for message in messages {
                let row: ChatRow = sqlx::query_as(&sql)
                    .bind(user_id)
                    .bind(course_id)
                    .bind(unit_id)
                    .bind(message.role.as_str())
                    .bind(message.kind)
                    .bind(message.text)
                    .bind(message.data)
                    .bind(now)
                    .fetch_one(&mut *tx)
                    .await?;
                stored.push(row);
            }
            tx.commit().await?;
        });
        self.publish(Change::Account(user_id)).await;
        stored.into_iter().map(ChatMessage::try_from).collect()
    }

    /// Learner `user_id`'s conversation about unit `unit_id`, oldest first.
    pub async fn chat(&self, user_id: i64, unit_id: i64) -> Result<Vec<ChatMessage>, StoreError> {
        let sql = format!(
            "SELECT {CHAT_COLUMNS} FROM chat_messages WHERE user_id = $1 AND unit_id = $2 ORDER BY id"
        );
        let rows: Vec<ChatRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql).bind(user_id).bind(unit_id).fetch_all(pool).await?
        });
        rows.into_iter().map(ChatMessage::try_from).collect()
    }

    /// Learner `user_id`'s messages of `kinds` in course `course_id` outside unit `except_unit`, newest
    /// first, at most `limit`: what the tutor of one unit recalls of the others.
    pub async fn chat_elsewhere(
        &self,
        user_id: i64,
        course_id: i64,
        except_unit: i64,
        limit: i64,
    ) -> Result<Vec<ChatMessage>, StoreError> {
        let sql = format!(
            "SELECT {CHAT_COLUMNS} FROM chat_messages \
             WHERE user_id = $1 AND course_id = $2 AND unit_id <> $3 \
             ORDER BY id DESC LIMIT $4"
        );
        let rows: Vec<ChatRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql)
                .bind(user_id)
                .bind(course_id)
                .bind(except_unit)
                .bind(limit)
                .fetch_all(pool)
                .await?
        });
        rows.into_iter().map(ChatMessage::try_from).collect()
    }

    /// Every message of learner `user_id`, oldest first: for their data download.
    pub async fn chats_of(&self, user_id: i64) -> Result<Vec<ChatMessage>, StoreError> {
        let sql =
            format!("SELECT {CHAT_COLUMNS} FROM chat_messages WHERE user_id = $1 ORDER BY id");
        let rows: Vec<ChatRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql).bind(user_id).fetch_all(pool).await?
        });
        rows.into_iter().map(ChatMessage::try_from).collect()
    }

    /// The units of course `course_id` that learner `user_id` has a conversation about.
    pub async fn chatted_units(
        &self,
        user_id: i64,
        course_id: i64,
    ) -> Result<Vec<i64>, StoreError> {
        Ok(with_pool!(self, pool => {
            sqlx::query_scalar(
                "SELECT DISTINCT unit_id FROM chat_messages WHERE user_id = $1 AND course_id = $2 \
                 ORDER BY unit_id",
            )
            .bind(user_id)
            .bind(course_id)
            .fetch_all(pool)
            .await?
        }))
    }

    /// Deletes learner `user_id`'s conversation about unit `unit_id`; how many messages went.
    pub async fn clear_chat(&self, user_id: i64, unit_id: i64) -> Result<u64, StoreError> {
        let deleted = with_pool!(self, pool => {
            sqlx::query("DELETE FROM chat_messages WHERE user_id = $1 AND unit_id = $2")
                .bind(user_id)
                .bind(unit_id)
                .execute(pool)
                .await?
                .rows_affected()
        });
        if deleted > 0 {
            self.publish(Change::Account(user_id)).await;
        }
        Ok(deleted)
    }

    /// Counts a reply learner `user_id` asked the tutor for at `now`, if fewer than `limit` were asked
    /// for since `since`; forgets those before `since`. What was counted before this one.
    pub async fn count_tutor_request(
        &self,
        user_id: i64,
        since: i64,
        now: i64,
        limit: i64,
    ) -> Result<Sent, StoreError> {
        let sent = with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query("DELETE FROM tutor_requests WHERE user_id = $1 AND created_at < $2")
                .bind(user_id)
                .bind(since)
                .execute(&mut *tx)
                .await?;
            let (count, oldest_at): (i64, Option<i64>) = sqlx::query_as(
                "SELECT COUNT(*), MIN(created_at) FROM tutor_requests WHERE user_id = $1",
            )
            .bind(user_id)
            .fetch_one(&mut *tx)
            .await?;
            if count < limit {
                sqlx::query("INSERT INTO tutor_requests (user_id, created_at) VALUES ($1, $2)")
                    .bind(user_id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Sent { count, oldest_at }
        });
        Ok(sent)
    }
}
