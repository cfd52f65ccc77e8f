//! Live text of items being written, shared by everyone watching, and a feed of progress events.
//!
//! One [`Live`] entry per generation: the worker appends deltas, watchers get the text so far plus every
//! later delta, so any number of viewers share one generation. This hub lives in one process; watchers
//! on other nodes of a multi-node deployment need a shared channel, which the web app adds.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use lyceum_store::{ItemKind, Status};
use tokio::sync::broadcast;

/// What a watcher of one item receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LiveEvent {
    /// More text.
    Text(String),
    /// A new attempt started: throw away the text so far.
    Restart,
    /// The item is saved; its final text is in the store.
    Done,
    /// The item failed; the message says why.
    Failed(String),
}

/// A watcher: the text written so far and the events after it.
pub struct Watch {
    /// Text written before the watch began.
    pub so_far: String,
    /// Everything after.
    pub events: broadcast::Receiver<LiveEvent>,
}

/// A change in a course's progress, for progress bars and status pages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    /// The course.
    pub course_id: i64,
    /// The generation.
    pub generation_id: i64,
    /// What it writes.
    pub kind: ItemKind,
    /// Its new status.
    pub status: Status,
    /// Tokens generated, when finished and reported.
    pub tokens_out: Option<u32>,
}

struct Entry {
    text: String,
    sender: broadcast::Sender<LiveEvent>,
}

/// The hub of live generations.
pub struct Hub {
    entries: Mutex<HashMap<i64, Entry>>,
    progress: broadcast::Sender<Progress>,
}

/// Deltas of one item: enough for a whole unit without a watcher lagging behind.
const LIVE_CAPACITY: usize = 4096;

impl Default for Hub {
    fn default() -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
            progress: broadcast::channel(1024).0,
        }
    }
}

impl Hub {
    fn entries(&self) -> MutexGuard<'_, HashMap<i64, Entry>> {
        // A panic while holding this lock leaves plain data behind; keep serving it.
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Watches a generation, whether it is being written now or will be.
    pub fn watch(&self, generation_id: i64) -> Watch {
        let mut entries = self.entries();
        let entry = entries.entry(generation_id).or_insert_with(|| Entry {
            text: String::new(),
            sender: broadcast::channel(LIVE_CAPACITY).0,
        });
        Watch {
            so_far: entry.text.clone(),
            events: entry.sender.subscribe(),
        }
    }

    /// Starts writing a generation's live text.
    pub fn writer(self: &Arc<Self>, generation_id: i64) -> LiveWriter {
        let mut entries = self.entries();
        let entry = entries.entry(generation_id).or_insert_with(|| Entry {
            text: String::new(),
            sender: broadcast::channel(LIVE_CAPACITY).0,
        });
        if !entry.text.is_empty() {
            entry.text.clear();
            let _ = entry.sender.send(LiveEvent::Restart);
        }
        LiveWriter {
            hub: Arc::clone(self),
            generation_id,
            ended: false,
        }
    }

    /// Subscribes to progress events of every course.
    pub fn progress(&self) -> broadcast::Receiver<Progress> {
        self.progress.subscribe()
    }

    pub(crate) fn report(&self, progress: Progress) {
        // Nobody listening is fine.
        let _ = self.progress.send(progress);
    }

    fn append(&self, generation_id: i64, text: &str) {
        if let Some(entry) = self.entries().get_mut(&generation_id) {
            entry.text.push_str(text);
            let _ = entry.sender.send(LiveEvent::Text(text.to_owned()));
        }
    }

    fn end(&self, generation_id: i64, event: LiveEvent) {
        if let Some(entry) = self.entries().remove(&generation_id) {
            let _ = entry.sender.send(event);
        }
    }
}

/// Appends the live text of one generation; ends it as failed if dropped without [`LiveWriter::done`].
pub struct LiveWriter {
    hub: Arc<Hub>,
    generation_id: i64,
    ended: bool,
}

impl LiveWriter {
    /// Appends a delta.
    pub fn push(&self, text: &str) {
        self.hub.append(self.generation_id, text);
    }

    /// The item is saved.
    pub fn done(mut self) {
        self.hub.end(self.generation_id, LiveEvent::Done);
        self.ended = true;
    }

    /// The item failed.
    pub fn failed(mut self, reason: &str) {
        self.hub
            .end(self.generation_id, LiveEvent::Failed(reason.to_owned()));
        self.ended = true;
    }
}

impl Drop for LiveWriter {
    fn drop(&mut self) {
        if self.ended {
            return;
        }
        self.hub.end(
            self.generation_id,
            LiveEvent::Failed("the writing was interrupted".into()),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_late_watcher_gets_the_text_so_far_and_then_every_delta() {
        let hub = Arc::new(Hub::default());
        let mut early = hub.watch(7);
        let writer = hub.writer(7);
        writer.push("Hello");
        let mut late = hub.watch(7);
        assert_eq!(late.so_far, "Hello");
        writer.push(", world");
        writer.done();
        assert_eq!(
            early.events.try_recv().unwrap(),
            LiveEvent::Text("Hello".into())
        );
        assert_eq!(
            early.events.try_recv().unwrap(),
            LiveEvent::Text(", world".into())
        );
        assert_eq!(early.events.try_recv().unwrap(), LiveEvent::Done);
        assert_eq!(
            late.events.try_recv().unwrap(),
            LiveEvent::Text(", world".into())
        );
        assert_eq!(late.events.try_recv().unwrap(), LiveEvent::Done);
    }

    #[test]
    fn a_dropped_writer_tells_watchers_it_failed() {
        let hub = Arc::new(Hub::default());
        let mut watch = hub.watch(1);
        drop(hub.writer(1));
        assert!(matches!(
            watch.events.try_recv().unwrap(),
            LiveEvent::Failed(_)
        ));
    }
}
