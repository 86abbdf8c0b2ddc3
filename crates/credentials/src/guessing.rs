//! The guessing policy: counters and the clock in, a decision out. Pure; the credential
//! store applies it atomically (one conditional update per attempt).
//!
//! - Attempts are counted per card number and credential kind, whether or not the card
//!   exists, so a throttled or disabled answer never reveals that a card is registered.
//! - An attempt is *reserved* before its hash is computed: the counter goes up first and a
//!   success clears it. So concurrent wrong guesses can never exceed a cap, and an attempt
//!   refused here is refused before any hash is computed and is not counted.
//! - From the 5th consecutive failure a delay applies that doubles from 1 s up to 15 min.
//! - The PIN is disabled after 10 consecutive failures; time does not lift it (a PIN change
//!   in a Password session or a staff reset does). NIST SP 800-63B rev 4 §3.2.10.
//! - Per source (IP address or terminal), at most 20 failures in a 10-minute window across
//!   all cards, against spraying one common PIN over many cards (docs/credentials.md,
//!   Sources).

use time::{Duration, OffsetDateTime};

/// Which secret an attempt guesses at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CredentialKind {
    /// The Password (web, app). A temporary password counts as a Password attempt.
    Password,
    /// The PIN (telephone, terminals, SIP2).
    Pin,
}

impl CredentialKind {
    /// Stable name for storage.
    pub const fn as_str(self) -> &'static str {
        match self {
            CredentialKind::Password => "password",
            CredentialKind::Pin => "pin",
        }
    }
}

/// The numbers of the guessing policy. [`GuessingPolicy::default`] is the product's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GuessingPolicy {
    /// The consecutive failure from which a delay applies (`None`: never throttle).
    pub throttle_from: Option<u32>,
    /// The delay after the `throttle_from`-th failure; it doubles with each further one.
    pub first_delay: Duration,
    /// The longest delay.
    pub max_delay: Duration,
    /// Consecutive PIN failures after which the PIN is disabled.
    pub pin_disable_after: u32,
    /// Failures allowed per source within one window.
    pub source_max_failures: u32,
    /// The per-source window.
    pub source_window: Duration,
}

impl Default for GuessingPolicy {
    fn default() -> Self {
        Self {
            throttle_from: Some(5),
            first_delay: Duration::seconds(1),
            max_delay: Duration::minutes(15),
            pin_disable_after: 10,
            source_max_failures: 20,
            source_window: Duration::minutes(10),
        }
    }
}

/// The stored state of one (card, kind) counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AttemptState {
    /// Consecutive failures (reserved attempts count until they succeed).
    pub failures: u32,
    /// No attempt is allowed before this instant.
    pub throttled_until: Option<OffsetDateTime>,
}

/// The stored state of one source's window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceState {
    /// When the current window opened.
    pub window_started_at: OffsetDateTime,
    /// Failures (and attempts in flight) within the window.
    pub failures: u32,
}

/// What the policy says about one more attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptDecision {
    /// Go ahead and verify; the attempt has been counted (a success clears it).
    Granted,
    /// Too many recent failures: try again at `until` (answer 429 with `Retry-After`).
    Throttled {
        /// The first instant another attempt is allowed.
        until: OffsetDateTime,
    },
    /// The PIN is disabled; no attempt will succeed until it is changed or reset.
    Disabled,
}

impl GuessingPolicy {
    /// The delay that follows the `failures`-th consecutive failure.
    pub fn delay_after(&self, failures: u32) -> Duration {
        match self.throttle_from {
            Some(from) if failures >= from => {
                let doublings = (failures - from).min(30);
                let delay = self.first_delay * 2_i32.pow(doublings);
                delay.min(self.max_delay)
            }
            _ => Duration::ZERO,
        }
    }

    /// [`Self::delay_after`] as a table, for a store that applies [`Self::reserve`] in one
    /// conditional statement: `(failures, delay)` in ascending order, each delay applying
    /// from that many consecutive failures until the next entry's count, the last one
    /// from its count on. Below the first count (or with an empty table) there is no delay.
    pub fn delay_steps(&self) -> Vec<(u32, Duration)> {
        let Some(from) = self.throttle_from else {
            return Vec::new();
        };
        let mut steps: Vec<(u32, Duration)> = Vec::new();
        // Past 30 doublings the delay no longer changes (`delay_after` stops doubling).
        for failures in from..=from.saturating_add(30) {
            let delay = self.delay_after(failures);
            if delay > Duration::ZERO && steps.last().is_none_or(|&(_, last)| last != delay) {
                steps.push((failures, delay));
            }
            if delay >= self.max_delay {
                break;
            }
        }
        steps
    }

    /// Decides one attempt on a (card, kind) counter and, when granted, the state to store.
    pub fn reserve(
        &self,
        kind: CredentialKind,
        state: AttemptState,
        now: OffsetDateTime,
    ) -> (AttemptDecision, Option<AttemptState>) {
        if kind == CredentialKind::Pin && state.failures >= self.pin_disable_after {
            return (AttemptDecision::Disabled, None);
        }
        if let Some(until) = state.throttled_until
            && until > now
        {
            return (AttemptDecision::Throttled { until }, None);
        }
        let failures = state.failures.saturating_add(1);
        let delay = self.delay_after(failures);
        let throttled_until = (delay > Duration::ZERO).then_some(now + delay);
        (
            AttemptDecision::Granted,
            Some(AttemptState {
                failures,
                throttled_until,
            }),
        )
    }

    /// Decides one attempt from a source and, when granted, the state to store.
    pub fn reserve_source(
        &self,
        state: Option<SourceState>,
        now: OffsetDateTime,
    ) -> (AttemptDecision, Option<SourceState>) {
        match state {
            Some(s) if now < s.window_started_at + self.source_window => {
                if s.failures >= self.source_max_failures {
                    let until = s.window_started_at + self.source_window;
                    (AttemptDecision::Throttled { until }, None)
                } else {
                    (
                        AttemptDecision::Granted,
                        Some(SourceState {
                            failures: s.failures + 1,
                            ..s
                        }),
                    )
                }
            }
            _ => (
                AttemptDecision::Granted,
                Some(SourceState {
                    window_started_at: now,
                    failures: 1,
                }),
            ),
        }
    }

    /// The state after a successful attempt from a source: the reservation is given back.
    pub fn release_source(&self, state: SourceState, now: OffsetDateTime) -> SourceState {
        if now < state.window_started_at + self.source_window {
            SourceState {
                failures: state.failures.saturating_sub(1),
                ..state
            }
        } else {
            state
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use CredentialKind::*;
    use time::macros::datetime;

    const T0: OffsetDateTime = datetime!(2021-03-05 10:00 UTC);

    #[test]
    fn delays_double_from_the_fifth_failure_up_to_fifteen_minutes() {
        let p = GuessingPolicy::default();
        let delays: Vec<i64> = (1..=17).map(|n| p.delay_after(n).whole_seconds()).collect();
        assert_eq!(
            delays,
            [
                0, 0, 0, 0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900, 900
            ]
        );
        assert_eq!(p.delay_after(u32::MAX), Duration::minutes(15));
    }

    #[test]
    fn the_delay_table_gives_the_delay_of_every_failure_count() {
        let policies = [
            GuessingPolicy::default(),
            GuessingPolicy {
                throttle_from: None,
                ..GuessingPolicy::default()
            },
            GuessingPolicy {
                throttle_from: Some(1),
                first_delay: Duration::milliseconds(300),
                max_delay: Duration::seconds(1),
                ..GuessingPolicy::default()
            },
            GuessingPolicy {
                first_delay: Duration::ZERO,
                ..GuessingPolicy::default()
            },
            GuessingPolicy {
                first_delay: Duration::minutes(20),
                ..GuessingPolicy::default()
            },
            GuessingPolicy {
                max_delay: Duration::days(365 * 100),
                ..GuessingPolicy::default()
            },
        ];
        for p in policies {
            let steps = p.delay_steps();
            for failures in 0..200 {
                let from_table = steps
                    .iter()
                    .rev()
                    .find(|&&(count, _)| failures >= count)
                    .map_or(Duration::ZERO, |&(_, delay)| delay);
                assert_eq!(from_table, p.delay_after(failures), "{p:?}: {failures}");
            }
        }
        let default: Vec<(u32, i64)> = GuessingPolicy::default()
            .delay_steps()
            .into_iter()
            .map(|(n, d)| (n, d.whole_seconds()))
            .collect();
        assert_eq!(
            default,
            [
                (5, 1),
                (6, 2),
                (7, 4),
                (8, 8),
                (9, 16),
                (10, 32),
                (11, 64),
                (12, 128),
                (13, 256),
                (14, 512),
                (15, 900)
            ]
        );
    }

    #[test]
    fn throttle_applies_after_the_fifth_failure_and_lifts_when_the_delay_passes() {
        let p = GuessingPolicy::default();
        let mut state = AttemptState::default();
        for n in 1..=5 {
            let (d, next) = p.reserve(Password, state, T0);
            assert_eq!(d, AttemptDecision::Granted, "attempt {n}");
            state = next.unwrap();
        }
        assert_eq!(state.failures, 5);
        assert_eq!(state.throttled_until, Some(T0 + Duration::seconds(1)));
        let (d, next) = p.reserve(Password, state, T0 + Duration::milliseconds(999));
        assert_eq!(
            d,
            AttemptDecision::Throttled {
                until: T0 + Duration::seconds(1)
            }
        );
        assert!(next.is_none(), "a throttled attempt is not counted");
        let (d, next) = p.reserve(Password, state, T0 + Duration::seconds(1));
        assert_eq!(d, AttemptDecision::Granted);
        assert_eq!(
            next.unwrap().throttled_until,
            Some(T0 + Duration::seconds(3))
        );
    }

    #[test]
    fn pin_is_disabled_after_ten_failures_and_time_does_not_lift_it() {
        let p = GuessingPolicy {
            throttle_from: None,
            ..GuessingPolicy::default()
        };
        let mut state = AttemptState::default();
        for _ in 0..10 {
            let (d, next) = p.reserve(Pin, state, T0);
            assert_eq!(d, AttemptDecision::Granted);
            state = next.unwrap();
        }
        assert_eq!(p.reserve(Pin, state, T0).0, AttemptDecision::Disabled);
        assert_eq!(
            p.reserve(Pin, state, T0 + Duration::days(365)).0,
            AttemptDecision::Disabled
        );
        // The Password has no such cap.
        assert_eq!(p.reserve(Password, state, T0).0, AttemptDecision::Granted);
    }

    #[test]
    fn source_window_allows_twenty_then_throttles_until_the_window_ends() {
        let p = GuessingPolicy::default();
        let mut state = None;
        for _ in 0..20 {
            let (d, next) = p.reserve_source(state, T0 + Duration::minutes(1));
            assert_eq!(d, AttemptDecision::Granted);
            state = next;
        }
        let s = state.unwrap();
        assert_eq!(s.failures, 20);
        assert_eq!(
            p.reserve_source(state, T0 + Duration::minutes(9)).0,
            AttemptDecision::Throttled {
                until: T0 + Duration::minutes(11)
            }
        );
        // A success gives its reservation back.
        let released = p.release_source(s, T0 + Duration::minutes(2));
        assert_eq!(released.failures, 19);
        assert_eq!(
            p.reserve_source(Some(released), T0 + Duration::minutes(2))
                .0,
            AttemptDecision::Granted
        );
        // A new window starts after ten minutes.
        let (d, next) = p.reserve_source(state, T0 + Duration::minutes(11));
        assert_eq!(d, AttemptDecision::Granted);
        assert_eq!(
            next.unwrap(),
            SourceState {
                window_started_at: T0 + Duration::minutes(11),
                failures: 1
            }
        );
    }
}
