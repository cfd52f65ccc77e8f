//! A scripted OpenAI-compatible server (the network edge) and the path of the real fast model (0.5B).

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use lyceum_llm::openai::{OpenAiConfig, OpenAiEngine};
use serde_json::{Value, json};

/// One scripted answer.
pub enum Reply {
    /// A 200 SSE stream of these raw chunks; with `stall`, the stream then stays open and silent.
    Stream { chunks: Vec<String>, stall: bool },
    /// An error status with headers and a body.
    Status {
        code: u16,
        headers: Vec<(&'static str, String)>,
        body: String,
    },
}

/// A request the server received, with when it arrived.
pub struct Received {
    pub body: Value,
    pub at: Instant,
}

#[derive(Clone)]
struct Script {
    replies: Arc<Mutex<VecDeque<Reply>>>,
    received: Arc<Mutex<Vec<Received>>>,
}

pub struct ScriptedServer {
    pub base_url: String,
    received: Arc<Mutex<Vec<Received>>>,
}

impl ScriptedServer {
    pub async fn start(replies: Vec<Reply>) -> Self {
        let script = Script {
            replies: Arc::new(Mutex::new(replies.into())),
            received: Arc::new(Mutex::new(Vec::new())),
        };
        let received = Arc::clone(&script.received);
        let app = Router::new()
            .route("/v1/chat/completions", axum::routing::post(answer))
            .with_state(script);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self {
            base_url: format!("http://{addr}/v1"),
            received,
        }
    }

    /// Bodies of the requests received so far.
    pub fn bodies(&self) -> Vec<Value> {
        self.received
            .lock()
            .unwrap()
            .iter()
            .map(|r| r.body.clone())
            .collect()
    }

    /// Arrival times of the requests received so far.
    pub fn arrivals(&self) -> Vec<Instant> {
        self.received.lock().unwrap().iter().map(|r| r.at).collect()
    }

    /// An engine pointed at this server, retrying quickly.
    pub fn engine(&self, max_retries: u32) -> OpenAiEngine {
        OpenAiEngine::new(OpenAiConfig {
            base_url: self.base_url.clone(),
            api_key: Some("sk-test".to_owned().into()),
            model: "scripted".into(),
            max_retries,
            initial_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(2),
            idle_timeout: Duration::from_millis(500),
        })
        .unwrap()
    }
}

async fn answer(State(script): State<Script>, _headers: HeaderMap, body: String) -> Response {
    let body: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    script.received.lock().unwrap().push(Received {
        body,
        at: Instant::now(),
    });
    let reply = script.replies.lock().unwrap().pop_front();
    match reply {
        None => (StatusCode::INTERNAL_SERVER_ERROR, "script exhausted").into_response(),
        Some(Reply::Status {
            code,
            headers,
            body,
        }) => {
            let mut response = (StatusCode::from_u16(code).unwrap(), body).into_response();
            for (name, value) in headers {
                response.headers_mut().insert(name, value.parse().unwrap());
            }
            response
        }
        Some(Reply::Stream { chunks, stall }) => {
            let head = futures::stream::iter(chunks.into_iter().map(Ok::<_, std::io::Error>));
            let body = if stall {
                Body::from_stream(head.chain(futures::stream::pending()))
            } else {
                Body::from_stream(head)
            };
            Response::builder()
                .header("content-type", "text/event-stream")
                .body(body)
                .unwrap()
        }
    }
}

/// An SSE event carrying one content delta.
pub fn delta(text: &str) -> String {
    format!(
        "data: {}\n\n",
        json!({"choices": [{"index": 0, "delta": {"content": text}, "finish_reason": null}]})
    )
}

/// The chunk that ends the choice.
pub fn finish() -> String {
    format!(
        "data: {}\n\n",
        json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    )
}

/// The usage chunk servers send with `stream_options.include_usage`.
pub fn usage(prompt: u32, completion: u32) -> String {
    format!(
        "data: {}\n\n",
        json!({"choices": [], "usage": {"prompt_tokens": prompt, "completion_tokens": completion}})
    )
}

pub const DONE: &str = "data: [DONE]\n\n";

/// A complete, well-behaved streamed answer.
pub fn answer_stream(text: &str) -> Reply {
    Reply::Stream {
        chunks: vec![delta(text), finish(), usage(9, 4), DONE.into()],
        stall: false,
    }
}

/// The model the real-model tests run on: the fast one (Qwen2.5-Coder-0.5B), which keeps them
/// short, installed by `lyceum model install --model fast` into the repository's `data/models` (the
/// README's test command runs it), or the file `TEST_LYCEUM_MODEL` names.
pub fn test_model() -> PathBuf {
    let path = std::env::var_os("TEST_LYCEUM_MODEL").map_or_else(
        || {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../data/models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf")
        },
        PathBuf::from,
    );
    assert!(
        path.exists(),
        "the tests' model is not at {}; run `lyceum model install --model fast`",
        path.display()
    );
    path
}

/// The sentence encoder the search tests run on, installed by `lyceum model install` beside the
/// chat model, or the file `TEST_LYCEUM_ENCODER` names.
pub fn test_encoder() -> PathBuf {
    let path = std::env::var_os("TEST_LYCEUM_ENCODER").map_or_else(
        || {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../data/models/all-minilm-l6-v2.gguf")
        },
        PathBuf::from,
    );
    assert!(
        path.exists(),
        "the tests' encoder is not at {}; run `lyceum model install --model fast`",
        path.display()
    );
    path
}
