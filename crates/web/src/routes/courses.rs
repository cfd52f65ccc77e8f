//! The pages of courses: the home page and catalog (and the form that starts a new course), a
//! course with its syllabus and progress, a week, and a unit with its article, live while it is written.

pub mod catalog;
pub mod course;
pub mod live;
pub mod unit;

use lyceum_store::{Course, Module, Unit};

use crate::{Web, WebError};

/// A course with its weeks and units, or `NotFound`.
pub async fn load(web: &Web, slug: &str) -> Result<(Course, Vec<Module>, Vec<Unit>), WebError> {
    let store = &web.app.store;
    let course = store.course(slug).await?;
    let modules = store.modules(course.id).await?;
    let units = store.units(course.id).await?;
    Ok((course, modules, units))
}
