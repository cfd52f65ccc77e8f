//! The course use cases: draft an outline ([`outline`]), confirm it (creating the course and queueing
//! its writing), write one item, what a generation job does ([`writing`]), open a unit for reading,
//! retry failed items. Every model call goes through the step runner ([`steps`]).
//!
//! Every structured step is validated after decoding and retried once with the problems shown to the
//! model; prose steps are retried once when they come back empty. Model output is data: it is parsed,
//! checked and stored, never run.

mod outline;
mod steps;
mod writing;

pub(crate) use writing::UnitPrompts;

use lyceum_course::{CourseRequest, InputError, Outline, OutlineError};
use lyceum_llm::LlmError;
use lyceum_store::{Course, GenerationStats, ItemKind, NewCourse, Status, StoreError};

pub use outline::{Draft, DraftEvent};
pub use steps::{fit, retry};

use crate::Lyceum;
use crate::live::Watch;

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

/// What a failure asks of the one who made the request, so every interface (page, API, command
/// line) answers it the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Their input must change (422 on the web).
    Input,
    /// The model is busy with other work; the same request may work in a while (429).
    Busy,
    /// The model or database cannot be used now, or wrote nothing usable (503).
    Unavailable,
}

impl GenerateError {
    /// What this failure asks of the one who made the request.
    pub fn failure(&self) -> Failure {
        match self {
            Self::Input(_) | Self::Outline(_) => Failure::Input,
            Self::Engine(LlmError::Overloaded { .. }) => Failure::Busy,
            Self::Invalid { .. } | Self::Engine(_) | Self::Store(_) => Failure::Unavailable,
        }
    }

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

    /// The live text of unit `unit_id` being written again at its maker's request; `None` when it is
    /// not (never asked for, stored, or failed).
    pub async fn follow_rewrite(
        &self,
        unit_id: i64,
    ) -> Result<Option<crate::live::Watch>, GenerateError> {
        let writing = |status| matches!(status, Status::Pending | Status::Generating);
        let Some(generation) = self.store.generation_of(ItemKind::Rewrite, unit_id).await? else {
            return Ok(None);
        };
        if !writing(generation.status) {
            return Ok(None);
        }
        // Watch first, then read again: it may have been stored in between.
        let watch = self.hub.watch(generation.id);
        if self.store.is_shared() {
            self.mirror_text(generation.id).await?;
        }
        let now = self.store.generation(generation.id).await?;
        Ok(writing(now.status).then_some(watch))
    }

    /// Queues every failed item of a course again; returns how many.
    #[tracing::instrument(skip_all, fields(course = %course.slug))]
    pub async fn retry_failed(&self, course: &Course) -> Result<usize, GenerateError> {
        let count = self.store.retry_failed(course.id).await?;
        Ok(count)
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
