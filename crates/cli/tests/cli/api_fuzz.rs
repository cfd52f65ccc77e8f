//! The JSON API fuzzed from its own OpenAPI document by schemathesis, against `lyceum serve` on the
//! scripted engine: whatever a client sends, no response is a 5xx and every response is what the
//! document says it is (status, content type, headers, body schema).

use std::process::Command;

use lyceum_testkit::ScriptedModel;

use crate::generate::{generate_tides, scripted_env};
use crate::serve::spawn_serve;

/// schemathesis's `st`, which `./scripts/setup --tests` installs; `None` outside CI when it is not.
fn schemathesis() -> Option<std::ffi::OsString> {
    let st =
        std::env::var_os("TEST_SCHEMATHESIS").filter(|path| std::path::Path::new(path).exists());
    if st.is_none() {
        assert!(
            std::env::var("CI").is_err(),
            "TEST_SCHEMATHESIS must name schemathesis's `st` in CI (./scripts/setup --tests)"
        );
        eprintln!("schemathesis is not installed; skipping (./scripts/setup --tests)");
    }
    st
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_no_server_error_and_no_response_the_document_does_not_describe() {
    let Some(st) = schemathesis() else { return };
    let dir = tempfile::tempdir().unwrap();
    let model = ScriptedModel::start().await;
    let env = scripted_env(&model);

    // A written course, so that the course, week and unit operations find something real through
    // the catalog's links.
    generate_tides(dir.path(), &env);

    let (served, address) = spawn_serve(dir.path(), &env).await;
    let report = dir.path().join("schemathesis.xml");
    let run = tokio::task::spawn_blocking({
        let report = report.clone();
        let folder = dir.path().to_owned();
        move || {
            Command::new(st)
                .arg("run")
                .arg(format!("http://{address}/api/openapi.json"))
                .args(["--checks", "all", "--max-examples", "40", "--seed", "1"])
                // The rules of a course go beyond what JSON Schema can say (titles distinct and on
                // one line, a language Lyceum writes in): such requests are answered 422 with what
                // to change, as documented, not accepted.
                .args(["--exclude-checks", "positive_data_acceptance"])
                // One worker: Python 3.11's `ast` can fail spuriously when threads parse at once
                // (CPython issue 106905), and schemathesis parses while it generates.
                .args(["--workers", "1", "--request-timeout", "10", "--no-color"])
                .arg("--report")
                .arg("junit")
                .arg("--report-junit-path")
                .arg(&report)
                // No example database kept between runs: each run follows from the seed alone.
                .args(["--generation-database", "none"])
                .current_dir(folder)
                .output()
                .unwrap()
        }
    })
    .await
    .unwrap();
    drop(served);
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "schemathesis found problems:\n{stdout}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    // It ran every operation the document lists, not an empty selection.
    assert!(!stdout.contains("No operations"), "{stdout}");
    let junit = std::fs::read_to_string(&report).unwrap();
    assert!(junit.matches("<testcase").count() >= 9, "{junit}");
}
