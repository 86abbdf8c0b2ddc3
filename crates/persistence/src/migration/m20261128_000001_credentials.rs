//! Readers, staff users, credentials, guessing counters and sessions.
//!
//! - `patrons` is shared with circulation (which adds its own tables later).
//! - `credential_attempts` is keyed by card number *text*, not by patron: unknown cards are
//!   counted too, so a lock never tells whether a card exists.
//! - Counter rows carry a `version`, counting their writes (the adapter's compare-and-set
//!   used it; its single-statement upserts still bump it).
//! - Instants are `timestamptz` (text on SQLite, see `instant.rs`); dates are `date`.

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
                    .table(Patrons::Table)
                    .col(big_pk_auto(Patrons::Id))
                    .col(string_len_uniq(Patrons::CardNumber, 20))
                    .col(string(Patrons::Name))
                    .col(string(Patrons::Phone))
                    .col(string_null(Patrons::Email))
                    .col(date_null(Patrons::DateOfBirth))
                    .col(string_len_null(Patrons::Category, 32))
                    .col(string_len_null(Patrons::HomeLibrary, 32))
                    .col(date_null(Patrons::CardExpiresOn))
                    .col(timestamp_with_time_zone(Patrons::CreatedAt))
                    .to_owned(),
            )
            .await?;
        // `find_by_email` compares case-insensitively; same SQL on both backends.
        manager
            .get_connection()
            .execute_unprepared("CREATE INDEX idx_patrons_email_lower ON patrons (lower(email))")
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(PatronCredentials::Table)
                    .col(big_integer(PatronCredentials::PatronId).primary_key())
                    .col(text_null(PatronCredentials::PasswordHash))
                    .col(boolean(PatronCredentials::PasswordIsDefault).default(true))
                    .col(text_null(PatronCredentials::PinHash))
                    .col(text_null(PatronCredentials::TemporaryPasswordHash))
                    .col(timestamp_with_time_zone_null(
                        PatronCredentials::TemporaryPasswordExpiresAt,
                    ))
                    .col(timestamp_with_time_zone_null(
                        PatronCredentials::TemporaryPasswordUsedAt,
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_patron_credentials_patron")
                            .from(PatronCredentials::Table, PatronCredentials::PatronId)
                            .to(Patrons::Table, Patrons::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(CredentialAttempts::Table)
                    .col(string_len(CredentialAttempts::Subject, 80))
                    .col(string_len(CredentialAttempts::Kind, 16))
                    .col(big_integer(CredentialAttempts::Failures).default(0))
                    .col(timestamp_with_time_zone_null(
                        CredentialAttempts::ThrottledUntil,
                    ))
                    .col(big_integer(CredentialAttempts::Version).default(0))
                    .primary_key(
                        Index::create()
                            .col(CredentialAttempts::Subject)
                            .col(CredentialAttempts::Kind),
                    )
                    .check(Expr::col(CredentialAttempts::Kind).is_in(["password", "pin"]))
                    .check(Expr::col(CredentialAttempts::Failures).gte(0))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AttemptSources::Table)
                    .col(string(AttemptSources::Source).primary_key())
                    .col(timestamp_with_time_zone(AttemptSources::WindowStartedAt))
                    .col(big_integer(AttemptSources::Failures).default(0))
                    .col(big_integer(AttemptSources::Version).default(0))
                    .check(Expr::col(AttemptSources::Failures).gte(0))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(StaffUsers::Table)
                    .col(big_pk_auto(StaffUsers::Id))
                    .col(string_len_uniq(StaffUsers::Username, 64))
                    .col(text(StaffUsers::PasswordHash))
                    .col(string_len(StaffUsers::Role, 32))
                    .col(timestamp_with_time_zone(StaffUsers::CreatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Sessions::Table)
                    .col(char_len(Sessions::TokenHash, 64).primary_key())
                    .col(big_integer_null(Sessions::PatronId))
                    .col(big_integer_null(Sessions::StaffId))
                    .col(string_len(Sessions::Scope, 32))
                    .col(timestamp_with_time_zone(Sessions::CreatedAt))
                    .col(timestamp_with_time_zone(Sessions::ExpiresAt))
                    .col(timestamp_with_time_zone_null(Sessions::RevokedAt))
                    // Exactly one subject: a reader or a staff user.
                    .check(
                        Expr::col(Sessions::PatronId)
                            .is_null()
                            .ne(Expr::col(Sessions::StaffId).is_null()),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_sessions_patron")
                            .from(Sessions::Table, Sessions::PatronId)
                            .to(Patrons::Table, Patrons::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_sessions_staff")
                            .from(Sessions::Table, Sessions::StaffId)
                            .to(StaffUsers::Table, StaffUsers::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_sessions_patron")
                    .table(Sessions::Table)
                    .col(Sessions::PatronId)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Sessions::Table.into_iden(),
            StaffUsers::Table.into_iden(),
            AttemptSources::Table.into_iden(),
            CredentialAttempts::Table.into_iden(),
            PatronCredentials::Table.into_iden(),
            Patrons::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Patrons {
    Table,
    Id,
    CardNumber,
    Name,
    Phone,
    Email,
    DateOfBirth,
    Category,
    HomeLibrary,
    CardExpiresOn,
    CreatedAt,
}

#[derive(DeriveIden)]
enum PatronCredentials {
    Table,
    PatronId,
    PasswordHash,
    PasswordIsDefault,
    PinHash,
    TemporaryPasswordHash,
    TemporaryPasswordExpiresAt,
    TemporaryPasswordUsedAt,
}

#[derive(DeriveIden)]
enum CredentialAttempts {
    Table,
    Subject,
    Kind,
    Failures,
    ThrottledUntil,
    Version,
}

#[derive(DeriveIden)]
enum AttemptSources {
    Table,
    Source,
    WindowStartedAt,
    Failures,
    Version,
}

#[derive(DeriveIden)]
enum StaffUsers {
    Table,
    Id,
    Username,
    PasswordHash,
    Role,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    TokenHash,
    PatronId,
    StaffId,
    Scope,
    CreatedAt,
    ExpiresAt,
    RevokedAt,
}
