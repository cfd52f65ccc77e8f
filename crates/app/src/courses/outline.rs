//! Drafting a course's outline in steps, the course and its weeks (or parts, for a long course), then
//! each week's units, reporting every title as soon as it is written and replacing repeated ones.

use std::time::Instant;

use lyceum_course::prompts::{self};
use lyceum_course::{
    Category, CourseRequest, CourseTitle, Outline, OutlinePiece, OutlinePlan, OutlineWatcher,
    PartsPlan, Planned, PlannedWeeks, WeekUnits, WithoutInstructions, quality, titles_to_replace,
};
use lyceum_store::{Course, GenerationStats};

use crate::Lyceum;

use super::GenerateError;
use super::steps::{StepEvent, Tokens};

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

impl<P: Fn(usize, String) -> Option<OutlinePiece>> Retitle<'_, P> {
    /// Gives the item at `index` the title if it can stay there, reporting it; otherwise leaves the
    /// old one.
    fn keep<T: Planned>(
        &self,
        items: &mut [T],
        index: usize,
        title: String,
        on_event: &mut (impl FnMut(DraftEvent<'_>) + Send),
    ) -> bool {
        let old = items[index].title().to_owned();
        items[index].set_title(title.clone());
        if titles_to_replace(items, self.taken).first() == Some(&index) {
            items[index].set_title(old);
            return false;
        }
        if let Some(piece) = (self.piece)(index, title) {
            on_event(DraftEvent::Replaced(piece));
        }
        true
    }
}

/// A title asked for on its own.
#[derive(serde::Deserialize)]
struct Titled {
    title: String,
}

/// A drafted outline, not stored yet: the person may edit it before confirming.
#[derive(Debug, Clone)]
pub struct Draft {
    /// The outline, normalised and checked against the request's counts.
    pub outline: Outline,
    /// How it was generated.
    pub stats: GenerationStats,
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
                        let plan = plan.without_instructions();
                        plan.validate_shape(weeks)
                            .map(|()| plan)
                            .map_err(|error| error.to_string())
                    },
                )
                .await?;
            self.course_title(request, &mut plan, &mut tokens, &mut on_event)
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
        // A unit titled like a week ("Week 1: Budgets" over "1.1 Budgets") or like the course is
        // asked for again too.
        let mut titles: Vec<String> = std::iter::once(&plan.title)
            .chain(plan.weeks.iter().map(|week| &week.title))
            .map(|title| title.trim().to_owned())
            .collect();
        // Each week's units are planned at once: the steps are independent of each other, and an
        // engine answers them together in one batch. Their titles are made distinct afterwards.
        let events = std::sync::Mutex::new(&mut on_event);
        let drafted = futures::future::try_join_all((1..=weeks).map(|week| {
            let (events, plan) = (&events, &plan);
            async move {
                let mut tokens = Tokens::default();
                let mut watcher = OutlineWatcher::for_week(week);
                let drafted = self
                    .structured(
                        prompts::week_units(request, plan, week)?,
                        "outline",
                        &mut tokens,
                        &mut |event| {
                            let mut on_event = events
                                .lock()
                                .unwrap_or_else(std::sync::PoisonError::into_inner);
                            relay(
                                event,
                                &mut watcher,
                                || OutlineWatcher::for_week(week),
                                &mut **on_event,
                            );
                        },
                        |drafted: WeekUnits| {
                            let drafted = drafted.without_instructions();
                            drafted
                                .validate_shape(units_per_week)
                                .map(|()| drafted)
                                .map_err(|error| error.to_string())
                        },
                    )
                    .await?;
                Ok::<_, GenerateError>((drafted, tokens))
            }
        }))
        .await?;
        let mut units = Vec::with_capacity(weeks);
        for (week, (mut drafted, week_tokens)) in (1..=weeks).zip(drafted) {
            tokens.join(week_tokens);
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

    /// Asks the model for the subject of a course made before categories, from its title, summary
    /// and weeks, and stores it; the category chosen.
    pub async fn categorize(&self, course: &Course) -> Result<Category, GenerateError> {
        #[derive(serde::Deserialize)]
        struct Chosen {
            category: Category,
        }
        let outline = self.store.outline(course).await?;
        let mut tokens = Tokens::default();
        let category = self
            .structured(
                prompts::categorize(&outline)?,
                "category",
                &mut tokens,
                &mut |_| {},
                |chosen: Chosen| Ok::<_, String>(chosen.category),
            )
            .await?;
        self.store.set_category(course.id, Some(category)).await?;
        Ok(category)
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
                    let plan = plan.without_instructions();
                    plan.validate_shape(sizes.len())
                        .map(|()| plan)
                        .map_err(|error| error.to_string())
                },
            )
            .await?;
        let (mut plan, mut parts) = drafted.into_plan();
        self.course_title(request, &mut plan, tokens, on_event)
            .await?;
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

    /// Asks for the course's title again, on its own and from what the learner asked for, when it
    /// cannot stay ("Cold Cold War Immunology"): the rest of the plan is kept. When every answer is
    /// still one that cannot stay, the learner's own words become the title if they are short enough
    /// to be one ([`CourseTitle`]'s last resort).
    async fn course_title(
        &self,
        request: &CourseRequest,
        plan: &mut OutlinePlan,
        tokens: &mut Tokens,
        on_event: &mut (impl FnMut(DraftEvent<'_>) + Send),
    ) -> Result<(), GenerateError> {
        let mut course = CourseTitle {
            title: std::mem::take(&mut plan.title),
            request,
        };
        let outcome = self
            .distinct_titles(
                request,
                std::slice::from_mut(&mut course),
                Retitle {
                    noun: "course",
                    taken: &[],
                    piece: |_, title| Some(OutlinePiece::Title(title)),
                },
                tokens,
                on_event,
            )
            .await;
        plan.title = course.title;
        outcome
    }

    /// Replaces the titles [`titles_to_replace`] finds (repeats of `retitle.taken` or of each other,
    /// placeholders, numbered or stuttered titles) one at a time, asking for each from what it covers
    /// (said without a stutter, which the small model would copy back). When no answer can stay, the
    /// item's [`Planned::last_resort_title`] is tried before the draft fails. A title shown before
    /// is reported again as it changes.
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
            let covers = quality::without_doubled_words(&items[index].covers());
            let mut fixed = false;
            for attempt in 0..RETITLE_ATTEMPTS {
                let title = self
                    .structured(
                        prompts::retitle(request, retitle.noun, &covers, attempt)?,
                        "outline",
                        tokens,
                        &mut |_| {},
                        |answer: Titled| Ok(answer.title.trim().to_owned()),
                    )
                    .await?;
                tracing::debug!(noun = retitle.noun, old = %items[index].title(), new = %title, attempt, "retitling");
                if retitle.keep(items, index, title, on_event) {
                    fixed = true;
                    break;
                }
            }
            if !fixed && let Some(title) = items[index].last_resort_title() {
                tracing::debug!(noun = retitle.noun, old = %items[index].title(), new = %title, "titled as a last resort");
                fixed = retitle.keep(items, index, title, on_event);
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
                    "{} keeps the title \"{}\", which repeats another, is a placeholder or says a word twice",
                    if items.len() == 1 {
                        format!("the {}", retitle.noun)
                    } else {
                        format!("{} {}", retitle.noun, index + 1)
                    },
                    items[index].title().trim()
                ),
            }),
        }
    }
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
