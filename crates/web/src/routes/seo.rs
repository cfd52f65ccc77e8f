//! `robots.txt` and `sitemap.xml`: every course, week and written unit, at the site's public address.

use askama::Template;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use lyceum_store::Status;

use crate::views::{course_href, unit_href, week_href};
use crate::{Web, WebError};

/// Courses listed in the sitemap at most (a sitemap holds 50,000 addresses; each course has many).
const MAX_COURSES: i64 = 1000;

#[derive(Template)]
#[template(path = "sitemap.xml")]
struct Sitemap {
    urls: Vec<String>,
}

/// `GET /robots.txt`: everything may be crawled; the sitemap says where.
pub async fn robots(State(web): State<Web>) -> Response {
    (
        [(CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!(
            "User-agent: *\nAllow: /\nSitemap: {}/sitemap.xml\n",
            web.public_url
        ),
    )
        .into_response()
}

/// `GET /sitemap.xml`.
pub async fn sitemap(State(web): State<Web>) -> Result<Response, WebError> {
    let store = &web.app.store;
    let base = &web.public_url;
    let mut urls = vec![
        format!("{base}/"),
        format!("{base}/courses"),
        format!("{base}/about"),
    ];
    for summary in store.list_courses(MAX_COURSES, 0).await? {
        let course = &summary.course;
        urls.push(format!("{base}{}", course_href(course)));
        for module in store.modules(course.id).await? {
            urls.push(format!("{base}{}", week_href(course, module.number)));
        }
        for unit in store.units(course.id).await? {
            if unit.status == Status::Ready {
                urls.push(format!("{base}{}", unit_href(course, &unit)));
            }
        }
    }
    let xml = Sitemap { urls }.render()?;
    Ok(([(CONTENT_TYPE, "application/xml; charset=utf-8")], xml).into_response())
}
