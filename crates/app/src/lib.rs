//! Lyceum's use cases, and the wiring between them.
//!
//! This crate reads the typed [`Settings`], installs and finds models, and builds the configured
//! language-model engine. Front ends (`lyceum-cli`, later the web app) call into it; it never parses
//! command lines or renders pages.

pub mod engine;
pub mod models;
pub mod settings;

pub use settings::Settings;
