//! The step runner every model call goes through: stream a request, check a structured answer against
//! its schema and rules and ask once more with the problems shown, fit a request to the engine's
//! context, and sum the tokens of an item's attempts.

use std::time::Instant;

use futures::StreamExt;
use lyceum_course::prompts::{self, Detail};
use lyceum_llm::{Event, LlmError, Request};
use lyceum_store::GenerationStats;
use serde::de::DeserializeOwned;

use crate::Lyceum;

use super::GenerateError;

/// What a structured step reports while it runs.
pub(super) enum StepEvent<'a> {
    Text(&'a str),
    Retry(&'a str),
}

impl Lyceum {
    /// Runs a structured step: decode, check the schema, parse into `T`, turn it into `U` with `check`;
    /// on a problem, ask once more with the problems shown. `check` sees every answer in turn, so it
    /// may keep what was usable in an earlier one. Token counts are added to `tokens`.
    pub(super) async fn structured<T: DeserializeOwned, U>(
        &self,
        request: Request,
        what: &'static str,
        tokens: &mut Tokens,
        on_event: &mut (dyn FnMut(StepEvent<'_>) + Send),
        mut check: impl FnMut(T) -> Result<U, String>,
    ) -> Result<U, GenerateError> {
        let schema = request.schema().cloned();
        let mut current = request.clone();
        let mut problems = String::new();
        for attempt in 0..2 {
            if attempt > 0 {
                on_event(StepEvent::Retry(&problems));
            }
            let before = tokens.completion();
            let text = self
                .stream(current.clone(), tokens, &mut |delta| {
                    on_event(StepEvent::Text(delta))
                })
                .await?;
            let parsed = match &schema {
                Some(schema) => schema
                    .check_output(&text)
                    .map_err(|error| error.to_string()),
                None => serde_json::from_str(text.trim()).map_err(|error| error.to_string()),
            }
            .and_then(|value| serde_json::from_value::<T>(value).map_err(|error| error.to_string()))
            .and_then(&mut check);
            match parsed {
                Ok(value) => return Ok(value),
                Err(found) => {
                    self.metrics.discarded(tokens.since(before));
                    tracing::info!(what, attempt, problems = %found, "model answer rejected");
                    tracing::debug!(what, answer = %text, "rejected answer");
                    problems = found;
                    current = retry(self.engine.as_ref(), &request, &text, &problems).await?;
                }
            }
        }
        Err(GenerateError::Invalid { what, problems })
    }

    /// Runs one request, passing each delta on, and returns the whole text.
    pub(super) async fn stream(
        &self,
        request: Request,
        tokens: &mut Tokens,
        on_delta: &mut (dyn FnMut(&str) + Send),
    ) -> Result<String, GenerateError> {
        self.stream_until(request, tokens, on_delta, &|_, _| false)
            .await
    }

    /// [`Lyceum::stream`], but generation stops at the first whole line `stop` refuses (it sees the
    /// line and the text before it), and the text ends before it (an article that starts the next unit's heading, say). The engine's token
    /// counts of a stopped generation are unknown.
    pub(super) async fn stream_until(
        &self,
        request: Request,
        tokens: &mut Tokens,
        on_delta: &mut (dyn FnMut(&str) + Send),
        stop: &(dyn Fn(&str, &str) -> bool + Sync),
    ) -> Result<String, GenerateError> {
        let mut stream = self.engine.generate(request);
        let mut text = String::new();
        let mut line_start = 0;
        while let Some(event) = stream.next().await {
            match event? {
                Event::Delta(delta) => {
                    on_delta(&delta);
                    text.push_str(&delta);
                    while let Some(end) = text[line_start..].find('\n') {
                        let line = &text[line_start..line_start + end];
                        if stop(line, &text[..line_start]) {
                            tracing::info!(
                                line,
                                kept = text[..line_start].len(),
                                "the text ended where it left its item"
                            );
                            text.truncate(line_start);
                            tokens.add(lyceum_llm::Usage::default());
                            return Ok(text);
                        }
                        line_start += end + 1;
                    }
                }
                Event::Done(usage) => {
                    tokens.add(usage);
                    return Ok(text);
                }
            }
        }
        Err(LlmError::Protocol("the generation stream ended without finishing".into()).into())
    }
}

/// The request `build` makes at the fullest [`Detail`] the engine says fits its context; the least
/// detail when none does or the engine cannot tell (a remote server, whose contexts are large).
pub async fn fit(
    engine: &dyn lyceum_llm::Engine,
    build: impl Fn(Detail) -> Result<Request, LlmError>,
) -> Result<Request, LlmError> {
    for detail in Detail::ALL {
        let request = build(detail)?;
        match engine.fits(&request).await {
            Some(false) if detail != Detail::Minimal => continue,
            _ => return Ok(request),
        }
    }
    build(Detail::Minimal)
}

/// The retry of a structured step: `request` with its rejected `answer` and the `problems` found in
/// it, or with the problems alone when the answer shown back would overflow the engine's context (the
/// problems name their places).
pub async fn retry(
    engine: &dyn lyceum_llm::Engine,
    request: &Request,
    answer: &str,
    problems: &str,
) -> Result<Request, LlmError> {
    let with_answer = prompts::corrected(request, Some(answer), problems)?;
    if engine.fits(&with_answer).await == Some(false) {
        return prompts::corrected(request, None, problems);
    }
    Ok(with_answer)
}

/// Token counts summed over the attempts of one item; unknown if any attempt's count was unknown.
pub(super) struct Tokens {
    prompt: Option<u32>,
    completion: Option<u32>,
}

impl Default for Tokens {
    fn default() -> Self {
        Self {
            prompt: Some(0),
            completion: Some(0),
        }
    }
}

impl Tokens {
    pub(super) fn add(&mut self, usage: lyceum_llm::Usage) {
        self.prompt = self.prompt.zip(usage.prompt_tokens).map(|(a, b)| a + b);
        self.completion = self
            .completion
            .zip(usage.completion_tokens)
            .map(|(a, b)| a + b);
    }

    /// The tokens generated so far.
    pub(super) fn completion(&self) -> Option<u32> {
        self.completion
    }

    /// The tokens generated since the count was `before`.
    pub(super) fn since(&self, before: Option<u32>) -> Option<u32> {
        self.completion
            .zip(before)
            .map(|(now, before)| now - before)
    }

    /// Adds the counts of steps that ran beside these.
    pub(super) fn join(&mut self, other: Tokens) {
        self.add(lyceum_llm::Usage {
            prompt_tokens: other.prompt,
            completion_tokens: other.completion,
            cached_tokens: None,
        });
    }

    pub(super) fn stats(&self, app: &Lyceum, started: Instant) -> GenerationStats {
        let info = app.engine.info();
        GenerationStats {
            engine: info.kind.to_owned(),
            model: info.model.clone(),
            tokens_in: self.prompt,
            tokens_out: self.completion,
            duration: started.elapsed(),
        }
    }
}
