//! Who is signed in, and where they are in a course, kept in memory between their requests.
//!
//! A signed-in page needs the session behind its cookie and the learner's standing in the course
//! (started, units done, best quiz scores). Reading them from the store on every request would cost
//! several times what the rest of a course page costs, which comes from the page cache. So both are
//! kept here until the store's change feed says their account changed ([`Change::Account`], sent by
//! every write to sessions, accounts and learning, on any node), and for [`KEEP_FOR`] at most, a bound
//! for a notification lost on the way. A value read while its account changed is not kept.
//!
//! This process sees its own writes at once (the store tells it before the write returns); on
//! PostgreSQL another node's write reaches it with the notification, a few milliseconds later. On
//! SQLite another process's write (`lyceum users disable` beside a running server) sends no
//! notification here: [`KEEP_FOR`] is what bounds it.

use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use lru::LruCache;
use lyceum_store::{Attempt, Change, Changes, Done, DoneHow, Enrolment, Store, StoreError};

use crate::auth::Signed;

/// The longest anything is kept without being read again: how long a session ended by another
/// process on SQLite may still be honoured here. Short enough for that, long enough that a learner
/// reading page after page costs one read of the store every few pages at most.
pub const KEEP_FOR: Duration = Duration::from_secs(10);
/// Sessions kept at most, and standings at most: the least recently used go first.
pub const MAX_KEPT: usize = 16_384;

/// What a learner has done in one course.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Standing {
    /// Since when they started it, and when they were last active in it.
    pub enrolment: Option<Enrolment>,
    /// The units done, in syllabus order.
    pub done: Vec<Done>,
    /// The best attempt at each quiz taken, in syllabus order.
    pub best: Vec<Attempt>,
    /// The units they have a conversation with the tutor about.
    pub chatted: Vec<i64>,
}

impl Standing {
    /// Reads `user_id`'s standing in `course_id` from the store.
    pub async fn read(store: &Store, user_id: i64, course_id: i64) -> Result<Self, StoreError> {
        let (enrolment, done, best, chatted) = tokio::try_join!(
            store.enrolment(user_id, course_id),
            store.units_done(user_id, Some(course_id)),
            store.best_attempts(user_id, course_id),
            store.chatted_units(user_id, course_id),
        )?;
        Ok(Self {
            enrolment,
            done,
            best,
            chatted,
        })
    }

    /// How unit `unit_id` was done, if it was.
    pub fn done(&self, unit_id: i64) -> Option<DoneHow> {
        self.done
            .iter()
            .find(|done| done.unit_id == unit_id)
            .map(|done| done.how)
    }

    /// Whether they have a conversation with the tutor about unit `unit_id`.
    pub fn chatted(&self, unit_id: i64) -> bool {
        self.chatted.contains(&unit_id)
    }

    /// The best attempt at unit `unit_id`'s quiz, if one was taken.
    pub fn best(&self, unit_id: i64) -> Option<&Attempt> {
        self.best.iter().find(|attempt| attempt.unit_id == unit_id)
    }
}

/// Sessions by the hash of their secret, and standings by learner and course.
pub struct People {
    inner: Mutex<Inner>,
}

struct Inner {
    changes: Changes,
    /// Counts changes seen; a value remembers the count it was read at.
    epoch: u64,
    /// The epoch of each account's last change.
    changed: HashMap<i64, u64>,
    /// The epoch at which changes were last missed: anything read before may be stale.
    missed: u64,
    /// The epoch at the last [`People::forget_expired`].
    swept: u64,
    sessions: LruCache<String, Kept<Signed>>,
    standings: LruCache<(i64, i64), Kept<Arc<Standing>>>,
}

struct Kept<T> {
    user_id: i64,
    epoch: u64,
    at: Instant,
    value: T,
}

/// When a value is about to be read from the store: pass it back when keeping it.
#[derive(Debug, Clone, Copy)]
pub struct Reading(u64);

impl People {
    /// Keeps what `store`'s change feed has not said changed.
    pub fn new(store: &Store) -> Self {
        let capacity = NonZeroUsize::MIN.saturating_add(MAX_KEPT - 1);
        Self {
            inner: Mutex::new(Inner {
                changes: store.watch(),
                epoch: 0,
                changed: HashMap::new(),
                missed: 0,
                swept: 0,
                sessions: LruCache::new(capacity),
                standings: LruCache::new(capacity),
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

    /// Call before reading from the store what is then kept.
    pub fn reading(&self) -> Reading {
        Reading(self.inner().epoch)
    }

    /// The session whose secret hashes to `hash`, if kept and current at `now` (Unix ms).
    pub fn session(&self, hash: &str, now: i64) -> Option<Signed> {
        let mut inner = self.inner();
        let kept = inner.sessions.peek(hash)?;
        if !(inner.fresh(kept) && kept.value.session.expires_at > now) {
            inner.sessions.pop(hash);
            return None;
        }
        inner.sessions.get(hash).map(|kept| kept.value.clone())
    }

    /// Keeps a session read since `reading`, unless its account changed meanwhile.
    pub fn keep_session(&self, hash: String, signed: Signed, reading: Reading) {
        let mut inner = self.inner();
        if let Some(kept) = inner.kept(signed.user.id, reading, signed) {
            inner.sessions.put(hash, kept);
        }
    }

    /// Learner `user_id`'s standing in `course_id`, if kept and current.
    pub fn standing(&self, user_id: i64, course_id: i64) -> Option<Arc<Standing>> {
        let key = (user_id, course_id);
        let mut inner = self.inner();
        if !inner.fresh(inner.standings.peek(&key)?) {
            inner.standings.pop(&key);
            return None;
        }
        inner
            .standings
            .get(&key)
            .map(|kept| Arc::clone(&kept.value))
    }

    /// Keeps a standing read since `reading`, unless its account changed meanwhile.
    pub fn keep_standing(
        &self,
        course_id: i64,
        user_id: i64,
        standing: Arc<Standing>,
        at: Reading,
    ) {
        let mut inner = self.inner();
        if let Some(kept) = inner.kept(user_id, at, standing) {
            inner.standings.put((user_id, course_id), kept);
        }
    }

    /// Learner `user_id`'s standing in `course_id`, kept or else read from `store` and kept.
    pub async fn standing_in(
        &self,
        store: &Store,
        user_id: i64,
        course_id: i64,
    ) -> Result<Arc<Standing>, StoreError> {
        if let Some(standing) = self.standing(user_id, course_id) {
            return Ok(standing);
        }
        let reading = self.reading();
        let standing = Arc::new(Standing::read(store, user_id, course_id).await?);
        self.keep_standing(course_id, user_id, Arc::clone(&standing), reading);
        Ok(standing)
    }

    /// Drops what is kept and can no longer be used: too old, or of an account that changed.
    pub fn forget_expired(&self) {
        let mut inner = self.inner();
        let Inner {
            sessions,
            standings,
            changed,
            swept,
            epoch,
            ..
        } = &mut *inner;
        let stale = |kept_user: i64, epoch: u64, at: Instant| {
            at.elapsed() >= KEEP_FOR || changed.get(&kept_user).is_some_and(|&e| e > epoch)
        };
        let sessions_gone: Vec<String> = sessions
            .iter()
            .filter(|(_, kept)| stale(kept.user_id, kept.epoch, kept.at))
            .map(|(key, _)| key.clone())
            .collect();
        for key in &sessions_gone {
            sessions.pop(key);
        }
        let standings_gone: Vec<(i64, i64)> = standings
            .iter()
            .filter(|(_, kept)| stale(kept.user_id, kept.epoch, kept.at))
            .map(|(key, _)| *key)
            .collect();
        for key in &standings_gone {
            standings.pop(key);
        }
        // An account's change matters to values read before it: those kept are gone now, and a read
        // still under way when the last sweep ran has had a whole sweep's time to be kept. So the
        // changes seen before the last sweep can go, and the map does not grow with every account.
        let before_last = *swept;
        changed.retain(|_, epoch| *epoch > before_last);
        *swept = *epoch;
    }

    /// How many sessions and standings are kept.
    pub fn len(&self) -> (usize, usize) {
        let inner = self.inner();
        (inner.sessions.len(), inner.standings.len())
    }
}

impl Inner {
    /// Whether a kept value may be used: read after its account's last change, and young enough.
    fn fresh<T>(&self, kept: &Kept<T>) -> bool {
        kept.epoch >= self.changed.get(&kept.user_id).copied().unwrap_or(0)
            && kept.at.elapsed() < KEEP_FOR
    }

    /// `value` ready to keep, unless account `user_id` changed since `reading`.
    fn kept<T>(&self, user_id: i64, reading: Reading, value: T) -> Option<Kept<T>> {
        if self.missed > reading.0 || self.changed.get(&user_id).is_some_and(|&at| at > reading.0) {
            return None;
        }
        Some(Kept {
            user_id,
            epoch: reading.0,
            at: Instant::now(),
            value,
        })
    }

    /// Applies every change announced since the last look.
    fn catch_up(&mut self) {
        while let Some(change) = self.changes.try_next() {
            match change {
                Change::Account(user_id) => {
                    self.epoch += 1;
                    self.changed.insert(user_id, self.epoch);
                }
                Change::Missed => {
                    // Any account may have changed.
                    self.sessions.clear();
                    self.standings.clear();
                    self.epoch += 1;
                    self.missed = self.epoch;
                }
                Change::Queued
                | Change::Draft(_)
                | Change::Item(_)
                | Change::Text(_)
                | Change::Course(_) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use lyceum_store::{NewSession, NewUser, Session, User};

    use super::*;

    async fn signed(store: &Store) -> Signed {
        let new = NewUser {
            email: "ada@example.org",
            display_name: "Ada",
            password_hash: None,
            is_admin: false,
            passkey: None,
        };
        let user: User = store.create_user(&new, 1_000).await.unwrap();
        let session: Session = store
            .create_session(&NewSession {
                user_id: user.id,
                secret_hash: "hash",
                csrf_token: "csrf",
                user_agent: "test",
                now: 1_000,
                expires_at: 100_000,
            })
            .await
            .unwrap();
        Signed { session, user }
    }

    #[tokio::test]
    async fn what_was_read_while_its_account_changed_is_not_kept_and_a_change_drops_it() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("people.db").display());
        let store = Store::open(&url).await.unwrap();
        let people = People::new(&store);
        let ada = signed(&store).await;
        let id = ada.user.id;

        // Read, then the account changed before it was kept: not kept.
        let reading = people.reading();
        store.set_display_name(id, "Ada L.").await.unwrap();
        people.keep_session("hash".into(), ada.clone(), reading);
        assert!(people.session("hash", 2_000).is_none());

        // Kept, and served until the account changes or the session expires.
        people.keep_session("hash".into(), ada.clone(), people.reading());
        assert_eq!(people.session("hash", 2_000).unwrap().user.id, id);
        assert!(people.session("hash", 100_000).is_none(), "expired");
        people.keep_session("hash".into(), ada.clone(), people.reading());
        people.keep_standing(7, id, Arc::default(), people.reading());
        assert!(people.standing(id, 7).is_some());
        store.end_sessions(id, None).await.unwrap();
        assert!(people.session("hash", 2_000).is_none());
        assert!(
            people.standing(id, 7).is_none(),
            "the same account's standing goes too"
        );
        assert_eq!(people.len(), (0, 0));

        // The changes seen are forgotten a sweep after the one that follows them.
        assert!(!people.inner().changed.is_empty());
        people.forget_expired();
        assert!(
            !people.inner().changed.is_empty(),
            "a read may still be under way"
        );
        people.forget_expired();
        assert!(people.inner().changed.is_empty());
    }
}
