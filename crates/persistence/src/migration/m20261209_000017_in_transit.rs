//! Where a copy is, and where it travels (docs/circulation.md, Transit).
//!
//! - `items.current_library`: the library the copy is at, or was last scanned in at
//!   (while in transit, the library it left). `NULL` means its home library, so rows
//!   written before this migration, and new copies, need no value; reads use
//!   `COALESCE(current_library, home_library)`.
//! - `items.transit_to`: while the copy is `in_transit`, its destination.
//! - A queued hold with a copy travelling for it keeps that copy in `holds.item_id` (the
//!   column a waiting hold already uses for its trapped copy).
//!
//! A copy already on a hold shelf is recorded at its waiting hold's pickup library, where
//! checkins before this migration put it.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one at a time.
        for column in [Items::CurrentLibrary, Items::TransitTo] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Items::Table)
                        .add_column(string_len_null(column, 32))
                        .to_owned(),
                )
                .await?;
        }
        let conn = manager.get_connection();
        conn.execute_unprepared(
            "UPDATE items SET current_library = (SELECT h.pickup_library FROM holds h \
             WHERE h.item_id = items.id AND h.status = 'waiting') \
             WHERE status = 'on_hold_shelf' AND current_library IS NULL",
        )
        .await?;
        // What arrives at a library: copies in transit by destination.
        conn.execute_unprepared(
            "CREATE INDEX IF NOT EXISTS idx_items_transit_to ON items (transit_to) \
             WHERE transit_to IS NOT NULL",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP INDEX IF EXISTS idx_items_transit_to")
            .await?;
        for column in [Items::TransitTo, Items::CurrentLibrary] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Items::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Items {
    Table,
    CurrentLibrary,
    TransitTo,
}
