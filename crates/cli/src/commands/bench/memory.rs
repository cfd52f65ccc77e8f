//! `lyceum bench memory`: the memory of `lyceum serve` while a crawler-like client opens every unit
//! page of many queued courses and holds a thousand live streams, and after it lets them go.
//!
//! It stores the courses in a fresh SQLite database, starts `lyceum serve --no-worker` on it as a
//! process of its own (so every unit stays queued and every stream stays open, and the crawler's own
//! memory is not counted), and reads the server's resident set from `/proc/PID/statm`. No model is
//! loaded: nothing here generates.

use std::time::{Duration, Instant};

use anyhow::Context;
use futures::StreamExt;
use lyceum_app::{Lyceum, Settings};
use lyceum_course::{CourseRequest, Description, Outline, OutlineModule, OutlineUnit};
use lyceum_store::NewCourse;

use crate::commands::outln;

/// What to measure.
pub struct Plan {
    /// Queued courses whose every unit page is opened.
    pub courses: usize,
    /// Live streams held open at once.
    pub streams: usize,
    /// Times the crawl and the streams are repeated.
    pub rounds: u32,
}

/// Resident memory through one round, in bytes.
struct Round {
    pages: Duration,
    after_pages: u64,
    during: u64,
    files_during: usize,
    after: u64,
    settled: Duration,
    files_after: usize,
}

/// Runs the benchmark and prints resident memory before, during and after.
pub async fn run(settings: &Settings, plan: Plan) -> anyhow::Result<()> {
    let dir = tempfile::tempdir().context("Failed to create a temporary folder")?;
    let mut settings = settings.clone();
    settings.data_dir = dir.path().to_path_buf();
    settings.database.url = String::new();
    let store = lyceum_app::open_store(&settings).await?;
    // No worker runs.
    let app = Lyceum::new(settings, store, super::unused_engine()?)?;
    let mut units = Vec::new();
    for n in 0..plan.courses {
        let slug = queued_course(&app, n).await?;
        for week in 1..=12 {
            for unit in 1..=3 {
                units.push(format!("/courses/{slug}/weeks/{week}/units/{unit}"));
            }
        }
    }
    app.store.close().await;

    let mut server = tokio::process::Command::new(std::env::current_exe()?)
        .args(["--data-dir"])
        .arg(dir.path())
        .args(["serve", "--no-worker", "--bind", "127.0.0.1:0"])
        .env("LYCEUM_ENGINE__KIND", "openai")
        .env("LYCEUM_ENGINE__OPENAI__BASE_URL", "http://127.0.0.1:9/v1")
        // One crawler from one address: the per-client limits would refuse it before memory matters.
        .env("LYCEUM_WEB__STREAMS_PER_CLIENT", "0")
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .context("Failed to start lyceum serve")?;
    let pid = server.id().context("lyceum serve has no process id")?;
    let stdout = server.stdout.take().context("lyceum serve has no output")?;
    let mut lines = tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(stdout));
    let base = loop {
        let line = lines
            .next_line()
            .await?
            .context("lyceum serve stopped before it listened")?;
        if let Some(rest) = line.strip_prefix("Lyceum is running at ") {
            break rest.split('/').take(3).collect::<Vec<_>>().join("/");
        }
    };
    // Warm up: the first requests build what every later one reuses (templates, pools).
    get(&reqwest::Client::new(), format!("{base}{}", units[0])).await?;
    let before = resident_bytes(pid)?;
    let mut rounds = Vec::new();
    for _ in 0..plan.rounds {
        rounds.push(round(pid, &base, &units, plan.streams).await?);
    }
    server.kill().await.context("Failed to stop lyceum serve")?;

    let mib = |bytes: u64| bytes as f64 / (1024.0 * 1024.0);
    let of_before = |bytes: u64| (bytes as f64 / before as f64 - 1.0) * 100.0;
    outln!(
        "{} unit pages of {} queued courses, then {} live streams, {} times; lyceum serve's resident memory:",
        units.len(),
        plan.courses,
        plan.streams,
        plan.rounds
    );
    outln!(
        "  before:                          {:>8.1} MiB",
        mib(before)
    );
    for (n, round) in rounds.iter().enumerate() {
        outln!(
            "  round {}: after every unit page  {:>8.1} MiB ({:.0} pages/s)",
            n + 1,
            mib(round.after_pages),
            units.len() as f64 / round.pages.as_secs_f64()
        );
        outln!(
            "           with the streams open  {:>8.1} MiB ({} open files)",
            mib(round.during),
            round.files_during
        );
        outln!(
            "           after it all closed    {:>8.1} MiB ({:+.1}% of before; settled in {} s; {} open files)",
            mib(round.after),
            of_before(round.after),
            round.settled.as_secs(),
            round.files_after
        );
    }
    if let [.., last, this] = rounds.as_slice() {
        outln!(
            "  the last round ended {:+.1}% from the round before",
            (this.after as f64 / last.after as f64 - 1.0) * 100.0
        );
    }
    Ok(())
}

/// One crawler's visit: every unit page, 32 at a time, then `streams` live streams held open, then
/// gone; resident memory at each stage, the last once it settles.
async fn round(pid: u32, base: &str, units: &[String], streams: usize) -> anyhow::Result<Round> {
    let client = reqwest::Client::new();
    let started = Instant::now();
    for chunk in units.chunks(32) {
        futures::future::try_join_all(
            chunk
                .iter()
                .map(|unit| get(&client, format!("{base}{unit}"))),
        )
        .await?;
    }
    let pages = started.elapsed();
    let after_pages = resident_bytes(pid)?;

    // Streams spread over the units, a few viewers on some, as a crawler and readers would.
    let mut open = Vec::with_capacity(streams);
    for n in 0..streams {
        let unit = &units[n * 7 % units.len()];
        let response = client
            .get(format!("{base}{unit}/live"))
            .send()
            .await
            .context("Failed to open a live stream")?;
        anyhow::ensure!(
            response.status().is_success(),
            "a live stream answered {}",
            response.status()
        );
        let mut body = response.bytes_stream();
        // The first frame has arrived: the stream is set up on the server.
        body.next().await;
        open.push(body);
    }
    let during = resident_bytes(pid)?;
    let files_during = open_files(pid);

    // The crawler leaves: its streams and its idle keep-alive connections close.
    drop(open);
    drop(client);
    // The server notices a closed stream when it next writes (a keep-alive every 15 s), drops pages
    // too old to serve every 10 s, closes database connections idle for 10 s, and the allocator
    // hands freed pages back over seconds: sample until the size settles (a benchmark may wait; a
    // test may not).
    let closed = Instant::now();
    let mut after = resident_bytes(pid)?;
    loop {
        tokio::time::sleep(Duration::from_secs(2)).await;
        let now = resident_bytes(pid)?;
        let settled =
            now.abs_diff(after) * 200 < after && closed.elapsed() > Duration::from_secs(30);
        after = now;
        if settled || closed.elapsed() > Duration::from_secs(90) {
            break;
        }
    }
    Ok(Round {
        pages,
        after_pages,
        during,
        files_during,
        after,
        settled: closed.elapsed(),
        files_after: open_files(pid),
    })
}

/// Stores a 12 × 3 course without a model, every item queued; its slug.
async fn queued_course(app: &Lyceum, n: usize) -> anyhow::Result<String> {
    let description = format!("Memory benchmark course number {n}, on bridges and their loads");
    let request = CourseRequest::new(Description::parse(&description)?);
    let outline = Outline {
        category: None,
        title: format!("Bridges and their loads, part {n}"),
        summary: "How bridges carry what crosses them.".into(),
        outcomes: vec!["Explain how a bridge carries a load".into()],
        modules: (1..=12)
            .map(|week| OutlineModule {
                title: format!("Week {week} of bridges"),
                units: (1..=3)
                    .map(|unit| OutlineUnit {
                        title: format!("Bridge topic {week}.{unit}"),
                        objectives: vec!["Explain the topic".into()],
                    })
                    .collect(),
            })
            .collect(),
    };
    let stats = super::no_stats();
    let course = app
        .store
        .create_course(NewCourse {
            request: &request,
            outline: &outline,
            outline_stats: &stats,
        })
        .await?;
    Ok(course.slug)
}

async fn get(client: &reqwest::Client, url: String) -> anyhow::Result<()> {
    let response = client.get(&url).send().await?;
    anyhow::ensure!(
        response.status().is_success(),
        "{url} answered {}",
        response.status()
    );
    response.bytes().await?;
    Ok(())
}

/// The resident set size of process `pid`.
fn resident_bytes(pid: u32) -> anyhow::Result<u64> {
    let statm = std::fs::read_to_string(format!("/proc/{pid}/statm"))
        .context("Failed to read the server's /proc/PID/statm")?;
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|field| field.parse().ok())
        .context("/proc/PID/statm has no resident size")?;
    Ok(pages * 4096)
}

/// How many files (connections among them) process `pid` holds open.
fn open_files(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, Iterator::count)
}
