//! `guessing_pairs`: the guessing counter of one source on one account (docs/credentials.md,
//! Guessing). Keyed by (subject, kind, source) like `credential_attempts` by (subject, kind)
//! and `attempt_sources` by source: the subject is a card number (known or not), a staff
//! username or a SIP2 station. A pair row is kept after a success, with its time, so the
//! source stays *known* to the account for 30 days; `last_active_at` lets a scheduled job
//! drop pairs idle longer than that.
//!
//! `credential_attempts` stays as the account-wide counter. Its delays were set by the old
//! rule (a delay per account, whatever the source) and are dropped; its failure counts stay,
//! so a disabled PIN stays disabled.

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
                    .table(GuessingPairs::Table)
                    .col(string_len(GuessingPairs::Subject, 80))
                    .col(string_len(GuessingPairs::Kind, 16))
                    .col(string(GuessingPairs::Source))
                    .col(big_integer(GuessingPairs::Failures).default(0))
                    .col(timestamp_with_time_zone_null(GuessingPairs::ThrottledUntil))
                    .col(timestamp_with_time_zone_null(GuessingPairs::LastSuccessAt))
                    .col(timestamp_with_time_zone(GuessingPairs::LastActiveAt))
                    .col(big_integer(GuessingPairs::Version).default(0))
                    .primary_key(
                        Index::create()
                            .col(GuessingPairs::Subject)
                            .col(GuessingPairs::Kind)
                            .col(GuessingPairs::Source),
                    )
                    .check(Expr::col(GuessingPairs::Kind).is_in(["password", "pin"]))
                    .check(Expr::col(GuessingPairs::Failures).gte(0))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("guessing_pairs_last_active_at")
                    .table(GuessingPairs::Table)
                    .col(GuessingPairs::LastActiveAt)
                    .to_owned(),
            )
            .await?;
        manager
            .exec_stmt(
                Query::update()
                    .table(CredentialAttempts::Table)
                    .value(CredentialAttempts::ThrottledUntil, Expr::cust("NULL"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(GuessingPairs::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum GuessingPairs {
    Table,
    Subject,
    Kind,
    Source,
    Failures,
    ThrottledUntil,
    LastSuccessAt,
    LastActiveAt,
    Version,
}

#[derive(DeriveIden)]
enum CredentialAttempts {
    Table,
    ThrottledUntil,
}
