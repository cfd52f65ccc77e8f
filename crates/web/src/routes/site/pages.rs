//! About, Terms and Privacy: fixed text about this Lyceum instance.

use askama::Template;
use axum::response::Html;

use crate::WebError;
use crate::render::page;

#[derive(Template)]
#[template(path = "about.html")]
struct About;

#[derive(Template)]
#[template(path = "terms.html")]
struct Terms;

#[derive(Template)]
#[template(path = "privacy.html")]
struct Privacy;

/// `GET /about`.
pub async fn about() -> Result<Html<String>, WebError> {
    page(&About)
}

/// `GET /terms`.
pub async fn terms() -> Result<Html<String>, WebError> {
    page(&Terms)
}

/// `GET /privacy`.
pub async fn privacy() -> Result<Html<String>, WebError> {
    page(&Privacy)
}
