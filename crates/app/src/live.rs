//! Live text of items being written, shared by everyone watching, and a feed of progress events.
//!
//! One entry per generation: the worker appends deltas, watchers get the text so far plus every later
//! delta, so any number of viewers share one generation. An entry lives while it is being written or
//! watched: the last watcher to leave an item nobody here writes (it waits in the queue, or another
//! node writes it) removes it, so crawling unwritten units holds no memory. This hub lives in one
//! process; watchers on other nodes of a multi-node deployment need a shared channel.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use lyceum_store::{Change, ItemKind, Status, StoreError};
use tokio::sync::broadcast;

use crate::Lyceum;

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
    /// The attempt whose text another process shares here ([`Hub::mirror`]).
    mirrored: Option<i64>,
}

impl Entry {
    fn new() -> Self {
        Self {
            text: String::new(),
            sender: broadcast::channel(LIVE_CAPACITY).0,
            writing: false,
            mirrored: None,
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

    fn watched_here_written_elsewhere(&self, generation_id: i64) -> bool {
        self.entries()
            .get(&generation_id)
            .is_some_and(|entry| !entry.writing)
    }

    /// Generations watched here that no process here writes: another node may be writing them.
    pub fn watched_elsewhere(&self) -> Vec<i64> {
        self.entries()
            .iter()
            .filter(|(_, entry)| !entry.writing)
            .map(|(id, _)| *id)
            .collect()
    }

    /// Shows watchers here the text another process shares of `attempt` of a generation: what is
    /// new as a delta, or, for another attempt (or text that does not continue what was shown),
    /// a restart and the whole text. Nothing when nobody here watches it or this process writes it.
    pub fn mirror(&self, generation_id: i64, attempt: i64, text: &str) {
        let mut entries = self.entries();
        let Some(entry) = entries
            .get_mut(&generation_id)
            .filter(|entry| !entry.writing)
        else {
            return;
        };
        let delta = match text.strip_prefix(entry.text.as_str()) {
            Some(delta) if entry.mirrored == Some(attempt) => delta,
            _ => {
                if !entry.text.is_empty() {
                    entry.text.clear();
                    let _ = entry.sender.send(LiveEvent::Restart);
                }
                entry.mirrored = Some(attempt);
                text
            }
        };
        if !delta.is_empty() {
            entry.text.push_str(delta);
            let _ = entry.sender.send(LiveEvent::Text(delta.to_owned()));
        }
    }

    /// Another process saved the item (`Ok`) or gave up on it (`Err` with why): watchers here are
    /// told, unless this process writes it and tells them itself.
    pub fn ended_elsewhere(&self, generation_id: i64, outcome: Result<(), &str>) {
        let mut entries = self.entries();
        if entries
            .get(&generation_id)
            .is_some_and(|entry| !entry.writing)
            && let Some(entry) = entries.remove(&generation_id)
        {
            let _ = entry.sender.send(match outcome {
                Ok(()) => LiveEvent::Done,
                Err(reason) => LiveEvent::Failed(reason.to_owned()),
            });
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

    /// The text written so far.
    pub fn text(&self) -> String {
        self.hub
            .entries()
            .get(&self.generation_id)
            .map(|entry| entry.text.clone())
            .unwrap_or_default()
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

impl Lyceum {
    /// Shows the watchers and progress bars of this process what other processes write, from the
    /// store's change feed, for as long as it runs. Only a shared database (PostgreSQL) needs it: on
    /// SQLite every writer is in this process and tells the hub itself.
    pub async fn relay_other_nodes(self: Arc<Self>) -> Result<(), StoreError> {
        let mut changes = self.store.changes().await?;
        while let Some(change) = changes.next().await {
            let relayed = match change {
                Change::Text(id) => self.mirror_text(id).await,
                Change::Item(id) => self.relay_item(id).await,
                Change::Missed => {
                    let mut relayed = Ok(());
                    for id in self.hub.watched_elsewhere() {
                        relayed = relayed
                            .and(self.relay_item(id).await)
                            .and(self.mirror_text(id).await);
                    }
                    relayed
                }
                Change::Queued | Change::Draft(_) | Change::Account(_) | Change::Course(_) => {
                    Ok(())
                }
            };
            if let Err(error) = relayed {
                tracing::warn!(%error, "could not relay another node's progress");
            }
        }
        Ok(())
    }

    /// Shows watchers here the text another process shares of a generation they watch.
    pub(crate) async fn mirror_text(&self, generation_id: i64) -> Result<(), StoreError> {
        if !self.hub.watched_here_written_elsewhere(generation_id) {
            return Ok(());
        }
        if let Some((attempt, text)) = self.store.live_text(generation_id).await? {
            self.hub.mirror(generation_id, attempt, &text);
        }
        Ok(())
    }

    async fn relay_item(&self, generation_id: i64) -> Result<(), StoreError> {
        let generation = self.store.generation(generation_id).await?;
        match generation.status {
            Status::Ready => self.hub.ended_elsewhere(generation_id, Ok(())),
            Status::Failed => self.hub.ended_elsewhere(
                generation_id,
                Err(generation.error.as_deref().unwrap_or("writing failed")),
            ),
            Status::Pending | Status::Generating => {}
        }
        self.hub.report(Progress {
            course_id: generation.course_id,
            generation_id,
            kind: generation.kind,
            status: generation.status,
            tokens_out: generation
                .tokens_out
                .and_then(|tokens| u32::try_from(tokens).ok()),
        });
        Ok(())
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
    fn text_shared_by_another_node_reaches_watchers_as_deltas_and_a_new_attempt_restarts() {
        let hub = Arc::new(Hub::default());
        let mut watch = hub.watch(3);
        hub.mirror(3, 1, "Tides");
        hub.mirror(3, 1, "Tides rise");
        hub.mirror(3, 1, "Tides rise");
        hub.mirror(3, 2, "Tides fall");
        hub.ended_elsewhere(3, Ok(()));
        let events: Vec<LiveEvent> = std::iter::from_fn(|| watch.events.try_recv().ok()).collect();
        assert_eq!(
            events,
            [
                LiveEvent::Text("Tides".into()),
                LiveEvent::Text(" rise".into()),
                LiveEvent::Restart,
                LiveEvent::Text("Tides fall".into()),
                LiveEvent::Done
            ]
        );
        // What this process writes is its own to tell; nobody watching means nothing to keep.
        let mut local = hub.watch(4);
        let writer = hub.writer(4);
        writer.push("ours");
        hub.mirror(4, 1, "theirs");
        hub.ended_elsewhere(4, Err("no"));
        assert_eq!(
            local.events.try_recv().unwrap(),
            LiveEvent::Text("ours".into())
        );
        assert!(local.events.try_recv().is_err());
        assert_eq!(hub.watched_elsewhere(), Vec::<i64>::new());
        hub.mirror(5, 1, "unwatched");
        assert_eq!(hub.live_entries(), 1);
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
