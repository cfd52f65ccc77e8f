//! A draft's life as the site and the API share it: starting one within the client's limits
//! ([`start`]), following it live whichever node started it and whichever worker drafts it
//! ([`follow`]), and making its course ([`create_course`]). The draft is a row, and the store's
//! change feed says when it changed. A follower reads the row at once, again on
//! every change (at most every [`RENDER_EVERY`]), and now and then in any case, since a notification
//! can be lost.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use lyceum_app::GenerateError;
use lyceum_app::Lyceum;
use lyceum_course::{CourseRequest, Outline};
use lyceum_store::{
    Change, Changes, Course, Draft, DraftRefused, DraftStatus, NewDraft, StoreError, User,
};

use crate::client::{Client, StreamSlot};
use crate::{Web, WebError};

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

/// Follows the draft `id` for `client` as Server-Sent Events (see [`stream`]); `NotFound` for no
/// such draft, `TooManyStreams` when the client holds as many streams open as it may.
pub async fn follow(
    web: &Web,
    client: Client,
    id: &str,
    event: &'static str,
    render: impl Fn(&Draft) -> String + Send + Sync + 'static,
) -> Result<Response, WebError> {
    let draft = web.app.store.draft(id).await?;
    let slot = web.streams.open(client)?;
    Ok(stream(Arc::clone(&web.app), draft.id, slot, event, render))
}

/// A draft as Server-Sent Events: `event` with `render` of the draft, at once and on every change,
/// then `done` or `failed` (data: why). It holds its client's stream `slot` until it ends; a draft
/// that is deleted (it expired) or cannot be read ends the stream without an end event, and the
/// page that reloads says why.
fn stream(
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
                Some(
                    Change::Draft(_)
                    | Change::Queued
                    | Change::Item(_)
                    | Change::Text(_)
                    | Change::Account(_)
                    | Change::Course(_),
                ) => {}
                Some(Change::Missed) | None => return,
            }
        }
    };
    let _ = tokio::time::timeout(REREAD_EVERY, waiting).await;
}

/// Starts drafting `request` for `client`, within its limits, and the draft's id. Someone signed in
/// (`account`) is counted by account: drafts a day and drafts at once, in the store. Anyone else is
/// counted by address: drafts and course units an hour, and drafts at once.
pub async fn start(
    web: &Web,
    client: Client,
    account: Option<&User>,
    request: &CourseRequest,
) -> Result<String, WebError> {
    let settings = &web.app.settings.web;
    let weeks = request.weeks.get();
    let units = (weeks * request.units_per_week.get()) as u32;
    let owner = match account {
        Some(user) => format!("account:{}", user.id),
        None => {
            web.draft_limit
                .check(client, 1)
                .map_err(WebError::TooManyRequests)?;
            if let Err(wait) = web.unit_limit.check(client, units) {
                web.draft_limit.refund(client, 1);
                return Err(WebError::TooManyRequests(wait));
            }
            client.0.to_string()
        }
    };
    let per_day = settings.drafts_per_day_per_account;
    let new = NewDraft {
        request,
        owner: &owner,
        user_id: account.map(|user| user.id),
        at_once: settings.drafts_at_once,
        per_day: (account.is_some() && per_day > 0).then_some(per_day),
    };
    let started = match web.app.start_draft(&new).await {
        Ok(Ok(id)) => Ok(id),
        Ok(Err(DraftRefused::Drafting)) => Err(WebError::TooManyDrafts),
        Ok(Err(DraftRefused::Today)) => Err(WebError::TooManyDraftsToday(per_day)),
        Err(error) => Err(error.into()),
    };
    if started.is_err() && account.is_none() {
        web.draft_limit.refund(client, 1);
        web.unit_limit.refund(client, units);
    }
    tracing::info!(
        weeks,
        signed_in = account.is_some(),
        "drafting an outline from the web"
    );
    started
}

/// Creates the course of `draft` from `outline` and starts writing it (once: a draft confirmed already
/// gives its course); or the outline's problems as `(path, message)` pairs, with nothing stored.
pub async fn create_course(
    web: &Web,
    draft: &Draft,
    outline: Outline,
) -> Result<Result<Course, Vec<(String, String)>>, WebError> {
    match web.app.confirm_draft(draft, outline).await {
        Ok(course) => Ok(Ok(course)),
        Err(GenerateError::Outline(error)) => Ok(Err(error.problems)),
        Err(other) => Err(other.into()),
    }
}
