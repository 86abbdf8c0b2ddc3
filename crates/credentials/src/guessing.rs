//! The guessing policy: counters and the clock in, a decision out. Pure; the credential
//! store applies it atomically (one transaction or conditional update per attempt).
//!
//! Three counters watch every attempt at a secret (docs/credentials.md, Guessing):
//!
//! - **Per source** (IP address, terminal, caller): at most 20 failures in a 10-minute
//!   window across all accounts, against spraying one common PIN over many cards.
//! - **Per pair** (account, kind, source): consecutive failures from that source; from the
//!   5th a delay of 1 s doubling up to 15 min. A success from the source clears it. Keyed by
//!   the source, so a stranger guessing at an account delays only himself.
//! - **Account-wide** (account, kind): consecutive failures from every source; any success
//!   clears it. It delays the account (2 s doubling up to 5 min) only for a guesser spread
//!   over many sources: from the 20th consecutive failure with at least 3 sources failing
//!   on the account since their last success, and never for a *known source* (one that
//!   verified on the account within the last 30 days). After 10 consecutive PIN failures
//!   the PIN is disabled (NIST SP 800-63B rev 4 §3.2.2); time does not lift it.
//!
//! Accounts are counted whether or not they exist, so a delayed or disabled answer never
//! reveals that a card is registered. An attempt is *reserved* before its hash is
//! computed: the counters go up first and a success clears them, so concurrent wrong
//! guesses can never pass a cap together, and an attempt refused here computes no hash and
//! is not counted.

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

/// A delay that starts at the `from`-th consecutive failure with `first` and doubles with
/// each further one up to `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The consecutive failure from which the delay applies (`None`: never).
    pub from: Option<u32>,
    /// The delay after the `from`-th failure.
    pub first: Duration,
    /// The longest delay.
    pub max: Duration,
}

impl Backoff {
    /// The delay that follows the `failures`-th consecutive failure.
    pub fn delay_after(&self, failures: u32) -> Duration {
        match self.from {
            Some(from) if failures >= from => {
                let doublings = (failures - from).min(30);
                (self.first * 2_i32.pow(doublings)).min(self.max)
            }
            _ => Duration::ZERO,
        }
    }
}

/// The numbers of the guessing policy. [`GuessingPolicy::default`] is the product's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GuessingPolicy {
    /// The delay of one (account, kind, source) pair: from the 5th failure, 1 s to 15 min.
    pub pair_delay: Backoff,
    /// The account-wide delay: from the 20th failure, 2 s to 5 min, and only with
    /// [`Self::account_min_sources`] failing sources.
    pub account_delay: Backoff,
    /// Sources failing on an account (since their last success) before the account-wide
    /// delay applies.
    pub account_min_sources: u32,
    /// How long a source that verified on an account stays known to it (exempt from the
    /// account-wide delay).
    pub known_source_for: Duration,
    /// Consecutive PIN failures (account-wide) after which the PIN is disabled.
    pub pin_disable_after: u32,
    /// Failures allowed per source within one window.
    pub source_max_failures: u32,
    /// The per-source window.
    pub source_window: Duration,
}

impl Default for GuessingPolicy {
    fn default() -> Self {
        Self {
            pair_delay: Backoff {
                from: Some(5),
                first: Duration::seconds(1),
                max: Duration::minutes(15),
            },
            account_delay: Backoff {
                from: Some(20),
                first: Duration::seconds(2),
                max: Duration::minutes(5),
            },
            account_min_sources: 3,
            known_source_for: Duration::days(30),
            pin_disable_after: 10,
            source_max_failures: 20,
            source_window: Duration::minutes(10),
        }
    }
}

/// The stored state of one account-wide (account, kind) counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AttemptState {
    /// Consecutive failures from every source (reserved attempts count until they succeed).
    pub failures: u32,
    /// No attempt from a source that is not known is allowed before this instant.
    pub throttled_until: Option<OffsetDateTime>,
}

/// The stored state of one (account, kind, source) pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PairState {
    /// Consecutive failures from this source (reserved attempts count until they succeed).
    pub failures: u32,
    /// No attempt from this source on this account is allowed before this instant.
    pub throttled_until: Option<OffsetDateTime>,
    /// When this source last verified on this account.
    pub last_success_at: Option<OffsetDateTime>,
}

/// The stored state of one source's window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceState {
    /// When the current window opened.
    pub window_started_at: OffsetDateTime,
    /// Failures (and attempts in flight) within the window.
    pub failures: u32,
}

/// Everything one reservation reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GuessState {
    /// The source's window (`None`: never seen).
    pub source: Option<SourceState>,
    /// The (account, kind, source) pair.
    pub pair: PairState,
    /// The account-wide (account, kind) counter.
    pub account: AttemptState,
    /// Other sources with failures on the account since their last success.
    pub other_failing_sources: u32,
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
    /// The PIN is disabled; no attempt will succeed until it is changed, reset or unlocked.
    Disabled,
}

/// What the failure of a granted attempt sets off, for the security events: each limit
/// this attempt starts or lengthens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Tripped {
    /// The source's window is full until then.
    pub source_limited_until: Option<OffsetDateTime>,
    /// The pair is delayed until then.
    pub pair_delayed_until: Option<OffsetDateTime>,
    /// The account is delayed (for sources that are not known) until then.
    pub account_delayed_until: Option<OffsetDateTime>,
    /// This failure disables the PIN.
    pub pin_disabled: bool,
}

/// A granted reservation: the states to store and what a failure sets off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reserved {
    /// The source's window with this attempt counted.
    pub source: SourceState,
    /// The pair with this attempt counted.
    pub pair: PairState,
    /// The account-wide counter with this attempt counted.
    pub account: AttemptState,
    /// What the attempt's failure sets off.
    pub tripped: Tripped,
}

/// What a store answers for one reservation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reservation {
    /// Granted, throttled or disabled.
    pub decision: AttemptDecision,
    /// When granted, what its failure sets off (nothing otherwise).
    pub tripped: Tripped,
}

impl Reservation {
    /// A refusal (nothing counted, nothing set off).
    pub fn refused(decision: AttemptDecision) -> Self {
        Self {
            decision,
            tripped: Tripped::default(),
        }
    }
}

impl GuessingPolicy {
    /// Whether `pair`'s source is known to its account at `now`: it verified there within
    /// [`Self::known_source_for`] (day 30 still counts).
    pub fn is_known(&self, pair: &PairState, now: OffsetDateTime) -> bool {
        pair.last_success_at
            .is_some_and(|at| now <= at + self.known_source_for)
    }

    /// The account-wide delay after the `failures`-th consecutive failure with `sources`
    /// sources failing on the account.
    pub fn account_delay_after(&self, failures: u32, sources: u32) -> Duration {
        if sources >= self.account_min_sources {
            self.account_delay.delay_after(failures)
        } else {
            Duration::ZERO
        }
    }

    /// Whether the account-wide counter has disabled the PIN.
    pub fn pin_locked(&self, kind: CredentialKind, account: &AttemptState) -> bool {
        kind == CredentialKind::Pin && account.failures >= self.pin_disable_after
    }

    /// Decides one attempt from a source on an account and, when granted, the states to
    /// store. Refusals in order: the source's window is full; the PIN is disabled; the pair
    /// or (for a source not known) the account is delayed, answering the later instant.
    pub fn reserve(
        &self,
        kind: CredentialKind,
        state: &GuessState,
        now: OffsetDateTime,
    ) -> (AttemptDecision, Option<Reserved>) {
        let (decision, source) = self.reserve_source(state.source, now);
        let Some(source) = source else {
            return (decision, None);
        };
        if self.pin_locked(kind, &state.account) {
            return (AttemptDecision::Disabled, None);
        }
        let pair_until = state.pair.throttled_until.filter(|&t| t > now);
        let account_until = state
            .account
            .throttled_until
            .filter(|&t| t > now && !self.is_known(&state.pair, now));
        if let Some(until) = pair_until.max(account_until) {
            return (AttemptDecision::Throttled { until }, None);
        }
        let pair_failures = state.pair.failures.saturating_add(1);
        let pair_delay = self.pair_delay.delay_after(pair_failures);
        let pair = PairState {
            failures: pair_failures,
            throttled_until: (pair_delay > Duration::ZERO).then_some(now + pair_delay),
            ..state.pair
        };
        let failures = state.account.failures.saturating_add(1);
        // This source now has failures too.
        let sources = state.other_failing_sources.saturating_add(1);
        let account_delay = self.account_delay_after(failures, sources);
        let account = AttemptState {
            failures,
            throttled_until: (account_delay > Duration::ZERO).then_some(now + account_delay),
        };
        let tripped = Tripped {
            source_limited_until: (source.failures >= self.source_max_failures)
                .then_some(source.window_started_at + self.source_window),
            pair_delayed_until: pair.throttled_until,
            account_delayed_until: account.throttled_until,
            pin_disabled: kind == CredentialKind::Pin && failures == self.pin_disable_after,
        };
        (
            AttemptDecision::Granted,
            Some(Reserved {
                source,
                pair,
                account,
                tripped,
            }),
        )
    }

    /// Decides one attempt from a source (its window alone) and, when granted, the state
    /// to store.
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

    /// The source's window once a reservation is given back (a success, or an attempt
    /// that verified nothing): within the window one failure less; after it, unchanged.
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

    /// The pair after a success from its source: cleared, and the source known from `now`.
    pub fn pair_after_success(&self, now: OffsetDateTime) -> PairState {
        PairState {
            failures: 0,
            throttled_until: None,
            last_success_at: Some(now),
        }
    }

    /// The pair once a reservation that verified nothing is given back: one failure less;
    /// its delay stays only while the count still earns one.
    pub fn release_pair(&self, pair: PairState) -> PairState {
        let failures = pair.failures.saturating_sub(1);
        PairState {
            failures,
            throttled_until: pair
                .throttled_until
                .filter(|_| self.pair_delay.delay_after(failures) > Duration::ZERO),
            ..pair
        }
    }

    /// The account-wide counter once a reservation that verified nothing is given back:
    /// one failure less; its delay stays only while the count still earns one.
    pub fn release_account(&self, account: AttemptState) -> AttemptState {
        let failures = account.failures.saturating_sub(1);
        AttemptState {
            failures,
            throttled_until: account
                .throttled_until
                .filter(|_| self.account_delay.delay_after(failures) > Duration::ZERO),
        }
    }
}

#[cfg(test)]
mod tests;
