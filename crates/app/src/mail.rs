//! The mail Lyceum sends, composed from what it knows: for now the operator's test message.

use lyceum_mail::{Address, Email};

use crate::Settings;

/// The message `lyceum mail test` sends: says which site and transport sent it, so the person who
/// receives it can tell the setup works.
pub fn test_message(settings: &Settings, to: Address, now_ms: i64) -> Email {
    let site = settings.public_url();
    let text = format!(
        "This is a test message from Lyceum at {site}.\n\n\
         It was sent with `lyceum mail test` to check that mail from this site reaches its readers. \
         Nothing needs to be done.\n"
    );
    let html = format!(
        "<p style=\"font-family:Georgia,serif;font-size:16px;line-height:1.5;color:#1f2328\">\
         This is a test message from Lyceum at <a href=\"{site}\" style=\"color:#0b57d0\">{site}</a>.</p>\
         <p style=\"font-family:Georgia,serif;font-size:16px;line-height:1.5;color:#1f2328\">\
         It was sent with <code>lyceum mail test</code> to check that mail from this site reaches \
         its readers. Nothing needs to be done.</p>",
        site = escape(&site),
    );
    Email {
        to,
        to_name: None,
        subject: "Lyceum: a test message".into(),
        text,
        html,
        key: format!("test.{now_ms}"),
        unsubscribe: None,
    }
}

/// Text for an HTML attribute or element.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
