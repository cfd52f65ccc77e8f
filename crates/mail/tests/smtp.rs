//! Real SMTP conversations: Lyceum's mailer against aiosmtpd (`smtp_peer.py`), plain, with STARTTLS and
//! with implicit TLS on a certificate from a test authority, and against refusals.

use std::time::Duration;

use lyceum_mail::{
    Address, Email, MailConfig, MailError, Mailer, Security, SmtpConfig, TransportConfig,
};
use lyceum_testkit::smtp::{Mode, SmtpPeer as Peer};

/// A mailer for `peer`, trusting its test authority or not.
fn mailer(peer: &Peer, security: Security, trust_authority: bool) -> Mailer {
    Mailer::new(&MailConfig {
        from: "Lyceum <lyceum@lyceum.example>".into(),
        reply_to: Some("help@lyceum.example".into()),
        domain: "lyceum.example".into(),
        transport: TransportConfig::Smtp(SmtpConfig {
            host: "localhost".into(),
            port: peer.port,
            security,
            user: None,
            password: None,
            ca_certificate: trust_authority.then(|| peer.authority()),
            timeout: Duration::from_secs(10),
        }),
    })
    .expect("mailer")
}

fn email() -> Email {
    Email {
        to: Address::parse("ada@example.org").expect("address"),
        to_name: Some("Ada".into()),
        subject: "Week 1 · Unit 2: Gears and cams".into(),
        text: "Gears turn.\n".into(),
        html: "<p>Gears <strong>turn</strong>.</p>".into(),
        key: "drip.3.1.2".into(),
        unsubscribe: Some("https://lyceum.example/mail/stop/3.abc".into()),
    }
}

/// What a learner's mail client gets: one message, from and to the right people, with both parts,
/// its Message-ID and the one-click pair.
fn assert_delivered(peer: &Peer, transport: &str) {
    let messages = peer.messages();
    assert_eq!(messages.len(), 1, "exactly one message");
    let message = &messages[0];
    assert!(
        message.starts_with(&format!(
            "X-Peer-Envelope: lyceum@lyceum.example -> ada@example.org ({transport})"
        )),
        "{message}"
    );
    for line in [
        "Message-ID: <drip.3.1.2@lyceum.example>",
        "List-Unsubscribe: <https://lyceum.example/mail/stop/3.abc>",
        "List-Unsubscribe-Post: List-Unsubscribe=One-Click",
        "Reply-To: help@lyceum.example",
        "Content-Type: text/plain",
        "Content-Type: text/html",
    ] {
        assert!(message.contains(line), "{line} in\n{message}");
    }
    assert!(message.contains("Gears <strong>turn</strong>"), "{message}");
}

#[tokio::test]
async fn a_plain_conversation_delivers_one_message_with_every_header() {
    let Some(peer) = Peer::start(Mode::Plain) else {
        return;
    };
    let sent = mailer(&peer, Security::None, false)
        .send(&email())
        .await
        .expect("sent");
    assert!(sent.reply.starts_with("250"), "{}", sent.reply);
    assert!(
        sent.reply.contains("kept as 0001"),
        "the server's own words: {}",
        sent.reply
    );
    assert_delivered(&peer, "plain");
}

#[tokio::test]
async fn starttls_upgrades_the_connection_before_the_message_is_sent() {
    let Some(peer) = Peer::start(Mode::StartTls) else {
        return;
    };
    mailer(&peer, Security::StartTls, true)
        .send(&email())
        .await
        .expect("sent");
    assert_delivered(&peer, "tls");
}

#[tokio::test]
async fn implicit_tls_delivers_too() {
    let Some(peer) = Peer::start(Mode::Tls) else {
        return;
    };
    mailer(&peer, Security::Tls, true)
        .send(&email())
        .await
        .expect("sent");
    assert_delivered(&peer, "tls");
}

#[tokio::test]
async fn an_untrusted_certificate_stops_the_message_before_it_leaves() {
    let Some(peer) = Peer::start(Mode::StartTls) else {
        return;
    };
    let error = mailer(&peer, Security::StartTls, false)
        .send(&email())
        .await
        .expect_err("the test authority is not trusted");
    assert!(error.to_string().contains("certificate"), "{error}");
    assert!(peer.messages().is_empty());
}

#[tokio::test]
async fn a_server_without_starttls_gets_nothing_when_starttls_is_required() {
    let Some(peer) = Peer::start(Mode::Plain) else {
        return;
    };
    let error = mailer(&peer, Security::StartTls, true)
        .send(&email())
        .await
        .expect_err("no downgrade to plain text");
    assert!(peer.messages().is_empty(), "{error}");
}

#[tokio::test]
async fn refusals_say_whether_to_try_again_in_the_servers_words() {
    let Some(busy) = Peer::start(Mode::Reply(451)) else {
        return;
    };
    let error = mailer(&busy, Security::None, false)
        .send(&email())
        .await
        .expect_err("451");
    assert!(matches!(error, MailError::Transient(_)), "{error}");
    assert!(error.to_string().contains("try again later"), "{error}");

    let Some(gone) = Peer::start(Mode::Reply(550)) else {
        return;
    };
    let error = mailer(&gone, Security::None, false)
        .send(&email())
        .await
        .expect_err("550");
    assert!(matches!(error, MailError::Permanent(_)), "{error}");
    assert!(error.to_string().contains("no such mailbox"), "{error}");
    assert!(busy.messages().is_empty() && gone.messages().is_empty());
}
