//! `lyceum chat`: stream one answer from the configured engine to the terminal.

use crate::commands::outln;
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use futures::StreamExt;
use lyceum_app::Settings;
use lyceum_llm::{Engine, Event, JsonSchema, Message, Request};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// What to ask.
    prompt: String,
    /// A system message to set the model's role.
    #[arg(long)]
    system: Option<String>,
    /// A JSON Schema file the answer must follow.
    #[arg(long, value_name = "FILE")]
    json_schema: Option<PathBuf>,
    /// The most tokens to generate.
    #[arg(long, default_value_t = 512, value_parser = clap::value_parser!(u32).range(1..))]
    max_tokens: u32,
    /// Sampling temperature, 0 to 2.
    #[arg(long, default_value_t = 0.7)]
    temperature: f32,
}

pub async fn run(settings: &Settings, args: Args) -> anyhow::Result<()> {
    let schema = match &args.json_schema {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("Failed to read the JSON schema {}", path.display()))?;
            Some(
                JsonSchema::parse(&text)
                    .with_context(|| format!("Bad JSON schema in {}", path.display()))?,
            )
        }
        None => None,
    };
    let mut messages = Vec::new();
    if let Some(system) = args.system {
        messages.push(Message::system(system));
    }
    messages.push(Message::user(args.prompt));
    let mut request =
        Request::new(messages, args.max_tokens)?.with_temperature(args.temperature)?;
    if let Some(schema) = &schema {
        request = request.with_schema(schema.clone());
    }
    let engine = load_engine(settings).await?;
    let started = Instant::now();
    let mut first_token = None;
    let mut text = String::new();
    let mut stream = engine.generate(request);
    let mut stdout = std::io::stdout();
    while let Some(event) = stream.next().await {
        match event.context("The model failed")? {
            Event::Delta(delta) => {
                first_token.get_or_insert_with(|| started.elapsed());
                stdout.write_all(delta.as_bytes())?;
                stdout.flush()?;
                text.push_str(&delta);
            }
            Event::Done(usage) => {
                outln!();
                let elapsed = started.elapsed();
                let completion = usage
                    .completion_tokens
                    .map_or("?".into(), |n| n.to_string());
                let prompt = usage.prompt_tokens.map_or("?".into(), |n| n.to_string());
                let rate = match (usage.completion_tokens, first_token) {
                    (Some(n), Some(first)) if elapsed > first => {
                        format!(
                            ", {:.1} tokens/s",
                            f64::from(n) / (elapsed - first).as_secs_f64()
                        )
                    }
                    _ => String::new(),
                };
                eprintln!(
                    "[{} {}: {prompt} prompt + {completion} completion tokens in {:.2} s{rate}]",
                    engine.info().kind,
                    engine.info().model,
                    elapsed.as_secs_f64()
                );
            }
        }
    }
    if let Some(schema) = &schema {
        schema
            .check_output(&text)
            .context("The answer does not follow the schema")?;
    }
    Ok(())
}

/// Builds the configured engine off the async threads (loading a local model blocks).
pub async fn load_engine(settings: &Settings) -> anyhow::Result<lyceum_llm::Governed> {
    let settings = settings.clone();
    let engine = tokio::task::spawn_blocking(move || lyceum_app::engine::build(&settings)).await?;
    engine.context("Failed to start the language model")
}
