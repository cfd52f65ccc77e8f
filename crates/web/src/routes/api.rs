//! The JSON API for what the pages show (the catalog, a course, a week, a unit), for making a course
//! (drafts), and the OpenAPI document that describes it all (`/api/openapi.json`). Errors are JSON too:
//! `{"error": "…"}` with the same status a page would get, and for bad input what to change.

pub mod courses;
pub mod drafts;
pub mod me;
pub mod openapi;
pub mod search;
pub mod tutor;

use serde::Serialize;

/// Where a course is: its page and its API address.
#[derive(Serialize)]
pub struct CourseLink {
    slug: String,
    /// The course's page.
    url: String,
    /// The course as JSON.
    pub api: String,
}

impl CourseLink {
    /// The links of the course `slug`.
    pub fn new(slug: &str) -> Self {
        Self {
            slug: slug.to_owned(),
            url: format!("/courses/{slug}"),
            api: format!("/api/courses/{slug}"),
        }
    }
}
