//! The home page (a signed-in learner's own courses, featured and newest courses, and the form that
//! starts a new course), the catalog of
//! all courses, featured first, then newest, paginated, and `POST /courses`, the form's action.

use askama::Template;
use axum::Form;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use lyceum_course::{CourseRequest, InputError, LANGUAGES, Language, Level, RequestFields};
use lyceum_store::CourseSummary;

use crate::auth::{Signed, Viewer};
use crate::client::Client;
use crate::drafts;
use crate::extract::PageQuery;
use crate::render::page;
use crate::views::{Meta, course_href};
use crate::{Web, WebError};

const HOME_DESCRIPTION: &str =
    "Open courses written with AI: type a topic, get a syllabus and every unit.";
const CATALOG_DESCRIPTION: &str =
    "Every course on this Lyceum: featured ones first, then the newest.";

/// Courses on the home page.
const ON_HOME: i64 = 6;

/// A course as a card in a list.
struct Card {
    title: String,
    summary: String,
    href: String,
    weeks: i64,
    language: &'static str,
    /// BCP-47 tag of the language it is written in.
    lang: &'static str,
    level: &'static str,
    /// Percent of its items written.
    written: i64,
    featured: bool,
}

impl From<&CourseSummary> for Card {
    fn from(summary: &CourseSummary) -> Self {
        let course = &summary.course;
        Self {
            title: course.title.clone(),
            summary: course.summary.clone(),
            href: course_href(course),
            weeks: course.weeks,
            language: course.language.native,
            lang: course.language.tag,
            level: course.level.as_str(),
            written: (summary.ready * 100)
                .checked_div(summary.items)
                .unwrap_or(0),
            featured: course.featured_at.is_some(),
        }
    }
}

/// The home page: the form to make a course, and the featured and newest courses.
#[derive(Template)]
#[template(path = "home.html")]
struct Home {
    meta: Meta,
    featured: Vec<Card>,
    recent: Vec<Card>,
    form: FormView,
    /// A signed-in learner's own courses.
    mine: Option<MyCourses>,
}

/// "Continue where you left off" and "My courses" on a signed-in learner's home page.
struct MyCourses {
    /// Started and not finished, the most recently active first.
    continuing: Vec<Continuing>,
    /// Every unit done.
    completed: Vec<(String, String)>,
    /// Made by them: title and address.
    made: Vec<(String, String)>,
}

/// A course to continue: where it is and where the learner goes next.
struct Continuing {
    title: String,
    href: String,
    done: i64,
    units: i64,
    next_href: String,
    next_label: String,
}

impl MyCourses {
    async fn load(web: &Web, user_id: i64) -> Result<Self, WebError> {
        let store = &web.app.store;
        let mut continuing = Vec::new();
        let mut completed = Vec::new();
        for started in store.learner_courses(user_id).await? {
            let href = course_href(&started.course);
            match started.next {
                Some((week, number, title)) => continuing.push(Continuing {
                    next_href: format!("{href}/weeks/{week}/units/{number}"),
                    next_label: format!("{week}.{number} {title}"),
                    title: started.course.title,
                    href,
                    done: started.done,
                    units: started.units,
                }),
                None => completed.push((started.course.title, href)),
            }
        }
        let made = store
            .courses_made_by(user_id)
            .await?
            .into_iter()
            .map(|summary| {
                let href = course_href(&summary.course);
                (summary.course.title, href)
            })
            .collect();
        Ok(Self {
            continuing,
            completed,
            made,
        })
    }
}

impl Home {
    /// The home page with `form` as typed, for `viewer`.
    async fn load(web: &Web, form: FormView, viewer: Option<&Signed>) -> Result<Self, WebError> {
        let store = &web.app.store;
        let cards = |list: Vec<CourseSummary>| list.iter().map(Card::from).collect();
        let mine = match viewer {
            Some(signed) => Some(MyCourses::load(web, signed.user.id).await?),
            None => None,
        };
        Ok(Self {
            mine,
            meta: Meta::new(&web.public_url, "/", "website", "Lyceum", HOME_DESCRIPTION),
            featured: cards(store.featured_courses(ON_HOME).await?),
            recent: cards(store.newest_courses(ON_HOME).await?),
            form: FormView {
                language_hint: web.app.settings.language_hint(),
                ..form
            },
        })
    }
}

#[derive(Template)]
#[template(path = "catalog.html")]
struct Catalog {
    meta: Meta,
    courses: Vec<Card>,
    page: i64,
    previous: Option<String>,
    next: Option<String>,
}

/// `GET /`: a signed-in learner's starts with their own courses.
pub async fn home(
    State(web): State<Web>,
    Viewer(viewer): Viewer,
) -> Result<Html<String>, WebError> {
    let form = FormView::new(lyceum_course::RequestFields::default(), Vec::new());
    page(&Home::load(&web, form, viewer.as_ref()).await?)
}

/// `GET /courses?page=N`: a page past the end is a 404, not an empty list.
pub async fn list(
    State(web): State<Web>,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Html<String>, WebError> {
    // `?page=abc` or a number past any catalog names no page.
    let Ok(Query(query)) = query else {
        return Err(WebError::NotFound);
    };
    let number = query.page.unwrap_or(1);
    if number < 1 {
        return Err(WebError::NotFound);
    }
    let (courses, has_next) = web.app.catalog_page(number).await?;
    if courses.is_empty() && number > 1 {
        return Err(WebError::NotFound);
    }
    let path = if number == 1 {
        "/courses".to_owned()
    } else {
        format!("/courses?page={number}")
    };
    page(&Catalog {
        meta: Meta::new(
            &web.public_url,
            &path,
            "website",
            "Courses",
            CATALOG_DESCRIPTION,
        ),
        courses: courses.iter().map(Card::from).collect(),
        page: number,
        previous: (number > 1).then(|| format!("/courses?page={}", number - 1)),
        next: has_next.then(|| format!("/courses?page={}", number + 1)),
    })
}

/// `POST /courses`: starts drafting the outline and goes to its page, or shows the form again with
/// what to change (422), or says to wait (429).
pub async fn create(
    State(web): State<Web>,
    client: Client,
    Viewer(viewer): Viewer,
    Form(form): Form<RequestFields>,
) -> Result<Response, WebError> {
    let request = match CourseRequest::parse(&form) {
        Ok(request) => request,
        Err(errors) => {
            let home = Home::load(&web, FormView::new(form, errors), viewer.as_ref()).await?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page(&home)?).into_response());
        }
    };
    let account = viewer.as_ref().map(|signed| &signed.user);
    let id = drafts::start(&web, client, account, &request).await?;
    Ok(Redirect::to(&format!("/drafts/{id}")).into_response())
}

/// The form with what was typed and what is wrong with it, field by field.
pub struct FormView {
    /// What was typed.
    pub values: RequestFields,
    errors: Vec<InputError>,
    /// Every language a course can be written in.
    pub languages: &'static [Language],
    /// The levels, in order.
    pub levels: [&'static str; 3],
    /// Which languages the configured model writes well, when it is known to write others poorly.
    pub language_hint: Option<String>,
}

impl FormView {
    /// The form as typed, with these problems.
    pub fn new(values: RequestFields, errors: Vec<InputError>) -> Self {
        Self {
            values,
            errors,
            languages: LANGUAGES,
            levels: Level::ALL.map(Level::as_str),
            language_hint: None,
        }
    }

    /// What is wrong with `field`, if anything.
    pub fn error(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|error| error.field == field)
            .map(|error| error.message.as_str())
    }

    /// Whether anything is wrong.
    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }
}
