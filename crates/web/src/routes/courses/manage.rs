//! Looking after courses: an admin features, hides or deletes any course from the list of every
//! course; the person who made a course deletes it from their account page.

use askama::Template;
use axum::Form;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use lyceum_app::dates::utc_minute;
use lyceum_store::CourseSummary;
use serde::Deserialize;

use crate::auth::{Signed, SignedIn};
use crate::extract::{PageQuery, Params};
use crate::render::page;
use crate::views::{course_href, maker_name, progress_text};
use crate::{Web, WebError};

#[derive(Deserialize)]
pub struct ManageForm {
    #[serde(default)]
    csrf: String,
    /// `feature`, `unfeature`, `hide`, `show` or `delete`.
    #[serde(default)]
    action: String,
    /// The page to go back to: `admin` (the list of every course) or the account page.
    #[serde(default)]
    from: String,
}

/// What may be done to a course.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Feature(bool),
    Hide(bool),
    Delete,
}

impl Action {
    fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "feature" => Self::Feature(true),
            "unfeature" => Self::Feature(false),
            "hide" => Self::Hide(true),
            "show" => Self::Hide(false),
            "delete" => Self::Delete,
            _ => return None,
        })
    }
}

/// `POST /courses/{slug}/manage`: features, hides or deletes a course (or undoes the first two), for
/// an admin; deletes it, for the person who made it. Hidden courses are found too.
pub async fn manage(
    State(web): State<Web>,
    SignedIn(signed): SignedIn,
    Params(slug): Params<String>,
    Form(form): Form<ManageForm>,
) -> Result<Response, WebError> {
    signed.check_csrf(&form.csrf)?;
    let Some(action) = Action::parse(&form.action) else {
        return Err(WebError::BadForm(format!(
            "\"{}\" is not something a course can have done to it",
            form.action
        )));
    };
    let store = &web.app.store;
    let course = store.course(&slug).await?;
    let user = &signed.user;
    let made_it = course.maker.account() == Some(user.id);
    if !(user.is_admin || (made_it && action == Action::Delete)) {
        return Err(WebError::Forbidden);
    }
    match action {
        Action::Feature(on) => drop(store.set_featured(&slug, on).await?),
        Action::Hide(on) => drop(store.set_hidden(&slug, on).await?),
        Action::Delete => {
            store.delete_course(course.id).await?;
        }
    }
    web.pages.changed(course.id);
    tracing::info!(user = user.id, course = %course.slug, action = %form.action, "course looked after");
    let back = if form.from == "admin" && user.is_admin {
        "/admin/courses"
    } else {
        "/account"
    };
    Ok(Redirect::to(back).into_response())
}

/// A course as the admins' list shows it.
struct AdminRow {
    title: String,
    href: String,
    /// The request as typed.
    description: String,
    maker: String,
    created: String,
    progress: String,
    featured: bool,
    hidden: bool,
}

impl From<CourseSummary> for AdminRow {
    fn from(summary: CourseSummary) -> Self {
        let progress = progress_text(&summary);
        let course = summary.course;
        Self {
            href: course_href(&course),
            maker: maker_name(&course.maker).unwrap_or_else(|| "someone not signed in".into()),
            created: utc_minute(course.created_at),
            featured: course.featured_at.is_some(),
            hidden: course.hidden_at.is_some(),
            description: course.description,
            title: course.title,
            progress,
        }
    }
}

/// Every course, for admins to look after.
#[derive(Template)]
#[template(path = "admin_courses.html")]
struct AdminCourses {
    csrf: String,
    courses: Vec<AdminRow>,
    previous: Option<String>,
    next: Option<String>,
}

/// `GET /admin/courses?page=N`: every course, hidden ones too, newest first, with what an admin can
/// do to each; 403 for anyone else signed in.
pub async fn admin_courses(
    State(web): State<Web>,
    SignedIn(signed): SignedIn,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Html<String>, WebError> {
    admin(&signed)?;
    let Ok(Query(query)) = query else {
        return Err(WebError::NotFound);
    };
    let number = query.page.unwrap_or(1);
    if number < 1 {
        return Err(WebError::NotFound);
    }
    let (courses, has_next) = web.app.all_courses_page(number).await?;
    page(&AdminCourses {
        csrf: signed.session.csrf_token.clone(),
        courses: courses.into_iter().map(AdminRow::from).collect(),
        previous: (number > 1).then(|| format!("/admin/courses?page={}", number - 1)),
        next: has_next.then(|| format!("/admin/courses?page={}", number + 1)),
    })
}

/// Refuses anyone but an admin.
fn admin(signed: &Signed) -> Result<(), WebError> {
    if signed.user.is_admin {
        Ok(())
    } else {
        Err(WebError::Forbidden)
    }
}
