//! Reader records at the counter: `deactivated_at` on `patrons` (when staff deactivated the
//! reader; null = active), and on PostgreSQL indexes for the staff search's name prefix
//! (`lower(name)` with `text_pattern_ops`, so `LIKE 'chan%'` uses it whatever the
//! database's collation). SQLite scans for a name; the card is searched by its unique
//! index and the email by `lower(email)`'s.

use sea_orm::{ConnectionTrait, DbBackend};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Patrons::Table)
                    .add_column(timestamp_with_time_zone_null(Patrons::DeactivatedAt))
                    .to_owned(),
            )
            .await?;
        if manager.get_database_backend() == DbBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared(
                    "CREATE INDEX patrons_name_prefix ON patrons (lower(name) text_pattern_ops)",
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DbBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared("DROP INDEX IF EXISTS patrons_name_prefix")
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Patrons::Table)
                    .drop_column(Patrons::DeactivatedAt)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Patrons {
    Table,
    DeactivatedAt,
}
