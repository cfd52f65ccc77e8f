//! One error type for every handler, mapped to a status and a friendly page. A 500 logs the whole cause
//! and shows the person a plain sentence, never internals.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use lyceum_store::StoreError;

/// Why a page could not be shown.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// Nothing is at this address.
    #[error("not found")]
    NotFound,
    /// Too many costly requests from one address; it may ask again after this long.
    #[error("too many requests")]
    TooManyRequests(std::time::Duration),
    /// Something failed that is not the person's doing.
    #[error("{0}")]
    Internal(String),
    /// One client already has as many outlines drafting as it may.
    #[error("too many drafts at once")]
    TooManyDrafts,
    /// One client already holds as many live streams open as it may.
    #[error("too many live streams")]
    TooManyStreams,
    /// A form was sent from another site.
    #[error("cross-site request")]
    CrossSite,
    /// The store failed.
    #[error(transparent)]
    Store(StoreError),
    /// Writing could not be started.
    #[error(transparent)]
    Generate(lyceum_app::GenerateError),
    /// A template failed to render.
    #[error("rendering failed: {0}")]
    Render(#[from] askama::Error),
}

impl From<StoreError> for WebError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound(_) => Self::NotFound,
            other => Self::Store(other),
        }
    }
}

/// The page shown for an error.
#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    status: u16,
    heading: &'static str,
    message: &'static str,
}

impl From<lyceum_app::GenerateError> for WebError {
    fn from(error: lyceum_app::GenerateError) -> Self {
        match error {
            lyceum_app::GenerateError::Store(error) => error.into(),
            other => Self::Generate(other),
        }
    }
}

impl WebError {
    /// The status a page, or the API, answers this error with.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::TooManyRequests(_) | Self::TooManyDrafts | Self::TooManyStreams => {
                StatusCode::TOO_MANY_REQUESTS
            }
            Self::CrossSite => StatusCode::FORBIDDEN,
            Self::Generate(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Store(StoreError::Conflict(_)) => StatusCode::CONFLICT,
            Self::Store(_) | Self::Render(_) | Self::Internal(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }
}

impl WebError {
    /// Seconds a refused client should wait before asking again, for `Retry-After`.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Self::TooManyRequests(wait) => Some(wait.as_secs().max(1)),
            Self::TooManyDrafts | Self::TooManyStreams => Some(10),
            _ => None,
        }
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let status = self.status();
        let (heading, message) = match &self {
            Self::NotFound => (
                "Page not found",
                "There is nothing at this address. The course may have another name now, or the link \
                 may be mistyped.",
            ),
            Self::CrossSite => (
                "Sent from another site",
                "This request came from a page on another site, so Lyceum did not act on it. If you \
                 meant to do this, do it again from this site's own page.",
            ),
            Self::Generate(_) => {
                tracing::warn!(error = %self, "writing could not be started");
                (
                    "The writer is busy",
                    "Lyceum could not start writing this right now. What is already written is safe; \
                     please try again in a moment.",
                )
            }
            Self::TooManyRequests(_) | Self::TooManyDrafts | Self::TooManyStreams => {
                let message = match &self {
                    Self::TooManyDrafts => {
                        "Your other outlines are still being drafted. Please wait until one of \
                         them is done, then start this one."
                    }
                    Self::TooManyStreams => {
                        "You have many pages open that follow writing live. Close some of them, \
                         then reload this one."
                    }
                    _ => {
                        "You have asked for as many courses as one address may in an hour. Each \
                         takes a lot of computing; please try again later."
                    }
                };
                let page = ErrorPage {
                    status: 429,
                    heading: "Please wait a little",
                    message,
                };
                let mut response = match page.render() {
                    Ok(html) => (status, Html(html)).into_response(),
                    Err(_) => status.into_response(),
                };
                if let Some(wait) = self.retry_after()
                    && let Ok(value) = axum::http::HeaderValue::from_str(&wait.to_string())
                {
                    response
                        .headers_mut()
                        .insert(axum::http::header::RETRY_AFTER, value);
                }
                tracing::info!(reason = %self, "request refused by a per-client limit");
                return response;
            }
            Self::Store(StoreError::Conflict(_)) => (
                "Changed meanwhile",
                "This changed while you were looking at it (perhaps in another tab). Reload the \
                 page to see it as it is now.",
            ),
            Self::Store(_) | Self::Render(_) | Self::Internal(_) => {
                tracing::error!(error = %self, "request failed");
                (
                    "Something went wrong",
                    "Lyceum could not show this page. Nothing you have stored is lost; please try \
                     again in a moment.",
                )
            }
        };
        let page = ErrorPage {
            status: status.as_u16(),
            heading,
            message,
        };
        match page.render() {
            Ok(html) => (status, Html(html)).into_response(),
            Err(_) => (status, message).into_response(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_conflict_is_409_with_a_plain_page_and_other_store_errors_stay_500() {
        let conflict = WebError::from(StoreError::Conflict("the draft is drafting".into()));
        assert_eq!(conflict.status(), StatusCode::CONFLICT);
        assert_eq!(conflict.into_response().status(), StatusCode::CONFLICT);
        let corrupt = WebError::from(StoreError::Corrupt("bad row".into()));
        assert_eq!(corrupt.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            WebError::from(StoreError::NotFound("draft".into())).status(),
            StatusCode::NOT_FOUND
        );
    }
}
