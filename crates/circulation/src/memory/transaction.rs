//! The in-memory unit of work: a snapshot written back on commit if nothing else committed
//! meanwhile (optimistic concurrency; see the module above).

use async_trait::async_trait;
use library_core::{Barcode, CardNumber, HoldId, ItemId, LoanId, Money, PatronId, TitleId};
use library_fines::{ChargeId, NewCharge, PatronLedger};
use time::Date;

use super::{MemoryStore, State};
use crate::hold_queue::{Hold, NewHold};
use crate::model::{Item, ItemPlacement, ItemStatus, Loan, NewLoan, Patron, Title};
use crate::ports::{
    AuditJournal, CirculationNotice, CirculationRecord, CirculationStatistic,
    CirculationTransaction, FineLedger, HoldRepository, InfrastructureError, ItemRepository,
    LoanRepository, NoticeQueue, PatronRepository, StatisticsJournal, TitleRepository,
};

/// A transaction on a [`MemoryStore`].
#[derive(Debug)]
pub struct MemoryTransaction {
    store: MemoryStore,
    state: State,
}

impl MemoryTransaction {
    pub(super) fn new(store: MemoryStore, state: State) -> Self {
        Self { store, state }
    }
}

fn missing(what: &str) -> InfrastructureError {
    InfrastructureError::new(format!("no such {what}"))
}

#[async_trait]
impl PatronRepository for MemoryTransaction {
    async fn patron_by_card_for_update(
        &mut self,
        card: &CardNumber,
    ) -> Result<Option<Patron>, InfrastructureError> {
        Ok(self
            .state
            .patrons
            .values()
            .find(|p| &p.card_number == card)
            .cloned())
    }

    async fn patron_for_update(
        &mut self,
        id: PatronId,
    ) -> Result<Option<Patron>, InfrastructureError> {
        self.patron(id).await
    }

    async fn patron(&mut self, id: PatronId) -> Result<Option<Patron>, InfrastructureError> {
        Ok(self.state.patrons.get(&id).cloned())
    }

    async fn set_suspended_until(
        &mut self,
        id: PatronId,
        until: Option<Date>,
    ) -> Result<(), InfrastructureError> {
        let patron = self
            .state
            .patrons
            .get_mut(&id)
            .ok_or_else(|| missing("reader"))?;
        patron.suspended_until = until;
        Ok(())
    }
}

#[async_trait]
impl ItemRepository for MemoryTransaction {
    async fn item_by_barcode(
        &mut self,
        barcode: &Barcode,
    ) -> Result<Option<Item>, InfrastructureError> {
        Ok(self
            .state
            .items
            .values()
            .find(|i| &i.barcode == barcode)
            .cloned())
    }

    async fn item(&mut self, id: ItemId) -> Result<Option<Item>, InfrastructureError> {
        Ok(self.state.items.get(&id).cloned())
    }

    async fn item_for_update(&mut self, id: ItemId) -> Result<Option<Item>, InfrastructureError> {
        self.item(id).await
    }

    async fn set_item_status(
        &mut self,
        id: ItemId,
        status: ItemStatus,
    ) -> Result<(), InfrastructureError> {
        let item = self
            .state
            .items
            .get_mut(&id)
            .ok_or_else(|| missing("item"))?;
        item.status = status;
        Ok(())
    }

    async fn place_item(
        &mut self,
        id: ItemId,
        placement: &ItemPlacement,
    ) -> Result<(), InfrastructureError> {
        let item = self
            .state
            .items
            .get_mut(&id)
            .ok_or_else(|| missing("item"))?;
        item.status = placement.status;
        item.current_library = placement.library.clone();
        item.transit_to = placement.transit_to.clone();
        Ok(())
    }
}

#[async_trait]
impl TitleRepository for MemoryTransaction {
    async fn title_for_update(
        &mut self,
        id: TitleId,
    ) -> Result<Option<Title>, InfrastructureError> {
        Ok(self.state.titles.get(&id).cloned())
    }
}

#[async_trait]
impl LoanRepository for MemoryTransaction {
    async fn loan(&mut self, id: LoanId) -> Result<Option<Loan>, InfrastructureError> {
        Ok(self.state.loans.get(&id).cloned())
    }

    async fn open_loan_of_item(
        &mut self,
        item: ItemId,
    ) -> Result<Option<Loan>, InfrastructureError> {
        Ok(self
            .state
            .loans
            .values()
            .find(|l| l.item == item && l.is_open())
            .cloned())
    }

    async fn open_loans_of_patron(
        &mut self,
        patron: PatronId,
    ) -> Result<Vec<Loan>, InfrastructureError> {
        Ok(self
            .state
            .loans
            .values()
            .filter(|l| l.patron == patron && l.is_open())
            .cloned()
            .collect())
    }

    async fn insert_loan(&mut self, loan: NewLoan) -> Result<Loan, InfrastructureError> {
        if self.open_loan_of_item(loan.item).await?.is_some() {
            // The unique index on open loans per item.
            return Err(InfrastructureError::new("item already has an open loan"));
        }
        let loan = loan.with_id(LoanId(self.state.next_id()));
        self.state.loans.insert(loan.id, loan.clone());
        Ok(loan)
    }

    async fn update_loan(&mut self, loan: &Loan) -> Result<(), InfrastructureError> {
        let stored = self
            .state
            .loans
            .get_mut(&loan.id)
            .ok_or_else(|| missing("loan"))?;
        *stored = loan.clone();
        Ok(())
    }
}

#[async_trait]
impl HoldRepository for MemoryTransaction {
    async fn hold(&mut self, id: HoldId) -> Result<Option<Hold>, InfrastructureError> {
        Ok(self.state.holds.get(&id).cloned())
    }

    async fn active_holds_of_title(
        &mut self,
        title: TitleId,
    ) -> Result<Vec<Hold>, InfrastructureError> {
        Ok(self
            .state
            .holds
            .values()
            .filter(|h| h.title == title && h.is_active())
            .cloned()
            .collect())
    }

    async fn active_holds_of_patron(
        &mut self,
        patron: PatronId,
    ) -> Result<Vec<Hold>, InfrastructureError> {
        Ok(self
            .state
            .holds
            .values()
            .filter(|h| h.patron == patron && h.is_active())
            .cloned()
            .collect())
    }

    async fn waiting_hold_for_item(
        &mut self,
        item: ItemId,
    ) -> Result<Option<Hold>, InfrastructureError> {
        Ok(self
            .state
            .holds
            .values()
            .find(|h| h.waiting_item() == Some(item))
            .cloned())
    }

    async fn waiting_holds(&mut self) -> Result<Vec<Hold>, InfrastructureError> {
        Ok(self
            .state
            .holds
            .values()
            .filter(|h| h.pickup_by().is_some())
            .cloned()
            .collect())
    }

    async fn queued_holds_not_needed_before(
        &mut self,
        before: time::Date,
    ) -> Result<Vec<Hold>, InfrastructureError> {
        Ok(self
            .state
            .holds
            .values()
            .filter(|h| h.position().is_some() && h.not_needed_after.is_some_and(|d| d < before))
            .cloned()
            .collect())
    }

    async fn insert_hold(&mut self, hold: NewHold) -> Result<Hold, InfrastructureError> {
        let taken = self
            .state
            .holds
            .values()
            .any(|h| h.title == hold.title && h.position() == Some(hold.position));
        if taken {
            // The unique index on (title, position) of queued holds.
            return Err(InfrastructureError::new("queue position already taken"));
        }
        let hold = hold.with_id(HoldId(self.state.next_id()));
        self.state.holds.insert(hold.id, hold.clone());
        Ok(hold)
    }

    async fn update_hold(&mut self, hold: &Hold) -> Result<(), InfrastructureError> {
        let stored = self
            .state
            .holds
            .get_mut(&hold.id)
            .ok_or_else(|| missing("hold"))?;
        *stored = hold.clone();
        Ok(())
    }
}

#[async_trait]
impl FineLedger for MemoryTransaction {
    async fn outstanding_charges(
        &mut self,
        patron: PatronId,
    ) -> Result<Money, InfrastructureError> {
        Ok(self
            .state
            .ledgers
            .get(&patron)
            .map_or(Money::ZERO, PatronLedger::outstanding))
    }

    async fn add_charge(
        &mut self,
        patron: PatronId,
        charge: NewCharge,
    ) -> Result<ChargeId, InfrastructureError> {
        let id = ChargeId(self.state.next_id());
        self.state
            .ledgers
            .entry(patron)
            .or_insert_with(|| PatronLedger::new(patron))
            .add_charge(id, charge)
            .map_err(|e| InfrastructureError::with_source("charge refused by the ledger", e))?;
        Ok(id)
    }
}

#[async_trait]
impl NoticeQueue for MemoryTransaction {
    async fn queue_notice(
        &mut self,
        notice: CirculationNotice,
        _at: time::OffsetDateTime,
    ) -> Result<(), InfrastructureError> {
        self.state.notices.push(notice);
        Ok(())
    }
}

#[async_trait]
impl AuditJournal for MemoryTransaction {
    async fn record(&mut self, record: CirculationRecord) -> Result<(), InfrastructureError> {
        self.state.records.push(record);
        Ok(())
    }
}

#[async_trait]
impl StatisticsJournal for MemoryTransaction {
    async fn count(&mut self, statistic: CirculationStatistic) -> Result<(), InfrastructureError> {
        self.state.statistics.push(statistic);
        Ok(())
    }
}

#[async_trait]
impl CirculationTransaction for MemoryTransaction {
    async fn commit(self: Box<Self>) -> Result<(), InfrastructureError> {
        let MemoryTransaction { store, state } = *self;
        let mut shared = store.lock();
        if shared.version != state.version {
            return Err(InfrastructureError::new(
                "write conflict: another transaction committed first; retry",
            ));
        }
        *shared = state;
        shared.version += 1;
        Ok(())
    }
}
