//! Properties of everything in the domain that reads outside text — a person's input, an edited
//! outline, a model's outline and quiz, a model's JSON as it streams — checked on generated inputs.
//! Each runs a bounded number of cases; a failing case is shrunk and kept under
//! `proptest-regressions/`, which is committed, so it is tried first from then on.

// A failed unwrap is a failed test, with the value in the message.
#![allow(clippy::unwrap_used)]

mod properties;
