//! The errors of every handler: [`WebError`], mapped to one status each, answered as a friendly page,
//! or as JSON through [`JsonError`] for the API. A 500 logs the whole cause and shows the person a
//! plain sentence, never internals.

use std::borrow::Cow;

use askama::Template;
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use lyceum_app::tutor::ChatRefused;
use lyceum_app::{Failure, GenerateError};
use lyceum_store::StoreError;
use serde_json::json;

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
    /// Too many sign-in attempts from one address or for one account; wait this long.
    #[error("too many sign-in attempts")]
    TooManySignIns(std::time::Duration),
    /// One client already has as many outlines drafting as it may.
    #[error("too many drafts at once")]
    TooManyDrafts,
    /// A signed-in account has started as many outlines today as it may (this many).
    #[error("too many drafts today")]
    TooManyDraftsToday(u32),
    /// A form asked for something its page does not offer (only a hand-made request does); why.
    #[error("bad form: {0}")]
    BadForm(String),
    /// The signed-in person may not do this (it is for admins).
    #[error("forbidden")]
    Forbidden,
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
    Generate(GenerateError),
    /// A template failed to render.
    #[error("rendering failed: {0}")]
    Render(#[from] askama::Error),
    /// The tutor did not take a message.
    #[error(transparent)]
    Tutor(ChatRefused),
}

impl From<ChatRefused> for WebError {
    fn from(refused: ChatRefused) -> Self {
        match refused {
            ChatRefused::Store(error) => error.into(),
            other => Self::Tutor(other),
        }
    }
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
struct ErrorPage<'a> {
    status: u16,
    heading: &'static str,
    message: &'a str,
}

impl From<GenerateError> for WebError {
    fn from(error: GenerateError) -> Self {
        match error {
            GenerateError::Store(error) => error.into(),
            other => Self::Generate(other),
        }
    }
}

impl WebError {
    /// The status a page, or the API, answers this error with: the person's input 422, a busy model
    /// 429 (with `Retry-After`), a model that cannot be reached or answer usably 503.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::TooManyRequests(_)
            | Self::TooManySignIns(_)
            | Self::TooManyDrafts
            | Self::TooManyDraftsToday(_)
            | Self::TooManyStreams => StatusCode::TOO_MANY_REQUESTS,
            Self::CrossSite | Self::Forbidden => StatusCode::FORBIDDEN,
            Self::BadForm(_) => StatusCode::BAD_REQUEST,
            Self::Generate(error) => match error.failure() {
                Failure::Input => StatusCode::UNPROCESSABLE_ENTITY,
                Failure::Busy => StatusCode::TOO_MANY_REQUESTS,
                Failure::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            },
            Self::Store(StoreError::Conflict(_)) => StatusCode::CONFLICT,
            Self::Tutor(refused) => match refused {
                ChatRefused::Empty | ChatRefused::TooLong(_) => StatusCode::UNPROCESSABLE_ENTITY,
                ChatRefused::TooMany { .. } => StatusCode::TOO_MANY_REQUESTS,
                ChatRefused::NotWritten | ChatRefused::NoTest | ChatRefused::NothingToRetry => {
                    StatusCode::CONFLICT
                }
                ChatRefused::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
            },
            Self::Store(_) | Self::Render(_) | Self::Internal(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }

    /// Seconds a refused client should wait before asking again, for `Retry-After`.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Self::TooManyRequests(wait) | Self::TooManySignIns(wait) => Some(wait.as_secs().max(1)),
            Self::TooManyDrafts | Self::TooManyStreams => Some(10),
            Self::TooManyDraftsToday(_) => Some(3600),
            Self::Generate(error) if error.failure() == Failure::Busy => Some(30),
            Self::Tutor(ChatRefused::TooMany { retry_after, .. }) => {
                Some(retry_after.as_secs().max(1))
            }
            _ => None,
        }
    }

    /// The page heading and the sentence a person is shown: plain words, never internals. The API
    /// says the same sentence for the use-case errors.
    fn explain(&self) -> (&'static str, Cow<'static, str>) {
        match self {
            Self::NotFound => (
                "Page not found",
                "There is nothing at this address. The course may have another name now, or the link \
                 may be mistyped."
                    .into(),
            ),
            Self::CrossSite => (
                "Sent from another site",
                "This request came from a page on another site, so Lyceum did not act on it. If you \
                 meant to do this, do it again from this site's own page."
                    .into(),
            ),
            Self::TooManyDrafts => (
                "Please wait a little",
                "Your other outlines are still being drafted. Please wait until one of them is done, \
                 then start this one."
                    .into(),
            ),
            Self::TooManyDraftsToday(most) => (
                "That is all for today",
                format!(
                    "Your account has started {most} outlines in the last day, the most one account \
                     may. Please come back tomorrow; the courses you made are on your account page."
                )
                .into(),
            ),
            Self::BadForm(why) => ("That cannot be done", format!("Lyceum did not act: {why}.").into()),
            Self::Forbidden => (
                "Not yours to change",
                "Only an admin of this site, or the person who made it, can do this.".into(),
            ),
            Self::TooManyStreams => (
                "Please wait a little",
                "You have many pages open that follow writing live. Close some of them, then reload \
                 this one."
                    .into(),
            ),
            Self::TooManySignIns(wait) => (
                "Please wait a little",
                format!(
                    "There were too many attempts to sign in, from this address or to this account. \
                     Please try again in {} minutes.",
                    wait.as_secs().div_ceil(60).max(1)
                )
                .into(),
            ),
            Self::TooManyRequests(_) => (
                "Please wait a little",
                "You have asked for as many courses as one address may in an hour. Each takes a lot \
                 of computing; please try again later."
                    .into(),
            ),
            Self::Generate(error) => {
                let heading = match error.failure() {
                    Failure::Input => "Please change the request",
                    Failure::Busy => "The writer is busy",
                    Failure::Unavailable => "The writer is unavailable",
                };
                (heading, error.public_message().into())
            }
            Self::Tutor(refused) => ("The tutor did not take that", {
                let mut why = refused.to_string();
                if let Some(first) = why.get_mut(..1) {
                    first.make_ascii_uppercase();
                }
                format!("{why}.").into()
            }),
            Self::Store(StoreError::Conflict(_)) => (
                "Changed meanwhile",
                "This changed while you were looking at it (perhaps in another tab). Reload the page \
                 to see it as it is now."
                    .into(),
            ),
            Self::Store(_) | Self::Render(_) | Self::Internal(_) => (
                "Something went wrong",
                "Lyceum could not show this page. Nothing you have stored is lost; please try again \
                 in a moment."
                    .into(),
            ),
        }
    }

    /// Logs what the operator should know: a failure in full, a refusal or an absent model briefly.
    pub(crate) fn log(&self) {
        match self {
            Self::Generate(error) if error.failure() != Failure::Input => {
                tracing::warn!(error = %self, "writing could not be started");
            }
            Self::TooManyRequests(_)
            | Self::TooManySignIns(_)
            | Self::TooManyDrafts
            | Self::TooManyDraftsToday(_)
            | Self::TooManyStreams => {
                tracing::info!(reason = %self, "request refused by a per-client limit");
            }
            Self::Store(_) | Self::Render(_) | Self::Internal(_)
                if self.status().is_server_error() =>
            {
                tracing::error!(error = %self, "request failed");
            }
            _ => {}
        }
    }

    /// The sentence the JSON API answers with: the page's sentence for what a client can act on
    /// (its input, a busy or absent model), a short fixed phrase for the rest.
    pub fn api_message(&self) -> Cow<'static, str> {
        match self {
            Self::NotFound => "not found".into(),
            Self::TooManyRequests(_) => {
                "this address has asked for as many courses as it may in an hour; try again later"
                    .into()
            }
            Self::TooManySignIns(_) => {
                "too many sign-in attempts from this address or for this account; try again later"
                    .into()
            }
            Self::TooManyDrafts => {
                "this address has as many outlines drafting as it may; wait for one to finish"
                    .into()
            }
            Self::TooManyDraftsToday(most) => format!(
                "this account has started {most} outlines in the last day, the most it may; try \
                 again tomorrow"
            )
            .into(),
            Self::Forbidden => "only an admin or the course's maker may do this".into(),
            Self::BadForm(why) => why.clone().into(),
            Self::TooManyStreams => {
                "this address holds as many live streams open as it may; close one first".into()
            }
            Self::CrossSite => "sent from another site".into(),
            Self::Store(StoreError::Conflict(why)) => why.clone().into(),
            Self::Tutor(refused) => refused.to_string().into(),
            Self::Generate(_) => self.explain().1,
            Self::Store(_) | Self::Render(_) | Self::Internal(_) => {
                "the request failed; try again later".into()
            }
        }
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        self.log();
        let status = self.status();
        let (heading, message) = self.explain();
        let page = ErrorPage {
            status: status.as_u16(),
            heading,
            message: &message,
        };
        let mut response = match page.render() {
            Ok(html) => (status, Html(html)).into_response(),
            Err(_) => (status, message.into_owned()).into_response(),
        };
        if let Some(wait) = self.retry_after() {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, wait.into());
        }
        response
    }
}

impl From<StoreError> for JsonError {
    fn from(error: StoreError) -> Self {
        WebError::from(error).into()
    }
}

/// A JSON error: `{"error": …}` with the status (and `Retry-After`) a page would get, and for bad
/// input, what to change: `problems`, each with the `field` (or outline `path`) and a `message`.
pub struct JsonError {
    status: StatusCode,
    message: String,
    /// What to change: `{"field" or "path", "message"}` each.
    problems: Vec<serde_json::Value>,
    retry_after: Option<u64>,
}

impl JsonError {
    /// A 422: the request is well formed but asks for something the rules refuse, with what to change.
    pub fn invalid(message: &str, problems: Vec<serde_json::Value>) -> Self {
        Self {
            problems,
            ..Self::new(StatusCode::UNPROCESSABLE_ENTITY, message)
        }
    }

    /// An error with this status and sentence.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            problems: Vec::new(),
            retry_after: None,
        }
    }
}

impl From<WebError> for JsonError {
    fn from(error: WebError) -> Self {
        error.log();
        Self {
            retry_after: error.retry_after(),
            ..Self::new(error.status(), error.api_message())
        }
    }
}

impl From<JsonRejection> for JsonError {
    fn from(rejection: JsonRejection) -> Self {
        // Says what is wrong with the body: not JSON, a missing field, a field of the wrong type (400);
        // too large (413), not sent as JSON (415).
        let status = match &rejection {
            JsonRejection::JsonDataError(_) | JsonRejection::JsonSyntaxError(_) => {
                StatusCode::BAD_REQUEST
            }
            other => other.status(),
        };
        Self::new(status, rejection.body_text())
    }
}

impl IntoResponse for JsonError {
    fn into_response(self) -> Response {
        let mut body = json!({ "error": self.message });
        if !self.problems.is_empty() {
            body["problems"] = self.problems.into();
        }
        let mut response = (self.status, Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, seconds.into());
        }
        response
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

    async fn body(response: Response) -> String {
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    fn generate(error: impl Into<GenerateError>) -> WebError {
        WebError::from(error.into())
    }

    #[tokio::test]
    async fn each_generation_failure_has_one_status_and_one_sentence_for_pages_and_the_api() {
        use lyceum_llm::LlmError;

        let input = generate(lyceum_course::Weeks::new(99).unwrap_err());
        let busy = generate(LlmError::Overloaded { queued: 8 });
        let down = generate(LlmError::Connect("10.0.0.7:8000 refused".into()));
        let cases = [
            (input, StatusCode::UNPROCESSABLE_ENTITY, None),
            (busy, StatusCode::TOO_MANY_REQUESTS, Some("30")),
            (down, StatusCode::SERVICE_UNAVAILABLE, None),
        ];
        for (error, status, retry_after) in cases {
            let sentence = error.api_message().into_owned();
            assert_eq!(error.status(), status, "{error}");
            let response = error.into_response();
            assert_eq!(response.status(), status);
            let header = response.headers().get(axum::http::header::RETRY_AFTER);
            assert_eq!(header.map(|value| value.to_str().unwrap()), retry_after);
            let page = body(response).await;
            let escaped = sentence.replace('\'', "&#x27;").replace('"', "&quot;");
            assert!(
                page.contains(&escaped),
                "the page says the API's sentence {sentence:?}: {page}"
            );
            assert!(!page.contains("10.0.0.7"), "the page shows no internals");
            assert!(!sentence.contains("10.0.0.7"), "the API shows no internals");
        }
    }
}
