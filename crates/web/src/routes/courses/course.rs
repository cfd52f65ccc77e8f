//! A course's page (title, summary, outcomes, the syllabus with each unit's status, overall progress)
//! and a week's page (its overview and units).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use bytes::Bytes;
use lyceum_app::live::Progress;
use lyceum_store::Status;
use lyceum_store::{Course, Module, Unit};
use tokio::sync::broadcast::{self, error::RecvError};
use tokio::sync::watch;

use super::load;
use crate::auth::{Signed, SignedIn, Viewer};
use crate::client::Client;
use crate::extract::Params;
use crate::page_cache::PageKey;
use crate::people::Standing;
use crate::render::{Rendered, cached};
use crate::shared_live::{End, Frame, end, events, show};
use crate::views::{
    Meta, UnitLink, WeekView, course_href, maker_name, mark_standing, status_label, syllabus,
    unit_link,
};
use crate::{Web, WebError, markdown};

#[derive(Template)]
#[template(path = "course.html")]
struct CoursePage {
    meta: Meta,
    /// The schema.org `Course` of this page, as JSON safe inside a script element.
    json_ld: String,
    title: String,
    summary: String,
    outcomes: Vec<String>,
    language: &'static str,
    lang: &'static str,
    level: &'static str,
    audience: String,
    /// Who made it, when known.
    maker: Option<String>,
    /// How much is written, and the syllabus with each unit's status.
    progress: String,
    weeks: usize,
    /// The live stream of the progress, while units are waiting or being written.
    live: Option<String>,
    /// The signed-in learner's own progress; `None` for a reader signed out.
    learner: Option<LearnerView>,
}

/// A signed-in learner's progress through a course.
struct LearnerView {
    csrf: String,
    /// Where "Start this course" posts.
    enrol: String,
    enrolled: bool,
    done: usize,
    total: usize,
    percent: usize,
    /// The first unit not done yet.
    next: Option<UnitLink>,
}

/// How much of a course is written, and its syllabus with each unit's status: on the course page, and
/// sent again by its live stream whenever that changes.
#[derive(Template)]
#[template(path = "course_progress.html")]
struct CourseProgress {
    weeks: Vec<WeekView>,
    ready: usize,
    total: usize,
    failed: usize,
    percent: usize,
    retry_href: String,
}

impl CourseProgress {
    fn new(course: &Course, modules: &[Module], units: &[Unit], standing: &Standing) -> Self {
        let count = |status| units.iter().filter(|unit| unit.status == status).count();
        let (ready, failed, total) = (count(Status::Ready), count(Status::Failed), units.len());
        let mut weeks = syllabus(course, modules, units, None);
        mark_standing(&mut weeks, units, standing);
        Self {
            weeks,
            percent: (ready * 100).checked_div(total).unwrap_or(0),
            ready,
            total,
            failed,
            retry_href: format!("{}/retry", course_href(course)),
        }
    }

    /// Whether units are still waiting or being written.
    fn writing(&self) -> bool {
        self.ready + self.failed < self.total
    }
}

#[derive(Template)]
#[template(path = "week.html")]
struct WeekPage {
    meta: Meta,
    lang: &'static str,
    course_title: String,
    course_href: String,
    number: i64,
    title: String,
    /// Sanitised HTML, when written.
    overview: Option<String>,
    overview_status: &'static str,
    units: Vec<UnitLink>,
    previous: Option<String>,
    next: Option<String>,
}

/// `GET /courses/{slug}`: the same page for every reader signed out (from the page cache); a
/// signed-in learner's shows their progress.
pub async fn course(
    State(web): State<Web>,
    Viewer(viewer): Viewer,
    Params(slug): Params<String>,
) -> Result<Html<Bytes>, WebError> {
    match viewer {
        None => {
            cached(
                &web,
                PageKey::Course(slug.clone()),
                render_course(&web, &slug, None),
            )
            .await
        }
        Some(signed) => {
            let rendered = render_course(&web, &slug, Some(&signed)).await?;
            Ok(Html(Bytes::from(rendered.html)))
        }
    }
}

/// The learner's progress through a course of `units`, from their `standing` in it.
fn learner_view(
    signed: &Signed,
    course: &Course,
    units: &[Unit],
    standing: &Standing,
) -> LearnerView {
    let done: HashSet<i64> = standing.done.iter().map(|done| done.unit_id).collect();
    let total = units.len();
    LearnerView {
        csrf: signed.session.csrf_token.clone(),
        enrol: format!("{}/enrol", course_href(course)),
        enrolled: standing.enrolment.is_some(),
        done: done.len(),
        total,
        percent: (done.len() * 100).checked_div(total).unwrap_or(0),
        next: units
            .iter()
            .find(|unit| !done.contains(&unit.id))
            .map(|unit| unit_link(course, unit, None)),
    }
}

async fn render_course(
    web: &Web,
    slug: &str,
    learner: Option<&Signed>,
) -> Result<Rendered, WebError> {
    let (course, modules, units) = load(web, slug).await?;
    let (learner, standing) = match learner {
        Some(signed) => {
            let standing = web
                .people
                .standing_in(&web.app.store, signed.user.id, course.id)
                .await?;
            let view = learner_view(signed, &course, &units, &standing);
            (Some(view), standing)
        }
        None => (None, Arc::default()),
    };
    let progress = CourseProgress::new(&course, &modules, &units, &standing);
    let href = course_href(&course);
    Rendered::new(
        course.id,
        &CoursePage {
            meta: Meta::new(
                &web.public_url,
                &href,
                "website",
                &course.title,
                &course.summary,
            ),
            json_ld: course_json_ld(&web.public_url, &course, &href),
            live: progress.writing().then(|| format!("{href}/live")),
            learner,
            progress: progress.render()?,
            weeks: modules.len(),
            language: course.language.native,
            lang: course.language.tag,
            level: course.level.as_str(),
            audience: course.audience,
            maker: maker_name(&course.maker),
            outcomes: course.outcomes,
            summary: course.summary.clone(),
            title: course.title.clone(),
        },
    )
}

/// The longest a course's live stream goes without reading the store: changes written by workers on
/// other nodes do not reach this process's hub.
const RECHECK: Duration = Duration::from_secs(10);

/// `GET /courses/{slug}/live`: the progress and syllabus as HTML (`html`), at once and whenever a unit
/// of the course starts, is written or fails, then `done` once no unit is waiting or being written.
/// Every viewer of a course shares one read and render of each change.
pub async fn live(
    State(web): State<Web>,
    client: Client,
    Params(slug): Params<String>,
) -> Result<Response, WebError> {
    let slot = web.streams.open(client)?;
    let course = super::shown(&web, &slug).await?;
    // Subscribed before the first read, so no change after it is missed.
    let changes = web.app.hub.progress();
    let producer = web.clone();
    let frames = web
        .live_courses
        .follow(course.id, Frame::default, move |frames| {
            render_progress(frames, producer, slug, course.id, changes)
        });
    Ok(events(frames, slot))
}

/// Renders a course's progress at once and on each of its changes (or every [`RECHECK`], for changes
/// made on other nodes) until nothing is left to write.
async fn render_progress(
    frames: Arc<watch::Sender<Frame>>,
    web: Web,
    slug: String,
    id: i64,
    mut changes: broadcast::Receiver<Progress>,
) {
    loop {
        let (course, modules, units) = match load(&web, &slug).await {
            Ok(loaded) => loaded,
            Err(error) => {
                tracing::warn!(%error, "a course's live stream stopped");
                end(&frames, End::Reload);
                return;
            }
        };
        // Shared by every viewer, so it marks nobody's units done.
        let progress = CourseProgress::new(&course, &modules, &units, &Standing::default());
        show(&frames, progress.render().unwrap_or_default());
        if !progress.writing() {
            end(&frames, End::Done);
            return;
        }
        let _ = tokio::time::timeout(RECHECK, changed(&mut changes, id)).await;
    }
}

/// Waits for a change to course `id`, or for missed events (which may have been one).
async fn changed(changes: &mut broadcast::Receiver<Progress>, id: i64) {
    loop {
        match changes.recv().await {
            Ok(progress) if progress.course_id != id => {}
            Ok(_) | Err(RecvError::Lagged(_)) => return,
            // The application is stopping: the recheck ends the wait.
            Err(RecvError::Closed) => std::future::pending().await,
        }
    }
}

/// The schema.org `Course` of a course page, for search engines. `<` is escaped so that no text in it
/// can close the script element it sits in.
fn course_json_ld(public_url: &str, course: &lyceum_store::Course, href: &str) -> String {
    let value = serde_json::json!({
        "@context": "https://schema.org",
        "@type": "Course",
        "name": course.title,
        "description": course.summary,
        "url": format!("{public_url}{href}"),
        "inLanguage": course.language.tag,
        "educationalLevel": course.level.as_str(),
        "teaches": course.outcomes,
        "isAccessibleForFree": true,
        "provider": {"@type": "Organization", "name": "Lyceum", "url": public_url},
    });
    value.to_string().replace('<', "\\u003c")
}

/// `POST /courses/{slug}/retry`: queues the course's failed items again and goes back to its page.
pub async fn retry(
    State(web): State<Web>,
    Params(slug): Params<String>,
) -> Result<Redirect, WebError> {
    let course = super::shown(&web, &slug).await?;
    let queued = web.app.retry_failed(&course).await?;
    web.pages.changed(course.id);
    tracing::info!(course = %course.slug, queued, "failed items queued again");
    Ok(Redirect::to(&course_href(&course)))
}

/// `GET /courses/{slug}/weeks/{week}`.
pub async fn week(
    State(web): State<Web>,
    Params((slug, week)): Params<(String, i64)>,
) -> Result<Html<Bytes>, WebError> {
    cached(
        &web,
        PageKey::Week(slug.clone(), week),
        render_week(&web, &slug, week),
    )
    .await
}

async fn render_week(web: &Web, slug: &str, week: i64) -> Result<Rendered, WebError> {
    let (course, modules, units) = load(web, slug).await?;
    let module = modules
        .iter()
        .find(|module| module.number == week)
        .ok_or(WebError::NotFound)?;
    let last = modules.len() as i64;
    let href = crate::views::week_href(&course, week);
    let title = format!("Week {}: {}", module.number, module.title);
    let description = module.overview.as_deref().unwrap_or(&course.summary);
    Rendered::new(
        course.id,
        &WeekPage {
            meta: Meta::new(&web.public_url, &href, "article", &title, description),
            lang: course.language.tag,
            course_title: course.title.clone(),
            course_href: course_href(&course),
            number: module.number,
            title: module.title.clone(),
            overview: module.overview.as_deref().map(markdown::render),
            overview_status: status_label(module.status),
            units: units
                .iter()
                .filter(|unit| unit.week == week)
                .map(|unit| unit_link(&course, unit, None))
                .collect(),
            previous: (week > 1).then(|| crate::views::week_href(&course, week - 1)),
            next: (week < last).then(|| crate::views::week_href(&course, week + 1)),
        },
    )
}

#[derive(serde::Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /courses/{slug}/enrol`: "Start this course".
pub async fn enrol(
    State(web): State<Web>,
    SignedIn(signed): SignedIn,
    Params(slug): Params<String>,
    axum::Form(form): axum::Form<CsrfForm>,
) -> Result<Response, WebError> {
    signed.check_csrf(&form.csrf)?;
    let course = super::shown(&web, &slug).await?;
    web.app
        .store
        .enrol(signed.user.id, course.id, lyceum_store::now_ms())
        .await?;
    Ok(Redirect::to(&course_href(&course)).into_response())
}
