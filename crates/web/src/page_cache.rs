//! Whole course, week and unit pages, rendered once per change of their course rather than per request.
//!
//! A page is served from memory until its course changes or it is `ttl` old. Changes are the progress
//! events of this process's worker (a unit started, written or failed), read from the hub before every
//! lookup; what this process's own handlers change (a retry); and, from the store's change feed, who may
//! see a course or its deletion, by any node ([`Change::Course`]), so that a course made private is
//! not served from memory anywhere. A page rendered while its course changed is not kept. The age
//! limit bounds how stale a page can be when another node's worker wrote the change, since those
//! progress events do not reach this process.
//!
//! Pages are keyed by their parsed route ([`PageKey`]), so `/weeks/1` and `/weeks/01` are one entry, and
//! only pages that rendered (of courses that exist) are kept: a client cannot fill the cache with
//! addresses of its own making. At most [`MAX_PAGES`] are kept; the least recently used goes first.

use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bytes::Bytes;
use lru::LruCache;
use lyceum_app::live::Progress;
use lyceum_store::{Change, Changes};
use tokio::sync::broadcast::{self, error::TryRecvError};

/// Pages kept at most.
pub const MAX_PAGES: usize = 4096;

/// Which page: a course's, one of its weeks', or one of its units'.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PageKey {
    /// `/courses/{slug}`.
    Course(String),
    /// `/courses/{slug}/weeks/{week}`.
    Week(String, i64),
    /// `/courses/{slug}/weeks/{week}/units/{unit}`.
    Unit(String, i64, i64),
}

/// Rendered pages by route.
pub struct PageCache {
    ttl: Duration,
    inner: Mutex<Inner>,
}

struct Inner {
    /// Progress of every course, from this process's worker.
    progress: broadcast::Receiver<Progress>,
    /// The store's changes, from every node.
    changes: Changes,
    /// Counts changes seen; a page remembers the count it was rendered at.
    epoch: u64,
    /// The epoch of each course's last change.
    changed: HashMap<i64, u64>,
    pages: LruCache<PageKey, Page>,
}

struct Page {
    epoch: u64,
    rendered: Instant,
    served: Served,
}

/// A page as kept: its HTML, and what it shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Served {
    pub course_id: i64,
    /// The unit, on a unit's page.
    pub unit_id: Option<i64>,
    /// The account that made the course, if one did.
    pub maker_id: Option<i64>,
    /// The version of the unit's quiz it shows, on a unit's page.
    pub quiz_version: Option<String>,
    /// Whether its unit's text is written, on a unit's page.
    pub written: bool,
    /// The course's language.
    pub language: lyceum_course::Language,
    pub html: Bytes,
}

/// When a page is about to be rendered: pass it back to [`PageCache::put`].
#[derive(Debug, Clone, Copy)]
pub struct Rendering(u64);

impl PageCache {
    /// A cache following `progress` and the store's `changes`, keeping pages for `ttl` (zero: keeping
    /// none).
    pub fn new(progress: broadcast::Receiver<Progress>, changes: Changes, ttl: Duration) -> Self {
        Self {
            ttl,
            inner: Mutex::new(Inner {
                progress,
                changes,
                epoch: 0,
                changed: HashMap::new(),
                pages: LruCache::new(NonZeroUsize::MIN.saturating_add(MAX_PAGES - 1)),
            }),
        }
    }

    fn inner(&self) -> MutexGuard<'_, Inner> {
        // Plain data: a panic elsewhere cannot leave it half-changed in a harmful way.
        let mut inner = self
            .inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        inner.catch_up();
        inner
    }

    /// The page at `key`, if it is current.
    pub fn get(&self, key: &PageKey) -> Option<Served> {
        if self.ttl.is_zero() {
            return None;
        }
        let mut inner = self.inner();
        let changed =
            |inner: &Inner, course_id: i64| inner.changed.get(&course_id).copied().unwrap_or(0);
        let page = inner.pages.peek(key)?;
        let current = page.epoch >= changed(&inner, page.served.course_id)
            && page.rendered.elapsed() < self.ttl;
        if !current {
            return None;
        }
        inner.pages.get(key).map(|page| page.served.clone())
    }

    /// Call before reading what a page shows from the store.
    pub fn rendering(&self) -> Rendering {
        Rendering(self.inner().epoch)
    }

    /// Keeps the page at `key`, unless its course changed since `rendering`. A full cache drops its
    /// least recently used page.
    pub fn put(&self, key: PageKey, rendering: Rendering, served: Served) {
        if self.ttl.is_zero() {
            return;
        }
        let mut inner = self.inner();
        if inner
            .changed
            .get(&served.course_id)
            .is_some_and(|&at| at > rendering.0)
        {
            return;
        }
        inner.pages.put(
            key,
            Page {
                epoch: rendering.0,
                rendered: Instant::now(),
                served,
            },
        );
    }

    /// Drops every page that can no longer be served (too old, or its course changed since), so that
    /// what a crawl rendered does not stay in memory until newer pages push it out.
    pub fn forget_expired(&self) {
        let mut inner = self.inner();
        let Inner { pages, changed, .. } = &mut *inner;
        let stale: Vec<PageKey> = pages
            .iter()
            .filter(|(_, page)| {
                page.rendered.elapsed() >= self.ttl
                    || changed
                        .get(&page.served.course_id)
                        .is_some_and(|&at| at > page.epoch)
            })
            .map(|(key, _)| key.clone())
            .collect();
        for key in &stale {
            pages.pop(key);
        }
    }

    /// How many pages it keeps.
    pub fn len(&self) -> usize {
        self.inner().pages.len()
    }

    /// Whether it keeps none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Many courses may have changed (an account went, and the name on its courses): render every
    /// page again. A page being rendered at this moment may still be kept, until its age limit.
    pub fn clear(&self) {
        self.inner().clear();
    }

    /// Course `course_id` changed: render its pages again.
    pub fn changed(&self, course_id: i64) {
        self.inner().change(course_id);
    }
}

impl Inner {
    fn change(&mut self, course_id: i64) {
        self.epoch += 1;
        self.changed.insert(course_id, self.epoch);
    }

    /// Applies every progress event and change sent since the last look.
    fn catch_up(&mut self) {
        loop {
            match self.progress.try_recv() {
                Ok(progress) => self.change(progress.course_id),
                // Events were missed: any course may have changed.
                Err(TryRecvError::Lagged(_)) => self.clear(),
                Err(TryRecvError::Empty | TryRecvError::Closed) => break,
            }
        }
        while let Some(change) = self.changes.try_next() {
            match change {
                Change::Course(course_id) => self.change(course_id),
                Change::Missed => self.clear(),
                Change::Queued
                | Change::Draft(_)
                | Change::Item(_)
                | Change::Text(_)
                | Change::Account(_) => {}
            }
        }
    }

    fn clear(&mut self) {
        self.pages.clear();
        self.epoch += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lyceum_store::{ItemKind, Status};

    fn key(slug: &str) -> PageKey {
        PageKey::Course(slug.into())
    }

    fn page(course_id: i64, html: &'static [u8]) -> Served {
        Served {
            course_id,
            unit_id: None,
            maker_id: None,
            quiz_version: None,
            written: false,
            language: lyceum_course::Language::ENGLISH,
            html: Bytes::from_static(html),
        }
    }

    fn html(served: Option<Served>) -> Option<Bytes> {
        served.map(|served| served.html)
    }

    fn progress(course_id: i64) -> Progress {
        Progress {
            course_id,
            generation_id: 1,
            kind: ItemKind::Unit,
            status: Status::Ready,
            tokens_out: None,
        }
    }

    #[test]
    fn a_page_is_kept_until_its_course_changes() {
        let (sender, receiver) = broadcast::channel(8);
        let cache = PageCache::new(receiver, Changes::none(), Duration::from_secs(60));
        let rendering = cache.rendering();
        cache.put(key("a"), rendering, page(1, b"one"));
        cache.put(key("b"), rendering, page(2, b"two"));
        assert_eq!(html(cache.get(&key("a"))).as_deref(), Some(&b"one"[..]));
        sender.send(progress(1)).unwrap();
        assert_eq!(cache.get(&key("a")), None, "course 1 changed");
        assert_eq!(html(cache.get(&key("b"))).as_deref(), Some(&b"two"[..]));
        cache.changed(2);
        assert_eq!(cache.get(&key("b")), None, "course 2 changed");
    }

    #[test]
    fn a_page_rendered_while_its_course_changed_is_not_kept() {
        let (sender, receiver) = broadcast::channel(8);
        let cache = PageCache::new(receiver, Changes::none(), Duration::from_secs(60));
        let rendering = cache.rendering();
        sender.send(progress(1)).unwrap();
        cache.put(key("a"), rendering, page(1, b"old"));
        assert_eq!(cache.get(&key("a")), None);
        let rendering = cache.rendering();
        cache.put(key("a"), rendering, page(1, b"new"));
        assert_eq!(html(cache.get(&key("a"))).as_deref(), Some(&b"new"[..]));
    }

    #[test]
    fn missed_events_drop_every_page_and_zero_ttl_keeps_none() {
        let (sender, receiver) = broadcast::channel(2);
        let cache = PageCache::new(receiver, Changes::none(), Duration::from_secs(60));
        cache.put(key("a"), cache.rendering(), page(1, b"one"));
        for _ in 0..3 {
            sender.send(progress(9)).unwrap();
        }
        assert_eq!(
            cache.get(&key("a")),
            None,
            "lagged: course 1 may have changed"
        );

        let off = PageCache::new(sender.subscribe(), Changes::none(), Duration::ZERO);
        off.put(key("a"), off.rendering(), page(1, b"one"));
        assert_eq!(off.get(&key("a")), None);
    }

    #[test]
    fn a_full_cache_drops_the_least_recently_used_page() {
        let (_sender, receiver) = broadcast::channel(8);
        let cache = PageCache::new(receiver, Changes::none(), Duration::from_secs(60));
        let week = |n: i64| PageKey::Week("course".into(), n);
        for n in 0..MAX_PAGES as i64 {
            cache.put(week(n), cache.rendering(), page(1, b"page"));
        }
        assert!(cache.get(&week(0)).is_some(), "week 0 is used again");
        cache.put(week(-1), cache.rendering(), page(1, b"new"));
        assert_eq!(cache.len(), MAX_PAGES);
        assert!(cache.get(&week(0)).is_some());
        assert_eq!(cache.get(&week(1)), None, "the least recently used went");
        assert!(cache.get(&week(-1)).is_some());
    }

    #[test]
    fn pages_that_cannot_be_served_are_forgotten() {
        let (sender, receiver) = broadcast::channel(8);
        let cache = PageCache::new(receiver, Changes::none(), Duration::from_secs(60));
        cache.put(key("a"), cache.rendering(), page(1, b"one"));
        cache.put(key("b"), cache.rendering(), page(2, b"two"));
        sender.send(progress(1)).unwrap();
        cache.forget_expired();
        assert_eq!(cache.len(), 1, "course 1 changed, course 2 did not");
        assert!(cache.get(&key("b")).is_some());

        let brief = PageCache::new(sender.subscribe(), Changes::none(), Duration::from_nanos(1));
        brief.put(key("a"), brief.rendering(), page(1, b"one"));
        let put = Instant::now();
        while put.elapsed().is_zero() {}
        brief.forget_expired();
        assert!(brief.is_empty(), "older than its time to live");
    }
}
