//! "Now", from a clock tests can stop and move: the mail drip's schedule and the worker's queue read
//! it, so a test runs a week of daily mail without waiting a week.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

/// The system's clock, unless a test set it.
#[derive(Debug, Default)]
pub struct Clock {
    /// The time a test set (Unix ms); 0: follow the system clock.
    set: AtomicI64,
}

impl Clock {
    /// Now, in Unix milliseconds.
    pub fn now_ms(&self) -> i64 {
        match self.set.load(Ordering::Acquire) {
            0 => lyceum_store::now_ms(),
            set => set,
        }
    }

    /// Stops the clock at `ms` (Unix ms): it reads that until set or moved again.
    pub fn set(&self, ms: i64) {
        self.set.store(ms.max(1), Ordering::Release);
    }

    /// Moves a set clock forward by `by` (a running one is set first, at the system's now).
    pub fn advance(&self, by: Duration) {
        let by = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.set(self.now_ms().saturating_add(by));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_clock_stays_put_until_moved() {
        let clock = Clock::default();
        let running = clock.now_ms();
        assert!(running > 1_700_000_000_000, "{running}");
        clock.set(1_000);
        assert_eq!(clock.now_ms(), 1_000);
        clock.advance(Duration::from_secs(86_400));
        assert_eq!(clock.now_ms(), 1_000 + 86_400_000);
    }
}
