//! The clock port. Every component that needs "now" asks a [`Clock`], so tests and the
//! server's development clock can move time without touching the system clock.

use std::sync::Mutex;

use time::OffsetDateTime;

/// Source of the current instant (UTC).
pub trait Clock: Send + Sync {
    /// The current instant, in UTC.
    fn now(&self) -> OffsetDateTime;
}

/// The operating system's clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// A clock that stays where it was set until it is set again (tests, the dev clock).
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<OffsetDateTime>,
}

impl ManualClock {
    /// A clock frozen at `now`.
    pub fn new(now: OffsetDateTime) -> Self {
        Self {
            now: Mutex::new(now.to_offset(time::UtcOffset::UTC)),
        }
    }

    /// Moves the clock to `now` (forwards or backwards).
    pub fn set(&self, now: OffsetDateTime) {
        *self.lock() = now.to_offset(time::UtcOffset::UTC);
    }

    /// Moves the clock forwards by `by`.
    pub fn advance(&self, by: time::Duration) {
        let mut guard = self.lock();
        *guard += by;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, OffsetDateTime> {
        // A poisoned lock only means another thread panicked while holding a plain value;
        // the value itself is still valid.
        self.now.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        *self.lock()
    }
}

impl<C: Clock + ?Sized> Clock for std::sync::Arc<C> {
    fn now(&self) -> OffsetDateTime {
        (**self).now()
    }
}

impl<C: Clock + ?Sized> Clock for &C {
    fn now(&self) -> OffsetDateTime {
        (**self).now()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn manual_clock_moves_both_ways_and_reports_utc() {
        let clock = ManualClock::new(datetime!(2021-03-05 08:00 +08:00));
        assert_eq!(clock.now(), datetime!(2021-03-05 00:00 UTC));
        assert_eq!(clock.now().offset(), time::UtcOffset::UTC);
        clock.advance(time::Duration::hours(25));
        assert_eq!(clock.now(), datetime!(2021-03-06 01:00 UTC));
        clock.set(datetime!(2020-12-01 00:00 UTC));
        assert_eq!(clock.now(), datetime!(2020-12-01 00:00 UTC));
    }

    #[test]
    fn system_clock_is_utc() {
        assert_eq!(SystemClock.now().offset(), time::UtcOffset::UTC);
    }
}
