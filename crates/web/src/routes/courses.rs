//! The pages of courses: the home page and catalog (and the form that starts a new course), a
//! course with its syllabus and progress, a week, and a unit with its article, live while it is written.

pub mod catalog;
pub mod course;
pub mod edit;
pub mod live;
pub mod manage;
pub mod tutor;
pub mod unit;

use lyceum_store::{Course, Module, Unit, User};

use crate::{Web, WebError};

/// The course `slug` if `viewer` may see it (see [`Course::shown_to`]); `NotFound` for none and for
/// one they may not see, so that a private course's address says nothing of it.
pub async fn shown(web: &Web, slug: &str, viewer: Option<&User>) -> Result<Course, WebError> {
    match web.app.store.course(slug).await? {
        course if course.shown_to(viewer) => Ok(course),
        _ => Err(WebError::NotFound),
    }
}

/// A course `viewer` may see, with its weeks and units, or `NotFound`.
pub async fn load(
    web: &Web,
    slug: &str,
    viewer: Option<&User>,
) -> Result<(Course, Vec<Module>, Vec<Unit>), WebError> {
    let store = &web.app.store;
    let course = shown(web, slug, viewer).await?;
    let modules = store.modules(course.id).await?;
    let units = store.units(course.id).await?;
    Ok((course, modules, units))
}

/// Unit `number` of week `week` of `course`, or `NotFound`.
pub async fn unit_of(web: &Web, course: &Course, week: i64, number: i64) -> Result<Unit, WebError> {
    web.app
        .store
        .units(course.id)
        .await?
        .into_iter()
        .find(|unit| unit.week == week && unit.number == number)
        .ok_or(WebError::NotFound)
}
