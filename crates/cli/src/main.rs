//! The `lyceum` binary: parses the command line, reads the settings once, and hands each command to
//! `lyceum-app`. Commands are thin: they parse, call, and print.

mod commands;
mod progress;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use lyceum_app::Settings;
use lyceum_app::settings::CONFIG_VAR;

use commands::{out, outln};

/// Lyceum turns any topic into a course and teaches it.
///
/// Settings come from defaults, then lyceum.toml (or --config), then LYCEUM_* environment variables;
/// `lyceum config` shows the result.
#[derive(Debug, Parser)]
#[command(name = "lyceum", version, propagate_version = true)]
struct Cli {
    /// Settings file to read instead of ./lyceum.toml.
    #[arg(long, global = true, env = CONFIG_VAR, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Folder for the database, models and mail outbox [default: ./data].
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// The local engine's model instead of the configured one: a GGUF file, or a model `lyceum model
    /// list` names (`fast` is the smaller, quicker one; `lyceum model install --model fast` installs it).
    #[arg(long, global = true, value_name = "PATH|NAME")]
    model: Option<PathBuf>,
    /// How log lines on stderr are written: `text` for people, `json` (one object a line) for a log
    /// collector. RUST_LOG chooses which are written (default: warnings and errors).
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the web app and the worker: read courses at http://localhost:8080 (see --bind).
    Serve(commands::serve::Args),
    /// Make a course: draft its outline, store it, write every unit, overview and quiz.
    Generate(commands::generate::Args),
    /// List, inspect and retry stored courses.
    #[command(subcommand)]
    Courses(commands::courses::Command),
    /// Add, list and disable accounts.
    #[command(subcommand)]
    Users(commands::users::Command),
    /// Outgoing mail: send a test message.
    #[command(subcommand)]
    Mail(commands::mail::Command),
    /// Write a stored course to a folder as Markdown or JSON.
    Export(commands::courses::ExportArgs),
    /// Run the background worker that writes queued courses.
    Worker(commands::courses::WorkerArgs),
    /// Bring the database schema up to date (every command also does this at start).
    Migrate,
    /// List the languages a course can be written in.
    Languages,
    /// Ask the configured language model something and watch the answer stream.
    Chat(commands::chat::Args),
    /// The search index: rebuild the vectors of search by meaning.
    #[command(subcommand)]
    Search(commands::search::Command),
    /// Install, list and download models.
    #[command(subcommand)]
    Model(commands::model::Command),
    /// Measure performance.
    #[command(subcommand)]
    Bench(commands::bench::Command),
    /// Print the effective settings, documented, with secrets redacted.
    Config,
}

/// jemalloc, with its background thread handing memory freed by a burst (a thousand live streams
/// closing) back to the system within seconds; the system allocator kept it for good
/// (`lyceum bench memory`). llama.cpp allocates through the C library, unaffected.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Warnings and errors, except llama.cpp's notes about the model file, which are not actionable here.
const DEFAULT_LOG_FILTER: &str = "warn,llama-cpp-2=error";

fn main() -> ExitCode {
    // Without it, freed pages are purged only when the process allocates again.
    let _ = tikv_jemalloc_ctl::background_thread::write(true);
    let cli = Cli::parse();
    let logs = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(DEFAULT_LOG_FILTER)),
        );
    match cli.log_format {
        LogFormat::Text => logs.init(),
        LogFormat::Json => logs.json().init(),
    }
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) if error.downcast_ref::<commands::StdoutClosed>().is_some() => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            if error.downcast_ref::<commands::UsageError>().is_some() {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let mut settings = Settings::load(cli.config.as_deref(), std::env::vars())?;
    if let Some(dir) = cli.data_dir {
        settings.data_dir = dir;
    }
    if let Some(model) = cli.model {
        settings.engine.local.model = model;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match cli.command {
        Command::Serve(args) => runtime.block_on(commands::serve::run(&settings, args)),
        Command::Generate(args) => runtime.block_on(commands::generate::run(&settings, args)),
        Command::Courses(command) => runtime.block_on(commands::courses::run(&settings, command)),
        Command::Users(command) => runtime.block_on(commands::users::run(&settings, command)),
        Command::Search(command) => runtime.block_on(commands::search::run(&settings, command)),
        Command::Mail(command) => runtime.block_on(commands::mail::run(&settings, command)),
        Command::Export(args) => runtime.block_on(commands::courses::export(&settings, args)),
        Command::Worker(args) => runtime.block_on(commands::courses::worker(&settings, args)),
        Command::Migrate => runtime.block_on(async {
            let store = commands::open_store(&settings).await?;
            outln!(
                "The {} database at {} is up to date.",
                store.backend_name(),
                lyceum_app::settings::redact_url(&settings.database_url())
            );
            Ok(())
        }),
        Command::Languages => {
            for language in lyceum_course::LANGUAGES {
                outln!(
                    "{:8} {:24} {}",
                    language.tag,
                    language.name,
                    language.native
                );
            }
            if let Some(hint) = settings.language_hint() {
                outln!("\n{hint}");
            }
            Ok(())
        }
        Command::Chat(args) => runtime.block_on(commands::chat::run(&settings, args)),
        Command::Model(command) => runtime.block_on(commands::model::run(&settings, command)),
        Command::Bench(command) => runtime.block_on(commands::bench::run(&settings, command)),
        Command::Config => {
            out!("{}", settings.to_documented_toml());
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        super::Cli::command().debug_assert();
    }
}
