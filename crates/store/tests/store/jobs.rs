//! The job queue: claims, leases, retries and dedupe keys.

use std::collections::HashSet;
use std::time::Duration;

use lyceum_store::{NewJob, Status, Store};

use crate::helpers::on_each_backend;

fn job(payload: &str, key: Option<&str>, run_at: i64) -> NewJob {
    NewJob {
        kind: "test".into(),
        payload: payload.into(),
        dedupe_key: key.map(Into::into),
        priority: 0,
        run_at,
    }
}

const NOW: i64 = 1_800_000_000_000;
const LEASE: Duration = Duration::from_secs(30);

#[tokio::test]
async fn two_workers_claiming_at_once_never_get_the_same_job() {
    on_each_backend(|store| async move {
        for n in 0..60 {
            store
                .enqueue(&job(&n.to_string(), None, NOW))
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
                        mine.push(job.payload);
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
        store.enqueue(&job("a", None, NOW)).await.unwrap();
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
async fn a_dedupe_key_stops_a_duplicate_until_the_first_is_done() {
    on_each_backend(|store| async move {
        let id = store.enqueue(&job("a", Some("unit:7"), NOW)).await.unwrap();
        assert!(id.is_some());
        assert_eq!(
            store.enqueue(&job("b", Some("unit:7"), NOW)).await.unwrap(),
            None
        );
        assert_eq!(store.job_count().await.unwrap(), 1);
        let claimed = store.claim("w", LEASE, NOW).await.unwrap().unwrap();
        assert_eq!(claimed.payload, "a");
        store.complete_job(claimed.id).await.unwrap();
        assert!(
            store
                .enqueue(&job("c", Some("unit:7"), NOW))
                .await
                .unwrap()
                .is_some()
        );
    })
    .await;
}

#[tokio::test]
async fn a_failed_job_waits_for_its_backoff_with_its_item_pending_and_a_released_one_does_not() {
    on_each_backend(|store| async move {
        let course = crate::helpers::create_course(&store, "Backoff", 1, 1).await;
        let now = lyceum_store::now_ms();
        let claimed = store.claim("w", LEASE, now).await.unwrap().unwrap();
        let generation: i64 = claimed.payload.parse().unwrap();
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
            store.enqueue(&job(name, Some(name), NOW)).await.unwrap();
        }
        assert!(
            store
                .prioritize("third", lyceum_store::jobs::URGENT)
                .await
                .unwrap()
        );
        let mut order = Vec::new();
        while let Some(job) = store.claim("w", LEASE, NOW).await.unwrap() {
            order.push(job.payload);
        }
        assert_eq!(order, ["third", "first", "second"]);
    })
    .await;
}
