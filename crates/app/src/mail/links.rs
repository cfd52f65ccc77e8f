//! The links in Lyceum's mail that work without signing in: a subscription's page (change the pace,
//! pause, stop; its one-click unsubscribe) is signed with a key the site makes once and keeps in its
//! database, so every node accepts it and it survives restarts; a confirmation link carries a random
//! secret whose hash alone is stored, and works once.

use hmac::{Hmac, Mac};
use lyceum_store::{Store, StoreError};
use sha2::Sha256;

/// The site key that signs mail links.
const KEY_NAME: &str = "mail-links";

/// Hex digits of a signature kept in a link: 128 bits.
const SIGNATURE_HEX: usize = 32;

async fn key(store: &Store) -> Result<Vec<u8>, StoreError> {
    let key = store
        .site_key(KEY_NAME, || {
            let mut bytes = [0u8; 32];
            // Without the system's randomness there is no safe key: the insert fails below instead.
            if getrandom::fill(&mut bytes).is_err() {
                return String::new();
            }
            crate::hex(&bytes)
        })
        .await?;
    if key.len() < 64 {
        return Err(StoreError::Corrupt(
            "the key that signs mail links is missing or too short".into(),
        ));
    }
    Ok(key.into_bytes())
}

fn sign(key: &[u8], what: &str) -> String {
    // HMAC takes a key of any length.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        return String::new();
    };
    mac.update(what.as_bytes());
    let mut signature = crate::hex(&mac.finalize().into_bytes());
    signature.truncate(SIGNATURE_HEX);
    signature
}

/// What a link may do, and for whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Link {
    /// A subscription's page: change the pace, pause, stop (and the one-click unsubscribe).
    Manage(i64),
    /// A subscription's confirmation, valid for the request that lapses at this time (Unix ms):
    /// asking again makes an earlier link useless, and a confirmed subscription has nothing left to
    /// confirm.
    Confirm(i64, i64),
    /// An account's "no more 'your course is ready' emails".
    ReadyMail(i64),
    /// An account's address confirmed, until `expires` (Unix ms): signed over the address, so the
    /// link confirms only the address it was sent to.
    Verify {
        user: i64,
        expires: i64,
        email: String,
    },
    /// A new password for an account, until `expires`: signed over the current password's hash, so
    /// the link works once (setting a password changes the hash).
    Reset {
        user: i64,
        expires: i64,
        password_hash: String,
    },
}

impl Link {
    fn signed_text(&self) -> String {
        match self {
            Self::Manage(id) => format!("subscription:{id}"),
            Self::Confirm(id, expires_at) => format!("confirm:{id}:{expires_at}"),
            Self::ReadyMail(user) => format!("ready-mail:{user}"),
            Self::Verify {
                user,
                expires,
                email,
            } => format!("verify:{user}:{expires}:{email}"),
            Self::Reset {
                user,
                expires,
                password_hash,
            } => {
                format!("reset:{user}:{expires}:{password_hash}")
            }
        }
    }

    /// The link's signature.
    pub async fn signature(&self, store: &Store) -> Result<String, StoreError> {
        Ok(sign(&key(store).await?, &self.signed_text()))
    }

    /// Whether `signature` is this link's, compared in constant time.
    pub async fn is_signed_by(&self, store: &Store, signature: &str) -> Result<bool, StoreError> {
        let expected = self.signature(store).await?;
        Ok(expected.len() == signature.len()
            && expected
                .bytes()
                .zip(signature.bytes())
                .fold(0u8, |differ, (a, b)| differ | (a ^ b))
                == 0)
    }

    /// The link's path on the site.
    pub async fn path(&self, store: &Store) -> Result<String, StoreError> {
        let signature = self.signature(store).await?;
        Ok(match self {
            Self::Manage(id) => format!("/mail/subscriptions/{id}/{signature}"),
            Self::Confirm(id, _) => format!("/mail/confirm/{id}/{signature}"),
            Self::ReadyMail(user) => format!("/mail/ready/{user}/{signature}"),
            Self::Verify { user, expires, .. } => {
                format!("/account/verify/{user}/{expires}/{signature}")
            }
            Self::Reset { user, expires, .. } => {
                format!("/account/reset/{user}/{expires}/{signature}")
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_depends_on_the_key_and_what_it_signs() {
        let key = [7u8; 32];
        let one = sign(&key, "subscription:1");
        assert_eq!(one.len(), SIGNATURE_HEX);
        assert_eq!(one, sign(&key, "subscription:1"));
        assert_ne!(one, sign(&key, "subscription:2"));
        assert_ne!(one, sign(&[8u8; 32], "subscription:1"));
        assert_ne!(
            Link::Confirm(1, 10).signed_text(),
            Link::Confirm(1, 11).signed_text()
        );
    }
}
