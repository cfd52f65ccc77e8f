//! A per-client limit on costly requests (drafting an outline runs the model for a minute, and the
//! course it makes runs it for every unit) and on guesses (sign-in attempts, per address and per
//! account): at most `limit` per hour for one key, counted in fixed one-hour windows. A request may
//! cost more than one (a course's units).

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use tokio::time::Instant;

use crate::client::Client;

const WINDOW: Duration = Duration::from_secs(3600);

/// Counts requests per key: a client, unless said otherwise.
pub struct RateLimit<K = Client> {
    limit: u32,
    windows: Mutex<HashMap<K, (Instant, u32)>>,
}

impl<K: Hash + Eq> RateLimit<K> {
    /// At most `limit` requests an hour per address; 0 means no limit.
    pub fn per_hour(limit: u32) -> Self {
        Self {
            limit,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Counts a request of `cost` from `client`, or says how long until it may ask again. A cost
    /// above the whole limit is refused for good, which the caller's own bounds prevent.
    pub fn check(&self, client: K, cost: u32) -> Result<(), Duration> {
        if self.limit == 0 {
            return Ok(());
        }
        let now = Instant::now();
        let mut windows = self.windows();
        // Forget finished windows, so the map holds only clients active this hour.
        windows.retain(|_, (start, _)| now.duration_since(*start) < WINDOW);
        let (start, count) = windows.entry(client).or_insert((now, 0));
        if count.saturating_add(cost) > self.limit {
            return Err(WINDOW.saturating_sub(now.duration_since(*start)));
        }
        *count += cost;
        Ok(())
    }

    /// Gives back what [`RateLimit::check`] counted for a request that was not carried out.
    pub fn refund(&self, client: K, cost: u32) {
        if let Some((_, count)) = self.windows().get_mut(&client) {
            *count = count.saturating_sub(cost);
        }
    }

    /// Forgets clients whose hour is over, as the privacy page promises, even when nobody asks.
    pub fn forget_expired(&self) {
        let now = Instant::now();
        self.windows()
            .retain(|_, (start, _)| now.duration_since(*start) < WINDOW);
    }

    /// How many clients it remembers.
    pub fn remembered(&self) -> usize {
        self.windows().len()
    }

    fn windows(&self) -> MutexGuard<'_, HashMap<K, (Instant, u32)>> {
        self.windows
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_client_gets_its_own_allowance_counted_by_cost() {
        let limit = RateLimit::per_hour(10);
        let one = Client([10, 0, 0, 1].into());
        let two = Client([10, 0, 0, 2].into());
        assert!(limit.check(one, 4).is_ok());
        assert!(limit.check(one, 6).is_ok());
        let wait = limit.check(one, 1).unwrap_err();
        assert!(
            wait > Duration::from_secs(3500) && wait <= WINDOW,
            "{wait:?}"
        );
        limit.refund(one, 6);
        assert!(limit.check(one, 6).is_ok(), "a refund is given back");
        assert!(
            limit.check(two, 10).is_ok(),
            "another client is not affected"
        );
        assert!(limit.check(two, 1).is_err());
        let unlimited = RateLimit::per_hour(0);
        for _ in 0..100 {
            assert!(unlimited.check(one, 100).is_ok());
        }
    }
}
