//! Making a course on the web: the form on the home page, the draft page where the outline appears as
//! it is written, and confirming it, which creates the course and starts writing it.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Redirect, Response};
use lyceum_app::GenerateError;
use lyceum_course::{
    Audience, CourseRequest, Description, InputError, LANGUAGES, Language, Level, Outline,
    OutlineModule, OutlineUnit, UnitsPerWeek, Weeks,
};
use serde::Deserialize;

use super::catalog::Home;
use super::{Params, page};
use crate::client::{Client, StreamSlot};
use crate::drafts::{Draft, DraftState, WeekSoFar};
use crate::views::course_href;
use crate::{Web, WebError};

/// The form as typed; every field is text until it is parsed.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct NewCourseForm {
    /// What the course is about.
    pub description: String,
    /// Weeks, 1–26.
    pub weeks: String,
    /// Units a week, 1–6.
    pub units_per_week: String,
    /// A language tag or name.
    pub language: String,
    /// beginner, intermediate or advanced.
    pub level: String,
    /// Who it is for.
    pub audience: String,
}

impl Default for NewCourseForm {
    fn default() -> Self {
        Self {
            description: String::new(),
            weeks: Weeks::DEFAULT.get().to_string(),
            units_per_week: UnitsPerWeek::DEFAULT.get().to_string(),
            language: "English".into(),
            level: Level::default().as_str().into(),
            audience: String::new(),
        }
    }
}

/// The form with what was typed and what is wrong with it, field by field.
pub struct FormView {
    /// What was typed.
    pub values: NewCourseForm,
    errors: Vec<InputError>,
    /// Every language a course can be written in.
    pub languages: &'static [Language],
    /// The levels, in order.
    pub levels: [&'static str; 3],
}

impl FormView {
    /// The form as typed, with these problems.
    pub fn new(values: NewCourseForm, errors: Vec<InputError>) -> Self {
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

/// Parses every field; all problems at once, so the person fixes them in one go.
pub(super) fn parse(form: &NewCourseForm) -> Result<CourseRequest, Vec<InputError>> {
    let mut errors = Vec::new();
    let mut keep = |error: InputError| errors.push(error);
    let description = Description::parse(&form.description)
        .map_err(&mut keep)
        .ok();
    let weeks = Weeks::parse(&form.weeks).map_err(&mut keep).ok();
    let units = UnitsPerWeek::parse(&form.units_per_week)
        .map_err(&mut keep)
        .ok();
    let language = Language::parse(&form.language).map_err(&mut keep).ok();
    let level = Level::parse(&form.level).map_err(&mut keep).ok();
    let audience = Audience::parse(&form.audience).map_err(&mut keep).ok();
    match (description, weeks, units, language, level, audience) {
        (
            Some(description),
            Some(weeks),
            Some(units),
            Some(language),
            Some(level),
            Some(audience),
        ) => {
            let mut request = CourseRequest::new(description);
            request.weeks = weeks;
            request.units_per_week = units;
            request.language = language;
            request.level = level;
            request.audience = audience;
            Ok(request)
        }
        _ => Err(errors),
    }
}

/// `POST /courses`: starts drafting the outline and goes to its page, or shows the form again with
/// what to change (422), or says to wait (429).
pub async fn create(
    State(web): State<Web>,
    client: Client,
    Form(form): Form<NewCourseForm>,
) -> Result<Response, WebError> {
    let request = match parse(&form) {
        Ok(request) => request,
        Err(errors) => {
            let home = Home::load(&web, FormView::new(form, errors)).await?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page(&home)?).into_response());
        }
    };
    let id = start(&web, client, request)?;
    Ok(Redirect::to(&format!("/drafts/{id}")).into_response())
}

/// Starts drafting `request` for `client`, within its limits: drafts and course units an hour, and
/// drafts at once. The draft's id.
pub(super) fn start(web: &Web, client: Client, request: CourseRequest) -> Result<String, WebError> {
    let weeks = request.weeks.get();
    let units = (weeks * request.units_per_week.get()) as u32;
    web.draft_limit
        .check(client, 1)
        .map_err(WebError::TooManyRequests)?;
    if let Err(wait) = web.unit_limit.check(client, units) {
        web.draft_limit.refund(client, 1);
        return Err(WebError::TooManyRequests(wait));
    }
    let started = web.drafts.start(
        web.app.clone(),
        request,
        client,
        web.app.settings.web.drafts_at_once,
    );
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

impl From<&DraftState> for OutlineView {
    fn from(state: &DraftState) -> Self {
        Self {
            title: state.title.clone(),
            summary: state.summary.clone(),
            weeks: state.weeks_so_far(),
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

pub(super) fn draft(web: &Web, id: &str) -> Result<Arc<Draft>, WebError> {
    web.drafts.get(id).ok_or(WebError::NotFound)
}

/// `GET /drafts/{id}`.
pub async fn show(
    State(web): State<Web>,
    Params(id): Params<String>,
) -> Result<Response, WebError> {
    let draft = draft(&web, &id)?;
    let state = draft.state();
    if let Some(slug) = &state.course {
        return Ok(Redirect::to(&format!("/courses/{slug}")).into_response());
    }
    let edited = match &state.result {
        Some(Ok((outline, _))) => Some(outline),
        _ => None,
    };
    Ok(page(&draft_page(&id, &draft, &state, edited, Vec::new()))?.into_response())
}

/// `drafting`, `ready` or `failed`, with why it failed.
pub(super) fn status(state: &DraftState) -> (&'static str, Option<String>) {
    match &state.result {
        None => ("drafting", None),
        Some(Ok(_)) => ("ready", None),
        Some(Err(error)) => ("failed", Some(error.clone())),
    }
}

fn draft_page(
    id: &str,
    draft: &Draft,
    state: &DraftState,
    edited: Option<&Outline>,
    problems: Vec<String>,
) -> DraftPage {
    let (status, error) = status(state);
    DraftPage {
        outline: OutlineView::from(state),
        course_title: edited
            .map(|outline| outline.title.clone())
            .unwrap_or_default(),
        edit: edited.map(edit_view).unwrap_or_default(),
        problems,
        status,
        error,
        weeks: draft.request.weeks.get(),
        units_per_week: draft.request.units_per_week.get(),
        live_href: format!("/drafts/{id}/live"),
        confirm_href: format!("/drafts/{id}/confirm"),
    }
}

/// Where a draft's live stream is.
#[derive(Clone, Copy)]
enum Phase {
    /// Send the outline so far.
    Start,
    /// Wait for a change, then send the outline so far.
    Wait,
    /// Drafting has ended and the whole outline was sent: say how it ended.
    Last,
    /// Nothing more.
    End,
}

/// The shortest time between two renders of a draft's live stream.
const RENDER_EVERY: Duration = Duration::from_millis(200);

/// `GET /drafts/{id}/live`: the outline so far as HTML (`html`) on every change, then `done` or
/// `failed`.
pub async fn live(
    State(web): State<Web>,
    client: Client,
    Params(id): Params<String>,
) -> Result<Response, WebError> {
    let draft = draft(&web, &id)?;
    let slot = web.streams.open(client)?;
    Ok(follow(draft, slot, "html", |state| {
        OutlineView::from(state).render().unwrap_or_default()
    }))
}

/// A draft as Server-Sent Events: `event` with `render` of what it has so far, at once and on every
/// change (at most every [`RENDER_EVERY`]), then `done` or `failed` (data: why). It holds its
/// client's stream `slot` until it ends.
pub(super) fn follow(
    draft: Arc<Draft>,
    slot: StreamSlot,
    event: &'static str,
    render: impl Fn(&DraftState) -> String + Send + Sync + 'static,
) -> Response {
    let changes = draft.changes();
    let render = Arc::new(render);
    let stream = futures::stream::unfold(
        (draft, changes, Phase::Start, slot),
        move |(draft, mut changes, phase, slot)| {
            let render = Arc::clone(&render);
            async move {
                match phase {
                    Phase::End => return None,
                    Phase::Wait => {
                        // No sooner than the next render is due; the draft outlives this stream, so
                        // its sender does too.
                        tokio::time::sleep(RENDER_EVERY).await;
                        let _ = changes.changed().await;
                    }
                    Phase::Start | Phase::Last => {}
                }
                changes.mark_unchanged();
                let state = draft.state();
                let (sent, next) = match (&state.result, phase) {
                    (Some(Ok(_)), Phase::Last) => {
                        (Event::default().event("done").data("drafted"), Phase::End)
                    }
                    (Some(Err(error)), Phase::Last) => (
                        Event::default().event("failed").data(error.clone()),
                        Phase::End,
                    ),
                    // Everything once more before the end, so a follower always has all of it.
                    (result, _) => {
                        let next = if result.is_some() {
                            Phase::Last
                        } else {
                            Phase::Wait
                        };
                        (Event::default().event(event).data(render(&state)), next)
                    }
                };
                Some((Ok::<_, Infallible>(sent), (draft, changes, next, slot)))
            }
        },
    );
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}

/// `POST /drafts/{id}/confirm`: creates the course from the drafted outline with the person's renames
/// and goes to its page; renames that break the rules come back with what to change (422).
pub async fn confirm(
    State(web): State<Web>,
    Params(id): Params<String>,
    Form(fields): Form<HashMap<String, String>>,
) -> Result<Response, WebError> {
    let draft = draft(&web, &id)?;
    let state = draft.state();
    if let Some(slug) = &state.course {
        return Ok(Redirect::to(&format!("/courses/{slug}")).into_response());
    }
    let Some(Ok((drafted, stats))) = state.result.clone() else {
        return Ok(Redirect::to(&format!("/drafts/{id}")).into_response());
    };
    let mut outline = edited_outline(&drafted, &fields);
    let action = fields.get("action").map_or("create", String::as_str);
    if reshape(&mut outline, action) {
        // A change of shape is shown for more editing; nothing is stored yet.
        return Ok(
            page(&draft_page(&id, &draft, &state, Some(&outline), Vec::new()))?.into_response(),
        );
    }
    match create_course(&web, &draft, outline.clone(), &stats).await? {
        Ok(course) => Ok(Redirect::to(&course_href(&course)).into_response()),
        Err(problems) => {
            let problems = problems
                .iter()
                .map(|(path, message)| problem_text(path, message))
                .collect();
            let page = page(&draft_page(&id, &draft, &state, Some(&outline), problems))?;
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
    stats: &lyceum_store::GenerationStats,
) -> Result<Result<lyceum_store::Course, Vec<(String, String)>>, WebError> {
    let _one_at_a_time = draft.confirming.lock().await;
    if let Some(slug) = draft.state().course {
        // Confirmed while this request waited: the same course.
        return Ok(Ok(web.app.store.course(&slug).await?));
    }
    match web.app.confirm_course(&draft.request, outline, stats).await {
        Ok(course) => {
            draft.update(|state| state.course = Some(course.slug.clone()));
            Ok(Ok(course))
        }
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
