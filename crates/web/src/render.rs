//! Rendering a page: a template into HTML, and the course pages through the page cache.

use std::future::Future;

use axum::response::Html;
use bytes::Bytes;
use lyceum_store::Course;

use crate::page_cache::{PageKey, Served};
use crate::{Web, WebError};

/// A rendered page.
pub fn page(template: &impl askama::Template) -> Result<Html<String>, WebError> {
    Ok(Html(template.render()?))
}

/// A page of one course, rendered.
pub struct Rendered {
    pub course_id: i64,
    /// The unit, on a unit's page.
    pub unit_id: Option<i64>,
    /// The account that made the course, if one did.
    pub maker_id: Option<i64>,
    /// The version of the unit's quiz it shows, on a unit's page.
    pub quiz_version: Option<String>,
    /// Whether its unit's text is written, on a unit's page.
    pub written: bool,
    /// The course's language.
    pub language: lyceum_course::Language,
    pub html: String,
    /// Whether it may be served again: not while it starts writing its unit, nor a page of a course
    /// not everyone may see.
    pub keep: bool,
}

impl Rendered {
    /// A page of `course`: kept to serve again only if everyone may see the course.
    pub fn new(course: &Course, template: &impl askama::Template) -> Result<Self, WebError> {
        Ok(Self {
            course_id: course.id,
            unit_id: None,
            maker_id: course.maker.account(),
            quiz_version: None,
            written: false,
            language: course.language,
            html: template.render()?,
            keep: course.shown_to_all(),
        })
    }
}

/// The page at `key` from the page cache, or else as `render` makes it (kept if it may be).
pub async fn cached(
    web: &Web,
    key: PageKey,
    render: impl Future<Output = Result<Rendered, WebError>>,
) -> Result<Html<Bytes>, WebError> {
    Ok(Html(cached_page(web, key, render).await?.html))
}

/// [`cached`], with what the page shows.
pub async fn cached_page(
    web: &Web,
    key: PageKey,
    render: impl Future<Output = Result<Rendered, WebError>>,
) -> Result<Served, WebError> {
    let hit = web.pages.get(&key);
    web.app.metrics.page_cache(hit.is_some());
    if let Some(served) = hit {
        return Ok(served);
    }
    let rendering = web.pages.rendering();
    let page = render.await?;
    let served = Served {
        course_id: page.course_id,
        unit_id: page.unit_id,
        maker_id: page.maker_id,
        quiz_version: page.quiz_version,
        written: page.written,
        language: page.language,
        html: Bytes::from(page.html),
    };
    if page.keep {
        web.pages.put(key, rendering, served.clone());
    }
    Ok(served)
}
