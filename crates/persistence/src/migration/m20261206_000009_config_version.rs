//! The configuration's version: one row that every write of rules, fine-suspension periods
//! or library calendars advances on SQLite, so that a server process notices a change made
//! by another process (`library-admin policy apply`) and drops its cached configuration
//! (`config_cache.rs`). PostgreSQL processes hear `NOTIFY library_config` instead.

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
                    .table(ConfigVersion::Table)
                    .col(integer(ConfigVersion::Id).primary_key())
                    .col(big_integer(ConfigVersion::Version))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ConfigVersion::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum ConfigVersion {
    Table,
    Id,
    Version,
}
