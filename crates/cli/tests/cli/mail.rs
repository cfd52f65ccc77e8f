//! `lyceum mail test`: a message through the configured transport, and the errors a person reads.

use crate::lyceum;

fn outbox(dir: &std::path::Path) -> Vec<String> {
    match std::fs::read_dir(dir.join("outbox")) {
        Ok(entries) => entries
            .map(|entry| std::fs::read_to_string(entry.unwrap().path()).unwrap())
            .collect(),
        Err(_) => Vec::new(),
    }
}

#[test]
fn a_test_message_lands_in_the_outbox_as_a_whole_eml_file() {
    let dir = tempfile::tempdir().unwrap();
    let run = lyceum(dir.path(), &["mail", "test", "Ada@Example.org"], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.starts_with("sent <test."), "{}", run.stdout);
    assert!(run.stdout.contains("written to"), "{}", run.stdout);
    let messages = outbox(dir.path());
    assert_eq!(messages.len(), 1);
    let message = &messages[0];
    for line in [
        "To: Ada@example.org",
        "From: Lyceum <lyceum@localhost>",
        "Subject: Lyceum: a test message",
        "Message-ID: <test.",
        "Content-Type: text/plain",
        "Content-Type: text/html",
    ] {
        assert!(message.contains(line), "{line} in\n{message}");
    }
    assert!(!message.contains("List-Unsubscribe"), "{message}");
}

#[test]
fn a_bad_address_or_setting_is_refused_with_what_to_change_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    lyceum(
        dir.path(),
        &["mail", "test", "ada@example.org\r\nBcc: eve@example.org"],
        &[],
    )
    .assert_fails(
        2,
        "is not an email address: it holds a space or a line break",
    );
    lyceum(dir.path(), &["mail", "test", "ada"], &[]).assert_fails(2, "it has no @");
    lyceum(
        dir.path(),
        &["mail", "test", "ada@example.org"],
        &[("LYCEUM_MAIL__FROM", "nobody")],
    )
    .assert_fails(2, "mail.from “nobody” is not an address");
    lyceum(
        dir.path(),
        &["mail", "test", "ada@example.org"],
        &[("LYCEUM_MAIL__TRANSPORT", "pigeon")],
    )
    .assert_fails(1, "LYCEUM_MAIL__TRANSPORT");
    assert!(outbox(dir.path()).is_empty());
}

#[test]
fn a_relay_that_does_not_answer_is_reported_as_worth_trying_again() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string();
    let run = lyceum(
        dir.path(),
        &["mail", "test", "ada@example.org"],
        &[
            ("LYCEUM_MAIL__TRANSPORT", "smtp"),
            ("LYCEUM_MAIL__SMTP__HOST", "127.0.0.1"),
            ("LYCEUM_MAIL__SMTP__PORT", &port),
            ("LYCEUM_MAIL__SMTP__SECURITY", "none"),
            ("LYCEUM_MAIL__SMTP__PASSWORD", "relay-secret-9"),
            ("LYCEUM_MAIL__SMTP__USER", "lyceum"),
        ],
    );
    run.assert_fails(1, "did not take the message for now");
    assert!(!run.stderr.contains("relay-secret-9"), "{}", run.stderr);
    assert!(!run.stderr.contains("ada@example.org"), "{}", run.stderr);
}
