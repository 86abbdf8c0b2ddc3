//! Service tests over the in-memory adapter (and mockall mocks in `mocks.rs`).

mod audit;
mod checkin;
mod checkout;
mod hold_options;
mod holds;
mod mocks;
mod properties;
mod renew;
mod statistics;
mod transit;

use std::sync::Arc;

use library_core::{
    Barcode, CardNumber, HoldId, ItemId, LibraryCode, LibraryKind, ManualClock, PatronId, TitleId,
};
use time::OffsetDateTime;
use time::macros::{date, datetime};

use super::*;
use crate::calendar::Calendar;
use crate::codes::{ItemType, ReaderCategory};
use crate::hold_queue::HoldStatus;
use crate::memory::MemoryStore;
use crate::model::{Item, ItemStatus, Library, Patron};
use crate::ports::CirculationChannel;
use crate::profile::hkpl_profile;

pub(super) type Service =
    Circulation<MemoryStore, MemoryStore, MemoryStore, MemoryStore, Arc<ManualClock>>;

/// A small library system on the "hkpl" profile, on 5 March 2021 at 10:00 in Hong Kong.
pub(super) struct World {
    pub store: MemoryStore,
    pub clock: Arc<ManualClock>,
    pub svc: Service,
}

pub(super) fn code(c: &str) -> LibraryCode {
    LibraryCode::parse(c).unwrap()
}

pub(super) fn card(n: &str) -> CardNumber {
    CardNumber::parse(n).unwrap()
}

pub(super) fn barcode(b: &str) -> Barcode {
    Barcode::parse(b).unwrap()
}

impl World {
    pub fn new() -> Self {
        let store = MemoryStore::new();
        store.set_rules(hkpl_profile());
        for (c, kind) in [
            ("HKCL", LibraryKind::Central),
            ("KLN", LibraryKind::Major),
            ("MOB1", LibraryKind::Mobile),
        ] {
            store.put_library(Library {
                code: code(c),
                kind,
                calendar: Calendar::default(),
            });
        }
        let clock = Arc::new(ManualClock::new(datetime!(2021-03-05 10:00 +08:00)));
        let svc = Circulation::new(
            store.clone(),
            store.clone(),
            store.clone(),
            store.clone(),
            clock.clone(),
        );
        Self { store, clock, svc }
    }

    pub fn at(&self, now: OffsetDateTime) {
        self.clock.set(now);
    }

    pub fn patron(&self, number: &str) -> PatronId {
        self.store.add_patron(Patron {
            id: PatronId(0),
            card_number: card(number),
            category: ReaderCategory::parse("adult").unwrap(),
            home_library: code("HKCL"),
            card_expires_on: date!(2030 - 12 - 31),
            suspended_until: None,
            blocked: false,
        })
    }

    pub fn title(&self, name: &str) -> TitleId {
        self.store.add_title(name)
    }

    pub fn item(&self, bc: &str, title: TitleId, item_type: &str) -> ItemId {
        self.store.add_item(Item {
            id: ItemId(0),
            barcode: barcode(bc),
            title,
            item_type: ItemType::parse(item_type).unwrap(),
            home_library: code("HKCL"),
            status: ItemStatus::Available,
            current_library: code("HKCL"),
            transit_to: None,
        })
    }

    pub fn checkout_at(
        &self,
        number: &str,
        bc: &str,
        library: &str,
    ) -> Result<CheckoutOutcome, CheckoutError> {
        pollster::block_on(self.svc.checkout(CheckoutRequest {
            card_number: card(number),
            item_barcode: barcode(bc),
            library: code(library),
        }))
    }

    pub fn checkout(&self, number: &str, bc: &str) -> Result<CheckoutOutcome, CheckoutError> {
        self.checkout_at(number, bc, "HKCL")
    }

    /// A return at HKCL, the copies' home and the holds' pickup library.
    pub fn checkin(&self, bc: &str) -> Result<CheckinOutcome, CheckinError> {
        self.checkin_at(bc, "HKCL")
    }

    /// A return (or an arrival) at `library`.
    pub fn checkin_at(&self, bc: &str, library: &str) -> Result<CheckinOutcome, CheckinError> {
        pollster::block_on(self.svc.checkin(CheckinRequest {
            item_barcode: barcode(bc),
            library: code(library),
            returned_at: None,
        }))
    }

    pub fn place_hold(&self, patron: PatronId, title: TitleId) -> Result<Hold, PlaceHoldError> {
        pollster::block_on(self.svc.place_hold(PlaceHoldRequest {
            patron,
            title,
            pickup_library: code("HKCL"),
            not_needed_after: None,
        }))
    }

    pub fn position(&self, hold: HoldId) -> Option<u32> {
        self.store.hold(hold).and_then(|h| h.position())
    }
}
