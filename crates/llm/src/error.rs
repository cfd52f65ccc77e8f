//! The one error type of this crate: variants a caller can act on.

use std::path::PathBuf;
use std::time::Duration;

/// Why a generation failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum LlmError {
    /// The request itself is wrong (empty messages, zero tokens, bad schema, prompt too long); retrying
    /// will not help.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// Too many requests are already waiting; try again later.
    #[error("the language model is overloaded ({queued} requests waiting); try again shortly")]
    Overloaded {
        /// Requests already waiting when this one was refused.
        queued: usize,
    },
    /// The engine did not answer in time.
    #[error("the language model did not answer within {0:?} ({1})")]
    Timeout(Duration, &'static str),
    /// The server answered with an error status after all retries.
    #[error("the model server answered {status}: {body}")]
    Upstream {
        /// HTTP status.
        status: u16,
        /// The start of the response body, for the operator.
        body: String,
    },
    /// The server could not be reached after all retries.
    #[error("could not reach the model server: {0}")]
    Connect(String),
    /// The server sent something that is not the protocol (malformed SSE or JSON).
    #[error("the model server broke the protocol: {0}")]
    Protocol(String),
    /// No model file where one was expected.
    #[error("model file not found: {}. Run `lyceum model install` for the default model, or point `engine.local.model` (or --model) at a GGUF file", .0.display())]
    ModelMissing(PathBuf),
    /// The model file exists but cannot be used.
    #[error("cannot use model {}: {reason}", path.display())]
    ModelInvalid {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The output did not satisfy the requested JSON schema.
    #[error("the model's answer does not match the JSON schema: {0}")]
    InvalidOutput(String),
    /// The engine itself failed (decode error, engine thread gone).
    #[error("the language model engine failed: {0}")]
    Engine(String),
}

impl LlmError {
    /// Whether the same request may succeed if tried again later. A broken stream (a connection
    /// dropped mid-answer, an event cut short) is: the server or the network failed, not the request.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::Overloaded { .. }
                | Self::Timeout(..)
                | Self::Connect(_)
                | Self::Engine(_)
                | Self::Protocol(_)
        ) || matches!(self, Self::Upstream { status, .. } if *status == 429 || *status >= 500)
    }
}
