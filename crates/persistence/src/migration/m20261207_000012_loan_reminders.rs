//! Reminders and what a message went by.
//!
//! - `loan_reminders`: one row per loan, kind (`loan.due_soon`, `loan.overdue_alert`,
//!   `loan.overdue_notice`) and due date, written with the outbox row it queued, in one
//!   transaction. Its key is what makes a reminder "once per loan and kind": a rerun of the
//!   job or a second server process inserts nothing twice. The due date is part of the key,
//!   so a renewal (a new due date) earns new reminders. Kept after the outbox row is purged
//!   (30 days), so a long-overdue loan is not sent its first notice again.
//! - `outbox.channel`: the channels a message went by (`email`, `sms`, `email,sms`), also
//!   while it is still being tried on the others.
//! - `outbox.expires_at`: when a message is no longer worth sending (a temporary password's
//!   expiry): given up then, and its sealed secret wiped, even if it was never tried.
//! - Indexes: a reader's messages (`outbox (patron_id, id)`), and the open loans by due date
//!   the reminder job scans (`loans (due_on) WHERE returned_at IS NULL`).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(LoanReminders::Table)
                    .col(big_integer(LoanReminders::LoanId))
                    .col(string_len(LoanReminders::Kind, 40))
                    .col(date(LoanReminders::DueOn))
                    .col(big_integer_null(LoanReminders::OutboxId))
                    .col(timestamp_with_time_zone(LoanReminders::QueuedAt))
                    .primary_key(
                        Index::create()
                            .col(LoanReminders::LoanId)
                            .col(LoanReminders::Kind)
                            .col(LoanReminders::DueOn),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(LoanReminders::Table, LoanReminders::LoanId)
                            .to(Loans::Table, Loans::Id),
                    )
                    .to_owned(),
            )
            .await?;
        for column in [
            text_null(Outbox::Channel),
            timestamp_with_time_zone_null(Outbox::ExpiresAt),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Outbox::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        let conn = manager.get_connection();
        conn.execute_unprepared(
            "CREATE INDEX IF NOT EXISTS idx_outbox_patron ON outbox (patron_id, id)",
        )
        .await?;
        // The reminder job's scan: open loans by due date.
        conn.execute_unprepared(
            "CREATE INDEX IF NOT EXISTS idx_loans_open_due ON loans (due_on) \
             WHERE returned_at IS NULL",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        conn.execute_unprepared("DROP INDEX IF EXISTS idx_loans_open_due")
            .await?;
        conn.execute_unprepared("DROP INDEX IF EXISTS idx_outbox_patron")
            .await?;
        for column in [Outbox::Channel, Outbox::ExpiresAt] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Outbox::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .drop_table(Table::drop().table(LoanReminders::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum LoanReminders {
    Table,
    LoanId,
    Kind,
    DueOn,
    OutboxId,
    QueuedAt,
}

#[derive(DeriveIden)]
enum Loans {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    Channel,
    ExpiresAt,
}
