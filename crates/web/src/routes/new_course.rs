//! Making a course on the web: the form on the home page, the draft page where the outline appears as
//! it is written, and confirming it, which creates the course and starts writing it.

use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use lyceum_app::GenerateError;
use lyceum_course::{
    CourseRequest, InputError, LANGUAGES, Language, Level, Outline, OutlineModule, OutlineSoFar,
    OutlineUnit, RequestFields, WeekSoFar,
};
use lyceum_store::{Draft, DraftStatus};

use super::catalog::Home;
use super::{Params, page};
use crate::client::Client;
use crate::drafts;
use crate::views::course_href;
use crate::{Web, WebError};

/// The form with what was typed and what is wrong with it, field by field.
pub struct FormView {
    /// What was typed.
    pub values: RequestFields,
    errors: Vec<InputError>,
    /// Every language a course can be written in.
    pub languages: &'static [Language],
    /// The levels, in order.
    pub levels: [&'static str; 3],
}

impl FormView {
    /// The form as typed, with these problems.
    pub fn new(values: RequestFields, errors: Vec<InputError>) -> Self {
        Self {
            values,
            errors,
            languages: LANGUAGES,
            levels: Level::ALL.map(Level::as_str),
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

/// `POST /courses`: starts drafting the outline and goes to its page, or shows the form again with
/// what to change (422), or says to wait (429).
pub async fn create(
    State(web): State<Web>,
    client: Client,
    Form(form): Form<RequestFields>,
) -> Result<Response, WebError> {
    let request = match CourseRequest::parse(&form) {
        Ok(request) => request,
        Err(errors) => {
            let home = Home::load(&web, FormView::new(form, errors)).await?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page(&home)?).into_response());
        }
    };
    let id = start(&web, client, &request).await?;
    Ok(Redirect::to(&format!("/drafts/{id}")).into_response())
}

/// Starts drafting `request` for `client`, within its limits: drafts and course units an hour, and
/// drafts at once. The draft's id.
pub(super) async fn start(
    web: &Web,
    client: Client,
    request: &CourseRequest,
) -> Result<String, WebError> {
    let weeks = request.weeks.get();
    let units = (weeks * request.units_per_week.get()) as u32;
    web.draft_limit
        .check(client, 1)
        .map_err(WebError::TooManyRequests)?;
    if let Err(wait) = web.unit_limit.check(client, units) {
        web.draft_limit.refund(client, 1);
        return Err(WebError::TooManyRequests(wait));
    }
    let at_once = web.app.settings.web.drafts_at_once;
    let started = match web
        .app
        .start_draft(request, &client.0.to_string(), at_once)
        .await
    {
        Ok(Some(id)) => Ok(id),
        Ok(None) => Err(WebError::TooManyDrafts),
        Err(error) => Err(error.into()),
    };
    if started.is_err() {
        web.draft_limit.refund(client, 1);
        web.unit_limit.refund(client, units);
    }
    tracing::info!(weeks, "drafting an outline from the web");
    started
}

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

/// A week of a drafted outline in the form that edits it.
struct EditWeek {
    number: usize,
    title: String,
    units: Vec<EditUnit>,
}

/// A unit of a drafted outline in the form that edits it.
struct EditUnit {
    /// "1.2".
    label: String,
    /// The form field of its title; its objectives are in `{field}-objectives`.
    field: String,
    /// Its place, for the form's buttons: "1-2".
    place: String,
    title: String,
    objectives: Vec<String>,
}

fn edit_view(outline: &Outline) -> Vec<EditWeek> {
    outline
        .modules
        .iter()
        .enumerate()
        .map(|(w, module)| EditWeek {
            number: w + 1,
            title: module.title.clone(),
            units: module
                .units
                .iter()
                .enumerate()
                .map(|(u, unit)| EditUnit {
                    label: format!("{}.{}", w + 1, u + 1),
                    field: format!("unit-{}-{}", w + 1, u + 1),
                    place: format!("{}-{}", w + 1, u + 1),
                    title: unit.title.clone(),
                    objectives: unit.objectives.clone(),
                })
                .collect(),
        })
        .collect()
}

/// The outline as the person edited it. The form carries every title and each unit's objectives (one
/// a line) as `title`, `week-N`, `unit-N-M` and `unit-N-M-objectives`; a post without weeks (the
/// drafted outline confirmed as it is) changes at most the title.
fn edited_outline(drafted: &Outline, fields: &HashMap<String, String>) -> Outline {
    let mut outline = drafted.clone();
    if let Some(title) = fields.get("title") {
        outline.title.clone_from(title);
    }
    if !fields.contains_key("week-1") {
        return outline;
    }
    outline.modules = (1..)
        .map_while(|w| {
            let title = fields.get(&format!("week-{w}"))?.clone();
            let units = (1..)
                .map_while(|u| {
                    let title = fields.get(&format!("unit-{w}-{u}"))?.clone();
                    let objectives = fields
                        .get(&format!("unit-{w}-{u}-objectives"))
                        .map(|text| {
                            text.lines()
                                .map(str::trim)
                                .filter(|line| !line.is_empty())
                                .map(str::to_owned)
                                .collect()
                        })
                        .unwrap_or_default();
                    Some(OutlineUnit { title, objectives })
                })
                .collect();
            Some(OutlineModule { title, units })
        })
        .collect();
    outline
}

/// A change to the outline's shape, asked for with one of the form's buttons: `add-week`,
/// `remove-week-N`, `up-week-N`, `add-unit-N`, `remove-unit-N-M`, `up-unit-N-M` (numbers from 1).
/// Returns false for anything else, such as `create`, or a change that does not apply (the last week
/// or unit is never removed).
fn reshape(outline: &mut Outline, action: &str) -> bool {
    let verb: Vec<&str> = action
        .split('-')
        .filter(|part| part.parse::<usize>().is_err())
        .collect();
    // From 1 in the form; 0 or garbage becomes an index that fits nothing.
    let numbers: Vec<usize> = action
        .split('-')
        .filter_map(|part| part.parse::<usize>().ok())
        .map(|n| n.checked_sub(1).unwrap_or(usize::MAX))
        .collect();
    let blank_unit = || OutlineUnit {
        title: String::new(),
        objectives: Vec::new(),
    };
    let weeks = &mut outline.modules;
    let units_of =
        |w: usize, weeks: &Vec<OutlineModule>| weeks.get(w).map_or(0, |week| week.units.len());
    match (verb.join("-").as_str(), numbers.as_slice()) {
        ("add-week", []) => weeks.push(OutlineModule {
            title: String::new(),
            units: vec![blank_unit()],
        }),
        ("remove-week", &[w]) if w < weeks.len() && weeks.len() > 1 => {
            weeks.remove(w);
        }
        ("up-week", &[w]) if (1..weeks.len()).contains(&w) => weeks.swap(w, w - 1),
        ("add-unit", &[w]) if w < weeks.len() => weeks[w].units.push(blank_unit()),
        ("remove-unit", &[w, u]) if u < units_of(w, weeks) && units_of(w, weeks) > 1 => {
            weeks[w].units.remove(u);
        }
        ("up-unit", &[w, u]) if (1..units_of(w, weeks)).contains(&u) => {
            weeks[w].units.swap(u, u - 1)
        }
        _ => return false,
    }
    true
}

/// A problem of an edited outline in the person's words: "Unit 1.2 title is empty".
fn problem_text(path: &str, message: &str) -> String {
    let numbers: Vec<usize> = path
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|part| part.parse().ok())
        .collect();
    let what = match (path, numbers.as_slice()) {
        ("title", _) => "Course title".to_owned(),
        (_, [w]) if path.ends_with(".title") => format!("Week {} title", w + 1),
        (_, [w, u]) if path.ends_with(".title") => format!("Unit {}.{} title", w + 1, u + 1),
        _ => path.to_owned(),
    };
    format!("{what} {message}")
}

#[derive(Template)]
#[template(path = "draft.html")]
struct DraftPage {
    outline: OutlineView,
    /// The course title and weeks to edit, once drafted.
    course_title: String,
    edit: Vec<EditWeek>,
    /// What is wrong with the person's edits.
    problems: Vec<String>,
    /// `drafting`, `ready` or `failed`.
    status: &'static str,
    error: Option<String>,
    weeks: usize,
    units_per_week: usize,
    live_href: String,
    confirm_href: String,
}

/// The draft with this id.
pub(super) async fn draft(web: &Web, id: &str) -> Result<Draft, WebError> {
    Ok(web.app.store.draft(id).await?)
}

/// `GET /drafts/{id}`.
pub async fn show(
    State(web): State<Web>,
    Params(id): Params<String>,
) -> Result<Response, WebError> {
    let draft = draft(&web, &id).await?;
    if let Some(slug) = &draft.course {
        return Ok(Redirect::to(&format!("/courses/{slug}")).into_response());
    }
    Ok(page(&draft_page(&draft, draft.outline.as_ref(), Vec::new()))?.into_response())
}

fn draft_page(draft: &Draft, edited: Option<&Outline>, problems: Vec<String>) -> DraftPage {
    let id = &draft.id;
    DraftPage {
        outline: OutlineView::from(&draft.so_far),
        course_title: edited
            .map(|outline| outline.title.clone())
            .unwrap_or_default(),
        edit: edited.map(edit_view).unwrap_or_default(),
        problems,
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
    let draft = draft(&web, &id).await?;
    let slot = web.streams.open(client)?;
    Ok(drafts::follow(
        Arc::clone(&web.app),
        draft.id,
        slot,
        "html",
        |draft| {
            OutlineView::from(&draft.so_far)
                .render()
                .unwrap_or_default()
        },
    ))
}

/// `POST /drafts/{id}/confirm`: creates the course from the drafted outline with the person's renames
/// and goes to its page; renames that break the rules come back with what to change (422).
pub async fn confirm(
    State(web): State<Web>,
    Params(id): Params<String>,
    Form(fields): Form<HashMap<String, String>>,
) -> Result<Response, WebError> {
    let draft = draft(&web, &id).await?;
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
        return Ok(page(&draft_page(&draft, Some(&outline), Vec::new()))?.into_response());
    }
    match create_course(&web, &draft, outline.clone()).await? {
        Ok(course) => Ok(Redirect::to(&course_href(&course)).into_response()),
        Err(problems) => {
            let problems = problems
                .iter()
                .map(|(path, message)| problem_text(path, message))
                .collect();
            let page = page(&draft_page(&draft, Some(&outline), problems))?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
    }
}

/// Creates the course of `draft` from `outline` and starts writing it (once: a draft confirmed already
/// gives its course); or the outline's problems as `(path, message)` pairs, with nothing stored.
pub(super) async fn create_course(
    web: &Web,
    draft: &Draft,
    outline: Outline,
) -> Result<Result<lyceum_store::Course, Vec<(String, String)>>, WebError> {
    match web.app.confirm_draft(draft, outline).await {
        Ok(course) => Ok(Ok(course)),
        Err(GenerateError::Outline(error)) => Ok(Err(error.problems)),
        Err(other) => Err(other.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drafted() -> Outline {
        Outline {
            title: "Bridges".into(),
            summary: "How they stand.".into(),
            outcomes: vec!["Explain loads".into()],
            modules: (1..=2)
                .map(|w| OutlineModule {
                    title: format!("Week {w}"),
                    units: (1..=2)
                        .map(|u| OutlineUnit {
                            title: format!("Unit {w}.{u}"),
                            objectives: vec!["Do".into()],
                        })
                        .collect(),
                })
                .collect(),
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

        #[test]
        fn any_posted_form_and_button_is_applied_or_ignored_never_a_panic(
            fields in proptest::collection::hash_map(
                proptest::prop_oneof![
                    proptest::prelude::Just("title".to_owned()),
                    "week-[0-9]{1,3}",
                    "unit-[0-9]{1,3}-[0-9]{1,3}",
                    "unit-[0-9]{1,3}-[0-9]{1,3}-objectives",
                    proptest::prelude::any::<String>(),
                ],
                proptest::prelude::any::<String>(),
                0..12,
            ),
            actions in proptest::collection::vec(
                proptest::prop_oneof![
                    "(add|remove|up)-(week|unit)(-[0-9]{1,20}){0,3}",
                    proptest::prelude::any::<String>(),
                ],
                0..8,
            ),
        ) {
            let mut outline = edited_outline(&drafted(), &fields);
            for action in &actions {
                let weeks = outline.modules.len();
                reshape(&mut outline, action);
                proptest::prop_assert!(outline.modules.len() >= weeks.min(1), "{action}");
            }
            let _ = outline.normalized().validate();
            let _ = problem_text(&actions.concat(), "is empty");
        }
    }
}
