//! `robots.txt` and the sitemaps: every course, week and written unit, at the site's public address. The
//! index `sitemap.xml` lists sitemaps of a bounded number of courses each, so no sitemap passes the
//! 50,000 addresses search engines read, and each is one query however many courses there are.

use askama::Template;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};

use crate::extract::Params;
use crate::views::href;
use crate::{Web, WebError};

/// Courses in one sitemap: each has its page, up to 26 weeks and 156 units, so a sitemap stays under
/// the 50,000 addresses one may hold.
const COURSES_PER_SITEMAP: i64 = 200;

#[derive(Template)]
#[template(path = "sitemap.xml")]
struct Sitemap {
    urls: Vec<String>,
}

#[derive(Template)]
#[template(path = "sitemap_index.xml")]
struct SitemapIndex {
    sitemaps: Vec<String>,
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

/// `GET /sitemap.xml`: the index of the sitemaps, one per [`COURSES_PER_SITEMAP`] courses.
pub async fn sitemap_index(State(web): State<Web>) -> Result<Response, WebError> {
    let courses = web.app.store.course_count().await?;
    let pages = (courses + COURSES_PER_SITEMAP - 1) / COURSES_PER_SITEMAP;
    let sitemaps = (1..=pages.max(1))
        .map(|page| format!("{}/sitemaps/{page}.xml", web.public_url))
        .collect();
    xml(SitemapIndex { sitemaps }.render()?)
}

/// `GET /sitemaps/{n}.xml`: the site's own pages and its subjects with courses (in the first) and every course, week and written
/// unit of the `n`th [`COURSES_PER_SITEMAP`] courses, from one query.
pub async fn sitemap(
    State(web): State<Web>,
    Params(file): Params<String>,
) -> Result<Response, WebError> {
    let page = file
        .strip_suffix(".xml")
        .and_then(|number| number.parse::<i64>().ok())
        .filter(|page| (1..=i64::MAX / COURSES_PER_SITEMAP).contains(page))
        .ok_or(WebError::NotFound)?;
    let base = &web.public_url;
    let mut urls = Vec::new();
    if page == 1 {
        urls.extend(["/", "/courses", "/categories", "/about"].map(|path| format!("{base}{path}")));
        let categories = web.app.store.category_counts().await?;
        urls.extend(
            categories
                .iter()
                .map(|(category, _)| format!("{base}/categories/{}", category.slug)),
        );
    }
    let entries = web
        .app
        .store
        .sitemap(COURSES_PER_SITEMAP, (page - 1) * COURSES_PER_SITEMAP)
        .await?;
    if entries.is_empty() && page > 1 {
        return Err(WebError::NotFound);
    }
    urls.extend(
        entries
            .iter()
            .map(|entry| format!("{base}{}", href(&entry.slug, entry.week, entry.unit))),
    );
    xml(Sitemap { urls }.render()?)
}

fn xml(body: String) -> Result<Response, WebError> {
    Ok(([(CONTENT_TYPE, "application/xml; charset=utf-8")], body).into_response())
}
