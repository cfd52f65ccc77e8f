//! The job queue: claims, leases, retries and dedupe keys.

use std::collections::HashSet;
use std::time::Duration;

use lyceum_store::{Job, NewJob, Status, Store, Task};

use crate::helpers::on_each_backend;

/// A job that drafts the draft `name` (the queue does not look at what a task refers to).
fn job(name: &str, run_at: i64) -> NewJob {
    NewJob::new(Task::Draft(name.into()), 0, run_at)
}

/// The name of a job made by [`job`].
fn name(job: Job) -> String {
    match job.task {
        Task::Draft(name) => name,
        other => panic!("not a test job: {other:?}"),
    }
}

const NOW: i64 = 1_800_000_000_000;
const LEASE: Duration = Duration::from_secs(30);

#[tokio::test]
async fn two_workers_claiming_at_once_never_get_the_same_job() {
    on_each_backend(|store| async move {
        for n in 0..60 {
            store
                .enqueue(&job(&n.to_string(), NOW))
                .await
                .unwrap()
                .unwrap();
        }
        let workers: Vec<_> = (0..6)
            .map(|w| {
                let store: Store = store.clone();
                tokio::spawn(async move {
                    let mut mine = Vec::new();
                    while let Some(job) = store
                        .claim(&format!("worker-{w}"), LEASE, NOW)
                        .await
                        .unwrap()
                    {
                        mine.push(name(job));
                    }
                    mine
                })
            })
            .collect();
        let mut all = Vec::new();
        for worker in workers {
            all.extend(worker.await.unwrap());
        }
        let distinct: HashSet<&String> = all.iter().collect();
        assert_eq!(all.len(), 60, "every job claimed once");
        assert_eq!(distinct.len(), 60, "no job claimed twice");
    })
    .await;
}

#[tokio::test]
async fn an_expired_lease_is_taken_again_and_the_first_worker_loses_it() {
    on_each_backend(|store| async move {
        store.enqueue(&job("a", NOW)).await.unwrap();
        let first = store.claim("dead", LEASE, NOW).await.unwrap().unwrap();
        assert_eq!(first.attempts, 1);
        assert_eq!(
            store.claim("other", LEASE, NOW + 29_999).await.unwrap(),
            None
        );
        assert_eq!(store.next_due().await.unwrap(), Some(NOW + 30_000));

        let again = store
            .claim("other", LEASE, NOW + 30_000)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((again.id, again.attempts), (first.id, 2));
        assert!(
            !store
                .extend_lease(first.id, "dead", LEASE, NOW + 30_001)
                .await
                .unwrap()
        );
        assert!(
            store
                .extend_lease(first.id, "other", LEASE, NOW + 30_001)
                .await
                .unwrap()
        );
        store.complete_job(again.id).await.unwrap();
        assert_eq!(store.next_due().await.unwrap(), None);
    })
    .await;
}

#[tokio::test]
async fn a_task_is_queued_once_until_its_job_is_done() {
    on_each_backend(|store| async move {
        let id = store.enqueue(&job("a", NOW)).await.unwrap();
        assert!(id.is_some());
        let urgent = NewJob::new(Task::Draft("a".into()), lyceum_store::jobs::URGENT, NOW);
        assert_eq!(store.enqueue(&urgent).await.unwrap(), None);
        store.enqueue(&job("b", NOW)).await.unwrap().unwrap();
        assert_eq!(store.job_count().await.unwrap(), 2);
        let claimed = store.claim("w", LEASE, NOW).await.unwrap().unwrap();
        assert_eq!(claimed.task, Task::Draft("a".into()));
        store.complete_job(claimed.id).await.unwrap();
        assert!(store.enqueue(&job("a", NOW)).await.unwrap().is_some());
    })
    .await;
}

#[tokio::test]
async fn a_job_of_a_kind_this_version_does_not_know_is_claimed_as_unknown_not_an_error() {
    on_each_backend(|store| async move {
        store
            .enqueue(&NewJob::new(
                Task::Unknown {
                    kind: "mail".into(),
                    payload: "42".into(),
                },
                0,
                NOW,
            ))
            .await
            .unwrap()
            .unwrap();
        let claimed = store.claim("w", LEASE, NOW).await.unwrap().unwrap();
        assert_eq!(
            claimed.task,
            Task::Unknown {
                kind: "mail".into(),
                payload: "42".into()
            }
        );
        store
            .enqueue(&NewJob::new(Task::Generate(7), 0, NOW))
            .await
            .unwrap()
            .unwrap();
        let claimed = store.claim("w", LEASE, NOW).await.unwrap().unwrap();
        assert_eq!(claimed.task, Task::Generate(7));
    })
    .await;
}

#[tokio::test]
async fn a_failed_job_waits_for_its_backoff_with_its_item_pending_and_a_released_one_does_not() {
    on_each_backend(|store| async move {
        let course = crate::helpers::create_course(&store, "Backoff", 1, 1).await;
        let now = lyceum_store::now_ms();
        let claimed = store.claim("w", LEASE, now).await.unwrap().unwrap();
        let Task::Generate(generation) = claimed.task else {
            panic!("{claimed:?}")
        };
        store.start_generation(generation).await.unwrap();
        // Another worker's name changes nothing.
        store
            .retry_generation_later(generation, claimed.id, "other", "overloaded", now + 5_000)
            .await
            .unwrap();
        assert_eq!(
            store.generation(generation).await.unwrap().status,
            Status::Generating
        );
        store
            .retry_generation_later(generation, claimed.id, "w", "overloaded", now + 5_000)
            .await
            .unwrap();
        let waiting = store.generation(generation).await.unwrap();
        assert_eq!(
            waiting.status,
            Status::Pending,
            "not shown as being written"
        );
        assert_eq!(waiting.error.as_deref(), Some("overloaded"));
        let listed = &store.list_courses(1, 0).await.unwrap()[0];
        assert_eq!(listed.course.id, course.id);
        // The course's other job is due; the retried one is not, until its backoff ends.
        while let Some(other) = store.claim("w", LEASE, now + 4_999).await.unwrap() {
            assert_ne!(other.id, claimed.id);
        }
        let retried = store.claim("w", LEASE, now + 5_000).await.unwrap().unwrap();
        assert_eq!(retried.attempts, 2);

        store.release_job(retried.id, "w").await.unwrap();
        let released = store.claim("w", LEASE, now + 5_000).await.unwrap().unwrap();
        assert_eq!(
            released.attempts, 2,
            "a release does not count as an attempt"
        );
    })
    .await;
}

#[tokio::test]
async fn urgent_jobs_run_first_and_the_rest_in_the_order_queued() {
    on_each_backend(|store| async move {
        for name in ["first", "second", "third"] {
            store.enqueue(&job(name, NOW)).await.unwrap();
        }
        assert!(
            store
                .prioritize(&Task::Draft("third".into()), lyceum_store::jobs::URGENT)
                .await
                .unwrap()
        );
        // A worker with no free slot still takes the job someone waits for, and only that one.
        let urgent = store.claim_urgent("w", LEASE, NOW).await.unwrap().unwrap();
        assert!(urgent.is_urgent());
        assert_eq!(name(urgent), "third");
        assert!(store.claim_urgent("w", LEASE, NOW).await.unwrap().is_none());
        let mut order = Vec::new();
        while let Some(job) = store.claim("w", LEASE, NOW).await.unwrap() {
            assert!(!job.is_urgent());
            order.push(name(job));
        }
        assert_eq!(order, ["first", "second"]);
    })
    .await;
}
