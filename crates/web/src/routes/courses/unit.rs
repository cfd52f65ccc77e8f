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
use axum::response::{Html, IntoResponse, Response};
use bytes::Bytes;
use lyceum_app::UnitText;
use lyceum_app::learning::{self, Graded, QuizRefused};
use lyceum_course::Quiz;
use lyceum_store::{Course, Module, Status, Unit};

use super::load;
use crate::auth::Viewer;
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
    quiz: Option<QuizView>,
}

/// The quiz as the page shows it: blank, answered with the result, or sent back unchecked.
struct QuizView {
    action: String,
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
            questions,
            result: graded,
            error,
        }
    }
}

/// `GET /courses/{slug}/weeks/{week}/units/{unit}`.
pub async fn get(
    State(web): State<Web>,
    Params((slug, week, number)): Params<(String, i64, i64)>,
) -> Result<Html<Bytes>, WebError> {
    cached(&web, PageKey::Unit(slug.clone(), week, number), async {
        render(&web, find(&web, &slug, week, number).await?, Answers::None).await
    })
    .await
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
    let found = find(&web, &slug, week, number).await?;
    let unit_id = found.units[found.index].id;
    let learner = viewer.map(|signed| signed.user);
    let checked = learning::answer_quiz(&web.app.store, learner.as_ref(), unit_id, &choices).await;
    let (answers, status) = match checked {
        Ok((_, graded)) => (Answers::Graded(graded), StatusCode::OK),
        Err(QuizRefused::NoQuiz) => return Err(WebError::NotFound),
        Err(QuizRefused::Store(error)) => return Err(error.into()),
        Err(refused @ (QuizRefused::Unanswered(_) | QuizRefused::TooMany(_))) => (
            Answers::Refused(choices, refused.to_string()),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    };
    let rendered = render(&web, found, answers).await?;
    Ok((status, [(CACHE_CONTROL, "no-store")], Html(rendered.html)).into_response())
}

/// A unit found in its course.
struct Found {
    course: Course,
    modules: Vec<Module>,
    units: Vec<Unit>,
    index: usize,
}

async fn find(web: &Web, slug: &str, week: i64, number: i64) -> Result<Found, WebError> {
    let (course, modules, units) = load(web, slug).await?;
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

async fn render(web: &Web, found: Found, answers: Answers) -> Result<Rendered, WebError> {
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
    let quiz = match status {
        "ready" => web.app.store.quiz(unit.id).await?,
        _ => None,
    }
    .map(|quiz| QuizView::new(&quiz, format!("{href}/quiz"), answers));
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
            quiz,
        },
    )?;
    // A page that is not the stored article asks for the unit when opened: never served from memory.
    rendered.keep = status == "ready";
    Ok(rendered)
}
