//! Circulation: libraries and their calendars, titles and items, circulation rules, loans,
//! holds, the fine ledger, fine-suspension periods, reader suspensions, the audit log and
//! the notification outbox.
//!
//! Constraints are the last line of defence behind the adapter's row locks:
//! - at most one open loan per item (partial unique index on `loans(item_id)`);
//! - at most one active (queued or waiting) hold per (reader, title);
//! - unique barcodes (and card numbers, from the first migration);
//! - queue order by `holds.queue_seq`, unique per title, assigned at insertion and never
//!   rewritten: a queued hold's position is its rank among the title's queued holds, so
//!   positions are 1..n by construction and renumbering writes nothing that could collide.
//!
//! Money is `BIGINT` minor units; instants `timestamptz` (fixed-width UTC text on SQLite,
//! see `instant.rs`); dates `date`. Integers are `BIGINT` everywhere so both backends
//! decode them as `i64`.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

/// Partial and expression indexes: the same SQL on both backends.
const INDEXES: &[&str] = &[
    "CREATE UNIQUE INDEX IF NOT EXISTS uq_loans_open_item ON loans (item_id) \
     WHERE returned_at IS NULL",
    "CREATE INDEX IF NOT EXISTS idx_loans_open_patron ON loans (patron_id) \
     WHERE returned_at IS NULL",
    "CREATE UNIQUE INDEX IF NOT EXISTS uq_holds_active_patron_title ON holds \
     (patron_id, title_id) WHERE status IN ('queued', 'waiting')",
    "CREATE UNIQUE INDEX IF NOT EXISTS uq_holds_title_queue_seq ON holds (title_id, queue_seq)",
    "CREATE INDEX IF NOT EXISTS idx_holds_active_patron ON holds (patron_id) \
     WHERE status IN ('queued', 'waiting')",
    "CREATE INDEX IF NOT EXISTS idx_holds_waiting_item ON holds (item_id) \
     WHERE status = 'waiting'",
    "CREATE INDEX IF NOT EXISTS idx_items_title ON items (title_id)",
    "CREATE INDEX IF NOT EXISTS idx_charges_patron ON charges (patron_id)",
    "CREATE INDEX IF NOT EXISTS idx_payments_patron ON payments (patron_id)",
    "CREATE INDEX IF NOT EXISTS idx_calendar_entries_library ON calendar_entries (library_code)",
    "CREATE INDEX IF NOT EXISTS idx_outbox_unsent ON outbox (id) WHERE sent_at IS NULL",
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
        // Reader suspension ("fine days"): the first date the reader may borrow again.
        manager
            .alter_table(
                Table::alter()
                    .table(Patrons::Table)
                    .add_column(date_null(Patrons::SuspendedUntil))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Libraries::Table)
                    .col(string_len(Libraries::Code, 32).primary_key())
                    .col(string(Libraries::Name))
                    .col(string(Libraries::NameZh))
                    .col(string_len(Libraries::Kind, 16))
                    .col(big_integer(Libraries::UtcOffsetSeconds).default(28_800))
                    .check(
                        Expr::col(Libraries::Kind)
                            .is_in(["central", "major", "district", "small", "mobile"]),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(CalendarEntries::Table)
                    .col(big_pk_auto(CalendarEntries::Id))
                    .col(string_len(CalendarEntries::LibraryCode, 32))
                    .col(string_len(CalendarEntries::Kind, 16))
                    .col(big_integer_null(CalendarEntries::Weekday))
                    .col(big_integer_null(CalendarEntries::Month))
                    .col(big_integer_null(CalendarEntries::Day))
                    .col(date_null(CalendarEntries::FromOn))
                    .col(date_null(CalendarEntries::ToOn))
                    .col(string(CalendarEntries::Description).default(""))
                    .check(
                        Expr::col(CalendarEntries::Kind)
                            .is_in(["weekday", "yearly", "closure", "reopen"]),
                    )
                    .foreign_key(
                        &mut fk(
                            "fk_calendar_entries_library",
                            (CalendarEntries::Table, CalendarEntries::LibraryCode),
                            (Libraries::Table, Libraries::Code),
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
                    .table(Titles::Table)
                    .col(big_pk_auto(Titles::Id))
                    .col(text(Titles::Name))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Items::Table)
                    .col(big_pk_auto(Items::Id))
                    .col(string_len_uniq(Items::Barcode, 32))
                    .col(big_integer(Items::TitleId))
                    .col(string_len(Items::ItemType, 32))
                    .col(string_len(Items::HomeLibrary, 32))
                    .col(string_len(Items::Status, 16))
                    .check(Expr::col(Items::Status).is_in([
                        "available",
                        "on_loan",
                        "on_hold_shelf",
                        "in_transit",
                        "lost",
                        "not_for_loan",
                    ]))
                    .foreign_key(&mut fk(
                        "fk_items_title",
                        (Items::Table, Items::TitleId),
                        (Titles::Table, Titles::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_items_library",
                        (Items::Table, Items::HomeLibrary),
                        (Libraries::Table, Libraries::Code),
                    ))
                    .to_owned(),
            )
            .await?;

        // One row per (scope, rule name); "" in a scope column means "any".
        manager
            .create_table(
                Table::create()
                    .table(CirculationRules::Table)
                    .col(string_len(CirculationRules::Library, 32).default(""))
                    .col(string_len(CirculationRules::Category, 32).default(""))
                    .col(string_len(CirculationRules::ItemType, 32).default(""))
                    .col(string_len(CirculationRules::Name, 32))
                    .col(string_len(CirculationRules::Value, 32))
                    .primary_key(
                        Index::create()
                            .col(CirculationRules::Library)
                            .col(CirculationRules::Category)
                            .col(CirculationRules::ItemType)
                            .col(CirculationRules::Name),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Loans::Table)
                    .col(big_pk_auto(Loans::Id))
                    .col(big_integer(Loans::PatronId))
                    .col(big_integer(Loans::ItemId))
                    .col(string_len(Loans::LibraryCode, 32))
                    .col(timestamp_with_time_zone(Loans::BorrowedAt))
                    .col(date(Loans::DueOn))
                    .col(timestamp_with_time_zone(Loans::DueAt))
                    .col(big_integer(Loans::Renewals).default(0))
                    .col(timestamp_with_time_zone_null(Loans::ReturnedAt))
                    .col(string_len_null(Loans::ReturnedTo, 32))
                    .check(Expr::col(Loans::Renewals).gte(0))
                    .foreign_key(&mut fk(
                        "fk_loans_patron",
                        (Loans::Table, Loans::PatronId),
                        (Patrons::Table, Patrons::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_loans_item",
                        (Loans::Table, Loans::ItemId),
                        (Items::Table, Items::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_loans_library",
                        (Loans::Table, Loans::LibraryCode),
                        (Libraries::Table, Libraries::Code),
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Holds::Table)
                    .col(big_pk_auto(Holds::Id))
                    .col(big_integer(Holds::PatronId))
                    .col(big_integer(Holds::TitleId))
                    .col(string_len(Holds::PickupLibrary, 32))
                    .col(timestamp_with_time_zone(Holds::PlacedAt))
                    .col(big_integer(Holds::QueueSeq))
                    .col(string_len(Holds::Status, 16))
                    .col(big_integer_null(Holds::ItemId))
                    .col(date_null(Holds::TrappedOn))
                    .col(date_null(Holds::PickupBy))
                    .col(timestamp_with_time_zone_null(Holds::EndedAt))
                    .check(Expr::col(Holds::Status).is_in([
                        "queued",
                        "waiting",
                        "collected",
                        "expired",
                        "cancelled",
                    ]))
                    .foreign_key(&mut fk(
                        "fk_holds_patron",
                        (Holds::Table, Holds::PatronId),
                        (Patrons::Table, Patrons::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_holds_title",
                        (Holds::Table, Holds::TitleId),
                        (Titles::Table, Titles::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_holds_item",
                        (Holds::Table, Holds::ItemId),
                        (Items::Table, Items::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_holds_library",
                        (Holds::Table, Holds::PickupLibrary),
                        (Libraries::Table, Libraries::Code),
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Charges::Table)
                    .col(big_pk_auto(Charges::Id))
                    .col(big_integer(Charges::PatronId))
                    .col(string_len(Charges::Kind, 16))
                    .col(big_integer_null(Charges::LoanId))
                    .col(big_integer_null(Charges::ChargeableDays))
                    .col(big_integer_null(Charges::HoldId))
                    .col(text_null(Charges::Description))
                    .col(big_integer(Charges::Amount))
                    .col(date(Charges::ChargedOn))
                    .col(big_integer(Charges::Paid).default(0))
                    .col(big_integer_null(Charges::WaivedAmount))
                    .col(text_null(Charges::WaiverReason))
                    .col(date_null(Charges::WaivedOn))
                    .check(Expr::col(Charges::Amount).gt(0))
                    .check(Expr::col(Charges::Paid).gte(0))
                    .check(Expr::col(Charges::Kind).is_in(["overdue_fine", "hold_fee", "other"]))
                    .foreign_key(&mut fk(
                        "fk_charges_patron",
                        (Charges::Table, Charges::PatronId),
                        (Patrons::Table, Patrons::Id),
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Payments::Table)
                    .col(big_pk_auto(Payments::Id))
                    .col(big_integer(Payments::PatronId))
                    .col(big_integer(Payments::Amount))
                    .col(date(Payments::PaidOn))
                    .check(Expr::col(Payments::Amount).gt(0))
                    .foreign_key(&mut fk(
                        "fk_payments_patron",
                        (Payments::Table, Payments::PatronId),
                        (Patrons::Table, Patrons::Id),
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(PaymentAllocations::Table)
                    .col(big_integer(PaymentAllocations::PaymentId))
                    .col(big_integer(PaymentAllocations::ChargeId))
                    .col(big_integer(PaymentAllocations::Amount))
                    .primary_key(
                        Index::create()
                            .col(PaymentAllocations::PaymentId)
                            .col(PaymentAllocations::ChargeId),
                    )
                    .check(Expr::col(PaymentAllocations::Amount).gt(0))
                    .foreign_key(
                        &mut fk(
                            "fk_allocations_payment",
                            (PaymentAllocations::Table, PaymentAllocations::PaymentId),
                            (Payments::Table, Payments::Id),
                        )
                        .on_delete(ForeignKeyAction::Cascade)
                        .to_owned(),
                    )
                    .foreign_key(&mut fk(
                        "fk_allocations_charge",
                        (PaymentAllocations::Table, PaymentAllocations::ChargeId),
                        (Charges::Table, Charges::Id),
                    ))
                    .to_owned(),
            )
            .await?;

        // Scope sets as space-separated codes and kinds (codes are `[A-Za-z0-9_]`).
        manager
            .create_table(
                Table::create()
                    .table(FineSuspensionPeriods::Table)
                    .col(big_pk_auto(FineSuspensionPeriods::Id))
                    .col(date(FineSuspensionPeriods::StartsOn))
                    .col(date_null(FineSuspensionPeriods::ResumesOn))
                    .col(text(FineSuspensionPeriods::LibraryCodes).default(""))
                    .col(text(FineSuspensionPeriods::LibraryKinds).default(""))
                    .col(text(FineSuspensionPeriods::Reason))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AuditLog::Table)
                    .col(big_pk_auto(AuditLog::Id))
                    .col(big_integer_null(AuditLog::StaffId))
                    .col(string_len(AuditLog::Action, 64))
                    .col(string(AuditLog::Subject))
                    .col(text(AuditLog::Details).default(""))
                    .col(timestamp_with_time_zone(AuditLog::At))
                    .foreign_key(&mut fk(
                        "fk_audit_staff",
                        (AuditLog::Table, AuditLog::StaffId),
                        (StaffUsers::Table, StaffUsers::Id),
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Outbox::Table)
                    .col(big_pk_auto(Outbox::Id))
                    .col(string_len(Outbox::Kind, 64))
                    .col(big_integer_null(Outbox::PatronId))
                    .col(text(Outbox::Payload))
                    .col(timestamp_with_time_zone(Outbox::CreatedAt))
                    .col(timestamp_with_time_zone_null(Outbox::SentAt))
                    .foreign_key(
                        &mut fk(
                            "fk_outbox_patron",
                            (Outbox::Table, Outbox::PatronId),
                            (Patrons::Table, Patrons::Id),
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
            Outbox::Table.into_iden(),
            AuditLog::Table.into_iden(),
            FineSuspensionPeriods::Table.into_iden(),
            PaymentAllocations::Table.into_iden(),
            Payments::Table.into_iden(),
            Charges::Table.into_iden(),
            Holds::Table.into_iden(),
            Loans::Table.into_iden(),
            CirculationRules::Table.into_iden(),
            Items::Table.into_iden(),
            Titles::Table.into_iden(),
            CalendarEntries::Table.into_iden(),
            Libraries::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Patrons::Table)
                    .drop_column(Patrons::SuspendedUntil)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Patrons {
    Table,
    Id,
    SuspendedUntil,
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
    Name,
    NameZh,
    Kind,
    UtcOffsetSeconds,
}

#[derive(DeriveIden)]
enum CalendarEntries {
    Table,
    Id,
    LibraryCode,
    Kind,
    Weekday,
    Month,
    Day,
    FromOn,
    ToOn,
    Description,
}

#[derive(DeriveIden)]
enum Titles {
    Table,
    Id,
    Name,
}

#[derive(DeriveIden)]
enum Items {
    Table,
    Id,
    Barcode,
    TitleId,
    ItemType,
    HomeLibrary,
    Status,
}

#[derive(DeriveIden)]
enum CirculationRules {
    Table,
    Library,
    Category,
    ItemType,
    Name,
    Value,
}

#[derive(DeriveIden)]
enum Loans {
    Table,
    Id,
    PatronId,
    ItemId,
    LibraryCode,
    BorrowedAt,
    DueOn,
    DueAt,
    Renewals,
    ReturnedAt,
    ReturnedTo,
}

#[derive(DeriveIden)]
enum Holds {
    Table,
    Id,
    PatronId,
    TitleId,
    PickupLibrary,
    PlacedAt,
    QueueSeq,
    Status,
    ItemId,
    TrappedOn,
    PickupBy,
    EndedAt,
}

#[derive(DeriveIden)]
enum Charges {
    Table,
    Id,
    PatronId,
    Kind,
    LoanId,
    ChargeableDays,
    HoldId,
    Description,
    Amount,
    ChargedOn,
    Paid,
    WaivedAmount,
    WaiverReason,
    WaivedOn,
}

#[derive(DeriveIden)]
enum Payments {
    Table,
    Id,
    PatronId,
    Amount,
    PaidOn,
}

#[derive(DeriveIden)]
enum PaymentAllocations {
    Table,
    PaymentId,
    ChargeId,
    Amount,
}

#[derive(DeriveIden)]
enum FineSuspensionPeriods {
    Table,
    Id,
    StartsOn,
    ResumesOn,
    LibraryCodes,
    LibraryKinds,
    Reason,
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    StaffId,
    Action,
    Subject,
    Details,
    At,
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    Id,
    Kind,
    PatronId,
    Payload,
    CreatedAt,
    SentAt,
}
