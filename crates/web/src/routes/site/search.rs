//! `GET /search?q=`: the courses and units that hold the words typed, each with the passage where
//! they stand. A plain page with a form, so it works without JavaScript.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Html;
use lyceum_store::search::{Found, SearchQuery};
use serde::Deserialize;

use crate::auth::Viewer;
use crate::render::page;
use crate::{Web, WebError};

/// Most results of each kind on the page.
const ON_PAGE: i64 = 20;

#[derive(Deserialize)]
pub struct SearchParams {
    #[serde(default)]
    pub q: String,
}

/// A result: where it goes, what it is, and the passage with the words marked (escaped HTML).
struct Hit {
    href: String,
    title: String,
    /// For a unit, its course and place in it.
    context: Option<String>,
    snippet_html: String,
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    q: String,
    courses: Vec<Hit>,
    units: Vec<Hit>,
}

/// The address of a unit's page.
pub fn unit_href(course_slug: &str, week: i64, unit: i64) -> String {
    format!("/courses/{course_slug}/weeks/{week}/units/{unit}")
}

/// What `query` finds; its viewer may find their own courses that are not public.
pub async fn found(web: &Web, query: &SearchQuery<'_>) -> Result<Found, WebError> {
    Ok(web.app.search(query).await?)
}

/// `GET /search?q=`.
pub async fn search(
    State(web): State<Web>,
    Viewer(viewer): Viewer,
    Query(params): Query<SearchParams>,
) -> Result<Html<String>, WebError> {
    let found = found(
        &web,
        &SearchQuery {
            text: &params.q,
            viewer: viewer.map(|signed| signed.user.id),
            limit: ON_PAGE,
            category: None,
        },
    )
    .await?;
    page(&SearchPage {
        q: params.q.trim().to_owned(),
        courses: found
            .courses
            .iter()
            .map(|course| Hit {
                href: format!("/courses/{}", course.slug),
                title: course.title.clone(),
                context: None,
                snippet_html: course.snippet.html(),
            })
            .collect(),
        units: found
            .units
            .iter()
            .map(|unit| Hit {
                href: unit_href(&unit.course_slug, unit.week, unit.number),
                title: unit.title.clone(),
                context: Some(format!(
                    "{} · week {}, unit {}",
                    unit.course_title, unit.week, unit.number
                )),
                snippet_html: unit.snippet.html(),
            })
            .collect(),
    })
}
