//! A scripted OpenAI-compatible server for deterministic pipeline tests: the network edge of Lyceum,
//! faked, so everything inside runs for real.
//!
//! It recognises what Lyceum asks for (an outline plan by its schema's `weeks` or `parts`, a part's
//! weeks by `weeks` alone, a week's units by `units`, a new title by `title` alone, a quiz by
//! `questions`, an overview or a unit by the task sentence of the last message), answers with valid
//! content of the size asked for, streamed as SSE with usage, and records every call. Tests script
//! failures per call: an error status, repeated or blank titles, or holding a stream open until
//! released.

pub mod browser;
pub mod smtp;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use bytes::Bytes;
use futures::StreamExt;
use serde_json::{Value, json};
use tokio::sync::{Notify, mpsc, watch};

/// The model the real-model tests run on: the fast one (Qwen2.5-Coder-0.5B), which keeps them
/// short, installed by `lyceum model install --model fast` into the repository's `data/models` (the
/// README's test command runs it), or the file `TEST_LYCEUM_MODEL` names.
pub fn test_model() -> std::path::PathBuf {
    let path = std::env::var_os("TEST_LYCEUM_MODEL").map_or_else(
        || {
            std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../data/models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf")
        },
        std::path::PathBuf::from,
    );
    assert!(
        path.exists(),
        "the tests' model is not at {}; run `lyceum model install --model fast`",
        path.display()
    );
    path
}

/// A PostgreSQL database of a test's own, created on the server `TEST_DATABASE_URL` names and dropped
/// by [`PostgresDatabase::drop_database`]. `None` when the variable is unset (it must be set in CI).
pub async fn postgres_database() -> Option<PostgresDatabase> {
    use sqlx::Executor;
    let Some(admin_url) = std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|url| !url.is_empty())
    else {
        assert!(
            std::env::var("CI").is_err(),
            "TEST_DATABASE_URL must be set in CI so the PostgreSQL tests run"
        );
        return None;
    };
    let mut suffix = [0u8; 6];
    getrandom::fill(&mut suffix).expect("randomness for a database name");
    let suffix: String = suffix.iter().map(|byte| format!("{byte:02x}")).collect();
    let name = format!("lyceum_test_{suffix}");
    let admin = sqlx::PgPool::connect(&admin_url)
        .await
        .expect("TEST_DATABASE_URL answers");
    admin
        .execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .expect("a test database can be created");
    let (base, _) = admin_url
        .rsplit_once('/')
        .expect("a database URL ends in /NAME");
    Some(PostgresDatabase {
        url: format!("{base}/{name}"),
        name,
        admin,
    })
}

/// A test's own PostgreSQL database.
pub struct PostgresDatabase {
    /// Its URL.
    pub url: String,
    /// Its name.
    pub name: String,
    /// A connection to the server's administrative database, to change or drop it.
    pub admin: sqlx::PgPool,
}

impl PostgresDatabase {
    /// Runs SQL on the server's administrative database (`ALTER DATABASE {name} …`).
    pub async fn admin(&self, sql: &str) {
        use sqlx::Executor;
        self.admin
            .execute(sql.replace("{name}", &self.name).as_str())
            .await
            .unwrap_or_else(|error| panic!("{sql}: {error}"));
    }

    /// Drops it, closing whatever is still connected.
    pub async fn drop_database(self) {
        self.admin("DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            .await;
    }
}

/// One call the server received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// `outline` (the plan), `outline weeks from 3` (a part's weeks), `outline week 1` (its units),
    /// `retitle week`, `overview 1`, `unit 1.2`, `quiz <unit title>`, or `other`.
    pub key: String,
    /// Whether the whole answer was sent.
    pub completed: bool,
    /// The last user message, as sent.
    pub last_user: String,
    /// Every message, as (role, content).
    pub messages: Vec<(String, String)>,
}

/// What the server does instead of answering normally, for the next call matching a key prefix.
#[derive(Debug, Clone)]
pub enum Action {
    /// Answer with this status and body.
    Status(u16, String),
    /// Answer with an outline plan (or a part's weeks, or a week's units) whose titles all repeat:
    /// valid JSON, a course Lyceum must fix.
    RepeatedTitles,
    /// The same with blank titles (three spaces, which the schema allows): an answer to retry.
    BlankTitles,
    /// Answer with this text instead, as a model might write it.
    Answer(String),
    /// Send the first piece of the answer, report the call on [`ScriptedModel::held`], and wait for
    /// [`ScriptedModel::release`] before sending the rest.
    Hold,
    /// Answer as usual: scripted before another action for the same key, it delays that action to a
    /// later call.
    AsUsual,
    /// Send the first pieces of the answer, then nothing, keeping the connection open.
    Stall,
    /// Send the first pieces of the answer, then close the connection without finishing.
    Close,
    /// Send the first pieces of the answer, then an event that is not JSON.
    BrokenEvent,
    /// Answer 429 asking to wait this many seconds (Retry-After).
    RateLimited(u64),
    /// Answer with the whole prompt, every message's text in order: a model that leaks its
    /// instructions.
    Echo,
}

#[derive(Default)]
struct Inner {
    calls: Vec<Call>,
    script: VecDeque<(String, Action)>,
}

struct Shared {
    inner: Mutex<Inner>,
    release: Notify,
    held: mpsc::UnboundedSender<String>,
    /// Bumped whenever a call is answered completely.
    answered: watch::Sender<usize>,
}

impl Shared {
    fn inner(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The running server; it stops when dropped.
pub struct ScriptedModel {
    /// `http://127.0.0.1:PORT/v1`.
    pub base_url: String,
    shared: Arc<Shared>,
    held: tokio::sync::Mutex<mpsc::UnboundedReceiver<String>>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for ScriptedModel {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl ScriptedModel {
    /// Starts the server on a free loopback port.
    pub async fn start() -> Self {
        let (held_tx, held_rx) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            inner: Mutex::new(Inner::default()),
            release: Notify::new(),
            held: held_tx,
            answered: watch::Sender::new(0),
        });
        let app = Router::new()
            .route("/v1/chat/completions", post(complete))
            .with_state(Arc::clone(&shared));
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .expect("bind a loopback port");
        let addr = listener.local_addr().expect("a bound address");
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            base_url: format!("http://{addr}/v1"),
            shared,
            held: tokio::sync::Mutex::new(held_rx),
            server,
        }
    }

    /// Settings for an application on `data_dir` whose engine is this server: no retries inside the
    /// engine and no backoff between a job's attempts, so tests never wait.
    pub fn settings(&self, data_dir: &std::path::Path) -> lyceum_app::Settings {
        let mut settings = lyceum_app::Settings {
            data_dir: data_dir.to_path_buf(),
            ..lyceum_app::Settings::default()
        };
        settings.engine.kind = lyceum_app::settings::EngineKind::Openai;
        settings.engine.openai.base_url = self.base_url.clone();
        settings.engine.openai.model = "scripted".into();
        settings.engine.openai.max_retries = 0;
        settings.worker.retry_backoff_secs = 0;
        settings
    }

    /// The next call whose key starts with `key_prefix` gets `action` instead of a normal answer.
    /// Scripted actions are used once each, in the order given.
    pub fn script(&self, key_prefix: &str, action: Action) {
        self.shared
            .inner()
            .script
            .push_back((key_prefix.to_owned(), action));
    }

    /// Every call so far.
    pub fn calls(&self) -> Vec<Call> {
        self.shared.inner().calls.clone()
    }

    /// How many calls had this exact key, and how many of them were answered completely.
    pub fn count(&self, key: &str) -> (usize, usize) {
        let calls = self.calls();
        let matching = calls.iter().filter(|call| call.key == key);
        let total = matching.clone().count();
        (total, matching.filter(|call| call.completed).count())
    }

    /// Waits until a call with this exact key has been answered completely.
    pub async fn answered(&self, key: &str) {
        // Subscribed before the check, so an answer between the two is not missed.
        let mut answers = self.shared.answered.subscribe();
        while self.count(key).1 == 0 {
            answers.changed().await.expect("the server is running");
        }
    }

    /// Waits until a call is being held; returns its key.
    pub async fn held(&self) -> String {
        self.held
            .lock()
            .await
            .recv()
            .await
            .expect("the server is running")
    }

    /// Lets held calls finish.
    pub fn release(&self) {
        self.shared.release.notify_waiters();
    }
}

async fn complete(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return (StatusCode::BAD_REQUEST, "not JSON").into_response();
    };
    let messages = request["messages"].as_array().cloned().unwrap_or_default();
    let last_user = messages
        .iter()
        .rev()
        .find(|message| message["role"] == "user")
        .and_then(|message| message["content"].as_str())
        .unwrap_or("")
        .to_owned();
    let schema = request["response_format"]["json_schema"]["schema"].clone();
    let schema = if schema.is_null() {
        request["response_format"]["schema"].clone()
    } else {
        schema
    };
    let system = messages
        .first()
        .and_then(|message| message["content"].as_str())
        .unwrap_or("");
    // A retry repeats the original task as an earlier user message; classify by the first one (a
    // quiz continues its unit's conversation, so it is told by its schema and names its unit later).
    let users: Vec<&str> = messages
        .iter()
        .filter(|message| message["role"] == "user")
        .filter_map(|message| message["content"].as_str())
        .collect();
    let (key, mut content) = answer(system, &users, &schema);
    let prompt_tokens =
        (system.len() + users.iter().map(|user| user.len()).sum::<usize>()) as u32 / 4;
    let messages = messages
        .iter()
        .map(|message| {
            let text = |field: &str| message[field].as_str().unwrap_or_default().to_owned();
            (text("role"), text("content"))
        })
        .collect();

    let index = {
        let mut inner = shared.inner();
        inner.calls.push(Call {
            key: key.clone(),
            completed: false,
            last_user,
            messages,
        });
        inner.calls.len() - 1
    };
    let action = {
        let mut inner = shared.inner();
        let position = inner
            .script
            .iter()
            .position(|(prefix, _)| key.starts_with(prefix.as_str()));
        position.and_then(|position| inner.script.remove(position))
    };
    let mut hold = false;
    match action.map(|(_, action)| action) {
        Some(Action::Status(status, body)) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return (status, body).into_response();
        }
        Some(Action::RepeatedTitles) => content = with_titles(&content, "The same title"),
        Some(Action::BlankTitles) => content = with_titles(&content, "   "),
        Some(Action::Answer(text)) => content = text,
        Some(Action::Echo) => {
            content = shared.inner().calls[index]
                .messages
                .iter()
                .map(|(_, text)| text.as_str())
                .collect::<Vec<_>>()
                .join("\n\n");
        }
        Some(Action::Hold) => hold = true,
        Some(Action::AsUsual) | None => {}
        Some(Action::RateLimited(seconds)) => {
            return (
                StatusCode::TOO_MANY_REQUESTS,
                [(header::RETRY_AFTER, seconds.to_string())],
                "slow down",
            )
                .into_response();
        }
        Some(fault @ (Action::Stall | Action::Close | Action::BrokenEvent)) => {
            return faulty(&content, &fault);
        }
    }

    let pieces = split(&content);
    let completion_tokens = pieces.len() as u32;
    let stream = futures::stream::unfold(0_usize, move |step| {
        let shared = Arc::clone(&shared);
        let pieces = pieces.clone();
        let key = key.clone();
        async move {
            if hold && step == 1 {
                let released = shared.release.notified();
                let _ = shared.held.send(key.clone());
                released.await;
            }
            let event = if step < pieces.len() {
                chunk(
                    json!({"choices": [{"index": 0, "delta": {"content": pieces[step]}, "finish_reason": null}]}),
                )
            } else if step == pieces.len() {
                chunk(json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}))
            } else if step == pieces.len() + 1 {
                chunk(
                    json!({"choices": [], "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens}}),
                )
            } else if step == pieces.len() + 2 {
                shared.inner().calls[index].completed = true;
                shared.answered.send_modify(|answered| *answered += 1);
                Bytes::from_static(b"data: [DONE]\n\n")
            } else {
                return None;
            };
            Some((Ok::<_, std::io::Error>(event), step + 1))
        }
    });
    Response::builder()
        .header(header::CONTENT_TYPE, "text/event-stream")
        .body(Body::from_stream(stream))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

/// The start of an answer, then the fault: silence, a closed connection, or an event that is not JSON.
fn faulty(content: &str, fault: &Action) -> Response {
    let mut events: Vec<Result<Bytes, std::io::Error>> = split(content)
        .into_iter()
        .take(3)
        .map(|piece| {
            Ok(chunk(json!({"choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": null}]})))
        })
        .collect();
    match fault {
        Action::BrokenEvent => events.push(Ok(Bytes::from_static(b"data: {\"choices\": [tru\n\n"))),
        Action::Close => events.push(Err(std::io::Error::other("the connection dropped"))),
        _ => {}
    }
    let stall = matches!(fault, Action::Stall);
    let fault_event = events.split_off(3.min(events.len()));
    let start = events;
    let stream = futures::stream::iter(start)
        .chain(futures::stream::once(async {
            // The start of the answer goes out on the wire before the fault: the fault is mid-answer,
            // after the response began, as when a server or a proxy fails.
            tokio::time::sleep(std::time::Duration::from_millis(30)).await;
            Ok(Bytes::new())
        }))
        .chain(futures::stream::iter(fault_event))
        .chain(futures::stream::once(async move {
            if stall {
                std::future::pending::<()>().await;
            }
            Err(std::io::Error::other("the answer ends here"))
        }));
    Response::builder()
        .header(header::CONTENT_TYPE, "text/event-stream")
        .body(Body::from_stream(stream))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

fn chunk(value: Value) -> Bytes {
    Bytes::from(format!("data: {value}\n\n"))
}

/// The answer in pieces of a few characters, split on character boundaries.
fn split(content: &str) -> Vec<String> {
    let chars: Vec<char> = content.chars().collect();
    chars
        .chunks(12)
        .map(|piece| piece.iter().collect())
        .collect()
}

/// Classifies a request and writes a valid answer for it.
fn answer(system: &str, users: &[&str], schema: &Value) -> (String, String) {
    let task = users.first().copied().unwrap_or_default();
    if system.starts_with("Secret code: ") {
        return tutor_answer(system, users.last().copied().unwrap_or_default(), schema);
    }
    let properties = &schema["properties"];
    if properties.get("weeks").is_some() && properties.get("title").is_none() {
        let count = properties["weeks"]["minItems"].as_u64().unwrap_or(1) as usize;
        let first = number_after(task, "(weeks ").unwrap_or(1);
        let weeks: Vec<Value> = (first..first + count)
            .map(|m| planned(WEEK_TITLE, "week", m))
            .collect();
        return (
            format!("outline weeks from {first}"),
            json!({"weeks": weeks}).to_string(),
        );
    }
    let topic = system
        .lines()
        .find_map(|line| line.strip_prefix("Topic: "))
        .unwrap_or("a topic");
    for (key, name) in [
        ("weeks", WEEK_TITLE),
        ("parts", "Overview of stage group {n}"),
    ] {
        if let Some(list) = properties.get(key) {
            let count = list["minItems"].as_u64().unwrap_or(1) as usize;
            let mut plan = plan(topic, key, name, count);
            if let Some(category) = first_choice(properties) {
                plan["category"] = category;
            }
            return ("outline".into(), plan.to_string());
        }
    }
    if properties.as_object().is_some_and(|p| p.len() == 1)
        && let Some(category) = first_choice(properties)
    {
        return ("category".into(), json!({"category": category}).to_string());
    }
    if properties.get("title").is_some() && properties.as_object().is_some_and(|p| p.len() == 1) {
        // A new title, made from what the item covers so that each differs.
        let noun = task.split_whitespace().nth(1).unwrap_or("item");
        let covers = task
            .split("covers the following: ")
            .nth(1)
            .and_then(|rest| rest.lines().next())
            .unwrap_or("");
        let title: String = format!("Retitled {covers}").chars().take(80).collect();
        return (
            format!("retitle {noun}"),
            json!({"title": title}).to_string(),
        );
    }
    if properties.get("units").is_some() {
        let units = properties["units"]["minItems"].as_u64().unwrap_or(1) as usize;
        let n = number_after(task, "Plan the units of week ").unwrap_or(0);
        let week = n.to_string();
        return (
            format!("outline week {week}"),
            week_units(n, units).to_string(),
        );
    }
    if properties.get("questions").is_some() {
        let title = users
            .iter()
            .find_map(|user| quoted_after(user, "on the unit "))
            .unwrap_or_default();
        let count = properties["questions"]["minItems"].as_u64().unwrap_or(5) as usize;
        // Asked for more besides some kept, it numbers the new ones after those.
        let first = if users
            .iter()
            .any(|user| user.contains(" more multiple-choice "))
        {
            6
        } else {
            1
        };
        return (
            format!("quiz {title}"),
            questions(&title, first..first + count).to_string(),
        );
    }
    if let Some(rest) = task.strip_prefix("Write the overview of week ") {
        let week: String = rest.chars().take_while(char::is_ascii_digit).collect();
        let text = format!(
            "This week builds the ground for everything after it. It explains the ideas of week {week} \
             step by step, with examples a learner can follow, and it prepares the units that come next. \
             By its end you will have practised each idea on a small case of your own."
        );
        return (format!("overview {week}"), text);
    }
    if let Some(rest) = task.strip_prefix("Write unit ") {
        let number: String = rest
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        let title = quoted_after(task, "").unwrap_or_default();
        let text = article(&title);
        return (format!("unit {number}"), text);
    }
    ("other".into(), "An answer.".into())
}

/// The tutor's answers (the key says which: `tutor reply`, `tutor grade`, `tutor exercise`, `tutor
/// reading`, `tutor question`), grounded in the unit text of the system message as a model would be.
fn tutor_answer(system: &str, last: &str, schema: &Value) -> (String, String) {
    let unit_text = system
        .split("<unit_text>\n")
        .nth(1)
        .and_then(|rest| rest.split("\n</unit_text>").next())
        .unwrap_or("");
    let first_sentence = unit_text
        .lines()
        .find(|line| !line.trim().is_empty() && !line.starts_with('#'))
        .and_then(|line| line.split_inclusive(". ").next())
        .unwrap_or("")
        .trim()
        .to_owned();
    let properties = &schema["properties"];
    if properties.get("verdict").is_some() {
        // Right when the answer repeats the expected one, wrong otherwise.
        let expected = quoted_after(last, "The unit's answer: ").unwrap_or_default();
        let answer = last
            .split("<learner_message>\n")
            .nth(1)
            .and_then(|rest| rest.split("\n</learner_message>").next())
            .unwrap_or("");
        let right =
            !expected.is_empty() && answer.to_lowercase().contains(&expected.to_lowercase());
        let grade = if right {
            json!({"verdict": "right", "feedback": "Yes: that is what the unit says.", "quote": first_sentence})
        } else {
            json!({"verdict": "wrong", "feedback": format!("Not quite: the answer is {expected}."), "quote": first_sentence})
        };
        return ("tutor grade".into(), grade.to_string());
    }
    if properties.get("task").is_some() {
        return (
            "tutor exercise".into(),
            json!({"task": "Write down three examples of the idea from this unit, in your own words.",
                   "solution": "Each example should name the idea and show it at work, as the unit's example does."})
            .to_string(),
        );
    }
    if properties.get("items").is_some() {
        return (
            "tutor reading".into(),
            json!({"items": [
                {"title": "A Short History of Nearly Everything", "author": "Bill Bryson", "why": "It tells how the ideas were found."},
                {"title": "The Feynman Lectures on Physics", "author": "Richard Feynman", "why": "It explains the basics with care."}
            ]})
            .to_string(),
        );
    }
    if properties.get("question").is_some() {
        return (
            "tutor question".into(),
            json!({"question": "What does the unit's first section explain?", "answer": first_sentence})
                .to_string(),
        );
    }
    (
        "tutor reply".into(),
        format!("Good question. The unit puts it this way: {first_sentence}"),
    )
}

/// The article the server writes for a unit titled `title`: long and varied enough to be kept as
/// written (nothing in it is a reason to write it again). Tests that script their own article add to it.
pub fn article(title: &str) -> String {
    format!(
        "This unit, {title}, explains its subject from the ground up.\n\n## The idea\n\n{title} \
             matters because every later unit uses it. Here is an example worked through in full, with \
             each step explained. We start from a situation most learners have met at home or at work, \
             name the parts that play a role in it, and ask what would change if one of them were \
             missing. That question leads to the central rule of this unit, which we state in plain \
             words before writing it more precisely.\n\n## Working through an example\n\nTake a small \
             case with real numbers. First we write down what is known and what we want to find out. \
             Then we apply the rule one step at a time, checking after each step that the result still \
             makes sense. A common mistake is to skip the check; the last paragraph shows where that \
             goes wrong and how to notice it early. Finally we compare the answer with a rough estimate \
             made beforehand, a habit that catches most slips.\n\n## Key takeaways\n\n- {title} is the \
             foundation of what follows\n- Practise it with the example above\n- Check every step \
             against an estimate\n"
    )
}

/// The first `"…"` after `marker` in `text`.
fn quoted_after(text: &str, marker: &str) -> Option<String> {
    let start = text.find(marker)? + marker.len();
    let rest = &text[start..];
    let open = rest.find('"')? + 1;
    let close = rest[open..].find('"')? + open;
    Some(rest[open..close].to_owned())
}

/// A course plan with `count` weeks or parts under `key`, titled from `name` (`{n}` is the number).
fn plan(topic: &str, key: &str, name: &str, count: usize) -> Value {
    let short: String = topic.chars().take(60).collect();
    let noun = key.trim_end_matches('s');
    let mut plan = json!({
        "title": format!("A course on {short}"),
        "summary": format!("A complete introduction to {short}, from first ideas to practice."),
        "outcomes": ["Explain the key ideas", "Apply them to real cases", "Judge which method fits"],
    });
    plan[key] = (1..=count).map(|n| planned(name, noun, n)).collect();
    plan
}

/// The first of the subject categories a schema offers, as the fake's choice.
fn first_choice(properties: &Value) -> Option<Value> {
    properties.get("category")?["enum"].get(0).cloned()
}

/// How the fake plans title weeks; `{n}` is the week's number.
const WEEK_TITLE: &str = "Stage {n} foundations";

/// Week or part `n` of a plan, titled from `name` (`{n}` is the number).
fn planned(name: &str, noun: &str, n: usize) -> Value {
    json!({
        "title": name.replace("{n}", &n.to_string()),
        "focus": format!("What {noun} {n} adds to the course.")
    })
}

/// The whole number written right after `marker` in `text`.
fn number_after(text: &str, marker: &str) -> Option<usize> {
    let rest = text.split(marker).nth(1)?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

fn week_units(week: usize, units: usize) -> Value {
    json!({
        "units": (1..=units).map(|u| json!({
            "title": format!("Depth study {week}.{u}"),
            "objectives": [format!("Describe topic {week}.{u}"), format!("Use topic {week}.{u}")]
        })).collect::<Vec<_>>()
    })
}

/// The answer with every planned part, week or unit titled `title`.
fn with_titles(content: &str, title: &str) -> String {
    let mut value: Value = serde_json::from_str(content).unwrap_or(Value::Null);
    for list in ["parts", "weeks", "units"] {
        if let Some(items) = value.get_mut(list).and_then(Value::as_array_mut) {
            for item in items {
                item["title"] = json!(title);
            }
        }
    }
    value.to_string()
}

/// The quiz the server writes for a unit titled `title`, as the model answers (five questions, each
/// with its right answer and three wrong ones).
pub fn quiz(title: &str) -> Value {
    questions(title, 1..6)
}

/// Questions numbered `numbers` on the unit `title`, as [`quiz`] writes them.
fn questions(title: &str, numbers: std::ops::Range<usize>) -> Value {
    json!({
        "questions": numbers.map(|n| json!({
            "prompt": format!("Question {n} about {title}?"),
            "correct": format!("Right answer {n}"),
            "wrong": (["a", "b", "c", "d"].map(|letter| format!("Wrong answer {n}{letter}"))),
            "explanation": format!("The unit on {title} says so in its example {n}.")
        })).collect::<Vec<_>>()
    })
}
