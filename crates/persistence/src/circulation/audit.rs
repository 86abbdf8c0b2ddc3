//! Circulation changes (loans, returns, renewals, staff's holds) go to the audit log inside
//! the circulation transaction: an entry exists exactly when the change it records
//! committed. One action code, subject and set
//! of details per event, so the log reads the same whichever channel made the change; a
//! station's entries have no staff id and say `"channel": "sip2"` and the station.

use async_trait::async_trait;
use library_circulation::overrides::Overridden;
use library_circulation::ports::{
    Actor, AuditJournal, CirculationEvent, CirculationRecord, InfrastructureError,
};
use serde_json::{Value, json};

use super::DbTransaction;
use crate::audit_store::{INSERT_AUDIT_ENTRY, NewAuditEntry, audit_entry_values};

/// The audit log row of `record`.
fn entry(record: &CirculationRecord) -> NewAuditEntry {
    let (action, subject, mut details) = match &record.event {
        CirculationEvent::Checkout {
            loan,
            card_number,
            item_barcode,
            library,
            collected_hold,
            overridden,
        } => {
            let mut details = json!({"card_number": card_number.as_str(),
                   "item_barcode": item_barcode.as_str(),
                   "library_code": library.as_str(),
                   "collected_hold": collected_hold.map(|h| h.get())});
            add_override(&mut details, overridden.as_ref());
            (
                "circulation.checkout",
                format!("loan:{}", loan.get()),
                details,
            )
        }
        CirculationEvent::Checkin {
            loan,
            item_barcode,
            library,
            fine,
            book_drop,
        } => (
            "circulation.checkin",
            format!("loan:{}", loan.get()),
            json!({"item_barcode": item_barcode.as_str(),
                   "library_code": library.as_str(),
                   "fine_cents": fine.cents(),
                   "book_drop": book_drop}),
        ),
        CirculationEvent::TransitReceived {
            item,
            item_barcode,
            library,
            trapped_hold,
            in_transit_to,
        } => (
            "circulation.transit_receive",
            format!("item:{}", item.get()),
            json!({"item_barcode": item_barcode.as_str(),
                   "library_code": library.as_str(),
                   "trapped_hold": trapped_hold.map(|h| h.get()),
                   "in_transit_to": in_transit_to.as_ref().map(|c| c.as_str())}),
        ),
        CirculationEvent::LostDeclared {
            loan,
            item_barcode,
            fine,
            replacement,
            processing,
        } => (
            "circulation.lost",
            format!("loan:{}", loan.get()),
            json!({"item_barcode": item_barcode.as_str(),
                   "fine_cents": fine.cents(),
                   "replacement_cents": replacement.cents(),
                   "processing_cents": processing.cents()}),
        ),
        CirculationEvent::ClaimedReturned { loan, item_barcode } => (
            "circulation.claim_returned",
            format!("loan:{}", loan.get()),
            json!({"item_barcode": item_barcode.as_str()}),
        ),
        CirculationEvent::LostFound {
            loan,
            item_barcode,
            library,
            written_off,
            owed_back,
        } => (
            "circulation.found",
            format!("loan:{}", loan.get()),
            json!({"item_barcode": item_barcode.as_str(),
                   "library_code": library.as_str(),
                   "written_off_cents": written_off.cents(),
                   "owed_back_cents": owed_back.cents()}),
        ),
        CirculationEvent::Renewal {
            loan,
            fine_charged,
            overridden,
        } => {
            let mut details = json!({"fine_charged_cents": fine_charged.cents()});
            add_override(&mut details, overridden.as_ref());
            ("circulation.renew", format!("loan:{}", loan.get()), details)
        }
        CirculationEvent::HoldPlaced {
            hold,
            card_number,
            title,
        } => (
            "hold.place",
            format!("hold:{}", hold.get()),
            json!({"card_number": card_number.as_str(), "title_id": title.get()}),
        ),
        CirculationEvent::HoldCancelled {
            hold,
            card_number,
            reason,
        } => (
            "hold.cancel",
            format!("hold:{}", hold.get()),
            // A reason only when staff gave one: a plain cancellation reads as before.
            match reason {
                Some(reason) => {
                    json!({"card_number": card_number.as_str(), "reason": reason.as_str()})
                }
                None => json!({"card_number": card_number.as_str()}),
            },
        ),
        CirculationEvent::HoldChanged {
            hold,
            card_number,
            suspended_until,
            not_needed_after,
        } => (
            "hold.change",
            format!("hold:{}", hold.get()),
            json!({"card_number": card_number.as_str(),
                   "suspended_until": suspended_until.map(|d| d.to_string()),
                   "not_needed_after": not_needed_after.map(|d| d.to_string())}),
        ),
    };
    let staff = match &record.by {
        Actor::Staff(id) => Some(*id),
        Actor::Station(station) => {
            if let Value::Object(map) = &mut details {
                map.insert("channel".into(), "sip2".into());
                map.insert("station".into(), station.as_str().into());
            }
            None
        }
    };
    NewAuditEntry {
        staff,
        action: action.to_owned(),
        subject,
        details: details.to_string(),
        at: record.at,
    }
}

#[async_trait]
impl AuditJournal for DbTransaction {
    /// Appended to the transaction's journal, written at its commit.
    async fn record(&mut self, record: CirculationRecord) -> Result<(), InfrastructureError> {
        let values = audit_entry_values(self.backend, &entry(&record));
        self.append_to_journal(INSERT_AUDIT_ENTRY, values);
        Ok(())
    }
}

/// Adds an override's refusals and reason to an entry's details (absent: no override).
fn add_override(details: &mut serde_json::Value, overridden: Option<&Overridden>) {
    if let Some(o) = overridden {
        details["overridden"] = json!(o.refusals);
        details["override_reason"] = json!(o.reason);
    }
}

#[cfg(test)]
mod tests {
    use library_core::{Barcode, CardNumber, HoldId, LibraryCode, LoanId, Money, StaffId};
    use time::macros::datetime;

    use super::*;

    fn at() -> time::OffsetDateTime {
        datetime!(2026-03-02 10:15 UTC)
    }

    #[test]
    fn a_checkout_at_the_counter_is_recorded_with_the_staff_id() {
        let e = entry(&CirculationRecord {
            by: Actor::Staff(StaffId(7)),
            event: CirculationEvent::Checkout {
                loan: LoanId(42),
                card_number: CardNumber::parse("21000000000001").unwrap(),
                item_barcode: Barcode::parse("31000000000001").unwrap(),
                library: LibraryCode::parse("CEN").unwrap(),
                collected_hold: Some(HoldId(5)),
                overridden: None,
            },
            at: at(),
        });
        assert_eq!(e.staff, Some(StaffId(7)));
        assert_eq!(e.action, "circulation.checkout");
        assert_eq!(e.subject, "loan:42");
        assert_eq!(
            serde_json::from_str::<Value>(&e.details).unwrap(),
            json!({"card_number": "21000000000001", "item_barcode": "31000000000001",
                   "library_code": "CEN", "collected_hold": 5})
        );
        assert_eq!(e.at, at());
    }

    #[test]
    fn a_station_checkin_names_the_channel_and_station_and_no_staff() {
        let e = entry(&CirculationRecord {
            by: Actor::Station("kiosk-1".into()),
            event: CirculationEvent::Checkin {
                loan: LoanId(9),
                item_barcode: Barcode::parse("31000000000002").unwrap(),
                library: LibraryCode::parse("SHA").unwrap(),
                fine: Money::from_cents(150),
                book_drop: true,
            },
            at: at(),
        });
        assert_eq!(e.staff, None);
        assert_eq!(e.action, "circulation.checkin");
        assert_eq!(
            serde_json::from_str::<Value>(&e.details).unwrap(),
            json!({"item_barcode": "31000000000002", "library_code": "SHA",
                   "fine_cents": 150, "book_drop": true,
                   "channel": "sip2", "station": "kiosk-1"})
        );
    }

    #[test]
    fn a_renewal_records_the_fine_it_fixed() {
        let e = entry(&CirculationRecord {
            by: Actor::Staff(StaffId(1)),
            event: CirculationEvent::Renewal {
                loan: LoanId(3),
                fine_charged: Money::ZERO,
                overridden: None,
            },
            at: at(),
        });
        assert_eq!(e.action, "circulation.renew");
        assert_eq!(e.subject, "loan:3");
        assert_eq!(e.details, r#"{"fine_charged_cents":0}"#);
    }

    #[test]
    fn a_hold_at_the_counter_is_recorded_on_the_hold() {
        let card = CardNumber::parse("21000000000001").unwrap();
        let placed = entry(&CirculationRecord {
            by: Actor::Staff(StaffId(2)),
            event: CirculationEvent::HoldPlaced {
                hold: HoldId(8),
                card_number: card.clone(),
                title: library_core::TitleId(5),
            },
            at: at(),
        });
        assert_eq!(placed.staff, Some(StaffId(2)));
        assert_eq!(placed.action, "hold.place");
        assert_eq!(placed.subject, "hold:8");
        assert_eq!(
            placed.details,
            r#"{"card_number":"21000000000001","title_id":5}"#
        );
        let cancelled = entry(&CirculationRecord {
            by: Actor::Staff(StaffId(2)),
            event: CirculationEvent::HoldCancelled {
                hold: HoldId(8),
                card_number: card.clone(),
                reason: None,
            },
            at: at(),
        });
        assert_eq!(cancelled.action, "hold.cancel");
        assert_eq!(cancelled.subject, "hold:8");
        assert_eq!(cancelled.details, r#"{"card_number":"21000000000001"}"#);
        let with_reason = entry(&CirculationRecord {
            by: Actor::Staff(StaffId(2)),
            event: CirculationEvent::HoldCancelled {
                hold: HoldId(8),
                card_number: card.clone(),
                reason: Some(library_circulation::CancelReason::parse("Title withdrawn").unwrap()),
            },
            at: at(),
        });
        assert_eq!(
            with_reason.details,
            r#"{"card_number":"21000000000001","reason":"Title withdrawn"}"#
        );
        let changed = entry(&CirculationRecord {
            by: Actor::Staff(StaffId(2)),
            event: CirculationEvent::HoldChanged {
                hold: HoldId(8),
                card_number: card,
                suspended_until: Some(time::macros::date!(2021 - 03 - 10)),
                not_needed_after: None,
            },
            at: at(),
        });
        assert_eq!(changed.action, "hold.change");
        assert_eq!(changed.subject, "hold:8");
        assert_eq!(
            changed.details,
            r#"{"card_number":"21000000000001","not_needed_after":null,"suspended_until":"2021-03-10"}"#
        );
    }
}
