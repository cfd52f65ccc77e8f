//! One module per command.

pub mod bench;
pub mod chat;
pub mod model;
