//! People and how they prove who they are: accounts, browser sessions and API tokens. The store keeps
//! what the application gives it — a password's argon2id string, the SHA-256 of a session's or
//! token's secret — and never sees a password or a secret itself.

use crate::passkeys::NewPasskey;
use crate::{Change, Store, StoreError, with_pool};

/// An account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    /// Trimmed and lowercased.
    pub email: String,
    pub display_name: String,
    /// May feature, hide or delete any course.
    pub is_admin: bool,
    /// May not sign in (Unix ms since when).
    pub disabled_at: Option<i64>,
    /// When it was made (Unix ms).
    pub created_at: i64,
}

#[derive(sqlx::FromRow)]
pub(crate) struct UserRow {
    id: i64,
    email: String,
    display_name: String,
    is_admin: i64,
    disabled_at: Option<i64>,
    created_at: i64,
}

impl From<UserRow> for User {
    fn from(row: UserRow) -> Self {
        Self {
            id: row.id,
            email: row.email,
            display_name: row.display_name,
            is_admin: row.is_admin != 0,
            disabled_at: row.disabled_at,
            created_at: row.created_at,
        }
    }
}

pub(crate) const USER_COLUMNS: &str =
    "u.id, u.email, u.display_name, u.is_admin, u.disabled_at, u.created_at";

/// What a new account is made of.
#[derive(Debug, Clone)]
pub struct NewUser<'a> {
    /// Trimmed and lowercased by the caller.
    pub email: &'a str,
    pub display_name: &'a str,
    /// The argon2id PHC string, when the account has a password.
    pub password_hash: Option<&'a str>,
    pub is_admin: bool,
    /// Its first passkey, when it signs up with one.
    pub passkey: Option<NewPasskey<'a>>,
}

/// A signed-in browser, as its owner sees it on the account page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id: i64,
    pub user_id: i64,
    /// Put in every form its pages show; a form without it is refused.
    pub csrf_token: String,
    /// Shortened, to tell sessions apart.
    pub user_agent: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
}

#[derive(sqlx::FromRow)]
struct SessionRow {
    id: i64,
    user_id: i64,
    csrf_token: String,
    user_agent: String,
    created_at: i64,
    last_seen_at: i64,
    expires_at: i64,
}

impl From<SessionRow> for Session {
    fn from(row: SessionRow) -> Self {
        Self {
            id: row.id,
            user_id: row.user_id,
            csrf_token: row.csrf_token,
            user_agent: row.user_agent,
            created_at: row.created_at,
            last_seen_at: row.last_seen_at,
            expires_at: row.expires_at,
        }
    }
}

const SESSION_COLUMNS: &str =
    "s.id, s.user_id, s.csrf_token, s.user_agent, s.created_at, s.last_seen_at, s.expires_at";

/// What a new session is made of.
#[derive(Debug, Clone)]
pub struct NewSession<'a> {
    pub user_id: i64,
    /// Hex SHA-256 of the cookie's secret.
    pub secret_hash: &'a str,
    pub csrf_token: &'a str,
    pub user_agent: &'a str,
    /// Unix ms.
    pub now: i64,
    /// Unix ms: the session ends then however much it is used.
    pub expires_at: i64,
}

/// An API token, as its owner sees it (the token itself is shown once, when made, and not kept).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ApiToken {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

impl Store {
    /// Makes an account (with its first passkey, if it has one), in one transaction;
    /// [`StoreError::Conflict`] when the email has an account already.
    pub async fn create_user(&self, new: &NewUser<'_>, now: i64) -> Result<User, StoreError> {
        let id: Option<i64> = with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let id: Option<i64> = sqlx::query_scalar(
                "INSERT INTO users (email, display_name, password_hash, is_admin, created_at, \
                 passkey_handle) VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (email) DO NOTHING RETURNING id",
            )
            .bind(new.email)
            .bind(new.display_name)
            .bind(new.password_hash)
            .bind(i64::from(new.is_admin))
            .bind(now)
            .bind(new.passkey.map(|passkey| passkey.handle))
            .fetch_optional(&mut *tx)
            .await?;
            if let (Some(id), Some(passkey)) = (id, new.passkey) {
                crate::passkeys::insert_passkey!(tx, id, passkey, now);
            }
            tx.commit().await?;
            id
        });
        match id {
            Some(id) => self.user(id).await,
            None => Err(StoreError::Conflict(
                "an account with this email exists already".into(),
            )),
        }
    }

    /// The account `id`.
    pub async fn user(&self, id: i64) -> Result<User, StoreError> {
        let row: Option<UserRow> = with_pool!(self, pool => {
            sqlx::query_as(&format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1"))
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        row.map(User::from)
            .ok_or_else(|| StoreError::NotFound(format!("user {id}")))
    }

    /// The account with this email (trimmed and lowercased), with its password's argon2id string if it
    /// has one.
    pub async fn user_by_email(
        &self,
        email: &str,
    ) -> Result<Option<(User, Option<String>)>, StoreError> {
        #[derive(sqlx::FromRow)]
        struct Row {
            #[sqlx(flatten)]
            user: UserRow,
            password_hash: Option<String>,
        }
        let row: Option<Row> = with_pool!(self, pool => {
            sqlx::query_as(&format!(
                "SELECT {USER_COLUMNS}, u.password_hash FROM users u WHERE u.email = $1"
            ))
            .bind(email)
            .fetch_optional(pool)
            .await?
        });
        Ok(row.map(|row| (row.user.into(), row.password_hash)))
    }

    /// Every account, oldest first.
    pub async fn users(&self) -> Result<Vec<User>, StoreError> {
        let rows: Vec<UserRow> = with_pool!(self, pool => {
            sqlx::query_as(&format!("SELECT {USER_COLUMNS} FROM users u ORDER BY u.id"))
                .fetch_all(pool)
                .await?
        });
        Ok(rows.into_iter().map(User::from).collect())
    }

    /// Sets (or replaces) an account's password, as its argon2id string.
    pub async fn set_password(&self, user_id: i64, password_hash: &str) -> Result<(), StoreError> {
        self.set_user_text(user_id, "password_hash", password_hash)
            .await
    }

    /// Renames an account (the name is checked by the caller).
    pub async fn set_display_name(&self, user_id: i64, name: &str) -> Result<(), StoreError> {
        self.set_user_text(user_id, "display_name", name).await
    }

    /// Sets text column `column` of account `user_id`.
    async fn set_user_text(
        &self,
        user_id: i64,
        column: &str,
        value: &str,
    ) -> Result<(), StoreError> {
        let sql = format!("UPDATE users SET {column} = $1 WHERE id = $2");
        let changed = with_pool!(self, pool => {
            sqlx::query(&sql)
                .bind(value)
                .bind(user_id)
                .execute(pool)
                .await?
                .rows_affected()
        });
        match changed {
            0 => Err(StoreError::NotFound(format!("user {user_id}"))),
            _ => {
                self.publish(Change::Account(user_id)).await;
                Ok(())
            }
        }
    }

    /// Deletes an account and everything stored about its person: sessions, tokens, drafts (with
    /// their queued drafting) go with it. The courses it made stay published as a former learner's
    /// (`keep_courses`) or are deleted with what is queued to write them. Whether there was one.
    pub async fn delete_user(&self, user_id: i64, keep_courses: bool) -> Result<bool, StoreError> {
        let deleted = with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "DELETE FROM jobs WHERE kind = 'draft' AND payload IN \
                 (SELECT id FROM drafts WHERE user_id = $1)",
            )
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
            if keep_courses {
                sqlx::query("UPDATE courses SET owner_id = NULL, former_owner = 1 WHERE owner_id = $1")
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await?;
            } else {
                crate::courses::delete_courses!(tx, "c.owner_id = $1", user_id);
            }
            let deleted = sqlx::query("DELETE FROM users WHERE id = $1")
                .bind(user_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            tx.commit().await?;
            deleted
        });
        self.publish(Change::Account(user_id)).await;
        Ok(deleted > 0)
    }

    /// Stops an account from signing in, at `now`, and ends its sessions and API tokens at once.
    /// Disabling a disabled account keeps the first time.
    pub async fn disable_user(&self, user_id: i64, now: i64) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let changed = sqlx::query(
                "UPDATE users SET disabled_at = COALESCE(disabled_at, $1) WHERE id = $2",
            )
            .bind(now)
            .bind(user_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if changed == 0 {
                tx.rollback().await?;
                return Err(StoreError::NotFound(format!("user {user_id}")));
            }
            for table in ["sessions", "api_tokens"] {
                sqlx::query(&format!("DELETE FROM {table} WHERE user_id = $1"))
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        });
        self.publish(Change::Account(user_id)).await;
        Ok(())
    }

    /// Starts a session.
    pub async fn create_session(&self, new: &NewSession<'_>) -> Result<Session, StoreError> {
        let row: SessionRow = with_pool!(self, pool => {
            sqlx::query_as(
                "INSERT INTO sessions (secret_hash, user_id, csrf_token, user_agent, created_at, \
                 last_seen_at, expires_at) VALUES ($1, $2, $3, $4, $5, $5, $6) \
                 RETURNING id, user_id, csrf_token, user_agent, created_at, last_seen_at, expires_at",
            )
            .bind(new.secret_hash)
            .bind(new.user_id)
            .bind(new.csrf_token)
            .bind(new.user_agent)
            .bind(new.now)
            .bind(new.expires_at)
            .fetch_one(pool)
            .await?
        });
        Ok(row.into())
    }

    /// The live session whose secret hashes to `secret_hash`, with its account, marked as seen at
    /// `now`: none when there is no such session, it expired, it was last seen before `idle_since`, or
    /// its account is disabled.
    pub async fn session(
        &self,
        secret_hash: &str,
        now: i64,
        idle_since: i64,
    ) -> Result<Option<(Session, User)>, StoreError> {
        #[derive(sqlx::FromRow)]
        struct Row {
            #[sqlx(flatten)]
            session: SessionRow,
            email: String,
            display_name: String,
            is_admin: i64,
            disabled_at: Option<i64>,
            user_created_at: i64,
        }
        let row: Option<Row> = with_pool!(self, pool => {
            sqlx::query_as(&format!(
                "SELECT {SESSION_COLUMNS}, u.email, u.display_name, u.is_admin, u.disabled_at, \
                 u.created_at AS user_created_at \
                 FROM sessions s JOIN users u ON u.id = s.user_id \
                 WHERE s.secret_hash = $1 AND s.expires_at > $2 AND s.last_seen_at >= $3 \
                 AND u.disabled_at IS NULL"
            ))
            .bind(secret_hash)
            .bind(now)
            .bind(idle_since)
            .fetch_optional(pool)
            .await?
        });
        let Some(row) = row else {
            return Ok(None);
        };
        // Written at most once a minute, so reading pages does not write on every request.
        if row.session.last_seen_at < now - 60_000 {
            with_pool!(self, pool => {
                sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id = $2")
                    .bind(now)
                    .bind(row.session.id)
                    .execute(pool)
                    .await?;
            });
        }
        let user = User {
            id: row.session.user_id,
            email: row.email,
            display_name: row.display_name,
            is_admin: row.is_admin != 0,
            disabled_at: row.disabled_at,
            created_at: row.user_created_at,
        };
        let mut session = Session::from(row.session);
        session.last_seen_at = session.last_seen_at.max(now);
        Ok(Some((session, user)))
    }

    /// An account's sessions, most recently seen first.
    pub async fn sessions(&self, user_id: i64, now: i64) -> Result<Vec<Session>, StoreError> {
        let rows: Vec<SessionRow> = with_pool!(self, pool => {
            sqlx::query_as(&format!(
                "SELECT {SESSION_COLUMNS} FROM sessions s WHERE s.user_id = $1 AND s.expires_at > $2 \
                 ORDER BY s.last_seen_at DESC, s.id DESC"
            ))
            .bind(user_id)
            .bind(now)
            .fetch_all(pool)
            .await?
        });
        Ok(rows.into_iter().map(Session::from).collect())
    }

    /// Ends one of `user_id`'s sessions; whether there was one.
    pub async fn end_session(&self, user_id: i64, session_id: i64) -> Result<bool, StoreError> {
        let ended = with_pool!(self, pool => {
            sqlx::query("DELETE FROM sessions WHERE id = $1 AND user_id = $2")
                .bind(session_id)
                .bind(user_id)
                .execute(pool)
                .await?
                .rows_affected()
        });
        self.publish(Change::Account(user_id)).await;
        Ok(ended > 0)
    }

    /// Ends every session of `user_id` but `keep` (a session id); how many ended.
    pub async fn end_sessions(&self, user_id: i64, keep: Option<i64>) -> Result<u64, StoreError> {
        let ended = with_pool!(self, pool => {
            sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id IS DISTINCT FROM $2")
                .bind(user_id)
                .bind(keep)
                .execute(pool)
                .await?
                .rows_affected()
        });
        self.publish(Change::Account(user_id)).await;
        Ok(ended)
    }

    /// Deletes sessions that expired by `now` or were last seen before `idle_since`; how many.
    pub async fn forget_sessions(&self, now: i64, idle_since: i64) -> Result<u64, StoreError> {
        Ok(with_pool!(self, pool => {
            sqlx::query("DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at < $2")
                .bind(now)
                .bind(idle_since)
                .execute(pool)
                .await?
                .rows_affected()
        }))
    }

    /// Stores a new API token of `user_id` by its hash.
    pub async fn create_api_token(
        &self,
        user_id: i64,
        name: &str,
        token_hash: &str,
        now: i64,
    ) -> Result<ApiToken, StoreError> {
        Ok(with_pool!(self, pool => {
            sqlx::query_as(
                "INSERT INTO api_tokens (user_id, name, token_hash, created_at) VALUES ($1, $2, $3, $4) \
                 RETURNING id, user_id, name, created_at, last_used_at",
            )
            .bind(user_id)
            .bind(name)
            .bind(token_hash)
            .bind(now)
            .fetch_one(pool)
            .await?
        }))
    }

    /// An account's API tokens, newest first.
    pub async fn api_tokens(&self, user_id: i64) -> Result<Vec<ApiToken>, StoreError> {
        Ok(with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT id, user_id, name, created_at, last_used_at FROM api_tokens \
                 WHERE user_id = $1 ORDER BY id DESC",
            )
            .bind(user_id)
            .fetch_all(pool)
            .await?
        }))
    }

    /// Revokes one of `user_id`'s tokens; whether there was one.
    pub async fn delete_api_token(&self, user_id: i64, token_id: i64) -> Result<bool, StoreError> {
        let deleted = with_pool!(self, pool => {
            sqlx::query("DELETE FROM api_tokens WHERE id = $1 AND user_id = $2")
                .bind(token_id)
                .bind(user_id)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(deleted > 0)
    }

    /// The account whose token hashes to `token_hash`, marking the token used at `now`; none for an
    /// unknown token or a disabled account.
    pub async fn user_by_api_token(
        &self,
        token_hash: &str,
        now: i64,
    ) -> Result<Option<User>, StoreError> {
        #[derive(sqlx::FromRow)]
        struct Row {
            token_id: i64,
            #[sqlx(flatten)]
            user: UserRow,
        }
        let row: Option<Row> = with_pool!(self, pool => {
            sqlx::query_as(&format!(
                "SELECT t.id AS token_id, {USER_COLUMNS} FROM api_tokens t \
                 JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1 AND u.disabled_at IS NULL"
            ))
            .bind(token_hash)
            .fetch_optional(pool)
            .await?
        });
        let Some(row) = row else {
            return Ok(None);
        };
        with_pool!(self, pool => {
            sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
                .bind(now)
                .bind(row.token_id)
                .execute(pool)
                .await?;
        });
        Ok(Some(row.user.into()))
    }
}
