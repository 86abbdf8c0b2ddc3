//! A closure that moves deadlines, applied to the database (docs/circulation.md, "Closures
//! that move deadlines"): the candidates (open loans the library lent, holds waiting on its
//! shelf, with a deadline inside the closure) read once, the moves decided by
//! `library_circulation::closure_moves`, and, for a declaration, written in the same
//! transaction as the calendar entry, the readers' notices and the audit entry.
//!
//! Concurrency: on PostgreSQL the candidates are read with row locks (`FOR NO KEY UPDATE`
//! on the loans and holds, as the circulation store locks them), and each move is one
//! `UPDATE` that still requires the loan to be open with its old due date (the hold to be
//! waiting with its old pickup-by date). A checkin, renewal or collection that committed
//! first is seen after the lock wait and keeps its change; one that comes later waits for
//! the declaration and reads the moved date. On SQLite the transaction holds the
//! database's write lock from its start.

use std::collections::{BTreeMap, HashMap};

use library_circulation::closure_moves::{ClosureImpact, MoveTargets};
use library_circulation::ports::CalendarRepository;
use library_circulation::{Calendar, CalendarRule, Closure, DueDate};
use library_core::{HoldId, LibraryCode, LoanId, PatronId};
use sea_orm::{ConnectionTrait, QueryResult, Value};
use time::{Date, OffsetDateTime};

use crate::audit_store::{NewAuditEntry, insert_audit_entry};
use crate::error::StoreError;
use crate::instant;
use crate::library_store::{LibraryStore, insert_calendar_entry};
use crate::outbox_store::{NewNotification, insert_notification};
use crate::sql::{all, corrupt, exec, get, infra, lock_clause_of, store_err};

/// The outbox kind of the notice a reader is sent when deadlines moved.
const DEADLINES_MOVED: &str = library_app::kind::DEADLINES_MOVED;

/// Makes the audit entry of a declared closure from its entry's id and the moves made.
pub type ClosureAudit<'a> = dyn Fn(i64, &ClosureImpact) -> NewAuditEntry + Send + Sync + 'a;

/// A candidate with what its reader's notice names.
#[derive(Debug, Clone)]
struct Candidate {
    id: i64,
    patron: PatronId,
    deadline: Date,
    title: String,
    /// The copy lent (loans only).
    barcode: Option<String>,
}

fn candidate(row: &QueryResult, deadline: &str) -> Result<Candidate, StoreError> {
    const C: &str = "read closure candidates";
    Ok(Candidate {
        id: get(row, "id").map_err(infra(C))?,
        patron: PatronId(get(row, "patron_id").map_err(infra(C))?),
        deadline: get(row, deadline).map_err(infra(C))?,
        title: get(row, "title").map_err(infra(C))?,
        barcode: get(row, "barcode").map_err(infra(C))?,
    })
}

/// The loans and holds of library `code` whose deadline is inside `closure`, for the kinds
/// `targets` moves, by id; locked on PostgreSQL when `lock`.
async fn candidates(
    conn: &impl ConnectionTrait,
    code: &LibraryCode,
    closure: Closure,
    targets: MoveTargets,
    lock: bool,
) -> Result<(Vec<Candidate>, Vec<Candidate>), StoreError> {
    const C: &str = "read closure candidates";
    let b = conn.get_database_backend();
    let lock_of = |of: &str| {
        if lock {
            lock_clause_of(b, of)
        } else {
            String::new()
        }
    };
    let range = || -> Vec<Value> {
        vec![
            code.as_str().into(),
            Value::TimeDate(Some(closure.from())),
            Value::TimeDate(Some(closure.to())),
        ]
    };
    let mut loans = Vec::new();
    if targets.due_on.is_some() {
        let sql = format!(
            "SELECT l.id, l.patron_id, l.due_on, i.barcode, t.name AS title FROM loans l \
             JOIN items i ON i.id = l.item_id JOIN titles t ON t.id = i.title_id \
             WHERE l.library_code = ? AND l.returned_at IS NULL AND l.due_on >= ? \
             AND l.due_on <= ? ORDER BY l.id{}",
            lock_of("l")
        );
        for row in all(conn, &sql, range()).await.map_err(store_err(C))? {
            loans.push(candidate(&row, "due_on")?);
        }
    }
    let mut holds = Vec::new();
    if targets.pickup_by.is_some() {
        let sql = format!(
            "SELECT h.id, h.patron_id, h.pickup_by, NULL AS barcode, t.name AS title \
             FROM holds h JOIN titles t ON t.id = h.title_id \
             WHERE h.pickup_library = ? AND h.status = 'waiting' AND h.pickup_by >= ? \
             AND h.pickup_by <= ? ORDER BY h.id{}",
            lock_of("h")
        );
        for row in all(conn, &sql, range()).await.map_err(store_err(C))? {
            holds.push(candidate(&row, "pickup_by")?);
        }
    }
    Ok((loans, holds))
}

/// The moves of the candidates.
fn impact(
    closure: Closure,
    targets: MoveTargets,
    loans: &[Candidate],
    holds: &[Candidate],
) -> ClosureImpact {
    ClosureImpact::of(
        closure,
        targets,
        loans.iter().map(|c| (LoanId(c.id), c.patron, c.deadline)),
        holds.iter().map(|c| (HoldId(c.id), c.patron, c.deadline)),
    )
}

/// Library `code`'s calendar (cached), or [`StoreError::NotFound`].
async fn calendar(libraries: &LibraryStore, code: &LibraryCode) -> Result<Calendar, StoreError> {
    Ok(libraries
        .library_calendar(code)
        .await?
        .ok_or(StoreError::NotFound("library"))?
        .calendar)
}

/// A guarded move of a row locked since it was read must have written that one row.
fn moved_one(written: u64, what: &str) -> Result<(), StoreError> {
    if written == 1 {
        Ok(())
    } else {
        Err(corrupt("declare closure", format_args!("the locked {what} changed")).into())
    }
}

fn day(date: Date) -> String {
    date.to_string()
}

fn by_id(list: &[Candidate]) -> HashMap<i64, &Candidate> {
    list.iter().map(|c| (c.id, c)).collect()
}

/// One notice per reader: their moved loans and holds, as the template lists them.
fn notices(
    code: &LibraryCode,
    closure: Closure,
    impact: &ClosureImpact,
    loans: &[Candidate],
    holds: &[Candidate],
    at: OffsetDateTime,
) -> Vec<NewNotification> {
    type Lists = (Vec<serde_json::Value>, Vec<serde_json::Value>);
    let (loans, holds) = (by_id(loans), by_id(holds));
    let mut readers: BTreeMap<PatronId, Lists> = BTreeMap::new();
    for change in &impact.loans {
        if let Some(c) = loans.get(&change.id.get()) {
            readers
                .entry(change.patron)
                .or_default()
                .0
                .push(serde_json::json!({
                    "loan_id": c.id,
                    "item_barcode": c.barcode,
                    "title": c.title,
                    "due_on_before": day(change.from),
                    "due_on": day(change.to),
                }));
        }
    }
    for change in &impact.holds {
        if let Some(c) = holds.get(&change.id.get()) {
            readers
                .entry(change.patron)
                .or_default()
                .1
                .push(serde_json::json!({
                    "hold_id": c.id,
                    "title": c.title,
                    "pickup_by_before": day(change.from),
                    "pickup_by": day(change.to),
                }));
        }
    }
    readers
        .into_iter()
        .map(|(patron, (loans, holds))| NewNotification {
            kind: DEADLINES_MOVED.to_owned(),
            patron: Some(patron),
            payload: serde_json::json!({
                "library": code.as_str(),
                "closure_from": day(closure.from()),
                "closure_to": day(closure.to()),
                "loans": loans,
                "holds": holds,
            })
            .to_string(),
            created_at: at,
            expires_at: None,
        })
        .collect()
}

impl LibraryStore {
    /// What declaring `closure` at library `code` with deadlines moving to `targets` would
    /// move. Changes nothing. An unknown library is [`StoreError::NotFound`].
    pub async fn closure_impact(
        &self,
        code: &LibraryCode,
        closure: Closure,
        targets: MoveTargets,
    ) -> Result<ClosureImpact, StoreError> {
        calendar(self, code).await?;
        let (loans, holds) = candidates(&self.conn, code, closure, targets, false).await?;
        Ok(impact(closure, targets, &loans, &holds))
    }

    /// Declares `closure` at library `code` and moves the deadlines inside it to `targets`,
    /// in one transaction: the calendar entry, the moved due dates and pickup-by dates, one
    /// notice per reader (queued at `at`) and, when given, the audit entry `audit` makes of
    /// the entry's id and the moves. The entry's id and the moves made. An unknown library
    /// is [`StoreError::NotFound`].
    pub async fn declare_closure(
        &self,
        code: &LibraryCode,
        closure: Closure,
        description: &str,
        targets: MoveTargets,
        at: OffsetDateTime,
        audit: Option<&ClosureAudit<'_>>,
    ) -> Result<(i64, ClosureImpact), StoreError> {
        const C: &str = "declare closure";
        let calendar = calendar(self, code).await?;
        let txn = self.conn.begin_write().await.map_err(store_err(C))?;
        let b = txn.get_database_backend();
        let id = insert_calendar_entry(&txn, code, CalendarRule::Closure(closure), description)
            .await
            .map_err(store_err(C))?;
        let (loans, holds) = candidates(&txn, code, closure, targets, true).await?;
        let moved = impact(closure, targets, &loans, &holds);
        for change in &moved.loans {
            let due = DueDate::on(change.to, &calendar);
            let n = exec(
                &txn,
                "UPDATE loans SET due_on = ?, due_at = ? WHERE id = ? AND returned_at IS NULL \
                 AND due_on = ?",
                vec![
                    Value::TimeDate(Some(due.on)),
                    instant::value(b, due.at),
                    change.id.get().into(),
                    Value::TimeDate(Some(change.from)),
                ],
            )
            .await
            .map_err(store_err(C))?;
            moved_one(n, "loan")?;
        }
        for change in &moved.holds {
            let n = exec(
                &txn,
                "UPDATE holds SET pickup_by = ? WHERE id = ? AND status = 'waiting' \
                 AND pickup_by = ?",
                vec![
                    Value::TimeDate(Some(change.to)),
                    change.id.get().into(),
                    Value::TimeDate(Some(change.from)),
                ],
            )
            .await
            .map_err(store_err(C))?;
            moved_one(n, "hold")?;
        }
        for notice in notices(code, closure, &moved, &loans, &holds, at) {
            insert_notification(&txn, &notice)
                .await
                .map_err(store_err(C))?;
        }
        if let Some(entry) = audit {
            insert_audit_entry(&txn, &entry(id, &moved))
                .await
                .map_err(store_err(C))?;
        }
        self.cache.commit_change(txn).await.map_err(store_err(C))?;
        Ok((id, moved))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use library_circulation::closure_moves::DeadlineChange;
    use time::macros::{date, datetime};

    #[test]
    fn each_reader_gets_one_notice_listing_their_moves() {
        let code = LibraryCode::parse("CHPL").unwrap();
        let closure = Closure::new(date!(2021 - 01 - 01), date!(2021 - 02 - 18)).unwrap();
        let c = |id: i64, patron: i64, barcode: Option<&str>| Candidate {
            id,
            patron: PatronId(patron),
            deadline: date!(2021 - 02 - 01),
            title: format!("Title {id}"),
            barcode: barcode.map(str::to_owned),
        };
        let loans = [
            c(1, 7, Some("30001")),
            c(2, 8, Some("30002")),
            c(3, 7, Some("30003")),
        ];
        let holds = [c(4, 8, None)];
        let targets = MoveTargets {
            due_on: Some(date!(2021 - 02 - 19)),
            pickup_by: Some(date!(2021 - 02 - 20)),
        };
        let moved = impact(closure, targets, &loans, &holds);
        assert_eq!(
            moved.holds,
            vec![DeadlineChange {
                id: HoldId(4),
                patron: PatronId(8),
                from: date!(2021 - 02 - 01),
                to: date!(2021 - 02 - 20),
            }]
        );
        let at = datetime!(2021-01-05 10:00 UTC);
        let out = notices(&code, closure, &moved, &loans, &holds, at);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].patron, Some(PatronId(7)));
        let first: serde_json::Value = serde_json::from_str(&out[0].payload).unwrap();
        assert_eq!(first["loans"].as_array().unwrap().len(), 2);
        assert_eq!(first["loans"][1]["item_barcode"], "30003");
        assert_eq!(first["loans"][1]["due_on"], "2021-02-19");
        assert_eq!(first["holds"].as_array().unwrap().len(), 0);
        let second: serde_json::Value = serde_json::from_str(&out[1].payload).unwrap();
        assert_eq!(second["holds"][0]["pickup_by"], "2021-02-20");
        assert_eq!(second["holds"][0]["pickup_by_before"], "2021-02-01");
        assert_eq!(second["closure_to"], "2021-02-18");
        assert!(
            out.iter()
                .all(|n| n.kind == DEADLINES_MOVED && n.created_at == at)
        );
    }
}
