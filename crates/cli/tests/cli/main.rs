//! The `lyceum` binary as a person runs it: exit codes and the messages they read.

// A failed unwrap is a failed test, with the value in the message.
#![allow(clippy::unwrap_used)]

mod api_fuzz;
mod browser;
mod generate;
mod mail;
mod nodes;
mod quality;
mod secrets;
mod serve;
mod users;

use std::path::Path;
use std::process::{Command, Output};

use lyceum_testkit::test_model;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    /// The command failed with `code`, and its error says `message`.
    fn assert_fails(&self, code: i32, message: &str) {
        assert_eq!(self.code, code, "{}", self.stderr);
        assert!(
            self.stderr.contains(message),
            "expected {message:?} in:\n{}",
            self.stderr
        );
        assert!(!self.stderr.contains("panicked"), "{}", self.stderr);
    }
}

fn lyceum(data_dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_lyceum"));
    command
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .current_dir(data_dir);
    for (name, _) in std::env::vars().filter(|(name, _)| name.starts_with("LYCEUM_")) {
        command.env_remove(name);
    }
    command.envs(env.iter().copied());
    let Output {
        status,
        stdout,
        stderr,
    } = command.output().unwrap();
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

#[test]
fn a_reader_that_goes_away_ends_the_command_quietly() {
    // `lyceum languages | head -0`: the reading end is closed before anything is written.
    let dir = tempfile::tempdir().unwrap();
    for args in [&["languages"][..], &["config"], &["courses", "list"]] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_lyceum"))
            .arg("--data-dir")
            .arg(dir.path())
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(!stderr.contains("Broken pipe"), "{args:?}: {stderr}");
    }
}

#[test]
fn a_model_path_that_does_not_exist_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let run = lyceum(
        dir.path(),
        &["--model", "/nowhere/model.gguf", "chat", "hi"],
        &[],
    );
    run.assert_fails(1, "model file not found: /nowhere/model.gguf");
    run.assert_fails(1, "lyceum model install");
}

#[test]
fn a_file_that_is_not_gguf_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("fake.gguf");
    std::fs::write(&fake, "this is a text file").unwrap();
    let run = lyceum(
        dir.path(),
        &["--model", fake.to_str().unwrap(), "chat", "hi"],
        &[],
    );
    run.assert_fails(1, "not a GGUF model file");
}

#[test]
fn a_schema_that_is_not_json_schema_is_refused_before_the_model_loads() {
    let dir = tempfile::tempdir().unwrap();
    let schema = dir.path().join("schema.json");
    std::fs::write(&schema, r#"{"type": "objekt"}"#).unwrap();
    let run = lyceum(
        dir.path(),
        &["chat", "hi", "--json-schema", schema.to_str().unwrap()],
        &[],
    );
    run.assert_fails(1, "not a valid JSON Schema");
    assert!(run.stderr.contains("schema.json"), "{}", run.stderr);

    std::fs::write(&schema, "{ not json").unwrap();
    let run = lyceum(
        dir.path(),
        &["chat", "hi", "--json-schema", schema.to_str().unwrap()],
        &[],
    );
    run.assert_fails(1, "is not JSON");
}

#[test]
fn zero_max_tokens_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let run = lyceum(dir.path(), &["chat", "hi", "--max-tokens", "0"], &[]);
    run.assert_fails(2, "--max-tokens");
}

#[test]
fn config_prints_the_effective_settings_with_secrets_redacted() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("lyceum.toml"),
        "[engine]\nkind = \"openai\"\n",
    )
    .unwrap();
    let run = lyceum(
        dir.path(),
        &["config"],
        &[("LYCEUM_ENGINE__OPENAI__API_KEY", "sk-live-123456")],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("kind = \"openai\""), "{}", run.stdout);
    assert!(
        run.stdout.contains("api_key = \"[redacted]\""),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("sk-live-123456"));

    let run = lyceum(
        dir.path(),
        &["config"],
        &[("LYCEUM_ENGINE__LOCAL__THREADS", "many")],
    );
    run.assert_fails(1, "LYCEUM_ENGINE__LOCAL__THREADS");
}

#[test]
fn chat_streams_an_answer_from_the_local_model() {
    let dir = tempfile::tempdir().unwrap();
    let model = test_model();
    let run = lyceum(
        dir.path(),
        &[
            "--model",
            model.to_str().unwrap(),
            "chat",
            "What is 2 + 2? Answer with the number.",
            "--max-tokens",
            "16",
        ],
        &[("LYCEUM_ENGINE__LOCAL__MAX_SEQUENCES", "1")],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains('4'), "{}", run.stdout);
    assert!(run.stderr.contains("completion tokens"), "{}", run.stderr);
}

#[test]
fn chat_with_a_schema_answers_json_that_follows_it() {
    let dir = tempfile::tempdir().unwrap();
    let schema = dir.path().join("schema.json");
    std::fs::write(
        &schema,
        r#"{"type":"object","properties":{"city":{"type":"string","maxLength":40}},"required":["city"],"additionalProperties":false}"#,
    )
    .unwrap();
    let model = test_model();
    let run = lyceum(
        dir.path(),
        &[
            "--model",
            model.to_str().unwrap(),
            "chat",
            "What is the capital of France?",
            "--json-schema",
            schema.to_str().unwrap(),
        ],
        &[("LYCEUM_ENGINE__LOCAL__MAX_SEQUENCES", "1")],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let answer: serde_json::Value = serde_json::from_str(run.stdout.trim()).unwrap();
    assert!(
        answer["city"].as_str().unwrap().contains("Paris"),
        "{answer}"
    );
}

#[test]
fn logs_are_one_json_object_a_line_when_a_collector_asks() {
    let dir = tempfile::tempdir().unwrap();
    let run = lyceum(
        dir.path(),
        &["--log-format", "json", "migrate"],
        &[("RUST_LOG", "debug")],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert!(!lines.is_empty(), "debug logging wrote nothing");
    for line in lines {
        let entry: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|error| panic!("not JSON ({error}): {line}"));
        assert!(entry["level"].is_string(), "{line}");
        assert!(entry["fields"].is_object(), "{line}");
    }
    let text = lyceum(dir.path(), &["migrate"], &[("RUST_LOG", "debug")]);
    assert!(
        text.stderr
            .lines()
            .any(|line| serde_json::from_str::<serde_json::Value>(line).is_err()),
        "the default is text for people:\n{}",
        text.stderr
    );
}

#[test]
fn model_list_shows_every_installable_model_and_install_refuses_an_unknown_name() {
    let dir = tempfile::tempdir().unwrap();
    let run = lyceum(dir.path(), &["model", "list"], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for name in ["qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b"] {
        assert!(
            run.stdout
                .contains(&format!("lyceum model install --model {name}")),
            "{}",
            run.stdout
        );
    }
    assert!(
        run.stdout.contains("* qwen2.5-coder-1.5b"),
        "{}",
        run.stdout
    );
    let chosen = lyceum(dir.path(), &["--model", "fast", "model", "list"], &[]);
    assert!(
        chosen.stdout.contains("* qwen2.5-coder-0.5b"),
        "{}",
        chosen.stdout
    );

    lyceum(dir.path(), &["model", "install", "--model", "llama-9000"], &[]).assert_fails(
        2,
        "llama-9000 is not a model Lyceum installs; name one of qwen2.5-coder-1.5b, qwen2.5-coder-0.5b (fast)",
    );
    assert!(!dir.path().join("models").exists(), "nothing is written");
}
