//! A unit read while it is written: its live stream carries the text as it grows, to every viewer,
//! and ends once the unit is stored.

use std::time::Duration;

use futures::StreamExt;
use lyceum_testkit::Action;

use crate::helpers::{drain, spawn_web};

const UNIT: &str = "/courses/a-course-on-how-bridges-carry-their-loads/weeks/1/units/1";

/// Server-sent events read from a response body, one at a time.
pub struct Events {
    stream: axum::body::BodyDataStream,
    buffer: String,
}

impl Events {
    pub fn new(body: axum::body::Body) -> Self {
        Self {
            stream: body.into_data_stream(),
            buffer: String::new(),
        }
    }

    /// The next event as `(name, data)`, data lines joined as a browser joins them; keep-alive
    /// comments are skipped.
    pub async fn next(&mut self) -> Option<(String, String)> {
        loop {
            while let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
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
                if !name.is_empty() {
                    return Some((name, data.join("\n")));
                }
            }
            let chunk = self.stream.next().await?.unwrap();
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }

    /// Every event up to and including the first named `until`.
    pub async fn until(&mut self, until: &str) -> Vec<(String, String)> {
        let mut events = Vec::new();
        while let Some(event) = self.next().await {
            let done = event.0 == until;
            events.push(event);
            if done {
                return events;
            }
        }
        panic!("the stream ended before {until}: {events:?}");
    }
}

/// Every event of `body` up to and including the first named `until`.
pub async fn read_events(body: axum::body::Body, until: &str) -> Vec<(String, String)> {
    Events::new(body).until(until).await
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

    // A viewer's stream shows the first piece once the app has it.
    let first = web.stream(&format!("{UNIT}/live")).await;
    assert_eq!(first.0, "text/event-stream");
    let mut first = Events::new(first.1);
    let mut seen = Vec::new();
    while let Some(event) = first.next().await {
        let has_piece = event.0 == "html" && event.1.contains("This unit, D");
        seen.push(event);
        if has_piece {
            break;
        }
    }
    assert!(
        seen.last()
            .is_some_and(|(_, html)| html.contains("This unit, D")),
        "{seen:?}"
    );

    // The page shows it too, and points its script at the live stream; a second viewer joins.
    let page = web.get(UNIT).await;
    assert!(page.html.contains("This unit, D"), "{}", page.html);
    assert!(
        page.html.contains(&format!("data-live=\"{UNIT}/live\"")),
        "{}",
        page.html
    );
    let second = web.stream(&format!("{UNIT}/live")).await;
    let mut second = Events::new(second.1);
    assert_eq!(
        web.web.live_units.followed(),
        1,
        "both viewers share one render"
    );
    web.model.release();
    let (rest, second) = tokio::join!(first.until("done"), second.until("done"));
    seen.extend(rest);
    let first = seen;

    for events in [&first, &second] {
        let html: Vec<&String> = events
            .iter()
            .filter(|(name, _)| name == "html")
            .map(|(_, data)| data)
            .collect();
        assert!(
            html.iter().any(|data| data.contains("This unit, D")),
            "{events:?}"
        );
        assert!(
            html.iter().any(|data| data.contains("<h2>The idea</h2>")),
            "the text grows into rendered Markdown: {events:?}"
        );
        assert_eq!(events.last().unwrap().0, "done");
    }
    // The viewer who came later got the text so far at once.
    assert_eq!(second[0].0, "html");
    assert!(second[0].1.contains("This unit, D"), "{second:?}");
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_course_page_follows_its_units_being_written_until_every_one_is() {
    let web = spawn_web().await;
    web.model.script("unit 1.1", Action::Hold);
    web.course("How bridges carry their loads", 1, 2).await;
    let course = "/courses/a-course-on-how-bridges-carry-their-loads";
    let worker = tokio::spawn(drain(web.clone_app()));
    assert_eq!(web.model.held().await, "unit 1.1");

    let page = web.get(course).await;
    assert!(
        page.html
            .contains(&format!("data-course-live=\"{course}/live\"")),
        "{}",
        page.html
    );
    let mut events = Events::new(web.stream(&format!("{course}/live")).await.1);
    let (name, first) = events.next().await.unwrap();
    assert_eq!(name, "html");
    assert!(first.contains("0 of 2 units written"), "{first}");
    assert!(
        first.contains("<span class=\"status\">writing</span>"),
        "{first}"
    );
    web.model.release();
    let rest = events.until("done").await;
    let (_, last) = &rest[rest.len() - 2];
    assert!(last.contains("2 of 2 units written"), "{rest:?}");
    assert!(
        !last.contains("class=\"status\""),
        "every unit is ready: {last}"
    );
    worker.await.unwrap();

    // A written course's page follows nothing; its stream says so at once.
    let page = web.get(course).await;
    assert!(page.html.contains("2 of 2 units written"), "{}", page.html);
    assert!(!page.html.contains("data-course-live"), "{}", page.html);
    let events = read_events(web.stream(&format!("{course}/live")).await.1, "done").await;
    assert_eq!(events.len(), 2, "{events:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn viewers_who_leave_a_unit_waiting_in_the_queue_leave_nothing_behind() {
    let web = spawn_web().await;
    web.course("How bridges carry their loads", 1, 2).await;
    // No worker: the unit waits in the queue while a crawler opens its stream many times.
    let mut open = Vec::new();
    for _ in 0..10 {
        open.push(web.stream(&format!("{UNIT}/live")).await);
    }
    assert_eq!(web.web.live_units.followed(), 1);
    assert_eq!(web.app.hub.live_entries(), 1);
    drop(open);
    web.web.live_units.until_followed(0).await;
    assert_eq!(web.app.hub.live_entries(), 0, "the hub forgot the unit");
    assert_eq!(web.web.streams.open_now(), 0);
}
