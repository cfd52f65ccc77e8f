//! The OpenAI-compatible engine against a scripted server.

use std::time::Duration;

use futures::StreamExt;
use lyceum_llm::{Engine, Event, JsonSchema, LlmError, Message, Request, Usage, complete};
use serde_json::json;

use crate::helpers::{DONE, Reply, ScriptedServer, answer_stream, delta, finish};

fn ask(text: &str) -> Request {
    Request::new(vec![Message::user(text)], 64).unwrap()
}

#[tokio::test]
async fn deltas_arrive_in_order_between_pings_and_usage_is_reported() {
    let chunks = vec![
        ": keep-alive\n\n".into(),
        delta("Hel"),
        ": ping\n\n".into(),
        delta("lo"),
        finish(),
        format!(
            "data: {}\n\n",
            json!({"choices": [], "usage": {"prompt_tokens": 12, "completion_tokens": 2,
                "prompt_tokens_details": {"cached_tokens": 8}}})
        ),
        DONE.into(),
    ];
    let server = ScriptedServer::start(vec![Reply::Stream {
        chunks,
        stall: false,
    }])
    .await;
    let engine = server.engine(0);
    let mut stream = engine.generate(ask("hi"));
    let mut events = Vec::new();
    while let Some(event) = stream.next().await {
        events.push(event.unwrap());
    }
    assert_eq!(
        events,
        vec![
            Event::Delta("Hel".into()),
            Event::Delta("lo".into()),
            Event::Done(Usage {
                prompt_tokens: Some(12),
                completion_tokens: Some(2),
                cached_tokens: Some(8),
            }),
        ]
    );
    let body = &server.bodies()[0];
    assert_eq!(body["stream"], json!(true));
    assert_eq!(body["stream_options"]["include_usage"], json!(true));
    assert_eq!(body["max_tokens"], json!(64));
    assert_eq!(
        body["messages"][0],
        json!({"role": "user", "content": "hi"})
    );
}

#[tokio::test]
async fn the_json_schema_is_sent_and_the_answer_checked_against_it() {
    let schema = JsonSchema::new(
        json!({"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}),
    )
    .unwrap();
    let server = ScriptedServer::start(vec![
        answer_stream("{\"n\": 4}"),
        answer_stream("{\"n\": \"four\"}"),
    ])
    .await;
    let engine = server.engine(0);
    let request = ask("a number").with_schema(schema.clone());
    let completion = complete(&engine, request.clone()).await.unwrap();
    assert_eq!(completion.json(&schema).unwrap(), json!({"n": 4}));
    let format = &server.bodies()[0]["response_format"];
    assert_eq!(format["type"], json!("json_schema"));
    assert_eq!(&format["json_schema"]["schema"], schema.value());

    let wrong = complete(&engine, request).await.unwrap();
    assert!(matches!(
        wrong.json(&schema),
        Err(LlmError::InvalidOutput(_))
    ));
}

#[tokio::test]
async fn a_429_is_retried_after_the_time_retry_after_asks_for() {
    let limited = Reply::Status {
        code: 429,
        headers: vec![("retry-after", "1".into())],
        body: "slow down".into(),
    };
    let server = ScriptedServer::start(vec![limited, answer_stream("ok")]).await;
    let completion = complete(&server.engine(3), ask("hi")).await.unwrap();
    assert_eq!(completion.text, "ok");
    let arrivals = server.arrivals();
    assert_eq!(arrivals.len(), 2);
    // The engine's own backoff is 10 ms here; only Retry-After explains a wait of a second.
    assert!(
        arrivals[1] - arrivals[0] >= Duration::from_millis(950),
        "{:?}",
        arrivals[1] - arrivals[0]
    );
}

#[tokio::test]
async fn repeated_server_errors_end_in_a_typed_error_after_the_configured_retries() {
    let failure = || Reply::Status {
        code: 503,
        headers: vec![],
        body: "{\"error\": \"warming up\"}".into(),
    };
    let server = ScriptedServer::start(vec![
        failure(),
        failure(),
        failure(),
        answer_stream("never"),
    ])
    .await;
    let error = complete(&server.engine(2), ask("hi")).await.unwrap_err();
    match error {
        LlmError::Upstream { status, body } => {
            assert_eq!(status, 503);
            assert!(body.contains("warming up"), "{body}");
        }
        other => panic!("expected an upstream error, got {other:?}"),
    }
    assert_eq!(server.bodies().len(), 3, "one attempt and two retries");
}

#[tokio::test]
async fn a_client_error_is_not_retried() {
    let server = ScriptedServer::start(vec![Reply::Status {
        code: 401,
        headers: vec![],
        body: "bad key".into(),
    }])
    .await;
    let error = complete(&server.engine(3), ask("hi")).await.unwrap_err();
    assert!(
        matches!(error, LlmError::Upstream { status: 401, .. }),
        "{error:?}"
    );
    assert_eq!(server.bodies().len(), 1);
}

#[tokio::test]
async fn a_stalled_stream_times_out_after_the_text_it_sent() {
    let server = ScriptedServer::start(vec![Reply::Stream {
        chunks: vec![delta("par")],
        stall: true,
    }])
    .await;
    let engine = server.engine(0);
    let mut stream = engine.generate(ask("hi"));
    assert_eq!(
        stream.next().await.unwrap().unwrap(),
        Event::Delta("par".into())
    );
    let error = stream.next().await.unwrap().unwrap_err();
    assert!(matches!(error, LlmError::Timeout(..)), "{error:?}");
    assert!(stream.next().await.is_none(), "nothing follows an error");
}

#[tokio::test]
async fn a_malformed_event_is_a_protocol_error_not_a_panic() {
    let chunks = vec![delta("a"), "data: {\"choices\": [\n\n".into(), DONE.into()];
    let server = ScriptedServer::start(vec![Reply::Stream {
        chunks,
        stall: false,
    }])
    .await;
    let error = complete(&server.engine(0), ask("hi")).await.unwrap_err();
    assert!(matches!(error, LlmError::Protocol(_)), "{error:?}");
}

#[tokio::test]
async fn a_stream_that_ends_before_finishing_is_an_error() {
    let server = ScriptedServer::start(vec![Reply::Stream {
        chunks: vec![delta("a")],
        stall: false,
    }])
    .await;
    let error = complete(&server.engine(0), ask("hi")).await.unwrap_err();
    assert!(matches!(error, LlmError::Protocol(_)), "{error:?}");
}

#[tokio::test]
async fn a_server_that_refuses_json_schema_gets_json_object_from_then_on() {
    let refusal = Reply::Status {
        code: 400,
        headers: vec![],
        body: "{\"error\": \"response_format.type must be json_object or text\"}".into(),
    };
    let server = ScriptedServer::start(vec![
        refusal,
        answer_stream("{\"n\": 1}"),
        answer_stream("{\"n\": 2}"),
    ])
    .await;
    let engine = server.engine(0);
    let schema = JsonSchema::new(json!({"type": "object"})).unwrap();
    let request = ask("n").with_schema(schema.clone());
    assert_eq!(
        complete(&engine, request.clone()).await.unwrap().text,
        "{\"n\": 1}"
    );
    assert_eq!(complete(&engine, request).await.unwrap().text, "{\"n\": 2}");
    let bodies = server.bodies();
    assert_eq!(bodies.len(), 3);
    assert_eq!(bodies[0]["response_format"]["type"], json!("json_schema"));
    for body in &bodies[1..] {
        assert_eq!(
            body["response_format"],
            json!({"type": "json_object", "schema": schema.value()})
        );
    }
}

#[tokio::test]
async fn a_server_error_that_names_the_response_format_switches_it_and_other_errors_do_not() {
    // llama-cpp-python's server fails its own validation of `json_schema` with a 500.
    let validation = Reply::Status {
        code: 500,
        headers: vec![],
        body: r#"{"detail":[{"type":"literal_error","loc":["body","response_format","type"],"msg":"Input should be 'text' or 'json_object'"}]}"#.into(),
    };
    let server = ScriptedServer::start(vec![validation, answer_stream("{\"n\": 1}")]).await;
    let schema = JsonSchema::new(json!({"type": "object"})).unwrap();
    let request = ask("n").with_schema(schema.clone());
    let completion = complete(&server.engine(0), request).await.unwrap();
    assert_eq!(completion.text, "{\"n\": 1}");
    assert_eq!(
        server.bodies()[1]["response_format"]["type"],
        json!("json_object")
    );

    // A prompt too long is not about the format: the error comes back and `json_schema` stays.
    let too_long = Reply::Status {
        code: 400,
        headers: vec![],
        body: r#"{"error": "the request exceeds the available context size"}"#.into(),
    };
    let server = ScriptedServer::start(vec![too_long, answer_stream("{\"n\": 2}")]).await;
    let engine = server.engine(0);
    let error = complete(&engine, ask("n").with_schema(schema.clone()))
        .await
        .unwrap_err();
    assert!(
        matches!(error, LlmError::Upstream { status: 400, .. }),
        "{error:?}"
    );
    complete(&engine, ask("n").with_schema(schema))
        .await
        .unwrap();
    let bodies = server.bodies();
    assert_eq!(bodies.len(), 2);
    assert_eq!(bodies[1]["response_format"]["type"], json!("json_schema"));

    // A genuine outage is retried as before, in the same format.
    let outage = Reply::Status {
        code: 502,
        headers: vec![],
        body: "bad gateway".into(),
    };
    let server = ScriptedServer::start(vec![outage, answer_stream("{\"n\": 3}")]).await;
    let request = ask("n").with_schema(JsonSchema::new(json!({"type": "object"})).unwrap());
    complete(&server.engine(1), request).await.unwrap();
    let bodies = server.bodies();
    assert_eq!(bodies.len(), 2);
    assert_eq!(bodies[1]["response_format"]["type"], json!("json_schema"));
}

#[tokio::test]
async fn a_stream_without_usage_reports_usage_as_unknown() {
    let chunks = vec![delta("fine"), finish(), DONE.into()];
    let server = ScriptedServer::start(vec![Reply::Stream {
        chunks,
        stall: false,
    }])
    .await;
    let completion = complete(&server.engine(0), ask("hi")).await.unwrap();
    assert_eq!(completion.text, "fine");
    assert_eq!(
        completion.usage,
        Usage {
            prompt_tokens: None,
            completion_tokens: None,
            cached_tokens: None,
        }
    );
}

#[tokio::test]
async fn an_unreachable_server_is_a_connect_error_after_retries() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let mut server = ScriptedServer::start(vec![]).await;
    server.base_url = format!("http://{addr}/v1");
    let error = complete(&server.engine(1), ask("hi")).await.unwrap_err();
    assert!(matches!(error, LlmError::Connect(_)), "{error:?}");
}
