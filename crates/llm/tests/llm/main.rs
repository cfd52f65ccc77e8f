//! Integration tests of the engines: the OpenAI engine against a scripted server, the local engine with
//! the real fast model (0.5B).

// A failed unwrap is a failed test, with the value in the message.
#![allow(clippy::unwrap_used)]

mod governor;
mod helpers;
mod local;
mod openai;
