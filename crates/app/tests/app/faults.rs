//! Faults at the network edge: a model server that stalls, drops the connection mid-answer, sends
//! an event that is not JSON, or asks to slow down. The course is still written whole, each item once.

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
