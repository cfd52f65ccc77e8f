//! `lyceum courses`, `lyceum export`, `lyceum worker`: reading, exporting and finishing stored courses.

use crate::commands::outln;
use std::path::PathBuf;

use anyhow::Context;
use lyceum_app::{Lyceum, Settings, export};
use lyceum_store::Status;

use crate::commands::{ExportFormat, find_course, open_store, run_worker};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// List stored courses as the catalog does (featured first, then newest), with how much of each is
    /// written.
    List {
        /// How many to show.
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// Show a course's syllabus with the status of every item, and the errors of failed ones.
    Show {
        /// The course's slug, as `courses list` prints it.
        slug: String,
    },
    /// Queue a course's failed items again and write them.
    Retry {
        /// The course's slug.
        slug: String,
    },
    /// Feature a course: first in the catalog and on the home page.
    Feature {
        /// The course's slug.
        slug: String,
        /// Stop featuring it.
        #[arg(long)]
        off: bool,
    },
    /// Give a course its subject category, chosen by the model from its title, summary and weeks:
    /// for courses made before categories (newer ones get theirs with the outline). Its maker can
    /// change it on the course's page.
    Categorize {
        /// The course's slug.
        #[arg(required_unless_present = "all", conflicts_with = "all")]
        slug: Option<String>,
        /// Every course that has no category yet.
        #[arg(long)]
        all: bool,
    },
}

pub async fn run(settings: &Settings, command: Command) -> anyhow::Result<()> {
    match command {
        Command::List { limit } => {
            let store = open_store(settings).await?;
            let courses = store.list_courses(limit.max(1), 0).await?;
            if courses.is_empty() {
                outln!(
                    "No courses yet. Make one with: lyceum generate \"a topic you are curious about\""
                );
            }
            for summary in courses {
                let course = &summary.course;
                let failed = if summary.failed > 0 {
                    format!(", {} failed", summary.failed)
                } else {
                    String::new()
                };
                let featured = if course.featured_at.is_some() {
                    "  (featured)"
                } else {
                    ""
                };
                outln!(
                    "{:40} {:3} weeks  {:>3}/{:<3} written{failed}  {}{featured}",
                    course.slug,
                    course.weeks,
                    summary.ready,
                    summary.items,
                    course.title
                );
            }
            Ok(())
        }
        Command::Show { slug } => {
            let store = open_store(settings).await?;
            let course = find_course(&store, &slug).await?;
            let generations = store.generations(course.id).await?;
            let errors: std::collections::HashMap<
                (lyceum_store::ItemKind, i64),
                &lyceum_store::Generation,
            > = generations
                .iter()
                .map(|g| ((g.kind, g.item_id), g))
                .collect();
            outln!("{}\n{}", course.title, course.summary);
            match course.category {
                Some(category) => outln!("Subject: {}\n", category.name),
                None => outln!(
                    "Subject: none yet (`lyceum courses categorize {}`)\n",
                    course.slug
                ),
            }
            let units = store.units(course.id).await?;
            for module in store.modules(course.id).await? {
                outln!(
                    "Week {}: {} [overview {}]",
                    module.number,
                    module.title,
                    module.status.as_str()
                );
                for unit in units.iter().filter(|unit| unit.week == module.number) {
                    let quiz = errors
                        .get(&(lyceum_store::ItemKind::Quiz, unit.id))
                        .map_or("waiting", |g| g.status.as_str());
                    outln!(
                        "  {}.{} {} [{}, quiz {quiz}]",
                        unit.week,
                        unit.number,
                        unit.title,
                        unit.status.as_str()
                    );
                    for kind in [lyceum_store::ItemKind::Unit, lyceum_store::ItemKind::Quiz] {
                        if let Some(g) = errors
                            .get(&(kind, unit.id))
                            .filter(|g| g.status == Status::Failed)
                        {
                            outln!(
                                "      {} failed: {}",
                                kind.as_str(),
                                g.error.as_deref().unwrap_or("unknown error")
                            );
                        }
                    }
                }
            }
            Ok(())
        }
        Command::Retry { slug } => {
            let app = Lyceum::open(settings.clone())
                .await
                .context("Failed to start Lyceum")?;
            let course = find_course(&app.store, &slug).await?;
            let count = app.retry_failed(&course).await?;
            outln!("Writing {count} failed items of \"{slug}\" again.");
            run_worker(&app, Some(&course)).await
        }
        Command::Categorize { slug, all: _ } => {
            let app = Lyceum::open(settings.clone())
                .await
                .context("Failed to start Lyceum")?;
            let courses = match slug {
                Some(slug) => vec![find_course(&app.store, &slug).await?],
                None => app
                    .store
                    .all_courses(i64::MAX, 0)
                    .await?
                    .into_iter()
                    .map(|summary| summary.course)
                    .filter(|course| course.category.is_none())
                    .collect(),
            };
            if courses.is_empty() {
                outln!("Every course has a category.");
            }
            for course in courses {
                let category = app
                    .categorize(&course)
                    .await
                    .with_context(|| format!("Failed to categorize \"{}\"", course.slug))?;
                outln!("{:40} {}", course.slug, category.name);
            }
            Ok(())
        }
        Command::Feature { slug, off } => {
            let store = open_store(settings).await?;
            find_course(&store, &slug).await?;
            let course = store.set_featured(&slug, !off).await?;
            if course.featured_at.is_some() {
                outln!(
                    "\"{}\" is featured: first in the catalog and on the home page.",
                    course.title
                );
            } else {
                outln!("\"{}\" is no longer featured.", course.title);
            }
            Ok(())
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// The course's slug.
    slug: String,
    /// markdown (index.md, units/, quizzes/) or json (course.json).
    #[arg(long, value_enum, default_value_t = ExportFormat::Markdown)]
    format: ExportFormat,
    /// The folder to write into (created if missing).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

pub async fn export(settings: &Settings, args: ExportArgs) -> anyhow::Result<()> {
    let store = open_store(settings).await?;
    let course = find_course(&store, &args.slug).await?;
    let exported = export::load(&store, &course).await?;
    let files = args.format.write(&exported, &args.out)?;
    outln!("Wrote {} files to {}", files.len(), args.out.display());
    if !export::is_complete(&exported) {
        eprintln!(
            "note: the course is not completely written yet; `lyceum worker --drain` finishes it"
        );
    }
    Ok(())
}

#[derive(Debug, clap::Args)]
pub struct WorkerArgs {
    /// Stop when the queue is empty instead of waiting for more work.
    #[arg(long)]
    drain: bool,
}

pub async fn worker(settings: &Settings, args: WorkerArgs) -> anyhow::Result<()> {
    let app = Lyceum::open(settings.clone())
        .await
        .context("Failed to start Lyceum")?;
    if args.drain {
        let queued = app.store.job_count().await?;
        eprintln!("{queued} jobs queued; working until the queue is empty.");
        return run_worker(&app, None).await;
    }
    eprintln!("Worker running; Ctrl-C stops it (running jobs are handed back).");
    lyceum_app::worker::Worker::new(app)
        .run(lyceum_app::worker::Until::Shutdown, async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .context("The worker failed")
}
