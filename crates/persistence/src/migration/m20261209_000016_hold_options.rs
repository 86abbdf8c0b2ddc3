//! Hold options.
//!
//! - `holds.suspended_until`: a queued hold is not trapped before this date (the first day
//!   it is active again, the pickup library's local date); cleared when a copy is trapped.
//! - `holds.not_needed_after`: the reader's last date of interest; a queued hold past it is
//!   expired by the hold-expiry job, which finds them by the partial index
//!   `idx_holds_queued_not_needed`.
//! - `holds.cancelled_by` (`reader` or `staff`) and `holds.cancel_reason` (staff's words to
//!   the reader) on cancelled holds. Holds cancelled before this migration are given
//!   `staff` when the audit log has their `hold.cancel` entry by a staff user (only staff's
//!   cancellations were audited), else `reader`.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            date_null(Holds::SuspendedUntil),
            date_null(Holds::NotNeededAfter),
            string_len_null(Holds::CancelledBy, 8),
            text_null(Holds::CancelReason),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Holds::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        let conn = manager.get_connection();
        conn.execute_unprepared(
            "UPDATE holds SET cancelled_by = CASE WHEN EXISTS (SELECT 1 FROM audit_log a \
             WHERE a.action = 'hold.cancel' AND a.staff_id IS NOT NULL \
             AND a.subject = 'hold:' || CAST(holds.id AS TEXT)) THEN 'staff' ELSE 'reader' END \
             WHERE status = 'cancelled'",
        )
        .await?;
        conn.execute_unprepared(
            "CREATE INDEX IF NOT EXISTS idx_holds_queued_not_needed ON holds (not_needed_after) \
             WHERE status = 'queued' AND not_needed_after IS NOT NULL",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP INDEX IF EXISTS idx_holds_queued_not_needed")
            .await?;
        for column in [
            Holds::SuspendedUntil,
            Holds::NotNeededAfter,
            Holds::CancelledBy,
            Holds::CancelReason,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Holds::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Holds {
    Table,
    SuspendedUntil,
    NotNeededAfter,
    CancelledBy,
    CancelReason,
}
