//! Builds the configured language-model engine behind its governor.

use std::sync::Arc;
use std::time::Duration;

use lyceum_llm::local::{LocalConfig, LocalEngine};
use lyceum_llm::openai::{OpenAiConfig, OpenAiEngine};
use lyceum_llm::{Engine, Governed, GovernorConfig, LlmError};

use crate::settings::{EngineKind, Settings};

/// The engine the settings choose. Loading a local model blocks for a second or two.
pub fn build(settings: &Settings) -> Result<Governed, LlmError> {
    let engine = &settings.engine;
    let (inner, max_concurrent, max_interactive): (Arc<dyn Engine>, usize, usize) =
        match engine.kind {
            EngineKind::Local => {
                let config = local_config(settings);
                // Interactive requests may take any free slot, and the reserved ones besides.
                let (background, slots) = (
                    config.max_sequences,
                    config.max_sequences + config.interactive_sequences,
                );
                (Arc::new(LocalEngine::load(config)?), background, slots)
            }
            // A server batches what it is sent: interactive requests may double the connections.
            EngineKind::Openai => (
                Arc::new(OpenAiEngine::new(openai_config(settings))?),
                engine.openai.max_concurrent,
                engine.openai.max_concurrent,
            ),
        };
    Ok(Governed::new(
        inner,
        GovernorConfig {
            max_concurrent,
            max_interactive,
            max_queued: engine.max_queued,
        },
    ))
}

/// The local engine's configuration from the settings.
pub fn local_config(settings: &Settings) -> LocalConfig {
    let local = &settings.engine.local;
    LocalConfig {
        model_path: settings.local_model_path(),
        threads: settings.local_threads(),
        max_sequences: local.max_sequences.max(1),
        interactive_sequences: local.interactive_sequences.max(1),
        context_per_sequence: local.context_per_sequence,
        cache_tokens: local.cache_tokens,
        kv_cache: local.kv_cache,
        layout: local.layout,
    }
}

/// The OpenAI-compatible engine's configuration from the settings.
pub fn openai_config(settings: &Settings) -> OpenAiConfig {
    let openai = &settings.engine.openai;
    OpenAiConfig {
        base_url: openai.base_url.clone(),
        api_key: openai.api_key.clone(),
        model: openai.model.clone(),
        max_retries: openai.max_retries,
        initial_backoff: Duration::from_millis(500),
        max_backoff: Duration::from_secs(30),
        connect_timeout: Duration::from_secs(openai.connect_timeout_secs),
        idle_timeout: Duration::from_secs(openai.idle_timeout_secs),
    }
}
