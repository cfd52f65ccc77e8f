//! The tutor panel of a unit page, and its conversation on the wire.
//!
//! The panel is the one part of a unit page besides the learner's own that differs between readers:
//! the page everyone shares says "Sign in to chat", and a signed-in learner's page gets their panel
//! spliced in (their conversation, read from the store only when [`crate::people`] says they have
//! one about this unit). Sending posts the panel's form: with `Accept: text/event-stream` (the page's
//! script, and the JSON API) the answer is a stream of Server-Sent Events — `message` for each stored
//! message, `partial` for the reply as far as it is written, `failed` with a sentence when it fails,
//! and `end` with where the conversation stands; without it (no script), the reply is written in full
//! and the browser goes back to the page.

use std::convert::Infallible;
use std::sync::Arc;

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::header::ACCEPT;
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Redirect, Response};
use futures::{Stream, StreamExt};
use lyceum_app::tutor::{self, Ask, Conversation, Reply, Said, TutorEvent};
use lyceum_course::Language;
use lyceum_course::tutor::Verdict;
use lyceum_store::{ChatRole, Course, Unit, User};
use serde::{Deserialize, Serialize};

use super::load;
use crate::auth::{Signed, SignedIn};
use crate::extract::Params;
use crate::{Web, WebError, markdown};

/// Where the tutor's part of a unit page starts: its last occurrence, as for the learner's part.
pub const TUTOR_OPEN: &str =
    r#"<section class="tutor" id="tutor" aria-labelledby="tutor-heading">"#;

/// The tutor's part of a unit page.
#[derive(Template)]
#[template(path = "unit_tutor.html")]
pub struct TutorPart {
    signed_in: bool,
    chat: Option<ChatView>,
    max_chars: usize,
}

struct ChatView {
    action: String,
    csrf: String,
    messages: Vec<ChatItem>,
    test_open: bool,
    awaiting: bool,
    unanswered: bool,
}

impl TutorPart {
    /// The part for someone signed out.
    pub fn signed_out() -> Self {
        Self {
            signed_in: false,
            chat: None,
            max_chars: tutor::MAX_MESSAGE_CHARS,
        }
    }

    /// The part for `signed`, with their `conversation` about the unit at `unit_href` (`None` while
    /// the unit is not written).
    pub fn new(
        signed: &Signed,
        unit_href: &str,
        conversation: Option<Conversation>,
        language: Language,
    ) -> Self {
        Self {
            signed_in: true,
            chat: conversation.map(|conversation| ChatView {
                action: format!("{unit_href}/chat"),
                csrf: signed.session.csrf_token.clone(),
                test_open: conversation.test.open,
                awaiting: conversation.test.awaiting,
                unanswered: conversation.unanswered,
                messages: conversation
                    .messages
                    .iter()
                    .map(|said| ChatItem::new(said, language))
                    .collect(),
            }),
            max_chars: tutor::MAX_MESSAGE_CHARS,
        }
    }
}

/// A message as the page and the API show it.
#[derive(Debug, Clone, Serialize)]
pub struct ChatItem {
    pub id: i64,
    /// `learner` or `tutor`.
    pub role: &'static str,
    pub kind: String,
    /// Markdown (the learner's words as typed).
    pub text: String,
    /// Sanitised HTML, what the page shows.
    pub html: String,
    /// A grade's verdict, on a grade.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verdict: Option<Verdict>,
    /// An exercise's worked solution (Markdown), on an exercise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub solution: Option<String>,
    /// Suggestions with the search links Lyceum built, on further reading.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reading: Option<Vec<SuggestionView>>,
    /// RFC 3339.
    pub created_at: String,
}

/// One suggestion of further reading, with links Lyceum built.
#[derive(Debug, Clone, Serialize)]
pub struct SuggestionView {
    pub title: String,
    pub author: String,
    pub why: String,
    pub links: Vec<tutor::SearchLink>,
}

#[derive(Template)]
#[template(path = "chat_reply.html")]
struct ReplyHtml {
    reply: ReplyView,
}

enum ReplyView {
    Html(String),
    Exercise { task: String, solution: String },
    Reading(Vec<SuggestionView>),
    Learner(String),
}

impl ChatItem {
    pub fn new(said: &Said, language: Language) -> Self {
        let message = &said.message;
        let (html, verdict, solution, reading) = match message.role {
            ChatRole::Learner => (
                reply_html(ReplyView::Learner(message.text.clone())),
                None,
                None,
                None,
            ),
            ChatRole::Tutor => {
                let (view, verdict, solution, reading) = match &said.reply {
                    Reply::Grade(grade) => (
                        ReplyView::Html(markdown::render_tutor(&message.text)),
                        grade.verdict,
                        None,
                        None,
                    ),
                    Reply::Exercise(exercise) => (
                        exercise_view(&exercise.task, &exercise.solution),
                        None,
                        Some(exercise.solution.clone()),
                        None,
                    ),
                    Reply::Reading(found) => {
                        let items = suggestions(&found.items, language);
                        (ReplyView::Reading(items.clone()), None, None, Some(items))
                    }
                    Reply::Text(_) | Reply::Question { .. } => (
                        ReplyView::Html(markdown::render_tutor(&message.text)),
                        None,
                        None,
                        None,
                    ),
                };
                (reply_html(view), verdict, solution, reading)
            }
        };
        Self {
            id: message.id,
            role: message.role.as_str(),
            kind: message.kind.clone(),
            text: message.text.clone(),
            html,
            verdict,
            solution,
            reading,
            created_at: lyceum_app::dates::rfc3339(message.created_at),
        }
    }
}

fn exercise_view(task: &str, solution: &str) -> ReplyView {
    ReplyView::Exercise {
        task: markdown::render_tutor(task),
        solution: if solution.trim().is_empty() {
            String::new()
        } else {
            markdown::render_tutor(solution)
        },
    }
}

fn suggestions(
    items: &[lyceum_course::tutor::Suggestion],
    language: Language,
) -> Vec<SuggestionView> {
    items
        .iter()
        .map(|item| SuggestionView {
            title: item.title.clone(),
            author: item.author.clone(),
            why: item.why.clone(),
            links: tutor::search_links(item, language),
        })
        .collect()
}

fn reply_html(view: ReplyView) -> String {
    ReplyHtml { reply: view }.render().unwrap_or_default()
}

/// The reply being written, as far as it is: its HTML and its text.
#[derive(Debug, Clone, Serialize)]
pub struct PartialView {
    pub html: String,
    pub text: String,
}

fn partial(reply: &Reply, language: Language) -> PartialView {
    let (view, text) = match reply {
        Reply::Text(text) | Reply::Question { text, .. } => {
            (ReplyView::Html(markdown::render_tutor(text)), text.clone())
        }
        Reply::Grade(grade) => (
            ReplyView::Html(markdown::render_tutor(&grade.feedback)),
            grade.feedback.clone(),
        ),
        // The solution stays out of sight while it is written; it comes folded with the whole reply.
        Reply::Exercise(exercise) => (exercise_view(&exercise.task, ""), exercise.task.clone()),
        Reply::Reading(reading) => {
            let items = suggestions(&reading.items, language);
            let text = items
                .iter()
                .map(|item| format!("- {}", item.title))
                .collect::<Vec<_>>()
                .join("\n");
            (ReplyView::Reading(items), text)
        }
    };
    PartialView {
        html: reply_html(view),
        text,
    }
}

/// Where a conversation stands after a reply, for the page's buttons and API clients.
#[derive(Debug, Clone, Serialize)]
pub struct ChatState {
    /// A test is under way ("Stop the test" instead of "Test me").
    pub test_open: bool,
    /// A test question waits for the learner's answer.
    pub awaiting_answer: bool,
    /// The last message is the learner's, with no reply ("Try again").
    pub unanswered: bool,
}

impl ChatState {
    fn of(conversation: &Conversation) -> Self {
        Self {
            test_open: conversation.test.open,
            awaiting_answer: conversation.test.awaiting,
            unanswered: conversation.unanswered,
        }
    }
}

/// A learner's conversation about a unit, for the API.
#[derive(Debug, Clone, Serialize)]
pub struct ChatList {
    pub messages: Vec<ChatItem>,
    #[serde(flatten)]
    pub state: ChatState,
}

/// The unit of `course` at `week`.`number` among `units`, if there is one.
fn unit_at(units: &[Unit], week: i64, number: i64) -> Result<&Unit, WebError> {
    units
        .iter()
        .find(|unit| unit.week == week && unit.number == number)
        .ok_or(WebError::NotFound)
}

/// The course, its units and the unit's id, as `learner` may see them.
pub async fn find(
    web: &Web,
    learner: &User,
    slug: &str,
    week: i64,
    number: i64,
) -> Result<(Course, Vec<Unit>, i64), WebError> {
    let (course, _, units) = load(web, slug, Some(learner)).await?;
    let unit_id = unit_at(&units, week, number)?.id;
    Ok((course, units, unit_id))
}

/// `learner`'s conversation about the unit at `week`.`number` of course `slug`.
pub async fn list(
    web: &Web,
    learner: &User,
    slug: &str,
    week: i64,
    number: i64,
) -> Result<ChatList, WebError> {
    let (course, _, unit_id) = find(web, learner, slug, week, number).await?;
    let conversation = tutor::conversation(&web.app, learner, unit_id).await?;
    Ok(ChatList {
        state: ChatState::of(&conversation),
        messages: conversation
            .messages
            .iter()
            .map(|said| ChatItem::new(said, course.language))
            .collect(),
    })
}

/// Takes `ask` and answers with the reply's events as Server-Sent Events.
pub async fn stream(
    web: &Web,
    learner: &User,
    slug: &str,
    week: i64,
    number: i64,
    ask: Ask,
) -> Result<Response, WebError> {
    let (course, units, unit_id) = find(web, learner, slug, week, number).await?;
    let language = course.language;
    let events = tutor::chat(&web.app, learner, &course, &units, unit_id, ask).await?;
    let app = Arc::clone(&web.app);
    let learner = learner.clone();
    let ending = futures::stream::once(async move {
        let state = match tutor::conversation(&app, &learner, unit_id).await {
            Ok(conversation) => ChatState::of(&conversation),
            Err(error) => {
                tracing::warn!(%error, "could not read a conversation after its reply");
                ChatState {
                    test_open: false,
                    awaiting_answer: false,
                    unanswered: true,
                }
            }
        };
        sse("end", &state)
    });
    let body = events.filter_map(move |event| {
        std::future::ready(match event {
            TutorEvent::Stored(said) => Some(sse("message", &ChatItem::new(&said, language))),
            TutorEvent::Partial(reply) => Some(sse("partial", &partial(&reply, language))),
            TutorEvent::Failed(why) => Some(sse("failed", &serde_json::json!({ "error": why }))),
            TutorEvent::Written { .. } => None,
        })
    });
    let body: std::pin::Pin<Box<dyn Stream<Item = Result<Event, Infallible>> + Send>> =
        Box::pin(body.chain(ending));
    Ok(Sse::new(body)
        .keep_alive(KeepAlive::default())
        .into_response())
}

fn sse(name: &str, data: &impl Serialize) -> Result<Event, Infallible> {
    Ok(Event::default()
        .event(name)
        .data(serde_json::to_string(data).unwrap_or_else(|_| "{}".into())))
}

/// What the panel's form sends.
#[derive(Debug, Deserialize)]
pub struct ChatForm {
    #[serde(default)]
    csrf: String,
    /// `send`, `test`, `stop`, `exercise`, `reading` or `retry`.
    #[serde(default)]
    action: String,
    #[serde(default)]
    text: String,
}

/// The request an `action` (with `text`, for `send`) stands for.
pub fn ask_of(action: &str, text: String) -> Result<Ask, WebError> {
    Ok(match action {
        "send" | "" => Ask::Message(text),
        "test" => Ask::TestMe,
        "stop" => Ask::Stop,
        "exercise" => Ask::Exercise,
        "reading" => Ask::Reading,
        "retry" => Ask::Retry,
        other => {
            return Err(WebError::BadForm(format!(
                "action must be one of send, test, stop, exercise, reading and retry, not {other:?}"
            )));
        }
    })
}

/// `POST /courses/{slug}/weeks/{week}/units/{unit}/chat`: the panel's form.
pub async fn send(
    State(web): State<Web>,
    SignedIn(signed): SignedIn,
    Params((slug, week, number)): Params<(String, i64, i64)>,
    headers: HeaderMap,
    Form(form): Form<ChatForm>,
) -> Result<Response, WebError> {
    signed.check_csrf(&form.csrf)?;
    let ask = ask_of(&form.action, form.text)?;
    let wants_events = headers
        .get(ACCEPT)
        .and_then(|accept| accept.to_str().ok())
        .is_some_and(|accept| accept.contains("text/event-stream"));
    if wants_events {
        // The script reads a refusal's sentence from JSON, as an API client does.
        return Ok(stream(&web, &signed.user, &slug, week, number, ask)
            .await
            .unwrap_or_else(|error| crate::error::JsonError::from(error).into_response()));
    }
    // Without a script: write the whole reply, then show the page with it.
    let (course, units, unit_id) = find(&web, &signed.user, &slug, week, number).await?;
    let mut events =
        Box::pin(tutor::chat(&web.app, &signed.user, &course, &units, unit_id, ask).await?);
    while events.next().await.is_some() {}
    let href = crate::views::href(&slug, Some(week), Some(number));
    Ok(Redirect::to(&format!("{href}#tutor")).into_response())
}

#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /courses/{slug}/weeks/{week}/units/{unit}/chat/clear`.
pub async fn clear(
    State(web): State<Web>,
    SignedIn(signed): SignedIn,
    Params((slug, week, number)): Params<(String, i64, i64)>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, WebError> {
    signed.check_csrf(&form.csrf)?;
    let (_, _, unit_id) = find(&web, &signed.user, &slug, week, number).await?;
    tutor::clear(&web.app, &signed.user, unit_id).await?;
    let href = crate::views::href(&slug, Some(week), Some(number));
    Ok(Redirect::to(&format!("{href}#tutor")).into_response())
}

/// How often one learner may have the tutor prepared in an hour: each costs the model a unit's text.
pub const WARMS_PER_HOUR: u32 = 30;

/// `POST /courses/{slug}/weeks/{week}/units/{unit}/chat/warm`: the learner is about to write
/// (the page's script calls this when the message box gets focus): decode the start of the tutor's
/// prompt now. At most [`WARMS_PER_HOUR`] times an hour per learner; 204 either way.
pub async fn warm(
    State(web): State<Web>,
    SignedIn(signed): SignedIn,
    Params((slug, week, number)): Params<(String, i64, i64)>,
    Form(form): Form<CsrfForm>,
) -> Result<StatusCode, WebError> {
    signed.check_csrf(&form.csrf)?;
    let (course, units, unit_id) = find(&web, &signed.user, &slug, week, number).await?;
    if web.warm_limit.check(signed.user.id, 1).is_err() {
        return Ok(StatusCode::NO_CONTENT);
    }
    // The script does not wait for the answer; a page closed meanwhile stops the decoding.
    if let Err(error) = tutor::warm(&web.app, &signed.user, &course, &units, unit_id).await {
        tracing::debug!(%error, "could not prepare the tutor");
    }
    Ok(StatusCode::NO_CONTENT)
}
