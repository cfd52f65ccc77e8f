//! `lyceum serve` as an operator runs it: it serves pages while the worker writes, and SIGTERM stops it
//! cleanly, handing the job it was working on back to the queue.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use lyceum_app::{Lyceum, Settings};
use lyceum_course::{CourseRequest, Description, UnitsPerWeek, Weeks};
use lyceum_testkit::{Action, ScriptedModel};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::generate::scripted_env;

/// `GET path` over a real socket; the whole response.
async fn http_get(address: &str, path: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream
        .write_all(
            format!("GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        )
        .await
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    response
}

/// Starts `lyceum serve` on a free loopback port with `env`; the child and its `host:port`.
pub(crate) async fn spawn_serve(data_dir: &Path, env: &[(&str, String)]) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_lyceum"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(["serve", "--bind", "127.0.0.1:0"])
        .envs(env.iter().map(|(name, value)| (*name, value.as_str())))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        line
    })
    .await
    .unwrap();
    let address = line
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_owned();
    (child, address)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_shows_a_course_while_writing_it_and_sigterm_hands_the_running_job_back() {
    let dir = tempfile::tempdir().unwrap();
    let model = ScriptedModel::start().await;
    let mut env = scripted_env(&model);
    // A long lease: only a release, not an expiry, can make the job claimable again at once.
    env.retain(|(name, _)| *name != "LYCEUM_WORKER__LEASE_SECS");

    // A course confirmed but not written, as the web's "confirm" leaves it.
    let app = Lyceum::open(model.settings(dir.path())).await.unwrap();
    let mut request =
        CourseRequest::new(Description::parse("How bridges carry their loads").unwrap());
    request.weeks = Weeks::new(1).unwrap();
    request.units_per_week = UnitsPerWeek::new(2).unwrap();
    let draft = app.draft_outline(&request, |_| {}).await.unwrap();
    let course = app
        .confirm_course(&request, draft.outline, &draft.stats)
        .await
        .unwrap();
    drop(app);

    model.script("overview 1", Action::Hold);
    let (mut child, address) = spawn_serve(dir.path(), &env).await;

    let held = tokio::time::timeout(Duration::from_secs(60), model.held())
        .await
        .expect("the worker starts on the course");
    assert_eq!(held, "overview 1");
    let page = http_get(&address, &format!("/courses/{}", course.slug)).await;
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    assert!(page.contains("0 of 2 units written"), "{page}");

    let pid = child.id().to_string();
    let status = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(status.success());
    let exit = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    assert!(exit.success(), "lyceum serve exited with {exit}");

    // The overview's job was handed back, not left leased for a minute: the next claim gets it again,
    // and the interrupted claim does not count as an attempt.
    let store = lyceum_app::open_store(&Settings {
        data_dir: dir.path().to_path_buf(),
        ..Settings::default()
    })
    .await
    .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let job = store
        .claim("test", Duration::from_secs(60), now)
        .await
        .unwrap()
        .expect("jobs are left");
    let module = store.modules(course.id).await.unwrap()[0].id;
    let overview = store
        .generation_of(lyceum_store::ItemKind::Overview, module)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(job.payload, overview.id.to_string(), "{job:?}");
    assert_eq!(job.attempts, 1, "{job:?}");
}
