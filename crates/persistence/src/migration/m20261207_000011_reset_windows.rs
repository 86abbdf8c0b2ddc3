//! The windows of "forgot Password": per reader account, the temporary passwords issued;
//! per source, the requests made (docs/credentials.md, Temporary passwords).
//!
//! - `subject` is `account:<patron id>` or `source:<attempt source>`; no foreign key, like
//!   the guessing counters (a source is no row of any table, and a reader's window outlives
//!   nothing worth keeping: it is purged once over).
//! - The window's end is stored, not its start, so that a row says by itself when it stops
//!   counting, whatever limit opened it: the purge needs no policy.

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
                    .table(ResetWindows::Table)
                    .col(string(ResetWindows::Subject).primary_key())
                    .col(timestamp_with_time_zone(ResetWindows::WindowEndsAt))
                    .col(big_integer(ResetWindows::Requests).default(0))
                    .col(big_integer(ResetWindows::Version).default(0))
                    .check(Expr::col(ResetWindows::Requests).gte(0))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ResetWindows::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum ResetWindows {
    Table,
    Subject,
    WindowEndsAt,
    Requests,
    Version,
}
