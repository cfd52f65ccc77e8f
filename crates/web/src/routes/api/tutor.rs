//! The tutor over the JSON API: a learner's conversation about a unit (with their API token), sent
//! messages answered as Server-Sent Events like the page's, and clearing it.

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use crate::Web;
use crate::auth::ApiUser;
use crate::error::JsonError;
use crate::extract::ApiParams;
use crate::routes::courses::tutor::{self, ChatList};

/// `GET /api/courses/{slug}/weeks/{week}/units/{unit}/chat`: the caller's conversation about the
/// unit, oldest message first, and where it stands.
pub async fn list(
    State(web): State<Web>,
    ApiUser(user): ApiUser,
    ApiParams((slug, week, number)): ApiParams<(String, i64, i64)>,
) -> Result<Json<ChatList>, JsonError> {
    Ok(Json(tutor::list(&web, &user, &slug, week, number).await?))
}

/// What a client sends the tutor.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChatRequest {
    /// `send` (the default: `text` is a question, or the answer to a test question), `test`, `stop`,
    /// `exercise`, `reading` or `retry`.
    #[serde(default)]
    action: Option<String>,
    #[serde(default)]
    text: Option<String>,
}

/// `POST /api/courses/{slug}/weeks/{week}/units/{unit}/chat`: a message or a button; the answer is an
/// event stream (`message`, `partial`, `failed`, `end`).
pub async fn send(
    State(web): State<Web>,
    ApiUser(user): ApiUser,
    ApiParams((slug, week, number)): ApiParams<(String, i64, i64)>,
    body: Result<Json<ChatRequest>, JsonRejection>,
) -> Result<Response, JsonError> {
    let Json(body) = body?;
    let ask = tutor::ask_of(
        body.action.as_deref().unwrap_or("send"),
        body.text.unwrap_or_default(),
    )?;
    Ok(tutor::stream(&web, &user, &slug, week, number, ask).await?)
}

/// `DELETE /api/courses/{slug}/weeks/{week}/units/{unit}/chat`: forgets the caller's conversation
/// about the unit.
pub async fn clear(
    State(web): State<Web>,
    ApiUser(user): ApiUser,
    ApiParams((slug, week, number)): ApiParams<(String, i64, i64)>,
) -> Result<StatusCode, JsonError> {
    let (_, _, unit_id) = tutor::find(&web, &user, &slug, week, number).await?;
    lyceum_app::tutor::clear(&web.app, &user, unit_id)
        .await
        .map_err(crate::WebError::from)?;
    Ok(StatusCode::NO_CONTENT)
}
