//! Live text of items being written, shared by everyone watching, and a feed of progress events.
//!
//! One entry per generation: the worker appends deltas, watchers get the text so far plus every later
//! delta, so any number of viewers share one generation. An entry lives while it is being written or
//! watched: the last watcher to leave an item nobody here writes (it waits in the queue, or another
//! node writes it) removes it, so crawling unwritten units holds no memory. This hub lives in one
//! process; watchers on other nodes of a multi-node deployment need a shared channel.

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

/// A watcher: the text written so far and the events after it. Dropping it leaves the item.
pub struct Watch {
    /// Text written before the watch began.
    pub so_far: String,
    /// Everything after.
    pub events: broadcast::Receiver<LiveEvent>,
    /// Declared last, so it runs after `events` is dropped and sees the watcher gone.
    _leave: Leave,
}

/// Removes a generation's entry when its last watcher leaves and nobody here writes it.
struct Leave {
    hub: Arc<Hub>,
    generation_id: i64,
}

impl Drop for Leave {
    fn drop(&mut self) {
        let mut entries = self.hub.entries();
        if entries
            .get(&self.generation_id)
            .is_some_and(|entry| !entry.writing && entry.sender.receiver_count() == 0)
        {
            entries.remove(&self.generation_id);
        }
    }
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
    /// A [`LiveWriter`] of this process holds it.
    writing: bool,
}

impl Entry {
    fn new() -> Self {
        Self {
            text: String::new(),
            sender: broadcast::channel(LIVE_CAPACITY).0,
            writing: false,
        }
    }
}

/// The hub of live generations.
pub struct Hub {
    entries: Mutex<HashMap<i64, Entry>>,
    progress: broadcast::Sender<Progress>,
}

/// Deltas one watcher may fall behind by before it is told to reload. The web app's one watcher per
/// unit gathers what arrived every 200 ms (a dozen deltas at 60 tokens/s), so only a stalled task
/// gets this far. Every entry allocates this many slots.
const LIVE_CAPACITY: usize = 64;

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
    pub fn watch(self: &Arc<Self>, generation_id: i64) -> Watch {
        let mut entries = self.entries();
        let entry = entries.entry(generation_id).or_insert_with(Entry::new);
        Watch {
            so_far: entry.text.clone(),
            events: entry.sender.subscribe(),
            _leave: Leave {
                hub: Arc::clone(self),
                generation_id,
            },
        }
    }

    /// How many generations are being written or watched in this process.
    pub fn live_entries(&self) -> usize {
        self.entries().len()
    }

    /// Starts writing a generation's live text.
    pub fn writer(self: &Arc<Self>, generation_id: i64) -> LiveWriter {
        let mut entries = self.entries();
        let entry = entries.entry(generation_id).or_insert_with(Entry::new);
        entry.writing = true;
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

    /// The item has failed for good: its watchers are told why.
    pub(crate) fn failed(&self, generation_id: i64, reason: &str) {
        self.end(generation_id, LiveEvent::Failed(reason.to_owned()));
    }

    /// A try ended without saving the item: its text is void. Watchers keep waiting for the next try
    /// (or for [`Hub::failed`]).
    fn interrupted(&self, generation_id: i64) {
        let mut entries = self.entries();
        let Some(entry) = entries.get_mut(&generation_id) else {
            return;
        };
        entry.writing = false;
        if entry.sender.receiver_count() == 0 {
            entries.remove(&generation_id);
        } else if !entry.text.is_empty() {
            entry.text.clear();
            let _ = entry.sender.send(LiveEvent::Restart);
        }
    }
}

/// Appends the live text of one generation. Dropped without [`LiveWriter::done`], the try is void: its
/// watchers start over with the next try.
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
}

impl Drop for LiveWriter {
    fn drop(&mut self) {
        if !self.ended {
            self.hub.interrupted(self.generation_id);
        }
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
    fn an_entry_lives_while_it_is_written_or_watched() {
        let hub = Arc::new(Hub::default());
        // Watched, never written here (queued, or written on another node): gone with its watchers.
        let first = hub.watch(1);
        let second = hub.watch(1);
        drop(first);
        assert_eq!(hub.live_entries(), 1);
        drop(second);
        assert_eq!(hub.live_entries(), 0);
        // Written: kept while the writer runs, whoever leaves, and gone when it ends.
        let watch = hub.watch(2);
        let writer = hub.writer(2);
        drop(watch);
        writer.push("text");
        assert_eq!(hub.watch(2).so_far, "text");
        assert_eq!(hub.live_entries(), 1);
        writer.done();
        assert_eq!(hub.live_entries(), 0);
        for id in 0..1000 {
            drop(hub.watch(id));
        }
        assert_eq!(hub.live_entries(), 0);
    }

    #[test]
    fn a_dropped_writer_voids_its_text_and_watchers_wait_for_the_next_try_or_the_failure() {
        let hub = Arc::new(Hub::default());
        let mut watch = hub.watch(1);
        let writer = hub.writer(1);
        writer.push("half");
        drop(writer);
        assert_eq!(
            watch.events.try_recv().unwrap(),
            LiveEvent::Text("half".into())
        );
        assert_eq!(watch.events.try_recv().unwrap(), LiveEvent::Restart);
        assert_eq!(hub.watch(1).so_far, "", "a late watcher gets no void text");
        hub.writer(1).done();
        assert_eq!(watch.events.try_recv().unwrap(), LiveEvent::Done);

        let mut watch = hub.watch(2);
        drop(hub.writer(2));
        hub.failed(2, "the model wrote nothing");
        assert_eq!(
            watch.events.try_recv().unwrap(),
            LiveEvent::Failed("the model wrote nothing".into())
        );
        assert_eq!(hub.live_entries(), 0);
    }
}
