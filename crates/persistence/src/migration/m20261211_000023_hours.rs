//! Opening hours and sections (docs/premises.md, "Opening hours and sections"), and notices
//! in two languages.
//!
//! - `library_premises`: at most one row per library; no row means no regular week (open
//!   all day on open days) and neither door service. `regular_hours` is the week in the
//!   domain's stored form (`WeekHours::to_text`: seven days Monday first, `|`-separated,
//!   each `HH:MM-HH:MM` periods `,`-separated), `NULL` = none configured.
//! - `library_special_hours`: one row per declaration, `id` giving the order (a later one
//!   wins on overlap); `pattern` is `SpecialPattern::to_text` (`closed`, `daily:…`,
//!   `weekly:…`).
//! - `library_sections`: one row per (library, section); `hours` its own week or `NULL`.
//! - `notices` gains `title_zh` and `body_zh` (Traditional Chinese, optional).
//!
//! The texts are read back through the domain's parser, never interpreted in SQL.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

fn library_fk(
    name: &str,
    table: impl IntoIden,
    column: impl IntoIden,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(table, column)
        .to(Libraries::Table, Libraries::Code)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(LibraryPremises::Table)
                    .col(string_len(LibraryPremises::LibraryCode, 32).primary_key())
                    .col(text_null(LibraryPremises::RegularHours))
                    .col(boolean(LibraryPremises::BookDrop).default(false))
                    .col(boolean(LibraryPremises::SelfServiceStation).default(false))
                    .foreign_key(&mut library_fk(
                        "fk_library_premises_library",
                        LibraryPremises::Table,
                        LibraryPremises::LibraryCode,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(LibrarySpecialHours::Table)
                    .col(big_pk_auto(LibrarySpecialHours::Id))
                    .col(string_len(LibrarySpecialHours::LibraryCode, 32))
                    .col(date(LibrarySpecialHours::StartsOn))
                    .col(date(LibrarySpecialHours::EndsOn))
                    .col(text(LibrarySpecialHours::Pattern))
                    .col(text(LibrarySpecialHours::Reason))
                    .col(timestamp_with_time_zone(LibrarySpecialHours::CreatedAt))
                    .foreign_key(&mut library_fk(
                        "fk_library_special_hours_library",
                        LibrarySpecialHours::Table,
                        LibrarySpecialHours::LibraryCode,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE INDEX IF NOT EXISTS idx_library_special_hours_library \
                 ON library_special_hours (library_code)",
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(LibrarySections::Table)
                    .col(string_len(LibrarySections::LibraryCode, 32))
                    .col(string_len(LibrarySections::Section, 32))
                    .col(string_len(LibrarySections::Status, 8))
                    .col(date(LibrarySections::FromDate))
                    .col(date_null(LibrarySections::UntilDate))
                    .col(text_null(LibrarySections::Hours))
                    .primary_key(
                        Index::create()
                            .col(LibrarySections::LibraryCode)
                            .col(LibrarySections::Section),
                    )
                    .check(Expr::col(LibrarySections::Status).is_in(["open", "closed"]))
                    .foreign_key(&mut library_fk(
                        "fk_library_sections_library",
                        LibrarySections::Table,
                        LibrarySections::LibraryCode,
                    ))
                    .to_owned(),
            )
            .await?;
        for column in [Notices::TitleZh, Notices::BodyZh] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Notices::Table)
                        .add_column(text_null(column))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [Notices::TitleZh, Notices::BodyZh] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Notices::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        for table in [
            LibrarySections::Table.into_iden(),
            LibrarySpecialHours::Table.into_iden(),
            LibraryPremises::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Libraries {
    Table,
    Code,
}

#[derive(DeriveIden)]
enum LibraryPremises {
    Table,
    LibraryCode,
    RegularHours,
    BookDrop,
    SelfServiceStation,
}

#[derive(DeriveIden)]
enum LibrarySpecialHours {
    Table,
    Id,
    LibraryCode,
    StartsOn,
    EndsOn,
    Pattern,
    Reason,
    CreatedAt,
}

#[derive(DeriveIden)]
enum LibrarySections {
    Table,
    LibraryCode,
    Section,
    Status,
    FromDate,
    UntilDate,
    Hours,
}

#[derive(DeriveIden, Clone, Copy)]
enum Notices {
    Table,
    TitleZh,
    BodyZh,
}
