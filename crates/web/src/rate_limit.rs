//! A per-address limit on costly requests (drafting an outline runs the model for a minute): at most
//! `limit` per hour from one address, counted in fixed one-hour windows.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const WINDOW: Duration = Duration::from_secs(3600);

/// Counts requests per address.
pub struct RateLimit {
    limit: u32,
    windows: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl RateLimit {
    /// At most `limit` requests an hour per address; 0 means no limit.
    pub fn per_hour(limit: u32) -> Self {
        Self {
            limit,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Counts a request from `address`, or says how long until it may ask again.
    pub fn check(&self, address: IpAddr) -> Result<(), Duration> {
        if self.limit == 0 {
            return Ok(());
        }
        let now = Instant::now();
        let mut windows = self
            .windows
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Forget finished windows, so the map holds only addresses active this hour.
        windows.retain(|_, (start, _)| now.duration_since(*start) < WINDOW);
        let (start, count) = windows.entry(address).or_insert((now, 0));
        if *count >= self.limit {
            return Err(WINDOW.saturating_sub(now.duration_since(*start)));
        }
        *count += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_address_gets_its_own_allowance() {
        let limit = RateLimit::per_hour(2);
        let one = IpAddr::from([10, 0, 0, 1]);
        let two = IpAddr::from([10, 0, 0, 2]);
        assert!(limit.check(one).is_ok());
        assert!(limit.check(one).is_ok());
        let wait = limit.check(one).unwrap_err();
        assert!(
            wait > Duration::from_secs(3500) && wait <= WINDOW,
            "{wait:?}"
        );
        assert!(limit.check(two).is_ok(), "another address is not affected");
        let unlimited = RateLimit::per_hour(0);
        for _ in 0..100 {
            assert!(unlimited.check(one).is_ok());
        }
    }
}
