//! The governor in front of every engine: limits, the overloaded refusal, usage accounting.

use std::sync::Arc;

use futures::{FutureExt, StreamExt};
use lyceum_llm::{
    Engine, Event, Governed, GovernorConfig, LlmError, Message, Priority, Request, complete,
};

use crate::helpers::{Reply, ScriptedServer, answer_stream, delta};

/// A reply that sends `text` and then stalls, holding its slot.
fn stalling(text: &str) -> Reply {
    Reply::Stream {
        chunks: vec![delta(text)],
        stall: true,
    }
}

/// The server's engine behind a governor of one background slot (and one interactive one), with
/// `max_queued` requests allowed to wait.
fn one_slot(server: &ScriptedServer, max_queued: usize) -> Governed {
    Governed::new(
        Arc::new(server.engine(0)),
        GovernorConfig {
            max_concurrent: 1,
            max_interactive: 1,
            max_queued,
        },
    )
}

#[tokio::test]
async fn a_full_queue_is_refused_as_overloaded_and_a_dropped_stream_frees_its_slot() {
    let server = ScriptedServer::start(vec![stalling("holding"), answer_stream("second")]).await;
    let engine = one_slot(&server, 1);
    let ask = || Request::new(vec![Message::user("hi")], 16).unwrap();

    let mut first = engine.generate(ask());
    assert_eq!(
        first.next().await.unwrap().unwrap(),
        Event::Delta("holding".into())
    );
    let second = engine.generate(ask());
    let third = complete(&engine, ask()).await.unwrap_err();
    assert!(
        matches!(third, LlmError::Overloaded { queued: 1 }),
        "{third:?}"
    );
    assert!(third.to_string().contains("overloaded"));

    // The first holds the only slot until its stream is dropped.
    drop(first);
    let text: Vec<_> = second.collect().await;
    assert_eq!(
        text.first().unwrap().as_ref().unwrap(),
        &Event::Delta("second".into())
    );

    let usage = engine.usage();
    assert_eq!((usage.requests, usage.completed, usage.failed), (3, 1, 1));
    assert_eq!((usage.prompt_tokens, usage.completion_tokens), (9, 4));
}

#[tokio::test]
async fn an_interactive_request_does_not_wait_behind_background_ones() {
    let server = ScriptedServer::start(vec![
        stalling("writing a course"),
        answer_stream("hello"),
        answer_stream("the queued one"),
    ])
    .await;
    let engine = one_slot(&server, 4);
    let ask = || Request::new(vec![Message::user("hi")], 16).unwrap();
    let mut background = engine.generate(ask());
    assert_eq!(
        background.next().await.unwrap().unwrap(),
        Event::Delta("writing a course".into())
    );
    let mut queued = engine.generate(ask());
    assert!(queued.next().now_or_never().is_none());
    let answer = complete(&engine, ask().with_priority(Priority::Interactive))
        .await
        .unwrap();
    assert_eq!(answer.text, "hello");
    // The queued background request still waits for the only background slot.
    assert!(queued.next().now_or_never().is_none());
    drop(background);
    assert_eq!(
        queued.next().await.unwrap().unwrap(),
        Event::Delta("the queued one".into())
    );
}
