//! Students' Study Room admission cards (docs/premises.md, Study-room admission cards).
//!
//! - `study_room_schemes`: one row per scheme; `library_code` null = the study rooms of
//!   every library; `extended_hours` is the intervals as `HH:MM-HH:MM`, comma-separated
//!   (empty: none announced).
//! - `study_room_applications`: one row per (scheme, reader), enforced by a unique index,
//!   the last line of defence against a double application (the store checks first, under
//!   the scheme's row lock). `decision` is `pending`, `approved`, `not_selected` or
//!   `rejected`; a revocation sets `revoked_at` and keeps the decision; `reason` is what
//!   the reader is told (a rejection's or a revocation's).
//! - `study_room_ballots`: at most one per scheme (its primary key), with the seed as
//!   decimal text (a `u64` does not fit PostgreSQL's signed `BIGINT`) and the winners'
//!   application ids in the order drawn, comma-separated.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

const INDEXES: &[&str] = &[
    "CREATE INDEX IF NOT EXISTS idx_study_room_applications_patron \
     ON study_room_applications (patron_id)",
    "CREATE INDEX IF NOT EXISTS idx_study_room_schemes_valid_to \
     ON study_room_schemes (valid_to)",
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
                    .table(Schemes::Table)
                    .col(big_pk_auto(Schemes::Id))
                    .col(text(Schemes::Name))
                    .col(text(Schemes::NameZh))
                    .col(string_len_null(Schemes::LibraryCode, 32))
                    .col(date(Schemes::OpensOn))
                    .col(date(Schemes::ClosesOn))
                    .col(date(Schemes::ValidFrom))
                    .col(date(Schemes::ValidTo))
                    .col(date_null(Schemes::ExtendedFrom))
                    .col(date_null(Schemes::ExtendedTo))
                    .col(text(Schemes::ExtendedHours).default(""))
                    .col(big_integer(Schemes::Places))
                    .col(big_integer(Schemes::PriorityPercent))
                    .col(timestamp_with_time_zone(Schemes::CreatedAt))
                    .check(Expr::col(Schemes::Places).gt(0))
                    .check(Expr::col(Schemes::PriorityPercent).between(0, 100))
                    .foreign_key(&mut fk(
                        "fk_study_room_schemes_library",
                        (Schemes::Table, Schemes::LibraryCode),
                        (Libraries::Table, Libraries::Code),
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Applications::Table)
                    .col(big_pk_auto(Applications::Id))
                    .col(big_integer(Applications::SchemeId))
                    .col(big_integer(Applications::PatronId))
                    .col(string_len(Applications::Channel, 8))
                    .col(date(Applications::CountedOn))
                    .col(boolean(Applications::ExamCandidate))
                    .col(text(Applications::Exam).default(""))
                    .col(timestamp_with_time_zone(Applications::SubmittedAt))
                    .col(string_len(Applications::Decision, 16).default("pending"))
                    .col(text_null(Applications::Reason))
                    .col(timestamp_with_time_zone_null(Applications::DecidedAt))
                    .col(timestamp_with_time_zone_null(Applications::RevokedAt))
                    .check(Expr::col(Applications::Channel).is_in(["web", "post"]))
                    .check(Expr::col(Applications::Decision).is_in([
                        "pending",
                        "approved",
                        "not_selected",
                        "rejected",
                    ]))
                    .index(
                        Index::create()
                            .name("uq_study_room_applications_reader")
                            .unique()
                            .col(Applications::SchemeId)
                            .col(Applications::PatronId),
                    )
                    .foreign_key(
                        &mut fk(
                            "fk_study_room_applications_scheme",
                            (Applications::Table, Applications::SchemeId),
                            (Schemes::Table, Schemes::Id),
                        )
                        .on_delete(ForeignKeyAction::Cascade)
                        .to_owned(),
                    )
                    .foreign_key(
                        &mut fk(
                            "fk_study_room_applications_patron",
                            (Applications::Table, Applications::PatronId),
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
                    .table(Ballots::Table)
                    .col(big_integer(Ballots::SchemeId).primary_key())
                    .col(string_len(Ballots::Seed, 20))
                    .col(timestamp_with_time_zone(Ballots::RunAt))
                    .col(big_integer_null(Ballots::RunBy))
                    .col(text(Ballots::Entrants))
                    .col(big_integer(Ballots::PriorityPlaces))
                    .col(text(Ballots::Winners))
                    .foreign_key(
                        &mut fk(
                            "fk_study_room_ballots_scheme",
                            (Ballots::Table, Ballots::SchemeId),
                            (Schemes::Table, Schemes::Id),
                        )
                        .on_delete(ForeignKeyAction::Cascade)
                        .to_owned(),
                    )
                    .foreign_key(
                        &mut fk(
                            "fk_study_room_ballots_staff",
                            (Ballots::Table, Ballots::RunBy),
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
            Ballots::Table.into_iden(),
            Applications::Table.into_iden(),
            Schemes::Table.into_iden(),
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
enum Schemes {
    #[sea_orm(iden = "study_room_schemes")]
    Table,
    Id,
    Name,
    NameZh,
    LibraryCode,
    OpensOn,
    ClosesOn,
    ValidFrom,
    ValidTo,
    ExtendedFrom,
    ExtendedTo,
    ExtendedHours,
    Places,
    PriorityPercent,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Applications {
    #[sea_orm(iden = "study_room_applications")]
    Table,
    Id,
    SchemeId,
    PatronId,
    Channel,
    CountedOn,
    ExamCandidate,
    Exam,
    SubmittedAt,
    Decision,
    Reason,
    DecidedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum Ballots {
    #[sea_orm(iden = "study_room_ballots")]
    Table,
    SchemeId,
    Seed,
    RunAt,
    RunBy,
    Entrants,
    PriorityPlaces,
    Winners,
}
