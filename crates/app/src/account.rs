//! A reader's account as every channel shows it: the open loans and the holds with their
//! titles' names, and renewing several loans at once (the web page's "renew selected" and
//! "renew all"). The HTTP API and the readers' web pages both read it from here.

use library_circulation::ports::CirculationChannel;
use library_circulation::service::{LoanStatus, RenewError, RenewOutcome, RenewRequest};
use library_circulation::{Hold, RenewalRefusal};
use library_core::{LoanId, PatronId};
use library_credentials::Scope;
use time::{Duration, OffsetDateTime};

use crate::ports::AdminError;
use crate::services::Services;

/// The channel a reader's own renewal comes through, as the statistics count it: a PIN
/// session is the telephone (or another PIN client), any other reader session is online.
pub fn reader_channel(scope: Scope) -> CirculationChannel {
    match scope {
        Scope::Pin => CirculationChannel::Pin,
        _ => CirculationChannel::Online,
    }
}

/// How long an ended hold (collected, expired, cancelled) stays in the reader's list.
pub const HOLD_HISTORY_DAYS: i64 = 90;

/// An open loan with its title's name.
#[derive(Debug, Clone)]
pub struct LoanLine {
    /// The loan, its item, the fine accrued so far and the renewals left.
    pub status: LoanStatus,
    /// The title's name ("" if the title has gone).
    pub title: String,
}

/// A hold with its title's name.
#[derive(Debug, Clone)]
pub struct HoldLine {
    /// The hold.
    pub hold: Hold,
    /// The title's name ("" if the title has gone).
    pub title: String,
}

/// One loan of a multiple renewal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Renewal {
    /// The loan.
    pub loan: LoanId,
    /// Its due date before (`None` for a loan that is not the reader's open loan).
    pub due_before: Option<OffsetDateTime>,
    /// What became of it.
    pub result: RenewalResult,
}

/// What became of one loan of a multiple renewal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RenewalResult {
    /// Renewed: the new due date and count.
    Renewed(Box<RenewOutcome>),
    /// Refused for a named reason.
    Refused(RenewalRefusal),
    /// No such open loan of this reader (returned meanwhile, or another reader's).
    NotFound,
}

impl Services {
    /// A reader's open loans, in the account's order (due date first), with their titles.
    pub async fn loans_of(&self, patron: PatronId) -> Result<Vec<LoanLine>, AdminError> {
        let Some(account) = self.circulation.account(patron).await? else {
            return Ok(Vec::new());
        };
        let titles: Vec<_> = account.loans.iter().map(|l| l.item.title).collect();
        let mut names = self.catalogue.title_names(&titles).await?;
        Ok(account
            .loans
            .into_iter()
            .map(|status| {
                let title = names.remove(&status.item.title).unwrap_or_default();
                LoanLine { status, title }
            })
            .collect())
    }

    /// A reader's holds: queued and waiting ones, and those that ended in the last
    /// [`HOLD_HISTORY_DAYS`] days, with their titles.
    pub async fn holds_of(&self, patron: PatronId) -> Result<Vec<HoldLine>, AdminError> {
        let since = self.clock.now() - Duration::days(HOLD_HISTORY_DAYS);
        let found = self.accounts.holds_of(patron, since).await?;
        let titles: Vec<_> = found.iter().map(|h| h.title).collect();
        let names = self.catalogue.title_names(&titles).await?;
        Ok(found
            .into_iter()
            .map(|hold| {
                let title = names.get(&hold.title).cloned().unwrap_or_default();
                HoldLine { hold, title }
            })
            .collect())
    }

    /// One hold with its title, as [`Self::holds_of`] lists it (the answer to a change).
    pub async fn hold_line(&self, hold: Hold) -> Result<HoldLine, AdminError> {
        let title = self
            .catalogue
            .title_names(&[hold.title])
            .await?
            .remove(&hold.title)
            .unwrap_or_default();
        Ok(HoldLine { hold, title })
    }

    /// Renews the reader's loans `loans`, or every open loan when `None`, one by one (each
    /// its own renewal, with its own refusal); what became of each, in the order asked
    /// (for all: the account's order), with the due date it had before. Stops at the
    /// first infrastructure failure. `channel`: where the reader asks
    /// ([`reader_channel`]).
    pub async fn renew_loans(
        &self,
        patron: PatronId,
        loans: Option<&[LoanId]>,
        channel: CirculationChannel,
    ) -> Result<Vec<Renewal>, AdminError> {
        let open: Vec<(LoanId, OffsetDateTime)> = match self.circulation.account(patron).await? {
            Some(account) => account
                .loans
                .iter()
                .map(|l| (l.loan.id, l.loan.due.at))
                .collect(),
            None => Vec::new(),
        };
        let ids: Vec<LoanId> = match loans {
            Some(ids) => {
                let mut unique = Vec::with_capacity(ids.len());
                for id in ids {
                    if !unique.contains(id) {
                        unique.push(*id);
                    }
                }
                unique
            }
            None => open.iter().map(|(id, _)| *id).collect(),
        };
        let mut results = Vec::with_capacity(ids.len());
        for loan in ids {
            let outcome = self
                .circulation
                .renew(
                    RenewRequest {
                        loan,
                        patron: Some(patron),
                        channel,
                    },
                    None,
                )
                .await;
            let result = match outcome {
                Ok(done) => RenewalResult::Renewed(Box::new(done)),
                Err(RenewError::Refused(why)) => RenewalResult::Refused(why),
                Err(RenewError::LoanNotFound) => RenewalResult::NotFound,
                Err(RenewError::Infrastructure(e)) => return Err(e.into()),
            };
            let due_before = open.iter().find(|(id, _)| *id == loan).map(|(_, at)| *at);
            results.push(Renewal {
                loan,
                due_before,
                result,
            });
        }
        Ok(results)
    }
}

impl Services {
    /// "Forgot Password" for `email` from `source`, as every channel asks it: the work the
    /// answer waits for is the same whatever the email (one hash), and the readers who
    /// share the email beyond the first are sent theirs after the answer, on a task of
    /// their own, so the answer's time does not say how many there are
    /// (docs/credentials.md, Temporary passwords).
    ///
    /// # Errors
    /// [`library_credentials::PortError`] when the limits or the first reader could not be
    /// served.
    pub async fn request_password_reset(
        &self,
        email: &str,
        source: &library_credentials::AttemptSource,
    ) -> Result<(), library_credentials::PortError> {
        let rest = self
            .credentials
            .request_password_reset(email, source)
            .await?;
        if let Some(rest) = rest {
            let credentials = self.credentials.clone();
            tokio::spawn(async move {
                if let Err(error) = credentials.send_remaining_temporary_passwords(rest).await {
                    tracing::warn!(%error, "temporary passwords for a shared email not sent");
                }
            });
        }
        Ok(())
    }
}
