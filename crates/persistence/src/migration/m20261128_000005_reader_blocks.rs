//! A reader's card blocked by a self-service station (SIP2 `01` Block Patron: the station
//! found the card misused, e.g. reported stolen): `blocked_at` (when; null = not blocked)
//! and `block_reason` (the station's message). Checkouts, renewals and holds are refused as
//! for a suspension until staff lift the block.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one at a time.
        manager
            .alter_table(
                Table::alter()
                    .table(Patrons::Table)
                    .add_column(timestamp_with_time_zone_null(Patrons::BlockedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Patrons::Table)
                    .add_column(text_null(Patrons::BlockReason))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [Patrons::BlockReason, Patrons::BlockedAt] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Patrons::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Patrons {
    Table,
    BlockedAt,
    BlockReason,
}
