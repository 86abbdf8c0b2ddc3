//! Circulation statistics, and loans that outlive their link to the reader.
//!
//! - `circulation_statistics`: one row per checkout, checkin, renewal, hold placed and hold
//!   collected, written in the change's own transaction (`StatisticsJournal`): what it
//!   was (`kind`), the channel (`counter`, `station`, `online`, `pin`; null where it is not
//!   told apart), the library it counts for, that library's local date (`on_date`: the
//!   reports group by it, so no zone arithmetic in SQL), the instant, and the loan or hold.
//!   No reader: the counts stay exact when loans are anonymised. Indexed by (date,
//!   library) for the reports.
//! - `loans.patron_id` becomes nullable: an anonymised loan (a returned loan of a reader
//!   who does not keep a reading history) has no reader. PostgreSQL drops the `NOT NULL`;
//!   SQLite, which cannot alter a column, has its stored table definition edited in one
//!   transaction, the procedure SQLite documents for removing a `NOT NULL` constraint
//!   ("Making Other Kinds Of Table Schema Changes": `writable_schema`, then the schema
//!   version advanced); no row is rewritten and every index, trigger and foreign key
//!   stays as it was.
//! - Indexes for the anonymisation job: charges by loan (is a loan's charge settled?) and
//!   returned loans by reader.
//!
//! Idempotent: a start interrupted half-way migrates again.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend, Statement};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

const INDEXES: &[&str] = &[
    "CREATE INDEX IF NOT EXISTS idx_circulation_statistics_day \
     ON circulation_statistics (on_date, library_code)",
    "CREATE INDEX IF NOT EXISTS idx_charges_loan ON charges (loan_id)",
    "CREATE INDEX IF NOT EXISTS idx_loans_returned_patron ON loans (patron_id) \
     WHERE returned_at IS NOT NULL",
];

/// The column as the first circulation migration created it on SQLite, and as it becomes.
const SQLITE_NOT_NULL: &str = "\"patron_id\" integer NOT NULL";
const SQLITE_NULLABLE: &str = "\"patron_id\" integer NULL";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// One transaction on both backends: SQLite's schema edit must not be seen half done.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CirculationStatistics::Table)
                    .if_not_exists()
                    .col(big_pk_auto(CirculationStatistics::Id))
                    .col(string_len(CirculationStatistics::Kind, 16))
                    .col(string_len_null(CirculationStatistics::Channel, 16))
                    .col(string_len(CirculationStatistics::LibraryCode, 32))
                    .col(date(CirculationStatistics::OnDate))
                    .col(timestamp_with_time_zone(CirculationStatistics::At))
                    .col(big_integer_null(CirculationStatistics::LoanId))
                    .col(big_integer_null(CirculationStatistics::HoldId))
                    .check(Expr::col(CirculationStatistics::Kind).is_in([
                        "checkout",
                        "checkin",
                        "renewal",
                        "hold_placed",
                        "hold_collected",
                    ]))
                    .check(
                        Expr::col(CirculationStatistics::Channel)
                            .is_null()
                            .or(Expr::col(CirculationStatistics::Channel)
                                .is_in(["counter", "station", "online", "pin"])),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_circulation_statistics_library")
                            .from(
                                CirculationStatistics::Table,
                                CirculationStatistics::LibraryCode,
                            )
                            .to(Libraries::Table, Libraries::Code),
                    )
                    .to_owned(),
            )
            .await?;
        let conn = manager.get_connection();
        match manager.get_database_backend() {
            DbBackend::Postgres => {
                conn.execute_unprepared("ALTER TABLE loans ALTER COLUMN patron_id DROP NOT NULL")
                    .await?;
            }
            DbBackend::Sqlite => sqlite_nullable_patron(conn).await?,
            other => {
                return Err(DbErr::Migration(format!("unsupported backend {other:?}")));
            }
        }
        for sql in INDEXES {
            conn.execute_unprepared(sql).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        conn.execute_unprepared("DROP INDEX IF EXISTS idx_loans_returned_patron")
            .await?;
        conn.execute_unprepared("DROP INDEX IF EXISTS idx_charges_loan")
            .await?;
        manager
            .drop_table(
                Table::drop()
                    .table(CirculationStatistics::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}

/// SQLite: `loans.patron_id` without its `NOT NULL`, by SQLite's documented procedure for
/// removing a constraint (inside the migration's transaction): the stored `CREATE TABLE`
/// text edited with `writable_schema`, the schema version advanced so every connection
/// reads the new definition, and the result checked.
async fn sqlite_nullable_patron(conn: &impl ConnectionTrait) -> Result<(), DbErr> {
    let backend = DbBackend::Sqlite;
    let version: i64 = conn
        .query_one_raw(Statement::from_string(backend, "PRAGMA schema_version"))
        .await?
        .ok_or_else(|| DbErr::Migration("no schema version".into()))?
        .try_get_by_index(0)?;
    conn.execute_unprepared("PRAGMA writable_schema = ON")
        .await?;
    let edited = conn
        .execute_raw(Statement::from_sql_and_values(
            backend,
            "UPDATE sqlite_master SET sql = replace(sql, ?, ?) \
             WHERE type = 'table' AND name = 'loans' AND instr(sql, ?) > 0",
            [
                SQLITE_NOT_NULL.into(),
                SQLITE_NULLABLE.into(),
                SQLITE_NOT_NULL.into(),
            ],
        ))
        .await?
        .rows_affected();
    if edited > 0 {
        conn.execute_unprepared(&format!("PRAGMA schema_version = {}", version + 1))
            .await?;
    }
    conn.execute_unprepared("PRAGMA writable_schema = OFF")
        .await?;
    let not_null = conn
        .query_all_raw(Statement::from_string(backend, "PRAGMA table_info(loans)"))
        .await?
        .iter()
        .find_map(|row| {
            let name: String = row.try_get("", "name").ok()?;
            (name == "patron_id").then(|| row.try_get::<i64>("", "notnull").ok())
        })
        .flatten();
    match not_null {
        Some(0) => Ok(()),
        other => {
            let sql: Option<String> = conn
                .query_one_raw(Statement::from_string(
                    backend,
                    "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'loans'",
                ))
                .await?
                .and_then(|row| row.try_get_by_index(0).ok());
            Err(DbErr::Migration(format!(
                "loans.patron_id is still NOT NULL after the schema edit ({other:?}): {sql:?}"
            )))
        }
    }
}

#[derive(DeriveIden)]
enum CirculationStatistics {
    Table,
    Id,
    Kind,
    Channel,
    LibraryCode,
    OnDate,
    At,
    LoanId,
    HoldId,
}

#[derive(DeriveIden)]
enum Libraries {
    Table,
    Code,
}
