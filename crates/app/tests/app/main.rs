//! Integration tests of the use cases.

// A failed unwrap is a failed test, with the value in the message.
#![allow(clippy::unwrap_used)]

mod faults;
mod helpers;
mod mail;
mod models;
mod pipeline;
mod prompts;
mod search;
mod tutor;
