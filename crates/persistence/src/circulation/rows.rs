//! Rows ↔ circulation records: the SELECT lists and the conversions, shared by the unit of
//! work and the admin stores.

use std::sync::LazyLock;

use library_circulation::ports::InfrastructureError;
use library_circulation::{
    CancelReason, CancelledBy, DueDate, Hold, HoldState, Item, ItemStatus, ItemType, Loan, Patron,
    ReaderCategory,
};
use library_core::{Barcode, CardNumber, HoldId, ItemId, LibraryCode, LoanId, PatronId, TitleId};
use sea_orm::{DbErr, QueryResult};
use time::{Date, OffsetDateTime};

use crate::sql::{corrupt, get, to_u32};

pub(crate) const PATRON_COLUMNS: &str = "id, card_number, category, home_library, \
     card_expires_on, suspended_until, \
     CASE WHEN blocked_at IS NULL AND deactivated_at IS NULL THEN 0 ELSE 1 END AS blocked";

/// An item's columns; where it is reads as its home library until it is returned elsewhere
/// (see the migration `m20261209_000017_in_transit`).
pub(crate) const ITEM_COLUMNS: &str = "id, barcode, title_id, item_type, home_library, status, \
     COALESCE(current_library, home_library) AS current_library, transit_to";

pub(crate) const LOAN_COLUMNS: &str = "id, patron_id, item_id, library_code, borrowed_at, due_on, \
     due_at, renewals, returned_at, returned_to";

/// Holds with their queue position: the rank among the title's queued holds by
/// `queue_seq` (see the migration), so positions are 1..n by construction.
pub(crate) const HOLD_SELECT: &str = "SELECT h.id, h.patron_id, h.title_id, h.pickup_library, \
     h.placed_at, h.status, h.item_id, h.trapped_on, h.pickup_by, h.ended_at, \
     h.suspended_until, h.not_needed_after, h.cancelled_by, h.cancel_reason, \
     (SELECT COUNT(*) FROM holds q WHERE q.title_id = h.title_id AND q.status = 'queued' \
      AND q.queue_seq <= h.queue_seq) AS position FROM holds h";

fn db(context: &'static str) -> impl Fn(DbErr) -> InfrastructureError {
    move |e| InfrastructureError::with_source(format!("{context}: cannot read row"), e)
}

pub(crate) fn item_status_str(status: ItemStatus) -> &'static str {
    match status {
        ItemStatus::Available => "available",
        ItemStatus::OnLoan => "on_loan",
        ItemStatus::OnHoldShelf => "on_hold_shelf",
        ItemStatus::InTransit => "in_transit",
        ItemStatus::Lost => "lost",
        ItemStatus::NotForLoan => "not_for_loan",
    }
}

fn item_status(context: &str, s: &str) -> Result<ItemStatus, InfrastructureError> {
    Ok(match s {
        "available" => ItemStatus::Available,
        "on_loan" => ItemStatus::OnLoan,
        "on_hold_shelf" => ItemStatus::OnHoldShelf,
        "in_transit" => ItemStatus::InTransit,
        "lost" => ItemStatus::Lost,
        "not_for_loan" => ItemStatus::NotForLoan,
        other => return Err(corrupt(context, format_args!("item status {other:?}"))),
    })
}

pub(crate) fn code(context: &str, s: &str) -> Result<LibraryCode, InfrastructureError> {
    LibraryCode::parse(s).map_err(|e| corrupt(context, format_args!("library code: {e}")))
}

/// A reader as circulation sees them. A reader registered without a circulation profile
/// (category, home library, card expiry) cannot borrow: that is a data error, reported.
pub(crate) fn patron(row: &QueryResult) -> Result<Patron, InfrastructureError> {
    patron_prefixed(row, "")
}

/// [`PATRON_COLUMNS`] of patrons `p`, each named with `reader_` before its name, for rows
/// that join the reader to other records (read with [`patron_prefixed`]).
pub(crate) static READER_COLUMNS: LazyLock<String> = LazyLock::new(|| {
    PATRON_COLUMNS
        .split(", ")
        .map(|column| match column.rsplit_once(" AS ") {
            Some((expression, name)) => format!("{expression} AS reader_{name}"),
            None => format!("p.{column} AS reader_{column}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
});

/// [`patron`] from columns named with `prefix` before [`PATRON_COLUMNS`]' names (sea-orm's
/// `try_get` puts the prefix before the name).
pub(crate) fn patron_prefixed(
    row: &QueryResult,
    prefix: &str,
) -> Result<Patron, InfrastructureError> {
    const C: &str = "read reader";
    let id: i64 = row.try_get(prefix, "id").map_err(db(C))?;
    let card: String = row.try_get(prefix, "card_number").map_err(db(C))?;
    let category: Option<String> = row.try_get(prefix, "category").map_err(db(C))?;
    let home: Option<String> = row.try_get(prefix, "home_library").map_err(db(C))?;
    let expires: Option<Date> = row.try_get(prefix, "card_expires_on").map_err(db(C))?;
    let (Some(category), Some(home), Some(expires)) = (category, home, expires) else {
        return Err(InfrastructureError::new(format!(
            "reader {id} has no circulation profile (category, home library, card expiry)"
        )));
    };
    Ok(Patron {
        id: PatronId(id),
        card_number: CardNumber::parse(&card).map_err(|e| corrupt(C, e))?,
        category: ReaderCategory::parse(&category).map_err(|e| corrupt(C, e))?,
        home_library: code(C, &home)?,
        card_expires_on: expires,
        suspended_until: row.try_get(prefix, "suspended_until").map_err(db(C))?,
        blocked: row.try_get::<i32>(prefix, "blocked").map_err(db(C))? != 0,
    })
}

pub(crate) fn item(row: &QueryResult) -> Result<Item, InfrastructureError> {
    item_with_id(row, "id")
}

/// An item whose id is in column `id_column` (`item_id` when read joined to its loan).
pub(crate) fn item_with_id(
    row: &QueryResult,
    id_column: &str,
) -> Result<Item, InfrastructureError> {
    const C: &str = "read item";
    let barcode: String = get(row, "barcode").map_err(db(C))?;
    let item_type: String = get(row, "item_type").map_err(db(C))?;
    let home: String = get(row, "home_library").map_err(db(C))?;
    let status: String = get(row, "status").map_err(db(C))?;
    let status = item_status(C, &status)?;
    let current: String = get(row, "current_library").map_err(db(C))?;
    let transit_to: Option<String> = get(row, "transit_to").map_err(db(C))?;
    Ok(Item {
        id: ItemId(get(row, id_column).map_err(db(C))?),
        barcode: Barcode::parse(&barcode).map_err(|e| corrupt(C, e))?,
        title: TitleId(get(row, "title_id").map_err(db(C))?),
        item_type: ItemType::parse(&item_type).map_err(|e| corrupt(C, e))?,
        home_library: code(C, &home)?,
        status,
        current_library: code(C, &current)?,
        // A destination only means something in transit (a status set outside
        // circulation, such as lost, leaves it behind).
        transit_to: match transit_to {
            Some(to) if status == ItemStatus::InTransit => Some(code(C, &to)?),
            _ => None,
        },
    })
}

pub(crate) fn loan(row: &QueryResult) -> Result<Loan, InfrastructureError> {
    const C: &str = "read loan";
    let library: String = get(row, "library_code").map_err(db(C))?;
    let returned_to: Option<String> = get(row, "returned_to").map_err(db(C))?;
    let renewals: i64 = get(row, "renewals").map_err(db(C))?;
    Ok(Loan {
        id: LoanId(get(row, "id").map_err(db(C))?),
        patron: PatronId(get(row, "patron_id").map_err(db(C))?),
        item: ItemId(get(row, "item_id").map_err(db(C))?),
        library: code(C, &library)?,
        borrowed_at: get(row, "borrowed_at").map_err(db(C))?,
        due: DueDate {
            on: get(row, "due_on").map_err(db(C))?,
            at: get(row, "due_at").map_err(db(C))?,
        },
        renewals: to_u32(C, renewals)?,
        returned_at: get(row, "returned_at").map_err(db(C))?,
        returned_to: returned_to.map(|c| code(C, &c)).transpose()?,
    })
}

pub(crate) fn hold(row: &QueryResult) -> Result<Hold, InfrastructureError> {
    const C: &str = "read hold";
    let status: String = get(row, "status").map_err(db(C))?;
    let pickup: String = get(row, "pickup_library").map_err(db(C))?;
    let ended_at: Option<OffsetDateTime> = get(row, "ended_at").map_err(db(C))?;
    let ended = || ended_at.ok_or_else(|| corrupt(C, "ended hold without ended_at"));
    let state = match status.as_str() {
        "queued" => HoldState::Queued {
            position: to_u32(C, get(row, "position").map_err(db(C))?)?,
            in_transit: get::<Option<i64>>(row, "item_id")
                .map_err(db(C))?
                .map(ItemId),
        },
        "waiting" => {
            let item: Option<i64> = get(row, "item_id").map_err(db(C))?;
            let trapped_on: Option<Date> = get(row, "trapped_on").map_err(db(C))?;
            let pickup_by: Option<Date> = get(row, "pickup_by").map_err(db(C))?;
            match (item, trapped_on, pickup_by) {
                (Some(item), Some(trapped_on), Some(pickup_by)) => HoldState::Waiting {
                    item: ItemId(item),
                    trapped_on,
                    pickup_by,
                },
                _ => return Err(corrupt(C, "waiting hold without item or dates")),
            }
        }
        "collected" => HoldState::Collected { at: ended()? },
        "expired" => HoldState::Expired { at: ended()? },
        "cancelled" => {
            let by: Option<String> = get(row, "cancelled_by").map_err(db(C))?;
            let reason: Option<String> = get(row, "cancel_reason").map_err(db(C))?;
            HoldState::Cancelled {
                at: ended()?,
                by: match by.as_deref() {
                    Some("staff") => CancelledBy::Staff,
                    // Before the column was filled in, only readers left it empty.
                    Some("reader") | None => CancelledBy::Reader,
                    Some(other) => return Err(corrupt(C, format_args!("cancelled_by {other:?}"))),
                },
                reason: reason
                    .map(|r| CancelReason::parse(&r).map_err(|e| corrupt(C, e)))
                    .transpose()?,
            }
        }
        other => return Err(corrupt(C, format_args!("hold status {other:?}"))),
    };
    Ok(Hold {
        id: HoldId(get(row, "id").map_err(db(C))?),
        patron: PatronId(get(row, "patron_id").map_err(db(C))?),
        title: TitleId(get(row, "title_id").map_err(db(C))?),
        pickup_library: code(C, &pickup)?,
        placed_at: get(row, "placed_at").map_err(db(C))?,
        state,
        suspended_until: get(row, "suspended_until").map_err(db(C))?,
        not_needed_after: get(row, "not_needed_after").map_err(db(C))?,
    })
}
