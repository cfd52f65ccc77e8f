//! An SMTP peer for the mail tests: aiosmtpd (`smtp_peer.py`, installed by `./scripts/setup --tests`)
//! in a child process, plain, with STARTTLS or implicit TLS on a certificate from a test authority
//! made with openssl, or refusing every recipient with a chosen code. It keeps what it accepts as
//! files, which [`SmtpPeer::messages`] reads back.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// aiosmtpd keeping what it accepts under `dir`, stopped when dropped.
pub struct SmtpPeer {
    /// The port it listens on, on 127.0.0.1 (and as `localhost`).
    pub port: u16,
    child: Child,
    kept: PathBuf,
    dir: tempfile::TempDir,
}

/// How the peer listens and answers.
pub enum Mode {
    /// No TLS.
    Plain,
    /// Plain, upgraded with STARTTLS, which it requires before mail.
    StartTls,
    /// TLS from the first byte.
    Tls,
    /// Every recipient refused with this code (451: for now; 550: for good).
    Reply(u16),
}

impl SmtpPeer {
    /// Starts the peer; `None` outside CI when aiosmtpd is not installed.
    pub fn start(mode: Mode) -> Option<Self> {
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
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("smtp_peer.py");
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
    pub fn authority(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// The messages the peer accepted, in order, made [`readable`].
    pub fn messages(&self) -> Vec<String> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(&self.kept)
            .expect("kept")
            .map(|entry| entry.expect("entry").path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "eml"))
            .collect();
        names.sort();
        names
            .iter()
            .map(|path| readable(&std::fs::read(path).expect("message")))
            .collect()
    }
}

impl Drop for SmtpPeer {
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

/// A raw message as a person reads it: quoted-printable undone (soft line breaks joined, `=XX`
/// bytes decoded), so a test can look for a whole link or sentence in it.
pub fn readable(raw: &[u8]) -> String {
    let mut bytes = Vec::with_capacity(raw.len());
    let mut at = 0;
    while at < raw.len() {
        match raw[at..] {
            [b'=', b'\r', b'\n', ..] => at += 3,
            [b'=', b'\n', ..] => at += 2,
            [b'=', high, low, ..] if high.is_ascii_hexdigit() && low.is_ascii_hexdigit() => {
                let hex = [high, low];
                let text = std::str::from_utf8(&hex).unwrap_or("3D");
                bytes.push(u8::from_str_radix(text, 16).unwrap_or(b'='));
                at += 3;
            }
            _ => {
                bytes.push(raw[at]);
                at += 1;
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}
