//! `GET /api/me`: the account an API token stands for, so a program can check its token.

use axum::Json;
use axum::extract::State;
use axum::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use lyceum_app::accounts;
use serde::Serialize;

use crate::Web;
use crate::error::JsonError;

/// An account, as the API shows it to its owner.
#[derive(Serialize)]
pub struct Me {
    id: i64,
    email: String,
    display_name: String,
    is_admin: bool,
}

/// `GET /api/me` with `Authorization: Bearer <token>`.
pub async fn get(State(web): State<Web>, headers: HeaderMap) -> Result<Response, JsonError> {
    let token = headers
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::trim);
    let user = match token {
        Some(token) => accounts::api_token_user(&web.app.store, token).await?,
        None => None,
    };
    let Some(user) = user else {
        let mut response = JsonError::new(
            StatusCode::UNAUTHORIZED,
            "send an API token from your account page as `Authorization: Bearer <token>`",
        )
        .into_response();
        response
            .headers_mut()
            .insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return Ok(response);
    };
    Ok(Json(Me {
        id: user.id,
        email: user.email,
        display_name: user.display_name,
        is_admin: user.is_admin,
    })
    .into_response())
}
