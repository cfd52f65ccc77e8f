//! The OpenAI-compatible engine: any server with `/v1/chat/completions` (OpenAI, vLLM, Ollama, llama.cpp
//! server, LM Studio…), streamed over SSE.
//!
//! Servers differ, so this module is defensive: it retries 429, 5xx and connect errors with backoff
//! (honouring Retry-After), times out a stalled stream, falls back to the `json_object` form of
//! structured output for servers that refuse `json_schema`, and reports usage as unknown when a server
//! sends none. Callers still validate JSON answers themselves (see [`crate::Completion::json`]).

mod sse;

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures::{Stream, StreamExt};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

use crate::{Engine, EngineInfo, Event, LlmError, Request, TokenStream, Usage};
use sse::{SseEvent, SseParser};

/// How to reach an OpenAI-compatible server.
#[derive(Debug, Clone)]
pub struct OpenAiConfig {
    /// Base URL including `/v1`, e.g. `http://127.0.0.1:8000/v1`.
    pub base_url: String,
    /// Sent as a bearer token when set.
    pub api_key: Option<SecretString>,
    /// The model name the server knows.
    pub model: String,
    /// Retries after the first attempt on 429, 5xx and connect errors.
    pub max_retries: u32,
    /// The first backoff; it doubles each retry.
    pub initial_backoff: Duration,
    /// No wait between retries is longer than this, whatever Retry-After says.
    pub max_backoff: Duration,
    /// Limit for establishing a connection.
    pub connect_timeout: Duration,
    /// Limit for the response to start and for each gap in the stream.
    pub idle_timeout: Duration,
}

/// The OpenAI-compatible engine.
pub struct OpenAiEngine {
    shared: Arc<Shared>,
    info: EngineInfo,
}

struct Shared {
    client: reqwest::Client,
    url: reqwest::Url,
    config: OpenAiConfig,
    /// Set once the server has refused `json_schema`; it then gets `json_object` with the schema.
    json_object_only: AtomicBool,
}

impl OpenAiEngine {
    /// Checks the URL and builds the HTTP client; connects only when asked to generate.
    pub fn new(config: OpenAiConfig) -> Result<Self, LlmError> {
        let base = config.base_url.trim_end_matches('/');
        let url = reqwest::Url::parse(&format!("{base}/chat/completions")).map_err(|error| {
            LlmError::InvalidRequest(format!(
                "engine.openai.base_url `{}` is not a URL ({error}); use e.g. http://127.0.0.1:8000/v1",
                config.base_url
            ))
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(LlmError::InvalidRequest(format!(
                "engine.openai.base_url must start with http:// or https://, not `{}`",
                config.base_url
            )));
        }
        let client = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .build()
            .map_err(|error| {
                LlmError::Engine(format!("could not build the HTTP client: {error}"))
            })?;
        let info = EngineInfo {
            kind: "openai",
            model: config.model.clone(),
        };
        Ok(Self {
            shared: Arc::new(Shared {
                client,
                url,
                config,
                json_object_only: AtomicBool::new(false),
            }),
            info,
        })
    }
}

impl Engine for OpenAiEngine {
    fn info(&self) -> &EngineInfo {
        &self.info
    }

    fn generate(&self, request: Request) -> TokenStream {
        let shared = Arc::clone(&self.shared);
        let state = State::Start(shared, request);
        Box::pin(futures::stream::unfold(state, |state| async move {
            match state {
                State::Start(shared, request) => match shared.connect(&request).await {
                    Ok(response) => {
                        Reader::new(response, shared.config.idle_timeout)
                            .next()
                            .await
                    }
                    Err(error) => Some((Err(error), State::Ended)),
                },
                State::Reading(reader) => reader.next().await,
                State::Ended => None,
            }
        }))
    }
}

enum State {
    Start(Arc<Shared>, Request),
    Reading(Box<Reader>),
    Ended,
}

impl Shared {
    /// Sends the request, retrying what may succeed later, until the response starts streaming.
    async fn connect(&self, request: &Request) -> Result<reqwest::Response, LlmError> {
        let idle = self.config.idle_timeout;
        let mut retries = 0;
        loop {
            let json_object = self.json_object_only.load(Ordering::Relaxed);
            let mut post = self.client.post(self.url.clone()).json(&body(
                &self.config.model,
                request,
                json_object,
            ));
            if let Some(key) = &self.config.api_key {
                post = post.bearer_auth(key.expose_secret());
            }
            let (error, retry_after) = match tokio::time::timeout(idle, post.send()).await {
                Err(_) => return Err(LlmError::Timeout(idle, "waiting for the server to answer")),
                Ok(Err(error)) if error.is_connect() || error.is_request() => {
                    (LlmError::Connect(error_chain(&error)), None)
                }
                Ok(Err(error)) => return Err(LlmError::Connect(error_chain(&error))),
                Ok(Ok(response)) if response.status().is_success() => return Ok(response),
                Ok(Ok(response)) => {
                    let status = response.status().as_u16();
                    let retry_after = retry_after(response.headers());
                    let text = response.text().await.unwrap_or_default();
                    if request.schema().is_some()
                        && !json_object
                        && refuses_json_schema(status, &text)
                    {
                        // Once per server (this engine talks to one), whoever noticed first.
                        if !self.json_object_only.swap(true, Ordering::Relaxed) {
                            tracing::warn!(
                                status,
                                "the model server does not take `response_format: json_schema`; \
                                 sending `json_object` with the schema from now on"
                            );
                        }
                        continue;
                    }
                    let body = excerpt(text);
                    let error = LlmError::Upstream { status, body };
                    if status != 429 && status < 500 {
                        return Err(error);
                    }
                    (error, retry_after)
                }
            };
            if retries >= self.config.max_retries {
                return Err(error);
            }
            let backoff = self
                .config
                .initial_backoff
                .saturating_mul(1 << retries.min(16));
            let wait = retry_after.unwrap_or(backoff).min(self.config.max_backoff);
            tracing::info!(%error, retry = retries + 1, wait_ms = wait.as_millis() as u64, "retrying the model server");
            tokio::time::sleep(wait).await;
            retries += 1;
        }
    }
}

/// Whether an error answer says the server does not take `response_format: json_schema`: a client
/// error, or a server error from servers that fail their own request validation (llama-cpp-python
/// answers 500 "Input should be 'text' or 'json_object'"), whose body names the response format. Any
/// other error (a prompt too long for the context, an outage) is not a reason to change format.
fn refuses_json_schema(status: u16, body: &str) -> bool {
    let body = body.to_ascii_lowercase();
    (400..600).contains(&status)
        && status != 429
        && status != 503
        && (body.contains("response_format") || body.contains("json_schema"))
}

/// The request body in the OpenAI chat-completions shape.
fn body(model: &str, request: &Request, json_object: bool) -> Value {
    let messages: Vec<Value> = request
        .messages()
        .iter()
        .map(|message| json!({"role": message.role.as_str(), "content": message.content}))
        .collect();
    let mut body = json!({
        "model": model,
        "messages": messages,
        "max_tokens": request.max_tokens().get(),
        "temperature": request.temperature(),
        "stream": true,
        "stream_options": {"include_usage": true},
    });
    if !request.stop().is_empty() {
        body["stop"] = json!(request.stop());
    }
    if request.frequency_penalty() > 0.0 {
        body["frequency_penalty"] = json!(request.frequency_penalty());
    }
    if let Some(seed) = request.seed() {
        body["seed"] = json!(seed);
    }
    if let Some(schema) = request.schema() {
        body["response_format"] = if json_object {
            json!({"type": "json_object", "schema": schema.value()})
        } else {
            json!({"type": "json_schema", "json_schema": {"name": "answer", "schema": schema.value(), "strict": true}})
        };
    }
    body
}

/// Retry-After as seconds or as an HTTP date.
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(
        when.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// The start of an error body, enough for an operator to see what the server said.
fn excerpt(mut text: String) -> String {
    const LIMIT: usize = 300;
    if text.len() > LIMIT {
        let mut cut = LIMIT;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push('…');
    }
    text.trim().to_owned()
}

/// reqwest's message plus its causes ("error sending request: … connection refused").
fn error_chain(error: &reqwest::Error) -> String {
    let mut message = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

/// Reads the streamed body into events.
struct Reader {
    body: Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>,
    parser: SseParser,
    queue: VecDeque<Result<Event, LlmError>>,
    usage: Usage,
    finish_reason_seen: bool,
    idle: Duration,
}

impl Reader {
    fn new(response: reqwest::Response, idle: Duration) -> Box<Self> {
        Box::new(Self {
            body: Box::pin(response.bytes_stream()),
            parser: SseParser::default(),
            queue: VecDeque::new(),
            usage: Usage::default(),
            finish_reason_seen: false,
            idle,
        })
    }

    /// The next event, reading more of the body when none is queued.
    async fn next(mut self: Box<Self>) -> Option<(Result<Event, LlmError>, State)> {
        loop {
            if let Some(item) = self.queue.pop_front() {
                let last = !matches!(item, Ok(Event::Delta(_)));
                return Some((
                    item,
                    if last {
                        State::Ended
                    } else {
                        State::Reading(self)
                    },
                ));
            }
            let (events, ended) = match tokio::time::timeout(self.idle, self.body.next()).await {
                Err(_) => (
                    Err(LlmError::Timeout(self.idle, "the stream stalled")),
                    false,
                ),
                Ok(Some(Err(error))) => (Err(LlmError::Connect(error_chain(&error))), false),
                Ok(Some(Ok(bytes))) => {
                    (self.parser.push(&bytes).map_err(LlmError::Protocol), false)
                }
                Ok(None) => (self.parser.finish().map_err(LlmError::Protocol), true),
            };
            match events {
                Ok(events) => events.into_iter().for_each(|event| self.handle(event)),
                Err(error) => self.queue.push_back(Err(error)),
            }
            if ended && !self.has_ending() {
                // Some servers end without `[DONE]`; a finish reason is then enough.
                self.queue.push_back(if self.finish_reason_seen {
                    Ok(Event::Done(self.usage))
                } else {
                    Err(LlmError::Protocol(
                        "the stream ended before the answer finished".into(),
                    ))
                });
            }
        }
    }

    /// Whether the queue already holds the stream's last item (`Done` or an error).
    fn has_ending(&self) -> bool {
        self.queue
            .iter()
            .any(|item| !matches!(item, Ok(Event::Delta(_))))
    }

    fn handle(&mut self, event: SseEvent) {
        if self.has_ending() {
            return;
        }
        let data = match event {
            SseEvent::Done => {
                self.queue.push_back(Ok(Event::Done(self.usage)));
                return;
            }
            SseEvent::Data(data) => data,
        };
        let chunk: Value = match serde_json::from_str(&data) {
            Ok(chunk) => chunk,
            Err(error) => {
                let shown = excerpt(data);
                self.queue.push_back(Err(LlmError::Protocol(format!(
                    "an event is not JSON ({error}): {shown}"
                ))));
                return;
            }
        };
        if let Some(error) = chunk.get("error") {
            let message = error
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("unknown error");
            self.queue.push_back(Err(LlmError::Engine(format!(
                "the server failed mid-answer: {message}"
            ))));
            return;
        }
        if let Some(choice) = chunk.get("choices").and_then(|choices| choices.get(0)) {
            if let Some(text) = choice.pointer("/delta/content").and_then(Value::as_str)
                && !text.is_empty()
            {
                self.queue.push_back(Ok(Event::Delta(text.to_owned())));
            }
            if choice
                .get("finish_reason")
                .is_some_and(|reason| !reason.is_null())
            {
                self.finish_reason_seen = true;
            }
        }
        if let Some(usage) = chunk.get("usage").filter(|usage| usage.is_object()) {
            let count = |key: &str| {
                usage
                    .get(key)
                    .and_then(Value::as_u64)
                    .and_then(|n| u32::try_from(n).ok())
            };
            self.usage = Usage {
                prompt_tokens: count("prompt_tokens"),
                completion_tokens: count("completion_tokens"),
                cached_tokens: usage
                    .pointer("/prompt_tokens_details/cached_tokens")
                    .and_then(Value::as_u64)
                    .and_then(|n| u32::try_from(n).ok()),
            };
        }
    }
}
