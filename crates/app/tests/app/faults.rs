//! Faults at the network edge: a model server that stalls, drops the connection mid-answer, sends
//! an event that is not JSON, or asks to slow down. The course is still written whole, each item once.

use std::time::Duration;

use lyceum_app::live::LiveEvent;
use lyceum_store::{ItemKind, Status};
use lyceum_testkit::Action;

use crate::helpers::spawn_app_with;

#[tokio::test]
async fn a_course_is_written_whole_through_stalls_dropped_connections_broken_events_and_429s() {
    let test = spawn_app_with(|settings| {
        settings.worker.concurrency = 2;
        // A stalled answer is given up after a second (the real default is two minutes).
        settings.engine.openai.idle_timeout_secs = 1;
        // The engine honours Retry-After once itself; the worker retries everything else.
        settings.engine.openai.max_retries = 1;
        settings.worker.max_attempts = 3;
    })
    .await;
    test.model.script("unit 1.1", Action::Stall);
    test.model.script("unit 1.2", Action::Close);
    test.model.script("unit 2.1", Action::BrokenEvent);
    test.model.script("unit 2.2", Action::RateLimited(1));
    test.model.script("overview 2", Action::Close);
    test.model.script("quiz", Action::BrokenEvent);
    let (_, course) = test.confirmed_course(2, 2).await;
    test.drain_jobs().await;

    let generations = test.app.store.generations(course.id).await.unwrap();
    assert_eq!(generations.len(), 1 + 2 + 4 + 4);
    for generation in &generations {
        assert_eq!(generation.status, Status::Ready, "{generation:?}");
    }
    assert_eq!(test.app.store.job_count().await.unwrap(), 0);
    for unit in test.app.store.units(course.id).await.unwrap() {
        let body = unit.body.unwrap();
        assert_eq!(
            body.matches("explains its subject from the ground up")
                .count(),
            1,
            "a broken answer's start is not kept in front of the next one: {body}"
        );
    }
    for key in ["unit 1.1", "unit 1.2", "unit 2.1", "unit 2.2"] {
        let (calls, completed) = test.model.count(key);
        assert_eq!(completed, 1, "{key}: written once");
        assert_eq!(calls, 2, "{key}: the fault, then the answer");
    }
    let quizzes = test.app.store.quizzes(course.id).await.unwrap();
    assert_eq!(quizzes.len(), 4, "one quiz per unit");
    // Each broken answer came after the response began, so the worker (not the HTTP client) tried
    // the item again; the 429 was waited out by the engine within one try.
    let tries = |kind: ItemKind| -> Vec<i64> {
        generations
            .iter()
            .filter(|generation| generation.kind == kind)
            .map(|generation| generation.attempts)
            .collect()
    };
    assert_eq!(tries(ItemKind::Unit), [2, 2, 2, 1], "{generations:?}");
    assert_eq!(tries(ItemKind::Overview), [1, 2], "{generations:?}");
    assert_eq!(
        tries(ItemKind::Quiz)
            .iter()
            .filter(|&&attempts| attempts == 2)
            .count(),
        1,
        "{generations:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_whose_lease_was_taken_stops_writing_and_saves_nothing() {
    let test = spawn_app_with(|settings| {
        settings.worker.concurrency = 1;
        settings.worker.lease_secs = 1;
    })
    .await;
    test.model.script("unit 1.1", Action::Hold);
    let (_, course) = test.confirmed_course(1, 1).await;
    let (stop, worker) = test.worker_holding("unit 1.1").await;
    let unit = test.app.store.units(course.id).await.unwrap().remove(0);
    let generation = test
        .app
        .store
        .generation_of(ItemKind::Unit, unit.id)
        .await
        .unwrap()
        .unwrap();
    let mut live = test.app.hub.watch(generation.id);
    // The first piece of the held answer has reached the live text.
    while live.so_far.is_empty() {
        match live.events.recv().await.unwrap() {
            LiveEvent::Text(text) => live.so_far = text,
            other => panic!("{other:?} before any text"),
        }
    }

    // Another worker takes the job over, as after a stall past the lease.
    let database = test.app.settings.database_url();
    let pool = sqlx::SqlitePool::connect(&database).await.unwrap();
    let taken = sqlx::query(
        "UPDATE jobs SET locked_by = 'another worker', lease_until = $1 WHERE payload = $2",
    )
    .bind(lyceum_store::now_ms() + 600_000)
    .bind(generation.id.to_string())
    .execute(&pool)
    .await
    .unwrap()
    .rows_affected();
    assert_eq!(taken, 1);

    // At its next heartbeat the worker lets go: the text it had written is void.
    let dropped = async {
        loop {
            if live.events.recv().await.unwrap() == LiveEvent::Restart {
                return;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(30), dropped)
        .await
        .expect("the worker stops writing");
    test.model.release();
    let now = test.app.store.generation(generation.id).await.unwrap();
    assert_eq!(
        now.status,
        Status::Generating,
        "left to the worker that has it"
    );
    assert!(
        test.app.store.units(course.id).await.unwrap()[0]
            .body
            .is_none(),
        "nothing saved"
    );
    let _ = stop.send(());
    worker.await.unwrap().unwrap();
    pool.close().await;
}
