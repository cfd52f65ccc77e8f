//! A unit being written, as it is written: Server-Sent Events that carry the sanitised HTML of the text
//! so far (`html`), then `done` once it is stored, `failed` with the reason, or `reload` when this
//! stream fell behind. Every viewer of a unit watches the one generation; opening the stream moves a
//! queued unit to the front of the queue, as opening its page does, and never queues a failed one.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::Stream;
use lyceum_app::UnitText;
use lyceum_app::live::{LiveEvent, Watch};
use tokio::sync::broadcast::Receiver;
use tokio::sync::broadcast::error::RecvError;
use tokio::time::Instant;

use super::load;
use crate::client::{Client, StreamSlot};
use crate::{Web, WebError, markdown};

/// The shortest time between two renders of one stream: deltas arriving sooner are sent together.
const RENDER_EVERY: Duration = Duration::from_millis(200);

/// `GET /courses/{slug}/weeks/{week}/units/{unit}/live`.
pub async fn get(
    State(web): State<Web>,
    client: Client,
    Path((slug, week, number)): Path<(String, i64, i64)>,
) -> Result<Response, WebError> {
    let slot = web.streams.open(client)?;
    let (_, _, units) = load(&web, &slug).await?;
    let unit = units
        .iter()
        .find(|unit| unit.week == week && unit.number == number)
        .ok_or(WebError::NotFound)?;
    let stream = match web.app.open_unit(unit.id).await? {
        UnitText::Ready(_) => Live::ended(LiveEvent::Done),
        UnitText::Failed => Live::ended(LiveEvent::Failed("writing this unit failed".into())),
        UnitText::Live(watch) => Live::new(watch),
    };
    Ok(Sse::new(events(stream, slot))
        .keep_alive(KeepAlive::default())
        .into_response())
}

/// Where one stream is.
struct Live {
    events: Option<Receiver<LiveEvent>>,
    text: String,
    /// An event received while gathering text, handled next.
    pending: Option<Result<LiveEvent, RecvError>>,
    /// The text so far has not been sent yet.
    unsent: bool,
    next_render: Instant,
}

impl Live {
    fn new(watch: Watch) -> Self {
        Self {
            events: Some(watch.events),
            text: watch.so_far,
            pending: None,
            unsent: true,
            next_render: Instant::now(),
        }
    }

    /// A stream for a unit already written, or failed: it only says so.
    fn ended(event: LiveEvent) -> Self {
        Self {
            events: None,
            text: String::new(),
            pending: Some(Ok(event)),
            unsent: false,
            next_render: Instant::now(),
        }
    }

    /// The next event to send, or `None` when the stream is over.
    async fn next(&mut self) -> Option<Event> {
        if self.unsent {
            return Some(self.render());
        }
        let received = match self.pending.take() {
            Some(received) => received,
            None => self.events.as_mut()?.recv().await,
        };
        let event = match received {
            Ok(LiveEvent::Text(delta)) => {
                self.text.push_str(&delta);
                self.gather().await;
                return Some(self.render());
            }
            Ok(LiveEvent::Restart) => {
                self.text.clear();
                return Some(self.render());
            }
            Ok(LiveEvent::Done) => Event::default().event("done").data("written"),
            Ok(LiveEvent::Failed(reason)) => Event::default().event("failed").data(reason),
            // Missed deltas, or the writer is gone without a word: the page has the truth.
            Err(RecvError::Lagged(_) | RecvError::Closed) => {
                Event::default().event("reload").data("")
            }
        };
        self.events = None;
        Some(event)
    }

    /// Adds the deltas that arrive before the next render is due.
    async fn gather(&mut self) {
        let Some(events) = self.events.as_mut() else {
            return;
        };
        loop {
            match tokio::time::timeout_at(self.next_render, events.recv()).await {
                Err(_) => return,
                Ok(Ok(LiveEvent::Text(more))) => self.text.push_str(&more),
                Ok(other) => {
                    self.pending = Some(other);
                    return;
                }
            }
        }
    }

    fn render(&mut self) -> Event {
        self.unsent = false;
        self.next_render = Instant::now() + RENDER_EVERY;
        Event::default()
            .event("html")
            .data(markdown::render(&self.text))
    }
}

/// The stream's events; it holds its client's stream slot until it ends or the client leaves.
fn events(live: Live, slot: StreamSlot) -> impl Stream<Item = Result<Event, Infallible>> {
    futures::stream::unfold((live, slot), |(mut live, slot)| async move {
        let event = live.next().await?;
        Some((Ok(event), (live, slot)))
    })
}
