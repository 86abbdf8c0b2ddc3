//! Circulation statistics inside the circulation transaction: a row per checkout, checkin,
//! renewal, hold placed and hold collected, committed with the change it counts.

use async_trait::async_trait;
use library_circulation::ports::{CirculationStatistic, InfrastructureError, StatisticsJournal};
use sea_orm::Value;

use super::DbTransaction;
use crate::instant;

#[async_trait]
impl StatisticsJournal for DbTransaction {
    /// Appended to the transaction's journal, written at its commit.
    async fn count(&mut self, statistic: CirculationStatistic) -> Result<(), InfrastructureError> {
        let values = vec![
            statistic.kind.code().into(),
            Value::String(statistic.channel.map(|c| c.code().to_owned())),
            statistic.library.as_str().into(),
            Value::TimeDate(Some(statistic.on)),
            instant::value(self.backend, statistic.at),
            Value::BigInt(statistic.loan.map(|l| l.get())),
            Value::BigInt(statistic.hold.map(|h| h.get())),
        ];
        self.append_to_journal(
            "INSERT INTO circulation_statistics (kind, channel, library_code, on_date, at, \
             loan_id, hold_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
            values,
        );
        Ok(())
    }
}
