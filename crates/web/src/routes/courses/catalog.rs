//! The home page (a signed-in learner's own courses, featured and newest courses, and the form that
//! starts a new course), the catalog of
//! all courses (or of one subject), featured first, then newest, paginated, the list of subjects, and
//! `POST /courses`, the form's action.

use askama::Template;
use axum::Form;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use lyceum_course::{
    Category, CourseRequest, InputError, LANGUAGES, Language, Level, RequestFields,
};
use lyceum_store::CourseSummary;
use serde::Deserialize;

use crate::auth::{Signed, Viewer};
use crate::client::Client;
use crate::drafts;
use crate::extract::{PageQuery, Params};
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
    /// "Courses", or the subject's name.
    heading: String,
    courses: Vec<Card>,
    page: i64,
    previous: Option<String>,
    next: Option<String>,
    /// The subjects to choose from, the one shown marked.
    subjects: Vec<Subject>,
    /// Whether this is one subject's catalog.
    in_subject: bool,
}

/// A subject with courses, as a choice in the catalog and an entry on `/categories`.
pub(crate) struct Subject {
    pub slug: &'static str,
    pub name: &'static str,
    /// Listed courses of it.
    pub count: i64,
    /// Whether it is the one shown.
    pub chosen: bool,
}

/// Every subject that has listed courses, `chosen` marked.
pub(crate) async fn subjects(
    web: &Web,
    chosen: Option<Category>,
) -> Result<Vec<Subject>, WebError> {
    Ok(web
        .app
        .store
        .category_counts()
        .await?
        .into_iter()
        .map(|(category, count)| Subject {
            slug: category.slug,
            name: category.name,
            count,
            chosen: Some(category) == chosen,
        })
        .collect())
}

/// The catalog's query string: the page, and a subject chosen in its form.
#[derive(Deserialize)]
pub struct CatalogQuery {
    /// From 1.
    page: Option<i64>,
    /// A category's slug; empty for every subject.
    #[serde(default)]
    category: String,
}

/// `GET /`: a signed-in learner's starts with their own courses.
pub async fn home(
    State(web): State<Web>,
    Viewer(viewer): Viewer,
) -> Result<Html<String>, WebError> {
    let form = FormView::new(lyceum_course::RequestFields::default(), Vec::new());
    page(&Home::load(&web, form, viewer.as_ref()).await?)
}

/// `GET /courses?page=N`: a page past the end is a 404, not an empty list. `?category=SLUG` (the
/// catalog's subject form) goes to that subject's page.
pub async fn list(
    State(web): State<Web>,
    query: Result<Query<CatalogQuery>, QueryRejection>,
) -> Result<Response, WebError> {
    // `?page=abc` or a number past any catalog names no page.
    let Ok(Query(query)) = query else {
        return Err(WebError::NotFound);
    };
    if !query.category.is_empty() {
        let category = Category::from_slug(&query.category).ok_or(WebError::NotFound)?;
        return Ok(Redirect::to(&format!("/categories/{}", category.slug)).into_response());
    }
    let number = page_number(query.page)?;
    let (courses, has_next) = web.app.catalog_page(number).await?;
    catalog_page(&web, None, courses, number, has_next).await
}

/// `GET /categories/{slug}?page=N`: the catalog of one subject.
pub async fn category(
    State(web): State<Web>,
    Params(slug): Params<String>,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Response, WebError> {
    let Ok(Query(query)) = query else {
        return Err(WebError::NotFound);
    };
    let category = Category::from_slug(&slug).ok_or(WebError::NotFound)?;
    let number = page_number(query.page)?;
    let (courses, has_next) = web.app.category_page(category, number).await?;
    catalog_page(&web, Some(category), courses, number, has_next).await
}

/// A page number from a query: from 1.
fn page_number(page: Option<i64>) -> Result<i64, WebError> {
    match page.unwrap_or(1) {
        number if number >= 1 => Ok(number),
        _ => Err(WebError::NotFound),
    }
}

/// Page `number` of the catalog, of every subject or of `category`.
async fn catalog_page(
    web: &Web,
    category: Option<Category>,
    courses: Vec<CourseSummary>,
    number: i64,
    has_next: bool,
) -> Result<Response, WebError> {
    if courses.is_empty() && number > 1 {
        return Err(WebError::NotFound);
    }
    let base = match category {
        Some(category) => format!("/categories/{}", category.slug),
        None => "/courses".to_owned(),
    };
    let at = |number: i64| format!("{base}?page={number}");
    // Page 1's address is the catalog's own, not a copy of it with `?page=1`.
    let path = if number == 1 {
        base.clone()
    } else {
        at(number)
    };
    let (heading, description) = match category {
        Some(category) => (
            category.name.to_owned(),
            format!(
                "Courses in {} on this Lyceum: featured ones first, then the newest.",
                category.name
            ),
        ),
        None => ("Courses".to_owned(), CATALOG_DESCRIPTION.to_owned()),
    };
    Ok(page(&Catalog {
        meta: Meta::new(&web.public_url, &path, "website", &heading, &description),
        heading,
        courses: courses.iter().map(Card::from).collect(),
        page: number,
        previous: (number > 1).then(|| at(number - 1)),
        next: has_next.then(|| at(number + 1)),
        subjects: subjects(web, category).await?,
        in_subject: category.is_some(),
    })?
    .into_response())
}

#[derive(Template)]
#[template(path = "categories.html")]
struct Categories {
    meta: Meta,
    subjects: Vec<Subject>,
}

/// `GET /categories`: every subject with courses, and how many.
pub async fn categories(State(web): State<Web>) -> Result<Html<String>, WebError> {
    page(&Categories {
        meta: Meta::new(
            &web.public_url,
            "/categories",
            "website",
            "Subjects",
            "The courses on this Lyceum by subject.",
        ),
        subjects: subjects(&web, None).await?,
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
