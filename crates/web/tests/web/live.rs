//! A unit read while it is written: its live stream carries the text as it grows, to every viewer,
//! and ends once the unit is stored.

use std::time::Duration;

use futures::StreamExt;
use lyceum_testkit::Action;

use crate::helpers::{drain, spawn_web};

const UNIT: &str = "/courses/a-course-on-how-bridges-carry-their-loads/weeks/1/units/1";

/// Reads server-sent events from a body until one named `until` arrives; returns every
/// `(event, data)`, data lines joined as a browser joins them.
pub async fn read_events(body: axum::body::Body, until: &str) -> Vec<(String, String)> {
    let mut stream = body.into_data_stream();
    let mut buffer = String::new();
    let mut events = Vec::new();
    while let Some(chunk) = stream.next().await {
        buffer.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            let mut name = String::new();
            let mut data = Vec::new();
            for line in block.lines() {
                if let Some(value) = line.strip_prefix("event: ") {
                    name = value.to_owned();
                } else if let Some(value) = line.strip_prefix("data: ") {
                    data.push(value.to_owned());
                } else if line == "data:" {
                    data.push(String::new());
                }
            }
            if name.is_empty() {
                continue; // a keep-alive comment
            }
            let done = name == until;
            events.push((name, data.join("\n")));
            if done {
                return events;
            }
        }
    }
    panic!("the stream ended before {until}: {events:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn viewers_of_a_unit_being_written_see_its_text_grow_and_then_the_stored_article() {
    let web = spawn_web().await;
    web.model.script("unit 1.1", Action::Hold);
    web.course("How bridges carry their loads", 1, 2).await;
    let worker = tokio::spawn(drain(web.clone_app()));
    let held = tokio::time::timeout(Duration::from_secs(30), web.model.held())
        .await
        .expect("the worker reaches unit 1.1");
    assert_eq!(held, "unit 1.1");

    // The page shows the first piece already written and points its script at the live stream.
    let page = web.get(UNIT).await;
    assert!(page.html.contains("This unit, T"), "{}", page.html);
    assert!(
        page.html.contains(&format!("data-live=\"{UNIT}/live\"")),
        "{}",
        page.html
    );

    let first = web.stream(&format!("{UNIT}/live")).await;
    let second = web.stream(&format!("{UNIT}/live")).await;
    assert_eq!(first.0, "text/event-stream");
    web.model.release();
    let (first, second) = tokio::join!(read_events(first.1, "done"), read_events(second.1, "done"));

    for events in [&first, &second] {
        let html: Vec<&String> = events
            .iter()
            .filter(|(name, _)| name == "html")
            .map(|(_, data)| data)
            .collect();
        assert!(html[0].contains("This unit, T"), "{events:?}");
        assert!(
            html.iter().any(|data| data.contains("<h2>The idea</h2>")),
            "the text grows into rendered Markdown: {events:?}"
        );
        assert_eq!(events.last().unwrap().0, "done");
    }
    worker.await.unwrap();
    assert_eq!(
        web.model.count("unit 1.1"),
        (1, 1),
        "both viewers shared one generation"
    );

    let page = web.get(UNIT).await;
    assert!(page.html.contains("<h2>Key takeaways</h2>"));
    assert!(
        !page.html.contains("data-live"),
        "a written unit has no live stream"
    );
    // A stream opened after the unit is stored says so at once.
    let late = web.stream(&format!("{UNIT}/live")).await;
    let events = read_events(late.1, "done").await;
    assert_eq!(events, [("done".to_owned(), "written".to_owned())]);
}
