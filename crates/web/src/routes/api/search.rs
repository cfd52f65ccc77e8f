//! `GET /api/search?q=&kind=&category=`: the search of `/search` as JSON, for the palette and for
//! programs.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use lyceum_course::Category;
use lyceum_store::search::SearchQuery;

use crate::Web;
use crate::auth::ApiCaller;
use crate::error::JsonError;
use crate::routes::api::courses::unknown_category;
use crate::routes::site::search::{found, unit_href};

/// Most results of each kind.
const LIMIT: i64 = 10;

#[derive(Deserialize)]
pub struct SearchParams {
    #[serde(default)]
    q: String,
    /// `course` or `unit`: only that kind.
    kind: Option<String>,
    /// A subject's slug: only its courses and their units.
    category: Option<String>,
}

#[derive(Serialize)]
pub struct SearchAnswer {
    courses: Vec<CourseHit>,
    units: Vec<UnitHit>,
}

#[derive(Serialize)]
struct CourseHit {
    slug: String,
    title: String,
    url: String,
    /// The passage as plain text.
    snippet: String,
    /// The passage as escaped HTML with each match in `<mark>`.
    snippet_html: String,
}

#[derive(Serialize)]
struct UnitHit {
    course_slug: String,
    course_title: String,
    week: i64,
    unit: i64,
    title: String,
    url: String,
    snippet: String,
    snippet_html: String,
}

/// `GET /api/search?q=&kind=&category=`.
pub async fn search(
    State(web): State<Web>,
    ApiCaller(caller): ApiCaller,
    params: Result<Query<SearchParams>, QueryRejection>,
) -> Result<Json<SearchAnswer>, JsonError> {
    let Ok(Query(params)) = params else {
        return Err(JsonError::new(
            StatusCode::BAD_REQUEST,
            "q is the text to search for, kind is course or unit, and category a subject's slug",
        ));
    };
    let (courses, units) = match params.kind.as_deref() {
        None => (true, true),
        Some("course") => (true, false),
        Some("unit") => (false, true),
        Some(_) => {
            return Err(JsonError::new(
                StatusCode::BAD_REQUEST,
                "kind is course or unit (or left out for both)",
            ));
        }
    };
    let category = match params.category.as_deref() {
        None => None,
        Some(slug) => Some(Category::from_slug(slug).ok_or_else(|| unknown_category(slug))?),
    };
    let found = found(
        &web,
        &SearchQuery {
            text: &params.q,
            viewer: caller.map(|user| user.id),
            limit: LIMIT,
            category,
        },
    )
    .await?;
    Ok(Json(SearchAnswer {
        courses: if courses {
            found
                .courses
                .into_iter()
                .map(|course| CourseHit {
                    url: format!("/courses/{}", course.slug),
                    snippet: course.snippet.text(),
                    snippet_html: course.snippet.html(),
                    slug: course.slug,
                    title: course.title,
                })
                .collect()
        } else {
            Vec::new()
        },
        units: if units {
            found
                .units
                .into_iter()
                .map(|unit| UnitHit {
                    url: unit_href(&unit.course_slug, unit.week, unit.number),
                    snippet: unit.snippet.text(),
                    snippet_html: unit.snippet.html(),
                    course_slug: unit.course_slug,
                    course_title: unit.course_title,
                    week: unit.week,
                    unit: unit.number,
                    title: unit.title,
                })
                .collect()
        } else {
            Vec::new()
        },
    }))
}
