//! Several nodes on one PostgreSQL database, as a deployment runs them: web nodes that only serve
//! (`lyceum serve --no-worker`) and workers apart (`lyceum worker`), each its own process.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use lyceum_testkit::browser::Browser;
use lyceum_testkit::{Action, ScriptedModel};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::generate::scripted_env;
use crate::serve::{Served, spawn_serve_with};

/// `method path` with a JSON `body` over a real socket, as a program calls the API; the status code
/// and the body.
async fn http(address: &str, method: &str, path: &str, body: &str) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let status = response
        .get(9..12)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status in {response:?}"));
    let body = response
        .split_once("\r\n\r\n")
        .map_or("", |(_, body)| body)
        .to_owned();
    (status, body)
}

/// A response read as it streams, over a real socket.
struct Streamed {
    stream: tokio::net::TcpStream,
    read: String,
}

impl Streamed {
    /// `GET path`, not read yet.
    async fn get(address: &str, path: &str) -> Self {
        let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
        let request =
            format!("GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        Self {
            stream,
            read: String::new(),
        }
    }

    /// Reads until what was read contains `needle` (failing the test after 60 s or at the end of
    /// the response); everything read so far.
    async fn until(&mut self, needle: &str) -> &str {
        // One deadline for the whole wait: keep-alive comments arrive every 15 s.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        let mut buffer = [0u8; 4096];
        while !self.read.contains(needle) {
            let read = tokio::time::timeout_at(deadline, self.stream.read(&mut buffer))
                .await
                .unwrap_or_else(|_| panic!("no {needle:?} within 60 s in:\n{}", self.read))
                .unwrap();
            assert!(
                read > 0,
                "the response ended before {needle:?}:\n{}",
                self.read
            );
            self.read
                .push_str(&String::from_utf8_lossy(&buffer[..read]));
        }
        &self.read
    }
}

/// Drafts a course of one week of two units on node `web` (a worker must run) and confirms it;
/// its slug.
async fn course(web: &str, description: &str) -> String {
    let body = format!(r#"{{"description": "{description}", "weeks": 1, "units_per_week": 2}}"#);
    let (status, created) = http(web, "POST", "/api/drafts", &body).await;
    assert_eq!(status, 202, "{created}");
    let id = serde_json::from_str::<Value>(&created).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    Streamed::get(web, &format!("/api/drafts/{id}/live"))
        .await
        .until("event: done")
        .await;
    let (status, confirmed) = http(web, "POST", &format!("/api/drafts/{id}/confirm"), "").await;
    assert_eq!(status, 201, "{confirmed}");
    serde_json::from_str::<Value>(&confirmed).unwrap()["slug"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Starts `lyceum worker` with `env`; killed when the test ends.
fn spawn_worker(data_dir: &Path, env: &[(&str, String)]) -> Served {
    let child = Command::new(env!("CARGO_BIN_EXE_lyceum"))
        .arg("--data-dir")
        .arg(data_dir)
        .arg("worker")
        .envs(env.iter().map(|(name, value)| (*name, value.as_str())))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    Served::new(child)
}

/// A fresh PostgreSQL database, the scripted model, and two web nodes without workers, A and B, at
/// `a` and `b`; `None` when no PostgreSQL server is configured.
struct Deployment {
    database: lyceum_testkit::PostgresDatabase,
    model: ScriptedModel,
    /// What every node of it is started with.
    env: Vec<(&'static str, String)>,
    dir: tempfile::TempDir,
    web_a: Served,
    a: String,
    web_b: Served,
    b: String,
}

impl Deployment {
    async fn start() -> Option<Self> {
        let database = lyceum_testkit::postgres_database().await?;
        let model = ScriptedModel::start().await;
        let mut env = scripted_env(&model);
        env.push(("LYCEUM_DATABASE__URL", database.url.clone()));
        let dir = tempfile::tempdir().unwrap();
        let (web_a, a) = spawn_serve_with(dir.path(), &env, &["--no-worker"]).await;
        let (web_b, b) = spawn_serve_with(dir.path(), &env, &["--no-worker"]).await;
        Some(Self {
            database,
            model,
            env,
            dir,
            web_a,
            a,
            web_b,
            b,
        })
    }

    /// Stops both web nodes as a deployment would (SIGTERM) and drops the database.
    async fn stop(self) {
        self.web_a.terminate().await;
        self.web_b.terminate().await;
        self.database.drop_database().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_draft_started_on_one_web_node_survives_its_worker_and_is_confirmed_on_another() {
    let Some(nodes) = Deployment::start().await else {
        return;
    };

    // Node A starts the draft; the only worker takes it and is killed while the model writes.
    nodes.model.script("outline", Action::Hold);
    let (status, created) = http(
        &nodes.a,
        "POST",
        "/api/drafts",
        r#"{"description": "How tides rise and fall", "weeks": 2, "units_per_week": 2}"#,
    )
    .await;
    assert_eq!(status, 202, "{created}");
    let draft: Value = serde_json::from_str(&created).unwrap();
    let id = draft["id"].as_str().unwrap().to_owned();
    let first_worker = spawn_worker(nodes.dir.path(), &nodes.env);
    let held = tokio::time::timeout(Duration::from_secs(60), nodes.model.held())
        .await
        .expect("a worker takes the draft");
    assert!(held.starts_with("outline"), "{held}");
    first_worker.kill();
    nodes.model.release();

    // Another worker takes it over once the dead one's lease runs out; node B follows it live.
    let second_worker = spawn_worker(nodes.dir.path(), &nodes.env);
    let (status, live) = tokio::time::timeout(
        Duration::from_secs(60),
        http(&nodes.b, "GET", &format!("/api/drafts/{id}/live"), ""),
    )
    .await
    .expect("the draft is finished");
    assert_eq!(status, 200);
    assert!(live.contains("event: done"), "{live}");
    assert!(live.contains("Depth study 2.2"), "{live}");

    // Confirmed on B; confirming again on A gives the same course, which A serves.
    let confirm = format!("/api/drafts/{id}/confirm");
    let (status, confirmed) = http(&nodes.b, "POST", &confirm, "").await;
    assert_eq!(status, 201, "{confirmed}");
    let (status, again) = http(&nodes.a, "POST", &confirm, "").await;
    assert_eq!(status, 200, "{again}");
    let slug = serde_json::from_str::<Value>(&confirmed).unwrap()["slug"].clone();
    assert_eq!(serde_json::from_str::<Value>(&again).unwrap()["slug"], slug);
    let (status, page) = http(
        &nodes.a,
        "GET",
        &format!("/courses/{}", slug.as_str().unwrap()),
        "",
    )
    .await;
    assert_eq!(status, 200);
    assert!(page.contains("Depth study 2.2"), "{page}");

    second_worker.kill();
    nodes.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_unit_written_by_a_worker_grows_live_on_two_web_nodes_and_both_show_the_progress() {
    let Some(nodes) = Deployment::start().await else {
        return;
    };
    let worker = spawn_worker(nodes.dir.path(), &nodes.env);

    nodes.model.script("unit 1.1", Action::Hold);
    let slug = course(&nodes.a, "How tides rise and fall").await;
    let held = tokio::time::timeout(Duration::from_secs(60), nodes.model.held())
        .await
        .expect("the worker reaches unit 1.1");
    assert_eq!(held, "unit 1.1");

    // The worker has sent its first piece: viewers on both web nodes see it before it is done.
    let unit = format!("/courses/{slug}/weeks/1/units/1/live");
    let mut on_a = Streamed::get(&nodes.a, &unit).await;
    let mut on_b = Streamed::get(&nodes.b, &unit).await;
    for viewer in [&mut on_a, &mut on_b] {
        let so_far = viewer.until("This unit").await;
        assert!(!so_far.contains("event: done"), "{so_far}");
    }
    nodes.model.release();
    for viewer in [&mut on_a, &mut on_b] {
        viewer.until("event: done").await;
    }

    // Both nodes follow the course to its end, told by the worker's progress, not by a timer.
    for web in [&nodes.a, &nodes.b] {
        Streamed::get(web, &format!("/courses/{slug}/live"))
            .await
            .until("event: done")
            .await;
        let (status, page) = http(web, "GET", &format!("/courses/{slug}"), "").await;
        assert_eq!(status, 200);
        assert!(page.contains("2 of 2 units written"), "{page}");
    }

    worker.kill();
    nodes.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_unit_leaves_the_course_to_another_with_every_item_written_once() {
    let Some(nodes) = Deployment::start().await else {
        return;
    };

    nodes.model.script("unit 1.1", Action::Hold);
    let first_worker = spawn_worker(nodes.dir.path(), &nodes.env);
    let slug = course(&nodes.a, "How volcanoes erupt").await;
    let held = tokio::time::timeout(Duration::from_secs(60), nodes.model.held())
        .await
        .expect("the worker reaches unit 1.1");
    assert_eq!(held, "unit 1.1");
    // A second worker joins while the first writes unit 1.1, and the first dies mid-unit (SIGKILL,
    // no cleanup). Its call is never released: its client is dead.
    let second_worker = spawn_worker(nodes.dir.path(), &nodes.env);
    first_worker.kill();

    // The second worker takes the dead one's unit once its lease runs out and finishes the course;
    // both web nodes show it whole.
    Streamed::get(&nodes.b, &format!("/courses/{slug}/live"))
        .await
        .until("event: done")
        .await;
    for web in [&nodes.a, &nodes.b] {
        let (status, page) = http(web, "GET", &format!("/courses/{slug}"), "").await;
        assert_eq!(status, 200);
        assert!(page.contains("2 of 2 units written"), "{page}");
    }

    // A course is written once its units are; each unit's quiz follows it.
    for unit in ["Depth study 1.1", "Depth study 1.2"] {
        tokio::time::timeout(
            Duration::from_secs(60),
            nodes.model.answered(&format!("quiz {unit}")),
        )
        .await
        .unwrap_or_else(|_| panic!("the quiz of {unit} is written"));
    }

    // Every item was answered in full exactly once; only the killed call was asked again.
    let calls = nodes.model.calls();
    let mut keys: Vec<&str> = calls.iter().map(|call| call.key.as_str()).collect();
    keys.sort_unstable();
    keys.dedup();
    assert!(keys.contains(&"unit 1.2"), "{keys:?}");
    for key in keys {
        let (total, completed) = nodes.model.count(key);
        assert_eq!(completed, 1, "{key} was answered {completed} times");
        let expected = if key == "unit 1.1" { 2 } else { 1 };
        assert_eq!(total, expected, "{key} was asked {total} times");
    }

    second_worker.kill();
    nodes.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_in_chromium_starts_a_course_on_one_web_node_and_finishes_it_on_the_other() {
    let Some(nodes) = Deployment::start().await else {
        return;
    };
    let worker = spawn_worker(nodes.dir.path(), &nodes.env);
    nodes.model.script("outline week 2", Action::Hold);
    nodes.model.script("unit 1.1", Action::Hold);
    let browser = Browser::start(1280, 900).await;

    // The form on node A; the draft it starts is followed on node B as it is written.
    browser.goto(&format!("http://{}", nodes.a)).await;
    browser
        .fill("#description", "How glaciers shape valleys")
        .await;
    browser.fill("#weeks", "2").await;
    browser.fill("#units_per_week", "2").await;
    browser.follow("form.new-course button.primary").await;
    let draft_on_a = browser.url().await;
    assert!(draft_on_a.contains("/drafts/"), "{draft_on_a}");
    assert_eq!(nodes.model.held().await, "outline week 2");
    browser.goto(&draft_on_a.replace(&nodes.a, &nodes.b)).await;
    browser
        .wait_for("document.getElementById('outline').textContent.includes('Depth study 1.2')")
        .await;
    assert!(!browser.text("#outline").await.contains("Depth study 2.1"));
    nodes.model.release();

    // Edited and confirmed on B.
    browser
        .wait_for("document.querySelector('form.edit-outline')")
        .await;
    browser
        .fill("#unit-1-2", "Moraines and what they leave")
        .await;
    browser.follow("form.edit-outline button.primary").await;
    let course_url = browser.url().await;
    assert!(
        course_url.starts_with(&format!("http://{}/courses/", nodes.b)),
        "{course_url}"
    );

    // Unit 1.1, written by the worker, grows live on B's page, then shows whole.
    assert_eq!(nodes.model.held().await, "unit 1.1");
    browser.goto(&format!("{course_url}/weeks/1/units/1")).await;
    browser
        .wait_for(
            "document.querySelector('#article[data-live]')?.textContent.includes('This unit')",
        )
        .await;
    assert!(!browser.text("#article").await.contains("Key takeaways"));
    nodes.model.release();
    browser
        .wait_for("!document.querySelector('[data-live]') && document.querySelector('#article h2')")
        .await;
    assert!(browser.text("#article").await.contains("Key takeaways"));

    // Node A serves the same course, with the person's rename.
    browser
        .goto(&format!(
            "{}/weeks/1/units/2",
            course_url.replace(&nodes.b, &nodes.a)
        ))
        .await;
    assert!(
        browser
            .text("h1")
            .await
            .contains("Moraines and what they leave")
    );

    browser.close().await;
    worker.kill();
    nodes.stop().await;
}
