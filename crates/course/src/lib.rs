//! The course domain: what a course is, what a person may ask for, and how each part is asked of a model.
//!
//! Input types refuse bad values when they are built ([`CourseRequest`]), generated parts are validated
//! after decoding ([`Outline::validate`], [`Quiz::validate`]), and [`prompts`] builds every model request
//! with the learner's text delimited as data. This crate does no I/O: storage, engines and scheduling
//! belong to `lyceum-store` and `lyceum-app`.

mod category;
mod input;
mod language;
mod outline;
mod outline_stream;
pub mod prompts;
pub mod quality;
mod quiz;
mod text;
pub mod tutor;

pub use category::{CATEGORIES, Category};
pub use input::{
    Audience, CourseRequest, Description, InputError, Level, RequestFields, UnitsPerWeek, Weeks,
};
pub use language::{LANGUAGES, Language};
pub use outline::{
    CourseTitle, Outline, OutlineError, OutlineModule, OutlinePlan, OutlineUnit, PartsPlan,
    Planned, PlannedWeek, PlannedWeeks, WeekUnits, WithoutInstructions, slugify,
    title_from_request, titles_to_replace,
};
pub use outline_stream::{OutlinePiece, OutlineSoFar, OutlineWatcher, UnitSoFar, WeekSoFar};
pub use quiz::{Question, Quiz, QuizError};
pub use text::{clean_article, clean_overview, takeaways};
