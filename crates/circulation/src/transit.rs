//! Where a copy goes when it comes free at a library: trapped there for a hold, sent in
//! transit to a hold's pickup library or to its home library, or shelved where it is.
//!
//! - A hold comes first (FIFO, [`crate::HoldQueue::next_in_line`]): picked up here, the
//!   copy is trapped here; picked up elsewhere, it travels there for that hold (Koha
//!   `AddReturn` → `ResFound` and a transfer with reason `Reserve`; FOLIO routes an item
//!   with an open request to the request's pickup service point).
//! - With no hold, a copy away from its home library goes home (Koha `HomeOrHoldingBranch`
//!   return policy "return to home library"; FOLIO sends it to its primary service
//!   point), unless its item type *floats* (`floating`: Koha's "item floats" return
//!   policy), when it stays where it was scanned in.
//! - A copy that arrives for the hold it travelled for is trapped for that hold, even if
//!   others queued before it meanwhile: it was sent for that reader.
//!
//! The decision is pure; the services apply it ([`crate::service`]).

use library_core::{HoldId, LibraryCode};

use crate::hold_queue::Hold;
use crate::model::Item;

/// Where a copy that came free goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// Trapped for this hold, on the hold shelf here.
    Trap(HoldId),
    /// In transit to `to`: the pickup library of `hold`, or the copy's home library when
    /// `hold` is `None`.
    Transit {
        /// The destination.
        to: LibraryCode,
        /// The queued hold it travels for.
        hold: Option<HoldId>,
    },
    /// On the shelf here (at home, or floating).
    Shelve,
}

/// Where `copy`, come free at library `here`, goes: `travelling_for` is the queued hold it
/// was sent in transit for (an arrival), `next_in_line` the title's next hold that no copy
/// travels for, and `floating` the copy's `floating` rule at `here`.
pub fn route_copy(
    copy: &Item,
    here: &LibraryCode,
    floating: bool,
    travelling_for: Option<&Hold>,
    next_in_line: Option<&Hold>,
) -> Route {
    match travelling_for.or(next_in_line) {
        Some(hold) if hold.pickup_library == *here => Route::Trap(hold.id),
        Some(hold) => Route::Transit {
            to: hold.pickup_library.clone(),
            hold: Some(hold.id),
        },
        None if floating || copy.home_library == *here => Route::Shelve,
        None => Route::Transit {
            to: copy.home_library.clone(),
            hold: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::ItemType;
    use crate::hold_queue::HoldState;
    use crate::model::ItemStatus;
    use library_core::{Barcode, ItemId, PatronId, TitleId};
    use time::macros::datetime;

    fn code(c: &str) -> LibraryCode {
        LibraryCode::parse(c).unwrap()
    }

    fn copy(home: &str) -> Item {
        Item {
            id: ItemId(7),
            barcode: Barcode::parse("31234000000007").unwrap(),
            title: TitleId(3),
            item_type: ItemType::parse("adult_book").unwrap(),
            home_library: code(home),
            status: ItemStatus::OnLoan,
            current_library: code(home),
            transit_to: None,
        }
    }

    fn hold(id: i64, pickup: &str) -> Hold {
        Hold {
            id: HoldId(id),
            patron: PatronId(id),
            title: TitleId(3),
            pickup_library: code(pickup),
            placed_at: datetime!(2021-03-01 10:00 UTC),
            state: HoldState::Queued {
                position: 1,
                in_transit: None,
            },
            suspended_until: None,
            not_needed_after: None,
        }
    }

    #[test]
    fn a_hold_comes_first_then_home_unless_floating() {
        let (hkcl, stlb) = (code("HKCL"), code("STLB"));
        let c = copy("HKCL");
        let at_stlb = hold(1, "STLB");
        let at_hkcl = hold(2, "HKCL");
        // (here, floating, travelling for, next in line) → route
        type Case<'a> = (
            &'a LibraryCode,
            bool,
            Option<&'a Hold>,
            Option<&'a Hold>,
            Route,
        );
        let table: [Case<'_>; 8] = [
            // Returned where the hold is picked up: trapped there.
            (&stlb, false, None, Some(&at_stlb), Route::Trap(HoldId(1))),
            // Returned elsewhere: sent to the pickup library for that hold.
            (
                &hkcl,
                false,
                None,
                Some(&at_stlb),
                Route::Transit {
                    to: stlb.clone(),
                    hold: Some(HoldId(1)),
                },
            ),
            // A floating copy still goes to a hold.
            (
                &hkcl,
                true,
                None,
                Some(&at_stlb),
                Route::Transit {
                    to: stlb.clone(),
                    hold: Some(HoldId(1)),
                },
            ),
            // Arrived for the hold it travelled for: trapped for it, not for the next.
            (
                &stlb,
                false,
                Some(&at_stlb),
                Some(&at_hkcl),
                Route::Trap(HoldId(1)),
            ),
            // No hold, at home: shelved.
            (&hkcl, false, None, None, Route::Shelve),
            // No hold, away from home: home.
            (
                &stlb,
                false,
                None,
                None,
                Route::Transit {
                    to: hkcl.clone(),
                    hold: None,
                },
            ),
            // No hold, away from home, floating: stays.
            (&stlb, true, None, None, Route::Shelve),
            // Its hold ended in transit; the next reader collects at home: on to them.
            (
                &stlb,
                false,
                None,
                Some(&at_hkcl),
                Route::Transit {
                    to: hkcl.clone(),
                    hold: Some(HoldId(2)),
                },
            ),
        ];
        for (here, floating, travelling, next, expected) in table {
            assert_eq!(
                route_copy(&c, here, floating, travelling, next),
                expected,
                "at {here}, floating {floating}"
            );
        }
    }
}
