//! Staff reports (docs/http.md, Reports): circulation counts and fines per library and
//! local day over a period, and the overdue loans now. Read-only.
//!
//! Decisions:
//! - Days are the library's local days: an event is counted on the date it had at its
//!   library when it happened (a checkout at 23:30 in Hong Kong on 5 March 2021 is a
//!   5 March checkout, though it is 15:30 UTC), stored with the event
//!   ([`library_circulation::ports::CirculationStatistic`]); fines on the ledger's dates.
//! - A period is at most [`MAX_REPORT_DAYS`] days, both ends included.
//! - Only days on which something happened at a library are listed.

use library_circulation::ports::{CirculationChannel, StatisticKind};
use library_circulation::{ItemType, Loan, ReaderCategory};
use library_core::{Barcode, CardNumber, LibraryCode, Money};
use library_fines::FineAssessment;
use library_reader_services::Page;
use time::{Date, OffsetDateTime};

use crate::ports::AdminError;
use crate::services::Services;

/// The longest period a report covers, in days, both ends included.
pub const MAX_REPORT_DAYS: i64 = 366;
/// The most overdue loans on a page.
pub const MAX_PER_PAGE: u32 = 100;
/// Overdue loans on a page unless asked.
pub const DEFAULT_PER_PAGE: u32 = 20;

/// A report's period and library, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportPeriod {
    /// The first day.
    pub from: Date,
    /// The last day (included).
    pub to: Date,
    /// One library only.
    pub library: Option<LibraryCode>,
}

impl ReportPeriod {
    /// From `from` to `to` (both required, `to` not before `from`, at most
    /// [`MAX_REPORT_DAYS`] days), at `library` when given (a library code: its existence
    /// is checked by [`Services`]). The violations: `from_missing`, `to_missing`,
    /// `to_before_from`, `period_too_long`, `unknown_library`.
    pub fn parse(
        from: Option<Date>,
        to: Option<Date>,
        library: Option<&str>,
    ) -> Result<Self, Vec<&'static str>> {
        let mut violations = Vec::new();
        if from.is_none() {
            violations.push("from_missing");
        }
        if to.is_none() {
            violations.push("to_missing");
        }
        if let (Some(from), Some(to)) = (from, to) {
            if to < from {
                violations.push("to_before_from");
            } else if (to - from).whole_days() + 1 > MAX_REPORT_DAYS {
                violations.push("period_too_long");
            }
        }
        let library = parse_library(library, &mut violations);
        match (from, to) {
            (Some(from), Some(to)) if violations.is_empty() => Ok(Self { from, to, library }),
            _ => Err(violations),
        }
    }
}

fn parse_library(raw: Option<&str>, violations: &mut Vec<&'static str>) -> Option<LibraryCode> {
    match raw.map(str::trim) {
        None | Some("") => None,
        Some(code) => match LibraryCode::parse(code) {
            Ok(code) => Some(code),
            Err(_) => {
                violations.push("unknown_library");
                None
            }
        },
    }
}

/// Which overdue loans, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverdueQuery {
    /// Lent by this library only.
    pub library: Option<LibraryCode>,
    /// Loans on a page.
    pub limit: u32,
    /// Loans skipped.
    pub offset: u64,
}

impl OverdueQuery {
    /// Page `page` (from 1, default 1) of `per_page` loans (1 to [`MAX_PER_PAGE`], default
    /// [`DEFAULT_PER_PAGE`]), lent by `library` when given. The violations:
    /// `page_invalid`, `per_page_invalid`, `unknown_library` (as the catalogue search).
    pub fn parse(
        library: Option<&str>,
        page: Option<i64>,
        per_page: Option<i64>,
    ) -> Result<Self, Vec<&'static str>> {
        let mut violations = Vec::new();
        let library = parse_library(library, &mut violations);
        let per_page = match per_page {
            None => Some(DEFAULT_PER_PAGE),
            Some(n) => u32::try_from(n)
                .ok()
                .filter(|n| (1..=MAX_PER_PAGE).contains(n)),
        };
        if per_page.is_none() {
            violations.push("per_page_invalid");
        }
        let page = match page {
            None => Some(1),
            Some(n) => u64::try_from(n).ok().filter(|n| *n >= 1),
        };
        if page.is_none() {
            violations.push("page_invalid");
        }
        match (per_page, page) {
            (Some(limit), Some(page)) if violations.is_empty() => Ok(Self {
                library,
                limit,
                offset: (page - 1).saturating_mul(u64::from(limit)),
            }),
            _ => Err(violations),
        }
    }
}

/// What happened at one library on one local day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CirculationDay {
    /// The library's local date.
    pub on: Date,
    /// The library.
    pub library: LibraryCode,
    /// Checkouts at a counter (hold collections included).
    pub checkouts_counter: u64,
    /// Checkouts at a self-service station.
    pub checkouts_station: u64,
    /// Checkins at a counter (the book drop included).
    pub checkins_counter: u64,
    /// Checkins at a station.
    pub checkins_station: u64,
    /// Renewals at a counter.
    pub renewals_counter: u64,
    /// Renewals at a station.
    pub renewals_station: u64,
    /// Renewals by readers online (a Password session).
    pub renewals_online: u64,
    /// Renewals by readers with a PIN (telephone).
    pub renewals_pin: u64,
    /// Holds placed for pickup there.
    pub holds_placed: u64,
    /// Holds collected there.
    pub holds_collected: u64,
}

impl CirculationDay {
    /// Nothing yet at `library` on `on`.
    pub fn new(on: Date, library: LibraryCode) -> Self {
        Self {
            on,
            library,
            checkouts_counter: 0,
            checkouts_station: 0,
            checkins_counter: 0,
            checkins_station: 0,
            renewals_counter: 0,
            renewals_station: 0,
            renewals_online: 0,
            renewals_pin: 0,
            holds_placed: 0,
            holds_collected: 0,
        }
    }

    /// Adds `n` events of `kind` through `channel`.
    pub fn add(&mut self, kind: StatisticKind, channel: Option<CirculationChannel>, n: u64) {
        use CirculationChannel as C;
        use StatisticKind as K;
        let count = match (kind, channel) {
            (K::Checkout, Some(C::Station)) => &mut self.checkouts_station,
            (K::Checkout, _) => &mut self.checkouts_counter,
            (K::Checkin, Some(C::Station)) => &mut self.checkins_station,
            (K::Checkin, _) => &mut self.checkins_counter,
            (K::Renewal, Some(C::Station)) => &mut self.renewals_station,
            (K::Renewal, Some(C::Online)) => &mut self.renewals_online,
            (K::Renewal, Some(C::Pin)) => &mut self.renewals_pin,
            (K::Renewal, _) => &mut self.renewals_counter,
            (K::HoldPlaced, _) => &mut self.holds_placed,
            (K::HoldCollected, _) => &mut self.holds_collected,
        };
        *count += n;
    }
}

/// The fine ledger's movements at one library on one day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FinesDay {
    /// The date.
    pub on: Date,
    /// The library the charges are for: the lending library of an overdue fine, the pickup
    /// library of a hold fee; `None` for charges of no library (added by hand).
    pub library: Option<LibraryCode>,
    /// Charges made (fines fixed, hold fees).
    pub charged: Money,
    /// Paid towards those charges, on the payment's day.
    pub paid: Money,
    /// Waived.
    pub waived: Money,
}

/// An open loan past its due time, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverdueRow {
    /// The loan.
    pub loan: Loan,
    /// The borrower's card.
    pub card_number: CardNumber,
    /// The borrower's category (the fine rules depend on it).
    pub category: Option<ReaderCategory>,
    /// The title.
    pub title: String,
    /// The copy.
    pub barcode: Barcode,
    /// Its item type.
    pub item_type: ItemType,
}

/// An overdue loan with what it has cost so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverdueLine {
    /// The loan as stored.
    pub row: OverdueRow,
    /// Days overdue, chargeable days and the fine accruing, as of now.
    pub accrued: FineAssessment,
}

/// The reports' reads, implemented over the database by `library-persistence`.
#[async_trait::async_trait]
pub trait ReportStore: Send + Sync {
    /// The circulation counts per local day and library over `period`, by day then
    /// library.
    async fn circulation(&self, period: &ReportPeriod) -> Result<Vec<CirculationDay>, AdminError>;
    /// The fine ledger's movements per day and library over `period`, by day then library
    /// (no library last).
    async fn fines(&self, period: &ReportPeriod) -> Result<Vec<FinesDay>, AdminError>;
    /// The open loans past their due time at `now` (lent by `query.library`), longest
    /// overdue first, one page, with their total.
    async fn overdue(
        &self,
        query: &OverdueQuery,
        now: OffsetDateTime,
    ) -> Result<Page<OverdueRow>, AdminError>;
}

impl Services {
    async fn known_library(&self, library: Option<&LibraryCode>) -> Result<(), ReportError> {
        match library {
            Some(code) if self.libraries.library(code).await?.is_none() => {
                Err(ReportError::Invalid(vec!["unknown_library"]))
            }
            _ => Ok(()),
        }
    }

    /// The circulation report over `period`.
    pub async fn circulation_report(
        &self,
        period: &ReportPeriod,
    ) -> Result<Vec<CirculationDay>, ReportError> {
        self.known_library(period.library.as_ref()).await?;
        Ok(self.reports.circulation(period).await?)
    }

    /// The fines report over `period`.
    pub async fn fines_report(&self, period: &ReportPeriod) -> Result<Vec<FinesDay>, ReportError> {
        self.known_library(period.library.as_ref()).await?;
        Ok(self.reports.fines(period).await?)
    }

    /// The overdue loans now, one page, each with its fine accruing, computed as every
    /// channel computes it (the lending library's calendar and fine-suspension periods,
    /// the rules for the reader's category and the item's type).
    pub async fn overdue_report(
        &self,
        query: &OverdueQuery,
    ) -> Result<Page<OverdueLine>, ReportError> {
        self.known_library(query.library.as_ref()).await?;
        let page = self.reports.overdue(query, self.clock.now()).await?;
        let loans: Vec<_> = page
            .items
            .iter()
            .map(|r| (r.loan.clone(), r.category.clone(), r.item_type.clone()))
            .collect();
        let accrued = self
            .circulation
            .accrued_fines(&loans)
            .await
            .map_err(AdminError::from)?;
        Ok(Page {
            total: page.total,
            items: page
                .items
                .into_iter()
                .zip(accrued)
                .map(|(row, accrued)| OverdueLine { row, accrued })
                .collect(),
        })
    }
}

/// Why a report was not made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The input broke these rules (violation codes).
    #[error("invalid report: {0:?}")]
    Invalid(Vec<&'static str>),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] AdminError),
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn a_period_is_both_dates_in_order_and_at_most_366_days() {
        let ok = |from, to| ReportPeriod::parse(Some(from), Some(to), None).map(|p| (p.from, p.to));
        assert_eq!(
            ok(date!(2021 - 03 - 05), date!(2021 - 03 - 05)),
            Ok((date!(2021 - 03 - 05), date!(2021 - 03 - 05)))
        );
        // 2020 is a leap year: 1 January to 31 December is 366 days.
        assert!(ok(date!(2020 - 01 - 01), date!(2020 - 12 - 31)).is_ok());
        assert_eq!(
            ok(date!(2020 - 01 - 01), date!(2021 - 01 - 01)),
            Err(vec!["period_too_long"])
        );
        assert_eq!(
            ok(date!(2021 - 03 - 05), date!(2021 - 03 - 04)),
            Err(vec!["to_before_from"])
        );
        assert_eq!(
            ReportPeriod::parse(None, None, Some("no such!")),
            Err(vec!["from_missing", "to_missing", "unknown_library"])
        );
        assert_eq!(
            ReportPeriod::parse(
                Some(date!(2021 - 03 - 05)),
                Some(date!(2021 - 03 - 05)),
                Some(" CEN ")
            )
            .map(|p| p.library.map(|l| l.as_str().to_owned())),
            Ok(Some("CEN".to_owned()))
        );
    }

    #[test]
    fn overdue_paging_as_the_catalogue_search() {
        assert_eq!(
            OverdueQuery::parse(None, None, None),
            Ok(OverdueQuery {
                library: None,
                limit: 20,
                offset: 0
            })
        );
        assert_eq!(
            OverdueQuery::parse(None, Some(3), Some(100)).map(|q| q.offset),
            Ok(200)
        );
        assert_eq!(
            OverdueQuery::parse(None, Some(0), Some(101)),
            Err(vec!["per_page_invalid", "page_invalid"])
        );
    }

    #[test]
    fn counts_fold_by_kind_and_channel() {
        let mut day =
            CirculationDay::new(date!(2021 - 03 - 05), LibraryCode::parse("CEN").unwrap());
        day.add(
            StatisticKind::Checkout,
            Some(CirculationChannel::Station),
            2,
        );
        day.add(
            StatisticKind::Checkout,
            Some(CirculationChannel::Counter),
            1,
        );
        day.add(StatisticKind::Renewal, Some(CirculationChannel::Pin), 3);
        day.add(StatisticKind::Renewal, Some(CirculationChannel::Online), 4);
        day.add(StatisticKind::HoldCollected, None, 1);
        assert_eq!(
            (
                day.checkouts_station,
                day.checkouts_counter,
                day.renewals_pin,
                day.renewals_online,
                day.holds_collected
            ),
            (2, 1, 3, 4, 1)
        );
    }
}
