//! Readers, items and titles inside a circulation transaction.

use async_trait::async_trait;
use library_circulation::ports::{
    InfrastructureError, ItemRepository, PatronRepository, TitleRepository,
};
use library_circulation::{Item, ItemPlacement, ItemStatus, Patron, Title};
use library_core::{Barcode, CardNumber, ItemId, PatronId, TitleId};
use sea_orm::Value;
use time::Date;

use super::DbTransaction;
use super::rows::{self, ITEM_COLUMNS, PATRON_COLUMNS, item_status_str};
use crate::sql::{exec, get, infra, lock_clause, one};

impl DbTransaction {
    async fn patron_where(
        &mut self,
        condition: &str,
        value: Value,
        lock: bool,
        context: &'static str,
    ) -> Result<Option<Patron>, InfrastructureError> {
        let lock = if lock { lock_clause(self.backend) } else { "" };
        let sql = format!("SELECT {PATRON_COLUMNS} FROM patrons WHERE {condition}{lock}");
        one(&self.txn, &sql, vec![value])
            .await
            .map_err(infra(context))?
            .map(|row| rows::patron(&row))
            .transpose()
    }

    async fn item_where(
        &mut self,
        condition: &str,
        value: Value,
        lock: bool,
        context: &'static str,
    ) -> Result<Option<Item>, InfrastructureError> {
        let lock = if lock { lock_clause(self.backend) } else { "" };
        let sql = format!("SELECT {ITEM_COLUMNS} FROM items WHERE {condition}{lock}");
        one(&self.txn, &sql, vec![value])
            .await
            .map_err(infra(context))?
            .map(|row| rows::item(&row))
            .transpose()
    }
}

/// The assignments of an item's placement, for `UPDATE items SET {PLACE_ITEM} WHERE id = ?`
/// with [`placement_values`].
pub(super) const PLACE_ITEM: &str = "status = ?, current_library = ?, transit_to = ?";

/// The values of [`PLACE_ITEM`] and then the item's id.
pub(super) fn placement_values(item: ItemId, placement: &ItemPlacement) -> Vec<Value> {
    vec![
        item_status_str(placement.status).into(),
        placement.library.as_str().into(),
        Value::String(placement.transit_to.as_ref().map(|c| c.as_str().to_owned())),
        item.get().into(),
    ]
}

fn missing(what: &str, id: i64) -> InfrastructureError {
    InfrastructureError::new(format!("no such {what} {id}"))
}

#[async_trait]
impl PatronRepository for DbTransaction {
    async fn patron_by_card_for_update(
        &mut self,
        card: &CardNumber,
    ) -> Result<Option<Patron>, InfrastructureError> {
        self.patron_where(
            "card_number = ?",
            card.as_str().into(),
            true,
            "lock reader by card",
        )
        .await
    }

    async fn patron_for_update(
        &mut self,
        id: PatronId,
    ) -> Result<Option<Patron>, InfrastructureError> {
        self.patron_where("id = ?", id.get().into(), true, "lock reader")
            .await
    }

    async fn patron(&mut self, id: PatronId) -> Result<Option<Patron>, InfrastructureError> {
        self.patron_where("id = ?", id.get().into(), false, "read reader")
            .await
    }

    async fn set_suspended_until(
        &mut self,
        id: PatronId,
        until: Option<Date>,
    ) -> Result<(), InfrastructureError> {
        let n = exec(
            &self.txn,
            "UPDATE patrons SET suspended_until = ? WHERE id = ?",
            vec![Value::TimeDate(until), id.get().into()],
        )
        .await
        .map_err(infra("set reader suspension"))?;
        if n == 1 {
            Ok(())
        } else {
            Err(missing("reader", id.get()))
        }
    }
}

#[async_trait]
impl ItemRepository for DbTransaction {
    async fn item_by_barcode(
        &mut self,
        barcode: &Barcode,
    ) -> Result<Option<Item>, InfrastructureError> {
        self.item_where(
            "barcode = ?",
            barcode.as_str().into(),
            false,
            "read item by barcode",
        )
        .await
    }

    async fn item(&mut self, id: ItemId) -> Result<Option<Item>, InfrastructureError> {
        self.item_where("id = ?", id.get().into(), false, "read item")
            .await
    }

    async fn item_for_update(&mut self, id: ItemId) -> Result<Option<Item>, InfrastructureError> {
        self.item_where("id = ?", id.get().into(), true, "lock item")
            .await
    }

    async fn set_item_status(
        &mut self,
        id: ItemId,
        status: ItemStatus,
    ) -> Result<(), InfrastructureError> {
        let n = exec(
            &self.txn,
            "UPDATE items SET status = ? WHERE id = ?",
            vec![item_status_str(status).into(), id.get().into()],
        )
        .await
        .map_err(infra("set item status"))?;
        if n == 1 {
            Ok(())
        } else {
            Err(missing("item", id.get()))
        }
    }

    async fn place_item(
        &mut self,
        id: ItemId,
        placement: &ItemPlacement,
    ) -> Result<(), InfrastructureError> {
        let n = exec(
            &self.txn,
            &format!("UPDATE items SET {PLACE_ITEM} WHERE id = ?"),
            placement_values(id, placement),
        )
        .await
        .map_err(infra("place item"))?;
        if n == 1 {
            Ok(())
        } else {
            Err(missing("item", id.get()))
        }
    }
}

#[async_trait]
impl TitleRepository for DbTransaction {
    async fn title_for_update(
        &mut self,
        id: TitleId,
    ) -> Result<Option<Title>, InfrastructureError> {
        const C: &str = "lock title";
        let sql = format!(
            "SELECT id, name FROM titles WHERE id = ?{}",
            lock_clause(self.backend)
        );
        let Some(row) = one(&self.txn, &sql, vec![id.get().into()])
            .await
            .map_err(infra(C))?
        else {
            return Ok(None);
        };
        Ok(Some(Title {
            id,
            name: get(&row, "name").map_err(infra(C))?,
        }))
    }
}
