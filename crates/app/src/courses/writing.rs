//! Writing one item of a course, what a generation job does: an overview, a unit's article (streamed
//! to its watchers, and shared with other nodes), a quiz; stored with how it was made.

use std::convert::Infallible;
use std::time::Instant;

use lyceum_course::prompts::{self, CourseBrief, Detail, QuizAnswer};
use lyceum_course::quality::{self, Scope, article_rewrite_reasons, rewrite_reasons};
use lyceum_course::{CourseRequest, Outline, Quiz, clean_article, clean_overview, takeaways};
use lyceum_llm::{Priority, Request};
use lyceum_store::{GenerationStats, ItemKind, Output, Status, StoreError};

use crate::Lyceum;
use crate::live::{LiveWriter, Progress};

use super::steps::{Tokens, fit};
use super::{GenerateError, confirmable};

/// Fewer words than this make a week overview worth writing again (it is asked for 80 to 150).
const MIN_OVERVIEW_WORDS: usize = 40;

/// How many units' prompts a node remembers for their quizzes.
const REMEMBERED_UNIT_PROMPTS: usize = 256;

/// What each unit this node wrote lately was told of the unit before it (its takeaways, or nothing
/// when that one was not written yet), by unit id. A unit's quiz repeats the unit's request exactly,
/// so the engine finds the unit's prompt and text still in its cache; a unit written on another node,
/// or long ago, gets a quiz on a request built from the store, the same but for that part.
#[derive(Debug, Default)]
pub(crate) struct UnitPrompts(std::sync::Mutex<std::collections::VecDeque<(i64, Option<String>)>>);

impl UnitPrompts {
    fn remember(&self, unit_id: i64, previous: Option<String>) {
        let mut remembered = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        remembered.retain(|(id, _)| *id != unit_id);
        if remembered.len() == REMEMBERED_UNIT_PROMPTS {
            remembered.pop_front();
        }
        remembered.push_back((unit_id, previous));
    }

    fn recall(&self, unit_id: i64) -> Option<Option<String>> {
        let remembered = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        remembered
            .iter()
            .find(|(id, _)| *id == unit_id)
            .map(|(_, previous)| previous.clone())
    }
}

/// How often the text of an item being written is shared with other nodes, when it grew.
const SHARE_EVERY: std::time::Duration = std::time::Duration::from_millis(200);

/// The request that writes unit `week`.`number`, with as much of the course (`brief` at a detail) as
/// the engine fits.
async fn unit_request<'a>(
    engine: &dyn lyceum_llm::Engine,
    brief: impl Fn(Detail) -> CourseBrief<'a>,
    week: usize,
    number: usize,
    previous: Option<&str>,
) -> Result<Request, lyceum_llm::LlmError> {
    fit(engine, |detail| {
        prompts::unit(&brief(detail), week, number, previous)
    })
    .await
}

impl Lyceum {
    /// The request that will write unit 1.1 of a course made from `request` and `outline` once it is
    /// confirmed (an outline that cannot be confirmed has none).
    pub async fn first_unit_request(
        &self,
        request: &CourseRequest,
        outline: &Outline,
    ) -> Result<Request, GenerateError> {
        let outline = confirmable(outline.clone())?;
        let brief = |detail| CourseBrief {
            description: request.description.as_str(),
            audience: request.audience.as_str(),
            level: request.level,
            language: request.language,
            outline: &outline,
            detail,
        };
        Ok(unit_request(self.engine.as_ref(), brief, 1, 1, None).await?)
    }

    /// Decodes unit 1.1's prompt for a drafted outline while its author reads it, on an engine that
    /// keeps prompts: confirmed as drafted, unit 1.1 starts writing at once, where decoding its prompt
    /// (the whole syllabus) would take seconds. An edited outline shares the prompt up to its first
    /// change. Best effort: a failure is logged, and the unit is written as it would have been.
    pub async fn warm_first_unit(&self, request: &CourseRequest, outline: &Outline) {
        if !self.engine.keeps_prompts() {
            return;
        }
        let warmed = async {
            let prompt = self.first_unit_request(request, outline).await?;
            Ok::<_, GenerateError>(lyceum_llm::prefill(self.engine.as_ref(), prompt).await?)
        };
        if let Err(error) = warmed.await {
            tracing::warn!(%error, "could not decode unit 1.1's prompt ahead");
        }
    }

    /// Writes one item: what a generation job does, its requests at `priority`. An item already ready
    /// is left alone, so a job run twice (after a crash) never writes anything twice.
    #[tracing::instrument(skip(self, job_id, priority))]
    pub(crate) async fn write_item(
        &self,
        generation_id: i64,
        job_id: i64,
        priority: Priority,
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
        // The takeaways of the unit before, written by now, that a unit's prompt carries.
        let takeaways_before = |unit: &lyceum_store::Unit| {
            units
                .iter()
                .find(|other| other.position == unit.position - 1)
                .and_then(|other| other.body.as_deref())
                .map(takeaways)
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
                .with_seed(seed)
                .with_priority(priority);
                let (text, stats, writer) = self
                    .prose(
                        prompt,
                        "week overview",
                        &module.title,
                        generation_id,
                        &|_, _| false,
                        &|text| {
                            rewrite_reasons(
                                text,
                                course.language,
                                MIN_OVERVIEW_WORDS,
                                &course.summary,
                            )
                        },
                    )
                    .await?;
                let text = clean_overview(&text, &module.title);
                let stats = self
                    .save(generation_id, Output::Overview(&text), stats, job_id)
                    .await?;
                writer.done();
                stats
            }
            ItemKind::Unit | ItemKind::Rewrite => {
                let unit = unit()?;
                let previous = takeaways_before(unit);
                self.unit_prompts.remember(unit.id, previous.clone());
                let (week, number) = (unit.week as usize, unit.number as usize);
                let prompt = if before.kind == ItemKind::Rewrite {
                    let wish = self.store.rewrite_instruction(generation_id).await?;
                    fit(self.engine.as_ref(), |detail| {
                        prompts::rewrite(
                            &brief(detail),
                            week,
                            number,
                            previous.as_deref(),
                            wish.as_deref(),
                        )
                    })
                    .await?
                } else {
                    unit_request(
                        self.engine.as_ref(),
                        brief,
                        week,
                        number,
                        previous.as_deref(),
                    )
                    .await?
                }
                .with_seed(seed)
                .with_priority(priority);
                // A small model that finishes a unit often goes on with the next one's heading:
                // the article ends where it leaves its unit.
                let scope = Scope::new(
                    unit.week as usize,
                    unit.number as usize,
                    &unit.title,
                    units
                        .iter()
                        .filter(|other| other.id != unit.id)
                        .map(|other| other.title.as_str()),
                );
                let (text, stats, writer) = self
                    .prose(
                        prompt,
                        "unit",
                        &unit.title,
                        generation_id,
                        &|line, before| scope.ends_text(line, before),
                        &|text| article_rewrite_reasons(text, course.language, &course.summary),
                    )
                    .await?;
                let output = match before.kind {
                    ItemKind::Rewrite => Output::Rewrite(&text),
                    _ => Output::Unit(&text),
                };
                let stats = self.save(generation_id, output, stats, job_id).await?;
                writer.done();
                stats
            }
            ItemKind::Quiz => {
                let unit = unit()?;
                let body = unit
                    .body
                    .as_deref()
                    .ok_or_else(|| StoreError::NotFound(format!("the text of unit {}", unit.id)))?;
                // The unit's request as it was sent, when this node wrote it: the engine may still
                // hold its cache. Otherwise one built from the store now.
                let previous = self
                    .unit_prompts
                    .recall(unit.id)
                    .unwrap_or_else(|| takeaways_before(unit));
                let prompt = fit(self.engine.as_ref(), |detail| {
                    prompts::quiz(
                        &brief(detail),
                        unit.week as usize,
                        unit.number as usize,
                        previous.as_deref(),
                        body,
                    )
                })
                .await?
                .with_seed(seed)
                .with_priority(priority);
                let started = Instant::now();
                let mut tokens = Tokens::default();
                // The good questions of each answer are kept; an answer with too few fair ones (not
                // giving their answer away) is followed by a request for only the questions missing,
                // and one with none usable is written again. Give-aways fill a quiz only when the
                // model wrote nothing better.
                let mut usable = Quiz::default();
                self.structured(
                    prompt.clone(),
                    "quiz",
                    &mut tokens,
                    &mut |_| {},
                    |answer: QuizAnswer| {
                        let quiz = answer.into_quiz();
                        usable = std::mem::take(&mut usable).joined(quiz.clone());
                        match quiz.validate() {
                            Err(error) if usable.questions.is_empty() => Err(error.to_string()),
                            _ => Ok(()),
                        }
                    },
                )
                .await?;
                let fair = usable.clone().without_giveaways();
                if fair.validate().is_err() {
                    let missing = Quiz::MIN_QUESTIONS.saturating_sub(fair.questions.len());
                    // One more than missing, as a question may be dropped again.
                    let count = (missing + 1).min(Quiz::MAX_QUESTIONS - fair.questions.len());
                    tracing::info!(
                        fair = fair.questions.len(),
                        usable = usable.questions.len(),
                        count,
                        "asking for more quiz questions"
                    );
                    let more = prompts::more_questions(&prompt, &unit.title, &fair, count)?;
                    let asked = self
                        .structured(
                            more,
                            "quiz",
                            &mut tokens,
                            &mut |_| {},
                            |answer: QuizAnswer| {
                                let quiz = answer.into_quiz();
                                usable = std::mem::take(&mut usable).joined(quiz.clone());
                                // Every problem of what it wrote, not only of what was kept.
                                usable.clone().without_giveaways().validate().map_err(|_| {
                                    let mut problems = quiz.question_problems();
                                    problems.extend(quiz.giveaways());
                                    if problems.is_empty() {
                                        "the questions repeat those asked already".to_owned()
                                    } else {
                                        problems.join("; ")
                                    }
                                })
                            },
                        )
                        .await;
                    match asked {
                        Ok(()) => {}
                        Err(GenerateError::Invalid { .. }) if usable.validate().is_ok() => {
                            tracing::info!(
                                giveaways = usable.giveaways().len(),
                                "the quiz keeps questions whose answer stands out"
                            )
                        }
                        Err(error) => return Err(error),
                    }
                }
                let quiz = usable;
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

    /// Streams a prose item titled `title` to its watchers and returns the cleaned text, with the live writer for the
    /// caller to end once the text is stored (watchers told "done" reload it from the store). The text
    /// ends before the first line `stop` refuses. An empty answer is retried once with what was wrong;
    /// a text `judge` finds reasons to write again (a loop, mixed scripts, another language, too short)
    /// is written again with a new seed, at most `worker.rewrites` times, and of all the texts the one
    /// with the fewest reasons is kept (the longest of those).
    async fn prose(
        &self,
        request: Request,
        what: &'static str,
        title: &str,
        generation_id: i64,
        stop: &(dyn Fn(&str, &str) -> bool + Sync),
        judge: &(dyn Fn(&str) -> Vec<String> + Sync),
    ) -> Result<(String, GenerationStats, LiveWriter), GenerateError> {
        let started = Instant::now();
        let mut writer = self.hub.writer(generation_id);
        let mut current = request.clone();
        let mut tokens = Tokens::default();
        let (mut empty_retried, mut rewrites) = (false, 0);
        // The text with the fewest reasons to write it again so far, their count, how much it says
        // (its different words: a long loop is not kept over a short plain text), and its tokens.
        let mut best: Option<(String, usize, usize, Option<u32>)> = None;
        let most = self.settings.worker.rewrites;
        loop {
            let mut relay = |delta: &str| writer.push(delta);
            let before = tokens.completion();
            let streaming = self.stream_until(current.clone(), &mut tokens, &mut relay, stop);
            let text = if self.store.is_shared() {
                tokio::select! {
                    text = streaming => text?,
                    never = self.share_live_text(generation_id, &writer) => match never {},
                }
            } else {
                streaming.await?
            };
            let cleaned = clean_article(&text, title);
            let spent = tokens.since(before);
            if cleaned.chars().count() < 20 {
                self.metrics.discarded(spent);
                if empty_retried {
                    return Err(GenerateError::Invalid {
                        what,
                        problems: "the answer is empty".into(),
                    });
                }
                empty_retried = true;
                current = prompts::corrected(&request, Some(&text), "the answer is empty")?;
                continue;
            }
            let reasons = judge(&cleaned);
            if reasons.is_empty() {
                if let Some((_, _, _, kept)) = best {
                    self.metrics.discarded(kept);
                }
                return Ok((cleaned, tokens.stats(self, started), writer));
            }
            let reason = reasons.join("; ");
            let said = quality::different_words(&cleaned);
            let better = best.as_ref().is_none_or(|(_, kept_reasons, kept_said, _)| {
                (reasons.len(), std::cmp::Reverse(said))
                    < (*kept_reasons, std::cmp::Reverse(*kept_said))
            });
            if better {
                if let Some((_, _, _, kept)) = best.replace((cleaned, reasons.len(), said, spent)) {
                    self.metrics.discarded(kept);
                }
            } else {
                self.metrics.discarded(spent);
            }
            if rewrites == most {
                let (kept, _, _, _) = best.expect("a text was judged");
                tracing::warn!(what, %reason, rewrites, "kept the best of the texts written");
                return Ok((kept, tokens.stats(self, started), writer));
            }
            rewrites += 1;
            tracing::info!(what, %reason, rewrites, "written again");
            // A new sample of the same request: showing the model its loop invites another.
            let seed = request.seed().unwrap_or_default();
            current = request
                .clone()
                .with_seed(seed.wrapping_add(7919 * rewrites));
            // Watchers start over with the new text.
            drop(writer);
            writer = self.hub.writer(generation_id);
        }
    }
}
