//! Following a draft live, whichever node started it and whichever worker drafts it: the draft is a
//! row, and the store's change feed says when it changed. A follower reads the row at once, again on
//! every change (at most every [`RENDER_EVERY`]), and now and then in any case, since a notification
//! can be lost.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use lyceum_app::Lyceum;
use lyceum_store::{Change, Changes, Draft, DraftStatus, StoreError};

use crate::client::StreamSlot;

/// The shortest time between two renders of a draft's live stream.
const RENDER_EVERY: Duration = Duration::from_millis(200);

/// How often a follower reads the draft again without being told it changed.
const REREAD_EVERY: Duration = Duration::from_secs(5);

/// Where a draft's live stream is.
enum Phase {
    /// Subscribe, then send the draft as it is.
    Start,
    /// Wait for a change, then send the draft as it is.
    Wait(Changes),
    /// Drafting has ended and the whole draft was sent: say how it ended (why it failed).
    Last(Result<(), String>),
    /// Nothing more.
    End,
}

/// A draft as Server-Sent Events: `event` with `render` of the draft, at once and on every change,
/// then `done` or `failed` (data: why). It holds its client's stream `slot` until it ends; a draft
/// that is deleted (it expired) or cannot be read ends the stream without an end event, and the
/// page that reloads says why.
pub fn follow(
    app: Arc<Lyceum>,
    id: String,
    slot: StreamSlot,
    event: &'static str,
    render: impl Fn(&Draft) -> String + Send + Sync + 'static,
) -> Response {
    let render = Arc::new(render);
    let stream = futures::stream::unfold((Phase::Start, slot), move |(phase, slot)| {
        let (app, id, render) = (Arc::clone(&app), id.clone(), Arc::clone(&render));
        async move {
            let (changes, draft) = match phase {
                Phase::End => return None,
                Phase::Last(ended) => {
                    let end = match ended {
                        Ok(()) => Event::default().event("done").data("drafted"),
                        Err(error) => Event::default().event("failed").data(error),
                    };
                    return Some((Ok::<_, Infallible>(end), (Phase::End, slot)));
                }
                // Subscribed before the first read, so no change after it is missed.
                Phase::Start => {
                    let changes = app.store.changes().await.ok()?;
                    (changes, read(&app, &id).await?)
                }
                Phase::Wait(mut changes) => {
                    tokio::time::sleep(RENDER_EVERY).await;
                    until_changed(&mut changes, &id).await;
                    (changes, read(&app, &id).await?)
                }
            };
            let sent = Event::default().event(event).data(render(&draft));
            // Everything once more before the end, so a follower always has all of it.
            let next = match draft.status {
                DraftStatus::Drafting => Phase::Wait(changes),
                DraftStatus::Failed => {
                    Phase::Last(Err(draft.error.unwrap_or_else(|| "drafting failed".into())))
                }
                DraftStatus::Ready | DraftStatus::Confirmed => Phase::Last(Ok(())),
            };
            Some((Ok(sent), (next, slot)))
        }
    });
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}

async fn read(app: &Lyceum, id: &str) -> Option<Draft> {
    match app.store.draft(id).await {
        Ok(draft) => Some(draft),
        Err(StoreError::NotFound(_)) => None,
        Err(error) => {
            tracing::warn!(%error, "could not read a followed draft");
            None
        }
    }
}

/// Waits until draft `id` may have changed: the feed says so, or says it missed changes, or
/// [`REREAD_EVERY`] has passed.
async fn until_changed(changes: &mut Changes, id: &str) {
    let waiting = async {
        loop {
            match changes.next().await {
                Some(Change::Draft(changed)) if changed == id => return,
                Some(Change::Draft(_) | Change::Queued | Change::Item(_) | Change::Text(_)) => {}
                Some(Change::Missed) | None => return,
            }
        }
    };
    let _ = tokio::time::timeout(REREAD_EVERY, waiting).await;
}
