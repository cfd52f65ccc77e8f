//! Integration tests of the engines: the OpenAI engine against a scripted server, the local engine with
//! the real fast model (0.5B), the sentence encoder with the real all-MiniLM-L6-v2.

// A failed unwrap is a failed test, with the value in the message.
#![allow(clippy::unwrap_used)]

mod encoder;
mod governor;
mod helpers;
mod local;
mod openai;
