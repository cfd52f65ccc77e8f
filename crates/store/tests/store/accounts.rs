//! Accounts, sessions and API tokens on both backends.

use lyceum_store::{NewSession, NewUser, Store, StoreError};

use crate::helpers::on_each_backend;

const HOUR: i64 = 3_600_000;

async fn person(store: &Store, email: &str) -> i64 {
    store
        .create_user(
            &NewUser {
                email,
                display_name: "Ada",
                password_hash: Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA"),
                is_admin: false,
                passkey: None,
            },
            1_000,
        )
        .await
        .unwrap()
        .id
}

async fn session(store: &Store, user_id: i64, secret_hash: &str, now: i64) -> i64 {
    store
        .create_session(&NewSession {
            user_id,
            secret_hash,
            csrf_token: "csrf",
            user_agent: "Firefox on Linux",
            now,
            expires_at: now + 24 * HOUR,
        })
        .await
        .unwrap()
        .id
}

#[tokio::test]
async fn an_email_has_one_account_and_its_password_can_be_changed() {
    on_each_backend(|store| async move {
        let id = person(&store, "ada@example.org").await;
        let again = store
            .create_user(
                &NewUser {
                    email: "ada@example.org",
                    display_name: "Someone else",
                    password_hash: None,
                    is_admin: true,
                    passkey: None,
                },
                2_000,
            )
            .await;
        assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");

        let (user, hash) = store
            .user_by_email("ada@example.org")
            .await
            .unwrap()
            .unwrap();
        assert_eq!((user.id, user.display_name.as_str()), (id, "Ada"));
        assert!(!user.is_admin);
        assert!(hash.unwrap().starts_with("$argon2id$"));
        store.set_password(id, "$argon2id$new").await.unwrap();
        let (_, hash) = store
            .user_by_email("ada@example.org")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(hash.as_deref(), Some("$argon2id$new"));
        assert!(
            store
                .user_by_email("bob@example.org")
                .await
                .unwrap()
                .is_none()
        );
        assert_eq!(store.users().await.unwrap(), vec![user]);
    })
    .await;
}

#[tokio::test]
async fn a_session_lives_until_it_expires_or_idles_and_is_seen_at_most_once_a_minute() {
    on_each_backend(|store| async move {
        let user = person(&store, "ada@example.org").await;
        let id = session(&store, user, "hash-1", 10 * HOUR).await;

        let (seen, owner) = store
            .session("hash-1", 10 * HOUR + 1_000, 0)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (seen.id, owner.id, seen.csrf_token.as_str()),
            (id, user, "csrf")
        );
        // Within a minute of the last write, nothing is written.
        assert_eq!(seen.last_seen_at, 10 * HOUR + 1_000);
        let listed = store.sessions(user, 10 * HOUR + 2_000).await.unwrap();
        assert_eq!(listed[0].last_seen_at, 10 * HOUR);
        // Later, it is.
        store
            .session("hash-1", 12 * HOUR, 0)
            .await
            .unwrap()
            .unwrap();
        let listed = store.sessions(user, 12 * HOUR).await.unwrap();
        assert_eq!(listed[0].last_seen_at, 12 * HOUR);

        // Idle since before the cut-off, or past its end: gone.
        assert!(
            store
                .session("hash-1", 13 * HOUR, 12 * HOUR + 1)
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            store
                .session("hash-1", 34 * HOUR, 0)
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            store
                .session("hash-2", 12 * HOUR, 0)
                .await
                .unwrap()
                .is_none()
        );
        assert_eq!(store.forget_sessions(34 * HOUR, 0).await.unwrap(), 1);
        assert!(store.sessions(user, 12 * HOUR).await.unwrap().is_empty());
    })
    .await;
}

#[tokio::test]
async fn a_person_ends_their_own_sessions_and_nobody_else_s() {
    on_each_backend(|store| async move {
        let ada = person(&store, "ada@example.org").await;
        let bob = person(&store, "bob@example.org").await;
        let here = session(&store, ada, "ada-here", HOUR).await;
        let phone = session(&store, ada, "ada-phone", HOUR).await;
        let laptop = session(&store, ada, "ada-laptop", HOUR).await;
        let bobs = session(&store, bob, "bob", HOUR).await;

        assert!(!store.end_session(bob, phone).await.unwrap());
        assert!(store.end_session(ada, phone).await.unwrap());
        assert!(store.session("ada-phone", HOUR, 0).await.unwrap().is_none());
        // "Sign out everywhere else" keeps this one; Bob's stays.
        assert_eq!(store.end_sessions(ada, Some(here)).await.unwrap(), 1);
        let left: Vec<i64> = store
            .sessions(ada, HOUR)
            .await
            .unwrap()
            .iter()
            .map(|s| s.id)
            .collect();
        assert_eq!(left, vec![here]);
        assert_ne!(laptop, here);
        assert_eq!(store.end_sessions(ada, None).await.unwrap(), 1);
        assert!(store.sessions(ada, HOUR).await.unwrap().is_empty());
        assert_eq!(store.sessions(bob, HOUR).await.unwrap()[0].id, bobs);
    })
    .await;
}

#[tokio::test]
async fn tokens_name_their_owner_until_revoked_and_disabling_ends_everything() {
    on_each_backend(|store| async move {
        let ada = person(&store, "ada@example.org").await;
        let bob = person(&store, "bob@example.org").await;
        let token = store
            .create_api_token(ada, "laptop script", "token-hash", HOUR)
            .await
            .unwrap();
        assert_eq!(token.last_used_at, None);
        let owner = store
            .user_by_api_token("token-hash", 2 * HOUR)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(owner.id, ada);
        assert_eq!(
            store.api_tokens(ada).await.unwrap()[0].last_used_at,
            Some(2 * HOUR)
        );
        assert!(store.api_tokens(bob).await.unwrap().is_empty());
        assert!(!store.delete_api_token(bob, token.id).await.unwrap());

        session(&store, ada, "ada", HOUR).await;
        store.disable_user(ada, 3 * HOUR).await.unwrap();
        store.disable_user(ada, 4 * HOUR).await.unwrap();
        assert_eq!(store.user(ada).await.unwrap().disabled_at, Some(3 * HOUR));
        assert!(store.session("ada", HOUR, 0).await.unwrap().is_none());
        assert!(
            store
                .user_by_api_token("token-hash", 4 * HOUR)
                .await
                .unwrap()
                .is_none()
        );
        assert!(store.api_tokens(ada).await.unwrap().is_empty());
        assert!(matches!(
            store.disable_user(9_999, HOUR).await,
            Err(StoreError::NotFound(_))
        ));
    })
    .await;
}
