//! Live streams rendered once per change and shared by every viewer: one task per unit being written
//! (or course being followed) turns its changes into frames of HTML, and each viewer's Server-Sent
//! Events stream sends the newest frame when it can. A hundred viewers of one unit cost one Markdown
//! render per change, not a hundred; a slow viewer skips frames instead of queueing them. The task ends
//! when its last frame is sent or when its last viewer leaves.

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::future::Future;
use std::hash::Hash;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use tokio::sync::watch;

use crate::client::StreamSlot;

/// What a live stream shows: the newest HTML, and how it ended once it has.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Frame {
    /// The HTML to show now (`html`).
    pub html: Option<Arc<str>>,
    /// How the stream ended.
    pub end: Option<End>,
}

/// How a live stream ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum End {
    /// Finished: the page has the stored result (`done`).
    Done,
    /// Failed, with why (`failed`).
    Failed(Arc<str>),
    /// Something was missed: the page should reload (`reload`).
    Reload,
}

impl Frame {
    /// A frame showing `html`.
    pub fn html(html: impl Into<Arc<str>>) -> Self {
        Self {
            html: Some(html.into()),
            end: None,
        }
    }

    /// A stream that has already ended.
    pub fn ended(end: End) -> Self {
        Self {
            html: None,
            end: Some(end),
        }
    }
}

impl End {
    fn event(&self) -> Event {
        match self {
            Self::Done => Event::default().event("done").data("written"),
            Self::Failed(reason) => Event::default().event("failed").data(reason.as_ref()),
            Self::Reload => Event::default().event("reload").data(""),
        }
    }
}

/// Shows `html` in the stream's next frame.
pub fn show(frames: &watch::Sender<Frame>, html: impl Into<Arc<str>>) {
    let html = html.into();
    frames.send_modify(|frame| frame.html = Some(html));
}

/// Ends the stream; viewers get the last HTML first if they have not yet.
pub fn end(frames: &watch::Sender<Frame>, end: End) {
    frames.send_modify(|frame| frame.end = Some(end));
}

/// The frames of every live stream of one kind, by key (a generation, a course).
pub struct SharedLive<K> {
    senders: Arc<Mutex<HashMap<K, Arc<watch::Sender<Frame>>>>>,
    /// How many streams are followed, for the operator and for tests that wait for viewers to leave.
    followed: Arc<watch::Sender<usize>>,
}

impl<K> Default for SharedLive<K> {
    fn default() -> Self {
        Self {
            senders: Arc::default(),
            followed: Arc::new(watch::Sender::new(0)),
        }
    }
}

impl<K: Hash + Eq + Clone + Send + Sync + 'static> SharedLive<K> {
    /// Follows the frames of `key`, starting their producer when nobody follows them yet: `produce`
    /// gets the sender, starting at `first`, and sends every later frame.
    pub fn follow<P, F>(
        &self,
        key: K,
        first: impl FnOnce() -> Frame,
        produce: P,
    ) -> watch::Receiver<Frame>
    where
        P: FnOnce(Arc<watch::Sender<Frame>>) -> F,
        F: Future<Output = ()> + Send + 'static,
    {
        let mut senders = lock(&self.senders);
        if let Some(sender) = senders.get(&key) {
            return sender.subscribe();
        }
        let (sender, receiver) = watch::channel(first());
        let sender = Arc::new(sender);
        senders.insert(key.clone(), Arc::clone(&sender));
        self.followed.send_replace(senders.len());
        let producing = produce(Arc::clone(&sender));
        let all = Arc::clone(&self.senders);
        let followed = Arc::clone(&self.followed);
        tokio::spawn(async move {
            tokio::select! {
                () = producing => {}
                () = sender.closed() => {}
            }
            // A viewer who joined just as the last one left sees its stream end with `reload`, and
            // the reloaded page starts a new one.
            let mut senders = lock(&all);
            if senders
                .get(&key)
                .is_some_and(|kept| Arc::ptr_eq(kept, &sender))
            {
                senders.remove(&key);
            }
            followed.send_replace(senders.len());
        });
        receiver
    }

    /// Streams followed now.
    pub fn followed(&self) -> usize {
        *self.followed.borrow()
    }

    /// Waits until `count` streams are followed.
    pub async fn until_followed(&self, count: usize) {
        let mut followed = self.followed.subscribe();
        // The sender lives as long as `self`.
        let _ = followed.wait_for(|now| *now == count).await;
    }
}

fn lock<K>(
    senders: &Mutex<HashMap<K, Arc<watch::Sender<Frame>>>>,
) -> MutexGuard<'_, HashMap<K, Arc<watch::Sender<Frame>>>> {
    senders
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// One viewer's Server-Sent Events: the newest HTML at once and on every change (a slow viewer skips
/// to the newest), then how the stream ended. It holds the viewer's stream `slot` until it ends.
pub fn events(frames: watch::Receiver<Frame>, slot: StreamSlot) -> Response {
    let viewer = Viewer {
        frames,
        _slot: slot,
        first: true,
        sent: None,
        queue: VecDeque::new(),
        finished: false,
    };
    let stream = futures::stream::unfold(viewer, |mut viewer| async move {
        let event = viewer.next().await?;
        Some((Ok::<_, Infallible>(event), viewer))
    });
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}

/// Where one viewer's stream is.
struct Viewer {
    frames: watch::Receiver<Frame>,
    _slot: StreamSlot,
    first: bool,
    /// The HTML sent last.
    sent: Option<Arc<str>>,
    queue: VecDeque<Event>,
    finished: bool,
}

impl Viewer {
    async fn next(&mut self) -> Option<Event> {
        loop {
            if let Some(event) = self.queue.pop_front() {
                return Some(event);
            }
            if self.finished {
                return None;
            }
            let gone = !self.first && self.frames.changed().await.is_err();
            self.first = false;
            let frame = self.frames.borrow_and_update().clone();
            if let Some(html) = frame.html
                && !self
                    .sent
                    .as_ref()
                    .is_some_and(|sent| Arc::ptr_eq(sent, &html))
            {
                self.queue
                    .push_back(Event::default().event("html").data(html.as_ref()));
                self.sent = Some(html);
            }
            // A producer gone without an end left the viewer behind: the page has the truth.
            let end = frame.end.or(gone.then_some(End::Reload));
            if let Some(end) = end {
                self.queue.push_back(end.event());
                self.finished = true;
            }
        }
    }
}
