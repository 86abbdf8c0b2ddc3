//! The notices readers are sent: their kinds, the reminder job that queues the due reminder
//! and the overdue notices, what a reader (or staff) can see of what was sent, and the
//! preview of a day's volume.
//!
//! Reminders follow the library-local date (the libraries' zone) and are queued once per
//! loan, kind and due date: the store notes each reminder with the outbox row it queues, in
//! one transaction, so a rerun of the job or a second server process queues nothing twice,
//! and a renewal (a new due date) earns new reminders. A reminder is due on a day whose
//! window holds the loan's due date ([`ReminderKind::due_window`]); a server that was down on
//! the day sends it the next day it runs (the due reminder until the due date, the overdue
//! alert until the first overdue notice). A loan returned before the day gets none, and one
//! returned or renewed between queueing and sending is not sent it (the sender asks
//! [`ReminderStore::still_due`]).

use std::collections::HashMap;

use async_trait::async_trait;
use library_circulation::service::ReaderAccount;
use library_core::{DEFAULT_LIBRARY_OFFSET, LoanId, PatronId, TitleId};
use library_credentials::PortError;
use library_reader_services::Page;
use time::{Date, Duration, OffsetDateTime};

use crate::services::{JobRunner, Services};

/// The kinds of outbox messages: what the flows queue and the templates know.
pub mod kind {
    /// A temporary password asked for with "forgot Password" (sealed while queued).
    pub const TEMPORARY_PASSWORD: &str = "credentials.temporary_password";
    /// The reader's Password was changed.
    pub const PASSWORD_CHANGED: &str = "credentials.password_changed";
    /// The reader's PIN was changed.
    pub const PIN_CHANGED: &str = "credentials.pin_changed";
    /// Staff reset the reader's Password at the counter.
    pub const PASSWORD_RESET_BY_STAFF: &str = "credentials.password_reset_by_staff";
    /// The reader's email was changed or removed (sent to the old address).
    pub const EMAIL_CHANGED: &str = "settings.email_changed";
    /// A copy is on the hold shelf for the reader ("ready for pickup").
    pub const HOLD_WAITING: &str = "hold.waiting";
    /// A waiting hold was not collected by its pickup-by date and ended.
    pub const HOLD_EXPIRED: &str = "hold.expired";
    /// A queued hold passed the reader's "not needed after" date and ended.
    pub const HOLD_NOT_NEEDED: &str = "hold.not_needed";
    /// An activity the reader registered for was cancelled.
    pub const ACTIVITY_CANCELLED: &str = "activity.cancelled";
    /// Staff answered the reader's enquiry.
    pub const ENQUIRY_ANSWERED: &str = "enquiry.answered";
    /// The due reminder, 3 days before the due date.
    pub const DUE_SOON: &str = "loan.due_soon";
    /// The overdue alert, 1 day after the due date.
    pub const OVERDUE_ALERT: &str = "loan.overdue_alert";
    /// The first overdue notice, 11 days after the due date.
    pub const OVERDUE_NOTICE: &str = "loan.overdue_notice";
    /// A closure of the library moved the reader's due dates or pickup-by dates.
    pub const DEADLINES_MOVED: &str = "loan.deadlines_moved";
}

/// The reminders about a loan's due date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ReminderKind {
    /// 3 days before the due date.
    DueSoon,
    /// 1 day after.
    OverdueAlert,
    /// 11 days after.
    OverdueNotice,
}

impl ReminderKind {
    /// All of them, in the order of a loan's life.
    pub const ALL: [ReminderKind; 3] = [
        ReminderKind::DueSoon,
        ReminderKind::OverdueAlert,
        ReminderKind::OverdueNotice,
    ];

    /// Its outbox kind.
    pub const fn kind(self) -> &'static str {
        match self {
            ReminderKind::DueSoon => kind::DUE_SOON,
            ReminderKind::OverdueAlert => kind::OVERDUE_ALERT,
            ReminderKind::OverdueNotice => kind::OVERDUE_NOTICE,
        }
    }

    /// The reminder of outbox kind `kind`, if it is one.
    pub fn of_kind(kind: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.kind() == kind)
    }

    /// The due dates (from, inclusive, or unbounded; to, inclusive) of the open loans that
    /// are sent this reminder on local date `today`:
    /// - the due reminder: due 1 to 3 days after `today` (first on due−3);
    /// - the overdue alert: due 1 to 10 days before `today` (first on due+1);
    /// - the first overdue notice: due 11 or more days before `today` (first on due+11).
    ///
    /// The windows do not overlap, so on any day a loan is in one at most.
    pub fn due_window(self, today: Date) -> (Option<Date>, Date) {
        let day = |n: i64| today.saturating_add(Duration::days(n));
        match self {
            ReminderKind::DueSoon => (Some(day(1)), day(3)),
            ReminderKind::OverdueAlert => (Some(day(-10)), day(-1)),
            ReminderKind::OverdueNotice => (None, day(-11)),
        }
    }
}

/// An open loan a reminder is due for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueLoan {
    /// The loan.
    pub loan: LoanId,
    /// The borrower.
    pub patron: PatronId,
    /// The title lent.
    pub title: TitleId,
    /// The copy's barcode.
    pub barcode: String,
    /// The lending library's code.
    pub library: String,
    /// The loan's local due date.
    pub due_on: Date,
}

/// The reminders in the database: which are due, and noting one with its outbox row.
#[async_trait]
pub trait ReminderStore: Send + Sync {
    /// Up to `limit` open loans due within `from..=to` (`from` unbounded when `None`) that
    /// have not been sent `kind` for their current due date, earliest due first.
    async fn due(
        &self,
        kind: ReminderKind,
        from: Option<Date>,
        to: Date,
        limit: u32,
    ) -> Result<Vec<DueLoan>, PortError>;
    /// How many loans [`ReminderStore::due`] would give without a limit.
    async fn count_due(
        &self,
        kind: ReminderKind,
        from: Option<Date>,
        to: Date,
    ) -> Result<u64, PortError>;
    /// Notes `kind` for `loan` at its due date and queues its message (`payload`, JSON) at
    /// `at`, in one transaction; `false` (and nothing queued) if it was noted already.
    async fn queue(
        &self,
        kind: ReminderKind,
        loan: &DueLoan,
        payload: &str,
        at: OffsetDateTime,
    ) -> Result<bool, PortError>;
    /// Whether `loan` is still open and due on `due_on`.
    async fn still_due(&self, loan: LoanId, due_on: Date) -> Result<bool, PortError>;
}

/// Where a message is in its delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeStatus {
    /// Waiting for its first try.
    Queued,
    /// Tried, failed for a reason that may pass, and waiting for its next try.
    Retrying,
    /// Sent.
    Sent,
    /// Given up, with its reason (no channel, no address, expired, ...).
    NotSent,
}

impl NoticeStatus {
    /// The code the API shows.
    pub const fn code(self) -> &'static str {
        match self {
            NoticeStatus::Queued => "queued",
            NoticeStatus::Retrying => "retrying",
            NoticeStatus::Sent => "sent",
            NoticeStatus::NotSent => "not_sent",
        }
    }
}

/// A message for a reader as they and staff see it: never its payload (which may hold a
/// secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeRecord {
    /// Its id.
    pub id: i64,
    /// Its kind ([`kind`]).
    pub kind: String,
    /// The channels it went by (`email`, `sms`), empty while none.
    pub channels: Vec<String>,
    /// Where it is.
    pub status: NoticeStatus,
    /// When it was queued.
    pub queued_at: OffsetDateTime,
    /// When it was sent.
    pub sent_at: Option<OffsetDateTime>,
    /// Failed attempts so far.
    pub attempts: u32,
    /// Why it is retrying or not sent.
    pub reason: Option<String>,
}

/// What readers and staff see of the outbox.
#[async_trait]
pub trait NoticeLog: Send + Sync {
    /// The messages for `patron`, newest first: `limit` from `offset`, and how many in all.
    async fn of_reader(
        &self,
        patron: PatronId,
        limit: u32,
        offset: u64,
    ) -> Result<Page<NoticeRecord>, PortError>;
    /// How many messages wait to be sent (queued or retrying).
    async fn waiting(&self) -> Result<u64, PortError>;
}

/// How many reminders of each kind a day would queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxPreview {
    /// The day.
    pub date: Date,
    /// Per reminder kind, how many loans open now would be sent it that day (those already
    /// sent it not counted).
    pub reminders: Vec<(ReminderKind, u64)>,
    /// Messages waiting in the outbox now.
    pub waiting: u64,
}

impl OutboxPreview {
    /// Reminders and waiting messages together.
    pub fn total(&self) -> u64 {
        self.reminders
            .iter()
            .map(|(_, n)| n)
            .sum::<u64>()
            .saturating_add(self.waiting)
    }
}

impl Services {
    /// The messages sent (or being sent) to `patron`, newest first.
    pub async fn notices_of(
        &self,
        patron: PatronId,
        limit: u32,
        offset: u64,
    ) -> Result<Page<NoticeRecord>, PortError> {
        self.notices.of_reader(patron, limit, offset).await
    }

    /// The volume of local date `date`: the reminders the job would queue that day for the
    /// loans open now, and what already waits in the outbox. An administrator sees the flood
    /// before a reopening day.
    pub async fn outbox_preview(&self, date: Date) -> Result<OutboxPreview, PortError> {
        let mut reminders = Vec::new();
        for kind in ReminderKind::ALL {
            let (from, to) = kind.due_window(date);
            reminders.push((kind, self.reminders.count_due(kind, from, to).await?));
        }
        Ok(OutboxPreview {
            date,
            reminders,
            waiting: self.notices.waiting().await?,
        })
    }
}

/// What a run of the reminder job queued.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReminderReport {
    /// Due reminders.
    pub due_soon: usize,
    /// Overdue alerts.
    pub overdue_alert: usize,
    /// First overdue notices.
    pub overdue_notice: usize,
}

/// The reminder job: queues the reminders due on the library-local date of its run.
#[derive(Clone)]
pub struct Reminders {
    services: Services,
    batch: u32,
}

impl std::fmt::Debug for Reminders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reminders")
            .field("batch", &self.batch)
            .finish_non_exhaustive()
    }
}

impl Reminders {
    /// The job over `services`, reading 500 loans at a time.
    pub fn new(services: Services) -> Self {
        Reminders {
            services,
            batch: 500,
        }
    }

    /// What the message about `loan` says: the loan, title and library it names, its due
    /// date, and for an overdue one the days overdue and the fine accrued so far (from the
    /// reader's account, read once per reader and run: `accounts`).
    async fn payload(
        &self,
        kind: ReminderKind,
        loan: &DueLoan,
        accounts: &mut HashMap<PatronId, Option<ReaderAccount>>,
    ) -> Result<String, PortError> {
        let mut payload = serde_json::json!({
            "loan_id": loan.loan.get(),
            "title_id": loan.title.get(),
            "item_barcode": loan.barcode,
            "library": loan.library,
            "due_on": loan.due_on.to_string(),
        });
        if kind != ReminderKind::DueSoon {
            let account = match accounts.entry(loan.patron) {
                std::collections::hash_map::Entry::Occupied(known) => known.into_mut(),
                std::collections::hash_map::Entry::Vacant(slot) => {
                    let account = self
                        .services
                        .circulation
                        .account(loan.patron)
                        .await
                        .map_err(|e| {
                            PortError::Failed(format!("read the reader's account: {e}"))
                        })?;
                    slot.insert(account)
                }
            };
            let accrued = account
                .as_ref()
                .and_then(|a| a.loans.iter().find(|l| l.loan.id == loan.loan))
                .map(|l| l.accrued);
            if let Some(accrued) = accrued {
                payload["overdue_days"] = accrued.overdue_days.into();
                payload["fine_cents"] = accrued.fine.cents().into();
            }
        }
        Ok(payload.to_string())
    }

    /// Queues the reminders due on the local date of `now`.
    pub async fn run_once(&self, now: OffsetDateTime) -> Result<ReminderReport, PortError> {
        let today = now.to_offset(DEFAULT_LIBRARY_OFFSET).date();
        let mut report = ReminderReport::default();
        let mut accounts = HashMap::new();
        for kind in ReminderKind::ALL {
            let (from, to) = kind.due_window(today);
            loop {
                let loans = self
                    .services
                    .reminders
                    .due(kind, from, to, self.batch)
                    .await?;
                for loan in &loans {
                    let payload = self.payload(kind, loan, &mut accounts).await?;
                    if self
                        .services
                        .reminders
                        .queue(kind, loan, &payload, now)
                        .await?
                    {
                        match kind {
                            ReminderKind::DueSoon => report.due_soon += 1,
                            ReminderKind::OverdueAlert => report.overdue_alert += 1,
                            ReminderKind::OverdueNotice => report.overdue_notice += 1,
                        }
                    }
                }
                if loans.len() < self.batch as usize {
                    break;
                }
            }
        }
        Ok(report)
    }
}

#[async_trait]
impl JobRunner for Reminders {
    async fn run_all(&self, now: OffsetDateTime) -> Result<(), PortError> {
        let report = self.run_once(now).await?;
        if report != ReminderReport::default() {
            tracing::info!(
                due_soon = report.due_soon,
                overdue_alert = report.overdue_alert,
                overdue_notice = report.overdue_notice,
                "reminders queued"
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn each_reminder_starts_on_its_day_and_the_windows_never_overlap() {
        let due = date!(2024 - 03 - 01);
        let kinds_on = |today: Date| -> Vec<ReminderKind> {
            ReminderKind::ALL
                .into_iter()
                .filter(|k| {
                    let (from, to) = k.due_window(today);
                    from.is_none_or(|f| f <= due) && due <= to
                })
                .collect()
        };
        // due−4: nothing; due−3 (across the leap day): the due reminder, until the day
        // before the due date.
        assert!(kinds_on(date!(2024 - 02 - 26)).is_empty());
        assert_eq!(kinds_on(date!(2024 - 02 - 27)), [ReminderKind::DueSoon]);
        assert_eq!(kinds_on(date!(2024 - 02 - 29)), [ReminderKind::DueSoon]);
        // The due date itself: nothing (the loan is not overdue yet).
        assert!(kinds_on(due).is_empty());
        // due+1 to due+10: the alert; due+11 onwards: the first notice.
        assert_eq!(
            kinds_on(date!(2024 - 03 - 02)),
            [ReminderKind::OverdueAlert]
        );
        assert_eq!(
            kinds_on(date!(2024 - 03 - 11)),
            [ReminderKind::OverdueAlert]
        );
        assert_eq!(
            kinds_on(date!(2024 - 03 - 12)),
            [ReminderKind::OverdueNotice]
        );
        assert_eq!(
            kinds_on(date!(2025 - 03 - 12)),
            [ReminderKind::OverdueNotice]
        );
    }

    #[test]
    fn on_any_day_a_due_date_is_in_one_window_at_most_and_every_overdue_date_in_one() {
        let today = date!(2024 - 02 - 29);
        for offset in -800..=800 {
            let due = today.saturating_add(Duration::days(offset));
            let holding: Vec<ReminderKind> = ReminderKind::ALL
                .into_iter()
                .filter(|k| {
                    let (from, to) = k.due_window(today);
                    from.is_none_or(|f| f <= due) && due <= to
                })
                .collect();
            let expected = match offset {
                1..=3 => vec![ReminderKind::DueSoon],
                -10..=-1 => vec![ReminderKind::OverdueAlert],
                ..=-11 => vec![ReminderKind::OverdueNotice],
                _ => vec![],
            };
            assert_eq!(holding, expected, "due {due}, offset {offset}");
        }
    }

    #[test]
    fn kinds_round_trip() {
        for kind in ReminderKind::ALL {
            assert_eq!(ReminderKind::of_kind(kind.kind()), Some(kind));
        }
        assert_eq!(ReminderKind::of_kind(kind::HOLD_WAITING), None);
    }
}
