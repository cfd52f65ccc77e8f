//! The JSON API for making a course, as the pages do it: start drafting an outline, follow it while it
//! is written, then confirm it as drafted or as edited. Same rules, limits and drafts as the pages.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::{BytesRejection, JsonRejection};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use lyceum_app::Settings;
use lyceum_course::{CourseRequest, Outline, RequestFields, WeekSoFar};
use lyceum_store::{Draft, DraftStatus};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::CourseLink;
use crate::auth::ApiCaller;
use crate::client::Client;
use crate::error::JsonError;
use crate::extract::ApiParams;
use crate::{Web, drafts};

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

impl From<DraftBody> for RequestFields {
    fn from(body: DraftBody) -> Self {
        let defaults = RequestFields::default();
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
    /// Why a course in its language may come out poorly on the configured model.
    caution: Option<String>,
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
    fn new(draft: &Draft, settings: &Settings) -> Self {
        let id = &draft.id;
        Self {
            id: id.clone(),
            status: draft.status.as_str(),
            error: draft.error.clone(),
            caution: settings.language_caution(draft.request.language),
            title: draft.so_far.title.clone(),
            summary: draft.so_far.summary.clone(),
            weeks: draft.so_far.weeks.clone(),
            outline: draft.outline.clone(),
            course: draft.course.as_deref().map(CourseLink::new),
            live: format!("/api/drafts/{id}/live"),
            confirm: format!("/api/drafts/{id}/confirm"),
        }
    }
}

/// `POST /api/drafts`: starts drafting an outline; 202 with the draft, or 422 with what to change.
pub async fn create(
    State(web): State<Web>,
    client: Client,
    ApiCaller(caller): ApiCaller,
    body: Result<Json<DraftBody>, JsonRejection>,
) -> Result<Response, JsonError> {
    let Json(body) = body?;
    let request = CourseRequest::parse(&RequestFields::from(body)).map_err(|errors| {
        JsonError::invalid(
            "the course cannot be drafted as asked",
            errors
                .iter()
                .map(|error| json!({"field": error.field, "message": error.message}))
                .collect(),
        )
    })?;
    let id = drafts::start(&web, client, caller.as_ref(), &request).await?;
    let draft = web.app.store.draft(&id).await?;
    let location = format!("/api/drafts/{id}");
    Ok((
        StatusCode::ACCEPTED,
        [(header::LOCATION, location)],
        Json(DraftView::new(&draft, &web.app.settings)),
    )
        .into_response())
}

/// `GET /api/drafts/{id}`.
pub async fn get(
    State(web): State<Web>,
    ApiParams(id): ApiParams<String>,
) -> Result<Json<DraftView>, JsonError> {
    let draft = web.app.store.draft(&id).await?;
    Ok(Json(DraftView::new(&draft, &web.app.settings)))
}

/// `GET /api/drafts/{id}/live`: `draft` events (the draft as JSON) on every change, then `done` or
/// `failed`.
pub async fn live(
    State(web): State<Web>,
    client: Client,
    ApiParams(id): ApiParams<String>,
) -> Result<Response, JsonError> {
    let app = Arc::clone(&web.app);
    let render = move |draft: &Draft| {
        serde_json::to_string(&DraftView::new(draft, &app.settings)).unwrap_or_default()
    };
    Ok(drafts::follow(&web, client, &id, "draft", render).await?)
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
    let draft = web.app.store.draft(&id).await?;
    if let Some(slug) = &draft.course {
        return Ok(Json(CourseLink::new(slug)).into_response());
    }
    let drafted = match (draft.status, &draft.outline) {
        (DraftStatus::Ready, Some(drafted)) => drafted.clone(),
        (DraftStatus::Failed, _) => {
            return Err(JsonError::new(
                StatusCode::CONFLICT,
                format!(
                    "the outline could not be drafted: {}",
                    draft.error.as_deref().unwrap_or("drafting failed")
                ),
            ));
        }
        _ => {
            return Err(JsonError::new(
                StatusCode::CONFLICT,
                "the outline is still being drafted; confirm it once its status is ready",
            ));
        }
    };
    let outline = body.outline.unwrap_or(drafted);
    match drafts::create_course(&web, &draft, outline).await? {
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
