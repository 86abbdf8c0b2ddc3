//! Capacity and visitor registration (docs/premises.md, Capacity and visitor
//! registration):
//!
//! - `door_counts`: per library and door (`section` `''` for the library's own door, else
//!   a section code), the capacity (null = unlimited) and the people inside. An admission
//!   locks its row, lets the domain decide, and writes the count with a conditional
//!   update, so parallel admissions never pass the capacity.
//! - `admission_events`: one row per admission, refusal or departure: counts only, never
//!   who.
//! - `visitor_registrations`: name, phone, the visit's instant (UTC), library, section,
//!   who recorded it (`staff:<id>` or `self`). Personal data: purged after the retention
//!   period, indexed by the visit's instant for the purge and the reads.
//! - `staff_permissions`: permissions granted to a staff user beyond the role
//!   (`contact_tracing`), with who granted them and when.

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
                    .table(DoorCounts::Table)
                    .if_not_exists()
                    .col(string_len(DoorCounts::LibraryCode, 32))
                    .col(string_len(DoorCounts::Section, 32).default(""))
                    .col(integer_null(DoorCounts::Capacity))
                    .col(integer(DoorCounts::Inside).default(0))
                    .primary_key(
                        Index::create()
                            .col(DoorCounts::LibraryCode)
                            .col(DoorCounts::Section),
                    )
                    .check(Expr::col(DoorCounts::Inside).gte(0))
                    .check(
                        Expr::col(DoorCounts::Capacity)
                            .is_null()
                            .or(Expr::col(DoorCounts::Capacity).gte(0)),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_door_counts_library")
                            .from(DoorCounts::Table, DoorCounts::LibraryCode)
                            .to(Libraries::Table, Libraries::Code)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AdmissionEvents::Table)
                    .if_not_exists()
                    .col(big_pk_auto(AdmissionEvents::Id))
                    .col(string_len(AdmissionEvents::LibraryCode, 32))
                    .col(string_len(AdmissionEvents::Section, 32).default(""))
                    .col(string_len(AdmissionEvents::Kind, 16))
                    .col(timestamp_with_time_zone(AdmissionEvents::At))
                    .check(Expr::col(AdmissionEvents::Kind).is_in(["admitted", "refused", "left"]))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_admission_events_library")
                            .from(AdmissionEvents::Table, AdmissionEvents::LibraryCode)
                            .to(Libraries::Table, Libraries::Code)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(VisitorRegistrations::Table)
                    .if_not_exists()
                    .col(big_pk_auto(VisitorRegistrations::Id))
                    .col(string_len(VisitorRegistrations::LibraryCode, 32))
                    .col(string_len_null(VisitorRegistrations::Section, 32))
                    .col(string_len(VisitorRegistrations::Name, 400))
                    .col(string_len(VisitorRegistrations::Phone, 16))
                    .col(timestamp_with_time_zone(VisitorRegistrations::VisitedAt))
                    .col(timestamp_with_time_zone(VisitorRegistrations::RecordedAt))
                    .col(string_len(VisitorRegistrations::RecordedBy, 32))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_visitor_registrations_library")
                            .from(
                                VisitorRegistrations::Table,
                                VisitorRegistrations::LibraryCode,
                            )
                            .to(Libraries::Table, Libraries::Code)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_visitor_registrations_visited_at")
                    .if_not_exists()
                    .table(VisitorRegistrations::Table)
                    .col(VisitorRegistrations::VisitedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(StaffPermissions::Table)
                    .if_not_exists()
                    .col(big_integer(StaffPermissions::StaffId))
                    .col(string_len(StaffPermissions::Permission, 32))
                    .col(timestamp_with_time_zone(StaffPermissions::GrantedAt))
                    .col(big_integer_null(StaffPermissions::GrantedBy))
                    .primary_key(
                        Index::create()
                            .col(StaffPermissions::StaffId)
                            .col(StaffPermissions::Permission),
                    )
                    .check(Expr::col(StaffPermissions::Permission).is_in(["contact_tracing"]))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_staff_permissions_staff")
                            .from(StaffPermissions::Table, StaffPermissions::StaffId)
                            .to(StaffUsers::Table, StaffUsers::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            StaffPermissions::Table.into_iden(),
            VisitorRegistrations::Table.into_iden(),
            AdmissionEvents::Table.into_iden(),
            DoorCounts::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum DoorCounts {
    Table,
    LibraryCode,
    Section,
    Capacity,
    Inside,
}

#[derive(DeriveIden)]
enum AdmissionEvents {
    Table,
    Id,
    LibraryCode,
    Section,
    Kind,
    At,
}

#[derive(DeriveIden)]
enum VisitorRegistrations {
    Table,
    Id,
    LibraryCode,
    Section,
    Name,
    Phone,
    VisitedAt,
    RecordedAt,
    RecordedBy,
}

#[derive(DeriveIden)]
enum StaffPermissions {
    Table,
    StaffId,
    Permission,
    GrantedAt,
    GrantedBy,
}

#[derive(DeriveIden)]
enum Libraries {
    Table,
    Code,
}

#[derive(DeriveIden)]
enum StaffUsers {
    Table,
    Id,
}
