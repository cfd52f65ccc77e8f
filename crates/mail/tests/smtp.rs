//! Real SMTP conversations: Lyceum's mailer against aiosmtpd (`smtp_peer.py`), plain, with STARTTLS and
//! with implicit TLS on a certificate from a test authority, and against refusals.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use lyceum_mail::{
    Address, Email, MailConfig, MailError, Mailer, Security, SmtpConfig, TransportConfig,
};

/// aiosmtpd keeping what it accepts under `dir`, stopped when dropped.
struct Peer {
    child: Child,
    port: u16,
    kept: PathBuf,
    dir: tempfile::TempDir,
}

/// How the peer listens and answers.
enum Mode {
    Plain,
    StartTls,
    Tls,
    Reply(u16),
}

impl Peer {
    /// Starts the peer; `None` outside CI when aiosmtpd is not installed.
    fn start(mode: Mode) -> Option<Self> {
        let python = std::env::var_os("TEST_SMTP_PYTHON").filter(|path| Path::new(path).exists());
        let Some(python) = python else {
            assert!(
                std::env::var("CI").is_err(),
                "TEST_SMTP_PYTHON must name a Python with aiosmtpd in CI (./scripts/setup --tests)"
            );
            eprintln!("aiosmtpd is not installed; skipping (./scripts/setup --tests)");
            return None;
        };
        let dir = tempfile::tempdir().expect("temp dir");
        let kept = dir.path().join("kept");
        std::fs::create_dir(&kept).expect("kept dir");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/smtp_peer.py");
        let mut command = Command::new(python);
        command.arg(script).arg(&kept);
        let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
        certificates(dir.path());
        match mode {
            Mode::Plain => {}
            Mode::StartTls | Mode::Tls => {
                let flag = if matches!(mode, Mode::Tls) {
                    "--tls"
                } else {
                    "--starttls"
                };
                command.arg(flag).arg(&cert).arg(&key);
            }
            Mode::Reply(code) => {
                command.arg("--reply").arg(code.to_string());
            }
        }
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the SMTP peer");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("the peer's first line");
        let port = line
            .strip_prefix("ready ")
            .and_then(|port| port.trim().parse().ok())
            .unwrap_or_else(|| panic!("the peer did not start: {line:?}"));
        Some(Self {
            child,
            port,
            kept,
            dir,
        })
    }

    /// The test authority's certificate, which the client is told to trust.
    fn authority(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// The messages the peer accepted, in order.
    fn messages(&self) -> Vec<String> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(&self.kept)
            .expect("kept")
            .map(|entry| entry.expect("entry").path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "eml"))
            .collect();
        names.sort();
        names
            .iter()
            .map(|path| std::fs::read_to_string(path).expect("message"))
            .collect()
    }

    fn mailer(&self, security: Security, trust_authority: bool) -> Mailer {
        Mailer::new(&MailConfig {
            from: "Lyceum <lyceum@lyceum.example>".into(),
            reply_to: Some("help@lyceum.example".into()),
            domain: "lyceum.example".into(),
            transport: TransportConfig::Smtp(SmtpConfig {
                host: "localhost".into(),
                port: self.port,
                security,
                user: None,
                password: None,
                ca_certificate: trust_authority.then(|| self.authority()),
                timeout: Duration::from_secs(10),
            }),
        })
        .expect("mailer")
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A test authority and a certificate for `localhost` signed by it, with openssl.
fn certificates(dir: &Path) {
    let run = |args: &[&str]| {
        let status = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .stderr(Stdio::null())
            .status()
            .expect("openssl (./scripts/setup --tests installs it)");
        assert!(status.success(), "openssl {args:?}");
    };
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    run(&[
        &["req", "-x509"][..],
        &ec,
        &[
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=Lyceum test authority",
        ],
    ]
    .concat());
    run(&[
        &["req"][..],
        &ec,
        &[
            "-keyout",
            "key.pem",
            "-out",
            "leaf.csr",
            "-subj",
            "/CN=localhost",
        ],
    ]
    .concat());
    std::fs::write(
        dir.join("leaf.ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .expect("extensions");
    run(&[
        "x509",
        "-req",
        "-in",
        "leaf.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "cert.pem",
        "-days",
        "2",
        "-extfile",
        "leaf.ext",
    ]);
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
    let sent = peer
        .mailer(Security::None, false)
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
    peer.mailer(Security::StartTls, true)
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
    peer.mailer(Security::Tls, true)
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
    let error = peer
        .mailer(Security::StartTls, false)
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
    let error = peer
        .mailer(Security::StartTls, true)
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
    let error = busy
        .mailer(Security::None, false)
        .send(&email())
        .await
        .expect_err("451");
    assert!(matches!(error, MailError::Transient(_)), "{error}");
    assert!(error.to_string().contains("try again later"), "{error}");

    let Some(gone) = Peer::start(Mode::Reply(550)) else {
        return;
    };
    let error = gone
        .mailer(Security::None, false)
        .send(&email())
        .await
        .expect_err("550");
    assert!(matches!(error, MailError::Permanent(_)), "{error}");
    assert!(error.to_string().contains("no such mailbox"), "{error}");
    assert!(busy.messages().is_empty() && gone.messages().is_empty());
}
