//! `lyceum bench nodes`: how long text a worker writes takes to reach a viewer on another node,
//! through PostgreSQL (`NOTIFY`, the viewer node's `LISTEN`, its read of the text, its live hub).
//!
//! Two nodes in one process, each with its own connections, as two machines have: the writer shares
//! a unit's growing text as a worker does; the viewer node relays the feed into its hub and watches
//! the unit. The course it uses is stored for the run and deleted after it. No model is loaded.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use lyceum_app::live::LiveEvent;
use lyceum_app::{Lyceum, Settings};
use lyceum_course::{CourseRequest, Description, Outline, OutlineModule, OutlineUnit};
use lyceum_store::{GenerationStats, ItemKind, NewCourse, Store};

use crate::commands::outln;

/// Measures `samples` pieces of text shared `every` apart; prints the delays.
pub async fn run(settings: &Settings, samples: usize, every: Duration) -> anyhow::Result<()> {
    let url = settings.database_url();
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        bail!(
            "`lyceum bench nodes` measures PostgreSQL's change feed: set LYCEUM_DATABASE__URL (or \
             database.url) to a postgres:// database it may store a course in for the run"
        );
    }
    let writer = Store::open(&url)
        .await
        .context("Failed to open the database")?;
    let viewer = viewer_node(settings).await?;
    let (request, outline, stats) = course()?;
    let course = writer
        .create_course(NewCourse {
            request: &request,
            outline: &outline,
            outline_stats: &stats,
        })
        .await?;
    let measured = measure(&writer, &viewer, course.id, samples, every).await;
    writer.delete_course(course.id).await?;
    let mut delays = measured?;
    delays.sort_unstable();
    let at = |share: f64| {
        let index = ((delays.len() as f64 * share).ceil() as usize).clamp(1, delays.len()) - 1;
        delays[index].as_secs_f64() * 1000.0
    };
    outln!(
        "{} pieces shared every {} ms, from the writing node to a viewer on the other node:",
        delays.len(),
        every.as_millis()
    );
    outln!(
        "  delay p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        at(0.5),
        at(0.9),
        at(0.99),
        at(1.0)
    );
    outln!(
        "  a worker shares its text every 200 ms, so a viewer sees it at most 200 ms plus this late"
    );
    Ok(())
}

/// A node that only views: its own store (connections and `LISTEN`), relaying into its own hub.
async fn viewer_node(settings: &Settings) -> anyhow::Result<Arc<Lyceum>> {
    let store = lyceum_app::open_store(settings).await?;
    Ok(Lyceum::new(
        settings.clone(),
        store,
        super::unused_engine()?,
    )?)
}

/// The benchmark's one-unit course: what was asked, its outline and how it was drafted.
fn course() -> anyhow::Result<(CourseRequest, Outline, GenerationStats)> {
    let request = CourseRequest::new(Description::parse(
        "Benchmark of the change feed between nodes (deleted after the run)",
    )?);
    let outline = Outline {
        category: None,
        title: "Lyceum benchmark course, deleted after the run".into(),
        summary: "Stored by `lyceum bench nodes` while it measures.".into(),
        outcomes: vec!["Measure the change feed".into()],
        modules: vec![OutlineModule {
            title: "The only week".into(),
            units: vec![OutlineUnit {
                title: "The only unit".into(),
                objectives: vec!["Be written".into()],
            }],
        }],
    };
    let stats = super::no_stats();
    Ok((request, outline, stats))
}

async fn measure(
    writer: &Store,
    viewer: &Arc<Lyceum>,
    course_id: i64,
    samples: usize,
    every: Duration,
) -> anyhow::Result<Vec<Duration>> {
    let unit = writer.units(course_id).await?[0].id;
    let generation = writer
        .generation_of(ItemKind::Unit, unit)
        .await?
        .context("the benchmark unit has no generation record")?;
    writer.start_generation(generation.id).await?;
    let relay = tokio::spawn(Arc::clone(viewer).relay_other_nodes());
    // Subscribed before the first piece: the relay's `LISTEN` is up once a change round-trips.
    let mut watch = viewer.hub.watch(generation.id);
    let sent: Arc<Mutex<HashMap<usize, Instant>>> = Arc::default();
    let writing = {
        let (writer, sent) = (writer.clone(), Arc::clone(&sent));
        tokio::spawn(async move {
            let mut text = String::new();
            let mut ticks = tokio::time::interval(every);
            for n in 0..samples + 1 {
                ticks.tick().await;
                text.push_str(&format!("piece {n} of the text being written. "));
                if let Ok(mut sent) = sent.lock() {
                    sent.insert(text.len(), Instant::now());
                }
                writer.share_live_text(generation.id, &text).await?;
            }
            anyhow::Ok(())
        })
    };
    let mut delays = Vec::with_capacity(samples);
    let mut seen = 0;
    // The first piece only shows the feed is up.
    while delays.len() < samples {
        let event = tokio::time::timeout(Duration::from_secs(10), watch.events.recv())
            .await
            .context("no text reached the viewer node within 10 s")??;
        let LiveEvent::Text(piece) = event else {
            bail!("the viewer node saw {event:?} instead of text");
        };
        seen += piece.len();
        let at = sent.lock().ok().and_then(|sent| sent.get(&seen).copied());
        if let Some(at) = at
            && seen > piece.len()
        {
            delays.push(at.elapsed());
        }
    }
    writing.await??;
    relay.abort();
    Ok(delays)
}
