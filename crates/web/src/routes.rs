//! The routes, one module per resource; each handler extracts, asks one use case, and renders.

mod api;
mod assets;
mod catalog;
mod course;
mod drafts_api;
mod health;
mod live;
mod new_course;
mod pages;
mod seo;
mod unit;

use std::future::Future;

use axum::Router;
use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use axum::response::Html;
use axum::routing::{get, post};
use bytes::Bytes;
use lyceum_store::{Course, Module, Unit};

use crate::page_cache::PageKey;
use crate::{Web, WebError};

/// Every route of the site.
pub fn router() -> Router<Web> {
    Router::new()
        .route("/", get(catalog::home))
        .route("/courses", get(catalog::list).post(new_course::create))
        .route("/drafts/{id}", get(new_course::show))
        .route("/drafts/{id}/live", get(new_course::live))
        .route("/drafts/{id}/confirm", post(new_course::confirm))
        .route("/courses/{slug}", get(course::course))
        .route("/courses/{slug}/retry", post(course::retry))
        .route("/courses/{slug}/live", get(course::live))
        .route("/courses/{slug}/weeks/{week}", get(course::week))
        .route("/courses/{slug}/weeks/{week}/units/{unit}", get(unit::get))
        .route(
            "/courses/{slug}/weeks/{week}/units/{unit}/live",
            get(live::get),
        )
        .route("/api/courses", get(api::catalog))
        .route("/api/courses/{slug}", get(api::course))
        .route("/api/courses/{slug}/weeks/{week}", get(api::week))
        .route(
            "/api/courses/{slug}/weeks/{week}/units/{unit}",
            get(api::unit),
        )
        .route("/api/drafts", post(drafts_api::create))
        .route("/api/drafts/{id}", get(drafts_api::get))
        .route("/api/drafts/{id}/live", get(drafts_api::live))
        .route("/api/drafts/{id}/confirm", post(drafts_api::confirm))
        .route("/api/openapi.json", get(api::openapi))
        .route("/about", get(pages::about))
        .route("/terms", get(pages::terms))
        .route("/privacy", get(pages::privacy))
        .route("/assets/{name}", get(assets::get))
        .route("/robots.txt", get(seo::robots))
        .route("/sitemap.xml", get(seo::sitemap_index))
        .route("/sitemaps/{file}", get(seo::sitemap))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .fallback(|| async { WebError::NotFound })
}

/// A page's path parameters. A path whose parameters do not parse (`/weeks/abc`, a number past any
/// course's, escapes that are not UTF-8) names no page: 404, where axum's own extractor answers 400 in
/// plain text.
pub struct Params<T>(pub T);

impl<T: serde::de::DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Params<T> {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, WebError> {
        Path::from_request_parts(parts, state)
            .await
            .map(|Path(params)| Self(params))
            .map_err(|_| WebError::NotFound)
    }
}

/// [`Params`] of the JSON API: the 404 is JSON too.
pub struct ApiParams<T>(pub T);

impl<T: serde::de::DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiParams<T> {
    type Rejection = api::JsonError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, api::JsonError> {
        let Params(params) = Params::from_request_parts(parts, state).await?;
        Ok(Self(params))
    }
}

/// A course with its weeks and units, or `NotFound`.
async fn load(web: &Web, slug: &str) -> Result<(Course, Vec<Module>, Vec<Unit>), WebError> {
    let store = &web.app.store;
    let course = store.course(slug).await?;
    let modules = store.modules(course.id).await?;
    let units = store.units(course.id).await?;
    Ok((course, modules, units))
}

/// A rendered page.
fn page(template: &impl askama::Template) -> Result<Html<String>, WebError> {
    Ok(Html(template.render()?))
}

/// A page of one course, rendered.
struct Rendered {
    course_id: i64,
    html: String,
    /// Whether it may be served again: not while it starts writing its unit.
    keep: bool,
}

impl Rendered {
    fn new(course_id: i64, template: &impl askama::Template) -> Result<Self, WebError> {
        Ok(Self {
            course_id,
            html: template.render()?,
            keep: true,
        })
    }
}

/// The page at `key` from the page cache, or else as `render` makes it (kept if it may be).
async fn cached(
    web: &Web,
    key: PageKey,
    render: impl Future<Output = Result<Rendered, WebError>>,
) -> Result<Html<Bytes>, WebError> {
    let hit = web.pages.get(&key);
    web.app.metrics.page_cache(hit.is_some());
    if let Some(html) = hit {
        return Ok(Html(html));
    }
    let rendering = web.pages.rendering();
    let page = render.await?;
    let html = Bytes::from(page.html);
    if page.keep {
        web.pages.put(key, page.course_id, rendering, html.clone());
    }
    Ok(Html(html))
}
