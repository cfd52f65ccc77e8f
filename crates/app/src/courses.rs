//! The course use cases: draft an outline, confirm it (creating the course and queueing its writing),
//! write one item (what a generation job does), open a unit for reading, retry failed items.
//!
//! Every structured step is validated after decoding and retried once with the problems shown to the
//! model; prose steps are retried once when they come back empty. Model output is data: it is parsed,
//! checked and stored, never run.

use std::convert::Infallible;
use std::time::Instant;

use futures::StreamExt;
use lyceum_course::prompts::{self, CourseBrief, Detail, QuizAnswer};
use lyceum_course::{
    CourseRequest, InputError, Outline, OutlineError, OutlinePiece, OutlinePlan, OutlineWatcher,
    PartsPlan, Planned, PlannedWeeks, WeekUnits, clean_article, takeaways, titles_to_replace,
};
use lyceum_llm::{Event, LlmError, Request};
use lyceum_store::{Course, GenerationStats, ItemKind, NewCourse, Output, Status, StoreError};
use serde::de::DeserializeOwned;

use crate::Lyceum;
use crate::live::{LiveWriter, Progress, Watch};

/// Why a course or one of its items could not be made.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    /// The person's input is not usable.
    #[error(transparent)]
    Input(#[from] InputError),
    /// An edited outline breaks the rules.
    #[error("the outline cannot be used: {0}")]
    Outline(#[from] OutlineError),
    /// The model's answer was still invalid after the one retry.
    #[error("the model's {what} was invalid twice; last problems: {problems}")]
    Invalid {
        /// What was being written (`outline`, `quiz`, …).
        what: &'static str,
        /// What was wrong with the second answer.
        problems: String,
    },
    /// The engine failed.
    #[error(transparent)]
    Engine(#[from] LlmError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl GenerateError {
    /// What to tell a person who is not the operator: the problem with their input in full, anything
    /// else as a plain sentence (the details, such as a server's address or answer, belong in the log).
    pub fn public_message(&self) -> String {
        match self {
            Self::Input(error) => error.to_string(),
            Self::Outline(error) => format!("The outline cannot be used: {error}"),
            Self::Invalid { .. } => {
                "The language model did not write a usable answer twice in a row. \
                                     Please try again, perhaps with a more specific description."
                    .into()
            }
            Self::Engine(LlmError::Overloaded { .. }) => {
                "The language model is busy with other work. Please try again in a minute.".into()
            }
            Self::Engine(_) => {
                "The language model could not be reached. Please try again in a moment.".into()
            }
            Self::Store(_) => {
                "Lyceum could not reach its database. Please try again in a moment.".into()
            }
        }
    }

    /// Whether trying the same job again later may succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Engine(error) => error.is_transient(),
            Self::Store(StoreError::Database(_)) => true,
            // A fresh attempt samples afresh (its seed differs), and small models often get it right.
            Self::Invalid { .. } => true,
            _ => false,
        }
    }
}

/// What a drafting caller sees while the outline is written.
#[derive(Debug, Clone)]
pub enum DraftEvent<'a> {
    /// A title (or the summary) has just been written.
    Piece(OutlinePiece),
    /// The step's answer was invalid and is being written again; the pieces it gave since the last
    /// step began are void.
    Retry(&'a str),
    /// A title reported before has been replaced, because it repeated another.
    Replaced(OutlinePiece),
}

/// How often the text of an item being written is shared with other nodes, when it grew.
const SHARE_EVERY: std::time::Duration = std::time::Duration::from_millis(200);

/// How many times a repeated title is asked for again before drafting gives up.
const RETITLE_ATTEMPTS: u32 = 3;

/// Which titles [`Lyceum::distinct_titles`] keeps apart, and how it reports a replaced one.
struct Retitle<'a, P> {
    /// What the items are: "week", "part" or "unit".
    noun: &'static str,
    /// Titles the items must not repeat.
    taken: &'a [String],
    /// The piece to report for the item at an index with its new title; `None` for items not shown.
    piece: P,
}

/// A title asked for on its own.
#[derive(serde::Deserialize)]
struct Titled {
    title: String,
}

/// What a structured step reports while it runs.
enum StepEvent<'a> {
    Text(&'a str),
    Retry(&'a str),
}

/// A drafted outline, not stored yet: the person may edit it before confirming.
#[derive(Debug, Clone)]
pub struct Draft {
    /// The outline, normalised and checked against the request's counts.
    pub outline: Outline,
    /// How it was generated.
    pub stats: GenerationStats,
}

/// A unit as a reader gets it.
pub enum UnitText {
    /// Written and stored.
    Ready(String),
    /// Being written (or about to be): the text so far and what follows.
    Live(Watch),
    /// Writing it failed; it is written again only when someone asks ([`Lyceum::retry_failed`]).
    Failed,
}

impl Lyceum {
    /// Drafts the outline for a request in steps — the course and its weeks, then each week's units —
    /// reporting every title as soon as it is written.
    #[tracing::instrument(skip_all, fields(weeks = request.weeks.get(), units_per_week = request.units_per_week.get()))]
    pub async fn draft_outline(
        &self,
        request: &CourseRequest,
        mut on_event: impl FnMut(DraftEvent<'_>) + Send,
    ) -> Result<Draft, GenerateError> {
        let (weeks, units_per_week) = (request.weeks.get(), request.units_per_week.get());
        let started = Instant::now();
        let mut tokens = Tokens::default();
        let mut watcher = OutlineWatcher::new();
        let plan = if weeks <= prompts::PLAN_WEEKS_PER_STEP {
            let mut plan = self
                .structured(
                    prompts::outline_plan(request)?,
                    "outline",
                    &mut tokens,
                    &mut |event| relay(event, &mut watcher, OutlineWatcher::new, &mut on_event),
                    |plan: OutlinePlan| {
                        plan.validate_shape(weeks)
                            .map(|()| plan)
                            .map_err(|error| error.to_string())
                    },
                )
                .await?;
            let taken = [plan.title.clone()];
            self.distinct_titles(
                request,
                &mut plan.weeks,
                Retitle {
                    noun: "week",
                    taken: &taken,
                    piece: |index, title| Some(OutlinePiece::Week(index + 1, title)),
                },
                &mut tokens,
                &mut on_event,
            )
            .await?;
            plan
        } else {
            self.plan_in_parts(request, &mut tokens, &mut on_event)
                .await?
        };
        let mut titles: Vec<String> = Vec::new();
        let mut units = Vec::with_capacity(weeks);
        for week in 1..=weeks {
            let mut watcher = OutlineWatcher::for_week(week);
            let mut drafted = self
                .structured(
                    prompts::week_units(request, &plan, week)?,
                    "outline",
                    &mut tokens,
                    &mut |event| {
                        relay(
                            event,
                            &mut watcher,
                            || OutlineWatcher::for_week(week),
                            &mut on_event,
                        )
                    },
                    |drafted: WeekUnits| {
                        drafted
                            .validate_shape(units_per_week)
                            .map(|()| drafted)
                            .map_err(|error| error.to_string())
                    },
                )
                .await?;
            self.distinct_titles(
                request,
                &mut drafted.units,
                Retitle {
                    noun: "unit",
                    taken: &titles,
                    piece: |index, title| Some(OutlinePiece::Unit(week, index + 1, title)),
                },
                &mut tokens,
                &mut on_event,
            )
            .await?;
            titles.extend(
                drafted
                    .units
                    .iter()
                    .map(|unit| unit.title.trim().to_owned()),
            );
            units.push(drafted.units);
        }
        let outline = plan.into_outline(units);
        outline.validate_counts(weeks, units_per_week)?;
        Ok(Draft {
            outline,
            stats: tokens.stats(self, started),
        })
    }

    /// Plans a long course: the course and its parts first, then each part's weeks. A part of one week
    /// is that week.
    async fn plan_in_parts(
        &self,
        request: &CourseRequest,
        tokens: &mut Tokens,
        on_event: &mut (impl FnMut(DraftEvent<'_>) + Send),
    ) -> Result<OutlinePlan, GenerateError> {
        let sizes = prompts::part_sizes(request.weeks.get());
        let mut watcher = OutlineWatcher::new();
        let drafted = self
            .structured(
                prompts::outline_parts(request)?,
                "outline",
                tokens,
                &mut |event| relay(event, &mut watcher, OutlineWatcher::new, on_event),
                |plan: PartsPlan| {
                    plan.validate_shape(sizes.len())
                        .map(|()| plan)
                        .map_err(|error| error.to_string())
                },
            )
            .await?;
        let (mut plan, mut parts) = drafted.into_plan();
        let course_title = [plan.title.clone()];
        self.distinct_titles(
            request,
            &mut parts,
            Retitle {
                noun: "part",
                taken: &course_title,
                piece: |_, _| None,
            },
            tokens,
            on_event,
        )
        .await?;
        for (index, (part, &size)) in parts.iter().zip(&sizes).enumerate() {
            let before = plan.weeks.len();
            if size == 1 {
                on_event(DraftEvent::Piece(OutlinePiece::Week(
                    before + 1,
                    part.title.clone(),
                )));
                plan.weeks.push(part.clone());
                continue;
            }
            // The course title, week titles so far, and the later one-week parts' titles, which will be
            // weeks too.
            let taken: Vec<String> = std::iter::once(plan.title.clone())
                .chain(
                    plan.weeks
                        .iter()
                        .chain(
                            parts
                                .iter()
                                .zip(&sizes)
                                .skip(index + 1)
                                .filter(|&(_, &size)| size == 1)
                                .map(|(part, _)| part),
                        )
                        .map(|week| week.title.clone()),
                )
                .collect();
            let mut watcher = OutlineWatcher::for_weeks_after(before);
            let mut weeks = self
                .structured(
                    prompts::part_weeks(request, &plan, &parts, index + 1, before + 1, size)?,
                    "outline",
                    tokens,
                    &mut |event| {
                        relay(
                            event,
                            &mut watcher,
                            || OutlineWatcher::for_weeks_after(before),
                            on_event,
                        )
                    },
                    |drafted: PlannedWeeks| {
                        drafted
                            .validate_shape(size)
                            .map(|()| drafted.weeks)
                            .map_err(|error| error.to_string())
                    },
                )
                .await?;
            self.distinct_titles(
                request,
                &mut weeks,
                Retitle {
                    noun: "week",
                    taken: &taken,
                    piece: |index, title| Some(OutlinePiece::Week(before + index + 1, title)),
                },
                tokens,
                on_event,
            )
            .await?;
            plan.weeks.extend(weeks);
        }
        Ok(plan)
    }

    /// Replaces the titles [`titles_to_replace`] finds (repeats of `retitle.taken` or of each other,
    /// and placeholders) one at a time, asking for each from what it covers. A title shown before is
    /// reported again as it changes.
    async fn distinct_titles<T: Planned>(
        &self,
        request: &CourseRequest,
        items: &mut [T],
        retitle: Retitle<'_, impl Fn(usize, String) -> Option<OutlinePiece> + Send>,
        tokens: &mut Tokens,
        on_event: &mut (impl FnMut(DraftEvent<'_>) + Send),
    ) -> Result<(), GenerateError> {
        // Every replacement can make at most one later title a repeat, so this bound is never reached
        // while answers differ.
        for _ in 0..items.len() * RETITLE_ATTEMPTS as usize {
            let Some(&index) = titles_to_replace(items, retitle.taken).first() else {
                return Ok(());
            };
            let mut fixed = false;
            for attempt in 0..RETITLE_ATTEMPTS {
                let title = self
                    .structured(
                        prompts::retitle(request, retitle.noun, &items[index].covers(), attempt)?,
                        "outline",
                        tokens,
                        &mut |_| {},
                        |answer: Titled| Ok(answer.title.trim().to_owned()),
                    )
                    .await?;
                let old = items[index].title().to_owned();
                items[index].set_title(title.clone());
                if titles_to_replace(items, retitle.taken).first() != Some(&index) {
                    if let Some(piece) = (retitle.piece)(index, title) {
                        on_event(DraftEvent::Replaced(piece));
                    }
                    fixed = true;
                    break;
                }
                items[index].set_title(old);
            }
            if !fixed {
                break;
            }
        }
        match titles_to_replace(items, retitle.taken).first() {
            None => Ok(()),
            Some(&index) => Err(GenerateError::Invalid {
                what: "outline",
                problems: format!(
                    "{} {} keeps the title \"{}\", which repeats another or is a placeholder",
                    retitle.noun,
                    index + 1,
                    items[index].title().trim()
                ),
            }),
        }
    }

    /// Creates the course from a confirmed outline (as drafted, or edited by the person) and queues the
    /// writing of every overview and unit.
    #[tracing::instrument(skip_all)]
    pub async fn confirm_course(
        &self,
        request: &CourseRequest,
        outline: Outline,
        stats: &GenerationStats,
    ) -> Result<Course, GenerateError> {
        let outline = confirmable(outline)?;
        let course = self
            .store
            .create_course(NewCourse {
                request,
                outline: &outline,
                outline_stats: stats,
            })
            .await?;
        Ok(confirmed(course, &outline))
    }

    /// A unit for reading: its stored text, its live text, or that it failed. A unit waiting in the
    /// queue moves to the front; every reader shares its one generation. Reading never queues work: a
    /// failed unit stays failed.
    #[tracing::instrument(skip(self))]
    pub async fn open_unit(&self, unit_id: i64) -> Result<UnitText, GenerateError> {
        let generation = self
            .store
            .generation_of(ItemKind::Unit, unit_id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("unit {unit_id}")))?;
        let status = match generation.status {
            Status::Pending | Status::Generating => {
                // Watch before hurrying, so no delta written in between is missed.
                let watch = self.hub.watch(generation.id);
                if self.store.is_shared() {
                    // Another node may be writing it: what it has shared so far.
                    self.mirror_text(generation.id).await?;
                }
                let now = self.store.hurry_generation(ItemKind::Unit, unit_id).await?;
                if matches!(now.status, Status::Pending | Status::Generating) {
                    return Ok(UnitText::Live(watch));
                }
                now.status
            }
            other => other,
        };
        if status == Status::Failed {
            return Ok(UnitText::Failed);
        }
        let course_units = self.store.units(generation.course_id).await?;
        let body = course_units
            .into_iter()
            .find(|unit| unit.id == unit_id)
            .and_then(|unit| unit.body)
            .unwrap_or_default();
        Ok(UnitText::Ready(body))
    }

    /// Queues every failed item of a course again; returns how many.
    #[tracing::instrument(skip_all, fields(course = %course.slug))]
    pub async fn retry_failed(&self, course: &Course) -> Result<usize, GenerateError> {
        let count = self.store.retry_failed(course.id).await?;
        Ok(count)
    }

    /// Writes one item: what a generation job does. An item already ready is left alone, so a job run
    /// twice (after a crash) never writes anything twice.
    #[tracing::instrument(skip(self, job_id))]
    pub(crate) async fn write_item(
        &self,
        generation_id: i64,
        job_id: i64,
    ) -> Result<(), GenerateError> {
        let before = self.store.start_generation(generation_id).await?;
        if before.status == Status::Ready {
            self.store.complete_job(job_id).await?;
            return Ok(());
        }
        self.hub.report(Progress {
            course_id: before.course_id,
            generation_id,
            kind: before.kind,
            status: Status::Generating,
            tokens_out: None,
        });
        let course = self.store.course_by_id(before.course_id).await?;
        // Read the course's parts once: the prompt needs the outline, and the item is one of them.
        let modules = self.store.modules(course.id).await?;
        let units = self.store.units(course.id).await?;
        let outline = lyceum_store::courses::outline_of(&course, &modules, &units);
        let unit = || {
            units
                .iter()
                .find(|unit| unit.id == before.item_id)
                .ok_or_else(|| StoreError::NotFound(format!("unit {}", before.item_id)))
        };
        let brief = |detail| CourseBrief {
            description: &course.description,
            audience: &course.audience,
            level: course.level,
            language: course.language,
            outline: &outline,
            detail,
        };
        // Seeded per item and attempt: a rerun on the same engine writes the same text, a retry differs.
        let seed = (generation_id as u32)
            .wrapping_mul(31)
            .wrapping_add(before.attempts as u32);
        let stats = match before.kind {
            ItemKind::Overview => {
                let module = modules
                    .iter()
                    .find(|module| module.id == before.item_id)
                    .ok_or_else(|| StoreError::NotFound(format!("module {}", before.item_id)))?;
                let prompt = fit(self.engine.as_ref(), |detail| {
                    prompts::overview(&brief(detail), module.number as usize)
                })
                .await?
                .with_seed(seed);
                let (text, stats, writer) =
                    self.prose(prompt, "week overview", generation_id).await?;
                let stats = self
                    .save(generation_id, Output::Overview(&text), stats, job_id)
                    .await?;
                writer.done();
                stats
            }
            ItemKind::Unit => {
                let unit = unit()?;
                let previous = units
                    .iter()
                    .find(|other| other.position == unit.position - 1)
                    .and_then(|other| other.body.as_deref())
                    .map(takeaways);
                let prompt = fit(self.engine.as_ref(), |detail| {
                    prompts::unit(
                        &brief(detail),
                        unit.week as usize,
                        unit.number as usize,
                        previous.as_deref(),
                    )
                })
                .await?
                .with_seed(seed);
                let (text, stats, writer) = self.prose(prompt, "unit", generation_id).await?;
                let stats = self
                    .save(generation_id, Output::Unit(&text), stats, job_id)
                    .await?;
                writer.done();
                stats
            }
            ItemKind::Quiz => {
                let unit = unit()?;
                let body = unit
                    .body
                    .as_deref()
                    .ok_or_else(|| StoreError::NotFound(format!("the text of unit {}", unit.id)))?;
                let prompt = fit(self.engine.as_ref(), |detail| {
                    prompts::quiz(&brief(detail), &unit.title, body)
                })
                .await?
                .with_seed(seed);
                let started = Instant::now();
                let mut tokens = Tokens::default();
                let quiz = self
                    .structured(
                        prompt,
                        "quiz",
                        &mut tokens,
                        &mut |_| {},
                        |answer: QuizAnswer| {
                            let quiz = answer.into_quiz();
                            let kept = quiz.clone().without_bad_questions();
                            // Show the model every problem of what it wrote, not only of what was kept.
                            kept.validate()
                                .map(|()| kept)
                                .map_err(|_| match quiz.validate() {
                                    Err(error) => error.to_string(),
                                    Ok(()) => "too few usable questions".into(),
                                })
                        },
                    )
                    .await?;
                let stats = tokens.stats(self, started);
                let quiz = quiz.with_answers_spread(unit.id as u64);
                self.save(generation_id, Output::Quiz(&quiz), stats, job_id)
                    .await?
            }
            ItemKind::Outline => {
                // Outlines are drafted interactively and stored ready; a job for one is left over from
                // something else and has nothing to do.
                self.store.complete_job(job_id).await?;
                return Ok(());
            }
        };
        self.metrics.generated(&stats);
        self.hub.report(Progress {
            course_id: before.course_id,
            generation_id,
            kind: before.kind,
            status: Status::Ready,
            tokens_out: stats.tokens_out,
        });
        Ok(())
    }

    /// Shares the text `writer` has written so far every [`SHARE_EVERY`] when it grew, for
    /// watchers on other nodes; runs until dropped.
    async fn share_live_text(&self, generation_id: i64, writer: &LiveWriter) -> Infallible {
        let mut every = tokio::time::interval(SHARE_EVERY);
        let mut shared = 0;
        loop {
            every.tick().await;
            let text = writer.text();
            if text.len() != shared {
                shared = text.len();
                if let Err(error) = self.store.share_live_text(generation_id, &text).await {
                    tracing::warn!(%error, "could not share the text being written");
                }
            }
        }
    }

    async fn save(
        &self,
        generation_id: i64,
        output: Output<'_>,
        stats: GenerationStats,
        job_id: i64,
    ) -> Result<GenerationStats, GenerateError> {
        self.store
            .finish_generation(generation_id, output, &stats, Some(job_id))
            .await?;
        Ok(stats)
    }

    /// Streams a prose item to its watchers and returns the cleaned text, with the live writer for the
    /// caller to end once the text is stored (watchers told "done" reload it from the store). An empty
    /// answer is retried once.
    async fn prose(
        &self,
        request: Request,
        what: &'static str,
        generation_id: i64,
    ) -> Result<(String, GenerationStats, LiveWriter), GenerateError> {
        let started = Instant::now();
        let writer = self.hub.writer(generation_id);
        let mut current = request.clone();
        let mut tokens = Tokens::default();
        for attempt in 0..2 {
            let mut relay = |delta: &str| writer.push(delta);
            let streaming = self.stream(current.clone(), &mut tokens, &mut relay);
            let text = if self.store.is_shared() {
                tokio::select! {
                    text = streaming => text?,
                    never = self.share_live_text(generation_id, &writer) => match never {},
                }
            } else {
                streaming.await?
            };
            let cleaned = clean_article(&text);
            if cleaned.chars().count() >= 20 {
                return Ok((cleaned, tokens.stats(self, started), writer));
            }
            if attempt == 0 {
                current = prompts::corrected(&request, Some(&text), "the answer is empty")?;
            }
        }
        Err(GenerateError::Invalid {
            what,
            problems: "the answer is empty".into(),
        })
    }

    /// Runs a structured step: decode, check the schema, parse into `T`, turn it into `U` with `check`;
    /// on a problem, ask once more with the problems shown. Token counts are added to `tokens`.
    async fn structured<T: DeserializeOwned, U>(
        &self,
        request: Request,
        what: &'static str,
        tokens: &mut Tokens,
        on_event: &mut (dyn FnMut(StepEvent<'_>) + Send),
        check: impl Fn(T) -> Result<U, String>,
    ) -> Result<U, GenerateError> {
        let schema = request.schema().cloned();
        let mut current = request.clone();
        let mut problems = String::new();
        for attempt in 0..2 {
            if attempt > 0 {
                on_event(StepEvent::Retry(&problems));
            }
            let text = self
                .stream(current.clone(), tokens, &mut |delta| {
                    on_event(StepEvent::Text(delta))
                })
                .await?;
            let parsed = match &schema {
                Some(schema) => schema
                    .check_output(&text)
                    .map_err(|error| error.to_string()),
                None => serde_json::from_str(text.trim()).map_err(|error| error.to_string()),
            }
            .and_then(|value| serde_json::from_value::<T>(value).map_err(|error| error.to_string()))
            .and_then(&check);
            match parsed {
                Ok(value) => return Ok(value),
                Err(found) => {
                    tracing::info!(what, attempt, problems = %found, "model answer rejected");
                    tracing::debug!(what, answer = %text, "rejected answer");
                    problems = found;
                    current = retry(self.engine.as_ref(), &request, &text, &problems).await?;
                }
            }
        }
        Err(GenerateError::Invalid { what, problems })
    }

    /// Runs one request, passing each delta on, and returns the whole text.
    async fn stream(
        &self,
        request: Request,
        tokens: &mut Tokens,
        on_delta: &mut (dyn FnMut(&str) + Send),
    ) -> Result<String, GenerateError> {
        let mut stream = self.engine.generate(request);
        let mut text = String::new();
        while let Some(event) = stream.next().await {
            match event? {
                Event::Delta(delta) => {
                    on_delta(&delta);
                    text.push_str(&delta);
                }
                Event::Done(usage) => {
                    tokens.add(usage);
                    return Ok(text);
                }
            }
        }
        Err(LlmError::Protocol("the generation stream ended without finishing".into()).into())
    }
}

/// Logs a course just made (its store call queued its writing and woke the workers).
pub(crate) fn confirmed(course: Course, outline: &Outline) -> Course {
    tracing::info!(course = %course.slug, units = outline.units().count(), "course confirmed");
    course
}

/// An outline as confirmed, checked as sent (a title padded past its limit is refused, as the API
/// documents) and then trimmed for storing.
pub(crate) fn confirmable(outline: Outline) -> Result<Outline, GenerateError> {
    outline.validate()?;
    Ok(outline.normalized())
}

/// The request `build` makes at the fullest [`Detail`] the engine says fits its context; the least
/// detail when none does or the engine cannot tell (a remote server, whose contexts are large).
pub async fn fit(
    engine: &dyn lyceum_llm::Engine,
    build: impl Fn(Detail) -> Result<Request, LlmError>,
) -> Result<Request, LlmError> {
    for detail in Detail::ALL {
        let request = build(detail)?;
        match engine.fits(&request).await {
            Some(false) if detail != Detail::Minimal => continue,
            _ => return Ok(request),
        }
    }
    build(Detail::Minimal)
}

/// The retry of a structured step: `request` with its rejected `answer` and the `problems` found in
/// it, or with the problems alone when the answer shown back would overflow the engine's context (the
/// problems name their places).
pub async fn retry(
    engine: &dyn lyceum_llm::Engine,
    request: &Request,
    answer: &str,
    problems: &str,
) -> Result<Request, LlmError> {
    let with_answer = prompts::corrected(request, Some(answer), problems)?;
    if engine.fits(&with_answer).await == Some(false) {
        return prompts::corrected(request, None, problems);
    }
    Ok(with_answer)
}

/// Passes a step's text through its watcher as outline pieces; a retry starts a fresh watcher.
fn relay(
    event: StepEvent<'_>,
    watcher: &mut OutlineWatcher,
    fresh: impl Fn() -> OutlineWatcher,
    on_event: &mut (impl FnMut(DraftEvent<'_>) + Send),
) {
    match event {
        StepEvent::Text(text) => {
            for piece in watcher.feed(text) {
                on_event(DraftEvent::Piece(piece));
            }
        }
        StepEvent::Retry(problems) => {
            *watcher = fresh();
            on_event(DraftEvent::Retry(problems));
        }
    }
}

/// Token counts summed over the attempts of one item; unknown if any attempt's count was unknown.
struct Tokens {
    prompt: Option<u32>,
    completion: Option<u32>,
}

impl Default for Tokens {
    fn default() -> Self {
        Self {
            prompt: Some(0),
            completion: Some(0),
        }
    }
}

impl Tokens {
    fn add(&mut self, usage: lyceum_llm::Usage) {
        self.prompt = self.prompt.zip(usage.prompt_tokens).map(|(a, b)| a + b);
        self.completion = self
            .completion
            .zip(usage.completion_tokens)
            .map(|(a, b)| a + b);
    }

    fn stats(&self, app: &Lyceum, started: Instant) -> GenerationStats {
        let info = app.engine.info();
        GenerationStats {
            engine: info.kind.to_owned(),
            model: info.model.clone(),
            tokens_in: self.prompt,
            tokens_out: self.completion,
            duration: started.elapsed(),
        }
    }
}
