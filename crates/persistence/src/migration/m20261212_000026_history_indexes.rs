//! Indexes that keep two reads independent of the circulation history's length
//! (docs/persistence.md, Growth).
//!
//! - `holds (title_id, queue_seq) WHERE status IN ('queued', 'waiting')`: a title's active
//!   holds in queue order, which every checkout, checkin and hold decision reads. The
//!   unique index on `(title_id, queue_seq)` also finds them, but walks every hold the title
//!   ever had (collected, expired, cancelled) and filters them out, so the read grew with
//!   the title's past holds; this one holds the active ones only.
//! - `loans (item_id) WHERE lost_at IS NOT NULL OR claimed_returned_at IS NOT NULL`: the
//!   loan that made a copy lost or claimed returned, read when the copy is found. Only the
//!   partial index of open loans covered `item_id`, so the read scanned every loan.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

const INDEXES: &[&str] = &[
    "CREATE INDEX IF NOT EXISTS idx_holds_active_title ON holds (title_id, queue_seq) \
     WHERE status IN ('queued', 'waiting')",
    "CREATE INDEX IF NOT EXISTS idx_loans_ended_item ON loans (item_id) \
     WHERE lost_at IS NOT NULL OR claimed_returned_at IS NOT NULL",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        for index in INDEXES {
            conn.execute_unprepared(index).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        conn.execute_unprepared("DROP INDEX IF EXISTS idx_loans_ended_item")
            .await?;
        conn.execute_unprepared("DROP INDEX IF EXISTS idx_holds_active_title")
            .await?;
        Ok(())
    }
}
