//! How checkouts, checkins and renewals are written to the audit log, on every channel
//! (the counter over HTTP, self-service stations over SIP2): one action code, subject and
//! set of details per event, so the log reads the same whichever channel lent the copy.

use library_circulation::service::{
    CheckinOutcome, CheckinRequest, CheckoutOutcome, CheckoutRequest, RenewOutcome,
};
use serde_json::{Value, json};

/// A circulation event as the audit log records it.
#[derive(Debug, Clone, PartialEq)]
pub struct CirculationAudit {
    /// The action code (`circulation.checkout`, `circulation.checkin`, `circulation.renew`).
    pub action: &'static str,
    /// The loan (`loan:42`).
    pub subject: String,
    /// What the log keeps of the request and its outcome.
    pub details: Value,
}

impl CirculationAudit {
    /// A loan made.
    pub fn checkout(req: &CheckoutRequest, outcome: &CheckoutOutcome) -> Self {
        Self {
            action: "circulation.checkout",
            subject: format!("loan:{}", outcome.loan.id.get()),
            details: json!({"card_number": req.card_number.as_str(),
                            "item_barcode": req.item_barcode.as_str(),
                            "library_code": req.library.as_str(),
                            "collected_hold": outcome.collected_hold.map(|h| h.get())}),
        }
    }

    /// A copy returned.
    pub fn checkin(req: &CheckinRequest, outcome: &CheckinOutcome) -> Self {
        Self {
            action: "circulation.checkin",
            subject: format!("loan:{}", outcome.loan.id.get()),
            details: json!({"item_barcode": req.item_barcode.as_str(),
                            "library_code": req.library.as_str(),
                            "fine_cents": outcome.fine.cents(),
                            "book_drop": req.returned_at.is_some()}),
        }
    }

    /// A loan renewed.
    pub fn renewal(outcome: &RenewOutcome) -> Self {
        Self {
            action: "circulation.renew",
            subject: format!("loan:{}", outcome.loan.id.get()),
            details: json!({"fine_charged_cents": outcome.fine_charged.cents()}),
        }
    }
}
