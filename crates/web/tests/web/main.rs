//! The web app in process: every page of a course in each state, safety of model output, headers, 404s.

// A failed unwrap is a failed test, with the value in the message.
#![allow(clippy::unwrap_used)]

mod account_mail;
mod accounts;
mod api;
mod categories;
mod health;
mod helpers;
mod limits;
mod live;
mod mail;
mod new_course;
mod ownership;
mod pages;
mod passkeys;
mod quiz;
mod retention;
mod search;
mod tutor;
