//! The limits on "forgot Password": how many temporary passwords one account is sent, and
//! how many requests one source may make, per window. Pure; the credential store applies
//! a limit atomically (one conditional update per request), as it does the guessing
//! counters.
//!
//! - Per account: at most 3 temporary passwords an hour. Each one is a mail the reader did
//!   not necessarily ask for; a stranger who knows the address must not be able to flood
//!   the mailbox. Beyond the limit nothing is issued and the outstanding temporary
//!   password stays valid, so a reader who asked a fourth time still has the last mail.
//! - Per source (the attempt source of a login: IP address, terminal): at most 10
//!   requests an hour, whatever the email and whether or not it matches: against one
//!   address walking through a list of emails, mailing many readers or probing the
//!   hashing capacity.
//! - The answer never changes (202 `{}`): a refused request looks like any other.
//!
//! A window opens with the first request counted after the previous one ended, and lasts
//! the limit's length; within it at most the limit's number of requests is granted.

use time::{Duration, OffsetDateTime};

use crate::guessing::AttemptDecision;

/// One limit: at most `max_requests` granted within a window of `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestLimit {
    /// Requests granted per window (0: none ever).
    pub max_requests: u32,
    /// How long a window lasts from its first request.
    pub window: Duration,
}

/// The stored state of one window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestWindow {
    /// When the window ends (the first instant a new one may open).
    pub ends_at: OffsetDateTime,
    /// Requests granted within it.
    pub requests: u32,
}

impl RequestLimit {
    /// Decides one more request on a window (`None`: none stored, or never seen) and, when
    /// granted, the state to store.
    pub fn reserve(
        &self,
        state: Option<RequestWindow>,
        now: OffsetDateTime,
    ) -> (AttemptDecision, Option<RequestWindow>) {
        match state {
            Some(window) if now < window.ends_at => {
                if window.requests >= self.max_requests {
                    (
                        AttemptDecision::Throttled {
                            until: window.ends_at,
                        },
                        None,
                    )
                } else {
                    (
                        AttemptDecision::Granted,
                        Some(RequestWindow {
                            requests: window.requests + 1,
                            ..window
                        }),
                    )
                }
            }
            _ if self.max_requests == 0 => (
                AttemptDecision::Throttled {
                    until: now + self.window,
                },
                None,
            ),
            _ => (
                AttemptDecision::Granted,
                Some(RequestWindow {
                    ends_at: now + self.window,
                    requests: 1,
                }),
            ),
        }
    }
}

/// The limits on "forgot Password". [`ResetPolicy::default`] is the product's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResetPolicy {
    /// Temporary passwords issued to one account.
    pub per_account: RequestLimit,
    /// Requests from one source, whatever the email.
    pub per_source: RequestLimit,
}

impl Default for ResetPolicy {
    fn default() -> Self {
        Self {
            per_account: RequestLimit {
                max_requests: 3,
                window: Duration::hours(1),
            },
            per_source: RequestLimit {
                max_requests: 10,
                window: Duration::hours(1),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use AttemptDecision::{Granted, Throttled};
    use time::macros::datetime;

    /// Applies `limit` to a window, request by request, as a store does.
    fn run(
        limit: &RequestLimit,
        state: &mut Option<RequestWindow>,
        at: OffsetDateTime,
    ) -> AttemptDecision {
        let (decision, next) = limit.reserve(*state, at);
        if let Some(next) = next {
            *state = Some(next);
        }
        decision
    }

    #[test]
    fn an_account_gets_three_temporary_passwords_an_hour() {
        let limit = ResetPolicy::default().per_account;
        let mut window = None;
        let first = datetime!(2021-03-05 10:00 +08:00);
        assert_eq!(run(&limit, &mut window, first), Granted);
        assert_eq!(
            run(&limit, &mut window, datetime!(2021-03-05 10:20 +08:00)),
            Granted
        );
        // The third issues, the fourth does not, up to the last instant of the hour.
        assert_eq!(
            run(&limit, &mut window, datetime!(2021-03-05 10:40 +08:00)),
            Granted
        );
        let refused = Throttled {
            until: datetime!(2021-03-05 11:00 +08:00),
        };
        assert_eq!(
            run(&limit, &mut window, datetime!(2021-03-05 10:41 +08:00)),
            refused
        );
        assert_eq!(
            run(
                &limit,
                &mut window,
                datetime!(2021-03-05 10:59:59.999999 +08:00)
            ),
            refused
        );
        assert_eq!(
            window,
            Some(RequestWindow {
                ends_at: datetime!(2021-03-05 11:00 +08:00),
                requests: 3
            }),
            "refusals are not counted"
        );
        // One hour after the first, it issues again: a new window opens.
        assert_eq!(
            run(&limit, &mut window, datetime!(2021-03-05 11:00 +08:00)),
            Granted
        );
        assert_eq!(
            window,
            Some(RequestWindow {
                ends_at: datetime!(2021-03-05 12:00 +08:00),
                requests: 1
            })
        );
    }

    #[test]
    fn a_source_makes_ten_requests_an_hour() {
        let limit = ResetPolicy::default().per_source;
        let mut window = None;
        let start = datetime!(2021-03-05 10:00 UTC);
        for minute in 0..10 {
            assert_eq!(
                run(&limit, &mut window, start + Duration::minutes(minute)),
                Granted,
                "request {}",
                minute + 1
            );
        }
        assert_eq!(
            run(&limit, &mut window, datetime!(2021-03-05 10:10 UTC)),
            Throttled {
                until: datetime!(2021-03-05 11:00 UTC)
            }
        );
        assert_eq!(
            run(&limit, &mut window, datetime!(2021-03-05 11:01 UTC)),
            Granted
        );
    }

    #[test]
    fn a_window_over_long_ago_starts_afresh_and_a_zero_limit_grants_nothing() {
        let limit = ResetPolicy::default().per_account;
        let old = RequestWindow {
            ends_at: datetime!(2021-03-01 00:00 UTC),
            requests: 3,
        };
        let now = datetime!(2021-03-05 10:00 UTC);
        assert_eq!(
            limit.reserve(Some(old), now),
            (
                Granted,
                Some(RequestWindow {
                    ends_at: datetime!(2021-03-05 11:00 UTC),
                    requests: 1
                })
            )
        );
        let none = RequestLimit {
            max_requests: 0,
            ..limit
        };
        assert_eq!(
            none.reserve(None, now),
            (
                Throttled {
                    until: datetime!(2021-03-05 11:00 UTC)
                },
                None
            )
        );
    }
}
