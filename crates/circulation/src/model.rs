//! The records circulation works on: patrons (readers), items, titles, libraries, loans.
//! Holds live in [`crate::hold_queue`].

use library_core::{
    Barcode, CardNumber, ItemId, LibraryCode, LibraryKind, LoanId, PatronId, TitleId,
};
use library_fines::LendingLibrary;
use time::{Date, OffsetDateTime};

use crate::calendar::Calendar;
use crate::codes::{ItemType, ReaderCategory};
use crate::due_date::DueDate;

/// A reader, as circulation needs to know them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Patron {
    /// The record id.
    pub id: PatronId,
    /// The library card.
    pub card_number: CardNumber,
    /// The reader category rules are resolved for.
    pub category: ReaderCategory,
    /// The reader's home library.
    pub home_library: LibraryCode,
    /// The last date the card is valid (the card is expired from the day after).
    pub card_expires_on: Date,
    /// The first date the reader may borrow again after a suspension (docs/http.md,
    /// `suspended_until`); `None` = not suspended.
    pub suspended_until: Option<Date>,
    /// Blocked by a self-service station (SIP2 `01`) until staff lift it: refused like a
    /// suspension.
    pub blocked: bool,
}

impl Patron {
    /// `true` if the card is no longer valid on `today`.
    pub fn card_expired(&self, today: Date) -> bool {
        today > self.card_expires_on
    }

    /// `true` if the reader may not borrow, renew or reserve on `today`: suspended, or the
    /// card blocked.
    pub fn is_suspended(&self, today: Date) -> bool {
        self.blocked || self.suspended_until.is_some_and(|until| today < until)
    }
}

/// Where an item is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ItemStatus {
    /// On the shelf, may be borrowed.
    Available,
    /// On loan.
    OnLoan,
    /// Trapped for a waiting hold, on the hold shelf of the pickup library.
    OnHoldShelf,
    /// Travelling between libraries.
    InTransit,
    /// Declared lost.
    Lost,
    /// Reference or otherwise not for loan.
    NotForLoan,
}

/// A copy of a title.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// The record id.
    pub id: ItemId,
    /// The unique barcode.
    pub barcode: Barcode,
    /// The title it is a copy of.
    pub title: TitleId,
    /// The item type rules are resolved for.
    pub item_type: ItemType,
    /// The library that owns it.
    pub home_library: LibraryCode,
    /// Where it is.
    pub status: ItemStatus,
    /// The library it is at, or was last scanned in at: its home library until it is
    /// returned elsewhere; while in transit, the library it left (docs/circulation.md,
    /// Transit).
    pub current_library: LibraryCode,
    /// While in transit: the library it travels to. `None` in every other status.
    pub transit_to: Option<LibraryCode>,
}

impl Item {
    /// Where the copy is put: its status, the library it is at and, in transit, where it
    /// goes.
    pub fn placement(&self) -> ItemPlacement {
        ItemPlacement {
            status: self.status,
            library: self.current_library.clone(),
            transit_to: self.transit_to.clone(),
        }
    }
}

/// Where a copy that came free is put (a return, an arrival, a hold that ended): written
/// with its status in one update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemPlacement {
    /// The new status.
    pub status: ItemStatus,
    /// The library it is at now (where it was scanned in).
    pub library: LibraryCode,
    /// In transit: the destination; `None` otherwise.
    pub transit_to: Option<LibraryCode>,
}

impl ItemPlacement {
    /// On the shelf (or hold shelf, by `status`) at `library`.
    pub fn at(status: ItemStatus, library: LibraryCode) -> Self {
        Self {
            status,
            library,
            transit_to: None,
        }
    }

    /// In transit from `from` to `to`.
    pub fn in_transit(from: LibraryCode, to: LibraryCode) -> Self {
        Self {
            status: ItemStatus::InTransit,
            library: from,
            transit_to: Some(to),
        }
    }
}

/// A bibliographic record (holds are placed on titles).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Title {
    /// The record id.
    pub id: TitleId,
    /// The title proper.
    pub name: String,
}

/// A library as circulation needs it: code, kind and calendar (with its UTC offset).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Library {
    /// The library code.
    pub code: LibraryCode,
    /// The library kind (fine-suspension periods may be scoped by kind).
    pub kind: LibraryKind,
    /// Closed days and UTC offset.
    pub calendar: Calendar,
}

impl Library {
    /// The library as the fines crate sees a lending library.
    pub fn lending(&self) -> LendingLibrary {
        LendingLibrary::new(self.code.clone(), self.kind)
    }
}

/// A loan of an item to a reader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loan {
    /// The record id.
    pub id: LoanId,
    /// The borrower.
    pub patron: PatronId,
    /// The item lent.
    pub item: ItemId,
    /// The lending library (where the checkout happened): its calendar and fine-suspension
    /// periods decide the loan's fines (docs/fines.md).
    pub library: LibraryCode,
    /// When the loan was made (UTC).
    pub borrowed_at: OffsetDateTime,
    /// When it falls due.
    pub due: DueDate,
    /// Renewals made so far.
    pub renewals: u32,
    /// When it was returned (UTC); `None` while out.
    pub returned_at: Option<OffsetDateTime>,
    /// Where it was returned.
    pub returned_to: Option<LibraryCode>,
}

impl Loan {
    /// `true` while the item is out.
    pub fn is_open(&self) -> bool {
        self.returned_at.is_none()
    }
}

/// A loan not yet stored (the store assigns the id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLoan {
    /// The borrower.
    pub patron: PatronId,
    /// The item lent.
    pub item: ItemId,
    /// The lending library.
    pub library: LibraryCode,
    /// When the loan was made (UTC).
    pub borrowed_at: OffsetDateTime,
    /// When it falls due.
    pub due: DueDate,
}

impl NewLoan {
    /// The stored loan with its id.
    pub fn with_id(self, id: LoanId) -> Loan {
        Loan {
            id,
            patron: self.patron,
            item: self.item,
            library: self.library,
            borrowed_at: self.borrowed_at,
            due: self.due,
            renewals: 0,
            returned_at: None,
            returned_to: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn card_expiry_and_suspension_boundaries() {
        let p = Patron {
            id: PatronId(1),
            card_number: CardNumber::parse("21000012345678").unwrap(),
            category: ReaderCategory::parse("adult").unwrap(),
            home_library: LibraryCode::parse("HKCL").unwrap(),
            card_expires_on: date!(2021 - 03 - 05),
            suspended_until: Some(date!(2021 - 03 - 10)),
            blocked: false,
        };
        assert!(!p.card_expired(date!(2021 - 03 - 05)));
        assert!(p.card_expired(date!(2021 - 03 - 06)));
        assert!(p.is_suspended(date!(2021 - 03 - 09)));
        assert!(!p.is_suspended(date!(2021 - 03 - 10)));
        // A card blocked by a station is refused like a suspension, whatever the date.
        let blocked = Patron {
            suspended_until: None,
            blocked: true,
            ..p
        };
        assert!(blocked.is_suspended(date!(2021 - 03 - 10)));
        assert!(blocked.is_suspended(date!(2099 - 01 - 01)));
    }
}
