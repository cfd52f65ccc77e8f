//! The account an API token stands for, and what its owner can do with it through the API: check the
//! token, rename the account, list the courses it made, download its data, and look after its
//! sessions and tokens. Every request carries `Authorization: Bearer <token>`; a token reaches only
//! its own account. Passwords, passkeys, new tokens and deleting the account stay on the account
//! page, where the person is present.

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use lyceum_app::accounts::{self, AccountError};
use lyceum_app::dates::rfc3339;
use lyceum_store::{User, now_ms};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::courses::CourseItem;
use crate::Web;
use crate::auth::ApiUser;
use crate::error::JsonError;
use crate::extract::ApiParams;

/// An account, as the API shows it to its owner.
#[derive(Serialize)]
pub struct Me {
    id: i64,
    email: String,
    display_name: String,
    is_admin: bool,
}

impl From<User> for Me {
    fn from(user: User) -> Self {
        Self {
            id: user.id,
            email: user.email,
            display_name: user.display_name,
            is_admin: user.is_admin,
        }
    }
}

/// `GET /api/me`.
pub async fn get(ApiUser(user): ApiUser) -> Json<Me> {
    Json(Me::from(user))
}

/// What `PATCH /api/me` changes.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Change {
    display_name: String,
}

/// `PATCH /api/me`: renames the account (the name shown on its courses).
pub async fn update(
    State(web): State<Web>,
    ApiUser(mut user): ApiUser,
    change: Result<Json<Change>, JsonRejection>,
) -> Result<Json<Me>, JsonError> {
    let Json(change) = change?;
    user.display_name = match accounts::rename(&web.app.store, &user, &change.display_name).await {
        Ok(name) => name,
        Err(AccountError::Store(error)) => return Err(error.into()),
        Err(refused) => {
            return Err(JsonError::invalid(
                "the name was not saved",
                vec![json!({"field": "display_name", "message": refused.to_string()})],
            ));
        }
    };
    Ok(Json(Me::from(user)))
}

/// `GET /api/me/courses`: the courses the account made, newest first.
pub async fn courses(
    State(web): State<Web>,
    ApiUser(user): ApiUser,
) -> Result<Json<Vec<CourseItem>>, JsonError> {
    let made = web.app.store.courses_made_by(user.id).await?;
    Ok(Json(made.into_iter().map(CourseItem::from).collect()))
}

/// `GET /api/me/data`: everything stored about the person, as the account page's download.
pub async fn data(
    State(web): State<Web>,
    ApiUser(user): ApiUser,
) -> Result<Json<serde_json::Value>, JsonError> {
    Ok(Json(
        accounts::personal_data(&web.app.store, &user, &web.public_url).await?,
    ))
}

/// A session, as its owner sees it.
#[derive(Serialize)]
pub struct SessionItem {
    id: i64,
    /// The browser, in a few words ("Firefox on Linux").
    browser: String,
    started_at: String,
    last_seen_at: String,
    expires_at: String,
}

/// `GET /api/me/sessions`: where the account is signed in.
pub async fn sessions(
    State(web): State<Web>,
    ApiUser(user): ApiUser,
) -> Result<Json<Vec<SessionItem>>, JsonError> {
    let sessions = web.app.store.sessions(user.id, now_ms()).await?;
    Ok(Json(
        sessions
            .into_iter()
            .map(|session| SessionItem {
                id: session.id,
                browser: session.user_agent,
                started_at: rfc3339(session.created_at),
                last_seen_at: rfc3339(session.last_seen_at),
                expires_at: rfc3339(session.expires_at),
            })
            .collect(),
    ))
}

/// `DELETE /api/me/sessions/{id}`: signs that browser out.
pub async fn end_session(
    State(web): State<Web>,
    ApiUser(user): ApiUser,
    ApiParams(id): ApiParams<i64>,
) -> Result<Response, JsonError> {
    gone(web.app.store.end_session(user.id, id).await?, "session")
}

/// An API token, as its owner sees it (never the token itself).
#[derive(Serialize)]
pub struct TokenItem {
    id: i64,
    name: String,
    created_at: String,
    last_used_at: Option<String>,
}

/// `GET /api/me/tokens`: the account's API tokens.
pub async fn tokens(
    State(web): State<Web>,
    ApiUser(user): ApiUser,
) -> Result<Json<Vec<TokenItem>>, JsonError> {
    let tokens = web.app.store.api_tokens(user.id).await?;
    Ok(Json(
        tokens
            .into_iter()
            .map(|token| TokenItem {
                id: token.id,
                name: token.name,
                created_at: rfc3339(token.created_at),
                last_used_at: token.last_used_at.map(rfc3339),
            })
            .collect(),
    ))
}

/// `DELETE /api/me/tokens/{id}`: revokes a token, at once (this one too, if it is named).
pub async fn revoke_token(
    State(web): State<Web>,
    ApiUser(user): ApiUser,
    ApiParams(id): ApiParams<i64>,
) -> Result<Response, JsonError> {
    let revoked = web.app.store.delete_api_token(user.id, id).await?;
    if revoked {
        tracing::info!(
            user = user.id,
            token = id,
            "API token revoked through the API"
        );
    }
    gone(revoked, "API token")
}

/// 204 when the account's `what` was deleted; 404 when it has none by that id.
fn gone(deleted: bool, what: &str) -> Result<Response, JsonError> {
    if deleted {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(JsonError::new(
            StatusCode::NOT_FOUND,
            format!("this account has no {what} with that id"),
        ))
    }
}
