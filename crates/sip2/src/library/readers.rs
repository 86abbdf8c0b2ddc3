//! Readers as a station sees them: patron status (`23`), patron information (`63`) and
//! block patron (`01`).

use crate::server::{
    BackendError, FineLine, HoldLine, LoanLine, PatronInformation, PatronLookup, PatronStanding,
    PatronSummary, StationSession,
};
use library_circulation::service::ReaderAccount;
use library_circulation::{EffectiveRules, Hold, HoldState};
use library_core::TitleId;
use library_credentials::StoredCredentials;
use library_fines::ChargeKind;
use serde_json::json;

use super::{OrBackend, Reader, Sip2Library};

/// A found reader with what the station may see about them.
struct Standing {
    summary: PatronSummary,
    rules: EffectiveRules,
    account: ReaderAccount,
    active_holds: Vec<Hold>,
}

impl Sip2Library {
    /// The reader's standing at the station's library (the application layer's
    /// `Services::standing`: the facts the checkout, renewal and hold decisions look at,
    /// and the messages every channel shows), as privileges and screen messages.
    async fn standing(
        &self,
        station: &StationSession,
        credentials: &StoredCredentials,
    ) -> Result<Option<Standing>, BackendError> {
        let Some(s) = self
            .services
            .standing(credentials.patron, &station.library_code)
            .await
            .or_backend("read reader standing")?
        else {
            return Ok(None);
        };
        let facts = s.facts;
        let standing = PatronStanding {
            charge_denied: !facts.may_borrow(),
            renewal_denied: !facts.may_renew(),
            hold_denied: !facts.may_reserve(),
            too_many_items_charged: facts.quota_reached,
            too_many_items_overdue: false,
            excessive_fines: facts.fines_over_limit,
        };
        let summary = PatronSummary {
            name: credentials.info.name.clone(),
            standing,
            outstanding: s.account.outstanding,
            messages: s.messages,
        };
        Ok(Some(Standing {
            summary,
            rules: s.rules,
            account: s.account,
            active_holds: s.active_holds,
        }))
    }

    pub(super) async fn patron_summary(
        &self,
        station: &StationSession,
        card: &str,
        pin: Option<&str>,
    ) -> Result<PatronLookup<PatronSummary>, BackendError> {
        Ok(match self.identify(station, card, pin).await? {
            Reader::Unknown => PatronLookup::UnknownPatron,
            Reader::PinNotVerified => PatronLookup::PinNotVerified,
            Reader::Found {
                credentials,
                pin_verified,
            } => match self.standing(station, &credentials).await? {
                None => PatronLookup::UnknownPatron,
                Some(s) => PatronLookup::Found {
                    pin_verified,
                    patron: s.summary,
                },
            },
        })
    }

    pub(super) async fn patron_details(
        &self,
        station: &StationSession,
        card: &str,
        pin: Option<&str>,
    ) -> Result<PatronLookup<PatronInformation>, BackendError> {
        let (credentials, pin_verified) = match self.identify(station, card, pin).await? {
            Reader::Unknown => return Ok(PatronLookup::UnknownPatron),
            Reader::PinNotVerified => return Ok(PatronLookup::PinNotVerified),
            Reader::Found {
                credentials,
                pin_verified,
            } => (credentials, pin_verified),
        };
        let Some(s) = self.standing(station, &credentials).await? else {
            return Ok(PatronLookup::UnknownPatron);
        };
        let now = self.services.clock.now();
        // Every title named, in one read.
        let titles: Vec<TitleId> = (s.account.loans.iter().map(|l| l.item.title))
            .chain(s.active_holds.iter().map(|h| h.title))
            .collect();
        let names = self
            .services
            .catalogue
            .title_names(&titles)
            .await
            .or_backend("read titles")?;
        let name = |title: TitleId| names.get(&title).cloned().unwrap_or_default();
        let loans = s
            .account
            .loans
            .iter()
            .map(|l| LoanLine {
                barcode: l.item.barcode.as_str().to_owned(),
                title: name(l.item.title),
                due_at: l.loan.due.at,
                overdue: l.loan.due.at < now,
            })
            .collect();
        let mut holds = Vec::with_capacity(s.active_holds.len());
        for h in &s.active_holds {
            let line = match h.state {
                // The copy on the shelf for the reader: its barcode (one per reader at most
                // a few; read one by one).
                HoldState::Waiting { item, .. } => HoldLine {
                    item: match self
                        .services
                        .catalogue
                        .item(item)
                        .await
                        .or_backend("read item")?
                    {
                        Some(item) => item.barcode.as_str().to_owned(),
                        None => name(h.title),
                    },
                    available: true,
                },
                _ => HoldLine {
                    item: name(h.title),
                    available: false,
                },
            };
            holds.push(line);
        }
        let ledger = self
            .services
            .accounts
            .ledger(credentials.patron)
            .await
            .or_backend("read ledger")?;
        let fines = ledger
            .charges()
            .iter()
            .filter(|c| c.outstanding().is_positive())
            .map(|c| FineLine {
                description: match &c.kind {
                    ChargeKind::OverdueFine { .. } => format!("Overdue fine of {}", c.charged_on),
                    ChargeKind::HoldFee { .. } => format!("Hold fee of {}", c.charged_on),
                    ChargeKind::LostItem { .. } => format!("Lost item of {}", c.charged_on),
                    ChargeKind::LostProcessing { .. } => {
                        format!("Lost item processing of {}", c.charged_on)
                    }
                    ChargeKind::Other { description } => description.clone(),
                },
                amount: c.outstanding(),
            })
            .collect();
        Ok(PatronLookup::Found {
            pin_verified,
            patron: PatronInformation {
                summary: s.summary,
                loans,
                holds,
                fines,
                loan_limit: s.rules.quota,
                hold_limit: Some(s.rules.holds_allowed),
                // Contact details only with a PIN verified in this message (the server
                // drops them otherwise too).
                email: credentials.info.email.clone().filter(|_| pin_verified),
                phone: Some(credentials.info.phone.clone())
                    .filter(|p| pin_verified && !p.is_empty()),
            },
        })
    }

    /// `01`: blocks the card until staff lift it (`DELETE /patrons/{card}/block`): later
    /// checkouts, renewals and holds are refused as for a suspension (docs/sip2.md,
    /// acceptance vector 18); recorded in the audit log and answered with the reader's
    /// standing. A PIN sent must verify, or nothing is blocked.
    pub(super) async fn block(
        &self,
        station: &StationSession,
        card: &str,
        pin: Option<&str>,
        reason: &str,
    ) -> Result<PatronLookup<PatronSummary>, BackendError> {
        let (credentials, pin_verified) = match self.identify(station, card, pin).await? {
            Reader::Unknown => return Ok(PatronLookup::UnknownPatron),
            Reader::PinNotVerified => return Ok(PatronLookup::PinNotVerified),
            Reader::Found {
                credentials,
                pin_verified,
            } => (credentials, pin_verified),
        };
        let audit = self.audit_record(
            station,
            "sip2.block_patron",
            format!("patron:{}", credentials.patron.get()),
            json!({"card_number": credentials.info.card_number.as_str(), "message": reason}),
        );
        self.services
            .readers
            .block(credentials.patron, self.services.clock.now(), reason, audit)
            .await
            .or_backend("block reader")?;
        let Some(s) = self.standing(station, &credentials).await? else {
            return Ok(PatronLookup::UnknownPatron);
        };
        tracing::warn!(
            station = %station.station_id,
            patron = credentials.patron.get(),
            "a SIP2 station blocked a reader's card until staff lift it"
        );
        let mut summary = s.summary;
        summary
            .messages
            .push("This card may not be used here. Please ask staff.".to_owned());
        Ok(PatronLookup::Found {
            pin_verified,
            patron: summary,
        })
    }

    /// A title's name (empty if the title is missing, which the schema prevents).
    pub(super) async fn title_name(
        &self,
        title: library_core::TitleId,
    ) -> Result<String, BackendError> {
        Ok(self
            .services
            .catalogue
            .title_name(title)
            .await
            .or_backend("read title")?
            .unwrap_or_default())
    }
}
