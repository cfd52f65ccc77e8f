//! A unit being written, as it is written: Server-Sent Events that carry the sanitised HTML of the text
//! so far (`html`), then `done` once it is stored, `failed` with the reason, or `reload` when this
//! stream fell behind. Every viewer of a unit shares one render of each change
//! ([`crate::shared_live`]). Opening the stream moves a queued unit to the front of the queue, as
//! opening its page does, and never queues a failed one.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::response::Response;
use lyceum_app::UnitText;
use lyceum_app::live::{LiveEvent, Watch};
use tokio::sync::watch;
use tokio::time::Instant;

use super::load;
use crate::auth::Viewer;
use crate::client::Client;
use crate::extract::Params;
use crate::shared_live::{End, Frame, end, events, show};
use crate::{Web, WebError, markdown};

/// The shortest time between two renders of one unit: deltas arriving sooner are rendered together.
const RENDER_EVERY: Duration = Duration::from_millis(200);

/// `GET /courses/{slug}/weeks/{week}/units/{unit}/live`.
pub async fn get(
    State(web): State<Web>,
    client: Client,
    Viewer(viewer): Viewer,
    Params((slug, week, number)): Params<(String, i64, i64)>,
) -> Result<Response, WebError> {
    let slot = web.streams.open(client)?;
    let user = viewer.map(|signed| signed.user);
    let (_, _, units) = load(&web, &slug, user.as_ref()).await?;
    let unit = units
        .iter()
        .find(|unit| unit.week == week && unit.number == number)
        .ok_or(WebError::NotFound)?;
    let frames = match web.app.open_unit(unit.id).await? {
        UnitText::Ready(_) => watch::channel(Frame::ended(End::Done)).1,
        UnitText::Failed => {
            watch::channel(Frame::ended(End::Failed("writing this unit failed".into()))).1
        }
        UnitText::Live(watch) => {
            let so_far = watch.so_far.clone();
            web.live_units.follow(
                unit.id,
                || Frame::html(markdown::render(&so_far)),
                |frames| render_unit(frames, watch),
            )
        }
    };
    Ok(events(frames, slot))
}

/// Renders a unit's text on each change (at most every [`RENDER_EVERY`]) until it is stored or failed.
pub(crate) async fn render_unit(frames: Arc<watch::Sender<Frame>>, watch: Watch) {
    let Watch {
        so_far: mut text,
        mut events,
        ..
    } = watch;
    let mut next_render = Instant::now() + RENDER_EVERY;
    // An event that arrived while text was being gathered, handled next.
    let mut pending = None;
    loop {
        let event = match pending.take() {
            Some(event) => event,
            None => events.recv().await,
        };
        let last = match event {
            Ok(LiveEvent::Text(delta)) => {
                text.push_str(&delta);
                loop {
                    match tokio::time::timeout_at(next_render, events.recv()).await {
                        Err(_) => break,
                        Ok(Ok(LiveEvent::Text(more))) => text.push_str(&more),
                        Ok(other) => {
                            pending = Some(other);
                            break;
                        }
                    }
                }
                show(&frames, markdown::render(&text));
                next_render = Instant::now() + RENDER_EVERY;
                continue;
            }
            Ok(LiveEvent::Restart) => {
                text.clear();
                show(&frames, "");
                continue;
            }
            Ok(LiveEvent::Done) => End::Done,
            Ok(LiveEvent::Failed(reason)) => End::Failed(reason.into()),
            // Missed deltas, or the writer is gone without a word: the page has the truth.
            Err(_) => End::Reload,
        };
        end(&frames, last);
        return;
    }
}
