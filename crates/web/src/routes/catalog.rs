//! The home page (featured and newest courses) and the catalog of all courses, featured first, then
//! newest, paginated.

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::Html;
use lyceum_store::CourseSummary;
use serde::Deserialize;

use super::new_course::FormView;
use super::page;
use crate::views::{Meta, course_href};
use crate::{Web, WebError};

const HOME_DESCRIPTION: &str =
    "Open courses written with AI: type a topic, get a syllabus and every unit.";
const CATALOG_DESCRIPTION: &str =
    "Every course on this Lyceum: featured ones first, then the newest.";

/// Courses per catalog page.
const PER_PAGE: i64 = 20;
/// Courses on the home page.
const ON_HOME: i64 = 6;

/// A course as a card in a list.
pub(super) struct Card {
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
pub(super) struct Home {
    meta: Meta,
    featured: Vec<Card>,
    recent: Vec<Card>,
    form: FormView,
}

impl Home {
    /// The home page with `form` as typed.
    pub(super) async fn load(web: &Web, form: FormView) -> Result<Self, WebError> {
        let store = &web.app.store;
        let cards = |list: Vec<CourseSummary>| list.iter().map(Card::from).collect();
        Ok(Self {
            meta: Meta::new(&web.public_url, "/", "website", "Lyceum", HOME_DESCRIPTION),
            featured: cards(store.featured_courses(ON_HOME).await?),
            recent: cards(store.newest_courses(ON_HOME).await?),
            form,
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

/// The catalog's query string.
#[derive(Deserialize)]
pub struct PageQuery {
    /// From 1.
    pub page: Option<i64>,
}

/// `GET /`.
pub async fn home(State(web): State<Web>) -> Result<Html<String>, WebError> {
    let form = FormView::new(lyceum_course::RequestFields::default(), Vec::new());
    page(&Home::load(&web, form).await?)
}

/// Page `number` (from 1) of the catalog, featured first, then newest, and whether a next page follows.
pub async fn catalog_page(
    store: &lyceum_store::Store,
    number: i64,
) -> Result<(Vec<CourseSummary>, bool), lyceum_store::StoreError> {
    // A page number too large for an offset is past the end of any catalog.
    let Some(offset) = number.checked_sub(1).and_then(|n| n.checked_mul(PER_PAGE)) else {
        return Ok((Vec::new(), false));
    };
    // One more than a page says whether there is a next one.
    let mut courses = store.list_courses(PER_PAGE + 1, offset).await?;
    let has_next = courses.len() as i64 > PER_PAGE;
    courses.truncate(PER_PAGE as usize);
    Ok((courses, has_next))
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
    let (courses, has_next) = catalog_page(&web.app.store, number).await?;
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
