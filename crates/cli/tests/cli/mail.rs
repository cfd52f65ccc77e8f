//! `lyceum mail test`: a message through the configured transport, and the errors a person reads;
//! `lyceum mail outbox`; and the drip's crash safety: a worker killed around the SMTP conversation.

use lyceum_testkit::ScriptedModel;
use lyceum_testkit::smtp::{Mode, SmtpPeer};

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

/// A data folder with the tides course written and an address subscribed whose first unit is due
/// now; the subscription's id.
async fn due_drip(dir: &std::path::Path, env: &[(&str, String)]) -> i64 {
    crate::generate::generate_tides(dir, env);
    let url = format!("sqlite://{}", dir.join("lyceum.db").display());
    let store = lyceum_store::Store::open(&url).await.unwrap();
    let course = store
        .course("a-course-on-how-tides-rise-and-fall")
        .await
        .unwrap();
    let now = lyceum_store::now_ms();
    let subscribed = store
        .subscribe(
            &lyceum_store::NewSubscription {
                course_id: course.id,
                user_id: None,
                email: "ada@example.org",
                pace_days: 1,
                hour: 7,
                time_zone: "UTC",
                place: 0,
                next_at: now - 1,
                confirm_by: None,
            },
            now,
        )
        .await
        .unwrap();
    store.close().await;
    match subscribed {
        lyceum_store::Subscribed::Active(subscription) => subscription.id,
        other => panic!("{other:?}"),
    }
}

/// Settings for a worker that mails through `peer`, with the scripted engine of `env` and a lease
/// short enough that a restarted worker takes a dead one's job at once.
fn mailing_env(env: &[(&str, String)], peer: &SmtpPeer) -> Vec<(String, String)> {
    let mut all: Vec<(String, String)> = env
        .iter()
        .map(|(name, value)| ((*name).to_owned(), value.clone()))
        .collect();
    all.extend([
        ("LYCEUM_MAIL__TRANSPORT".into(), "smtp".into()),
        ("LYCEUM_MAIL__SMTP__HOST".into(), "localhost".into()),
        ("LYCEUM_MAIL__SMTP__PORT".into(), peer.port.to_string()),
        ("LYCEUM_MAIL__SMTP__SECURITY".into(), "none".into()),
    ]);
    all
}

/// Runs `lyceum worker` until it reaches `failpoint`, then kills it (SIGKILL: no cleanup at all).
fn worker_killed_at(dir: &std::path::Path, env: &[(String, String)], failpoint: &str) {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_lyceum"))
        .arg("--data-dir")
        .arg(dir)
        .arg("worker")
        .current_dir(dir)
        .envs(env.iter().map(|(name, value)| (name, value)))
        .env("TEST_LYCEUM_FAILPOINT", failpoint)
        .env("RUST_LOG", "info")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let reached = format!("failpoint {failpoint} reached");
    let mut said = Vec::new();
    let mut stopped = false;
    for line in std::io::BufRead::lines(std::io::BufReader::new(stderr)) {
        let line = line.unwrap();
        if line.contains(&reached) {
            stopped = true;
            break;
        }
        said.push(line);
    }
    // Killed whatever happened, so that a failed check leaves no worker behind.
    let _ = child.kill();
    child.wait().unwrap();
    assert!(
        stopped,
        "the worker ended before {failpoint}: {}",
        said.join("\n")
    );
    let leaked: Vec<&String> = said
        .iter()
        .filter(|line| line.contains("ada@example.org"))
        .collect();
    assert!(leaked.is_empty(), "a full address in the log: {leaked:?}");
}

/// `lyceum worker --drain`: what a restarted worker does, until nothing is due.
fn drained(dir: &std::path::Path, env: &[(String, String)]) {
    let env: Vec<(&str, &str)> = env
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect();
    let run = lyceum(dir, &["worker", "--drain"], &with_logs(&env));
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        !run.stderr.contains("ada@example.org"),
        "a full address in the log: {}",
        run.stderr
    );
}

/// `env` with every informational log line on, so a test sees what the logs would hold.
fn with_logs<'a>(env: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut env = env.to_vec();
    env.push(("RUST_LOG", "info"));
    env
}

/// What both crash tests start from: an SMTP peer, a data directory with a drip due, the scripted
/// model the worker writes with, the subscription's id, and the worker's environment.
async fn crash_scene() -> Option<(
    SmtpPeer,
    tempfile::TempDir,
    ScriptedModel,
    i64,
    Vec<(String, String)>,
)> {
    let peer = SmtpPeer::start(Mode::Plain)?;
    let dir = tempfile::tempdir().unwrap();
    let model = ScriptedModel::start().await;
    let env = crate::generate::scripted_env(&model);
    let subscription = due_drip(dir.path(), &env).await;
    let env = mailing_env(&env, &peer);
    Some((peer, dir, model, subscription, env))
}

/// Checks that the peer holds exactly one message, unit mail of `subscription`; `lyceum mail outbox`.
fn unit_once_then_outbox(
    peer: &SmtpPeer,
    dir: &std::path::Path,
    env: &[(String, String)],
    subscription: i64,
    why: &str,
) -> crate::Run {
    let messages = peer.messages();
    assert_eq!(messages.len(), 1, "{why}: {messages:#?}");
    assert!(messages[0].contains(&format!("Message-ID: <unit-{subscription}-")));
    let env: Vec<(&str, &str)> = env.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    let outbox = lyceum(dir, &["mail", "outbox"], &env);
    assert_eq!(outbox.code, 0, "{}", outbox.stderr);
    outbox
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_after_the_servers_250_sends_the_unit_once_and_says_it_may_be_lost() {
    let Some((peer, dir, _model, subscription, env)) = crash_scene().await else {
        return;
    };

    worker_killed_at(dir.path(), &env, "mail-after-send");
    assert_eq!(peer.messages().len(), 1, "the server took unit 1");
    drained(dir.path(), &env);

    let outbox = unit_once_then_outbox(
        &peer,
        dir.path(),
        &env,
        subscription,
        "and never got it twice",
    );
    assert!(outbox.stdout.contains("unknown"), "{}", outbox.stdout);
    assert!(
        outbox.stdout.contains("a…@example.org"),
        "{}",
        outbox.stdout
    );
    assert!(
        !outbox.stdout.contains("ada@example.org"),
        "addresses are masked"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_before_the_send_leaves_the_unit_for_the_next_worker() {
    let Some((peer, dir, _model, subscription, env)) = crash_scene().await else {
        return;
    };

    worker_killed_at(dir.path(), &env, "mail-before-send");
    assert!(peer.messages().is_empty(), "nothing was sent yet");
    drained(dir.path(), &env);

    let outbox = unit_once_then_outbox(
        &peer,
        dir.path(),
        &env,
        subscription,
        "sent by the next worker",
    );
    assert!(outbox.stdout.contains("sent"), "{}", outbox.stdout);
    assert!(
        outbox.stdout.contains("250 2.0.0 kept as 0001"),
        "{}",
        outbox.stdout
    );
}
