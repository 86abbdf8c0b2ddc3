//! Holds inside a circulation transaction (queue changes need the title's lock).
//!
//! A queued hold's position is not stored: `holds.queue_seq` (unique per title, assigned at
//! insertion as one more than the title's highest) orders the queue, and the position is
//! the hold's rank among the title's queued holds. The domain's renumbering therefore
//! writes only status changes, and no two queued holds of a title can share a position.

use async_trait::async_trait;
use library_circulation::ports::{HoldRepository, InfrastructureError};
use library_circulation::{Hold, HoldState, NewHold};
use library_core::{HoldId, ItemId, PatronId, TitleId};
use sea_orm::Value;
use time::{Date, OffsetDateTime};

use super::DbTransaction;
use super::rows::{self, HOLD_SELECT};
use crate::instant;
use crate::sql::{all, exec, infra, insert_returning_id, one};

/// The active holds of one title, in queue order, with `extra` columns first; `title` is
/// the SQL giving the title's id (a `?`, or a subquery).
pub(super) fn active_holds_of_title_sql(extra: &str, title: &str) -> String {
    let select = HOLD_SELECT.replacen("SELECT ", &format!("SELECT {extra}"), 1);
    format!(
        "{select} WHERE h.title_id = {title} AND h.status IN ('queued', 'waiting') \
         ORDER BY h.queue_seq, h.id"
    )
}

impl DbTransaction {
    async fn holds_where(
        &mut self,
        condition: &str,
        values: Vec<Value>,
        context: &'static str,
    ) -> Result<Vec<Hold>, InfrastructureError> {
        let sql = format!("{HOLD_SELECT} WHERE {condition} ORDER BY h.queue_seq, h.id");
        all(&self.txn, &sql, values)
            .await
            .map_err(infra(context))?
            .iter()
            .map(rows::hold)
            .collect()
    }
}

#[async_trait]
impl HoldRepository for DbTransaction {
    async fn hold(&mut self, id: HoldId) -> Result<Option<Hold>, InfrastructureError> {
        let sql = format!("{HOLD_SELECT} WHERE h.id = ?");
        one(&self.txn, &sql, vec![id.get().into()])
            .await
            .map_err(infra("read hold"))?
            .map(|row| rows::hold(&row))
            .transpose()
    }

    async fn active_holds_of_title(
        &mut self,
        title: TitleId,
    ) -> Result<Vec<Hold>, InfrastructureError> {
        all(
            &self.txn,
            &active_holds_of_title_sql("", "?"),
            vec![title.get().into()],
        )
        .await
        .map_err(infra("read active holds of title"))?
        .iter()
        .map(rows::hold)
        .collect()
    }

    async fn active_holds_of_patron(
        &mut self,
        patron: PatronId,
    ) -> Result<Vec<Hold>, InfrastructureError> {
        self.holds_where(
            "h.patron_id = ? AND h.status IN ('queued', 'waiting')",
            vec![patron.get().into()],
            "read active holds of reader",
        )
        .await
    }

    async fn waiting_hold_for_item(
        &mut self,
        item: ItemId,
    ) -> Result<Option<Hold>, InfrastructureError> {
        Ok(self
            .holds_where(
                "h.item_id = ? AND h.status = 'waiting'",
                vec![item.get().into()],
                "read waiting hold of item",
            )
            .await?
            .into_iter()
            .next())
    }

    async fn waiting_holds(&mut self) -> Result<Vec<Hold>, InfrastructureError> {
        self.holds_where("h.status = 'waiting'", vec![], "read waiting holds")
            .await
    }

    async fn queued_holds_not_needed_before(
        &mut self,
        before: Date,
    ) -> Result<Vec<Hold>, InfrastructureError> {
        self.holds_where(
            "h.status = 'queued' AND h.not_needed_after IS NOT NULL AND h.not_needed_after < ?",
            vec![Value::TimeDate(Some(before))],
            "read holds no longer needed",
        )
        .await
    }

    async fn insert_hold(&mut self, hold: NewHold) -> Result<Hold, InfrastructureError> {
        // The next sequence of the title. Under the title's lock no one else inserts; without
        // it, two inserts would compute the same sequence and the unique index refuses one.
        let id = insert_returning_id(
            &self.txn,
            "INSERT INTO holds (patron_id, title_id, pickup_library, placed_at, queue_seq, status, \
             not_needed_after) VALUES (?, ?, ?, ?, \
             (SELECT COALESCE(MAX(queue_seq), 0) + 1 FROM holds WHERE title_id = ?), 'queued', ?) \
             RETURNING id",
            vec![
                hold.patron.get().into(),
                hold.title.get().into(),
                hold.pickup_library.as_str().into(),
                instant::value(self.backend, hold.placed_at),
                hold.title.get().into(),
                Value::TimeDate(hold.not_needed_after),
            ],
        )
        .await
        .map_err(infra("insert hold"))?;
        let stored = self
            .hold(HoldId(id))
            .await?
            .ok_or_else(|| InfrastructureError::new("inserted hold vanished"))?;
        if stored.position() != Some(hold.position) {
            // The caller computed the position from a queue it did not lock.
            return Err(InfrastructureError::new(format!(
                "queue position {} already taken (the hold would be at {:?})",
                hold.position,
                stored.position()
            )));
        }
        Ok(stored)
    }

    async fn update_hold(&mut self, hold: &Hold) -> Result<(), InfrastructureError> {
        let b = self.backend;
        let none_date = || Value::TimeDate(None);
        let ended = |at: OffsetDateTime| instant::value(b, at);
        // (status, item, trapped_on, pickup_by, ended_at); a queued hold keeps its sequence.
        let (status, item, trapped_on, pickup_by, ended_at) = match &hold.state {
            // The copy in transit for it, if one was sent.
            HoldState::Queued { in_transit, .. } => (
                "queued",
                Value::BigInt(in_transit.map(|i| i.get())),
                none_date(),
                none_date(),
                instant::optional(b, None),
            ),
            HoldState::Waiting {
                item,
                trapped_on,
                pickup_by,
            } => (
                "waiting",
                item.get().into(),
                Value::TimeDate(Some(*trapped_on)),
                Value::TimeDate(Some(*pickup_by)),
                instant::optional(b, None),
            ),
            HoldState::Collected { at } => (
                "collected",
                Value::BigInt(None),
                none_date(),
                none_date(),
                ended(*at),
            ),
            HoldState::Expired { at } => (
                "expired",
                Value::BigInt(None),
                none_date(),
                none_date(),
                ended(*at),
            ),
            HoldState::Cancelled { at, .. } => (
                "cancelled",
                Value::BigInt(None),
                none_date(),
                none_date(),
                ended(*at),
            ),
        };
        let (cancelled_by, cancel_reason) = match hold.cancellation() {
            Some((by, reason)) => (
                Value::from(by.as_str()),
                Value::from(reason.map(|r| r.as_str().to_owned())),
            ),
            None => (Value::from(None::<String>), Value::from(None::<String>)),
        };
        // An ended hold keeps the copy it had, if any, for the record.
        let item_sql = if matches!(
            hold.state,
            HoldState::Waiting { .. } | HoldState::Queued { .. }
        ) {
            "item_id = ?"
        } else {
            "item_id = COALESCE(?, item_id)"
        };
        let sql = format!(
            "UPDATE holds SET pickup_library = ?, status = ?, {item_sql}, trapped_on = \
             COALESCE(?, trapped_on), pickup_by = COALESCE(?, pickup_by), ended_at = ?, \
             suspended_until = ?, not_needed_after = ?, cancelled_by = ?, cancel_reason = ? \
             WHERE id = ?"
        );
        let n = exec(
            &self.txn,
            &sql,
            vec![
                hold.pickup_library.as_str().into(),
                status.into(),
                item,
                trapped_on,
                pickup_by,
                ended_at,
                Value::TimeDate(hold.suspended_until),
                Value::TimeDate(hold.not_needed_after),
                cancelled_by,
                cancel_reason,
                hold.id.get().into(),
            ],
        )
        .await
        .map_err(infra("update hold"))?;
        if n == 1 {
            Ok(())
        } else {
            Err(InfrastructureError::new(format!(
                "no such hold {}",
                hold.id
            )))
        }
    }
}
