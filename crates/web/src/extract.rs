//! What handlers take from a request beyond axum's own extractors: path parameters whose failure
//! is a 404 (a page's, or the API's in JSON), and the catalog's page number.

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use serde::Deserialize;

use crate::WebError;
use crate::error::JsonError;

/// A page's path parameters. A path whose parameters do not parse (`/weeks/abc`, a number past any
/// course's, escapes that are not UTF-8) names no page: 404, where axum's own extractor answers 400 in
/// plain text.
pub struct Params<T>(pub T);

impl<T: serde::de::DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Params<T> {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, WebError> {
        Path::from_request_parts(parts, state)
            .await
            .map(|Path(params)| Self(params))
            .map_err(|_| WebError::NotFound)
    }
}

/// [`Params`] of the JSON API: the 404 is JSON too.
pub struct ApiParams<T>(pub T);

impl<T: serde::de::DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiParams<T> {
    type Rejection = JsonError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, JsonError> {
        let Params(params) = Params::from_request_parts(parts, state).await?;
        Ok(Self(params))
    }
}

/// A list's page number in a query string (the catalog, a subject, the admins' list of courses).
#[derive(Deserialize)]
pub struct PageQuery {
    /// From 1.
    pub page: Option<i64>,
}
