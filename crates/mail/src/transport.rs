//! Where messages go: an SMTP relay, a folder of `.eml` files, or memory.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use secrecy::{ExposeSecret, SecretString};

use crate::{Email, MailError};

/// How a [`Mailer`] is set up.
#[derive(Debug, Clone)]
pub struct MailConfig {
    /// The sender, `Name <address>` or an address.
    pub from: String,
    /// Where replies go, if not to the sender.
    pub reply_to: Option<String>,
    /// The domain of Message-IDs: the site's host.
    pub domain: String,
    /// Where messages go.
    pub transport: TransportConfig,
}

/// Where messages go.
#[derive(Debug, Clone)]
pub enum TransportConfig {
    /// Each message written as `<dir>/<key>.eml`.
    File(PathBuf),
    /// An SMTP relay.
    Smtp(SmtpConfig),
    /// Kept in memory, for tests: [`Mailer::sent`].
    Memory,
}

/// An SMTP relay.
#[derive(Debug, Clone)]
pub struct SmtpConfig {
    /// Host name (checked against the server's certificate).
    pub host: String,
    /// Port: 587 for STARTTLS, 465 for implicit TLS, 25 plain.
    pub port: u16,
    /// How the connection is secured.
    pub security: Security,
    /// User name, when the relay asks for one.
    pub user: Option<String>,
    /// Password for `user`.
    pub password: Option<SecretString>,
    /// A PEM file of a certificate authority to trust besides the usual ones (a relay with its own CA).
    pub ca_certificate: Option<PathBuf>,
    /// How long to wait for the server at each step.
    pub timeout: Duration,
}

/// How an SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// Plain connection upgraded with STARTTLS; refused if the server cannot (no fallback).
    StartTls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: only for a relay on the same machine or network.
    None,
}

/// What happened to a sent message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// Its Message-ID, with the angle brackets.
    pub message_id: String,
    /// The message as sent (headers and body).
    pub raw: Vec<u8>,
    /// What the server said, or where the file went.
    pub reply: String,
}

enum Transport {
    File(PathBuf),
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Memory(Arc<Mutex<Vec<Sent>>>),
}

/// Sends messages through the configured transport.
pub struct Mailer {
    from: Mailbox,
    reply_to: Option<Mailbox>,
    domain: String,
    transport: Transport,
}

impl Mailer {
    /// A mailer for `config`; fails if the sender is not an address or the transport cannot be set up.
    pub fn new(config: &MailConfig) -> Result<Self, MailError> {
        let mailbox = |what: &str, text: &str| {
            text.parse::<Mailbox>().map_err(|_| {
                MailError::Setup(format!(
                    "{what} “{text}” is not an address like Lyceum <lyceum@example.org>"
                ))
            })
        };
        let from = mailbox("mail.from", &config.from)?;
        let reply_to = config
            .reply_to
            .as_deref()
            .map(|text| mailbox("mail.reply_to", text))
            .transpose()?;
        let transport = match &config.transport {
            TransportConfig::File(dir) => Transport::File(dir.clone()),
            TransportConfig::Smtp(smtp) => Transport::Smtp(smtp_transport(smtp)?),
            TransportConfig::Memory => Transport::Memory(Arc::default()),
        };
        Ok(Self {
            from,
            reply_to,
            domain: config.domain.clone(),
            transport,
        })
    }

    /// Sends `email`. A file is written whole or not at all; an SMTP error says whether it may pass.
    pub async fn send(&self, email: &Email) -> Result<Sent, MailError> {
        let message = email.build(&self.from, self.reply_to.as_ref(), &self.domain)?;
        let raw = message.formatted();
        let message_id = format!("<{}@{}>", email.key, self.domain);
        let reply = match &self.transport {
            Transport::File(dir) => write_eml(dir, &email.key, &raw).await?,
            Transport::Smtp(smtp) => {
                let response = smtp.send(message).await.map_err(smtp_error)?;
                let words: Vec<&str> = response.message().collect();
                format!("{} {}", response.code(), words.join(" "))
            }
            Transport::Memory(_) => "kept in memory".into(),
        };
        let sent = Sent {
            message_id,
            raw,
            reply,
        };
        if let Transport::Memory(kept) = &self.transport {
            kept.lock()
                .map_err(|_| MailError::Setup("the in-memory outbox was poisoned".into()))?
                .push(sent.clone());
        }
        Ok(sent)
    }

    /// What the memory transport has kept, oldest first; empty for other transports.
    pub fn sent(&self) -> Vec<Sent> {
        match &self.transport {
            Transport::Memory(kept) => kept.lock().map(|kept| kept.clone()).unwrap_or_default(),
            _ => Vec::new(),
        }
    }
}

fn smtp_transport(config: &SmtpConfig) -> Result<AsyncSmtpTransport<Tokio1Executor>, MailError> {
    let tls = || {
        let mut parameters = TlsParameters::builder(config.host.clone());
        if let Some(path) = &config.ca_certificate {
            let pem = std::fs::read(path).map_err(|error| {
                MailError::Setup(format!(
                    "could not read the certificate {}: {error}",
                    path.display()
                ))
            })?;
            let certificate = Certificate::from_pem(&pem).map_err(|error| {
                MailError::Setup(format!(
                    "{} is not a PEM certificate: {error}",
                    path.display()
                ))
            })?;
            parameters = parameters.add_root_certificate(certificate);
        }
        parameters
            .build()
            .map_err(|error| MailError::Setup(format!("could not set up TLS: {error}")))
    };
    let security = match config.security {
        Security::StartTls => Tls::Required(tls()?),
        Security::Tls => Tls::Wrapper(tls()?),
        Security::None => Tls::None,
    };
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&config.host)
        .port(config.port)
        .tls(security)
        .timeout(Some(config.timeout));
    if let Some(user) = &config.user {
        let password = config
            .password
            .as_ref()
            .map(|password| password.expose_secret().to_owned())
            .unwrap_or_default();
        builder = builder.credentials(Credentials::new(user.clone(), password));
    }
    Ok(builder.build())
}

/// An SMTP failure as transient (4xx, the connection, a timeout), permanent (5xx) or a TLS setup
/// error, in the server's words.
fn smtp_error(error: lettre::transport::smtp::Error) -> MailError {
    let words = error.to_string();
    if error.is_tls() {
        // A certificate the relay's name does not match, or one signed by no trusted authority:
        // trying again sends nothing until the operator fixes mail.smtp.
        MailError::Setup(format!(
            "the TLS handshake with the mail server failed: {words}"
        ))
    } else if error.is_permanent() {
        MailError::Permanent(words)
    } else {
        MailError::Transient(words)
    }
}

/// Writes `raw` to `<dir>/<key>.eml` through a temporary file, so a reader never sees half a message
/// and a retry replaces the file rather than adding a second.
async fn write_eml(dir: &Path, key: &str, raw: &[u8]) -> Result<String, MailError> {
    let failed = |error: std::io::Error| {
        MailError::Setup(format!(
            "could not write to the outbox {}: {error}",
            dir.display()
        ))
    };
    tokio::fs::create_dir_all(dir).await.map_err(failed)?;
    let path = dir.join(format!("{key}.eml"));
    let partial = dir.join(format!(".{key}.eml.partial"));
    tokio::fs::write(&partial, raw).await.map_err(failed)?;
    tokio::fs::rename(&partial, &path).await.map_err(failed)?;
    Ok(format!("written to {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Address;

    fn email(key: &str) -> Email {
        Email {
            to: Address::parse("ada@example.org").expect("address"),
            to_name: None,
            subject: "Your course is ready".into(),
            text: "All 36 units are written.".into(),
            html: "<p>All 36 units are written.</p>".into(),
            key: key.into(),
            unsubscribe: None,
        }
    }

    fn config(transport: TransportConfig) -> MailConfig {
        MailConfig {
            from: "Lyceum <lyceum@lyceum.example>".into(),
            reply_to: None,
            domain: "lyceum.example".into(),
            transport,
        }
    }

    #[tokio::test]
    async fn the_file_outbox_keeps_one_eml_per_message_even_when_sent_again() {
        let dir = tempfile::tempdir().expect("dir");
        let outbox = dir.path().join("outbox");
        let mailer = Mailer::new(&config(TransportConfig::File(outbox.clone()))).expect("mailer");
        let sent = mailer.send(&email("ready.7")).await.expect("sent");
        mailer.send(&email("ready.7")).await.expect("sent again");
        mailer.send(&email("ready.8")).await.expect("another");
        let mut names: Vec<String> = std::fs::read_dir(&outbox)
            .expect("outbox")
            .map(|entry| {
                entry
                    .expect("entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        names.sort();
        assert_eq!(names, ["ready.7.eml", "ready.8.eml"]);
        let file = std::fs::read_to_string(outbox.join("ready.7.eml")).expect("file");
        assert!(
            file.contains("Message-ID: <ready.7@lyceum.example>"),
            "{file}"
        );
        assert!(file.contains("To: ada@example.org"), "{file}");
        assert_eq!(sent.message_id, "<ready.7@lyceum.example>");
        assert!(sent.reply.contains("ready.7.eml"), "{}", sent.reply);
    }

    #[tokio::test]
    async fn the_memory_transport_keeps_what_was_sent_in_order() {
        let mailer = Mailer::new(&config(TransportConfig::Memory)).expect("mailer");
        mailer.send(&email("a")).await.expect("sent");
        mailer.send(&email("b")).await.expect("sent");
        let ids: Vec<String> = mailer
            .sent()
            .into_iter()
            .map(|sent| sent.message_id)
            .collect();
        assert_eq!(ids, ["<a@lyceum.example>", "<b@lyceum.example>"]);
    }

    #[test]
    fn a_sender_that_is_not_an_address_is_a_setup_error_that_names_the_setting() {
        let error = Mailer::new(&MailConfig {
            from: "Lyceum".into(),
            ..config(TransportConfig::Memory)
        })
        .err()
        .expect("refused")
        .to_string();
        assert!(error.contains("mail.from"), "{error}");
    }

    #[tokio::test]
    async fn a_closed_port_is_a_transient_failure() {
        // Bind then drop a listener: nothing answers on that port now.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("port")
            .port();
        let mailer = Mailer::new(&config(TransportConfig::Smtp(SmtpConfig {
            host: "127.0.0.1".into(),
            port,
            security: Security::None,
            user: None,
            password: None,
            ca_certificate: None,
            timeout: Duration::from_secs(5),
        })))
        .expect("mailer");
        let error = mailer.send(&email("x")).await.expect_err("nothing listens");
        assert!(error.is_transient(), "{error}");
    }
}
