//! The outbox as the sender works it: how many attempts failed, when the next one is due,
//! which sender holds a message (its lease) and until when, the last failure's reason, and
//! when a message was given up.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one at a time.
        let columns = [
            big_integer(Outbox::Attempts).default(0).to_owned(),
            timestamp_with_time_zone_null(Outbox::NextAttemptAt),
            timestamp_with_time_zone_null(Outbox::ClaimedUntil),
            text_null(Outbox::LastError),
            timestamp_with_time_zone_null(Outbox::FailedAt),
        ];
        for column in columns {
            manager
                .alter_table(
                    Table::alter()
                        .table(Outbox::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE INDEX IF NOT EXISTS idx_outbox_due ON outbox (id) \
                 WHERE sent_at IS NULL AND failed_at IS NULL",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP INDEX IF EXISTS idx_outbox_due")
            .await?;
        for column in [
            Outbox::Attempts,
            Outbox::NextAttemptAt,
            Outbox::ClaimedUntil,
            Outbox::LastError,
            Outbox::FailedAt,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Outbox::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    Attempts,
    NextAttemptAt,
    ClaimedUntil,
    LastError,
    FailedAt,
}
