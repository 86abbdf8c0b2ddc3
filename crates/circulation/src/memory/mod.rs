//! An in-memory adapter implementing every circulation port: for tests (here and in other
//! crates, with the `memory` feature) and demos.
//!
//! Transactions are **optimistic**: [`CirculationStore::begin`] takes a snapshot of the
//! whole state, the transaction works on its copy, and commit writes it back only if
//! nothing else committed since the snapshot; otherwise commit fails with an
//! [`InfrastructureError`] ("write conflict"), as PostgreSQL's serializable isolation would.
//! So two concurrent checkouts of one item never both succeed, and the adapter never blocks
//! (it cannot deadlock an async runtime). Row locks are no-ops.

mod transaction;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use library_core::{Barcode, HoldId, ItemId, LibraryCode, LoanId, PatronId, TitleId};
use library_fines::{FineSuspensionPeriod, PatronLedger};

use crate::hold_queue::Hold;
use crate::model::{Item, Library, Loan, Patron, Title};
use crate::ports::{
    CalendarRepository, CirculationNotice, CirculationRecord, CirculationStatistic,
    CirculationStore, CirculationTransaction, FineSuspensionRepository, InfrastructureError,
    RuleRepository,
};
use crate::rules::ScopedRules;

pub use transaction::MemoryTransaction;

/// Everything the adapter stores.
#[derive(Debug, Clone, Default)]
struct State {
    version: u64,
    next_id: i64,
    libraries: BTreeMap<LibraryCode, Library>,
    rules: Vec<ScopedRules>,
    periods: Vec<FineSuspensionPeriod>,
    patrons: BTreeMap<PatronId, Patron>,
    titles: BTreeMap<TitleId, Title>,
    items: BTreeMap<ItemId, Item>,
    loans: BTreeMap<LoanId, Loan>,
    holds: BTreeMap<HoldId, Hold>,
    ledgers: BTreeMap<PatronId, PatronLedger>,
    notices: Vec<CirculationNotice>,
    records: Vec<CirculationRecord>,
    statistics: Vec<CirculationStatistic>,
}

impl State {
    fn next_id(&mut self) -> i64 {
        self.next_id += 1;
        self.next_id
    }
}

/// The in-memory store. Cheap to clone; clones share the data.
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    state: Arc<Mutex<State>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A poisoned lock only means a test thread panicked; the data is still whole.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Applies `f` to the state as one committed change (seeding and test setup).
    fn write<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        let mut state = self.lock();
        let out = f(&mut state);
        state.version += 1;
        out
    }

    /// Adds or replaces a library with its calendar.
    pub fn put_library(&self, library: Library) {
        self.write(|s| s.libraries.insert(library.code.clone(), library));
    }

    /// Replaces the stored rules.
    pub fn set_rules(&self, rules: Vec<ScopedRules>) {
        self.write(|s| s.rules = rules);
    }

    /// Adds a fine-suspension period.
    pub fn add_fine_suspension_period(&self, period: FineSuspensionPeriod) {
        self.write(|s| s.periods.push(period));
    }

    /// Adds a reader; `patron.id` is replaced by a fresh id, which is returned.
    pub fn add_patron(&self, mut patron: Patron) -> PatronId {
        self.write(|s| {
            patron.id = PatronId(s.next_id());
            s.ledgers.insert(patron.id, PatronLedger::new(patron.id));
            s.patrons.insert(patron.id, patron.clone());
            patron.id
        })
    }

    /// Adds a title with a fresh id.
    pub fn add_title(&self, name: &str) -> TitleId {
        self.write(|s| {
            let id = TitleId(s.next_id());
            s.titles.insert(
                id,
                Title {
                    id,
                    name: name.to_owned(),
                },
            );
            id
        })
    }

    /// Adds an item; `item.id` is replaced by a fresh id, which is returned.
    pub fn add_item(&self, mut item: Item) -> ItemId {
        self.write(|s| {
            item.id = ItemId(s.next_id());
            s.items.insert(item.id, item.clone());
            item.id
        })
    }

    /// Overwrites a reader (test setup, e.g. an expired card).
    pub fn put_patron(&self, patron: Patron) {
        self.write(|s| s.patrons.insert(patron.id, patron));
    }

    /// Overwrites an item (test setup, e.g. a lost item).
    pub fn put_item(&self, item: Item) {
        self.write(|s| s.items.insert(item.id, item));
    }

    /// A reader.
    pub fn patron(&self, id: PatronId) -> Option<Patron> {
        self.lock().patrons.get(&id).cloned()
    }

    /// An item.
    pub fn item(&self, id: ItemId) -> Option<Item> {
        self.lock().items.get(&id).cloned()
    }

    /// The item with `barcode`.
    pub fn item_by_barcode(&self, barcode: &Barcode) -> Option<Item> {
        self.lock()
            .items
            .values()
            .find(|i| &i.barcode == barcode)
            .cloned()
    }

    /// Every loan, open or returned, by id.
    pub fn loans(&self) -> Vec<Loan> {
        self.lock().loans.values().cloned().collect()
    }

    /// Every hold, by id.
    pub fn holds(&self) -> Vec<Hold> {
        self.lock().holds.values().cloned().collect()
    }

    /// A hold.
    pub fn hold(&self, id: HoldId) -> Option<Hold> {
        self.lock().holds.get(&id).cloned()
    }

    /// The audit entries of committed transactions, oldest first.
    pub fn records(&self) -> Vec<CirculationRecord> {
        self.lock().records.clone()
    }

    /// The statistics counted by committed transactions, oldest first.
    pub fn statistics(&self) -> Vec<CirculationStatistic> {
        self.lock().statistics.clone()
    }

    /// The notices queued by committed transactions, oldest first.
    pub fn notices(&self) -> Vec<CirculationNotice> {
        self.lock().notices.clone()
    }

    /// A reader's ledger (empty if the reader is unknown).
    pub fn ledger(&self, patron: PatronId) -> PatronLedger {
        self.lock()
            .ledgers
            .get(&patron)
            .cloned()
            .unwrap_or_else(|| PatronLedger::new(patron))
    }

    /// Changes a reader's ledger (payments, waivers in tests).
    pub fn with_ledger<T>(&self, patron: PatronId, f: impl FnOnce(&mut PatronLedger) -> T) -> T {
        self.write(|s| {
            f(s.ledgers
                .entry(patron)
                .or_insert_with(|| PatronLedger::new(patron)))
        })
    }
}

#[async_trait]
impl CirculationStore for MemoryStore {
    async fn begin(&self) -> Result<Box<dyn CirculationTransaction>, InfrastructureError> {
        let snapshot = self.lock().clone();
        Ok(Box::new(MemoryTransaction::new(self.clone(), snapshot)))
    }
}

#[async_trait]
impl RuleRepository for MemoryStore {
    async fn scoped_rules(&self) -> Result<Vec<ScopedRules>, InfrastructureError> {
        Ok(self.lock().rules.clone())
    }
}

#[async_trait]
impl CalendarRepository for MemoryStore {
    async fn library_calendar(
        &self,
        code: &LibraryCode,
    ) -> Result<Option<Library>, InfrastructureError> {
        Ok(self.lock().libraries.get(code).cloned())
    }
}

#[async_trait]
impl FineSuspensionRepository for MemoryStore {
    async fn fine_suspension_periods(
        &self,
    ) -> Result<Vec<FineSuspensionPeriod>, InfrastructureError> {
        Ok(self.lock().periods.clone())
    }
}
