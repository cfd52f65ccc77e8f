//! A unit's page: the article, the syllabus with this unit marked, and links to the previous unit and
//! "Next up". Opening a unit that is not written yet moves it to the front of the queue and shows the
//! text written so far; the page's script then follows its live stream.

use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::response::Html;
use bytes::Bytes;
use lyceum_app::UnitText;
use lyceum_store::Status;

use super::load;
use crate::extract::Params;
use crate::page_cache::PageKey;
use crate::render::{Rendered, cached};
use crate::views::{Meta, UnitLink, WeekView, course_href, status_label, syllabus, unit_link};
use crate::{Web, WebError, markdown};

#[derive(Template)]
#[template(path = "unit.html")]
struct UnitPage {
    meta: Meta,
    lang: &'static str,
    course_title: String,
    course_href: String,
    week_title: String,
    week_href: String,
    label: String,
    title: String,
    objectives: Vec<String>,
    /// Sanitised HTML of the article (shared with the render cache, not copied), or of the part
    /// written so far.
    article: Arc<str>,
    status: &'static str,
    /// The live stream of the text, while it is being written.
    live: Option<String>,
    weeks: Vec<WeekView>,
    previous: Option<UnitLink>,
    next: Option<UnitLink>,
}

/// `GET /courses/{slug}/weeks/{week}/units/{unit}`.
pub async fn get(
    State(web): State<Web>,
    Params((slug, week, number)): Params<(String, i64, i64)>,
) -> Result<Html<Bytes>, WebError> {
    cached(
        &web,
        PageKey::Unit(slug.clone(), week, number),
        render(&web, &slug, week, number),
    )
    .await
}

async fn render(web: &Web, slug: &str, week: i64, number: i64) -> Result<Rendered, WebError> {
    let (course, modules, units) = load(web, slug).await?;
    let index = units
        .iter()
        .position(|unit| unit.week == week && unit.number == number)
        .ok_or(WebError::NotFound)?;
    let unit = &units[index];
    let module = modules
        .iter()
        .find(|module| module.number == week)
        .ok_or(WebError::NotFound)?;
    let (article, status) = match (&unit.body, unit.status) {
        (Some(body), Status::Ready) => (web.articles.get(unit.id, body), "ready"),
        // Written again only when someone asks (the retry button), not whenever the page is visited.
        (_, Status::Failed) => (Arc::from(""), "failed"),
        _ => match web.app.open_unit(unit.id).await {
            Ok(UnitText::Ready(body)) => (web.articles.get(unit.id, &body), "ready"),
            Ok(UnitText::Failed) => (Arc::from(""), "failed"),
            Ok(UnitText::Live(watch)) => (
                markdown::render(&watch.so_far).into(),
                status_label(unit.status),
            ),
            Err(error) => {
                tracing::warn!(unit = unit.id, %error, "could not start writing a unit");
                (Arc::from(""), status_label(unit.status))
            }
        },
    };
    let href = crate::views::unit_href(&course, unit);
    let title = format!("{week}.{number} {}", unit.title);
    let description = format!("{} {}", unit.title, unit.objectives.join(". "));
    let mut rendered = Rendered::new(
        course.id,
        &UnitPage {
            meta: Meta::new(&web.public_url, &href, "article", &title, &description),
            lang: course.language.tag,
            course_title: course.title.clone(),
            course_href: course_href(&course),
            week_title: module.title.clone(),
            week_href: crate::views::week_href(&course, week),
            label: format!("{week}.{number}"),
            title: unit.title.clone(),
            objectives: unit.objectives.clone(),
            article,
            live: matches!(status, "waiting" | "writing")
                .then(|| format!("{}/live", crate::views::unit_href(&course, unit))),
            status,
            weeks: syllabus(&course, &modules, &units, Some(unit.id)),
            previous: index
                .checked_sub(1)
                .map(|before| unit_link(&course, &units[before], None)),
            next: units
                .get(index + 1)
                .map(|after| unit_link(&course, after, None)),
        },
    )?;
    // A page that is not the stored article asks for the unit when opened: never served from memory.
    rendered.keep = status == "ready";
    Ok(rendered)
}
