//! The JSON API for making a course, as the pages do it: start drafting an outline, follow it while it
//! is written, then confirm it as drafted or as edited. Same rules, limits and drafts as the pages.

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::{BytesRejection, JsonRejection};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use lyceum_course::Outline;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::ApiParams;
use super::api::{CourseLink, JsonError};
use super::new_course::{self, NewCourseForm};
use crate::Web;
use crate::client::Client;
use crate::drafts::{DraftState, WeekSoFar};

/// What to draft; what is left out takes the form's default.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DraftBody {
    description: String,
    weeks: Option<u32>,
    units_per_week: Option<u32>,
    /// A language tag (`fr`) or name (`French`).
    language: Option<String>,
    level: Option<String>,
    audience: Option<String>,
}

impl From<DraftBody> for NewCourseForm {
    fn from(body: DraftBody) -> Self {
        let defaults = NewCourseForm::default();
        Self {
            description: body.description,
            weeks: body.weeks.map_or(defaults.weeks, |n| n.to_string()),
            units_per_week: body
                .units_per_week
                .map_or(defaults.units_per_week, |n| n.to_string()),
            language: body.language.unwrap_or(defaults.language),
            level: body.level.unwrap_or(defaults.level),
            audience: body.audience.unwrap_or(defaults.audience),
        }
    }
}

/// A draft as the API shows it.
#[derive(Serialize)]
pub struct DraftView {
    id: String,
    /// `drafting`, `ready`, `failed` or `confirmed`.
    status: &'static str,
    /// Why drafting failed.
    error: Option<String>,
    /// What is written so far, piece by piece, while drafting.
    title: Option<String>,
    summary: Option<String>,
    weeks: Vec<WeekSoFar>,
    /// The whole outline once drafted: edit it and send it back to confirm.
    outline: Option<Outline>,
    /// The course, once confirmed.
    course: Option<CourseLink>,
    /// Where to follow it live and confirm it.
    live: String,
    confirm: String,
}

impl DraftView {
    fn new(id: &str, state: &DraftState) -> Self {
        let (status, error) = new_course::status(state);
        Self {
            id: id.to_owned(),
            status: if state.course.is_some() {
                "confirmed"
            } else {
                status
            },
            error,
            title: state.title.clone(),
            summary: state.summary.clone(),
            weeks: state.weeks_so_far(),
            outline: match &state.result {
                Some(Ok((outline, _))) => Some(outline.clone()),
                _ => None,
            },
            course: state.course.as_deref().map(CourseLink::new),
            live: format!("/api/drafts/{id}/live"),
            confirm: format!("/api/drafts/{id}/confirm"),
        }
    }
}

/// `POST /api/drafts`: starts drafting an outline; 202 with the draft, or 422 with what to change.
pub async fn create(
    State(web): State<Web>,
    client: Client,
    body: Result<Json<DraftBody>, JsonRejection>,
) -> Result<Response, JsonError> {
    let Json(body) = body?;
    let form = NewCourseForm::from(body);
    let request = new_course::parse(&form).map_err(|errors| {
        JsonError::invalid(
            "the course cannot be drafted as asked",
            errors
                .iter()
                .map(|error| json!({"field": error.field, "message": error.message}))
                .collect(),
        )
    })?;
    let id = new_course::start(&web, client, request)?;
    let draft = new_course::draft(&web, &id)?;
    let location = format!("/api/drafts/{id}");
    Ok((
        StatusCode::ACCEPTED,
        [(header::LOCATION, location)],
        Json(DraftView::new(&id, &draft.state())),
    )
        .into_response())
}

/// `GET /api/drafts/{id}`.
pub async fn get(
    State(web): State<Web>,
    ApiParams(id): ApiParams<String>,
) -> Result<Json<DraftView>, JsonError> {
    let draft = new_course::draft(&web, &id)?;
    Ok(Json(DraftView::new(&id, &draft.state())))
}

/// `GET /api/drafts/{id}/live`: `draft` events (the draft as JSON) on every change, then `done` or
/// `failed`.
pub async fn live(
    State(web): State<Web>,
    client: Client,
    ApiParams(id): ApiParams<String>,
) -> Result<Response, JsonError> {
    let draft = new_course::draft(&web, &id)?;
    let slot = web.streams.open(client)?;
    Ok(new_course::follow(draft, slot, "draft", move |state| {
        serde_json::to_string(&DraftView::new(&id, state)).unwrap_or_default()
    }))
}

/// What confirming takes: the outline as edited, or nothing to take it as drafted.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfirmBody {
    outline: Option<Outline>,
}

/// `POST /api/drafts/{id}/confirm`: creates the course (201); the same course again if it was
/// confirmed before (200); 409 while drafting or after it failed; 422 with the outline's problems.
pub async fn confirm(
    State(web): State<Web>,
    ApiParams(id): ApiParams<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, JsonError> {
    let body =
        body.map_err(|rejection| JsonError::new(rejection.status(), rejection.body_text()))?;
    // No body (or an empty one) takes the outline as drafted.
    let body: ConfirmBody = if body.iter().all(u8::is_ascii_whitespace) {
        ConfirmBody::default()
    } else {
        serde_json::from_slice(&body).map_err(|error| {
            JsonError::new(
                StatusCode::BAD_REQUEST,
                format!("the body is not a confirmation: {error}"),
            )
        })?
    };
    // A broken outline is refused whatever the draft's state, even once it is confirmed.
    if let Some(Err(problems)) = body.outline.as_ref().map(Outline::validate) {
        return Err(invalid_outline(problems.problems));
    }
    let draft = new_course::draft(&web, &id)?;
    let state = draft.state();
    if let Some(slug) = &state.course {
        return Ok(Json(CourseLink::new(slug)).into_response());
    }
    let (drafted, stats) = match state.result {
        Some(Ok(done)) => done,
        Some(Err(error)) => {
            return Err(JsonError::new(
                StatusCode::CONFLICT,
                format!("the outline could not be drafted: {error}"),
            ));
        }
        None => {
            return Err(JsonError::new(
                StatusCode::CONFLICT,
                "the outline is still being drafted; confirm it once its status is ready",
            ));
        }
    };
    let outline = body.outline.unwrap_or(drafted);
    match new_course::create_course(&web, &draft, outline, &stats).await? {
        Ok(course) => {
            let link = CourseLink::new(&course.slug);
            Ok((
                StatusCode::CREATED,
                [(header::LOCATION, link.api.clone())],
                Json(link),
            )
                .into_response())
        }
        Err(problems) => Err(invalid_outline(problems)),
    }
}

/// 422 with each of an outline's problems and where it is.
fn invalid_outline(problems: Vec<(String, String)>) -> JsonError {
    JsonError::invalid(
        "the outline breaks the rules of a course",
        problems
            .into_iter()
            .map(|(path, message)| json!({"path": path, "message": message}))
            .collect(),
    )
}
