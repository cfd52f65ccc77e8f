//! Email addresses as Lyceum accepts them: one mailbox, no display-name tricks, no line breaks.

use std::fmt;

use crate::MailError;

/// A checked email address (`local@domain`), with the domain lowercased.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Address(String);

impl Address {
    /// `text` as an address, or why it is not one.
    pub fn parse(text: &str) -> Result<Self, MailError> {
        let text = text.trim();
        let invalid = |why: &str| {
            MailError::Invalid(format!("“{}” is not an email address: {why}", shown(text)))
        };
        if text.is_empty() {
            return Err(MailError::Invalid("an email address is needed".into()));
        }
        if text.len() > 254 {
            return Err(invalid("it is longer than 254 characters"));
        }
        if text.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(invalid("it holds a space or a line break"));
        }
        let Some((local, domain)) = text.rsplit_once('@') else {
            return Err(invalid("it has no @"));
        };
        if local.is_empty() || local.len() > 64 {
            return Err(invalid("the part before the @ must be 1 to 64 characters"));
        }
        if local.contains(['@', '<', '>', '(', ')', ',', ';', ':', '\\', '"', '[', ']']) {
            return Err(invalid(
                "the part before the @ holds a character addresses cannot hold",
            ));
        }
        let domain = domain.to_ascii_lowercase();
        let labels: Vec<&str> = domain.split('.').collect();
        let label_ok = |label: &&str| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        };
        if labels.len() < 2 || !labels.iter().all(label_ok) {
            return Err(invalid(
                "the part after the @ is not a domain like example.org",
            ));
        }
        // lettre must agree, or the message could not be built later.
        let address = format!("{local}@{domain}");
        address
            .parse::<lettre::Address>()
            .map_err(|_| invalid("a mail server would not take it"))?;
        Ok(Self(address))
    }

    /// The address as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The address as it may appear in logs: see [`masked`].
    pub fn masked(&self) -> String {
        masked(&self.0)
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An address as it may appear in a log line: the first character of the part before the @ and
/// the domain (`a…@example.org`), enough to tell deliveries apart, not to write to anyone.
pub fn masked(address: &str) -> String {
    match address.rsplit_once('@') {
        Some((local, domain)) => {
            let first = local.chars().next().map(String::from).unwrap_or_default();
            format!("{first}…@{domain}")
        }
        None => "…".into(),
    }
}

/// Text from a request, cut for an error message (which may end up in a page, never in a log).
fn shown(text: &str) -> String {
    let cut: String = text.chars().filter(|c| !c.is_control()).take(80).collect();
    if cut.chars().count() < text.chars().count() {
        format!("{cut}…")
    } else {
        cut
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_addresses_are_taken_and_their_domain_lowercased() {
        let address = Address::parse("  Ada.Lovelace+lyceum@Example.ORG ").expect("valid");
        assert_eq!(address.as_str(), "Ada.Lovelace+lyceum@example.org");
        assert_eq!(address.masked(), "A…@example.org");
    }

    #[test]
    fn malformed_addresses_are_refused_with_the_reason() {
        for (text, reason) in [
            ("", "needed"),
            ("ada", "no @"),
            ("@example.org", "before the @"),
            ("ada@localhost", "after the @"),
            ("ada@exa mple.org", "space"),
            ("ada@example.org\r\nBcc: eve@example.org", "line break"),
            ("Ada <ada@example.org>", "space"),
            ("a<b@example.org", "cannot hold"),
            ("ada@-example.org", "after the @"),
        ] {
            let error = Address::parse(text).expect_err(text).to_string();
            assert!(error.contains(reason), "{text:?}: {error}");
            assert!(!error.contains('\n'), "{error}");
        }
    }

    #[test]
    fn a_masked_address_cannot_be_written_to() {
        assert_eq!(masked("bob@example.org"), "b…@example.org");
        assert_eq!(masked("not an address"), "…");
        assert!(!masked("bob@example.org").contains("bob"));
    }
}
