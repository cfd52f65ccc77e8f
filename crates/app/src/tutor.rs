//! The tutor beside every unit: a signed-in learner's conversation about one unit, answered by the
//! model from the unit's text and kept until they clear it.
//!
//! Besides answering questions, the tutor runs "Test me" (questions one at a time — the unit's stored
//! quiz first, then ones it writes from the text — each answer graded with a sentence of the unit that
//! supports the right answer, a running score, and a summary of what to review when the learner stops
//! or the questions run out), sets a practical exercise with its worked solution, and suggests further
//! reading, shown with search links the application builds (never an address the model wrote).
//!
//! Replies are interactive requests, served ahead of the worker's background writing. Each learner may
//! ask for `web.tutor_messages_per_hour` replies an hour. The system message carries a secret canary:
//! a reply that repeats it is withheld, so the tutor's instructions never reach the page, the API or the
//! stored conversation. The learner's message is stored before the reply is written, so nothing typed
//! is lost when the reply fails; "Try again" writes the reply to it again.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::{FutureExt, Stream, StreamExt};
use lyceum_course::tutor::{
    self, AskedQuestion, Exercise, Grade, Reading, Size, Suggestion, Task, Turn, TutorBrief,
    Verdict,
};
use lyceum_course::{Language, Quiz};
use lyceum_llm::{Event, LlmError, Request};
use lyceum_store::{ChatMessage, ChatRole, Course, NewChatMessage, StoreError, Unit, User, now_ms};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use crate::Lyceum;

pub use lyceum_course::tutor::MAX_MESSAGE_CHARS;

/// What the learner asks of the tutor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ask {
    /// A message they typed: a question, or the answer to a test question.
    Message(String),
    /// "Test me": start a test.
    TestMe,
    /// End the test with a summary.
    Stop,
    /// "Practical exercise".
    Exercise,
    /// "Further reading".
    Reading,
    /// Write the reply to their last message again, after it failed.
    Retry,
}

/// The kinds of stored messages.
pub mod kind {
    /// The learner's question, or what the tutor answered to one.
    pub const ASK: &str = "ask";
    pub const REPLY: &str = "reply";
    /// "Test me" pressed.
    pub const TEST: &str = "test";
    /// A test question, and the learner's answer to it.
    pub const QUESTION: &str = "question";
    pub const ANSWER: &str = "answer";
    /// The grade of an answer.
    pub const GRADE: &str = "grade";
    /// "Stop" pressed, and the summary of a test.
    pub const STOP: &str = "stop";
    pub const SUMMARY: &str = "summary";
    /// "Practical exercise" pressed, and the exercise.
    pub const EXERCISE: &str = "exercise";
    /// "Further reading" pressed, and the suggestions.
    pub const READING: &str = "reading";
    /// A reply withheld because it repeated the tutor's instructions.
    pub const WITHHELD: &str = "withheld";
}

/// How many questions one test asks at most.
pub const QUESTIONS_PER_TEST: usize = 5;

/// Why the tutor did not take a message.
#[derive(Debug, thiserror::Error)]
pub enum ChatRefused {
    #[error("write a message first")]
    Empty,
    #[error("a message can have at most {MAX_MESSAGE_CHARS} characters; this one has {0}")]
    TooLong(usize),
    /// The hourly limit; the learner may ask again after `retry_after`.
    #[error(
        "you have asked the tutor {limit} times in the last hour, its limit; ask again in {} minutes",
        retry_after.as_secs().div_ceil(60)
    )]
    TooMany { limit: u32, retry_after: Duration },
    #[error("this unit is not written yet, so the tutor has nothing to teach from")]
    NotWritten,
    #[error("there is no test to stop")]
    NoTest,
    #[error("the tutor answered your last message already")]
    NothingToRetry,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a conversation's stream says.
#[derive(Debug, Clone, PartialEq)]
pub enum TutorEvent {
    /// A message was stored: the learner's, or one of the tutor's.
    Stored(Said),
    /// The tutor's reply as far as it is written.
    Partial(Reply),
    /// The reply failed; the learner's message is kept and [`Ask::Retry`] tries again.
    Failed(String),
    /// The model finished a part of the reply: the tokens it wrote, when the engine says, and how
    /// long from asking to its first and its last word. For measuring; pages show nothing of it.
    Written {
        tokens: Option<u32>,
        first: Duration,
        took: Duration,
    },
}

/// A stored message with its structured part read.
#[derive(Debug, Clone, PartialEq)]
pub struct Said {
    pub message: ChatMessage,
    pub reply: Reply,
}

/// What a message holds, by its kind.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// Markdown: the learner's words, a chat reply, a test summary, a withheld note.
    Text(String),
    /// A test question, numbered from 1.
    Question {
        number: usize,
        text: String,
    },
    Grade(Grade),
    Exercise(Exercise),
    Reading(Reading),
}

/// What a stored test question keeps beside its text: the answer it expects. Never shown before
/// the learner answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct QuestionData {
    number: usize,
    expected: String,
    #[serde(default)]
    explanation: String,
    /// The question's place in the unit's quiz, or `None` when the tutor wrote it.
    quiz: Option<usize>,
}

/// What a stored grade keeps beside its text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct GradeData {
    verdict: Verdict,
    feedback: String,
    quote: String,
    /// The question it grades.
    question: String,
}

impl Said {
    /// Reads a stored message.
    pub fn new(message: ChatMessage) -> Self {
        let data = message.data.as_deref().unwrap_or("null");
        let reply = match (message.role, message.kind.as_str()) {
            (ChatRole::Tutor, kind::QUESTION) => Reply::Question {
                number: serde_json::from_str::<QuestionData>(data).map_or(0, |data| data.number),
                text: message.text.clone(),
            },
            (ChatRole::Tutor, kind::GRADE) => match serde_json::from_str::<GradeData>(data) {
                Ok(data) => Reply::Grade(Grade {
                    verdict: Some(data.verdict),
                    feedback: data.feedback,
                    quote: data.quote,
                }),
                Err(_) => Reply::Text(message.text.clone()),
            },
            (ChatRole::Tutor, kind::EXERCISE) => tutor::finished(data)
                .map_or_else(|| Reply::Text(message.text.clone()), Reply::Exercise),
            (ChatRole::Tutor, kind::READING) => tutor::finished(data)
                .map_or_else(|| Reply::Text(message.text.clone()), Reply::Reading),
            _ => Reply::Text(message.text.clone()),
        };
        Self { message, reply }
    }
}

/// Where a conversation's test stands.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TestState {
    /// A test is under way.
    pub open: bool,
    /// Its last question waits for an answer.
    pub awaiting: bool,
    pub asked: usize,
    pub right: usize,
    pub partly: usize,
}

#[derive(Default)]
struct Test {
    state: TestState,
    /// The questions asked, with what they expect, in order.
    questions: Vec<(String, QuestionData)>,
    /// The grades given, in order.
    grades: Vec<GradeData>,
}

impl Test {
    /// The test begun last in `chat`, if one was.
    fn of(chat: &[ChatMessage]) -> Self {
        let mut test = Self {
            state: TestState::default(),
            questions: Vec::new(),
            grades: Vec::new(),
        };
        let start = chat
            .iter()
            .rposition(|m| m.role == ChatRole::Learner && m.kind == kind::TEST);
        let Some(start) = start else {
            return test;
        };
        test.state.open = true;
        for message in &chat[start..] {
            if message.role != ChatRole::Tutor {
                continue;
            }
            let data = message.data.as_deref().unwrap_or("null");
            match message.kind.as_str() {
                kind::QUESTION => {
                    if let Ok(data) = serde_json::from_str(data) {
                        test.questions.push((message.text.clone(), data));
                    }
                }
                kind::GRADE => {
                    if let Ok(data) = serde_json::from_str::<GradeData>(data) {
                        match data.verdict {
                            Verdict::Right => test.state.right += 1,
                            Verdict::PartlyRight => test.state.partly += 1,
                            Verdict::Wrong => {}
                        }
                        test.grades.push(data);
                    }
                }
                kind::SUMMARY => test.state.open = false,
                _ => {}
            }
        }
        test.state.asked = test.questions.len();
        test.state.awaiting = test.state.open && test.questions.len() > test.grades.len();
        test
    }
}

/// Where a learner's conversation about a unit stands.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Conversation {
    pub messages: Vec<Said>,
    pub test: TestState,
    /// The last message is the learner's and has no reply: "Try again" writes one.
    pub unanswered: bool,
}

/// Learner `learner`'s conversation about unit `unit_id`.
pub async fn conversation(
    app: &Lyceum,
    learner: &User,
    unit_id: i64,
) -> Result<Conversation, StoreError> {
    let chat = app.store.chat(learner.id, unit_id).await?;
    Ok(Conversation {
        test: Test::of(&chat).state,
        unanswered: chat
            .last()
            .is_some_and(|message| message.role == ChatRole::Learner),
        messages: chat.into_iter().map(Said::new).collect(),
    })
}

/// Forgets learner `learner`'s conversation about unit `unit_id`; whether there was one.
pub async fn clear(app: &Lyceum, learner: &User, unit_id: i64) -> Result<bool, StoreError> {
    Ok(app.store.clear_chat(learner.id, unit_id).await? > 0)
}

/// Takes `ask` from `learner` about `unit` of `course` (whose units, in syllabus order, are `units`)
/// and answers it: the stream says what was stored and how the reply grows. Refused before anything
/// is stored when the message is empty or too long, the learner asked too often, or the unit is not
/// written. Dropping the stream stops the reply; the learner's message stays.
pub async fn chat(
    app: &Arc<Lyceum>,
    learner: &User,
    course: &Course,
    units: &[Unit],
    unit_id: i64,
    ask: Ask,
) -> Result<impl Stream<Item = TutorEvent> + Send + 'static, ChatRefused> {
    if let Ask::Message(text) = &ask {
        let chars = text.chars().count();
        if text.trim().is_empty() {
            return Err(ChatRefused::Empty);
        }
        if chars > MAX_MESSAGE_CHARS {
            return Err(ChatRefused::TooLong(chars));
        }
    }
    let unit = units
        .iter()
        .find(|unit| unit.id == unit_id)
        .ok_or(ChatRefused::NotWritten)?;
    let body = unit.body.clone().ok_or(ChatRefused::NotWritten)?;
    let chat = app.store.chat(learner.id, unit.id).await?;
    let test = Test::of(&chat);
    let unanswered = chat.last().filter(|m| m.role == ChatRole::Learner);
    // What the learner's message is, or (for a retry) was.
    let (kind, text) = match &ask {
        Ask::Message(text) if test.state.awaiting => (kind::ANSWER, text.trim().to_owned()),
        Ask::Message(text) => (kind::ASK, text.trim().to_owned()),
        Ask::TestMe => (kind::TEST, "Test me".to_owned()),
        Ask::Stop if !test.state.open => return Err(ChatRefused::NoTest),
        Ask::Stop => (kind::STOP, "Stop the test".to_owned()),
        Ask::Exercise => (kind::EXERCISE, "Practical exercise".to_owned()),
        Ask::Reading => (kind::READING, "Further reading".to_owned()),
        Ask::Retry => match unanswered {
            Some(message) => (kind_of(&message.kind), message.text.clone()),
            None => return Err(ChatRefused::NothingToRetry),
        },
    };
    let limit = app.settings.web.tutor_messages_per_hour;
    if limit > 0 {
        const HOUR_MS: i64 = 3_600_000;
        let now = now_ms();
        let sent = app
            .store
            .count_tutor_request(learner.id, now - HOUR_MS, now, i64::from(limit))
            .await?;
        if sent.count >= i64::from(limit) {
            let wait = sent
                .oldest_at
                .map_or(HOUR_MS, |oldest| oldest + HOUR_MS - now);
            return Err(ChatRefused::TooMany {
                limit,
                retry_after: Duration::from_millis(u64::try_from(wait.max(1000)).unwrap_or(1000)),
            });
        }
    }
    let mut history = chat;
    let mut stored_learner = None;
    if ask != Ask::Retry {
        let stored = app
            .store
            .add_chat_messages(
                learner.id,
                course.id,
                unit.id,
                &[NewChatMessage {
                    role: ChatRole::Learner,
                    kind,
                    text: &text,
                    data: None,
                }],
                now_ms(),
            )
            .await?;
        history.extend(stored.iter().cloned());
        stored_learner = stored.into_iter().next();
    }
    let earlier = earlier(app, learner, course, units, unit).await?;
    let quiz = match kind {
        kind::TEST | kind::ANSWER => app.store.quiz(unit.id).await?,
        _ => None,
    };
    let turn = Replying {
        app: Arc::clone(app),
        learner_id: learner.id,
        course: course.clone(),
        unit: unit.clone(),
        body,
        earlier,
        history,
        test,
        quiz,
        kind,
        text,
    };
    let (sender, mut receiver) = mpsc::channel(32);
    // The reply is written as the stream is read, in the reader's task: no task of its own to lose.
    let work = async move {
        if let Some(message) = stored_learner {
            let _ = sender.send(TutorEvent::Stored(Said::new(message))).await;
        }
        turn.reply(&sender).await;
    };
    let events = futures::stream::poll_fn(move |cx| receiver.poll_recv(cx));
    Ok(futures::stream::select(
        events,
        work.into_stream().filter_map(|()| async { None }),
    ))
}

/// The kind of a stored learner message, as one of [`kind`]'s constants.
fn kind_of(stored: &str) -> &'static str {
    [
        kind::ASK,
        kind::TEST,
        kind::ANSWER,
        kind::STOP,
        kind::EXERCISE,
        kind::READING,
    ]
    .into_iter()
    .find(|kind| *kind == stored)
    .unwrap_or(kind::ASK)
}

/// One reply being written: everything it needs, owned.
struct Replying {
    app: Arc<Lyceum>,
    learner_id: i64,
    course: Course,
    unit: Unit,
    body: String,
    earlier: String,
    history: Vec<ChatMessage>,
    test: Test,
    quiz: Option<Quiz>,
    /// The kind of the learner's message being answered.
    kind: &'static str,
    text: String,
}

/// The shortest time between two partial replies sent: tokens arriving sooner go together.
const PARTIAL_EVERY: Duration = Duration::from_millis(40);

impl Replying {
    async fn reply(self, events: &mpsc::Sender<TutorEvent>) {
        if let Err(failure) = self.answer(events).await {
            if matches!(failure, Failure::Gone) {
                return;
            }
            tracing::warn!(unit = self.unit.id, "tutor reply failed: {failure}");
            let _ = events.send(TutorEvent::Failed(failure.to_string())).await;
        }
    }

    async fn answer(&self, events: &mpsc::Sender<TutorEvent>) -> Result<(), Failure> {
        match self.kind {
            kind::ASK => {
                let text = self
                    .write(Task::Answer(&self.text), events, Shape::Text)
                    .await?;
                let Some(text) = text else {
                    return self.withheld(events).await;
                };
                self.store(events, kind::REPLY, &text, None).await
            }
            kind::EXERCISE => {
                let Some(raw) = self.write(Task::Exercise, events, Shape::Exercise).await? else {
                    return self.withheld(events).await;
                };
                let exercise = tutor::finished::<Exercise>(&raw)
                    .filter(|exercise| !exercise.task.trim().is_empty())
                    .ok_or(Failure::Unreadable("an exercise"))?;
                let data = serde_json::to_string(&exercise)
                    .map_err(|_| Failure::Unreadable("an exercise"))?;
                self.store(events, kind::EXERCISE, &exercise.task, Some(&data))
                    .await
            }
            kind::READING => {
                let Some(raw) = self.write(Task::Reading, events, Shape::Reading).await? else {
                    return self.withheld(events).await;
                };
                let reading = clean_reading(
                    tutor::finished(&raw).ok_or(Failure::Unreadable("reading suggestions"))?,
                );
                let data = serde_json::to_string(&reading)
                    .map_err(|_| Failure::Unreadable("reading suggestions"))?;
                self.store(events, kind::READING, &reading_text(&reading), Some(&data))
                    .await
            }
            kind::TEST => self.ask_next(events, &Test::default()).await,
            kind::ANSWER => self.grade(events).await,
            kind::STOP => {
                let summary = summary(&self.test);
                self.store(events, kind::SUMMARY, &summary, None).await
            }
            _ => Ok(()),
        }
    }

    /// Grades the answer to the question waiting for one, then asks the next or sums the test up.
    async fn grade(&self, events: &mpsc::Sender<TutorEvent>) -> Result<(), Failure> {
        let Some((question, data)) = self.test.questions.last() else {
            return Ok(());
        };
        let prompt = question_prompt(question);
        let task = Task::Grade {
            question: &prompt,
            expected: &data.expected,
            explanation: &data.explanation,
            answer: &self.text,
        };
        let Some(raw) = self.write(task, events, Shape::Grade).await? else {
            return self.withheld(events).await;
        };
        let grade: Grade = tutor::finished(&raw).ok_or(Failure::Unreadable("a grade"))?;
        let verdict = grade.verdict.ok_or(Failure::Unreadable("a grade"))?;
        // The sentence behind the answer: a question the tutor wrote was asked about one; for a
        // quiz's question, the sentence the model quoted if it is the unit's, or the closest one.
        let quote = match data.quiz {
            None if !data.expected.is_empty() => data.expected.clone(),
            _ => tutor::supporting_sentence(
                &self.body,
                &grade.quote,
                &format!("{prompt} {} {}", data.expected, data.explanation),
            )
            .unwrap_or_default(),
        };
        // A model may call anything right; an answer without a word of the unit's answer is not.
        let on_the_subject = tutor::shares_an_idea(
            &self.text,
            &format!("{} {}", data.expected, data.explanation),
        );
        let (verdict, feedback) = if verdict != Verdict::Wrong && !on_the_subject {
            let feedback = match data.quiz {
                Some(_) => format!(
                    "Not quite: the unit's answer is “{}”.",
                    data.expected.trim().trim_end_matches('.')
                ),
                None => "Not quite: your answer misses what the unit says.".to_owned(),
            };
            (Verdict::Wrong, feedback)
        } else {
            (verdict, grade.feedback.trim().to_owned())
        };
        let graded = GradeData {
            verdict,
            feedback,
            quote,
            question: prompt,
        };
        let mut test = TestState {
            asked: self.test.state.asked,
            right: self.test.state.right,
            partly: self.test.state.partly,
            ..TestState::default()
        };
        match verdict {
            Verdict::Right => test.right += 1,
            Verdict::PartlyRight => test.partly += 1,
            Verdict::Wrong => {}
        }
        let text = grade_text(&graded, &test);
        let data = serde_json::to_string(&graded).map_err(|_| Failure::Unreadable("a grade"))?;
        self.store(events, kind::GRADE, &text, Some(&data)).await?;
        let mut so_far = Test {
            state: test,
            questions: self.test.questions.clone(),
            grades: self.test.grades.clone(),
        };
        so_far.grades.push(graded);
        if so_far.questions.len() >= QUESTIONS_PER_TEST {
            return self
                .store(events, kind::SUMMARY, &summary(&so_far), None)
                .await;
        }
        self.ask_next(events, &so_far).await
    }

    /// Asks the next question of `test`: the quiz's next question, or one the model writes.
    async fn ask_next(
        &self,
        events: &mpsc::Sender<TutorEvent>,
        test: &Test,
    ) -> Result<(), Failure> {
        let asked = test.questions.len();
        let number = asked + 1;
        let from_quiz = self
            .quiz
            .as_ref()
            .and_then(|quiz| quiz.questions.get(asked).map(|question| (asked, question)));
        let (prompt, data) = match from_quiz {
            Some((index, question)) => (
                question.prompt.trim().to_owned(),
                QuestionData {
                    number,
                    expected: question.options[question.answer].clone(),
                    explanation: question.explanation.clone(),
                    quiz: Some(index),
                },
            ),
            None => {
                let asked: Vec<String> = test
                    .questions
                    .iter()
                    .map(|(text, _)| question_prompt(text))
                    .collect();
                let covered: Vec<String> = test
                    .questions
                    .iter()
                    .flat_map(|(text, data)| [question_prompt(text), data.expected.clone()])
                    .collect();
                let focus = tutor::focus_sentence(&self.body, &covered).unwrap_or_default();
                // A question asked already, or one that gives its answer away, is no test: ask again
                // once, then end the test honestly.
                let mut written = None;
                for attempt in 0..2 {
                    let task = Task::Question {
                        focus: &focus,
                        attempt,
                    };
                    let Some(raw) = self.write(task, events, Shape::Question).await? else {
                        return self.withheld(events).await;
                    };
                    let question: AskedQuestion =
                        tutor::finished(&raw).ok_or(Failure::Unreadable("a question"))?;
                    if question.question.trim().is_empty() || question.answer.trim().is_empty() {
                        return Err(Failure::Unreadable("a question"));
                    }
                    let fresh = tutor::is_question(&question.question)
                        && !tutor::gives_away(&question.question, &focus)
                        && !asked
                            .iter()
                            .any(|earlier| tutor::same_question(earlier, &question.question));
                    if fresh {
                        written = Some(question);
                        break;
                    }
                }
                let Some(written) = written else {
                    let text = format!(
                        "That was every question I have on this unit.\n\n{}",
                        summary(test)
                    );
                    return self.store(events, kind::SUMMARY, &text, None).await;
                };
                (
                    written.question.trim().to_owned(),
                    QuestionData {
                        number,
                        // The unit's own sentence is the answer: a small model's idea of the
                        // answer to its own question can be wrong.
                        expected: if focus.is_empty() {
                            written.answer.trim().to_owned()
                        } else {
                            focus.clone()
                        },
                        explanation: String::new(),
                        quiz: None,
                    },
                )
            }
        };
        let text = format!("**Question {number} of {QUESTIONS_PER_TEST}.** {prompt}");
        let data = serde_json::to_string(&data).map_err(|_| Failure::Unreadable("a question"))?;
        self.store(events, kind::QUESTION, &text, Some(&data)).await
    }

    /// Asks the model for `task` and streams what it writes as `shape`; its whole answer, or `None`
    /// when the answer repeated the canary and was stopped.
    async fn write(
        &self,
        task: Task<'_>,
        events: &mpsc::Sender<TutorEvent>,
        shape: Shape,
    ) -> Result<Option<String>, Failure> {
        // A question is written from the unit alone: with earlier questions in sight, a small model
        // asks one of them again.
        // The message answered now is the task itself, not part of the conversation before it.
        let before = match self.history.last() {
            Some(last) if last.role == ChatRole::Learner => &self.history[..self.history.len() - 1],
            _ => &self.history[..],
        };
        let history = match task {
            Task::Question { .. } => Vec::new(),
            _ => turns(before, matches!(self.kind, kind::TEST | kind::ANSWER)),
        };
        let label = format!("{}.{}", self.unit.week, self.unit.number);
        let brief = brief(
            &self.app.tutor_canary,
            &self.course,
            &self.unit,
            &self.body,
            &self.earlier,
            &label,
        );
        let canary = self.app.tutor_canary.to_lowercase();
        for (attempt, size) in Size::ALL.into_iter().enumerate() {
            let request = tutor::request(&brief, &history, task, size)?;
            let asked = Instant::now();
            let mut first = None;
            let mut stream = self.app.engine.generate(request);
            let mut raw = String::new();
            // The first words go out at once: the learner waits for them.
            let mut sent: Option<Instant> = None;
            loop {
                let Some(event) = stream.next().await else {
                    return Err(Failure::Model(LlmError::Engine(
                        "the answer ended without its end".into(),
                    )));
                };
                match event {
                    Ok(Event::Delta(delta)) => {
                        first.get_or_insert_with(|| asked.elapsed());
                        raw.push_str(&delta);
                        if raw.to_lowercase().contains(&canary) {
                            tracing::warn!(
                                unit = self.unit.id,
                                "a tutor reply repeated the canary; withheld"
                            );
                            return Ok(None);
                        }
                        if sent.is_none_or(|sent| sent.elapsed() >= PARTIAL_EVERY) {
                            let shown = without_canary_start(&raw, &canary);
                            if events
                                .send(TutorEvent::Partial(shape.read(shown)))
                                .await
                                .is_err()
                            {
                                // Nobody reads the stream any more: stop writing.
                                return Err(Failure::Gone);
                            }
                            sent = Some(Instant::now());
                        }
                    }
                    Ok(Event::Done(usage)) => {
                        let took = asked.elapsed();
                        let _ = events
                            .send(TutorEvent::Written {
                                tokens: usage.completion_tokens,
                                first: first.unwrap_or(took),
                                took,
                            })
                            .await;
                        return Ok(Some(raw));
                    }
                    Err(LlmError::InvalidRequest(reason))
                        if raw.is_empty() && attempt + 1 < Size::ALL.len() =>
                    {
                        tracing::debug!("tutor prompt too long at {size:?}: {reason}");
                        break;
                    }
                    Err(error) => return Err(Failure::Model(error)),
                }
            }
        }
        Err(Failure::Model(LlmError::InvalidRequest(
            "the tutor's prompt does not fit the model's context".into(),
        )))
    }

    async fn withheld(&self, events: &mpsc::Sender<TutorEvent>) -> Result<(), Failure> {
        self.store(
            events,
            kind::WITHHELD,
            "This reply was withheld: it repeated the tutor's own instructions. Ask about the unit \
             in other words.",
            None,
        )
        .await
    }

    async fn store(
        &self,
        events: &mpsc::Sender<TutorEvent>,
        kind: &str,
        text: &str,
        data: Option<&str>,
    ) -> Result<(), Failure> {
        let stored = self
            .app
            .store
            .add_chat_messages(
                self.learner_id,
                self.course.id,
                self.unit.id,
                &[NewChatMessage {
                    role: ChatRole::Tutor,
                    kind,
                    text,
                    data,
                }],
                now_ms(),
            )
            .await?;
        for message in stored {
            let _ = events.send(TutorEvent::Stored(Said::new(message))).await;
        }
        Ok(())
    }
}

/// How a reply being written is read.
#[derive(Debug, Clone, Copy)]
enum Shape {
    Text,
    Grade,
    Exercise,
    Reading,
    Question,
}

impl Shape {
    fn read(self, raw: &str) -> Reply {
        match self {
            Self::Text => Reply::Text(raw.to_owned()),
            Self::Grade => Reply::Grade(tutor::partial(raw)),
            Self::Exercise => Reply::Exercise(tutor::partial(raw)),
            Self::Reading => Reply::Reading(clean_reading(tutor::partial(raw))),
            Self::Question => Reply::Question {
                number: 0,
                text: tutor::partial::<AskedQuestion>(raw).question,
            },
        }
    }
}

/// `raw` without an end that could be the start of the canary, which is held back until the next
/// text shows it is not.
fn without_canary_start<'a>(raw: &'a str, canary: &str) -> &'a str {
    let lower = raw.to_lowercase();
    if lower.len() != raw.len() {
        // Letter case changed a length: hold back as much as the canary is long.
        let mut end = raw.len().saturating_sub(canary.len());
        while !raw.is_char_boundary(end) {
            end -= 1;
        }
        return &raw[..end];
    }
    let held = (1..=canary.len().min(lower.len()))
        .rev()
        .find(|&n| {
            lower.is_char_boundary(lower.len() - n) && canary.starts_with(&lower[lower.len() - n..])
        })
        .unwrap_or(0);
    &raw[..raw.len() - held]
}

/// Why a reply failed, as the learner reads it.
#[derive(Debug, thiserror::Error)]
enum Failure {
    #[error("{}", model_failure(.0))]
    Model(#[from] LlmError),
    #[error("the tutor wrote {0} that could not be read")]
    Unreadable(&'static str),
    #[error("the conversation could not be saved")]
    Store(#[from] StoreError),
    #[error("the page stopped listening")]
    Gone,
}

fn model_failure(error: &LlmError) -> &'static str {
    match error {
        LlmError::Overloaded { .. } => "the tutor is busy with many learners right now",
        LlmError::Timeout(..) => "the tutor took too long to answer",
        LlmError::Connect(_) | LlmError::Upstream { .. } | LlmError::Protocol(_) => {
            "the tutor's language model could not be reached"
        }
        LlmError::InvalidOutput(_) => "the tutor's answer came out garbled",
        _ => "the tutor's language model failed",
    }
}

/// The conversation as the model reads it: the learner's words delimited, buttons as what they ask,
/// and the tutor's messages as it said them. A test's questions and grades are left out of anything
/// but answering one, so a chat does not drift back into the test.
fn turns(chat: &[ChatMessage], with_test: bool) -> Vec<Turn> {
    chat.iter()
        .filter(|message| {
            with_test
                || !matches!(
                    message.kind.as_str(),
                    kind::QUESTION
                        | kind::GRADE
                        | kind::ANSWER
                        | kind::SUMMARY
                        | kind::TEST
                        | kind::STOP
                )
        })
        .filter(|message| message.kind != kind::WITHHELD)
        .map(|message| match message.role {
            ChatRole::Learner if matches!(message.kind.as_str(), kind::ASK | kind::ANSWER) => {
                Turn::Learner(tutor::learner_block(&message.text))
            }
            ChatRole::Learner => Turn::Learner(format!("({})", message.text)),
            ChatRole::Tutor => Turn::Tutor(message.text.clone()),
        })
        .collect()
}

/// A test question's own words, without the "Question N of M." the tutor put before them.
fn question_prompt(text: &str) -> String {
    text.split_once(".** ")
        .map_or(text, |(_, question)| question)
        .trim()
        .to_owned()
}

fn grade_text(grade: &GradeData, test: &TestState) -> String {
    let mut text = format!("**{}.** {}", grade.verdict.label(), grade.feedback);
    if !grade.quote.is_empty() {
        text.push_str(&format!("\n\nThe unit says:\n\n> {}", grade.quote));
    }
    text.push_str(&format!("\n\n{}", score_line(test)));
    text
}

fn score_line(test: &TestState) -> String {
    let answered = test.asked.max(1);
    if test.partly > 0 {
        format!(
            "Score: {} of {answered} right, {} partly.",
            test.right, test.partly
        )
    } else {
        format!("Score: {} of {answered} right.", test.right)
    }
}

/// What a test comes to: the score and, for each answer not right, the question and the sentence of
/// the unit to read again.
fn summary(test: &Test) -> String {
    let graded = test.grades.len();
    if graded == 0 {
        return "Test stopped before any answer. Press \"Test me\" to start again.".to_owned();
    }
    let state = TestState {
        asked: graded,
        ..test.state.clone()
    };
    let mut text = format!("**Test over.** {}", score_line(&state));
    let missed: Vec<&GradeData> = test
        .grades
        .iter()
        .filter(|grade| grade.verdict != Verdict::Right)
        .collect();
    if missed.is_empty() {
        text.push_str("\n\nEvery answer was right: this unit is yours.");
        return text;
    }
    text.push_str("\n\nTo review:\n");
    for grade in missed {
        text.push_str(&format!("\n- {}", grade.question));
        if !grade.quote.is_empty() {
            text.push_str(&format!(" The unit says: “{}”", grade.quote));
        }
    }
    text
}

/// Suggestions with any web address the model wrote removed, and without empty ones.
fn clean_reading(reading: Reading) -> Reading {
    Reading {
        items: reading
            .items
            .into_iter()
            .filter(|item| !item.title.trim().is_empty())
            .map(|item| Suggestion {
                title: tutor::without_addresses(item.title.trim()),
                author: tutor::without_addresses(item.author.trim()),
                why: tutor::without_addresses(item.why.trim()),
            })
            .collect(),
    }
}

fn reading_text(reading: &Reading) -> String {
    let mut text = String::new();
    for item in &reading.items {
        text.push_str(&format!("- *{}*", item.title));
        if !item.author.is_empty() {
            text.push_str(&format!(", {}", item.author));
        }
        if !item.why.is_empty() {
            text.push_str(&format!(": {}", item.why));
        }
        text.push('\n');
    }
    text
}

/// A link Lyceum builds for a suggestion: a search, never an address the model wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SearchLink {
    pub label: &'static str,
    pub href: String,
}

/// Searches for `item` in Wikipedia (in the course's language) and in Open Library's catalogue.
pub fn search_links(item: &Suggestion, language: Language) -> Vec<SearchLink> {
    let wiki = language
        .tag
        .split('-')
        .next()
        .filter(|code| code.chars().all(|c| c.is_ascii_lowercase()) && !code.is_empty())
        .unwrap_or("en");
    let query = if item.author.is_empty() {
        item.title.clone()
    } else {
        format!("{} {}", item.title, item.author)
    };
    vec![
        SearchLink {
            label: "Search Wikipedia",
            href: format!(
                "https://{wiki}.wikipedia.org/w/index.php?search={}",
                percent_encoded(&item.title)
            ),
        },
        SearchLink {
            label: "Find in Open Library",
            href: format!(
                "https://openlibrary.org/search?q={}",
                percent_encoded(&query)
            ),
        },
    ]
}

/// `text` percent-encoded for a URL's query: every byte but unreserved ones.
fn percent_encoded(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// What the tutor of `unit` knows of the course before it: the titles of the units before this one and
/// what the learner asked and scored in their conversations about other units, a few lines at most.
async fn earlier(
    app: &Lyceum,
    learner: &User,
    course: &Course,
    units: &[Unit],
    unit: &Unit,
) -> Result<String, StoreError> {
    let before: Vec<&Unit> = units
        .iter()
        .filter(|u| u.position < unit.position)
        .collect();
    let mut text = String::new();
    if !before.is_empty() {
        let titles: Vec<String> = before
            .iter()
            .rev()
            .take(8)
            .rev()
            .map(|u| format!("{}.{} {}", u.week, u.number, u.title))
            .collect();
        text.push_str(&format!(
            "Units before this one{}: {}.\n",
            if before.len() > 8 {
                " (the last 8)"
            } else {
                ""
            },
            titles.join("; ")
        ));
    }
    let elsewhere = app
        .store
        .chat_elsewhere(learner.id, course.id, unit.id, 200)
        .await?;
    let mut lines: Vec<String> = Vec::new();
    for other in units.iter().filter(|u| u.id != unit.id) {
        let said: Vec<&ChatMessage> = elsewhere.iter().filter(|m| m.unit_id == other.id).collect();
        if said.is_empty() {
            continue;
        }
        let asked: Vec<String> = said
            .iter()
            .filter(|m| m.role == ChatRole::Learner && m.kind == kind::ASK)
            .take(2)
            .map(|m| format!("\"{}\"", cut_chars(&m.text, 80)))
            .collect();
        let grades: Vec<Verdict> = said
            .iter()
            .filter(|m| m.kind == kind::GRADE)
            .filter_map(|m| serde_json::from_str::<GradeData>(m.data.as_deref()?).ok())
            .map(|grade| grade.verdict)
            .collect();
        let mut line = format!("In unit {}.{} the learner", other.week, other.number);
        let mut parts = Vec::new();
        if !asked.is_empty() {
            parts.push(format!("asked {}", asked.join(" and ")));
        }
        if !grades.is_empty() {
            let right = grades.iter().filter(|v| **v == Verdict::Right).count();
            parts.push(format!(
                "answered {right} of {} test questions right",
                grades.len()
            ));
        }
        if parts.is_empty() {
            continue;
        }
        line.push(' ');
        line.push_str(&parts.join(", and "));
        line.push('.');
        lines.push(line);
    }
    for line in lines.iter().rev().take(5).rev() {
        text.push_str(line);
        text.push('\n');
    }
    Ok(text)
}

fn cut_chars(text: &str, max: usize) -> String {
    let line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    match line.char_indices().nth(max) {
        Some((end, _)) => format!("{}…", line[..end].trim_end()),
        None => line,
    }
}

/// What the tutor's prompts say of `unit` (numbered `label`, its text `body`) of `course`.
fn brief<'a>(
    canary: &'a str,
    course: &'a Course,
    unit: &'a Unit,
    body: &'a str,
    earlier: &'a str,
    label: &'a str,
) -> TutorBrief<'a> {
    TutorBrief {
        canary,
        course_title: &course.title,
        course_summary: &course.summary,
        audience: &course.audience,
        level: course.level,
        language: course.language,
        unit_label: label,
        unit_title: &unit.title,
        objectives: &unit.objectives,
        unit_text: body,
        earlier,
    }
}

/// Decodes the start of learner `learner`'s next tutor prompt about `unit` (its system message and
/// conversation so far) while they are about to write, so the reply's first words come sooner:
/// worth it only on an engine that keeps prompts (the local one). Whether anything was decoded.
pub async fn warm(
    app: &Arc<Lyceum>,
    learner: &User,
    course: &Course,
    units: &[Unit],
    unit_id: i64,
) -> Result<bool, ChatRefused> {
    if !app.engine.keeps_prompts() {
        return Ok(false);
    }
    let unit = units
        .iter()
        .find(|unit| unit.id == unit_id)
        .ok_or(ChatRefused::NotWritten)?;
    let body = unit.body.as_deref().ok_or(ChatRefused::NotWritten)?;
    let chat = app.store.chat(learner.id, unit.id).await?;
    let earlier = earlier(app, learner, course, units, unit).await?;
    let label = format!("{}.{}", unit.week, unit.number);
    let brief = brief(&app.tutor_canary, course, unit, body, &earlier, &label);
    let history = turns(&chat, false);
    for size in Size::ALL {
        // The reply's own request, less its last message: what every next request starts with.
        let Ok(request) = tutor::request(&brief, &history, Task::Answer(""), size) else {
            return Ok(false);
        };
        let mut messages = request.messages().to_vec();
        messages.pop();
        let Ok(prefix) = Request::new(messages, 1) else {
            return Ok(false);
        };
        match lyceum_llm::prefill(
            app.engine.as_ref(),
            prefix.with_priority(lyceum_llm::Priority::Interactive),
        )
        .await
        {
            Ok(done) => return Ok(done),
            Err(LlmError::InvalidRequest(_)) => continue,
            Err(_) => return Ok(false),
        }
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_start_of_the_canary_is_held_back_until_it_proves_to_be_something_else() {
        let canary = "zebra-42";
        assert_eq!(
            without_canary_start("The answer is z", canary),
            "The answer is "
        );
        assert_eq!(
            without_canary_start("The answer is zeb", canary),
            "The answer is "
        );
        assert_eq!(
            without_canary_start("The answer is zed", canary),
            "The answer is zed"
        );
        assert_eq!(without_canary_start("plain", canary), "plain");
    }

    #[test]
    fn search_links_are_built_here_and_encode_what_the_model_wrote() {
        let item = Suggestion {
            title: "Cosmos & <script>".into(),
            author: "Carl Sagan".into(),
            why: String::new(),
        };
        let links = search_links(&item, Language::parse("de").unwrap_or(Language::ENGLISH));
        assert_eq!(
            links[0].href,
            "https://de.wikipedia.org/w/index.php?search=Cosmos%20%26%20%3Cscript%3E"
        );
        assert!(
            links[1]
                .href
                .starts_with("https://openlibrary.org/search?q=Cosmos%20")
        );
        assert!(links[1].href.ends_with("Carl%20Sagan"));
    }
}
