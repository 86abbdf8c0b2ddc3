//! What each SIP2 station may do (docs/credentials.md, SIP2 stations), stored with its
//! account:
//!
//! - `pin_required`: every message that acts for or shows a reader needs the reader's
//!   PIN. On by default, also for the stations that existed before this migration (a
//!   station that must lend without PINs is switched off explicitly).
//! - `may_block`: the station may block a card with `01`. Off by default.
//! - `allowed_addresses`: where it may log in from, the canonical address ranges
//!   separated by single spaces (`192.0.2.0/24 2001:db8::1`); empty means anywhere.
//!
//! One `ALTER TABLE` per column: SQLite adds one column per statement.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            boolean(Sip2Stations::PinRequired).default(true).to_owned(),
            boolean(Sip2Stations::MayBlock).default(false).to_owned(),
            string_len(Sip2Stations::AllowedAddresses, 2048)
                .default("")
                .to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Sip2Stations::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            Sip2Stations::PinRequired,
            Sip2Stations::MayBlock,
            Sip2Stations::AllowedAddresses,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Sip2Stations::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Sip2Stations {
    #[sea_orm(iden = "sip2_stations")]
    Table,
    PinRequired,
    MayBlock,
    AllowedAddresses,
}
