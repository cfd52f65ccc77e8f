//! A course's page (title, summary, outcomes, the syllabus with each unit's status, overall progress)
//! and a week's page (its overview and units).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use bytes::Bytes;
use lyceum_app::live::Progress;
use lyceum_store::Status;
use lyceum_store::{Course, Module, Unit, Visibility};
use tokio::sync::broadcast::{self, error::RecvError};
use tokio::sync::watch;

use super::load;
use crate::auth::{Signed, SignedIn, Viewer};
use crate::client::Client;
use crate::extract::Params;
use crate::page_cache::PageKey;
use crate::people::Standing;
use crate::render::{Rendered, cached};
use crate::routes::mail::MailForm;
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
    /// Who may see it, said to its maker and admins when it is not everyone.
    seen_by: Option<&'static str>,
    /// What its maker (or an admin) can do to it.
    owner: Option<OwnerView>,
    /// "Get the next unit by email".
    mail: MailForm,
    /// Its subject: name and address.
    category: Option<(&'static str, String)>,
    /// Courses like it: title, address and the opening of its summary.
    related: Vec<(String, String, String)>,
}

/// The maker's controls: who may see the course, and deleting it.
struct OwnerView {
    csrf: String,
    manage: String,
    delete: String,
    choices: Vec<VisibilityChoice>,
    /// Every subject, the course's marked.
    subjects: Vec<(&'static str, &'static str, bool)>,
}

struct VisibilityChoice {
    value: &'static str,
    name: &'static str,
    hint: &'static str,
    chosen: bool,
}

impl OwnerView {
    fn new(signed: &Signed, course: &Course) -> Self {
        let href = course_href(course);
        Self {
            csrf: signed.session.csrf_token.clone(),
            manage: format!("{href}/manage"),
            delete: format!("{href}/delete"),
            choices: Visibility::ALL
                .into_iter()
                .map(|visibility| {
                    let (name, hint) = visibility_words(visibility);
                    VisibilityChoice {
                        value: visibility.as_str(),
                        name,
                        hint,
                        chosen: visibility == course.visibility,
                    }
                })
                .collect(),
            subjects: crate::views::subject_choices(course.category),
        }
    }
}

/// Related courses shown on a course's page.
const RELATED: usize = 4;

/// A visibility's name and what it means, as the course page says them.
fn visibility_words(visibility: Visibility) -> (&'static str, &'static str) {
    match visibility {
        Visibility::Public => ("Public", "in the catalog and the sitemap, for everyone"),
        Visibility::Unlisted => (
            "Unlisted",
            "anyone with its address can read it; it is listed nowhere and search engines are asked to skip it",
        ),
        Visibility::Private => ("Private", "only you can open it"),
    }
}

/// What a course's page says of who may see it, to those who may see more than everyone.
fn seen_by(course: &Course) -> Option<&'static str> {
    if course.hidden_at.is_some() {
        return Some("An admin hid this course: only admins can open it.");
    }
    match course.visibility {
        Visibility::Public => None,
        Visibility::Unlisted => Some(
            "Unlisted: anyone with the address can read this course, and it is listed nowhere.",
        ),
        Visibility::Private => {
            Some("Private: only you (and the site's admins) can open this course.")
        }
    }
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
    fn new(
        course: &Course,
        modules: &[Module],
        units: &[Unit],
        standing: &Standing,
        quiz_versions: &HashMap<i64, String>,
    ) -> Self {
        let count = |status| units.iter().filter(|unit| unit.status == status).count();
        let (ready, failed, total) = (count(Status::Ready), count(Status::Failed), units.len());
        let mut weeks = syllabus(course, modules, units, None);
        mark_standing(&mut weeks, units, standing, |unit| {
            quiz_versions.get(&unit).cloned()
        });
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
    let viewer = learner.map(|signed| &signed.user);
    let (course, modules, units) = load(web, slug, viewer).await?;
    let owner = learner
        .filter(|signed| signed.user.is_admin || course.maker.account() == Some(signed.user.id))
        .map(|signed| OwnerView::new(signed, &course));
    let mail = MailForm::new(&course_href(&course), None, learner);
    let (learner, standing, quiz_versions) = match learner {
        Some(signed) => {
            let standing = web
                .people
                .standing_in(&web.app.store, signed.user.id, course.id)
                .await?;
            let view = learner_view(signed, &course, &units, &standing);
            // Only a learner who took a quiz needs to know whether it was written again since.
            let versions = match standing.best.is_empty() {
                true => HashMap::new(),
                false => web
                    .app
                    .store
                    .quizzes(course.id)
                    .await?
                    .iter()
                    .map(|(unit, quiz)| (*unit, lyceum_app::learning::quiz_version(quiz)))
                    .collect(),
            };
            (Some(view), standing, versions)
        }
        None => (None, Arc::default(), HashMap::new()),
    };
    let progress = CourseProgress::new(&course, &modules, &units, &standing, &quiz_versions);
    let href = course_href(&course);
    Rendered::new(
        &course,
        &CoursePage {
            meta: Meta::new(
                &web.public_url,
                &href,
                "website",
                &course.title,
                &course.summary,
            )
            .of(&course),
            mail,
            seen_by: owner.as_ref().and(seen_by(&course)),
            owner,
            json_ld: course_json_ld(&web.public_url, &course, &href),
            live: progress.writing().then(|| format!("{href}/live")),
            learner,
            progress: progress.render()?,
            weeks: modules.len(),
            language: course.language.native,
            lang: course.language.tag,
            level: course.level.as_str(),
            audience: course.audience.clone(),
            maker: maker_name(&course.maker),
            category: course
                .category
                .map(|category| (category.name, format!("/categories/{}", category.slug))),
            related: web
                .app
                .related_courses(&course, RELATED)
                .await?
                .into_iter()
                .map(|hit| {
                    (
                        hit.title,
                        format!("/courses/{}", hit.slug),
                        hit.snippet.text(),
                    )
                })
                .collect(),
            outcomes: course.outcomes.clone(),
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
    Viewer(viewer): Viewer,
    Params(slug): Params<String>,
) -> Result<Response, WebError> {
    let slot = web.streams.open(client)?;
    let user = viewer.map(|signed| signed.user);
    let course = super::shown(&web, &slug, user.as_ref()).await?;
    // Subscribed before the first read, so no change after it is missed.
    let changes = web.app.hub.progress();
    let producer = web.clone();
    let shared = course.shown_to_all();
    let frames = web
        .live_courses
        .follow(course.id, Frame::default, move |frames| {
            render_progress(frames, producer, slug, course.id, shared, changes)
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
    shared: bool,
    mut changes: broadcast::Receiver<Progress>,
) {
    loop {
        // Everyone following may see the course (they were checked when they came); one that stops
        // being shown to everyone sends them all to reload its page, which is then checked again.
        let loaded = async {
            let course = web.app.store.course(&slug).await?;
            if shared && !course.shown_to_all() {
                return Err(WebError::NotFound);
            }
            Ok::<_, WebError>((
                web.app.store.modules(course.id).await?,
                web.app.store.units(course.id).await?,
                course,
            ))
        };
        let (modules, units, course) = match loaded.await {
            Ok(loaded) => loaded,
            Err(error) => {
                tracing::warn!(%error, "a course's live stream stopped");
                end(&frames, End::Reload);
                return;
            }
        };
        // Shared by every viewer, so it marks nobody's units done.
        let progress = CourseProgress::new(
            &course,
            &modules,
            &units,
            &Standing::default(),
            &HashMap::new(),
        );
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
    Viewer(viewer): Viewer,
    Params(slug): Params<String>,
) -> Result<Redirect, WebError> {
    let user = viewer.map(|signed| signed.user);
    let course = super::shown(&web, &slug, user.as_ref()).await?;
    let queued = web.app.retry_failed(&course).await?;
    web.pages.changed(course.id);
    tracing::info!(course = %course.slug, queued, "failed items queued again");
    Ok(Redirect::to(&course_href(&course)))
}

/// `GET /courses/{slug}/weeks/{week}`.
pub async fn week(
    State(web): State<Web>,
    Viewer(viewer): Viewer,
    Params((slug, week)): Params<(String, i64)>,
) -> Result<Html<Bytes>, WebError> {
    let user = viewer.map(|signed| signed.user);
    cached(
        &web,
        PageKey::Week(slug.clone(), week),
        render_week(&web, &slug, week, user.as_ref()),
    )
    .await
}

async fn render_week(
    web: &Web,
    slug: &str,
    week: i64,
    viewer: Option<&lyceum_store::User>,
) -> Result<Rendered, WebError> {
    let (course, modules, units) = load(web, slug, viewer).await?;
    let module = modules
        .iter()
        .find(|module| module.number == week)
        .ok_or(WebError::NotFound)?;
    let last = modules.len() as i64;
    let href = crate::views::week_href(&course, week);
    let title = format!("Week {}: {}", module.number, module.title);
    let description = module.overview.as_deref().unwrap_or(&course.summary);
    Rendered::new(
        &course,
        &WeekPage {
            meta: Meta::new(&web.public_url, &href, "article", &title, description).of(&course),
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
    let course = super::shown(&web, &slug, Some(&signed.user)).await?;
    web.app
        .store
        .enrol(signed.user.id, course.id, lyceum_store::now_ms())
        .await?;
    Ok(Redirect::to(&course_href(&course)).into_response())
}
