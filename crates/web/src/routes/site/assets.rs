//! The stylesheet and script, embedded in the binary and cached by browsers for a day.

use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};

use crate::WebError;
use crate::extract::Params;

const STYLE: &str = include_str!("../../../assets/style.css");
const SCRIPT: &str = include_str!("../../../assets/app.js");

/// `GET /assets/{name}`.
pub async fn get(Params(name): Params<String>) -> Response {
    let (body, content_type) = match name.as_str() {
        "style.css" => (STYLE, "text/css; charset=utf-8"),
        "app.js" => (SCRIPT, "text/javascript; charset=utf-8"),
        _ => return WebError::NotFound.into_response(),
    };
    (
        [
            (CONTENT_TYPE, content_type),
            (CACHE_CONTROL, "public, max-age=86400"),
        ],
        body,
    )
        .into_response()
}
