//! `lyceum bench`: measure the configured engine on this machine, and the memory of the web app.

mod memory;
mod nodes;
mod quality;
mod raw;
mod search;
mod tutor;

use crate::commands::outln;
use std::time::{Duration, Instant};

use std::sync::Arc;

use anyhow::Context;
use clap::Subcommand;
use futures::StreamExt;
use lyceum_app::live::LiveEvent;
use lyceum_app::settings::EngineKind;
use lyceum_app::worker::{Until, Worker};
use lyceum_app::{Lyceum, Settings, UnitText};
use lyceum_course::{CourseRequest, Description, UnitsPerWeek, Weeks};
use lyceum_llm::local::{CacheLayout, LocalEngine};
use lyceum_llm::{Engine, Event, JsonSchema, Message, Request};
use lyceum_store::Status;
use serde_json::json;

use super::chat::load_engine;

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Resident memory of the web app while a crawler opens every unit page of many queued courses
    /// and holds many live streams, and after it lets go (no model is loaded).
    Memory {
        /// Queued 12 x 3 courses whose every unit page is opened.
        #[arg(long, default_value_t = 50)]
        courses: usize,
        /// Live streams held open at once.
        #[arg(long, default_value_t = 1000)]
        streams: usize,
        /// Times the crawler comes back, each time with a fresh connection pool.
        #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..))]
        rounds: u32,
    },
    /// How long text a worker writes takes to reach a viewer on another web node, through the
    /// PostgreSQL database of `database.url` (a one-unit course is stored for the run and deleted).
    Nodes {
        /// Pieces of text measured.
        #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u64).range(1..))]
        samples: u64,
        /// Milliseconds between two pieces.
        #[arg(long, default_value_t = 50)]
        every_ms: u64,
    },
    /// Writes a course per topic of a fixed set (several subjects and languages) on the configured
    /// engine and prints what a learner would notice: placeholder, numbered or repeated titles,
    /// headings of other units, looping or mixed-script articles, articles in another language or
    /// carrying prompt text, repeated or numbered quiz options, explanations naming a position.
    Quality {
        /// Weeks per course.
        #[arg(long, default_value_t = 2)]
        weeks: u32,
        /// Units per week.
        #[arg(long, default_value_t = 3)]
        units_per_week: u32,
        /// Only the topics in these languages (tags, comma-separated; all when not given).
        #[arg(long, value_delimiter = ',')]
        languages: Vec<String>,
        /// Measure these stored courses (slugs, comma-separated) instead of writing new ones.
        #[arg(long = "course", value_delimiter = ',')]
        courses: Vec<String>,
        /// Also write the figures as JSON to this file, to compare runs.
        #[arg(long)]
        json: Option<std::path::PathBuf>,
        /// Write the courses into this data directory and keep them, to read afterwards
        /// (`lyceum --data-dir DIR serve`), instead of a throwaway one.
        #[arg(long, conflicts_with = "courses")]
        keep: Option<std::path::PathBuf>,
    },
    /// Search latency over many generated courses (no chat model; hybrid search too when the
    /// sentence encoder is installed): on a throwaway SQLite
    /// database, and on PostgreSQL when `--postgres` names a database it may store courses in for
    /// the run (they are deleted after it).
    Search {
        /// Courses stored.
        #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..))]
        courses: u64,
        /// Weeks per course.
        #[arg(long, default_value_t = 12, value_parser = clap::value_parser!(u64).range(1..=52))]
        weeks: u64,
        /// Units per week.
        #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=10))]
        units_per_week: u64,
        /// Words in each unit's text.
        #[arg(long, default_value_t = 300)]
        words: u64,
        /// Searches timed.
        #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..))]
        queries: u64,
        /// A PostgreSQL database to measure too (postgres://…).
        #[arg(long)]
        postgres: Option<String>,
    },
    /// Prompt and generation speed, batching, JSON-schema cost and memory of the language model;
    /// for the local engine, each batch width beside a raw llama.cpp decode loop in the same run.
    Llm {
        /// Tokens generated per measured sequence.
        #[arg(long, default_value_t = 128, value_parser = clap::value_parser!(u32).range(16..))]
        tokens: u32,
        /// Sequences generated at once, each width measured on its own engine (comma-separated).
        #[arg(long, value_delimiter = ',', default_values_t = [1, 2, 4, 8, 16, 32])]
        widths: Vec<u32>,
        /// Tokens of notes, about, each sequence of the widths reads before its question, as a unit
        /// reads its course's syllabus and instructions: what attention over long contexts costs.
        #[arg(long, default_value_t = 0)]
        context: u32,
    },
    /// How soon the tutor's reply starts and how fast it comes, idle and while the worker writes a
    /// course with every slot busy, on a unit met for the first time and on one prepared ahead.
    Tutor {
        /// Weeks of the course written meanwhile.
        #[arg(long, default_value_t = 4)]
        weeks: u32,
        /// Units per week.
        #[arg(long, default_value_t = 3)]
        units_per_week: u32,
    },
    /// A whole course on the configured engine (outline, overviews, units, quizzes), once per batch
    /// size: total time, tokens/s, and the time from confirming the outline to unit 1.1's first text.
    Course {
        /// What the course is about.
        #[arg(long, default_value = "The history and science of bread baking")]
        topic: String,
        /// Weeks.
        #[arg(long, default_value_t = 12)]
        weeks: u32,
        /// Units per week.
        #[arg(long, default_value_t = 3)]
        units_per_week: u32,
        /// Batch sizes to compare: generations decoded together (and jobs run at once).
        #[arg(long, value_delimiter = ',', default_values_t = [4, 16])]
        sequences: Vec<usize>,
        /// Stop each batch size's course after this many minutes and report what was written by
        /// then (the whole course when not given).
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
        minutes: Option<u64>,
    },
}

/// An engine that is never called, for benchmarks that load no model.
fn unused_engine() -> anyhow::Result<Arc<dyn Engine>> {
    Ok(Arc::new(lyceum_llm::openai::OpenAiEngine::new(
        lyceum_llm::openai::OpenAiConfig {
            base_url: "http://127.0.0.1:9/v1".into(),
            api_key: None,
            model: "none".into(),
            max_retries: 0,
            initial_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(1),
            connect_timeout: Duration::from_millis(1),
            idle_timeout: Duration::from_millis(1),
        },
    )?))
}

/// The record of an outline no model wrote, for benchmark courses.
fn no_stats() -> lyceum_store::GenerationStats {
    lyceum_store::GenerationStats {
        engine: "none".into(),
        model: "none".into(),
        tokens_in: None,
        tokens_out: None,
        duration: Duration::ZERO,
    }
}

/// What one generation took.
struct Run {
    prompt_tokens: u32,
    completion_tokens: u32,
    first_token: Duration,
    total: Duration,
}

impl Run {
    fn generation_rate(&self) -> f64 {
        // Tokens after the first, over the time after the first: decoding speed without the prompt.
        let decode = self.total.saturating_sub(self.first_token).as_secs_f64();
        f64::from(self.completion_tokens.saturating_sub(1)) / decode.max(1e-9)
    }
}

async fn measure(engine: &dyn Engine, request: Request) -> anyhow::Result<Run> {
    let started = Instant::now();
    let mut first_token = None;
    let mut stream = engine.generate(request);
    while let Some(event) = stream.next().await {
        match event.context("The model failed during the benchmark")? {
            Event::Delta(_) => {
                first_token.get_or_insert_with(|| started.elapsed());
            }
            Event::Done(usage) => {
                return Ok(Run {
                    prompt_tokens: usage.prompt_tokens.unwrap_or(0),
                    completion_tokens: usage.completion_tokens.unwrap_or(0),
                    first_token: first_token.unwrap_or_else(|| started.elapsed()),
                    total: started.elapsed(),
                });
            }
        }
    }
    anyhow::bail!("the generation ended without finishing")
}

fn essay(tokens: u32, seed: u32, context: u32) -> anyhow::Result<Request> {
    let messages = vec![Message::user(essay_text(seed, context))];
    Ok(Request::new(messages, tokens)?
        .with_temperature(0.7)?
        .with_seed(seed))
}

/// The request for part `seed` of an essay, after about `context` tokens of notes of its own (no two
/// parts share more than their first words, so nothing is reused from another sequence's cache).
fn essay_text(seed: u32, context: u32) -> String {
    let mut text = format!("Part {seed}. ");
    // A note is about 19 tokens on the Qwen2.5 vocabulary (--context 1000 made 819, 2000 made 1,617).
    for n in 1..=context.div_ceil(19) {
        text.push_str(&format!(
            "Note {n} of part {seed}: algebra grew from rules for sharing land and goods. "
        ));
    }
    text.push_str(&format!(
        "Write a long, detailed essay (at least 2000 words) on the history of algebra, part {seed}."
    ));
    text
}

/// A prompt of about 500 tokens.
fn long_prompt() -> String {
    let sentence = "Lyceum turns a topic into a course: an outline of weeks and units, an article per unit, \
                    and a quiz, written by a language model and then taught with a tutor at the learner's pace. ";
    let mut prompt =
        String::from("Read these notes, then answer with one word: what does Lyceum make?\n\n");
    for n in 1..=13 {
        prompt.push_str(&format!("Note {n}. {sentence}"));
    }
    prompt
}

fn outline_schema() -> anyhow::Result<JsonSchema> {
    let unit = json!({"type": "object", "properties": {"title": {"type": "string"},
        "chapters": {"type": "array", "items": {"type": "string"}, "minItems": 3, "maxItems": 3}},
        "required": ["title", "chapters"], "additionalProperties": false});
    Ok(JsonSchema::new(
        json!({"type": "object", "properties": {"title": {"type": "string"},
        "units": {"type": "array", "items": unit, "minItems": 3, "maxItems": 3}},
        "required": ["title", "units"], "additionalProperties": false}),
    )?)
}

async fn concurrent(
    engine: &dyn Engine,
    sequences: u32,
    tokens: u32,
    context: u32,
) -> anyhow::Result<f64> {
    let started = Instant::now();
    let runs = futures::future::try_join_all(
        (0..sequences)
            .map(|seed| async move { measure(engine, essay(tokens, seed, context)?).await }),
    )
    .await?;
    let total: u32 = runs.iter().map(|run| run.completion_tokens).sum();
    Ok(f64::from(total) / started.elapsed().as_secs_f64())
}

pub async fn run(settings: &Settings, command: Command) -> anyhow::Result<()> {
    match command {
        Command::Llm {
            tokens,
            widths,
            context,
        } => llm(settings, tokens, &widths, context).await,
        Command::Tutor {
            weeks,
            units_per_week,
        } => tutor::run(settings, weeks, units_per_week).await,
        Command::Quality {
            weeks,
            units_per_week,
            languages,
            courses,
            json,
            keep,
        } => {
            quality::run(
                settings,
                quality::Plan {
                    weeks,
                    units_per_week,
                    languages,
                    courses,
                    json,
                    keep,
                },
            )
            .await
        }
        Command::Search {
            courses,
            weeks,
            units_per_week,
            words,
            queries,
            postgres,
        } => {
            let path = settings
                .models_dir()
                .join(lyceum_app::models::ENCODER.file_name);
            let encoder = if path.exists() {
                let config = lyceum_llm::encoder::EncoderConfig {
                    model_path: path,
                    threads: settings.local_threads(),
                };
                let encoder = tokio::task::spawn_blocking(move || {
                    lyceum_llm::encoder::Encoder::load(&config)
                })
                .await??;
                Some(Arc::new(encoder))
            } else {
                outln!("the sentence encoder is not installed: full-text search only");
                None
            };
            let dir = tempfile::tempdir()?;
            let mut app_settings = settings.clone();
            app_settings.data_dir = dir.path().to_path_buf();
            search::run(search::Plan {
                courses: usize::try_from(courses)?,
                weeks: usize::try_from(weeks)?,
                units_per_week: usize::try_from(units_per_week)?,
                words: usize::try_from(words)?,
                queries: usize::try_from(queries)?,
                postgres,
                encoder,
                settings: app_settings,
            })
            .await
        }
        Command::Nodes { samples, every_ms } => {
            nodes::run(
                settings,
                usize::try_from(samples)?,
                Duration::from_millis(every_ms.max(1)),
            )
            .await
        }
        Command::Memory {
            courses,
            streams,
            rounds,
        } => {
            memory::run(
                settings,
                memory::Plan {
                    courses,
                    streams,
                    rounds,
                },
            )
            .await
        }
        Command::Course {
            topic,
            weeks,
            units_per_week,
            sequences,
            minutes,
        } => {
            let mut request = CourseRequest::new(Description::parse(&topic)?);
            request.weeks = Weeks::new(weeks)?;
            request.units_per_week = UnitsPerWeek::new(units_per_week)?;
            let limit = minutes.map(|minutes| Duration::from_secs(minutes * 60));
            for n in sequences {
                course(settings, &request, n.max(1), limit).await?;
            }
            outln!(
                "peak RSS               {:8.1} MiB",
                peak_rss_kib().unwrap_or(0) as f64 / 1024.0
            );
            Ok(())
        }
    }
}

/// How often `lyceum bench course` says how far the course has come.
const COURSE_PROGRESS_EVERY: Duration = Duration::from_secs(60);

/// Writes one whole course into a fresh database with `sequences` generations at once, stopping the
/// worker after `limit` from the start when one is given.
async fn course(
    settings: &Settings,
    request: &CourseRequest,
    sequences: usize,
    limit: Option<Duration>,
) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut settings = settings.clone();
    settings.engine.local.model = settings.local_model_path();
    settings.data_dir = dir.path().to_path_buf();
    settings.database.url = String::new();
    settings.engine.local.max_sequences = sequences;
    settings.engine.openai.max_concurrent = sequences;
    settings.worker.concurrency = sequences;
    let app = Lyceum::open(settings)
        .await
        .context("Failed to start Lyceum")?;

    let started = Instant::now();
    let draft = app.draft_outline(request, |_| {}).await?;
    let outline_time = started.elapsed();
    // What the web does while the person reads the outline: if they confirm it as drafted, unit 1.1's
    // whole prompt is in the engine's cache.
    let warming = Instant::now();
    app.warm_first_unit(request, &draft.outline).await;
    let warm_up = warming.elapsed();
    let outlined = app.engine.profile();
    let course = app
        .confirm_course(request, draft.outline, &draft.stats)
        .await?;
    let confirmed = Instant::now();
    let first_unit = app
        .store
        .units(course.id)
        .await?
        .first()
        .map(|unit| unit.id);
    let first_text = match first_unit {
        Some(unit_id) => match app.open_unit(unit_id).await? {
            UnitText::Live(mut watch) => Some(tokio::spawn(async move {
                loop {
                    match watch.events.recv().await {
                        Ok(LiveEvent::Text(_)) => return Some(confirmed.elapsed()),
                        Ok(LiveEvent::Restart) => {}
                        Ok(LiveEvent::Done | LiveEvent::Failed(_)) | Err(_) => return None,
                    }
                }
            })),
            UnitText::Ready(_) | UnitText::Failed => None,
        },
        None => None,
    };
    let progress = tokio::spawn({
        let app = Arc::clone(&app);
        let course_id = course.id;
        async move {
            let mut ticks = tokio::time::interval_at(
                tokio::time::Instant::now() + COURSE_PROGRESS_EVERY,
                COURSE_PROGRESS_EVERY,
            );
            loop {
                ticks.tick().await;
                let Ok(records) = app.store.generations(course_id).await else {
                    continue;
                };
                let ready = records.iter().filter(|g| g.status == Status::Ready).count();
                let generated = app.engine.profile().map_or(0, |profile| profile.generated);
                let said = crate::commands::write_stdout(format_args!(
                    "  {:.0} s: {ready} of {} items ready, {generated} tokens generated\n",
                    started.elapsed().as_secs_f64(),
                    records.len(),
                ));
                if said.is_err() {
                    return;
                }
            }
        }
    });
    let deadline = limit.map(|limit| tokio::time::Instant::from_std(started + limit));
    let stop = async move {
        match deadline {
            Some(deadline) => tokio::time::sleep_until(deadline).await,
            None => std::future::pending().await,
        }
    };
    let worked = Worker::new(Arc::clone(&app)).run(Until::Idle, stop).await;
    progress.abort();
    worked?;
    let total = started.elapsed();
    let first_text = match first_text {
        Some(task) => task.await.ok().flatten(),
        None => None,
    };
    let records = app.store.generations(course.id).await?;
    let ready = records.iter().filter(|g| g.status == Status::Ready).count();
    let tokens_out: i64 = records.iter().filter_map(|g| g.tokens_out).sum();
    let tokens_in: i64 = records.iter().filter_map(|g| g.tokens_in).sum();
    if ready < records.len() && limit.is_some_and(|limit| total >= limit) {
        outln!(
            "stopped at the time limit with {} items not written; the figures below are for what \
             was written by then",
            records.len() - ready
        );
    }
    outln!(
        "{sequences} at once{}: {} items ({ready} ready) in {:.0} s (outline {:.0} s, then {:.0} s); \
         {tokens_in} prompt + {tokens_out} generated tokens, {:.1} generated tokens/s; \
         unit 1.1 text {} after confirming (its prompt decoded ahead in {:.1} s, while the \
         outline is read)",
        cache_layout(&app.settings),
        records.len(),
        total.as_secs_f64(),
        outline_time.as_secs_f64(),
        (total - outline_time).as_secs_f64(),
        tokens_out as f64 / total.as_secs_f64(),
        first_text.map_or("never seen".into(), |time| format!(
            "{:.1} s",
            time.as_secs_f64()
        )),
        warm_up.as_secs_f64(),
    );
    let retried: i64 = records.iter().map(|g| (g.attempts - 1).max(0)).sum();
    let discarded = app.metrics.discarded_so_far();
    outln!(
        "  thrown away: {} answers ({} generated tokens) rejected or written again; items tried \
         again by the worker: {retried} attempts",
        discarded.answers,
        discarded.tokens,
    );
    if let (Some(outlined), Some(done)) = (outlined, app.engine.profile()) {
        for (phase, profile) in [
            ("outline", outlined),
            ("writing", done.since(&outlined)),
            ("in all", done),
        ] {
            let prompt = profile.prompt_decoded + profile.prompt_reused;
            outln!(
                "  engine, {phase}: {} decode steps, {:.1} sequences busy on average; prompts {} \
                 tokens, {} decoded and {} ({:.0}%) reused from the cache; steps with prompt \
                 tokens {:.0} s, steps generating only {:.0} s; {} tokens sampled in {:.0} s; cache \
                 peak {} of {} tokens; {} steps ({:.0}%) with a request waiting for cache room \
                 beside a free slot; {} sequences paused for room",
                profile.steps,
                profile.busy as f64 / profile.steps.max(1) as f64,
                prompt,
                profile.prompt_decoded,
                profile.prompt_reused,
                100.0 * profile.prompt_reused as f64 / prompt.max(1) as f64,
                profile.prompt_secs,
                profile.generation_secs,
                profile.generated,
                profile.sampling_secs,
                profile.cache_peak,
                profile.cache_cells,
                profile.short_of_room,
                100.0 * profile.short_of_room as f64 / profile.steps.max(1) as f64,
                profile.paused,
            );
        }
    }
    Ok(())
}

async fn llm(settings: &Settings, tokens: u32, widths: &[u32], context: u32) -> anyhow::Result<()> {
    if settings.engine.kind == EngineKind::Local {
        let room = lyceum_app::engine::local_config(settings).context_per_sequence;
        // The notes, the question and the chat template's wrapping (under 100 tokens), then the
        // answer.
        if u64::from(context) + u64::from(tokens) + 100 > u64::from(room) {
            anyhow::bail!(
                "--context {context} and --tokens {tokens} do not fit in a sequence's {room} \
                 tokens (engine.local.context_per_sequence): lower one of them, or raise that \
                 setting"
            );
        }
    }
    let engine = load_engine(settings).await?;
    let info = engine.info().clone();
    outln!(
        "engine {} · model {} · {} threads{}",
        info.kind,
        info.model,
        settings.local_threads(),
        cache_layout(settings)
    );

    // Warm up once so the first figures do not include one-time costs.
    measure(&engine, essay(8, 0, 0)?).await?;

    let prompt = Request::new(vec![Message::user(long_prompt())], 1)?.with_temperature(0.0)?;
    let prefill = measure(&engine, prompt).await?;
    let prompt_rate = f64::from(prefill.prompt_tokens) / prefill.total.as_secs_f64();
    outln!(
        "prompt processing      {prompt_rate:8.1} tokens/s  ({} tokens)",
        prefill.prompt_tokens
    );

    let single = measure(&engine, essay(tokens, 1, 0)?).await?;
    outln!(
        "generation, 1 seq      {:8.1} tokens/s  ({} tokens; first token after {:.0} ms)",
        single.generation_rate(),
        single.completion_tokens,
        single.first_token.as_secs_f64() * 1e3
    );
    if settings.engine.kind == EngineKind::Local {
        widths_against_raw(settings, tokens, widths, context).await?;
    } else {
        for sequences in widths {
            let rate = concurrent(&engine, *sequences, tokens, context).await?;
            outln!(
                "aggregate, {sequences:2} seqs     {rate:8.1} tokens/s  ({:.2}x one sequence)",
                rate / single.generation_rate()
            );
        }
    }
    let question = "Outline a short course on the water cycle: a title and exactly 3 units, each with a title \
                    and exactly 3 chapter titles. Answer in JSON.";
    let plain = Request::new(vec![Message::user(question)], tokens)?
        .with_temperature(0.7)?
        .with_seed(7);
    let plain = measure(&engine, plain).await?;
    let schema = outline_schema()?;
    let constrained = Request::new(vec![Message::user(question)], tokens)?
        .with_temperature(0.7)?
        .with_seed(7)
        .with_schema(schema);
    let constrained = measure(&engine, constrained).await?;
    outln!(
        "json schema, 1 seq     {:8.1} tokens/s  ({} tokens; first token after {:.0} ms; \
         {:.2}x the same request without schema at {:.1} tokens/s)",
        constrained.generation_rate(),
        constrained.completion_tokens,
        constrained.first_token.as_secs_f64() * 1e3,
        constrained.generation_rate() / plain.generation_rate(),
        plain.generation_rate()
    );
    outln!(
        "peak RSS               {:8.1} MiB",
        peak_rss_kib().unwrap_or(0) as f64 / 1024.0
    );
    let usage = engine.usage();
    outln!(
        "usage                  {} requests, {} prompt + {} completion tokens",
        usage.requests,
        usage.prompt_tokens,
        usage.completion_tokens
    );
    Ok(())
}

/// For each width, the local engine with that many sequences and a raw llama.cpp loop over the same
/// model, threads, prompts and sampling, one after the other in this run, and the engine's share. The
/// raw loop runs three times: with llama.cpp's default cache, a stream per sequence (the baseline);
/// with one cache shared by all sequences; and with a stream per sequence without flash attention.
/// The last two are the engine's two layouts, so the one the settings choose tells the cost of the
/// engine's own work apart from that of its layout, and the three together what attention over long
/// contexts costs in llama.cpp's two CPU kernels.
async fn widths_against_raw(
    settings: &Settings,
    tokens: u32,
    widths: &[u32],
    context: u32,
) -> anyhow::Result<()> {
    if context > 0 {
        outln!("each sequence reads about {context} tokens of notes before its question");
    }
    outln!(
        "width   engine tokens/s   raw llama.cpp tokens/s   engine / raw   raw, engine's layout   \
         engine / that   engine time sampling"
    );
    for &width in widths {
        let mut config = lyceum_app::engine::local_config(settings);
        config.max_sequences = width.max(1) as usize;
        let (model_path, threads) = (config.model_path.clone(), config.threads);
        let (per_sequence, cells, kv_cache, layout) = (
            config.context_per_sequence,
            config.cache_tokens,
            config.kv_cache,
            config.layout,
        );
        let engine = tokio::task::spawn_blocking(move || LocalEngine::load(config)).await??;
        let started = Instant::now();
        let rate = concurrent(&engine, width.max(1), tokens, context).await?;
        let sampling = engine
            .profile()
            .map_or(0.0, |profile| profile.sampling_secs)
            / started.elapsed().as_secs_f64();
        drop(engine);
        let prompts: Vec<String> = (0..width.max(1))
            .map(|seed| essay_text(seed, context))
            .collect();
        let mut raw = Vec::new();
        for cache in [
            raw::Cache::Split {
                context_per_sequence: per_sequence,
            },
            raw::Cache::Unified { cells },
            raw::Cache::SplitPlainAttention {
                context_per_sequence: per_sequence,
            },
        ] {
            let (model_path, prompts) = (model_path.clone(), prompts.clone());
            raw.push(
                tokio::task::spawn_blocking(move || {
                    raw::aggregate(&model_path, threads, &prompts, tokens, cache, kv_cache)
                })
                .await??,
            );
        }
        let (split, unified, plain) = (raw[0], raw[1], raw[2]);
        let same = match layout {
            CacheLayout::Shared => unified,
            CacheLayout::Streams => plain,
        };
        outln!(
            "{width:5}   {rate:15.1}   {:22.1}   {:12.2}   {:20.1}   {:13.2}   {:19.0}%",
            split.aggregate,
            rate / split.aggregate,
            same.aggregate,
            rate / same.aggregate,
            100.0 * sampling
        );
        outln!(
            "        raw once the prompts are in (tokens/s, and seconds the prompts took): a stream \
             each {:.1} ({:.1} s), one shared cache {:.1} ({:.1} s), a stream each without flash \
             attention {:.1} ({:.1} s; {:.1} tokens/s with its prompts)",
            split.generating,
            split.prompt_secs,
            unified.generating,
            unified.prompt_secs,
            plain.generating,
            plain.prompt_secs,
            plain.aggregate
        );
    }
    Ok(())
}

/// How the local engine lays out its cache, for a benchmark's heading; nothing for a server.
fn cache_layout(settings: &Settings) -> &'static str {
    match (settings.engine.kind, settings.engine.local.layout) {
        (EngineKind::Openai, _) => "",
        (EngineKind::Local, CacheLayout::Shared) => " · one shared cache, flash attention",
        (EngineKind::Local, CacheLayout::Streams) => " · a cache stream per slot, plain attention",
    }
}

/// The process's peak resident set (VmHWM), where the platform reports it.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
