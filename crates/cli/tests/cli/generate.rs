//! `lyceum generate`, `courses`, `export` and `worker` as a person runs them: bad input, a crash in the
//! middle of a course, and a real course from the default local model.

use std::process::{Command, Stdio};
use std::time::Duration;

use lyceum_course::Quiz;
use lyceum_testkit::{Action, ScriptedModel};

use crate::{lyceum, test_model};

#[test]
fn bad_course_input_is_refused_with_what_to_change_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&[&str], &str); 4] = [
        (
            &["generate", "abc"],
            "description: is 3 characters long; describe the topic in at least 10 characters",
        ),
        (
            &["generate", "Roman history", "--weeks", "40"],
            "weeks: must be between 1 and 26, not 40",
        ),
        (
            &["generate", "Roman history", "--language", "klingon"],
            "language: \"klingon\" is not a language",
        ),
        (
            &["generate", "Roman history", "--level", "expert"],
            "level: must be beginner, intermediate or advanced",
        ),
    ];
    for (args, message) in cases {
        lyceum(dir.path(), args, &[]).assert_fails(2, message);
    }
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "nothing may be written: {left:?}");
}

/// The course the crash tests write: 2 weeks of 3 units.
const GENERATE: [&str; 6] = [
    "generate",
    "How bridges carry their loads",
    "--weeks",
    "2",
    "--units-per-week",
    "3",
];

/// `lyceum generate` of [`GENERATE`] as a child process, its output discarded, to be killed.
fn spawn_generate<'a>(
    dir: &std::path::Path,
    env: impl Iterator<Item = (&'a str, &'a str)>,
) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_lyceum"))
        .arg("--data-dir")
        .arg(dir)
        .args(GENERATE)
        .current_dir(dir)
        .envs(env)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Writes a 1 × 2 course on "How tides rise and fall" into `data_dir` with the scripted engine of
/// `env`, as `lyceum generate` does: a real course, every unit and quiz stored, for a site to serve.
pub(crate) fn generate_tides(data_dir: &std::path::Path, env: &[(&str, String)]) {
    let generated = Command::new(env!("CARGO_BIN_EXE_lyceum"))
        .arg("--data-dir")
        .arg(data_dir)
        .args([
            "generate",
            "How tides rise and fall",
            "--weeks",
            "1",
            "--units-per-week",
            "2",
        ])
        .envs(env.iter().map(|(name, value)| (*name, value.as_str())))
        .output()
        .unwrap();
    assert!(
        generated.status.success(),
        "{}",
        String::from_utf8_lossy(&generated.stderr)
    );
}

pub(crate) fn scripted_env(model: &ScriptedModel) -> Vec<(&'static str, String)> {
    vec![
        ("LYCEUM_ENGINE__KIND", "openai".into()),
        ("LYCEUM_ENGINE__OPENAI__BASE_URL", model.base_url.clone()),
        ("LYCEUM_ENGINE__OPENAI__MAX_RETRIES", "0".into()),
        // One job at a time, so the killed process has exactly one item in flight.
        ("LYCEUM_WORKER__CONCURRENCY", "1".into()),
        // A short lease, so the restarted worker takes over the dead one's job quickly; not shorter,
        // or a loaded machine delays a renewal past it and the job is taken from a live worker.
        ("LYCEUM_WORKER__LEASE_SECS", "2".into()),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_course_killed_midway_finishes_after_a_restart_with_every_item_written_once() {
    let dir = tempfile::tempdir().unwrap();
    let model = ScriptedModel::start().await;
    model.script("unit 1.3", Action::Hold);
    let env = scripted_env(&model);

    let mut child = spawn_generate(
        dir.path(),
        env.iter().map(|(name, value)| (*name, value.as_str())),
    );
    let held = tokio::time::timeout(Duration::from_secs(120), model.held())
        .await
        .expect("the child reaches unit 1.3");
    assert_eq!(held, "unit 1.3");
    child.kill().unwrap(); // SIGKILL: no cleanup of any kind.
    child.wait().unwrap();
    // The held call is never released: its client is dead, and releasing it would let the server
    // push the rest of the answer into the closed socket's buffer and count it as delivered.

    let env: Vec<(&str, &str)> = env
        .iter()
        .map(|(name, value)| (*name, value.as_str()))
        .collect();
    let run = tokio::task::spawn_blocking({
        let dir = dir.path().to_path_buf();
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(n, v)| ((*n).into(), (*v).into()))
            .collect();
        move || {
            let env: Vec<(&str, &str)> =
                env.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
            lyceum(&dir, &["worker", "--drain"], &env)
        }
    })
    .await
    .unwrap();
    assert_eq!(run.code, 0, "{}", run.stderr);

    // Every item was answered in full exactly once; only the killed call was ever repeated.
    let calls = model.calls();
    let mut keys: Vec<&str> = calls.iter().map(|call| call.key.as_str()).collect();
    keys.sort_unstable();
    keys.dedup();
    assert_eq!(keys.len(), 3 + 2 + 6 + 6, "{keys:?}");
    for key in keys {
        let (total, completed) = model.count(key);
        assert_eq!(completed, 1, "{key} was answered {completed} times");
        let expected_total = if key == "unit 1.3" { 2 } else { 1 };
        assert_eq!(total, expected_total, "{key} was asked {total} times");
    }

    let list = lyceum(dir.path(), &["courses", "list"], &env);
    assert_eq!(list.code, 0, "{}", list.stderr);
    assert!(
        list.stdout
            .contains("a-course-on-how-bridges-carry-their-loads"),
        "{}",
        list.stdout
    );
    assert!(list.stdout.contains("15/15"), "{}", list.stdout);
    assert!(!list.stdout.contains("(featured)"), "{}", list.stdout);
    let slug = "a-course-on-how-bridges-carry-their-loads";
    let feature = lyceum(dir.path(), &["courses", "feature", slug], &env);
    assert_eq!(feature.code, 0, "{}", feature.stderr);
    assert!(feature.stdout.contains("is featured"), "{}", feature.stdout);
    let list = lyceum(dir.path(), &["courses", "list"], &env);
    assert!(list.stdout.contains("(featured)"), "{}", list.stdout);
    let off = lyceum(dir.path(), &["courses", "feature", slug, "--off"], &env);
    assert!(off.stdout.contains("no longer featured"), "{}", off.stdout);
    lyceum(dir.path(), &["courses", "feature", "no-such-course"], &env)
        .assert_fails(2, "there is no course \"no-such-course\"");
    let out = dir.path().join("export");
    let export = lyceum(
        dir.path(),
        &[
            "export",
            "a-course-on-how-bridges-carry-their-loads",
            "--format",
            "markdown",
            "--out",
            out.to_str().unwrap(),
        ],
        &env,
    );
    assert_eq!(export.code, 0, "{}", export.stderr);
    let index = std::fs::read_to_string(out.join("index.md")).unwrap();
    assert!(index.contains("### Week 2: Stage 2 foundations"), "{index}");
    let units = std::fs::read_dir(out.join("units")).unwrap().count();
    let quizzes = std::fs::read_dir(out.join("quizzes")).unwrap().count();
    assert_eq!((units, quizzes), (6, 6));
    lyceum(
        dir.path(),
        &["export", "no-such-course", "--out", "x"],
        &env,
    )
    .assert_fails(2, "there is no course \"no-such-course\"");
}

#[test]
fn generate_with_the_local_model_writes_a_valid_one_week_course() {
    let dir = tempfile::tempdir().unwrap();
    let model = test_model();
    let run = lyceum(
        dir.path(),
        &[
            "--model",
            model.to_str().unwrap(),
            "generate",
            "How the water cycle shapes the weather",
            "--weeks",
            "1",
            "--units-per-week",
            "2",
            "--json",
        ],
        &[
            ("LYCEUM_WORKER__CONCURRENCY", "1"),
            ("LYCEUM_ENGINE__LOCAL__MAX_SEQUENCES", "1"),
            // Writing again is the same request with a new seed (checked against the scripted
            // server, and by `lyceum bench quality` with this model); here it would double the time.
            ("LYCEUM_WORKER__REWRITES", "0"),
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_one_week_written(&run.stdout, 2);
    // The outline streamed to stderr title by title before the course was written.
    assert!(run.stderr.contains("Week 1: "), "{}", run.stderr);
}

/// `generate --json` printed a whole course of one week of `units` units, each with a valid quiz.
fn assert_one_week_written(stdout: &str, units: usize) {
    let course: serde_json::Value = serde_json::from_str(stdout).unwrap();
    assert!(!course["title"].as_str().unwrap().is_empty());
    let weeks = course["weeks"].as_array().unwrap();
    assert_eq!(weeks.len(), 1);
    let week = &weeks[0];
    assert!(week["overview"].as_str().unwrap().len() > 40, "{week}");
    assert_eq!(week["units"].as_array().unwrap().len(), units);
    for unit in week["units"].as_array().unwrap() {
        assert_eq!(unit["status"], "ready");
        assert!(unit["body"].as_str().unwrap().len() > 200, "{unit}");
        let quiz: Quiz = serde_json::from_value(unit["quiz"].clone()).unwrap();
        quiz.validate().unwrap();
    }
}

/// llama-cpp-python's OpenAI-compatible server on the tests' model, stopped when dropped.
struct LlamaServer {
    child: std::process::Child,
    base_url: String,
}

impl LlamaServer {
    /// Starts it and returns once it listens; `None` when it is not installed (outside CI).
    fn start() -> Option<Self> {
        let python = std::env::var_os("TEST_LLAMA_SERVER_PYTHON")
            .filter(|path| std::path::Path::new(path).exists());
        let Some(python) = python else {
            assert!(
                std::env::var("CI").is_err(),
                "TEST_LLAMA_SERVER_PYTHON must name llama-cpp-python's Python in CI (./scripts/setup --tests)"
            );
            eprintln!(
                "llama-cpp-python's server is not installed; skipping (./scripts/setup --tests)"
            );
            return None;
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut child = Command::new(python)
            .args([
                "-m",
                "llama_cpp.server",
                "--host",
                "127.0.0.1",
                "--n_ctx",
                "4096",
            ])
            .arg("--port")
            .arg(port.to_string())
            .arg("--model")
            .arg(test_model())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Uvicorn says when it listens; a server that dies first ends the output instead.
        let stderr = child.stderr.take().unwrap();
        let mut lines = std::io::BufRead::lines(std::io::BufReader::new(stderr));
        let mut said = Vec::new();
        loop {
            match lines.next() {
                Some(Ok(line)) if line.contains("Uvicorn running on") => break,
                Some(Ok(line)) => said.push(line),
                _ => panic!("llama-cpp-python's server stopped: {}", said.join("\n")),
            }
        }
        // Keep reading its log so that it never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Some(Self {
            child,
            base_url: format!("http://127.0.0.1:{port}/v1"),
        })
    }
}

impl Drop for LlamaServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_course_is_written_through_llama_cpp_python_s_openai_compatible_server() {
    let Some(server) = LlamaServer::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let run = lyceum(
        dir.path(),
        &[
            "generate",
            "How volcanoes form and erupt",
            "--weeks",
            "1",
            "--units-per-week",
            "1",
            "--json",
        ],
        &[
            ("LYCEUM_ENGINE__KIND", "openai"),
            ("LYCEUM_ENGINE__OPENAI__BASE_URL", &server.base_url),
            ("LYCEUM_ENGINE__OPENAI__MODEL", "qwen2.5-coder-0.5b"),
            ("LYCEUM_WORKER__CONCURRENCY", "1"),
            // Interoperability is the point here; writing again is the same request with a new
            // seed, checked against the scripted server. One unit keeps this test's 10 minutes down.
            ("LYCEUM_WORKER__REWRITES", "0"),
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    // It answers `json_schema` with a 500 that names the format; Lyceum switches once, and says so.
    assert_eq!(
        run.stderr
            .matches("does not take `response_format: json_schema`")
            .count(),
        1,
        "{}",
        run.stderr
    );
    assert_one_week_written(&run.stdout, 1);
}

/// The model calls of a 2 × 3 course, in the order they come: the outline's three steps, then each
/// week's overview and units, with each unit's quiz after it.
const CALLS: [&str; 17] = [
    "outline",
    "outline",
    "outline",
    "overview 1",
    "unit 1.1",
    "unit 1.2",
    "unit 1.3",
    "overview 2",
    "unit 2.1",
    "unit 2.2",
    "unit 2.3",
    "quiz",
    "quiz",
    "quiz",
    "quiz",
    "quiz",
    "quiz",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_at_twenty_random_points_every_course_ends_whole_with_each_item_once() {
    // A fixed seed: a failure names its run, and the run can be repeated.
    let mut seed: u64 = 0x5eed_1ce0;
    for run in 0..20 {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let point = CALLS[(seed >> 33) as usize % CALLS.len()];
        // The nth call with that key, so that later quizzes and outline steps are chosen too.
        let nth = (seed >> 20) as usize % CALLS.iter().filter(|key| **key == point).count();
        let dir = tempfile::tempdir().unwrap();
        let model = ScriptedModel::start().await;
        for _ in 0..nth {
            model.script(point, Action::AsUsual);
        }
        model.script(point, Action::Hold);
        let env: Vec<(String, String)> = scripted_env(&model)
            .into_iter()
            .map(|(name, value)| (name.to_owned(), value))
            .filter(|(name, _)| name != "LYCEUM_WORKER__CONCURRENCY")
            .collect();
        let mut child = spawn_generate(
            dir.path(),
            env.iter()
                .map(|(name, value)| (name.as_str(), value.as_str())),
        );
        let held = tokio::time::timeout(Duration::from_secs(120), model.held())
            .await
            .unwrap_or_else(|_| panic!("run {run}: the child reaches {point} #{nth}"));
        child.kill().unwrap(); // SIGKILL, mid-answer, with other items possibly in flight.
        child.wait().unwrap();

        // Restart: a course stored before the kill is finished by a worker; a draft is lost with
        // the process (drafts are not stored yet) and is drafted again.
        let finish = tokio::task::spawn_blocking({
            let dir = dir.path().to_path_buf();
            let env = env.clone();
            move || {
                let env: Vec<(&str, &str)> =
                    env.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
                let drained = lyceum(&dir, &["worker", "--drain"], &env);
                assert_eq!(drained.code, 0, "{}", drained.stderr);
                let listed = lyceum(&dir, &["courses", "list"], &env);
                if listed.stdout.contains("a-course-on") {
                    listed
                } else {
                    let again = lyceum(&dir, &GENERATE, &env);
                    assert_eq!(again.code, 0, "{}", again.stderr);
                    lyceum(&dir, &["courses", "list"], &env)
                }
            }
        })
        .await
        .unwrap();
        assert!(
            finish.stdout.contains("15/15"),
            "run {run}, killed in {held} #{nth}: {}",
            finish.stdout
        );
        assert_eq!(
            finish.stdout.matches("a-course-on").count(),
            1,
            "run {run}: one course: {}",
            finish.stdout
        );

        // Each item is stored once: the text of a unit is its one answer, its quiz is one quiz, and
        // only what was in flight at the kill was asked for again.
        let store = lyceum_store::Store::open(&format!(
            "sqlite://{}",
            dir.path().join("lyceum.db").display()
        ))
        .await
        .unwrap();
        let course = store.list_courses(1, 0).await.unwrap().remove(0).course;
        for unit in store.units(course.id).await.unwrap() {
            let body = unit.body.unwrap();
            assert_eq!(
                body.matches("explains its subject from the ground up")
                    .count(),
                1,
                "run {run}: {body}"
            );
        }
        assert_eq!(store.quizzes(course.id).await.unwrap().len(), 6);
        assert_eq!(store.job_count().await.unwrap(), 0, "run {run}");
        for call in model
            .calls()
            .iter()
            .filter(|call| call.key.starts_with("unit"))
        {
            let (total, completed) = model.count(&call.key);
            assert!(
                completed >= 1 && total <= 2,
                "run {run}: {} asked {total} times",
                call.key
            );
        }
        store.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_course_made_before_subjects_gets_one_from_the_model_and_shows_it() {
    let dir = tempfile::tempdir().unwrap();
    let model = ScriptedModel::start().await;
    let env = scripted_env(&model);
    generate_tides(dir.path(), &env);
    let env: Vec<(&str, &str)> = env
        .iter()
        .map(|(name, value)| (*name, value.as_str()))
        .collect();
    let slug = "a-course-on-how-tides-rise-and-fall";
    let first = lyceum_course::CATEGORIES[0];
    let shown = lyceum(dir.path(), &["courses", "show", slug], &env);
    assert!(
        shown.stdout.contains(&format!("Subject: {}", first.name)),
        "the outline came with the model's subject: {}",
        shown.stdout
    );

    // As a course made before subjects: none, until categorized.
    let url = format!("sqlite://{}", dir.path().join("lyceum.db").display());
    let store = lyceum_store::Store::open(&url).await.unwrap();
    let course = store.course(slug).await.unwrap();
    store.set_category(course.id, None).await.unwrap();
    store.close().await;
    let shown = lyceum(dir.path(), &["courses", "show", slug], &env);
    assert!(
        shown.stdout.contains("Subject: none yet"),
        "{}",
        shown.stdout
    );
    let all = lyceum(dir.path(), &["courses", "categorize", "--all"], &env);
    assert_eq!(all.code, 0, "{}", all.stderr);
    assert!(
        all.stdout.contains(slug) && all.stdout.contains(first.name),
        "{}",
        all.stdout
    );
    assert!(
        model.calls().iter().any(|call| call.key == "category"),
        "the model was asked"
    );
    let again = lyceum(dir.path(), &["courses", "categorize", "--all"], &env);
    assert!(
        again.stdout.contains("Every course has a category."),
        "{}",
        again.stdout
    );
    let one = lyceum(dir.path(), &["courses", "categorize", slug], &env);
    assert_eq!(one.code, 0, "{}", one.stderr);
    let missing = lyceum(
        dir.path(),
        &["courses", "categorize", "no-such-course"],
        &env,
    );
    assert_ne!(missing.code, 0);
    assert!(
        missing.stderr.contains("courses list"),
        "{}",
        missing.stderr
    );
    let neither = lyceum(dir.path(), &["courses", "categorize"], &env);
    assert_ne!(neither.code, 0, "a slug or --all");
}
