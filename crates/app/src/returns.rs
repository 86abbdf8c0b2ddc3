//! A return at the counter, for every channel: a checkin of a copy on loan, or of a lost
//! copy found (docs/circulation.md, Lost and found), decided here once.

use library_circulation::ports::Actor;
use library_circulation::service::{
    CheckinError, CheckinOutcome, CheckinRequest, FoundError, FoundOutcome,
};

use crate::services::Services;

/// What a return was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Return {
    /// A copy on loan came back.
    Returned(Box<CheckinOutcome>),
    /// A copy declared lost was found and came back.
    Found(Box<FoundOutcome>),
}

impl Services {
    /// Returns a copy `by` staff or a station: the checkin of its open loan or, for a copy
    /// not on loan that was declared lost, taking it back as found. A copy neither on
    /// loan nor lost is [`CheckinError::NotOnLoan`] as before.
    ///
    /// # Errors
    /// As [`CheckinError`].
    pub async fn check_in(&self, req: CheckinRequest, by: &Actor) -> Result<Return, CheckinError> {
        let (barcode, library) = (req.item_barcode.clone(), req.library.clone());
        match self.circulation.checkin(req, by).await {
            Err(CheckinError::NotOnLoan) => {
                match self.circulation.found(&barcode, &library, by).await {
                    Ok(found) => Ok(Return::Found(Box::new(found))),
                    Err(FoundError::NotLost) => Err(CheckinError::NotOnLoan),
                    Err(FoundError::ItemNotFound) => Err(CheckinError::ItemNotFound),
                    Err(FoundError::LibraryNotFound(code)) => {
                        Err(CheckinError::LibraryNotFound(code))
                    }
                    Err(FoundError::Infrastructure(e)) => Err(e.into()),
                }
            }
            other => other.map(|outcome| Return::Returned(Box::new(outcome))),
        }
    }
}
