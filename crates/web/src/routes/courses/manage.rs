//! Looking after courses: an admin features, hides or deletes any course from the list of every
//! course; the person who made a course chooses who may see it (on its page) and deletes it, after a
//! page that asks whether they are sure.

use askama::Template;
use axum::Form;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use lyceum_app::dates::utc_minute;
use lyceum_course::Category;
use lyceum_store::{Course, CourseSummary, Visibility};
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
    /// `feature`, `unfeature`, `hide`, `show`, `visibility`, `category` or `delete`.
    #[serde(default)]
    action: String,
    /// With `visibility`: `public`, `unlisted` or `private`.
    #[serde(default)]
    visibility: String,
    /// With `category`: a subject's slug, or empty for none.
    #[serde(default)]
    category: String,
    /// The page to go back to: `admin` (the list of every course), `course` (its page) or the
    /// account page.
    #[serde(default)]
    from: String,
}

/// What may be done to a course.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Feature(bool),
    Hide(bool),
    Visibility(Visibility),
    Category(Option<Category>),
    Delete,
}

impl Action {
    fn parse(form: &ManageForm) -> Result<Self, WebError> {
        Ok(match form.action.as_str() {
            "feature" => Self::Feature(true),
            "unfeature" => Self::Feature(false),
            "hide" => Self::Hide(true),
            "show" => Self::Hide(false),
            "visibility" => {
                Self::Visibility(Visibility::parse(&form.visibility).ok_or_else(|| {
                    WebError::BadForm(format!(
                        "visibility must be \"public\", \"unlisted\" or \"private\", not \"{}\"",
                        form.visibility
                    ))
                })?)
            }
            "category" if form.category.is_empty() => Self::Category(None),
            "category" => Self::Category(Some(Category::from_slug(&form.category).ok_or_else(
                || {
                    WebError::BadForm(format!(
                        "\"{}\" is not a subject; choose one from the list",
                        form.category
                    ))
                },
            )?)),
            "delete" => Self::Delete,
            other => {
                return Err(WebError::BadForm(format!(
                    "\"{other}\" is not something a course can have done to it"
                )));
            }
        })
    }

    /// Whether the course's maker may do it too, or only an admin.
    fn for_maker(self) -> bool {
        matches!(self, Self::Visibility(_) | Self::Category(_) | Self::Delete)
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
    let action = Action::parse(&form)?;
    let store = &web.app.store;
    let course = maker_or_admin(&web, &signed, &slug, action.for_maker()).await?;
    let user = &signed.user;
    match action {
        Action::Feature(on) => drop(store.set_featured(&slug, on).await?),
        Action::Hide(on) => drop(store.set_hidden(&slug, on).await?),
        Action::Visibility(visibility) => {
            store.set_visibility(course.id, visibility).await?;
        }
        Action::Category(category) => {
            store.set_category(course.id, category).await?;
        }
        Action::Delete => {
            store.delete_course(course.id).await?;
        }
    }
    web.pages.changed(course.id);
    tracing::info!(user = user.id, course = %course.slug, action = %form.action, "course looked after");
    let back = match form.from.as_str() {
        "admin" if user.is_admin => "/admin/courses".to_owned(),
        "course" if action != Action::Delete => course_href(&course),
        _ => "/account".to_owned(),
    };
    Ok(Redirect::to(&back).into_response())
}

/// Course `slug`, for its maker (when `maker_may`) or an admin: a 404 to whoever may not see it, a
/// 403 to whoever sees it but may not change it.
pub(crate) async fn maker_or_admin(
    web: &Web,
    signed: &Signed,
    slug: &str,
    maker_may: bool,
) -> Result<Course, WebError> {
    let user = &signed.user;
    let course = super::shown(web, slug, Some(user)).await?;
    let made_it = course.maker.account() == Some(user.id);
    if user.is_admin || (made_it && maker_may) {
        Ok(course)
    } else {
        Err(WebError::Forbidden)
    }
}

/// The page that asks whether to delete a course.
#[derive(Template)]
#[template(path = "course_delete.html")]
struct DeletePage {
    title: String,
    href: String,
    csrf: String,
    units: usize,
    learners: i64,
}

/// `GET /courses/{slug}/delete`: asks its maker (or an admin) whether to delete the course, saying
/// what goes with it; the answer posts to `/courses/{slug}/manage`.
pub async fn confirm_delete(
    State(web): State<Web>,
    SignedIn(signed): SignedIn,
    Params(slug): Params<String>,
) -> Result<Html<String>, WebError> {
    let course = maker_or_admin(&web, &signed, &slug, true).await?;
    let store = &web.app.store;
    page(&DeletePage {
        units: store.units(course.id).await?.len(),
        learners: store.learner_count(course.id).await?,
        href: course_href(&course),
        title: course.title,
        csrf: signed.session.csrf_token.clone(),
    })
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
