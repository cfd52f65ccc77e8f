//! `lyceum bench tutor`: how soon the tutor's reply starts, and how fast it comes, on the configured
//! engine — with the engine idle, and while the worker writes a course with every slot busy; each
//! both on a unit the tutor meets for the first time and after the page prepared it (the script
//! does when the learner puts the cursor in the message box).

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use futures::StreamExt;
use lyceum_app::tutor::{self, Ask, TutorEvent};
use lyceum_app::worker::{Until, Worker};
use lyceum_app::{Lyceum, Settings};
use lyceum_course::{CourseRequest, Description, UnitsPerWeek, Weeks};
use lyceum_store::{GenerationStats, ItemKind, NewUser, Output, Status};

use crate::commands::outln;

/// What is measured of one reply.
struct Reply {
    /// From sending to the first words shown.
    first: Duration,
    tokens: Option<u32>,
    /// From the model's first word to its last.
    writing: Duration,
}

/// The unit text the tutor teaches from: a unit of usual length (about 450 words).
const UNIT: &str = include_str!("tutor_unit.md");

const QUESTIONS: [&str; 3] = [
    "Why does an arch need strong abutments?",
    "Can you explain tension and compression with an everyday example?",
    "What would happen to a beam bridge if it were made twice as long?",
];

pub async fn run(settings: &Settings, weeks: u32, units_per_week: u32) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut settings = settings.clone();
    settings.engine.local.model = settings.local_model_path();
    settings.data_dir = dir.path().to_path_buf();
    settings.database.url = String::new();
    settings.web.tutor_messages_per_hour = 0;
    let sequences = settings.engine.local.max_sequences;
    let app = Lyceum::open(settings)
        .await
        .context("Failed to start Lyceum")?;
    let info = app.engine.info().clone();
    outln!(
        "engine {} · model {} · {sequences} background sequences",
        info.kind,
        info.model
    );

    let mut request = CourseRequest::new(Description::parse("How bridges carry their loads")?);
    request.weeks = Weeks::new(weeks)?;
    request.units_per_week = UnitsPerWeek::new(units_per_week)?;
    let started = Instant::now();
    let draft = app.draft_outline(&request, |_| {}).await?;
    let course = app
        .confirm_course(&request, draft.outline, &draft.stats)
        .await?;
    outln!(
        "a {weeks} x {units_per_week} course outlined in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    // The units the tutor is asked about: given a fixed text, so every run asks about the same.
    let units = app.store.units(course.id).await?;
    let taught: Vec<i64> = units.iter().rev().take(4).map(|unit| unit.id).collect();
    anyhow::ensure!(taught.len() == 4, "the course needs at least 4 units");
    for &unit_id in &taught {
        let generation = app
            .store
            .generation_of(ItemKind::Unit, unit_id)
            .await?
            .context("a unit without its generation")?;
        app.store
            .finish_generation(
                generation.id,
                Output::Unit(UNIT),
                &GenerationStats {
                    engine: "person".into(),
                    model: "bench".into(),
                    tokens_in: None,
                    tokens_out: None,
                    duration: Duration::ZERO,
                },
                None,
            )
            .await?;
    }
    let learner = app
        .store
        .create_user(
            &NewUser {
                email: "bench@example.org",
                display_name: "Bench",
                password_hash: None,
                is_admin: false,
                passkey: None,
            },
            lyceum_store::now_ms(),
        )
        .await?;
    let course = app.store.course_by_id(course.id).await?;

    // Once to load what a first request loads, not measured.
    ask(&app, &learner, &course, taught[0], QUESTIONS[0]).await?;
    both(&app, &learner, &course, [taught[1], taught[2]], "idle").await?;

    // The worker writes the rest of the course meanwhile, every background slot busy.
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let worker = tokio::spawn(Worker::new(Arc::clone(&app)).run(Until::Shutdown, async {
        let _ = stopped.await;
    }));
    // Until the worker's generations fill the batch (or all it can start have started).
    let busy_from = Instant::now();
    loop {
        let writing = app
            .store
            .generations(course.id)
            .await?
            .iter()
            .filter(|generation| generation.status == Status::Generating)
            .count();
        if writing >= sequences || busy_from.elapsed() > Duration::from_secs(120) {
            outln!("{writing} items being written by the worker");
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    both(&app, &learner, &course, [taught[3], taught[0]], "busy").await?;
    let _ = stop.send(());
    worker.await.context("the worker panicked")??;
    Ok(())
}

/// Measures a reply on unit `cold` (met for the first time), then three on unit `prepared`, each
/// prepared ahead as the page does, and reports them as `state`.
async fn both(
    app: &Arc<Lyceum>,
    learner: &lyceum_store::User,
    course: &lyceum_store::Course,
    [cold, prepared]: [i64; 2],
    state: &str,
) -> anyhow::Result<()> {
    report(
        &format!("{state}, a unit met for the first time"),
        &[ask(app, learner, course, cold, QUESTIONS[0]).await?],
    )?;
    let (mut replies, mut preparing) = (Vec::new(), Vec::new());
    for question in QUESTIONS {
        let started = Instant::now();
        tutor::warm(
            app,
            learner,
            course,
            &units_now(app, course.id).await?,
            prepared,
        )
        .await?;
        preparing.push(format!("{:.1}", started.elapsed().as_secs_f64()));
        replies.push(ask(app, learner, course, prepared, question).await?);
    }
    report(&format!("{state}, prepared as the page does"), &replies)?;
    outln!(
        "{:40} (preparing took {} s, while the learner writes)",
        "",
        preparing.join(", ")
    );
    Ok(())
}

async fn units_now(app: &Lyceum, course_id: i64) -> anyhow::Result<Vec<lyceum_store::Unit>> {
    Ok(app.store.units(course_id).await?)
}

/// Asks `question` about `unit_id` and measures the reply.
async fn ask(
    app: &Arc<Lyceum>,
    learner: &lyceum_store::User,
    course: &lyceum_store::Course,
    unit_id: i64,
    question: &str,
) -> anyhow::Result<Reply> {
    let units = units_now(app, course.id).await?;
    let sent = Instant::now();
    let mut events = Box::pin(
        tutor::chat(
            app,
            learner,
            course,
            &units,
            unit_id,
            Ask::Message(question.into()),
        )
        .await?,
    );
    let mut first = None;
    let mut written = None;
    while let Some(event) = events.next().await {
        match event {
            TutorEvent::Partial(_) => {
                first.get_or_insert_with(|| sent.elapsed());
            }
            TutorEvent::Written {
                tokens,
                first,
                took,
            } => written = Some((tokens, took.saturating_sub(first))),
            TutorEvent::Failed(why) => anyhow::bail!("the tutor failed: {why}"),
            TutorEvent::Stored(_) => {}
        }
    }
    let (tokens, writing) = written.context("the reply never finished")?;
    Ok(Reply {
        first: first.context("the reply never started")?,
        tokens,
        writing,
    })
}

fn report(case: &str, replies: &[Reply]) -> anyhow::Result<()> {
    let firsts: Vec<f64> = replies.iter().map(|r| r.first.as_secs_f64()).collect();
    let tokens: u32 = replies.iter().filter_map(|r| r.tokens).sum();
    let writing: f64 = replies.iter().map(|r| r.writing.as_secs_f64()).sum();
    outln!(
        "{case:40} first words after {} s; {:.1} tokens/s ({tokens} tokens)",
        firsts
            .iter()
            .map(|first| format!("{first:.2}"))
            .collect::<Vec<_>>()
            .join(", "),
        f64::from(tokens) / writing.max(0.001),
    );
    Ok(())
}
