//! One module per command, and what several commands share: opening the store, the worker with its
//! progress bar, export formats, and the error that means "the command line was wrong".

pub mod bench;
pub mod chat;
pub mod courses;
pub mod generate;
pub mod mail;
pub mod model;
pub mod search;
pub mod serve;
pub mod users;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use lyceum_app::export::{self, CourseExport};
use lyceum_app::worker::{Until, Worker};
use lyceum_app::{Lyceum, Settings};
use lyceum_store::{Course, Status, Store};

/// Standard output was closed by its reader (`lyceum courses show SLUG | head`): the command ends
/// quietly with success, as `ls | head` does.
#[derive(Debug, thiserror::Error)]
#[error("standard output was closed")]
pub struct StdoutClosed;

/// Writes to standard output; a closed pipe becomes [`StdoutClosed`] instead of a panic.
pub fn write_stdout(text: std::fmt::Arguments<'_>) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_fmt(text).and_then(|()| out.flush()) {
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Err(StdoutClosed.into()),
        other => Ok(other?),
    }
}

/// `println!` for commands: returns early with [`StdoutClosed`] when the reader has gone.
macro_rules! outln {
    () => { $crate::commands::write_stdout(format_args!("\n"))? };
    ($($arg:tt)*) => { $crate::commands::write_stdout(format_args!("{}\n", format_args!($($arg)*)))? };
}
/// `print!` for commands, as [`outln!`].
macro_rules! out {
    ($($arg:tt)*) => { $crate::commands::write_stdout(format_args!($($arg)*))? };
}
pub(crate) use {out, outln};

/// Input the person must change; the binary exits with status 2 for it, as for a bad flag.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Opens the database alone, for commands that need no model.
pub async fn open_store(settings: &Settings) -> anyhow::Result<Store> {
    lyceum_app::open_store(settings)
        .await
        .context("Failed to open the database")
}

/// A course by slug, with a hint when there is none.
pub async fn find_course(store: &Store, slug: &str) -> anyhow::Result<Course> {
    store.course(slug).await.map_err(|error| match error {
        lyceum_store::StoreError::NotFound(_) => anyhow::Error::new(UsageError(format!(
            "there is no course \"{slug}\"; `lyceum courses list` shows the courses there are"
        ))),
        other => anyhow::Error::new(other).context("Failed to read the course"),
    })
}

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// `index.md`, `units/*.md`, `quizzes/*.md`.
    Markdown,
    /// `course.json`.
    Json,
}

impl ExportFormat {
    /// Writes the course into `dir`; returns the files.
    pub fn write(self, course: &CourseExport, dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
        Ok(match self {
            Self::Markdown => export::write_markdown(course, dir)?,
            Self::Json => export::write_json(course, dir)?,
        })
    }
}

/// Runs the worker until the queue is empty or Ctrl-C, drawing a bar over `course`'s items (or over
/// all queued work) with the generation speed.
pub async fn run_worker(app: &Arc<Lyceum>, course: Option<&Course>) -> anyhow::Result<()> {
    let (total, done) = match course {
        Some(course) => {
            let mut generations = app.store.generations(course.id).await?;
            // A unit written again at its maker's request is not part of writing the course.
            generations.retain(|g| g.kind != lyceum_store::ItemKind::Rewrite);
            let units = generations
                .iter()
                .filter(|g| g.kind == lyceum_store::ItemKind::Unit)
                .count();
            // Quizzes get their records as their units are saved; count them from the start.
            let quizzes = generations
                .iter()
                .filter(|g| g.kind == lyceum_store::ItemKind::Quiz)
                .count();
            let finished = generations
                .iter()
                .filter(|g| matches!(g.status, Status::Ready | Status::Failed))
                .count();
            (generations.len() + units - quizzes, finished)
        }
        None => (0, 0),
    };
    let bar = if total > 0 {
        ProgressBar::new(total as u64)
    } else {
        ProgressBar::no_length()
    };
    bar.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:40}] {pos}/{len} items {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_position(done as u64);
    bar.enable_steady_tick(Duration::from_millis(500));
    let mut progress = app.hub.progress();
    let course_id = course.map(|course| course.id);
    let watch_bar = bar.clone();
    let watcher = tokio::spawn(async move {
        let started = Instant::now();
        let mut tokens = 0_u64;
        while let Ok(event) = progress.recv().await {
            if course_id.is_some_and(|id| id != event.course_id) {
                continue;
            }
            match event.status {
                Status::Ready | Status::Failed => {
                    tokens += u64::from(event.tokens_out.unwrap_or(0));
                    watch_bar.inc(1);
                    let rate = tokens as f64 / started.elapsed().as_secs_f64().max(0.001);
                    watch_bar.set_message(format!("{tokens} tokens, {rate:.1} tokens/s"));
                }
                Status::Pending | Status::Generating => {}
            }
        }
    });
    let worker = Worker::new(Arc::clone(app));
    let result = worker
        .run(Until::Idle, async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await;
    watcher.abort();
    bar.finish();
    result.context("The worker failed")
}
