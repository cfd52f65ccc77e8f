//! `lyceum users`: accounts made, listed and disabled by an operator.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::lyceum;

/// `lyceum users add` with `password` on standard input.
pub(crate) fn add_with_password(
    dir: &std::path::Path,
    args: &[&str],
    password: &str,
) -> (i32, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_lyceum"))
        .arg("--data-dir")
        .arg(dir)
        .args(["users", "add", "--password-stdin"])
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
    let output = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.code().unwrap_or(-1), text)
}

#[test]
fn an_operator_adds_lists_and_disables_accounts() {
    let dir = tempfile::tempdir().unwrap();
    let empty = lyceum(dir.path(), &["users", "list"], &[]);
    assert!(empty.stdout.contains("No accounts yet"), "{}", empty.stdout);

    let (code, text) = add_with_password(
        dir.path(),
        &["Ada@Example.org", "--admin", "--name", "Ada"],
        "copper lantern orbit mossy",
    );
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("added ada@example.org (Ada), an admin"),
        "{text}"
    );
    let (code, text) = add_with_password(dir.path(), &["bob@example.org"], "password123");
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("easy to guess"), "{text}");
    assert!(!text.contains(".."), "{text}");
    let again = lyceum(dir.path(), &["users", "add", "ada@example.org"], &[]);
    again.assert_fails(2, "exists already");
    let plain = lyceum(dir.path(), &["users", "add", "carol@example.org"], &[]);
    assert_eq!(plain.code, 0, "{}", plain.stderr);
    assert!(plain.stdout.contains("no password yet"), "{}", plain.stdout);

    lyceum(dir.path(), &["users", "disable", "ADA@example.org"], &[]);
    let listed = lyceum(dir.path(), &["users", "list"], &[]).stdout;
    let ada = listed
        .lines()
        .find(|line| line.starts_with("ada@"))
        .unwrap();
    assert!(ada.contains("admin, disabled"), "{listed}");
    assert!(
        listed
            .lines()
            .any(|line| line.starts_with("carol@example.org"))
    );
    lyceum(dir.path(), &["users", "disable", "dan@example.org"], &[])
        .assert_fails(2, "there is no account for dan@example.org");
}
