//! A unit's page: the article, its quiz, the syllabus with this unit marked, and links to the previous
//! unit and "Next up". Opening a unit that is not written yet moves it to the front of the queue and
//! shows the text written so far; the page's script then follows its live stream. The quiz is a form
//! graded on the server: the right answers and explanations reach the page only with a result.

use std::sync::Arc;

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::CACHE_CONTROL;
use axum::response::{Html, IntoResponse, Redirect, Response};
use bytes::Bytes;
use lyceum_app::UnitText;
use lyceum_app::learning::{self, Graded, QuizRefused};
use lyceum_app::tutor::{self, Conversation};
use lyceum_course::Quiz;
use lyceum_store::{Course, DoneHow, Module, Status, Unit, User, now_ms};

use super::load;
use super::tutor::{TUTOR_OPEN, TutorPart};
use crate::auth::{Signed, SignedIn, Viewer};
use crate::extract::Params;
use crate::page_cache::PageKey;
use crate::people::Standing;
use crate::render::{Rendered, cached_page};
use crate::routes::mail::MailForm;
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
    quiz: Option<QuizView>,
    /// HTML of the learner's part ([`LearnerPart`]): the one part of the page that differs between
    /// signed-in learners, spliced into the page everyone shares.
    learner: String,
    /// Who edited the text, when a person did.
    edited_by: Option<String>,
    /// HTML of the tutor's part ([`TutorPart`]), spliced like the learner's.
    tutor: String,
}

/// What the page says of the learner: for a signed-in one, whether they have done the unit (and the
/// form that changes it) and their best quiz score; for anyone else, that signing in keeps these.
#[derive(Template)]
#[template(path = "unit_learner.html")]
struct LearnerPart {
    view: Option<LearnerView>,
    /// "Get the next unit by email", from this unit on.
    mail: MailForm,
}

struct LearnerView {
    csrf: String,
    action: String,
    /// The unit's edit page, for its course's maker and admins.
    edit: Option<String>,
    /// `marked` or `quiz` once done.
    done: Option<&'static str>,
    /// The best quiz score and the number of questions.
    best: Option<(i64, i64)>,
    /// Whether that score was on a version of the quiz written before the current one.
    best_earlier: bool,
}

impl LearnerPart {
    fn new(
        signed: Option<&Signed>,
        standing: &Standing,
        course_href: &str,
        unit_href: &str,
        unit_id: i64,
        maker_id: Option<i64>,
        quiz_version: Option<&str>,
    ) -> Self {
        Self {
            mail: MailForm::new(course_href, Some(unit_id), signed),
            view: signed.map(|signed| LearnerView {
                csrf: signed.session.csrf_token.clone(),
                action: format!("{unit_href}/done"),
                edit: (signed.user.is_admin || maker_id == Some(signed.user.id))
                    .then(|| format!("{unit_href}/edit")),
                done: standing.done(unit_id).map(DoneHow::as_str),
                best: standing.best(unit_id).map(|best| (best.score, best.total)),
                best_earlier: standing
                    .best(unit_id)
                    .is_some_and(|best| Some(best.quiz_version.as_str()) != quiz_version),
            }),
        }
    }
}

/// Where the learner's part starts in a unit page: its last occurrence, since everything after it is
/// escaped text and Lyceum's own markup, while the article before it is model output.
const LEARNER_OPEN: &str = r#"<section class="learner" id="learner" aria-label="Your progress">"#;

/// `page` with the part that starts with `open` replaced by `part`; `None` if it has none.
fn splice(page: &[u8], open: &str, part: &str) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(page).ok()?;
    let start = text.rfind(open)? + open.len();
    let end = start + text[start..].find("</section>")?;
    let mut spliced = Vec::with_capacity(page.len() + part.len());
    spliced.extend_from_slice(&page[..start]);
    spliced.extend_from_slice(part.as_bytes());
    spliced.extend_from_slice(&page[end..]);
    Some(spliced)
}

/// The quiz as the page shows it: blank, answered with the result, or sent back unchecked.
struct QuizView {
    action: String,
    /// The version of the quiz shown, sent back with the answers.
    version: String,
    questions: Vec<QuestionView>,
    result: Option<Graded>,
    /// Why the answers were not checked.
    error: Option<String>,
}

struct QuestionView {
    number: usize,
    prompt: String,
    options: Vec<OptionView>,
    /// After checking: whether the chosen option was right, the right one, and why.
    outcome: Option<Outcome>,
}

struct OptionView {
    index: usize,
    text: String,
    chosen: bool,
}

struct Outcome {
    right: bool,
    answer: String,
    explanation: String,
}

/// What the learner did with the quiz, for this rendering of the page.
enum Answers {
    /// Nothing yet: the page everyone gets.
    None,
    /// Sent back unchecked, with the choices kept and why.
    Refused(Vec<Option<usize>>, String),
    Graded(Graded),
}

impl QuizView {
    fn new(quiz: &Quiz, action: String, answers: Answers) -> Self {
        let (choices, graded, error) = match answers {
            Answers::None => (Vec::new(), None, None),
            Answers::Refused(choices, error) => (choices, None, Some(error)),
            Answers::Graded(graded) => (
                graded.answers.iter().copied().map(Some).collect(),
                Some(graded),
                None,
            ),
        };
        let questions = quiz
            .questions
            .iter()
            .enumerate()
            .map(|(index, question)| {
                let chosen = choices.get(index).copied().flatten();
                QuestionView {
                    number: index + 1,
                    prompt: question.prompt.clone(),
                    options: question
                        .options
                        .iter()
                        .enumerate()
                        .map(|(option, text)| OptionView {
                            index: option,
                            text: text.clone(),
                            chosen: chosen == Some(option),
                        })
                        .collect(),
                    outcome: graded.as_ref().map(|graded| Outcome {
                        right: graded.right[index],
                        answer: question.options[question.answer].clone(),
                        explanation: question.explanation.clone(),
                    }),
                }
            })
            .collect();
        Self {
            action,
            version: learning::quiz_version(quiz),
            questions,
            result: graded,
            error,
        }
    }
}

/// `GET /courses/{slug}/weeks/{week}/units/{unit}`: the same page for every reader (from the page
/// cache), with a signed-in learner's own part spliced in: whether they have done it, their best quiz
/// score. Their standing comes from [`crate::people`], so this reads nothing from the store while
/// nothing changed.
pub async fn get(
    State(web): State<Web>,
    Viewer(viewer): Viewer,
    Params((slug, week, number)): Params<(String, i64, i64)>,
) -> Result<Html<Bytes>, WebError> {
    let key = PageKey::Unit(slug.clone(), week, number);
    let user = viewer.as_ref().map(|signed| &signed.user);
    // Rendered with nobody's part: only a page everyone may see is kept (see `Rendered::new`).
    let shared = cached_page(&web, key, async {
        let found = find(&web, &slug, week, number, user).await?;
        render(&web, found, Answers::None, None).await
    })
    .await?;
    let Some(signed) = viewer else {
        return Ok(Html(shared.html));
    };
    let unit_id = shared.unit_id.ok_or(WebError::NotFound)?;
    let store = &web.app.store;
    let standing = web
        .people
        .standing_in(store, signed.user.id, shared.course_id)
        .await?;
    // "Continue where you left off" orders by activity to the minute; a write per page would cost
    // more than the page.
    let now = now_ms();
    if standing
        .enrolment
        .is_some_and(|enrolment| enrolment.last_active_at < now - TOUCH_EVERY_MS)
    {
        store
            .touch_enrolment(signed.user.id, shared.course_id, now)
            .await?;
    }
    let href = crate::views::href(&slug, Some(week), Some(number));
    let part = LearnerPart::new(
        Some(&signed),
        &standing,
        &crate::views::href(&slug, None, None),
        &href,
        unit_id,
        shared.maker_id,
        shared.quiz_version.as_deref(),
    )
    .render()?;
    let conversation = match (shared.written, standing.chatted(unit_id)) {
        (false, _) => None,
        (true, false) => Some(Conversation::default()),
        (true, true) => Some(tutor::conversation(&web.app, &signed.user, unit_id).await?),
    };
    let tutor = TutorPart::new(&signed, &href, conversation, shared.language).render()?;
    // The learner's part first: it comes before the tutor's, whose conversation holds model text.
    let page = splice(&shared.html, LEARNER_OPEN, &part)
        .and_then(|page| splice(&page, TUTOR_OPEN, &tutor))
        .ok_or_else(|| {
            WebError::Internal(format!(
                "unit page {href} has no learner's or tutor's part to fill"
            ))
        })?;
    Ok(Html(Bytes::from(page)))
}

/// How often a learner's activity in a course is written, at most, in ms.
const TOUCH_EVERY_MS: i64 = 60_000;

#[derive(serde::Deserialize)]
pub struct DoneForm {
    #[serde(default)]
    csrf: String,
    /// `done` or `undo`.
    #[serde(default)]
    action: String,
}

/// `POST /courses/{slug}/weeks/{week}/units/{unit}/done`: marks the unit done (starting the course if
/// need be) or not done, and goes back to it.
pub async fn mark(
    State(web): State<Web>,
    SignedIn(signed): SignedIn,
    Params((slug, week, number)): Params<(String, i64, i64)>,
    Form(form): Form<DoneForm>,
) -> Result<Response, WebError> {
    signed.check_csrf(&form.csrf)?;
    let found = find(&web, &slug, week, number, Some(&signed.user)).await?;
    let unit = &found.units[found.index];
    let store = &web.app.store;
    match form.action.as_str() {
        "done" => {
            store
                .mark_done(signed.user.id, unit.id, DoneHow::Marked, now_ms())
                .await?
        }
        "undo" => {
            store.mark_not_done(signed.user.id, unit.id).await?;
        }
        _ => {
            return Err(WebError::BadForm(
                "action must be \"done\" or \"undo\"".into(),
            ));
        }
    }
    Ok(Redirect::to(&crate::views::unit_href(&found.course, unit)).into_response())
}

/// `POST /courses/{slug}/weeks/{week}/units/{unit}/quiz`: checks the answers (`q1` … `q5`, each the
/// index of the chosen option) and shows the page with the result; a signed-in learner's attempt is
/// kept. Unanswered questions send the page back (422) with the choices kept.
pub async fn answer(
    State(web): State<Web>,
    Viewer(viewer): Viewer,
    Params((slug, week, number)): Params<(String, i64, i64)>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let choices: Vec<Option<usize>> = (1..=Quiz::MAX_QUESTIONS)
        .map(|number| {
            let name = format!("q{number}");
            fields
                .iter()
                .find(|(field, _)| *field == name)
                .and_then(|(_, value)| value.trim().parse().ok())
        })
        .collect();
    let user = viewer.as_ref().map(|signed| &signed.user);
    let found = find(&web, &slug, week, number, user).await?;
    let unit_id = found.units[found.index].id;

    // The version of the quiz the page showed, so that answers to an earlier one are not checked
    // against other questions.
    let version = fields
        .iter()
        .find(|(field, _)| field == "version")
        .map(|(_, value)| value.as_str());
    let checked = learning::answer_quiz(
        &web.app.store,
        viewer.as_ref().map(|signed| &signed.user),
        unit_id,
        &choices,
        version,
    )
    .await;
    let (answers, status) = match checked {
        Ok((_, graded)) => (Answers::Graded(graded), StatusCode::OK),
        Err(QuizRefused::NoQuiz) => return Err(WebError::NotFound),
        Err(QuizRefused::Store(error)) => return Err(error.into()),
        Err(refused @ (QuizRefused::Unanswered(_) | QuizRefused::TooMany(_))) => (
            Answers::Refused(choices, refused.to_string()),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        // The choices were of other questions: none is kept.
        Err(refused @ QuizRefused::Outdated) => (
            Answers::Refused(Vec::new(), refused.to_string()),
            StatusCode::CONFLICT,
        ),
    };
    let rendered = render(&web, found, answers, viewer.as_ref()).await?;
    Ok((status, [(CACHE_CONTROL, "no-store")], Html(rendered.html)).into_response())
}

/// A unit found in its course.
struct Found {
    course: Course,
    modules: Vec<Module>,
    units: Vec<Unit>,
    index: usize,
}

async fn find(
    web: &Web,
    slug: &str,
    week: i64,
    number: i64,
    viewer: Option<&User>,
) -> Result<Found, WebError> {
    let (course, modules, units) = load(web, slug, viewer).await?;
    let index = units
        .iter()
        .position(|unit| unit.week == week && unit.number == number)
        .ok_or(WebError::NotFound)?;
    Ok(Found {
        course,
        modules,
        units,
        index,
    })
}

async fn render(
    web: &Web,
    found: Found,
    answers: Answers,
    signed: Option<&Signed>,
) -> Result<Rendered, WebError> {
    let Found {
        course,
        modules,
        units,
        index,
    } = found;
    let unit = &units[index];
    let (week, number) = (unit.week, unit.number);
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
    let stored_quiz = match status {
        "ready" => web.app.store.quiz(unit.id).await?,
        _ => None,
    };
    let quiz_version = stored_quiz.as_ref().map(learning::quiz_version);
    let quiz = stored_quiz.map(|quiz| QuizView::new(&quiz, format!("{href}/quiz"), answers));
    let standing = match signed {
        Some(signed) => {
            web.people
                .standing_in(&web.app.store, signed.user.id, course.id)
                .await?
        }
        None => Arc::default(),
    };
    let learner = LearnerPart::new(
        signed,
        &standing,
        &course_href(&course),
        &href,
        unit.id,
        course.maker.account(),
        quiz_version.as_deref(),
    )
    .render()?;
    let tutor = match signed {
        None => TutorPart::signed_out(),
        Some(signed) => {
            let conversation = match (status, standing.chatted(unit.id)) {
                ("ready", true) => {
                    Some(tutor::conversation(&web.app, &signed.user, unit.id).await?)
                }
                ("ready", false) => Some(Conversation::default()),
                _ => None,
            };
            TutorPart::new(signed, &href, conversation, course.language)
        }
    }
    .render()?;
    let title = format!("{week}.{number} {}", unit.title);
    let description = format!("{} {}", unit.title, unit.objectives.join(". "));
    let mut rendered = Rendered::new(
        &course,
        &UnitPage {
            meta: Meta::new(&web.public_url, &href, "article", &title, &description).of(&course),
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
            quiz,
            learner,
            edited_by: match &unit.author {
                lyceum_store::Author::Model => None,
                lyceum_store::Author::Person(Some((_, name))) => Some(name.clone()),
                lyceum_store::Author::Person(None) => Some("a former learner".into()),
            },
            tutor,
        },
    )?;
    rendered.unit_id = Some(unit.id);
    rendered.quiz_version = quiz_version;
    rendered.written = status == "ready";
    // A page that is not the stored article asks for the unit when opened: never served from memory.
    rendered.keep &= status == "ready";
    Ok(rendered)
}
