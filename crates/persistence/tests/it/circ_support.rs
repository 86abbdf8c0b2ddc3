//! Circulation fixtures: the same small library system seeded into the database and into
//! the in-memory reference adapter, and the service over either.

use std::sync::Arc;

use library_circulation::memory::MemoryStore;
use library_circulation::{
    Calendar, Circulation, Item, ItemStatus, ItemType, Library, Patron, ReaderCategory,
    hkpl_profile,
};
use library_core::{
    Barcode, CardNumber, ItemId, LibraryCode, LibraryKind, ManualClock, PatronId, TitleId,
};
use library_persistence::{
    CalendarRule, Database, DbCirculationStore, FineSuspensionStore, LibraryStore, NewItem,
    NewLibrary, ReaderProfile, RuleStore,
};
use time::macros::{date, datetime};
use time::{OffsetDateTime, UtcOffset, Weekday};

use crate::support::new_patron;

/// 5 March 2021, 10:00 in Hong Kong (a Friday).
pub const NOW: OffsetDateTime = datetime!(2021-03-05 10:00 +08:00);

pub type DbService =
    Circulation<DbCirculationStore, RuleStore, LibraryStore, FineSuspensionStore, Arc<ManualClock>>;
pub type MemService =
    Circulation<MemoryStore, MemoryStore, MemoryStore, MemoryStore, Arc<ManualClock>>;

pub fn code(c: &str) -> LibraryCode {
    LibraryCode::parse(c).unwrap()
}

pub fn barcode(b: &str) -> Barcode {
    Barcode::parse(b).unwrap()
}

/// Card number of reader `n` (1-based).
pub fn card_of(n: usize) -> CardNumber {
    CardNumber::parse(&format!("2100000000{n:04}")).unwrap()
}

pub fn profile() -> ReaderProfile {
    ReaderProfile {
        category: ReaderCategory::parse("adult").unwrap(),
        home_library: code("HKCL"),
        card_expires_on: date!(2030 - 12 - 31),
    }
}

/// HKCL is closed on Mondays; KLN is open every day.
fn hkcl_calendar() -> Calendar {
    Calendar::always_open(UtcOffset::from_hms(8, 0, 0).unwrap())
        .with_closed_weekday(Weekday::Monday)
}

/// Ids of the seeded records (they differ between adapters).
#[derive(Debug, Clone)]
pub struct Seeded {
    pub readers: Vec<PatronId>,
    pub title: TitleId,
    pub items: Vec<ItemId>,
}

/// Libraries HKCL and KLN, the "hkpl" rules, `readers` readers, one title with `copies`
/// adult books `B0001…`.
pub async fn seed_db(db: &Database, readers: usize, copies: usize) -> Seeded {
    for (c, kind) in [("HKCL", LibraryKind::Central), ("KLN", LibraryKind::Major)] {
        db.libraries()
            .create(
                &NewLibrary {
                    code: code(c),
                    name: format!("{c} Library"),
                    name_zh: "圖書館".into(),
                    kind,
                    utc_offset: UtcOffset::from_hms(8, 0, 0).unwrap(),
                },
                None,
            )
            .await
            .unwrap();
    }
    db.libraries()
        .add_calendar_entry(
            &code("HKCL"),
            CalendarRule::ClosedWeekday(Weekday::Monday),
            "cleaning day",
            None,
        )
        .await
        .unwrap();
    db.rules().replace_all(&hkpl_profile()).await.unwrap();
    let mut ids = Vec::new();
    for n in 1..=readers {
        let new = new_patron(card_of(n).as_str(), None);
        ids.push(
            db.patrons()
                .register_reader(&new, &profile(), None)
                .await
                .unwrap(),
        );
    }
    let title = db.catalogue().create_title("The Rust Book").await.unwrap();
    let mut items = Vec::new();
    for n in 1..=copies {
        items.push(
            db.catalogue()
                .create_item(
                    &NewItem {
                        barcode: barcode(&format!("B{n:04}")),
                        title,
                        item_type: ItemType::parse("adult_book").unwrap(),
                        home_library: code("HKCL"),
                        status: ItemStatus::Available,
                        replacement_cost: None,
                    },
                    None,
                )
                .await
                .unwrap(),
        );
    }
    Seeded {
        readers: ids,
        title,
        items,
    }
}

/// The same on the in-memory adapter.
pub fn seed_memory(store: &MemoryStore, readers: usize, copies: usize) -> Seeded {
    store.put_library(Library {
        code: code("HKCL"),
        kind: LibraryKind::Central,
        calendar: hkcl_calendar(),
    });
    store.put_library(Library {
        code: code("KLN"),
        kind: LibraryKind::Major,
        calendar: Calendar::always_open(UtcOffset::from_hms(8, 0, 0).unwrap()),
    });
    store.set_rules(hkpl_profile());
    let p = profile();
    let ids = (1..=readers)
        .map(|n| {
            store.add_patron(Patron {
                id: PatronId(0),
                card_number: card_of(n),
                category: p.category.clone(),
                home_library: p.home_library.clone(),
                card_expires_on: p.card_expires_on,
                suspended_until: None,
                blocked: false,
            })
        })
        .collect();
    let title = store.add_title("The Rust Book");
    let items = (1..=copies)
        .map(|n| {
            store.add_item(Item {
                id: ItemId(0),
                barcode: barcode(&format!("B{n:04}")),
                title,
                item_type: ItemType::parse("adult_book").unwrap(),
                home_library: code("HKCL"),
                status: ItemStatus::Available,
                current_library: code("HKCL"),
                transit_to: None,
            })
        })
        .collect();
    Seeded {
        readers: ids,
        title,
        items,
    }
}

pub fn db_service(db: &Database, clock: Arc<ManualClock>) -> DbService {
    Circulation::new(
        db.circulation(),
        db.rules(),
        db.libraries(),
        db.fine_suspensions(),
        clock,
    )
}

pub fn memory_service(store: &MemoryStore, clock: Arc<ManualClock>) -> MemService {
    Circulation::new(
        store.clone(),
        store.clone(),
        store.clone(),
        store.clone(),
        clock,
    )
}
