//! The `lyceum` binary: parses the command line, reads the settings once, and hands each command to
//! `lyceum-app`. Commands are thin: they parse, call, and print.

mod commands;
mod progress;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use lyceum_app::Settings;
use lyceum_app::settings::CONFIG_VAR;

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
    /// A GGUF model file for the local engine, instead of the configured one.
    #[arg(long, global = true, value_name = "PATH")]
    model: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Ask the configured language model something and watch the answer stream.
    Chat(commands::chat::Args),
    /// Install, list and download models.
    #[command(subcommand)]
    Model(commands::model::Command),
    /// Measure performance.
    #[command(subcommand)]
    Bench(commands::bench::Command),
    /// Print the effective settings, documented, with secrets redacted.
    Config,
}

/// Warnings and errors, except llama.cpp's notes about the model file, which are not actionable here.
const DEFAULT_LOG_FILTER: &str = "warn,llama-cpp-2=error";

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(DEFAULT_LOG_FILTER)),
        )
        .init();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
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
        Command::Chat(args) => runtime.block_on(commands::chat::run(&settings, args)),
        Command::Model(command) => runtime.block_on(commands::model::run(&settings, command)),
        Command::Bench(command) => runtime.block_on(commands::bench::run(&settings, command)),
        Command::Config => {
            print!("{}", settings.to_documented_toml());
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
