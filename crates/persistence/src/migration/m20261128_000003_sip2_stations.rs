//! SIP2 station accounts (docs/http.md, SIP2 stations): the self-service stations that may
//! log in to the SIP2 server, each lending from one library.
//!
//! - `username` is the key: `[a-z0-9_.-]{1,32}`, checked by the credentials crate before
//!   it gets here (`StationUsername`).
//! - `password_hash` is a PHC string (Argon2id), like every stored secret.
//! - `library_code` refers to `libraries(code)`: a station cannot lend from a library that
//!   does not exist.
//! - `created_by` says who created it (a staff username, or `library-admin`), for people
//!   reading the list; the audit log has the details.

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
                    .table(Sip2Stations::Table)
                    .col(string_len(Sip2Stations::Username, 32).primary_key())
                    .col(string(Sip2Stations::PasswordHash))
                    .col(string_len(Sip2Stations::LibraryCode, 32))
                    .col(timestamp_with_time_zone(Sip2Stations::CreatedAt))
                    .col(string_len(Sip2Stations::CreatedBy, 80))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_sip2_stations_library")
                            .from(Sip2Stations::Table, Sip2Stations::LibraryCode)
                            .to(Libraries::Table, Libraries::Code),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Sip2Stations::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Sip2Stations {
    #[sea_orm(iden = "sip2_stations")]
    Table,
    Username,
    PasswordHash,
    LibraryCode,
    CreatedAt,
    CreatedBy,
}

#[derive(DeriveIden)]
enum Libraries {
    Table,
    Code,
}
