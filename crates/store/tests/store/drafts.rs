//! Drafts as rows: created with their job, drafted piece by piece, confirmed once, forgotten after a
//! day; and the change feed that lets any node follow them.

use std::time::Duration;

use lyceum_course::{OutlinePiece, OutlineSoFar};
use lyceum_store::drafts::Drafted;
use lyceum_store::{Change, DraftRefused, DraftStatus, NewCourse, Store, StoreError, Task};

use crate::helpers::{
    anonymous, next_change, on_each_backend, outline, postgres_admin_url, postgres_database,
    request, stats,
};

const LEASE: Duration = Duration::from_secs(60);

/// A draft drafted to the end by hand, as a worker would, in a store with no other job; its id.
async fn ready_draft(store: &Store, owner: &str) -> String {
    let id = store
        .create_draft(&anonymous(owner, &request(2, 2), 0))
        .await
        .unwrap()
        .unwrap();
    let job = store
        .claim("w", LEASE, lyceum_store::now_ms())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(job.task, Task::Draft(id.clone()));
    store
        .finish_draft(
            &id,
            Drafted::Ready(&outline("Tides", 2, 2), &stats()),
            Some(job.id),
        )
        .await
        .unwrap();
    id
}

#[tokio::test]
async fn a_draft_is_queued_drafted_piece_by_piece_and_announced_at_every_step() {
    on_each_backend(|store| async move {
        let mut changes = store.changes().await.unwrap();
        let id = store
            .create_draft(&anonymous("198.51.100.4", &request(2, 2), 1))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(id.len(), 32, "{id}");
        assert_eq!(
            next_change(&mut changes).await,
            Change::Queued,
            "workers are woken"
        );
        let draft = store.draft(&id).await.unwrap();
        assert_eq!(draft.status, DraftStatus::Drafting);
        assert_eq!(draft.request, request(2, 2));
        assert_eq!(draft.so_far, OutlineSoFar::default());

        let job = store
            .claim("w", LEASE, lyceum_store::now_ms())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(job.task, Task::Draft(id.clone()));
        assert_eq!(
            store.start_drafting(&id).await.unwrap().status,
            DraftStatus::Drafting
        );
        assert_eq!(next_change(&mut changes).await, Change::Draft(id.clone()));

        let mut so_far = OutlineSoFar::default();
        so_far.apply(OutlinePiece::Title("Tides".into()));
        so_far.apply(OutlinePiece::Week(1, "Springs".into()));
        store.draft_progress(&id, &so_far).await.unwrap();
        assert_eq!(next_change(&mut changes).await, Change::Draft(id.clone()));
        assert_eq!(store.draft(&id).await.unwrap().so_far, so_far);

        let drafted = outline("Tides", 2, 2);
        store
            .finish_draft(&id, Drafted::Ready(&drafted, &stats()), Some(job.id))
            .await
            .unwrap();
        assert_eq!(next_change(&mut changes).await, Change::Draft(id.clone()));
        let draft = store.draft(&id).await.unwrap();
        assert_eq!(draft.status, DraftStatus::Ready);
        assert_eq!(draft.outline.as_ref(), Some(&drafted));
        assert_eq!(draft.stats, Some(stats()));
        assert_eq!(draft.so_far, drafted.so_far(), "every title shows");
        assert_eq!(store.job_count().await.unwrap(), 0, "the job is done");

        // A late worker (one that lost its lease) changes nothing any more.
        store.draft_progress(&id, &so_far).await.unwrap();
        store
            .finish_draft(&id, Drafted::Failed("late"), None)
            .await
            .unwrap();
        assert_eq!(store.draft(&id).await.unwrap(), draft);
    })
    .await;
}

#[tokio::test]
async fn an_owner_may_have_so_many_drafts_drafting_and_a_refused_one_stores_nothing() {
    on_each_backend(|store| async move {
        let owner = "203.0.113.7";
        let first = store
            .create_draft(&anonymous(owner, &request(1, 1), 2))
            .await
            .unwrap()
            .unwrap();
        store
            .create_draft(&anonymous(owner, &request(1, 1), 2))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            store
                .create_draft(&anonymous(owner, &request(1, 1), 2))
                .await
                .unwrap(),
            Err(DraftRefused::Drafting)
        );
        assert_eq!(
            store.job_count().await.unwrap(),
            2,
            "no job for the refused one"
        );
        assert!(
            store
                .create_draft(&anonymous("192.0.2.1", &request(1, 1), 2))
                .await
                .unwrap()
                .is_ok(),
            "another owner has places of their own"
        );
        store
            .finish_draft(&first, Drafted::Failed("the model is away"), None)
            .await
            .unwrap();
        assert!(
            store
                .create_draft(&anonymous(owner, &request(1, 1), 2))
                .await
                .unwrap()
                .is_ok(),
            "a finished draft frees its place"
        );
        let failed = store.draft(&first).await.unwrap();
        assert_eq!(failed.status, DraftStatus::Failed);
        assert_eq!(failed.error.as_deref(), Some("the model is away"));
        let refused = store
            .confirm_draft(
                &first,
                NewCourse {
                    request: &failed.request,
                    outline: &outline("Failed", 1, 1),
                    outline_stats: &stats(),
                },
            )
            .await;
        assert!(
            matches!(refused, Err(StoreError::Conflict(_))),
            "{refused:?}"
        );
        assert_eq!(store.course_count().await.unwrap(), 0);
    })
    .await;
}

#[tokio::test]
async fn two_confirmations_at_once_make_one_course_and_both_get_it() {
    on_each_backend(|store| async move {
        let id = ready_draft(&store, "198.51.100.4").await;
        let draft = store.draft(&id).await.unwrap();
        let edited = outline("Tides, edited", 2, 1);
        let confirm = |title: &'static str| {
            let (store, draft, edited) = (store.clone(), draft.clone(), edited.clone());
            async move {
                let mut outline = edited;
                outline.title = title.into();
                store
                    .confirm_draft(
                        &draft.id,
                        NewCourse {
                            request: &draft.request,
                            outline: &outline,
                            outline_stats: &stats(),
                        },
                    )
                    .await
                    .unwrap()
            }
        };
        let (first, second) = tokio::join!(
            tokio::spawn(confirm("Tides, first")),
            tokio::spawn(confirm("Tides, second"))
        );
        let (first, second) = (first.unwrap(), second.unwrap());
        assert_eq!(first, second);
        assert_eq!(store.course_count().await.unwrap(), 1);
        let confirmed = store.draft(&id).await.unwrap();
        assert_eq!(confirmed.status, DraftStatus::Confirmed);
        assert_eq!(confirmed.course.as_deref(), Some(first.slug.as_str()));
        // Each week's overview and its one unit are queued, once, and the course's vector.
        assert_eq!(store.job_count().await.unwrap(), 4 + 1);
    })
    .await;
}

#[tokio::test]
async fn drafts_older_than_the_cutoff_are_forgotten_with_their_jobs() {
    on_each_backend(|store| async move {
        let ready = ready_draft(&store, "198.51.100.4").await;
        let drafting = store
            .create_draft(&anonymous("198.51.100.4", &request(1, 1), 0))
            .await
            .unwrap()
            .unwrap();
        let first = store.draft(&ready).await.unwrap().created_at;
        let last = store.draft(&drafting).await.unwrap().created_at;
        assert_eq!(store.forget_drafts(first).await.unwrap(), 0, "none older");
        assert_eq!(store.forget_drafts(last + 1).await.unwrap(), 2);
        for id in [ready, drafting] {
            assert!(matches!(
                store.draft(&id).await,
                Err(StoreError::NotFound(_))
            ));
        }
        assert_eq!(
            store.job_count().await.unwrap(),
            0,
            "the drafting one's job went with it"
        );
    })
    .await;
}

#[tokio::test]
async fn a_change_made_through_one_node_s_store_reaches_another_node_s_followers() {
    // One SQLite database is one process, whose store tells its own followers (tested above).
    let Some(admin_url) = postgres_admin_url() else {
        return;
    };
    let (writer, url, drop_database) = postgres_database(&admin_url).await;
    let reader = Store::open(&url).await.unwrap();
    let mut changes = reader.changes().await.unwrap();
    let mut second_follower = reader.changes().await.unwrap();
    let id = writer
        .create_draft(&anonymous("198.51.100.4", &request(1, 1), 0))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(next_change(&mut changes).await, Change::Queued);
    writer.start_drafting(&id).await.unwrap();
    assert_eq!(next_change(&mut changes).await, Change::Draft(id.clone()));
    assert_eq!(next_change(&mut second_follower).await, Change::Queued);
    assert_eq!(
        next_change(&mut second_follower).await,
        Change::Draft(id.clone()),
        "one listener serves every follower of a process"
    );
    // What the writer committed is what the follower reads.
    let mut so_far = OutlineSoFar::default();
    so_far.apply(OutlinePiece::Title("Tides".into()));
    writer.draft_progress(&id, &so_far).await.unwrap();
    assert_eq!(next_change(&mut changes).await, Change::Draft(id.clone()));
    assert_eq!(reader.draft(&id).await.unwrap().so_far, so_far);
    writer.close().await;
    reader.close().await;
    drop_database.await;
}
