//! Mail on both backends: subscriptions start, wait for confirmation or refuse a stranger's change;
//! a unit is queued once per subscription; a delivery interrupted mid-send is never sent again;
//! refusals in a row stop a drip; an account's deletion takes its subscriptions along.

use std::time::Duration;

use lyceum_store::mail::{DeliveryKind, DeliveryState, Outcome};
use lyceum_store::{
    ItemKind, NewSubscription, Output, Status, Store, Subscribed, SubscriptionState, Task,
};

use crate::helpers::{create_course, made_by, on_each_backend, outline, person, stats};

const DAY: i64 = 86_400_000;

fn new(course_id: i64, user_id: Option<i64>, email: &str) -> NewSubscription<'_> {
    NewSubscription {
        course_id,
        user_id,
        email,
        pace_days: 1,
        hour: 7,
        time_zone: "Europe/Paris",
        place: 0,
        next_at: 10 * DAY,
        confirm_by: user_id.is_none().then_some(3 * DAY),
    }
}

/// Ada's subscription, started on day 1.
async fn active(store: &Store, course_id: i64, ada: i64) -> lyceum_store::Subscription {
    match store
        .subscribe(&new(course_id, Some(ada), "ada@example.org"), DAY)
        .await
        .unwrap()
    {
        Subscribed::Active(subscription) => subscription,
        other => panic!("a signed-in learner's subscription starts at once: {other:?}"),
    }
}

/// The task of the first job due at `now`, claimed then handed back.
async fn first_due(store: &Store, now: i64) -> Option<Task> {
    let job = store
        .claim("test", Duration::from_secs(60), now)
        .await
        .unwrap()?;
    store.release_job(job.id, "test").await.unwrap();
    Some(job.task)
}

#[tokio::test]
async fn a_learner_subscription_starts_and_a_given_address_waits_for_its_click() {
    on_each_backend(|store| async move {
        let course = create_course(&store, "Tides", 1, 2).await;
        let ada = person(&store, "ada@example.org", "Ada").await;

        let mine = active(&store, course.id, ada).await;
        assert_eq!(mine.state, SubscriptionState::Active);
        assert_eq!(mine.next_at, Some(10 * DAY));
        // The drip wakes at its due time, ahead of the course's writing; not before.
        assert_ne!(
            first_due(&store, 10 * DAY - 1).await,
            Some(Task::Drip(mine.id))
        );
        assert_eq!(first_due(&store, 10 * DAY).await, Some(Task::Drip(mine.id)));

        let Subscribed::Confirming(given) = store
            .subscribe(&new(course.id, None, "bob@example.org"), DAY)
            .await
            .unwrap()
        else {
            panic!("an address given signed out is confirmed first");
        };
        assert_eq!(given.state, SubscriptionState::Unconfirmed);
        assert_eq!(given.next_at, None);
        let sent = store.deliveries_of(given.id).await.unwrap();
        assert_eq!(sent.len(), 1, "{sent:?}");
        assert_eq!(sent[0].kind, DeliveryKind::Confirm);
        assert_eq!(sent[0].state, DeliveryState::Queued);

        // A stranger asking for Ada's address changes nothing.
        let stranger = NewSubscription {
            pace_days: 7,
            ..new(course.id, None, "ada@example.org")
        };
        assert_eq!(
            store.subscribe(&stranger, 2 * DAY).await.unwrap(),
            Subscribed::AlreadyActive
        );
        let mine = store.subscription(mine.id).await.unwrap().unwrap();
        assert_eq!(mine.pace_days, 1);
        assert!(store.deliveries_of(mine.id).await.unwrap().is_empty());

        // Ada herself may change it; her place stays.
        store
            .queue_unit_delivery(
                mine.id,
                store.units(course.id).await.unwrap()[0].id,
                1,
                11 * DAY,
                10 * DAY,
            )
            .await
            .unwrap();
        let Subscribed::Active(again) = store
            .subscribe(
                &NewSubscription {
                    pace_days: 2,
                    ..new(course.id, Some(ada), "ada@example.org")
                },
                10 * DAY,
            )
            .await
            .unwrap()
        else {
            panic!("changed");
        };
        assert_eq!((again.id, again.pace_days, again.place), (mine.id, 2, 1));

        // Deleting her account takes her subscription and its deliveries along.
        assert!(store.delete_user(ada, true).await.unwrap());
        assert_eq!(store.subscription(mine.id).await.unwrap(), None);
        assert!(store.deliveries_of(mine.id).await.unwrap().is_empty());
    })
    .await;
}

#[tokio::test]
async fn a_unit_is_queued_once_and_an_interrupted_send_is_never_repeated() {
    on_each_backend(|store| async move {
        let course = create_course(&store, "Tides", 1, 2).await;
        let units = store.units(course.id).await.unwrap();
        let ada = person(&store, "ada@example.org", "Ada").await;
        let mine = active(&store, course.id, ada).await;

        let first = store
            .queue_unit_delivery(mine.id, units[0].id, 1, 11 * DAY, 10 * DAY)
            .await
            .unwrap()
            .expect("queued");
        assert_eq!(
            store
                .queue_unit_delivery(mine.id, units[0].id, 1, 11 * DAY, 10 * DAY)
                .await
                .unwrap(),
            None,
            "the same unit twice"
        );
        let now = store.subscription(mine.id).await.unwrap().unwrap();
        assert_eq!((now.place, now.next_at), (1, Some(11 * DAY)));
        assert_eq!(
            first_due(&store, 10 * DAY).await,
            Some(Task::Deliver(first))
        );

        // A worker marks it, then dies before recording the server's answer: the next worker finds
        // it `sending` and records it as unknown instead of sending it again.
        assert!(store.begin_delivery(first).await.unwrap());
        assert!(!store.begin_delivery(first).await.unwrap());
        let delivery = store.delivery(first).await.unwrap().unwrap();
        assert_eq!(delivery.state, DeliveryState::Unknown);
        assert_eq!(delivery.attempts, 1);
        assert!(
            !store.begin_delivery(first).await.unwrap(),
            "and never again"
        );

        let second = store
            .queue_unit_delivery(mine.id, units[1].id, 2, 12 * DAY, 11 * DAY)
            .await
            .unwrap()
            .unwrap();
        assert!(store.begin_delivery(second).await.unwrap());
        store
            .end_delivery(second, Outcome::Sent("250 2.0.0 OK"), 11 * DAY)
            .await
            .unwrap();
        let delivery = store.delivery(second).await.unwrap().unwrap();
        assert_eq!(delivery.state, DeliveryState::Sent);
        assert_eq!(delivery.sent_at, Some(11 * DAY));
        assert_eq!(delivery.reply.as_deref(), Some("250 2.0.0 OK"));
        store.finish_subscription(mine.id, 12 * DAY).await.unwrap();
        let finished = store.subscription(mine.id).await.unwrap().unwrap();
        assert_eq!(
            (finished.state, finished.next_at),
            (SubscriptionState::Finished, None)
        );
        let last = store.deliveries_of(mine.id).await.unwrap().pop().unwrap();
        assert_eq!(
            (last.kind, last.state),
            (DeliveryKind::Finished, DeliveryState::Queued)
        );
        let outbox = store.outbox(10).await.unwrap();
        assert_eq!(outbox.len(), 3);
        assert_eq!(outbox[1].delivery.id, second);
        assert_eq!(outbox[0].email.as_deref(), Some("ada@example.org"));
        assert_eq!(outbox[0].course_slug.as_deref(), Some(course.slug.as_str()));
    })
    .await;
}

#[tokio::test]
async fn refusals_in_a_row_stop_a_drip_and_a_sent_message_clears_them() {
    on_each_backend(|store| async move {
        let course = create_course(&store, "Tides", 1, 4).await;
        let units = store.units(course.id).await.unwrap();
        let ada = person(&store, "ada@example.org", "Ada").await;
        let mine = active(&store, course.id, ada).await;
        let refuse = |id| {
            let store = store.clone();
            async move {
                assert!(store.begin_delivery(id).await.unwrap());
                let reply = "550 5.1.1 no such mailbox";
                store
                    .end_delivery(
                        id,
                        Outcome::Failed {
                            reply,
                            bounce_limit: 2,
                        },
                        5,
                    )
                    .await
                    .unwrap();
            }
        };
        let one = store
            .queue_unit_delivery(mine.id, units[0].id, 1, 2 * DAY, DAY)
            .await
            .unwrap()
            .unwrap();
        refuse(one).await;
        assert_eq!(
            store.subscription(mine.id).await.unwrap().unwrap().bounces,
            1
        );
        let two = store
            .queue_unit_delivery(mine.id, units[1].id, 2, 3 * DAY, 2 * DAY)
            .await
            .unwrap()
            .unwrap();
        assert!(store.begin_delivery(two).await.unwrap());
        store
            .end_delivery(two, Outcome::Sent("250 OK"), 6)
            .await
            .unwrap();
        assert_eq!(
            store.subscription(mine.id).await.unwrap().unwrap().bounces,
            0
        );

        let three = store
            .queue_unit_delivery(mine.id, units[2].id, 3, 4 * DAY, 3 * DAY)
            .await
            .unwrap()
            .unwrap();
        refuse(three).await;
        assert_eq!(
            store.subscription(mine.id).await.unwrap().unwrap().state,
            SubscriptionState::Active
        );
        // A second refusal in a row (the limit here is 2) stops it, saying why.
        let four = store
            .queue_unit_delivery(mine.id, units[3].id, 4, 5 * DAY, 4 * DAY)
            .await
            .unwrap()
            .unwrap();
        refuse(four).await;
        let stopped = store.subscription(mine.id).await.unwrap().unwrap();
        assert_eq!(stopped.state, SubscriptionState::Stopped);
        assert_eq!(stopped.next_at, None);
        let why = stopped.stopped_why.unwrap();
        assert!(why.contains("550 5.1.1 no such mailbox"), "{why}");
        // A stopped drip is not finished: no closing mail.
        store.finish_subscription(mine.id, 5 * DAY).await.unwrap();
        assert_eq!(store.deliveries_of(mine.id).await.unwrap().len(), 4);

        let key = store
            .site_key("mail-links", || "a".repeat(64))
            .await
            .unwrap();
        assert_eq!(key, "a".repeat(64));
        let again = store
            .site_key("mail-links", || "b".repeat(64))
            .await
            .unwrap();
        assert_eq!(again, key, "made once, then the same for every node");
    })
    .await;
}

/// Finishes every generation of the course that is not ready, as the worker would, until none is
/// left (a unit's quiz is made when its unit is stored).
async fn write_everything(store: &Store, course_id: i64) {
    let quiz = crate::helpers::quiz();
    loop {
        let left: Vec<_> = store
            .generations(course_id)
            .await
            .unwrap()
            .into_iter()
            .filter(|generation| generation.status != Status::Ready)
            .collect();
        if left.is_empty() {
            return;
        }
        for generation in left {
            let output = match generation.kind {
                ItemKind::Overview => Output::Overview("An overview."),
                ItemKind::Unit => Output::Unit("A unit's text."),
                ItemKind::Quiz => Output::Quiz(&quiz),
                ItemKind::Rewrite => Output::Rewrite("A unit's new text."),
                ItemKind::Outline => panic!("the outline left"),
            };
            store
                .finish_generation(generation.id, output, &stats(), None)
                .await
                .unwrap();
        }
    }
}

#[tokio::test]
async fn a_course_s_maker_is_told_once_when_its_last_piece_is_written_unless_they_said_no() {
    on_each_backend(|store| async move {
        let ada = person(&store, "ada@example.org", "Ada").await;
        let course = made_by(&store, ada, &outline("Tides", 1, 2)).await;
        let unit = store.units(course.id).await.unwrap()[0].clone();
        let generation = store
            .generation_of(ItemKind::Unit, unit.id)
            .await
            .unwrap()
            .unwrap();
        store
            .finish_generation(generation.id, Output::Unit("Text."), &stats(), None)
            .await
            .unwrap();
        assert!(
            store.outbox(10).await.unwrap().is_empty(),
            "not while anything is left"
        );

        write_everything(&store, course.id).await;
        let outbox = store.outbox(10).await.unwrap();
        assert_eq!(outbox.len(), 1);
        let ready = &outbox[0];
        assert_eq!(ready.delivery.kind, DeliveryKind::Ready);
        assert_eq!(
            (ready.delivery.user_id, ready.delivery.course_id),
            (Some(ada), Some(course.id))
        );
        assert_eq!(ready.email.as_deref(), Some("ada@example.org"));
        assert_eq!(ready.course_slug.as_deref(), Some(course.slug.as_str()));
        let mut due = Vec::new();
        while let Some(job) = store
            .claim("test", Duration::from_secs(60), lyceum_store::now_ms())
            .await
            .unwrap()
        {
            due.push(job.task);
        }
        assert!(due.contains(&Task::Deliver(ready.delivery.id)), "{due:?}");

        // A rewrite finished later tells nobody again.
        store
            .request_rewrite(unit.id, None, lyceum_store::now_ms())
            .await
            .unwrap();
        write_everything(&store, course.id).await;
        assert_eq!(store.outbox(10).await.unwrap().len(), 1);

        // Said no: nothing for the next course; a course with no maker tells nobody.
        store.set_ready_mail(ada, false).await.unwrap();
        assert!(!store.ready_mail(ada).await.unwrap());
        let next = made_by(&store, ada, &outline("Tides", 1, 2)).await;
        write_everything(&store, next.id).await;
        let nobody_s = create_course(&store, "Bridges", 1, 1).await;
        write_everything(&store, nobody_s.id).await;
        assert_eq!(store.outbox(10).await.unwrap().len(), 1);
    })
    .await;
}

#[tokio::test]
async fn an_address_is_confirmed_only_while_it_is_the_account_s() {
    on_each_backend(|store| async move {
        let ada = person(&store, "ada@example.org", "Ada").await;
        assert_eq!(store.email_verified_at(ada).await.unwrap(), None);
        let queued = store
            .queue_account_mail(DeliveryKind::Verify, ada, "verify-1", 5_000)
            .await
            .unwrap();
        assert!(queued.is_some());
        assert_eq!(
            store
                .queue_account_mail(DeliveryKind::Verify, ada, "verify-1", 6_000)
                .await
                .unwrap(),
            None,
            "one delivery per key"
        );
        assert!(
            !store
                .verify_email(ada, "eve@example.org", 7_000)
                .await
                .unwrap()
        );
        assert_eq!(store.email_verified_at(ada).await.unwrap(), None);
        assert!(
            store
                .verify_email(ada, "ada@example.org", 7_000)
                .await
                .unwrap()
        );
        assert!(
            store
                .verify_email(ada, "ada@example.org", 9_000)
                .await
                .unwrap()
        );
        assert_eq!(
            store.email_verified_at(ada).await.unwrap(),
            Some(7_000),
            "the first confirmation's time stays"
        );
    })
    .await;
}
