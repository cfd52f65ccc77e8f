//! `/healthz` and `/readyz`, and the worker under a database that goes away while the site serves.

use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use lyceum_app::worker::{Until, Worker, WorkerStatus};
use lyceum_store::Status;
use serde_json::{Value, json};

use crate::helpers::{spawn_web, spawn_web_with};

async fn readyz(web: &crate::helpers::TestWeb) -> (StatusCode, Value) {
    let page = web.get("/readyz").await;
    (page.status, serde_json::from_str(&page.html).unwrap())
}

#[tokio::test]
async fn a_node_is_ready_when_its_database_is_current() {
    let web = spawn_web().await;
    assert_eq!(web.get("/healthz").await.html, "ok");
    let (status, body) = readyz(&web).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"ready": true, "database": "ok", "worker": "not running here"})
    );
}

#[tokio::test]
async fn the_worker_outlives_a_database_outage_says_so_and_finishes_the_course() {
    let Some(database) = lyceum_testkit::postgres_database().await else {
        return;
    };
    let url = database.url.clone();
    let web = spawn_web_with(move |settings| {
        settings.database.url = url;
        settings.worker.concurrency = 2;
    })
    .await;
    let course = web.course("How bridges carry their loads", 1, 2).await;

    // The database stops taking connections and drops those it has, as in a restart.
    database
        .admin("ALTER DATABASE {name} ALLOW_CONNECTIONS false")
        .await;
    database
        .admin(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = '{name}' AND pid <> pg_backend_pid()",
        )
        .await;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let worker = tokio::spawn(Worker::new(web.clone_app()).run(Until::Shutdown, async {
        let _ = stopped.await;
    }));
    let within = |what: &'static str| {
        move |elapsed: tokio::time::error::Elapsed| panic!("{what} did not happen: {elapsed}")
    };
    tokio::time::timeout(
        Duration::from_secs(60),
        web.app
            .worker_health
            .wait_for(|status| matches!(status, WorkerStatus::Failing { .. })),
    )
    .await
    .unwrap_or_else(within("the worker reporting the outage"));
    assert!(!worker.is_finished(), "the worker kept going");
    let (status, body) = readyz(&web).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["ready"], false);
    assert_eq!(body["database"], "unreachable", "{body}");
    assert!(
        body["worker"]
            .as_str()
            .unwrap()
            .starts_with("cannot reach the job queue"),
        "{body}"
    );
    assert!(
        !body.to_string().contains(&database.name),
        "no details: {body}"
    );

    // Back: the worker notices by itself and writes the whole course.
    database
        .admin("ALTER DATABASE {name} ALLOW_CONNECTIONS true")
        .await;
    let app = Arc::clone(&web.app);
    let mut progress = app.hub.progress();
    let written = async {
        loop {
            let generations = app.store.generations(course.id).await;
            // The outline, the week's overview, two units and their quizzes.
            if generations.is_ok_and(|all| {
                all.len() == 6 && all.iter().all(|item| item.status == Status::Ready)
            }) {
                return;
            }
            let _ = progress.recv().await;
        }
    };
    tokio::time::timeout(Duration::from_secs(120), written)
        .await
        .unwrap_or_else(within("the course being written after the outage"));
    assert_eq!(app.worker_health.status(), WorkerStatus::Working);
    assert_eq!(readyz(&web).await.0, StatusCode::OK);

    let _ = stop.send(());
    worker.await.unwrap().unwrap();
    app.store.close().await;
    database.drop_database().await;
}
