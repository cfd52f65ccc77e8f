//! The store suite: every test runs on SQLite, and on PostgreSQL when `TEST_DATABASE_URL` is set.
#![allow(clippy::unwrap_used)]

mod accounts;
mod categories;
mod chats;
mod courses;
mod drafts;
mod helpers;
mod jobs;
mod learning;
mod mail;
mod ownership;
mod passkeys;
mod search;
mod vectors;
mod versions;
