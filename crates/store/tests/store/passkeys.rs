//! Passkeys and their ceremonies on both backends.

use lyceum_store::{Ceremony, NewPasskey, NewUser, Store, StoreError};

use crate::helpers::on_each_backend;

fn key<'a>(credential_id: &'a str, handle: &'a str) -> NewPasskey<'a> {
    NewPasskey {
        handle,
        credential_id,
        name: "Chrome on Linux",
        credential: "{\"counter\":0}",
    }
}

/// An account made with its first passkey and no password.
async fn with_passkey(store: &Store, email: &str, credential_id: &str, handle: &str) -> i64 {
    store
        .create_user(
            &NewUser {
                email,
                display_name: "Grace",
                password_hash: None,
                is_admin: false,
                passkey: Some(key(credential_id, handle)),
            },
            1_000,
        )
        .await
        .unwrap()
        .id
}

#[tokio::test]
async fn a_passkey_names_its_account_and_the_last_one_cannot_be_removed() {
    on_each_backend(|store| async move {
        let grace = with_passkey(&store, "grace@example.org", "cred-a", "handle-g").await;
        let (passkey, user, handle) = store
            .passkey_by_credential("cred-a")
            .await
            .unwrap()
            .unwrap();
        assert_eq!((user.id, handle.as_str()), (grace, "handle-g"));
        assert_eq!(passkey.name, "Chrome on Linux");
        assert_eq!(passkey.last_used_at, None);
        assert_eq!(
            store.passkey_handle(grace).await.unwrap().as_deref(),
            Some("handle-g")
        );
        assert!(
            store
                .passkey_by_credential("cred-x")
                .await
                .unwrap()
                .is_none()
        );

        // A credential is one account's: storing it again, for anyone, is refused and changes nothing.
        let other = with_passkey(&store, "alan@example.org", "cred-b", "handle-a").await;
        let again = store
            .add_passkey(other, &key("cred-a", "handle-a"), 2_000)
            .await;
        assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
        assert_eq!(store.passkeys(other).await.unwrap().len(), 1);

        // Using it keeps the new counter and when.
        store
            .passkey_used(passkey.id, "{\"counter\":7}", 5_000)
            .await
            .unwrap();
        let (used, _, _) = store
            .passkey_by_credential("cred-a")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (used.credential.as_str(), used.last_used_at),
            ("{\"counter\":7}", Some(5_000))
        );

        // The only way in stays; a second passkey (under the account's first handle) lets either go.
        assert!(!store.remove_passkey(grace, passkey.id).await.unwrap());
        let second = store
            .add_passkey(grace, &key("cred-c", "a-new-handle"), 6_000)
            .await
            .unwrap();
        assert_eq!(
            store.passkey_handle(grace).await.unwrap().as_deref(),
            Some("handle-g")
        );
        assert_eq!(store.passkeys(grace).await.unwrap().len(), 2);
        // Nobody removes another person's passkey.
        let theirs = store.remove_passkey(other, second.id).await;
        assert!(matches!(theirs, Err(StoreError::NotFound(_))), "{theirs:?}");
        assert!(store.remove_passkey(grace, passkey.id).await.unwrap());
        let left: Vec<_> = store
            .passkeys(grace)
            .await
            .unwrap()
            .into_iter()
            .map(|passkey| passkey.credential_id)
            .collect();
        assert_eq!(left, ["cred-c"]);

        // An account with a password may remove its last passkey.
        store
            .set_password(grace, "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA")
            .await
            .unwrap();
        assert!(store.remove_passkey(grace, second.id).await.unwrap());
        assert!(store.passkeys(grace).await.unwrap().is_empty());

        // Deleting an account deletes its passkeys.
        store.delete_user(other, true).await.unwrap();
        assert!(
            store
                .passkey_by_credential("cred-b")
                .await
                .unwrap()
                .is_none()
        );
    })
    .await;
}

#[tokio::test]
async fn a_ceremony_is_taken_once_by_its_kind_and_account_before_it_expires() {
    on_each_backend(|store| async move {
        let grace = with_passkey(&store, "grace@example.org", "cred-a", "handle-g").await;
        store
            .start_ceremony("c1", Ceremony::Add, Some(grace), "state-1", 10_000)
            .await
            .unwrap();
        // Not as another kind, not for someone else or no one, not after it expires.
        for (kind, user, now) in [
            (Ceremony::SignIn, Some(grace), 1_000),
            (Ceremony::Add, None, 1_000),
            (Ceremony::Add, Some(grace + 1), 1_000),
            (Ceremony::Add, Some(grace), 10_000),
        ] {
            let taken = store.take_ceremony("c1", kind, user, now).await.unwrap();
            assert_eq!(taken, None, "{kind:?} by {user:?} at {now}");
        }
        let taken = store
            .take_ceremony("c1", Ceremony::Add, Some(grace), 9_999)
            .await
            .unwrap();
        assert_eq!(taken.as_deref(), Some("state-1"));
        let twice = store
            .take_ceremony("c1", Ceremony::Add, Some(grace), 9_999)
            .await
            .unwrap();
        assert_eq!(twice, None, "a ceremony is used once");

        store
            .start_ceremony("c2", Ceremony::SignIn, None, "state-2", 2_000)
            .await
            .unwrap();
        store
            .start_ceremony("c3", Ceremony::SignUp, None, "state-3", 20_000)
            .await
            .unwrap();
        assert_eq!(store.forget_ceremonies(5_000).await.unwrap(), 1);
        let kept = store
            .take_ceremony("c3", Ceremony::SignUp, None, 5_000)
            .await
            .unwrap();
        assert_eq!(kept.as_deref(), Some("state-3"));
    })
    .await;
}
