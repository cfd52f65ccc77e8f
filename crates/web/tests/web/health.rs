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

/// `/metrics` read as Prometheus reads it: every sample by its name and labels. Fails the test on a
/// line that is neither a comment nor `name{labels} value`.
async fn metrics(web: &crate::helpers::TestWeb) -> std::collections::HashMap<String, f64> {
    let page = web.get("/metrics").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text"),
        "{:?}",
        page.headers
    );
    assert!(page.html.ends_with("# EOF\n"), "{}", page.html);
    let mut samples = std::collections::HashMap::new();
    for line in page.html.lines().filter(|line| !line.starts_with('#')) {
        let (series, value) = line
            .rsplit_once(' ')
            .unwrap_or_else(|| panic!("not a sample: {line}"));
        let name_ends = series.find('{').unwrap_or(series.len());
        assert!(
            series[..name_ends]
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
                && (name_ends == series.len() || series.ends_with('}')),
            "not a series: {line}"
        );
        let value: f64 = value
            .parse()
            .unwrap_or_else(|_| panic!("not a number: {line}"));
        samples.insert(series.to_owned(), value);
    }
    samples
}

#[tokio::test]
async fn metrics_count_requests_cache_hits_tokens_and_the_queue() {
    let web = spawn_web().await;
    let course = web.course("How bridges carry their loads", 1, 2).await;
    let before = metrics(&web).await;
    assert_eq!(
        before.get(r#"lyceum_jobs{kind="generate",state="waiting"}"#),
        Some(&3.0),
        "an overview and two units queued: {before:?}"
    );
    web.drain_jobs().await;
    let page = format!("/courses/{}", course.slug);
    for _ in 0..3 {
        assert_eq!(web.get(&page).await.status, StatusCode::OK);
    }
    let after = metrics(&web).await;
    let requests =
        r#"lyceum_http_requests_total{route="/courses/{slug}",method="GET",status="200"}"#;
    assert_eq!(after.get(requests), Some(&3.0), "{after:?}");
    assert_eq!(
        after.get(r#"lyceum_http_request_duration_seconds_count{route="/courses/{slug}"}"#),
        Some(&3.0)
    );
    assert_eq!(
        after.get(r#"lyceum_page_cache_lookups_total{result="hit"}"#),
        Some(&2.0),
        "the first view renders, the next two come from the cache"
    );
    assert!(
        !after.contains_key(r#"lyceum_jobs{kind="generate",state="waiting"}"#),
        "the queue is empty: {after:?}"
    );
    let tokens = after
        .get(r#"lyceum_generated_tokens_total{engine="openai"}"#)
        .copied()
        .unwrap_or(0.0);
    assert!(
        tokens > 0.0,
        "the overview, units and quizzes made tokens: {after:?}"
    );
    assert_eq!(
        after.get(r#"lyceum_http_requests_total{route="/metrics",method="GET",status="200"}"#),
        Some(&1.0),
        "the first scrape is counted once it is answered"
    );
}
