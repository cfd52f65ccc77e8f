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

/// A `lyceum serve` child, killed when the test ends unless the test stopped it (passed or not: a
/// failed test must not leave a server running).
pub(crate) struct Served(Option<Child>);

impl Served {
    /// Holds `child`.
    pub(crate) fn new(child: Child) -> Self {
        Self(Some(child))
    }

    /// Kills it outright (SIGKILL), as a machine that dies does, and waits until it is gone.
    pub(crate) fn kill(mut self) {
        self.kill_now();
    }

    fn kill_now(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Its process id.
    pub(crate) fn id(&self) -> u32 {
        self.0.as_ref().map_or(0, Child::id)
    }

    /// Stops it as an operator does (SIGTERM) and waits until it has; it must exit cleanly.
    pub(crate) async fn terminate(mut self) {
        let mut child = self.0.take().expect("the child is held until now");
        let status = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let exit = tokio::task::spawn_blocking(move || child.wait().unwrap())
            .await
            .unwrap();
        assert!(exit.success(), "lyceum serve exited with {exit}");
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        self.kill_now();
    }
}

/// Starts `lyceum serve` on a free loopback port with `env`; the child and its `host:port`.
pub(crate) async fn spawn_serve(data_dir: &Path, env: &[(&str, String)]) -> (Served, String) {
    spawn_serve_with(data_dir, env, &[]).await
}

/// The same with more arguments (`--no-worker`).
pub(crate) async fn spawn_serve_with(
    data_dir: &Path,
    env: &[(&str, String)],
    args: &[&str],
) -> (Served, String) {
    spawn_serve_logging(data_dir, env, args, Stdio::null()).await
}

/// The same, its log written to `log`.
pub(crate) async fn spawn_serve_logging(
    data_dir: &Path,
    env: &[(&str, String)],
    args: &[&str],
    log: impl Into<Stdio>,
) -> (Served, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_lyceum"));
    command
        .arg("--data-dir")
        .arg(data_dir)
        .args(["serve", "--bind", "127.0.0.1:0"])
        .args(args)
        .envs(env.iter().map(|(name, value)| (*name, value.as_str())))
        .stderr(log);
    serve_from(command).await
}

/// Starts `command`, a `lyceum serve` on port 0, and reads the address it prints.
async fn serve_from(mut command: Command) -> (Served, String) {
    let mut child = command.stdout(Stdio::piped()).spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let served = Served::new(child);
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
    (served, address)
}

/// A one-week course of `units` units on `description`, confirmed but not written, as the web's
/// "confirm" leaves it.
async fn confirmed_course(
    model: &ScriptedModel,
    data_dir: &Path,
    description: &str,
    units: u32,
) -> lyceum_store::Course {
    let app = Lyceum::open(model.settings(data_dir)).await.unwrap();
    let mut request = CourseRequest::new(Description::parse(description).unwrap());
    request.weeks = Weeks::new(1).unwrap();
    request.units_per_week = UnitsPerWeek::new(units).unwrap();
    let draft = app.draft_outline(&request, |_| {}).await.unwrap();
    app.confirm_course(&request, draft.outline, &draft.stats)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_shows_a_course_while_writing_it_and_sigterm_hands_the_running_job_back() {
    let dir = tempfile::tempdir().unwrap();
    let model = ScriptedModel::start().await;
    let mut env = scripted_env(&model);
    // A long lease: only a release, not an expiry, can make the job claimable again at once.
    env.retain(|(name, _)| *name != "LYCEUM_WORKER__LEASE_SECS");

    let course = confirmed_course(&model, dir.path(), "How bridges carry their loads", 2).await;

    model.script("overview 1", Action::Hold);
    let (served, address) = spawn_serve(dir.path(), &env).await;

    let held = tokio::time::timeout(Duration::from_secs(60), model.held())
        .await
        .expect("the worker starts on the course");
    assert_eq!(held, "overview 1");
    let page = http_get(&address, &format!("/courses/{}", course.slug)).await;
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    assert!(page.contains("0 of 2 units written"), "{page}");

    served.terminate().await;

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
    assert_eq!(
        job.task,
        lyceum_store::Task::Generate(overview.id),
        "{job:?}"
    );
    assert_eq!(job.attempts, 1, "{job:?}");
}

/// Asks `/readyz` until its status line starts with `status` (it changes on its own, as the worker
/// meets or gets past an error); panics after a minute.
async fn until_readyz(address: &str, status: &str) -> String {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let response = http_get(address, "/readyz").await;
        if response.starts_with(status) {
            return response;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "/readyz never answered {status}; last:\n{response}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_pauses_the_worker_visibly_and_the_course_finishes_once_there_is_room() {
    let dir = tempfile::tempdir().unwrap();
    let model = ScriptedModel::start().await;
    let mut env = scripted_env(&model);
    env.push(("LYCEUM_WORKER__RETRY_BACKOFF_SECS", "0".into()));
    let course = confirmed_course(&model, dir.path(), "How glaciers shape valleys", 3).await;

    // No file of the server may grow past 64 KiB: SQLite's write-ahead log fills within a few
    // commits, as on a full disk. SIGXFSZ is ignored so that writes fail instead of killing it.
    let mut command = Command::new("bash");
    command
        .args(["-c", "trap '' XFSZ; ulimit -S -f 64; exec \"$0\" \"$@\""])
        .arg(env!("CARGO_BIN_EXE_lyceum"))
        .arg("--data-dir")
        .arg(dir.path())
        .args(["serve", "--bind", "127.0.0.1:0"])
        .envs(env.iter().map(|(name, value)| (*name, value.as_str())))
        .stderr(Stdio::null());
    let (served, address) = serve_from(command).await;

    let unready = until_readyz(&address, "HTTP/1.1 503").await;
    assert!(unready.contains("cannot reach the job queue"), "{unready}");
    let page = http_get(&address, &format!("/courses/{}", course.slug)).await;
    assert!(
        page.starts_with("HTTP/1.1 200"),
        "pages are still served:\n{page}"
    );

    // Room again: the worker carries on by itself and writes the whole course.
    let pid = served.id().to_string();
    let status = Command::new("prlimit")
        .args(["--pid", &pid, "--fsize=unlimited"])
        .status()
        .unwrap();
    assert!(status.success());
    until_readyz(&address, "HTTP/1.1 200").await;
    let live = tokio::time::timeout(
        Duration::from_secs(120),
        http_get(&address, &format!("/courses/{}/live", course.slug)),
    )
    .await
    .expect("the course is finished");
    assert!(live.contains("event: done"), "{live}");
    // Quizzes may still be queued when the units are done: stop the server (it hands back what it
    // was writing) and let a draining worker finish them.
    served.terminate().await;
    let env: Vec<(String, String)> = env
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value))
        .collect();
    let data_dir = dir.path().to_path_buf();
    let drain = tokio::task::spawn_blocking(move || {
        let env: Vec<(&str, &str)> = env
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
            .collect();
        crate::lyceum(&data_dir, &["worker", "--drain"], &env)
    })
    .await
    .unwrap();
    assert_eq!(drain.code, 0, "{}", drain.stderr);

    // Every item is written, none failed, and no job is left.
    let store = lyceum_app::open_store(&Settings {
        data_dir: dir.path().to_path_buf(),
        ..Settings::default()
    })
    .await
    .unwrap();
    let course_id = course.id;
    let items = store.generations(course_id).await.unwrap();
    assert_eq!(
        items.len(),
        1 + 1 + 3 + 3,
        "the outline, an overview, three units, three quizzes: {items:?}"
    );
    for item in &items {
        assert_eq!(item.status, lyceum_store::Status::Ready, "{item:?}");
    }
    assert_eq!(store.job_count().await.unwrap(), 0);
}
