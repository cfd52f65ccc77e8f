//! Lyceum's mail: messages composed the way people and mail clients expect them — a text part and an
//! HTML part, a Message-ID fixed by what the message is (so a retry sends the same message), and the
//! RFC 8058 one-click unsubscribe pair where a message belongs to a list — sent through one of three
//! transports: an SMTP relay, a folder of `.eml` files (the default: a machine without a mail server
//! still works, and a person can open what was sent), or memory (tests).
//!
//! Addresses are people's: [`masked`] is the only form of one that belongs in a log line.

mod address;
mod compose;
mod transport;

pub use address::{Address, masked};
pub use compose::Email;
pub use transport::{MailConfig, Mailer, Security, Sent, SmtpConfig, TransportConfig};

/// Why a message was not sent.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The message itself is wrong (an address that is not one, a line break in a header): sending it
    /// again will not help; the words say what to change.
    #[error("{0}")]
    Invalid(String),
    /// The server or the connection failed in a way that may pass (a 4xx reply, a refused or broken
    /// connection, a timeout): try again later.
    #[error("the mail server did not take the message for now: {0}")]
    Transient(String),
    /// The server refused the message for good (a 5xx reply): the words are the server's.
    #[error("the mail server refused the message: {0}")]
    Permanent(String),
    /// The transport is set up wrongly (an unreadable certificate, an outbox that cannot be written).
    #[error("mail is not set up right: {0}")]
    Setup(String),
}

impl MailError {
    /// Whether sending the same message later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Transient(_))
    }
}
