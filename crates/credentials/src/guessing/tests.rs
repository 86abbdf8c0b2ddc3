//! The guessing policy with concrete instants: each rule, its edges, and the bound on a
//! guesser spread over many sources.

use std::collections::HashMap;

use proptest::prelude::*;
use time::macros::datetime;

use super::*;
use CredentialKind::*;

const T0: OffsetDateTime = datetime!(2021-03-05 10:00 UTC);

/// One account and the counters around it, as a store keeps them.
#[derive(Debug, Default)]
struct Account {
    account: AttemptState,
    pairs: HashMap<&'static str, PairState>,
    sources: HashMap<&'static str, SourceState>,
}

impl Account {
    fn state(&self, source: &'static str) -> GuessState {
        GuessState {
            source: self.sources.get(source).copied(),
            pair: self.pairs.get(source).copied().unwrap_or_default(),
            account: self.account,
            other_failing_sources: u32::try_from(
                self.pairs
                    .iter()
                    .filter(|&(&s, p)| s != source && p.failures > 0)
                    .count(),
            )
            .unwrap(),
        }
    }

    /// One attempt that fails (or is refused): the decision and what it set off.
    fn fail(
        &mut self,
        p: &GuessingPolicy,
        kind: CredentialKind,
        source: &'static str,
        now: OffsetDateTime,
    ) -> (AttemptDecision, Tripped) {
        let (decision, reserved) = p.reserve(kind, &self.state(source), now);
        let Some(r) = reserved else {
            return (decision, Tripped::default());
        };
        self.sources.insert(source, r.source);
        self.pairs.insert(source, r.pair);
        self.account = r.account;
        (decision, r.tripped)
    }

    /// One attempt that verifies.
    fn succeed(
        &mut self,
        p: &GuessingPolicy,
        kind: CredentialKind,
        source: &'static str,
        now: OffsetDateTime,
    ) -> AttemptDecision {
        let (decision, reserved) = p.reserve(kind, &self.state(source), now);
        if let Some(r) = reserved {
            self.sources.insert(source, p.release_source(r.source, now));
            self.pairs.insert(source, p.pair_after_success(now));
            self.account = AttemptState::default();
        }
        decision
    }
}

fn secs(d: Option<OffsetDateTime>, from: OffsetDateTime) -> Option<i64> {
    d.map(|t| (t - from).whole_seconds())
}

#[test]
fn the_pair_delay_doubles_from_the_fifth_failure_up_to_fifteen_minutes() {
    let p = GuessingPolicy::default();
    let delays: Vec<i64> = (1..=17)
        .map(|n| p.pair_delay.delay_after(n).whole_seconds())
        .collect();
    assert_eq!(
        delays,
        [
            0, 0, 0, 0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900, 900
        ]
    );
    assert_eq!(p.pair_delay.delay_after(u32::MAX), Duration::minutes(15));
}

#[test]
fn the_account_delay_doubles_from_two_seconds_up_to_five_minutes() {
    let p = GuessingPolicy::default();
    let delays: Vec<i64> = (18..=30)
        .map(|n| p.account_delay_after(n, 3).whole_seconds())
        .collect();
    assert_eq!(delays, [0, 0, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300]);
    assert_eq!(p.account_delay_after(u32::MAX, 3), Duration::minutes(5));
    // Fewer than three failing sources: no account-wide delay however many failures.
    assert_eq!(p.account_delay_after(1000, 2), Duration::ZERO);
}

#[test]
fn the_fourth_failure_from_a_source_is_free_the_fifth_delays_that_source_only() {
    let p = GuessingPolicy::default();
    let mut a = Account::default();
    for n in 1..=4 {
        let (d, tripped) = a.fail(&p, Password, "ip:a", T0);
        assert_eq!(d, AttemptDecision::Granted, "failure {n}");
        assert_eq!(tripped, Tripped::default(), "failure {n}");
    }
    assert_eq!(a.pairs["ip:a"].throttled_until, None);
    let (d, tripped) = a.fail(&p, Password, "ip:a", T0);
    assert_eq!(d, AttemptDecision::Granted);
    assert_eq!(secs(tripped.pair_delayed_until, T0), Some(1));
    assert_eq!(tripped.account_delayed_until, None);
    // The same source waits; another source is not delayed at all.
    assert_eq!(
        a.fail(&p, Password, "ip:a", T0 + Duration::milliseconds(999))
            .0,
        AttemptDecision::Throttled {
            until: T0 + Duration::seconds(1)
        }
    );
    assert_eq!(
        a.succeed(&p, Password, "ip:b", T0 + Duration::milliseconds(999)),
        AttemptDecision::Granted
    );
    // The success cleared the account-wide counter, not the stranger's pair.
    assert_eq!(a.account, AttemptState::default());
    assert_eq!(a.pairs["ip:a"].failures, 5);
    // Once the delay is over the source may try again, and the next delay is 2 s.
    let (d, tripped) = a.fail(&p, Password, "ip:a", T0 + Duration::seconds(1));
    assert_eq!(d, AttemptDecision::Granted);
    assert_eq!(secs(tripped.pair_delayed_until, T0), Some(3));
}

#[test]
fn one_source_never_delays_the_account_for_anyone_else() {
    let p = GuessingPolicy::default();
    let mut a = Account::default();
    let mut now = T0;
    for _ in 0..200 {
        match a.fail(&p, Password, "ip:attacker", now).0 {
            AttemptDecision::Throttled { until } => now = until,
            AttemptDecision::Granted => {}
            AttemptDecision::Disabled => panic!("a Password is never disabled"),
        }
    }
    assert!(a.account.failures >= 20);
    assert_eq!(a.account.throttled_until, None);
    assert_eq!(
        a.succeed(&p, Password, "ip:owner", now),
        AttemptDecision::Granted
    );
}

#[test]
fn the_account_delay_starts_exactly_at_the_twentieth_failure_of_the_third_source() {
    let p = GuessingPolicy::default();
    let mut a = Account::default();
    let sources = ["ip:a", "ip:b", "ip:c", "ip:d", "ip:e"];
    for i in 0..19 {
        let (d, tripped) = a.fail(&p, Password, sources[i % 5], T0);
        assert_eq!(d, AttemptDecision::Granted);
        assert_eq!(tripped.account_delayed_until, None, "failure {}", i + 1);
    }
    let (d, tripped) = a.fail(&p, Password, "ip:f", T0);
    assert_eq!(d, AttemptDecision::Granted);
    assert_eq!(secs(tripped.account_delayed_until, T0), Some(2));
    // A fresh source is refused until the delay is over...
    assert_eq!(
        a.fail(&p, Password, "ip:fresh", T0 + Duration::seconds(1))
            .0,
        AttemptDecision::Throttled {
            until: T0 + Duration::seconds(2)
        }
    );
    // ...and then granted, lengthening it (21st failure: 4 s).
    let (d, tripped) = a.fail(&p, Password, "ip:fresh", T0 + Duration::seconds(2));
    assert_eq!(d, AttemptDecision::Granted);
    assert_eq!(secs(tripped.account_delayed_until, T0), Some(6));
}

#[test]
fn the_twentieth_failure_from_two_sources_does_not_delay_the_account() {
    let p = GuessingPolicy::default();
    let mut a = Account {
        account: AttemptState {
            failures: 19,
            throttled_until: None,
        },
        ..Account::default()
    };
    a.pairs.insert(
        "ip:a",
        PairState {
            failures: 3,
            ..PairState::default()
        },
    );
    let (d, tripped) = a.fail(&p, Password, "ip:b", T0);
    assert_eq!(d, AttemptDecision::Granted);
    assert_eq!(a.account.failures, 20);
    assert_eq!(tripped.account_delayed_until, None);
    // The same 20th failure with a third failing source delays it.
    let mut b = Account {
        account: AttemptState {
            failures: 19,
            throttled_until: None,
        },
        ..Account::default()
    };
    for s in ["ip:a", "ip:c"] {
        b.pairs.insert(
            s,
            PairState {
                failures: 1,
                ..PairState::default()
            },
        );
    }
    let (_, tripped) = b.fail(&p, Password, "ip:b", T0);
    assert_eq!(secs(tripped.account_delayed_until, T0), Some(2));
}

#[test]
fn a_known_source_passes_the_account_delay_until_day_thirty_not_day_thirty_one() {
    let p = GuessingPolicy::default();
    let verified = T0 - Duration::days(40);
    for (age, known) in [
        (Duration::days(30), true),
        (Duration::days(31), false),
        (Duration::days(30) + Duration::seconds(1), false),
    ] {
        let now = verified + age;
        let state = GuessState {
            source: None,
            pair: PairState {
                failures: 0,
                throttled_until: None,
                last_success_at: Some(verified),
            },
            account: AttemptState {
                failures: 25,
                throttled_until: Some(now + Duration::minutes(2)),
            },
            other_failing_sources: 5,
        };
        let (d, _) = p.reserve(Password, &state, now);
        if known {
            assert_eq!(d, AttemptDecision::Granted, "{age}");
        } else {
            assert_eq!(
                d,
                AttemptDecision::Throttled {
                    until: now + Duration::minutes(2)
                },
                "{age}"
            );
        }
    }
    // A known source's own pair delay still applies.
    let state = GuessState {
        pair: PairState {
            failures: 6,
            throttled_until: Some(T0 + Duration::seconds(2)),
            last_success_at: Some(T0 - Duration::days(1)),
        },
        ..GuessState::default()
    };
    assert_eq!(
        p.reserve(Password, &state, T0).0,
        AttemptDecision::Throttled {
            until: T0 + Duration::seconds(2)
        }
    );
}

#[test]
fn a_refusal_answers_the_later_of_the_pair_and_account_delays() {
    let p = GuessingPolicy::default();
    let state = GuessState {
        pair: PairState {
            failures: 7,
            throttled_until: Some(T0 + Duration::seconds(4)),
            last_success_at: None,
        },
        account: AttemptState {
            failures: 30,
            throttled_until: Some(T0 + Duration::seconds(300)),
        },
        ..GuessState::default()
    };
    assert_eq!(
        p.reserve(Password, &state, T0).0,
        AttemptDecision::Throttled {
            until: T0 + Duration::seconds(300)
        }
    );
}

#[test]
fn the_tenth_pin_failure_disables_the_pin_from_every_source_and_time_does_not_lift_it() {
    let p = GuessingPolicy::default();
    let mut a = Account::default();
    // Two sources, at most 4 each before moving on: no delay on the way.
    let sources = ["ip:a", "ip:b", "ip:c"];
    for n in 1..=9 {
        let (d, tripped) = a.fail(&p, Pin, sources[(n - 1) / 4], T0);
        assert_eq!(d, AttemptDecision::Granted, "failure {n}");
        assert!(!tripped.pin_disabled, "failure {n}");
    }
    let (d, tripped) = a.fail(&p, Pin, "ip:c", T0);
    assert_eq!(d, AttemptDecision::Granted);
    assert!(tripped.pin_disabled);
    assert!(p.pin_locked(Pin, &a.account));
    for (source, at) in [("ip:owner", T0), ("ip:a", T0 + Duration::days(365))] {
        assert_eq!(a.fail(&p, Pin, source, at).0, AttemptDecision::Disabled);
    }
    // The Password has no such lock.
    assert!(!p.pin_locked(Password, &a.account));
}

#[test]
fn the_source_window_allows_twenty_then_throttles_until_the_window_ends() {
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
    let released = p.release_source(s, T0 + Duration::minutes(2));
    assert_eq!(released.failures, 19);
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

#[test]
fn the_twentieth_failure_of_a_source_limits_it_over_every_account() {
    let p = GuessingPolicy::default();
    let mut accounts: Vec<Account> = (0..21).map(|_| Account::default()).collect();
    for (i, a) in (0_u32..).zip(accounts.iter_mut().take(20)) {
        // Share the source's window across accounts.
        let window = (i > 0).then_some(SourceState {
            window_started_at: T0,
            failures: i,
        });
        let mut state = a.state("ip:s");
        state.source = window;
        let (d, r) = p.reserve(Pin, &state, T0);
        assert_eq!(d, AttemptDecision::Granted);
        let tripped = r.unwrap().tripped;
        assert_eq!(
            tripped.source_limited_until,
            (i == 19).then_some(T0 + Duration::minutes(10)),
            "failure {}",
            i + 1
        );
    }
    let mut state = accounts[20].state("ip:s");
    state.source = Some(SourceState {
        window_started_at: T0,
        failures: 20,
    });
    assert_eq!(
        p.reserve(Pin, &state, T0 + Duration::minutes(5)).0,
        AttemptDecision::Throttled {
            until: T0 + Duration::minutes(10)
        }
    );
}

#[test]
fn giving_a_reservation_back_undoes_its_count_and_the_delay_it_earned() {
    let p = GuessingPolicy::default();
    let pair = PairState {
        failures: 5,
        throttled_until: Some(T0 + Duration::seconds(1)),
        last_success_at: Some(T0 - Duration::days(2)),
    };
    assert_eq!(
        p.release_pair(pair),
        PairState {
            failures: 4,
            throttled_until: None,
            last_success_at: Some(T0 - Duration::days(2)),
        }
    );
    let later = PairState {
        failures: 6,
        ..pair
    };
    assert_eq!(p.release_pair(later).throttled_until, pair.throttled_until);
    let account = AttemptState {
        failures: 20,
        throttled_until: Some(T0 + Duration::seconds(2)),
    };
    assert_eq!(
        p.release_account(account),
        AttemptState {
            failures: 19,
            throttled_until: None
        }
    );
    assert_eq!(
        p.release_account(AttemptState::default()),
        AttemptState::default()
    );
}

/// How many guesses one account takes in 24 hours from a guesser with as many sources as
/// he likes, each guess at the earliest instant the policy allows, a fresh source whenever
/// one is delayed. Every guess fails.
fn guesses_in_a_day(p: &GuessingPolicy, kind: CredentialKind) -> u32 {
    let mut account = AttemptState::default();
    let mut failing_sources = 0_u32;
    let mut source = PairState::default();
    let mut now = T0;
    let mut guesses = 0;
    while now < T0 + Duration::days(1) {
        if source.failures + 1 >= p.pair_delay.from.unwrap_or(u32::MAX) {
            // Move on before the pair delay would start.
            source = PairState::default();
        }
        let state = GuessState {
            source: None,
            pair: source,
            account,
            other_failing_sources: failing_sources - u32::from(source.failures > 0),
        };
        match p.reserve(kind, &state, now) {
            (AttemptDecision::Granted, Some(r)) => {
                guesses += 1;
                if source.failures == 0 {
                    failing_sources += 1;
                }
                source = r.pair;
                account = r.account;
            }
            (AttemptDecision::Throttled { until }, _) => now = until,
            (AttemptDecision::Disabled, _) => break,
            (AttemptDecision::Granted, None) => unreachable!(),
        }
    }
    guesses
}

#[test]
fn a_guesser_with_many_sources_gets_at_most_314_passwords_and_10_pins_a_day() {
    let p = GuessingPolicy::default();
    // 20 at once, then after 2, 4, … 256 s (8 more by 510 s), then one every 5 min:
    // 28 + (86,400 − 1 − 510) / 300 = 28 + 286.
    assert_eq!(guesses_in_a_day(&p, Password), 314);
    assert_eq!(guesses_in_a_day(&p, Pin), 10);
}

/// How long a guesser from one source waits before each guess, after `failures` failures.
fn pair_wait(p: &GuessingPolicy, failures: u32) -> Duration {
    p.pair_delay.delay_after(failures)
}

proptest! {
    #[test]
    fn a_delay_never_shortens_as_failures_grow(
        failures in 0_u32..200,
        sources in 0_u32..10,
    ) {
        let p = GuessingPolicy::default();
        prop_assert!(pair_wait(&p, failures + 1) >= pair_wait(&p, failures));
        prop_assert!(
            p.account_delay_after(failures + 1, sources) >= p.account_delay_after(failures, sources)
        );
        prop_assert!(
            p.account_delay_after(failures, sources + 1) >= p.account_delay_after(failures, sources)
        );
    }

    #[test]
    fn a_granted_failure_never_shortens_a_delay(
        pair_failures in 0_u32..40,
        account_failures in 0_u32..60,
        others in 0_u32..6,
        offset in 0_i64..2_000,
    ) {
        let p = GuessingPolicy::default();
        let now = T0 + Duration::seconds(offset);
        let state = GuessState {
            source: None,
            pair: PairState { failures: pair_failures, throttled_until: Some(now), last_success_at: None },
            account: AttemptState { failures: account_failures, throttled_until: Some(now) },
            other_failing_sources: others,
        };
        let (_, reserved) = p.reserve(Password, &state, now);
        let r = reserved.expect("no delay is pending at `now`");
        prop_assert!(r.pair.failures == pair_failures + 1);
        prop_assert!(r.pair.throttled_until.is_none_or(|t| t >= now));
        if let (Some(t), Some(after)) = (r.account.throttled_until, p.account_delay.from) {
            prop_assert!(account_failures + 1 >= after);
            prop_assert!(t - now == p.account_delay_after(account_failures + 1, others + 1));
        }
    }
}
