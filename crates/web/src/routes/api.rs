//! The JSON API for what the pages show: the catalog, a course, a week, a unit, and the OpenAPI
//! document that describes them (`/api/openapi.json`). Errors are JSON too: `{"error": "…"}` with the
//! same status a page would get.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use lyceum_app::export::{self, CourseExport, UnitExport, WeekExport};
use lyceum_store::{CourseSummary, StoreError};
use serde::Serialize;
use serde_json::{Value, json};

use super::catalog::{PageQuery, catalog_page};
use crate::Web;
use crate::views::course_href;

/// An API error: a status and a sentence.
pub struct ApiError(StatusCode, &'static str);

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound(_) => NOT_FOUND,
            other => {
                tracing::error!(error = %other, "API request failed");
                Self(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "the request failed; try again later",
                )
            }
        }
    }
}

const NOT_FOUND: ApiError = ApiError(StatusCode::NOT_FOUND, "not found");

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({ "error": self.1 }))).into_response()
    }
}

/// A course in the catalog.
#[derive(Serialize)]
pub struct CourseItem {
    slug: String,
    title: String,
    summary: String,
    language: &'static str,
    level: &'static str,
    weeks: i64,
    /// Generated items so far (outline, overviews, units, quizzes), and how many are ready or failed.
    items: i64,
    ready: i64,
    failed: i64,
    /// The course's page.
    url: String,
}

/// A page of the catalog.
#[derive(Serialize)]
pub struct CatalogPage {
    courses: Vec<CourseItem>,
    page: i64,
    /// The next page's number, when there is one.
    next_page: Option<i64>,
}

impl From<CourseSummary> for CourseItem {
    fn from(summary: CourseSummary) -> Self {
        let url = course_href(&summary.course);
        let course = summary.course;
        Self {
            slug: course.slug,
            title: course.title,
            summary: course.summary,
            language: course.language.tag,
            level: course.level.as_str(),
            weeks: course.weeks,
            items: summary.items,
            ready: summary.ready,
            failed: summary.failed,
            url,
        }
    }
}

/// `GET /api/courses?page=N` (20 a page, as on the site).
pub async fn catalog(
    State(web): State<Web>,
    Query(query): Query<PageQuery>,
) -> Result<Json<CatalogPage>, ApiError> {
    let page = query.page.unwrap_or(1);
    if page < 1 {
        return Err(ApiError(StatusCode::BAD_REQUEST, "page starts at 1"));
    }
    let (courses, has_next) = catalog_page(&web.app.store, page).await?;
    let next_page = has_next.then_some(page + 1);
    Ok(Json(CatalogPage {
        courses: courses.into_iter().map(CourseItem::from).collect(),
        page,
        next_page,
    }))
}

async fn load(web: &Web, slug: &str) -> Result<CourseExport, ApiError> {
    let course = web.app.store.course(slug).await?;
    Ok(export::load(&web.app.store, &course).await?)
}

/// `GET /api/courses/{slug}`: the whole course, every week and unit with its status and text.
pub async fn course(
    State(web): State<Web>,
    Path(slug): Path<String>,
) -> Result<Json<CourseExport>, ApiError> {
    Ok(Json(load(&web, &slug).await?))
}

async fn load_week(web: &Web, slug: &str, week: i64) -> Result<WeekExport, ApiError> {
    load(web, slug)
        .await?
        .weeks
        .into_iter()
        .find(|found| found.number == week)
        .ok_or(NOT_FOUND)
}

/// `GET /api/courses/{slug}/weeks/{week}`.
pub async fn week(
    State(web): State<Web>,
    Path((slug, week)): Path<(String, i64)>,
) -> Result<Json<WeekExport>, ApiError> {
    load_week(&web, &slug, week).await.map(Json)
}

/// `GET /api/courses/{slug}/weeks/{week}/units/{unit}`.
pub async fn unit(
    State(web): State<Web>,
    Path((slug, week, number)): Path<(String, i64, i64)>,
) -> Result<Json<UnitExport>, ApiError> {
    load_week(&web, &slug, week)
        .await?
        .units
        .into_iter()
        .find(|unit| unit.number == number)
        .map(Json)
        .ok_or(NOT_FOUND)
}

/// `GET /api/openapi.json`.
pub async fn openapi(State(web): State<Web>) -> Json<Value> {
    Json(openapi_document(&web.public_url))
}

/// The OpenAPI 3.1 description of the API.
pub fn openapi_document(public_url: &str) -> Value {
    let slug =
        json!({"name": "slug", "in": "path", "required": true, "schema": {"type": "string"}});
    let week = json!({"name": "week", "in": "path", "required": true, "schema": {"type": "integer", "minimum": 1}});
    let unit = json!({"name": "unit", "in": "path", "required": true, "schema": {"type": "integer", "minimum": 1}});
    let ok = |schema: &str| json!({"200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}}, "404": {"$ref": "#/components/responses/NotFound"}});
    let text = json!({"type": "string"});
    let strings = json!({"type": "array", "items": {"type": "string"}});
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Lyceum",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Courses written by a language model: the catalog, each course with its weeks, units and quizzes, and the live text of a unit being written."
        },
        "servers": [{"url": public_url}],
        "paths": {
            "/api/courses": {"get": {
                "summary": "The catalog, newest first, 20 courses a page",
                "parameters": [{"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "default": 1}}],
                "responses": ok("CatalogPage")
            }},
            "/api/courses/{slug}": {"get": {
                "summary": "A whole course with every week, unit and quiz",
                "parameters": [slug],
                "responses": ok("Course")
            }},
            "/api/courses/{slug}/weeks/{week}": {"get": {
                "summary": "One week: its overview and units",
                "parameters": [slug, week],
                "responses": ok("Week")
            }},
            "/api/courses/{slug}/weeks/{week}/units/{unit}": {"get": {
                "summary": "One unit: its article and quiz when written",
                "parameters": [slug, week, unit],
                "responses": ok("Unit")
            }},
            "/courses/{slug}/weeks/{week}/units/{unit}/live": {"get": {
                "summary": "The unit's text as it is written (Server-Sent Events); opening it moves the unit to the front of the queue",
                "description": "Events: `html` (sanitised HTML of the text so far), then `done` once it is stored, `failed` (data: the reason) or `reload` (the stream fell behind; read the unit again).",
                "parameters": [slug, week, unit],
                "responses": {"200": {"description": "An event stream", "content": {"text/event-stream": {"schema": {"type": "string"}}}}, "404": {"$ref": "#/components/responses/NotFound"}}
            }}
        },
        "components": {
            "responses": {"NotFound": {"description": "No such course, week or unit", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}},
            "schemas": {
                "Error": {"type": "object", "properties": {"error": text}, "required": ["error"]},
                "CatalogPage": {"type": "object", "required": ["courses", "page"], "properties": {
                    "courses": {"type": "array", "items": {"$ref": "#/components/schemas/CourseItem"}},
                    "page": {"type": "integer"},
                    "next_page": {"type": ["integer", "null"]}
                }},
                "CourseItem": {"type": "object", "properties": {
                    "slug": text, "title": text, "summary": text,
                    "language": {"type": "string", "description": "BCP-47 tag"},
                    "level": {"enum": ["beginner", "intermediate", "advanced"]},
                    "weeks": {"type": "integer"}, "items": {"type": "integer"}, "ready": {"type": "integer"}, "failed": {"type": "integer"},
                    "url": text
                }},
                "Course": {"type": "object", "properties": {
                    "slug": text, "title": text, "description": text, "summary": text, "outcomes": strings,
                    "language": text, "level": text, "audience": text,
                    "weeks": {"type": "array", "items": {"$ref": "#/components/schemas/Week"}}
                }},
                "Week": {"type": "object", "properties": {
                    "number": {"type": "integer"}, "title": text, "overview": {"type": ["string", "null"]},
                    "units": {"type": "array", "items": {"$ref": "#/components/schemas/Unit"}}
                }},
                "Unit": {"type": "object", "properties": {
                    "number": {"type": "integer"}, "title": text, "objectives": strings,
                    "status": {"enum": ["pending", "generating", "ready", "failed"]},
                    "body": {"type": ["string", "null"], "description": "Markdown written by a model: untrusted; sanitise before showing it as HTML"},
                    "quiz": {"oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/Quiz"}]}
                }},
                "Quiz": {"type": "object", "properties": {"questions": {"type": "array", "items": {"type": "object", "properties": {
                    "prompt": text, "options": {"type": "array", "items": text, "minItems": 4, "maxItems": 4},
                    "answer": {"type": "integer", "minimum": 0, "maximum": 3}, "explanation": text
                }}}}}
            }
        }
    })
}
