//! Circulation notices go to the outbox inside the circulation transaction: a "hold waiting"
//! message exists exactly when the trap it announces committed.

use async_trait::async_trait;
use library_circulation::ports::{CirculationNotice, InfrastructureError, NoticeQueue};
use time::OffsetDateTime;
use time::format_description::well_known::Iso8601;

use super::DbTransaction;
use crate::outbox_store::{NewNotification, insert_notification};
use crate::sql::infra;

/// The outbox kind of a copy put on the hold shelf for a reader.
pub const HOLD_WAITING: &str = library_app::kind::HOLD_WAITING;

/// The outbox row of `notice`.
fn notification(notice: &CirculationNotice, at: OffsetDateTime) -> NewNotification {
    match notice {
        CirculationNotice::HoldWaiting {
            patron,
            hold,
            title,
            item,
            pickup_library,
            pickup_by,
        } => NewNotification {
            kind: HOLD_WAITING.to_owned(),
            patron: Some(*patron),
            payload: serde_json::json!({
                "hold_id": hold.get(),
                "title_id": title.get(),
                "item_id": item.get(),
                "pickup_library": pickup_library.as_str(),
                "pickup_by": pickup_by.format(&Iso8601::DATE).unwrap_or_default(),
            })
            .to_string(),
            created_at: at,
            expires_at: None,
        },
        CirculationNotice::HoldExpired {
            patron,
            hold,
            title,
            pickup_library,
            pickup_by,
        } => NewNotification {
            kind: library_app::kind::HOLD_EXPIRED.to_owned(),
            patron: Some(*patron),
            payload: serde_json::json!({
                "hold_id": hold.get(),
                "title_id": title.get(),
                "pickup_library": pickup_library.as_str(),
                "pickup_by": pickup_by.format(&Iso8601::DATE).unwrap_or_default(),
            })
            .to_string(),
            created_at: at,
            expires_at: None,
        },
        CirculationNotice::HoldNotNeeded {
            patron,
            hold,
            title,
            pickup_library,
            not_needed_after,
        } => NewNotification {
            kind: library_app::kind::HOLD_NOT_NEEDED.to_owned(),
            patron: Some(*patron),
            payload: serde_json::json!({
                "hold_id": hold.get(),
                "title_id": title.get(),
                "pickup_library": pickup_library.as_str(),
                "not_needed_after": not_needed_after.format(&Iso8601::DATE).unwrap_or_default(),
            })
            .to_string(),
            created_at: at,
            expires_at: None,
        },
    }
}

#[async_trait]
impl NoticeQueue for DbTransaction {
    async fn queue_notice(
        &mut self,
        notice: CirculationNotice,
        at: OffsetDateTime,
    ) -> Result<(), InfrastructureError> {
        insert_notification(&self.txn, &notification(&notice, at))
            .await
            .map_err(infra("queue a notice"))?;
        Ok(())
    }
}
