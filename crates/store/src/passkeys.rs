//! Passkeys and the ceremonies that make and use them. The store keeps what the application gives it:
//! each passkey's public key and counter as JSON, and each ceremony's state as JSON, used once.

use crate::accounts::{USER_COLUMNS, User, UserRow};
use crate::{Store, StoreError, with_pool};

/// A passkey, as its owner sees it on the account page.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Passkey {
    pub id: i64,
    pub user_id: i64,
    /// Base64url, as the authenticator names it.
    pub credential_id: String,
    pub name: String,
    /// The public key and signature counter, as JSON.
    pub credential: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

const PASSKEY_COLUMNS: &str =
    "p.id, p.user_id, p.credential_id, p.name, p.credential, p.created_at, p.last_used_at";

/// A passkey to store.
#[derive(Debug, Clone, Copy)]
pub struct NewPasskey<'a> {
    /// The account's user handle, set with its first passkey and kept.
    pub handle: &'a str,
    pub credential_id: &'a str,
    pub name: &'a str,
    pub credential: &'a str,
}

/// What a ceremony is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ceremony {
    /// Making an account with a passkey.
    SignUp,
    /// Signing in with one.
    SignIn,
    /// Adding one to an account.
    Add,
}

impl Ceremony {
    fn as_str(self) -> &'static str {
        match self {
            Self::SignUp => "sign_up",
            Self::SignIn => "sign_in",
            Self::Add => "add",
        }
    }
}

/// Inserts passkey `$new` of account `$user_id` in the open transaction `$tx`; a
/// [`StoreError::Conflict`] (from the enclosing function) when the credential is stored already.
macro_rules! insert_passkey {
    ($tx:ident, $user_id:expr, $new:expr, $now:expr) => {{
        let new: $crate::passkeys::NewPasskey<'_> = $new;
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO passkeys (user_id, credential_id, name, credential, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (credential_id) DO NOTHING RETURNING id",
        )
        .bind($user_id)
        .bind(new.credential_id)
        .bind(new.name)
        .bind(new.credential)
        .bind($now)
        .fetch_optional(&mut *$tx)
        .await?;
        if id.is_none() {
            $tx.rollback().await?;
            return Err($crate::StoreError::Conflict(
                "this passkey is stored already".into(),
            ));
        }
    }};
}
pub(crate) use insert_passkey;

impl Store {
    /// Stores a passkey of `user_id`, giving the account `new.handle` if it has no handle yet; a
    /// [`StoreError::Conflict`] when the credential is stored already.
    pub async fn add_passkey(
        &self,
        user_id: i64,
        new: &NewPasskey<'_>,
        now: i64,
    ) -> Result<Passkey, StoreError> {
        with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "UPDATE users SET passkey_handle = COALESCE(passkey_handle, $1) WHERE id = $2",
            )
            .bind(new.handle)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
            insert_passkey!(tx, user_id, *new, now);
            tx.commit().await?;
        });
        self.passkey_by_credential(new.credential_id)
            .await?
            .map(|(passkey, _, _)| passkey)
            .ok_or_else(|| StoreError::NotFound("passkey".into()))
    }

    /// The passkey with this credential id, its account and the account's user handle.
    pub async fn passkey_by_credential(
        &self,
        credential_id: &str,
    ) -> Result<Option<(Passkey, User, String)>, StoreError> {
        #[derive(sqlx::FromRow)]
        struct Row {
            passkey_id: i64,
            credential_id: String,
            passkey_name: String,
            credential: String,
            passkey_created_at: i64,
            last_used_at: Option<i64>,
            #[sqlx(flatten)]
            user: UserRow,
            passkey_handle: Option<String>,
        }
        // The passkey's columns are renamed where they would meet the account's.
        let row: Option<Row> = with_pool!(self, pool => {
            sqlx::query_as(&format!(
                "SELECT p.id AS passkey_id, p.credential_id, p.name AS passkey_name, p.credential, \
                 p.created_at AS passkey_created_at, p.last_used_at, {USER_COLUMNS}, u.passkey_handle \
                 FROM passkeys p JOIN users u ON u.id = p.user_id WHERE p.credential_id = $1"
            ))
            .bind(credential_id)
            .fetch_optional(pool)
            .await?
        });
        Ok(row.and_then(|row| {
            let handle = row.passkey_handle?;
            let user = User::from(row.user);
            let passkey = Passkey {
                id: row.passkey_id,
                user_id: user.id,
                credential_id: row.credential_id,
                name: row.passkey_name,
                credential: row.credential,
                created_at: row.passkey_created_at,
                last_used_at: row.last_used_at,
            };
            Some((passkey, user, handle))
        }))
    }

    /// An account's passkeys, oldest first.
    pub async fn passkeys(&self, user_id: i64) -> Result<Vec<Passkey>, StoreError> {
        Ok(with_pool!(self, pool => {
            sqlx::query_as(&format!(
                "SELECT {PASSKEY_COLUMNS} FROM passkeys p WHERE p.user_id = $1 ORDER BY p.id"
            ))
            .bind(user_id)
            .fetch_all(pool)
            .await?
        }))
    }

    /// The user handle of an account, once it has had a passkey.
    pub async fn passkey_handle(&self, user_id: i64) -> Result<Option<String>, StoreError> {
        let handle: Option<Option<String>> = with_pool!(self, pool => {
            sqlx::query_scalar("SELECT passkey_handle FROM users WHERE id = $1")
                .bind(user_id)
                .fetch_optional(pool)
                .await?
        });
        handle.ok_or_else(|| StoreError::NotFound(format!("user {user_id}")))
    }

    /// Records a sign-in with passkey `id`: its new counter (`credential`) and when.
    pub async fn passkey_used(
        &self,
        id: i64,
        credential: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            sqlx::query("UPDATE passkeys SET credential = $1, last_used_at = $2 WHERE id = $3")
                .bind(credential)
                .bind(now)
                .bind(id)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Removes one of `user_id`'s passkeys, unless it is the account's only way to sign in (no
    /// password, no other passkey): whether it was removed. `NotFound` when there is no such passkey.
    pub async fn remove_passkey(&self, user_id: i64, passkey_id: i64) -> Result<bool, StoreError> {
        let removed = with_pool!(self, pool => {
            sqlx::query(
                "DELETE FROM passkeys WHERE id = $1 AND user_id = $2 AND ( \
                   (SELECT password_hash FROM users WHERE id = $2) IS NOT NULL \
                   OR (SELECT COUNT(*) FROM passkeys WHERE user_id = $2) > 1)",
            )
            .bind(passkey_id)
            .bind(user_id)
            .execute(pool)
            .await?
            .rows_affected()
        });
        if removed > 0 {
            return Ok(true);
        }
        let mine = self
            .passkeys(user_id)
            .await?
            .iter()
            .any(|passkey| passkey.id == passkey_id);
        if mine {
            Ok(false)
        } else {
            Err(StoreError::NotFound("passkey".into()))
        }
    }

    /// Starts a ceremony: its `state` kept under `id` until `expires_at`.
    pub async fn start_ceremony(
        &self,
        id: &str,
        kind: Ceremony,
        user_id: Option<i64>,
        state: &str,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO passkey_ceremonies (id, kind, user_id, state, expires_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(id)
            .bind(kind.as_str())
            .bind(user_id)
            .bind(state)
            .bind(expires_at)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Takes the state of ceremony `id` of this kind (and account), once: none when there is no such
    /// ceremony, it was taken, or it expired by `now`.
    pub async fn take_ceremony(
        &self,
        id: &str,
        kind: Ceremony,
        user_id: Option<i64>,
        now: i64,
    ) -> Result<Option<String>, StoreError> {
        Ok(with_pool!(self, pool => {
            sqlx::query_scalar(
                "DELETE FROM passkey_ceremonies WHERE id = $1 AND kind = $2 \
                 AND user_id IS NOT DISTINCT FROM $3 AND expires_at > $4 RETURNING state",
            )
            .bind(id)
            .bind(kind.as_str())
            .bind(user_id)
            .bind(now)
            .fetch_optional(pool)
            .await?
        }))
    }

    /// Deletes ceremonies that expired by `now`; how many.
    pub async fn forget_ceremonies(&self, now: i64) -> Result<u64, StoreError> {
        Ok(with_pool!(self, pool => {
            sqlx::query("DELETE FROM passkey_ceremonies WHERE expires_at <= $1")
                .bind(now)
                .execute(pool)
                .await?
                .rows_affected()
        }))
    }
}
