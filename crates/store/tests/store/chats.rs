//! Conversations with the tutor on both backends: kept per learner and unit in order, listed per
//! course, cleared, gone with their account, and the hourly count of replies asked for that clearing
//! does not reset.

use lyceum_store::{Change, ChatRole, NewChatMessage};

use crate::helpers::{create_course, next_change, on_each_backend, person};

fn said<'a>(role: ChatRole, kind: &'a str, text: &'a str) -> NewChatMessage<'a> {
    NewChatMessage {
        role,
        kind,
        text,
        data: None,
    }
}

#[tokio::test]
async fn a_conversation_is_kept_in_order_per_learner_and_unit_and_cleared_alone() {
    on_each_backend(|store| async move {
        let course = create_course(&store, "Tides", 1, 2).await;
        let units = store.units(course.id).await.unwrap();
        let ada = person(&store, "ada@example.org", "Ada").await;
        let bob = person(&store, "bob@example.org", "Bob").await;
        let mut changes = store.changes().await.unwrap();

        let stored = store
            .add_chat_messages(
                ada,
                course.id,
                units[0].id,
                &[
                    said(ChatRole::Learner, "ask", "Why twice a day?"),
                    NewChatMessage {
                        data: Some(r#"{"verdict":"right"}"#),
                        ..said(ChatRole::Tutor, "grade", "Because of the Moon & <Sun>.")
                    },
                ],
                1_000,
            )
            .await
            .unwrap();
        assert_eq!(next_change(&mut changes).await, Change::Account(ada));
        assert_eq!(stored.len(), 2);
        assert!(stored[0].id < stored[1].id);
        store
            .add_chat_messages(
                bob,
                course.id,
                units[0].id,
                &[said(ChatRole::Learner, "ask", "Bob's")],
                1_100,
            )
            .await
            .unwrap();
        store
            .add_chat_messages(
                ada,
                course.id,
                units[1].id,
                &[said(ChatRole::Learner, "test", "Test me")],
                1_200,
            )
            .await
            .unwrap();

        let chat = store.chat(ada, units[0].id).await.unwrap();
        assert_eq!(chat, stored, "read back as stored, in order");
        assert_eq!(chat[1].text, "Because of the Moon & <Sun>.");
        assert_eq!(chat[1].data.as_deref(), Some(r#"{"verdict":"right"}"#));
        assert_eq!(chat[1].role, ChatRole::Tutor);
        assert_eq!(
            store.chatted_units(ada, course.id).await.unwrap(),
            vec![units[0].id, units[1].id]
        );
        let elsewhere = store
            .chat_elsewhere(ada, course.id, units[1].id, 10)
            .await
            .unwrap();
        assert_eq!(
            elsewhere.len(),
            2,
            "Ada's messages about the other unit, not Bob's"
        );
        assert_eq!(elsewhere[0].id, stored[1].id, "newest first");

        assert_eq!(store.clear_chat(ada, units[0].id).await.unwrap(), 2);
        assert!(store.chat(ada, units[0].id).await.unwrap().is_empty());
        assert_eq!(
            store.chat(bob, units[0].id).await.unwrap().len(),
            1,
            "Bob's stays"
        );
        assert_eq!(
            store.chat(ada, units[1].id).await.unwrap().len(),
            1,
            "so does the other unit's"
        );
        assert_eq!(store.clear_chat(ada, units[0].id).await.unwrap(), 0);

        // An account that goes takes its conversations with it.
        assert!(store.delete_user(bob, true).await.unwrap());
        assert_eq!(store.chats_of(bob).await.unwrap(), vec![]);
        assert_eq!(store.chats_of(ada).await.unwrap().len(), 1);
    })
    .await;
}

#[tokio::test]
async fn replies_asked_for_are_counted_in_a_sliding_hour_that_clearing_does_not_reset() {
    on_each_backend(|store| async move {
        let ada = person(&store, "ada@example.org", "Ada").await;
        let bob = person(&store, "bob@example.org", "Bob").await;
        let hour = 3_600_000;
        let ask = |who, now| {
            let store = store.clone();
            async move {
                store
                    .count_tutor_request(who, now - hour, now, 2)
                    .await
                    .unwrap()
            }
        };
        assert_eq!(ask(ada, 10_000_000).await.count, 0);
        assert_eq!(ask(ada, 10_000_500).await.count, 1);
        let full = ask(ada, 10_001_000).await;
        assert_eq!((full.count, full.oldest_at), (2, Some(10_000_000)));
        assert_eq!(
            ask(ada, 10_002_000).await.count,
            2,
            "a refused one is not counted"
        );
        assert_eq!(
            ask(bob, 10_002_000).await.count,
            0,
            "each learner has their own hour"
        );
        // An hour after the first, one place is free again.
        let later = ask(ada, 10_000_000 + hour + 1).await;
        assert_eq!((later.count, later.oldest_at), (1, Some(10_000_500)));
    })
    .await;
}
