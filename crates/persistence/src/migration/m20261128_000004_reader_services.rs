//! Reader services: extension activities and their registrations, library notices, reader
//! settings and enquiries (Ask a Librarian).
//!
//! - `activity_registrations` holds one row per (activity, reader): cancelling sets
//!   `cancelled_at`, registering again clears it. The places taken are the rows without
//!   `cancelled_at`, counted under the activity's row lock (see `activity_store.rs`), so
//!   capacity holds under concurrency without a counter column that could drift.
//! - `reader_settings` has at most one row per reader; no row means the defaults. The
//!   reader's email stays in `patrons.email`, the one column registration, `GET /me` and
//!   "forgot Password" use.
//! - A notice with no `library_code` is for every library.
//!
//! Instants `timestamptz` (fixed-width UTC text on SQLite, see `instant.rs`), dates `date`,
//! integers `BIGINT`.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

const INDEXES: &[&str] = &[
    "CREATE INDEX IF NOT EXISTS idx_activities_starts_at ON activities (starts_at)",
    "CREATE INDEX IF NOT EXISTS idx_activity_registrations_patron \
     ON activity_registrations (patron_id)",
    "CREATE INDEX IF NOT EXISTS idx_notices_published_on ON notices (published_on)",
    "CREATE INDEX IF NOT EXISTS idx_enquiries_patron ON enquiries (patron_id)",
    "CREATE INDEX IF NOT EXISTS idx_enquiries_open ON enquiries (id) WHERE answered_at IS NULL",
];

fn fk(
    name: &str,
    from: (impl IntoIden, impl IntoIden),
    to: (impl IntoIden, impl IntoIden),
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(from.0, from.1)
        .to(to.0, to.1)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Activities::Table)
                    .col(big_pk_auto(Activities::Id))
                    .col(string_len(Activities::LibraryCode, 32))
                    .col(text(Activities::Title))
                    .col(string_len(Activities::ActivityType, 32))
                    .col(text(Activities::Venue))
                    .col(text(Activities::Description).default(""))
                    .col(timestamp_with_time_zone(Activities::StartsAt))
                    .col(timestamp_with_time_zone(Activities::EndsAt))
                    .col(big_integer(Activities::Capacity))
                    .col(timestamp_with_time_zone(Activities::RegistrationClosesAt))
                    .col(timestamp_with_time_zone(Activities::CreatedAt))
                    .col(timestamp_with_time_zone_null(Activities::CancelledAt))
                    .check(Expr::col(Activities::Capacity).gt(0))
                    .foreign_key(&mut fk(
                        "fk_activities_library",
                        (Activities::Table, Activities::LibraryCode),
                        (Libraries::Table, Libraries::Code),
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ActivityRegistrations::Table)
                    .col(big_pk_auto(ActivityRegistrations::Id))
                    .col(big_integer(ActivityRegistrations::ActivityId))
                    .col(big_integer(ActivityRegistrations::PatronId))
                    .col(timestamp_with_time_zone(
                        ActivityRegistrations::RegisteredAt,
                    ))
                    .col(timestamp_with_time_zone_null(
                        ActivityRegistrations::CancelledAt,
                    ))
                    .index(
                        Index::create()
                            .name("uq_activity_registrations_reader")
                            .unique()
                            .col(ActivityRegistrations::ActivityId)
                            .col(ActivityRegistrations::PatronId),
                    )
                    .foreign_key(
                        &mut fk(
                            "fk_activity_registrations_activity",
                            (
                                ActivityRegistrations::Table,
                                ActivityRegistrations::ActivityId,
                            ),
                            (Activities::Table, Activities::Id),
                        )
                        .on_delete(ForeignKeyAction::Cascade)
                        .to_owned(),
                    )
                    .foreign_key(
                        &mut fk(
                            "fk_activity_registrations_patron",
                            (
                                ActivityRegistrations::Table,
                                ActivityRegistrations::PatronId,
                            ),
                            (Patrons::Table, Patrons::Id),
                        )
                        .on_delete(ForeignKeyAction::Cascade)
                        .to_owned(),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Notices::Table)
                    .col(big_pk_auto(Notices::Id))
                    .col(string_len_null(Notices::LibraryCode, 32))
                    .col(text(Notices::Title))
                    .col(text(Notices::Body))
                    .col(date(Notices::PublishedOn))
                    .col(date_null(Notices::ExpiresOn))
                    .col(timestamp_with_time_zone(Notices::CreatedAt))
                    .col(timestamp_with_time_zone_null(Notices::WithdrawnAt))
                    .foreign_key(&mut fk(
                        "fk_notices_library",
                        (Notices::Table, Notices::LibraryCode),
                        (Libraries::Table, Libraries::Code),
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ReaderSettings::Table)
                    .col(big_integer(ReaderSettings::PatronId).primary_key())
                    .col(boolean(ReaderSettings::NotifyEmail))
                    .col(boolean(ReaderSettings::NotifySms))
                    .col(string_len_null(ReaderSettings::SmsNumber, 32))
                    .col(string_len(ReaderSettings::Language, 16))
                    .col(boolean(ReaderSettings::KeepReadingHistory))
                    .col(timestamp_with_time_zone_null(
                        ReaderSettings::ReadingHistorySince,
                    ))
                    .col(timestamp_with_time_zone(ReaderSettings::UpdatedAt))
                    .check(Expr::col(ReaderSettings::Language).is_in(["en", "zh_hant"]))
                    .foreign_key(
                        &mut fk(
                            "fk_reader_settings_patron",
                            (ReaderSettings::Table, ReaderSettings::PatronId),
                            (Patrons::Table, Patrons::Id),
                        )
                        .on_delete(ForeignKeyAction::Cascade)
                        .to_owned(),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Enquiries::Table)
                    .col(big_pk_auto(Enquiries::Id))
                    .col(big_integer(Enquiries::PatronId))
                    .col(string_len_null(Enquiries::LibraryCode, 32))
                    .col(text(Enquiries::Subject))
                    .col(text(Enquiries::Message))
                    .col(timestamp_with_time_zone(Enquiries::CreatedAt))
                    .col(text_null(Enquiries::Answer))
                    .col(timestamp_with_time_zone_null(Enquiries::AnsweredAt))
                    .col(big_integer_null(Enquiries::AnsweredBy))
                    .foreign_key(
                        &mut fk(
                            "fk_enquiries_patron",
                            (Enquiries::Table, Enquiries::PatronId),
                            (Patrons::Table, Patrons::Id),
                        )
                        .on_delete(ForeignKeyAction::Cascade)
                        .to_owned(),
                    )
                    .foreign_key(&mut fk(
                        "fk_enquiries_library",
                        (Enquiries::Table, Enquiries::LibraryCode),
                        (Libraries::Table, Libraries::Code),
                    ))
                    .foreign_key(
                        &mut fk(
                            "fk_enquiries_staff",
                            (Enquiries::Table, Enquiries::AnsweredBy),
                            (StaffUsers::Table, StaffUsers::Id),
                        )
                        .on_delete(ForeignKeyAction::SetNull)
                        .to_owned(),
                    )
                    .to_owned(),
            )
            .await?;

        let conn = manager.get_connection();
        for sql in INDEXES {
            conn.execute_unprepared(sql).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Enquiries::Table.into_iden(),
            ReaderSettings::Table.into_iden(),
            Notices::Table.into_iden(),
            ActivityRegistrations::Table.into_iden(),
            Activities::Table.into_iden(),
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
}

#[derive(DeriveIden)]
enum StaffUsers {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Libraries {
    Table,
    Code,
}

#[derive(DeriveIden)]
enum Activities {
    Table,
    Id,
    LibraryCode,
    Title,
    ActivityType,
    Venue,
    Description,
    StartsAt,
    EndsAt,
    Capacity,
    RegistrationClosesAt,
    CreatedAt,
    CancelledAt,
}

#[derive(DeriveIden)]
enum ActivityRegistrations {
    Table,
    Id,
    ActivityId,
    PatronId,
    RegisteredAt,
    CancelledAt,
}

#[derive(DeriveIden)]
enum Notices {
    Table,
    Id,
    LibraryCode,
    Title,
    Body,
    PublishedOn,
    ExpiresOn,
    CreatedAt,
    WithdrawnAt,
}

#[derive(DeriveIden)]
enum ReaderSettings {
    Table,
    PatronId,
    NotifyEmail,
    NotifySms,
    SmsNumber,
    Language,
    KeepReadingHistory,
    ReadingHistorySince,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Enquiries {
    Table,
    Id,
    PatronId,
    LibraryCode,
    Subject,
    Message,
    CreatedAt,
    Answer,
    AnsweredAt,
    AnsweredBy,
}
