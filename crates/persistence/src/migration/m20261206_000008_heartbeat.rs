//! The readiness probe's heartbeat: one row that `/ready` updates, so that "ready" means
//! the database accepts a write (not only that it answers a read).

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
                    .table(Heartbeat::Table)
                    .col(integer(Heartbeat::Id).primary_key())
                    .col(big_integer(Heartbeat::Beats))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Heartbeat::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Heartbeat {
    Table,
    Id,
    Beats,
}
