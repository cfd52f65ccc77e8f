//! `lyceum search`: the search index, for operators.

use anyhow::Context;
use lyceum_app::Settings;
use lyceum_app::models::ENCODER;

use crate::commands::{open_store, outln};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Forget every unit's and course's vector for search by meaning and queue them all to be made
    /// again: after installing the encoder on a site with courses, or when vectors look wrong. The
    /// worker (`lyceum serve` or `lyceum worker`) makes them; full-text search is unaffected.
    Reindex,
}

pub async fn run(settings: &Settings, command: Command) -> anyhow::Result<()> {
    let store = open_store(settings).await?;
    match command {
        Command::Reindex => {
            let queued = store
                .queue_reindex()
                .await
                .context("Failed to queue the search index's rebuild")?;
            outln!(
                "queued {queued} units and courses to be embedded; `lyceum serve` or `lyceum worker` does it"
            );
            if !settings.models_dir().join(ENCODER.file_name).exists() {
                outln!(
                    "the sentence encoder is not installed, so the worker will skip them: run `lyceum model install` first"
                );
            }
        }
    }
    Ok(())
}
