//! A reader's standing at a library, as every channel shows it: the reader-level facts the
//! checkout, renewal and hold decisions look at (`library_circulation::ReaderStanding`,
//! under the rules for that library and the reader's category), the account behind them,
//! and the messages a reader reads about them ("Your card has expired.", "You may borrow
//! again from 2021-03-15.", ...). A station shows them as privileges and screen messages;
//! the readers' web pages will show the same sentences.

use library_circulation::service::ReaderAccount;
use library_circulation::{EffectiveRules, Hold, ReaderStanding};
use library_core::{DEFAULT_LIBRARY_OFFSET, LibraryCode, PatronId};

use crate::ports::AdminError;
use crate::services::Services;

/// A reader's standing at a library.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standing {
    /// The reader's loans and what they owe.
    pub account: ReaderAccount,
    /// The rules for (the library, the reader's category).
    pub rules: EffectiveRules,
    /// The reader's queued and waiting holds.
    pub active_holds: Vec<Hold>,
    /// The reader-level facts of the decisions.
    pub facts: ReaderStanding,
    /// What the reader reads about them, one sentence each, in this order: an expired
    /// card, a block, a suspension, fines over the limit, the quota reached. Empty when
    /// nothing stands in the way.
    pub messages: Vec<String>,
}

/// The messages a reader reads about `facts`.
pub fn standing_messages(
    facts: &ReaderStanding,
    account: &ReaderAccount,
    rules: &EffectiveRules,
) -> Vec<String> {
    let patron = &account.patron;
    let mut messages = Vec::new();
    if facts.card_expired {
        messages.push("Your card has expired.".to_owned());
    }
    if patron.blocked {
        messages.push("This card is blocked. Please ask staff.".to_owned());
    }
    if let Some(until) = patron.suspended_until.filter(|_| facts.suspended) {
        messages.push(format!("You may borrow again from {until}."));
    }
    if facts.fines_over_limit {
        messages.push(format!(
            "Please pay your fines ({}) before borrowing.",
            account.outstanding
        ));
    }
    if let Some(limit) = rules.quota.filter(|_| facts.quota_reached) {
        messages.push(format!("You have reached your loan quota ({limit})."));
    }
    messages
}

impl Services {
    /// Reader `patron`'s standing at `library` as of now; `None` if there is no such
    /// reader. "Today" is the library's day (its calendar's zone), or the libraries' zone
    /// for a library that does not exist.
    pub async fn standing(
        &self,
        patron: PatronId,
        library: &LibraryCode,
    ) -> Result<Option<Standing>, AdminError> {
        let Some(account) = self.circulation.account(patron).await? else {
            return Ok(None);
        };
        let scoped = self.rules.in_force().await?;
        let rules =
            EffectiveRules::resolve(&scoped, Some(library), Some(&account.patron.category), None);
        let now = self.clock.now();
        let today = match self.libraries.library(library).await? {
            Some(library) => library.calendar.local_date(now),
            None => now.to_offset(DEFAULT_LIBRARY_OFFSET).date(),
        };
        let active_holds: Vec<Hold> = self
            .accounts
            .holds_of(patron, now)
            .await?
            .into_iter()
            .filter(Hold::is_active)
            .collect();
        let facts = ReaderStanding::assess(
            &account.patron,
            &rules,
            account.outstanding,
            account.loans.len(),
            active_holds.len(),
            today,
        );
        let messages = standing_messages(&facts, &account, &rules);
        Ok(Some(Standing {
            account,
            rules,
            active_holds,
            facts,
            messages,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use library_circulation::{Patron, ReaderCategory, hkpl_profile};
    use library_core::{CardNumber, Money};
    use time::macros::date;

    fn account(patron: Patron, outstanding: Money) -> ReaderAccount {
        ReaderAccount {
            patron,
            loans: Vec::new(),
            unpaid_charges: outstanding,
            outstanding,
        }
    }

    fn reader() -> Patron {
        Patron {
            id: PatronId(1),
            card_number: CardNumber::parse("21000012345678").unwrap(),
            category: ReaderCategory::parse("adult").unwrap(),
            home_library: LibraryCode::parse("HKCL").unwrap(),
            card_expires_on: date!(2021 - 03 - 05),
            suspended_until: None,
            blocked: false,
        }
    }

    fn messages(
        patron: Patron,
        outstanding: Money,
        loans: usize,
        today: time::Date,
    ) -> Vec<String> {
        let category = ReaderCategory::parse("adult").unwrap();
        let rules = EffectiveRules::resolve(&hkpl_profile(), None, Some(&category), None);
        let account = account(patron, outstanding);
        let facts = ReaderStanding::assess(&account.patron, &rules, outstanding, loans, 0, today);
        standing_messages(&facts, &account, &rules)
    }

    #[test]
    fn a_reader_in_good_standing_reads_nothing() {
        // The last valid day of the card, HK$99.99 owed, 9 of 10 loans.
        let m = messages(reader(), Money::from_cents(9_999), 9, date!(2021 - 03 - 05));
        assert!(m.is_empty(), "{m:?}");
    }

    #[test]
    fn every_fact_has_its_sentence_in_order() {
        let patron = Patron {
            blocked: true,
            suspended_until: Some(date!(2021 - 03 - 20)),
            ..reader()
        };
        // The day after the card's last valid day; HK$100.00 owed (the hkpl ceiling); 10
        // loans (the quota).
        let m = messages(patron, Money::from_cents(10_000), 10, date!(2021 - 03 - 06));
        assert_eq!(
            m,
            [
                "Your card has expired.",
                "This card is blocked. Please ask staff.",
                "You may borrow again from 2021-03-20.",
                "Please pay your fines (HK$100.00) before borrowing.",
                "You have reached your loan quota (10).",
            ]
        );
    }

    #[test]
    fn a_suspension_ends_on_its_resume_day() {
        let patron = Patron {
            suspended_until: Some(date!(2021 - 03 - 05)),
            card_expires_on: date!(2026 - 03 - 05),
            ..reader()
        };
        let before = messages(patron.clone(), Money::ZERO, 0, date!(2021 - 03 - 04));
        assert_eq!(before, ["You may borrow again from 2021-03-05."]);
        // The resume day itself: free to borrow again.
        assert!(messages(patron, Money::ZERO, 0, date!(2021 - 03 - 05)).is_empty());
    }
}
