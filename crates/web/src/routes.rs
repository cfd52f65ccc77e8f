//! The routes, one module per resource; each handler extracts, asks one use case, and renders.

mod api;
mod assets;
mod catalog;
mod course;
mod live;
mod new_course;
mod pages;
mod seo;
mod unit;

use axum::Router;
use axum::routing::{get, post};
use lyceum_store::{Course, Module, Unit};

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
        .route("/api/openapi.json", get(api::openapi))
        .route("/about", get(pages::about))
        .route("/terms", get(pages::terms))
        .route("/privacy", get(pages::privacy))
        .route("/assets/{name}", get(assets::get))
        .route("/robots.txt", get(seo::robots))
        .route("/sitemap.xml", get(seo::sitemap))
        .route("/healthz", get(|| async { "ok" }))
        .fallback(|| async { WebError::NotFound })
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
fn page(template: &impl askama::Template) -> Result<axum::response::Html<String>, WebError> {
    Ok(axum::response::Html(template.render()?))
}
