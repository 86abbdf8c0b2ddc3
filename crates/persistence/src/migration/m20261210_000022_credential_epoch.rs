//! Two columns of `patron_credentials` (docs/credentials.md, Temporary passwords and
//! Sessions):
//!
//! - `credential_epoch`: bumped in the same UPDATE as every Password or PIN change and every
//!   staff reset. A login reads it with the credentials before verifying, and its session is
//!   inserted only while it is unchanged, so a login racing a change gets no session.
//! - `temporary_password_failures`: wrong Password attempts on the account while its
//!   temporary password is pending; at 5 it no longer opens the account. Issuing a new one
//!   sets it back to 0.
//!
//! Two ALTERs: SQLite adds one column per statement.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            PatronCredentials::CredentialEpoch,
            PatronCredentials::TemporaryPasswordFailures,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(PatronCredentials::Table)
                        .add_column(big_integer(column).default(0))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            PatronCredentials::CredentialEpoch,
            PatronCredentials::TemporaryPasswordFailures,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(PatronCredentials::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum PatronCredentials {
    Table,
    CredentialEpoch,
    TemporaryPasswordFailures,
}
