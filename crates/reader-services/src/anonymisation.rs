//! Anonymising the returned loans of readers who do not keep a reading history
//! (docs/circulation.md, Reading history and anonymisation).
//!
//! A reader who turns "keep reading history" off asks the library not to keep what they
//! read. Hiding the loans from the history is not enough: the loan rows still name them.
//! So a scheduled job removes the reader from their returned loans once the loans are
//! [`AnonymisationPolicy::after_days`] days old (0: at the next run); the rows stay, without
//! the reader, for the statistics (library, item, dates, renewals).
//!
//! Decisions:
//! - Only readers whose setting is off. A reader who keeps the history keeps every loan
//!   linked (Koha's `privacy` "forever"; FOLIO anonymises by a library-wide setting
//!   instead, which we do not follow: the reader chose).
//! - A returned loan with a charge not yet settled (paid in full or waived) keeps its
//!   link, so staff can still tell the reader what the charge was for; it is anonymised at
//!   the first run after the charge is settled (FOLIO's "anonymize closed loans with fees
//!   only after fees are closed"; Koha's `batch_anonymise` skips loans with unpaid fines
//!   the same way through `AnonymousPatron`).
//! - "Older than N days" counts from the return instant, in whole days of 24 hours.

use time::{Duration, OffsetDateTime};

/// How long a returned loan of a reader who does not keep a reading history stays linked to
/// them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AnonymisationPolicy {
    /// Days after the return; 0 (the default) anonymises at the next run.
    pub after_days: u32,
}

/// What the decision weighs about one returned loan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReturnedLoanFacts {
    /// Whether its reader keeps a reading history.
    pub keeps_history: bool,
    /// When it was returned.
    pub returned_at: OffsetDateTime,
    /// Whether a charge on it is not settled yet (something still owed, not waived).
    pub unsettled_charge: bool,
}

impl AnonymisationPolicy {
    /// The last return instant anonymised by a run at `now`: `now` less the days.
    pub fn returned_by(&self, now: OffsetDateTime) -> OffsetDateTime {
        now.checked_sub(Duration::days(i64::from(self.after_days)))
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }

    /// Whether a run at `now` anonymises the loan.
    pub fn anonymises(&self, loan: &ReturnedLoanFacts, now: OffsetDateTime) -> bool {
        !loan.keeps_history && !loan.unsettled_charge && loan.returned_at <= self.returned_by(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn the_decision_state_by_state() {
        let now = datetime!(2021-03-10 02:00 UTC);
        let facts = |keeps_history, returned_at, unsettled_charge| ReturnedLoanFacts {
            keeps_history,
            returned_at,
            unsettled_charge,
        };
        let table = [
            // (after days, keeps history, returned at, unsettled charge) → anonymised
            (0, false, datetime!(2021-03-10 02:00 UTC), false, true),
            (0, false, datetime!(2021-03-10 02:00:01 UTC), false, false),
            (0, true, datetime!(2021-03-01 00:00 UTC), false, false),
            (0, false, datetime!(2021-03-01 00:00 UTC), true, false),
            (7, false, datetime!(2021-03-03 02:00 UTC), false, true),
            (7, false, datetime!(2021-03-03 02:00:01 UTC), false, false),
            (7, true, datetime!(2020-01-01 00:00 UTC), false, false),
        ];
        for (after_days, keeps, returned_at, unsettled, expected) in table {
            let policy = AnonymisationPolicy { after_days };
            assert_eq!(
                policy.anonymises(&facts(keeps, returned_at, unsettled), now),
                expected,
                "{after_days} {keeps} {returned_at} {unsettled}"
            );
        }
        assert_eq!(AnonymisationPolicy::default().after_days, 0);
        assert_eq!(
            AnonymisationPolicy { after_days: 7 }.returned_by(now),
            datetime!(2021-03-03 02:00 UTC)
        );
    }
}
