//! A draft's page, where the outline appears as it is written and the person edits it, and confirming
//! it, which creates the course and starts writing it.

mod edit;

use std::collections::HashMap;

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use lyceum_course::{Outline, OutlineSoFar, WeekSoFar};
use lyceum_store::{Draft, DraftStatus};

use self::edit::{EditWeek, edit_view, edited_outline, problem_text, reshape};
use crate::client::Client;
use crate::drafts;
use crate::extract::Params;
use crate::render::page;
use crate::views::course_href;
use crate::{Web, WebError};

/// An outline so far, as the draft page shows it.
#[derive(Template)]
#[template(path = "outline.html")]
pub struct OutlineView {
    title: Option<String>,
    summary: Option<String>,
    weeks: Vec<WeekSoFar>,
}

impl From<&OutlineSoFar> for OutlineView {
    fn from(so_far: &OutlineSoFar) -> Self {
        Self {
            title: so_far.title.clone(),
            summary: so_far.summary.clone(),
            weeks: so_far.weeks.clone(),
        }
    }
}

#[derive(Template)]
#[template(path = "draft.html")]
struct DraftPage {
    outline: OutlineView,
    /// The course title and weeks to edit, once drafted.
    course_title: String,
    /// Every subject (slug and name), the outline's marked.
    subjects: Vec<(&'static str, &'static str, bool)>,
    /// Whether the outline has a subject.
    has_subject: bool,
    edit: Vec<EditWeek>,
    /// What is wrong with the person's edits.
    problems: Vec<String>,
    /// Why the course's language may come out poorly on this model.
    caution: Option<String>,
    /// `drafting`, `ready` or `failed`.
    status: &'static str,
    error: Option<String>,
    weeks: usize,
    units_per_week: usize,
    live_href: String,
    confirm_href: String,
}

/// `GET /drafts/{id}`.
pub async fn show(
    State(web): State<Web>,
    Params(id): Params<String>,
) -> Result<Response, WebError> {
    let draft = web.app.store.draft(&id).await?;
    if let Some(slug) = &draft.course {
        return Ok(Redirect::to(&format!("/courses/{slug}")).into_response());
    }
    let page = page(&draft_page(
        &web,
        &draft,
        draft.outline.as_ref(),
        Vec::new(),
    ))?;
    Ok(page.into_response())
}

fn draft_page(
    web: &Web,
    draft: &Draft,
    edited: Option<&Outline>,
    problems: Vec<String>,
) -> DraftPage {
    let id = &draft.id;
    DraftPage {
        outline: OutlineView::from(&draft.so_far),
        course_title: edited
            .map(|outline| outline.title.clone())
            .unwrap_or_default(),
        edit: edited.map(edit_view).unwrap_or_default(),
        subjects: crate::views::subject_choices(edited.and_then(|outline| outline.category)),
        has_subject: edited.is_some_and(|outline| outline.category.is_some()),
        problems,
        caution: web.app.settings.language_caution(draft.request.language),
        status: draft.status.as_str(),
        error: draft.error.clone(),
        weeks: draft.request.weeks.get(),
        units_per_week: draft.request.units_per_week.get(),
        live_href: format!("/drafts/{id}/live"),
        confirm_href: format!("/drafts/{id}/confirm"),
    }
}

/// `GET /drafts/{id}/live`: the outline so far as HTML (`html`) on every change, then `done` or
/// `failed`.
pub async fn live(
    State(web): State<Web>,
    client: Client,
    Params(id): Params<String>,
) -> Result<Response, WebError> {
    let render = |draft: &Draft| {
        OutlineView::from(&draft.so_far)
            .render()
            .unwrap_or_default()
    };
    drafts::follow(&web, client, &id, "html", render).await
}

/// `POST /drafts/{id}/confirm`: creates the course from the drafted outline with the person's renames
/// and goes to its page; renames that break the rules come back with what to change (422).
pub async fn confirm(
    State(web): State<Web>,
    Params(id): Params<String>,
    Form(fields): Form<HashMap<String, String>>,
) -> Result<Response, WebError> {
    let draft = web.app.store.draft(&id).await?;
    if let Some(slug) = &draft.course {
        return Ok(Redirect::to(&format!("/courses/{slug}")).into_response());
    }
    let Some(drafted) = draft
        .outline
        .as_ref()
        .filter(|_| draft.status == DraftStatus::Ready)
    else {
        return Ok(Redirect::to(&format!("/drafts/{id}")).into_response());
    };
    let mut outline = edited_outline(drafted, &fields);
    let action = fields.get("action").map_or("create", String::as_str);
    if reshape(&mut outline, action) {
        // A change of shape is shown for more editing; nothing is stored yet.
        return Ok(page(&draft_page(&web, &draft, Some(&outline), Vec::new()))?.into_response());
    }
    match drafts::create_course(&web, &draft, outline.clone()).await? {
        Ok(course) => Ok(Redirect::to(&course_href(&course)).into_response()),
        Err(problems) => {
            let problems = problems
                .iter()
                .map(|(path, message)| problem_text(path, message))
                .collect();
            let page = page(&draft_page(&web, &draft, Some(&outline), problems))?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
    }
}
