//! Mail that accounts need: confirming the address (sent at sign-up and again on request), a new
//! password through a link that works once and lapses, and turning off "your course is ready".

use lyceum_store::mail::DeliveryKind;
use lyceum_store::{StoreError, User};

use super::Link;
use crate::Lyceum;
use crate::accounts::{self, AccountError};

/// How long an address confirmation link works, in hours.
pub const VERIFY_HOURS: i64 = 48;

/// How long a new-password link works, in minutes.
pub const RESET_MINUTES: i64 = 60;

/// Why a new password was not set.
#[derive(Debug, thiserror::Error)]
pub enum ResetRefused {
    /// The link is not one, lapsed, or was used (a password was set since).
    #[error(
        "this link no longer works: it lapsed after {RESET_MINUTES} minutes, or a password was set with it already. Ask for a new one."
    )]
    Link,
    /// The password is too weak (or too long); the words say what would do.
    #[error("{0}")]
    Password(String),
    /// Hashing the password failed (a bug, not the password's fault).
    #[error("the password could not be hashed: {0}")]
    Hashing(String),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// An account, or `None` when there is none (or it is disabled).
async fn usable(app: &Lyceum, user_id: i64) -> Result<Option<User>, StoreError> {
    match app.store.user(user_id).await {
        Ok(user) if user.disabled_at.is_none() => Ok(Some(user)),
        Ok(_) | Err(StoreError::NotFound(_)) => Ok(None),
        Err(error) => Err(error),
    }
}

/// The argon2id string of an account's password, or an empty one when it has none.
pub(crate) async fn password_hash(app: &Lyceum, user: &User) -> Result<String, StoreError> {
    Ok(app
        .store
        .user_by_email(&user.email)
        .await?
        .and_then(|(_, hash)| hash)
        .unwrap_or_default())
}

impl Lyceum {
    /// Queues the link that confirms `user`'s address; nothing when it is confirmed already.
    pub async fn send_verification(&self, user: &User) -> Result<(), StoreError> {
        if self.store.email_verified_at(user.id).await?.is_some() {
            return Ok(());
        }
        let now = self.clock.now_ms();
        self.store
            .queue_account_mail(
                DeliveryKind::Verify,
                user.id,
                &format!("verify-{}-{now}", user.id),
                now,
            )
            .await?;
        Ok(())
    }

    /// Follows an address confirmation link: true when it confirmed (or had confirmed) the account's
    /// address.
    pub async fn verify_email(
        &self,
        user_id: i64,
        expires: i64,
        signature: &str,
    ) -> Result<bool, StoreError> {
        let now = self.clock.now_ms();
        let Some(user) = usable(self, user_id).await? else {
            return Ok(false);
        };
        let link = Link::Verify {
            user: user.id,
            expires,
            email: user.email.clone(),
        };
        if expires <= now || !link.is_signed_by(&self.store, signature).await? {
            return Ok(false);
        }
        if !self.store.verify_email(user.id, &user.email, now).await? {
            return Ok(false);
        }
        self.start_waiting_drips(&user, now).await?;
        Ok(true)
    }

    /// Someone asked for a new password for `email`: if an account has it, a link goes there. The
    /// answer is the same either way, so the form says nothing about who has an account.
    pub async fn request_password_reset(&self, email: &str) -> Result<(), StoreError> {
        let Ok(email) = accounts::normalize_email(email) else {
            return Ok(());
        };
        let Some((user, _)) = self.store.user_by_email(&email).await? else {
            return Ok(());
        };
        if user.disabled_at.is_some() {
            return Ok(());
        }
        let now = self.clock.now_ms();
        self.store
            .queue_account_mail(
                DeliveryKind::Reset,
                user.id,
                &format!("reset-{}-{now}", user.id),
                now,
            )
            .await?;
        Ok(())
    }

    /// The account a new-password link is for, while the link works.
    pub async fn reset_link_user(
        &self,
        user_id: i64,
        expires: i64,
        signature: &str,
    ) -> Result<Option<User>, StoreError> {
        if expires <= self.clock.now_ms() {
            return Ok(None);
        }
        let Some(user) = usable(self, user_id).await? else {
            return Ok(None);
        };
        let link = Link::Reset {
            user: user.id,
            expires,
            password_hash: password_hash(self, &user).await?,
        };
        Ok(link
            .is_signed_by(&self.store, signature)
            .await?
            .then_some(user))
    }

    /// Sets a new password through a link: every session of the account ends (whoever knew the old
    /// password is signed out), and the address counts as confirmed, since the link reached it.
    pub async fn reset_password(
        &self,
        user_id: i64,
        expires: i64,
        signature: &str,
        password: &str,
    ) -> Result<User, ResetRefused> {
        let Some(user) = self.reset_link_user(user_id, expires, signature).await? else {
            return Err(ResetRefused::Link);
        };
        accounts::check_password(password, &user.email, &user.display_name)
            .map_err(|error| ResetRefused::Password(error.to_string()))?;
        let password = password.to_owned();
        // Hashing takes tens of milliseconds of CPU: off the async threads.
        let hash = tokio::task::spawn_blocking(move || accounts::hash_password(&password))
            .await
            .map_err(|error| ResetRefused::Hashing(error.to_string()))?
            .map_err(|error| match error {
                AccountError::Store(error) => ResetRefused::Store(error),
                other => ResetRefused::Hashing(other.to_string()),
            })?;
        self.store.set_password(user.id, &hash).await?;
        self.store.end_sessions(user.id, None).await?;
        self.store
            .verify_email(user.id, &user.email, self.clock.now_ms())
            .await?;
        tracing::info!(user = user.id, "password set through a mailed link");
        Ok(user)
    }

    /// Follows the "no more 'your course is ready' emails" link; false when it is not one.
    pub async fn stop_ready_mail(&self, user_id: i64, signature: &str) -> Result<bool, StoreError> {
        if !Link::ReadyMail(user_id)
            .is_signed_by(&self.store, signature)
            .await?
        {
            return Ok(false);
        }
        self.store.set_ready_mail(user_id, false).await?;
        Ok(true)
    }
}
