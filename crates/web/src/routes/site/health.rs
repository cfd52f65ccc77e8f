//! `/healthz` (the process answers), `/readyz` (it can do its work: the database answers and has
//! every migration, and this process's worker, if it runs one, reaches its queue) and `/metrics`
//! (Prometheus). A load balancer
//! sends traffic by `/readyz`; the answer names what is wrong, never an error's details (those are
//! logged).

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use lyceum_app::worker::WorkerStatus;
use serde_json::json;

use crate::Web;

/// How long `/readyz` waits for the database.
const DATABASE_WAIT: Duration = Duration::from_secs(2);

/// `GET /healthz`.
pub async fn healthz() -> &'static str {
    "ok"
}

/// `GET /readyz`: 200 when ready, 503 with what is wrong.
pub async fn readyz(State(web): State<Web>) -> Response {
    let database = match tokio::time::timeout(DATABASE_WAIT, web.app.store.readiness()).await {
        Ok(Ok(missing)) if missing.is_empty() => "ok".to_owned(),
        Ok(Ok(missing)) => format!(
            "{} migration(s) missing; run `lyceum migrate`",
            missing.len()
        ),
        Ok(Err(error)) => {
            tracing::warn!(%error, "readiness: the database cannot be reached");
            "unreachable".to_owned()
        }
        Err(_) => "not answering".to_owned(),
    };
    let worker = match web.app.worker_health.status() {
        WorkerStatus::NotRunning => "not running here".to_owned(),
        WorkerStatus::Working => "ok".to_owned(),
        WorkerStatus::Failing { for_secs, error } => {
            tracing::warn!(%error, for_secs, "readiness: the worker cannot reach its queue");
            format!("cannot reach the job queue (for {for_secs} s)")
        }
    };
    let ready = database == "ok" && !worker.starts_with("cannot");
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(json!({"ready": ready, "database": database, "worker": worker})),
    )
        .into_response()
}

/// `GET /metrics`: every metric in the OpenMetrics text format Prometheus reads.
pub async fn metrics(State(web): State<Web>) -> Result<Response, crate::WebError> {
    let text = web.app.metrics_text().await?;
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            lyceum_app::metrics::CONTENT_TYPE,
        )],
        text,
    )
        .into_response())
}
