//! One message, checked and built: the parts a caller fills in, and the headers Lyceum adds.

use lettre::Message;
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};

use crate::{Address, MailError};

/// A message to one person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    /// Whom it is for.
    pub to: Address,
    /// Their name, if known.
    pub to_name: Option<String>,
    /// The subject line.
    pub subject: String,
    /// The plain-text part.
    pub text: String,
    /// The HTML part: sanitised markup with inline styles, since mail clients drop style sheets.
    pub html: String,
    /// What the message is (`drip.12.3.7`): its Message-ID is `<key@domain>`, the same on every try,
    /// so a message sent twice after a crash is one message to the receiving side.
    pub key: String,
    /// The signed link that unsubscribes with one click, for list mail (drip, "your course is
    /// ready"): sets `List-Unsubscribe` and `List-Unsubscribe-Post` (RFC 8058).
    pub unsubscribe: Option<String>,
}

impl Email {
    /// The message as sent, from `from`, with Message-ID domain `domain`.
    pub(crate) fn build(
        &self,
        from: &Mailbox,
        reply_to: Option<&Mailbox>,
        domain: &str,
    ) -> Result<Message, MailError> {
        one_line("subject", &self.subject)?;
        if self.subject.trim().is_empty() {
            return Err(MailError::Invalid("a message needs a subject".into()));
        }
        if let Some(name) = &self.to_name {
            one_line("name", name)?;
        }
        if self.key.is_empty()
            || !self
                .key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        {
            return Err(MailError::Invalid(format!(
                "a message's key must be letters, digits, dots, dashes or underscores, not “{}”",
                self.key
            )));
        }
        let to =
            self.to.as_str().parse().map_err(|_| {
                MailError::Invalid(format!("{} is not an address", self.to.masked()))
            })?;
        let mut builder = Message::builder()
            .from(from.clone())
            .to(Mailbox::new(self.to_name.clone(), to))
            .subject(self.subject.trim())
            .message_id(Some(format!("<{}@{domain}>", self.key)));
        if let Some(reply_to) = reply_to {
            builder = builder.reply_to(reply_to.clone());
        }
        let mut message = builder
            .multipart(MultiPart::alternative_plain_html(
                self.text.clone(),
                self.html.clone(),
            ))
            .map_err(|error| {
                MailError::Invalid(format!("the message could not be built: {error}"))
            })?;
        if let Some(link) = &self.unsubscribe {
            let plain = link.starts_with("https://") || link.starts_with("http://");
            if !plain
                || link
                    .chars()
                    .any(|c| c.is_whitespace() || c.is_control() || c == '>')
            {
                return Err(MailError::Invalid(format!(
                    "an unsubscribe link must be one http(s) address, not “{link}”"
                )));
            }
            let headers = message.headers_mut();
            headers.insert_raw(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe"),
                format!("<{link}>"),
            ));
            headers.insert_raw(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                "List-Unsubscribe=One-Click".into(),
            ));
        }
        Ok(message)
    }
}

/// Refuses a header value with a line break: it would end the header and start another.
fn one_line(what: &str, value: &str) -> Result<(), MailError> {
    if value.chars().any(|c| c.is_control()) {
        return Err(MailError::Invalid(format!(
            "the {what} holds a line break or another control character; write it on one line"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from() -> Mailbox {
        "Lyceum <lyceum@example.org>".parse().expect("mailbox")
    }

    fn email() -> Email {
        Email {
            to: Address::parse("ada@example.org").expect("address"),
            to_name: Some("Ada Lovelace".into()),
            subject: "Week 1 · Unit 2: The Analytical Engine".into(),
            text: "The engine was never built.\n".into(),
            html: "<p>The engine was <em>never</em> built.</p>".into(),
            key: "drip.4.1.2".into(),
            unsubscribe: Some("https://lyceum.example/mail/stop?token=abc".into()),
        }
    }

    fn formatted(email: &Email) -> String {
        let message = email.build(&from(), None, "lyceum.example").expect("built");
        String::from_utf8(message.formatted()).expect("utf-8")
    }

    #[test]
    fn a_message_has_both_parts_its_own_id_and_the_one_click_pair() {
        let raw = formatted(&email());
        assert!(
            raw.contains("Message-ID: <drip.4.1.2@lyceum.example>"),
            "{raw}"
        );
        assert!(
            raw.contains("List-Unsubscribe: <https://lyceum.example/mail/stop?token=abc>"),
            "{raw}"
        );
        assert!(
            raw.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"),
            "{raw}"
        );
        assert!(raw.contains("multipart/alternative"), "{raw}");
        assert!(raw.contains("Content-Type: text/plain"), "{raw}");
        assert!(raw.contains("Content-Type: text/html"), "{raw}");
        assert!(raw.contains("Date: "), "{raw}");
        let again = formatted(&email());
        let id = |raw: &str| {
            raw.lines()
                .find(|line| line.starts_with("Message-ID:"))
                .map(String::from)
        };
        assert_eq!(id(&raw), id(&again), "a retry sends the same message");
    }

    #[test]
    fn mail_that_is_not_list_mail_has_no_unsubscribe_headers() {
        let raw = formatted(&Email {
            unsubscribe: None,
            ..email()
        });
        assert!(!raw.contains("List-Unsubscribe"), "{raw}");
    }

    #[test]
    fn a_line_break_in_a_header_is_refused_not_sent() {
        for email in [
            Email {
                subject: "Hello\r\nBcc: eve@example.org".into(),
                ..email()
            },
            Email {
                to_name: Some("Ada\nBcc: eve@example.org".into()),
                ..email()
            },
            Email {
                unsubscribe: Some("https://x.example/\r\nBcc: eve@example.org".into()),
                ..email()
            },
            Email {
                key: "a b".into(),
                ..email()
            },
        ] {
            let error = email
                .build(&from(), None, "lyceum.example")
                .expect_err("refused");
            assert!(matches!(error, MailError::Invalid(_)), "{error}");
        }
    }
}
