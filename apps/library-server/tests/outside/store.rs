//! What a server stored, read by a connection of the test's own (never through the server),
//! and the circulation invariants every database must satisfy whatever happened to the
//! processes writing it.

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, QueryResult, Statement};

/// A connection of the test's own to a server's database.
pub struct Stored {
    conn: DatabaseConnection,
    backend: DbBackend,
}

/// The circulation invariants, each a query that returns no row on a sound database.
const INVARIANTS: &[(&str, &str)] = &[
    (
        "a copy with more than one open loan",
        "SELECT item_id AS id FROM loans WHERE returned_at IS NULL \
         GROUP BY item_id HAVING COUNT(*) > 1",
    ),
    (
        "a copy on loan without an open loan",
        "SELECT i.id FROM items i WHERE i.status = 'on_loan' AND NOT EXISTS \
         (SELECT 1 FROM loans l WHERE l.item_id = i.id AND l.returned_at IS NULL)",
    ),
    (
        "an open loan of a copy not on loan",
        "SELECT l.id FROM loans l JOIN items i ON i.id = l.item_id \
         WHERE l.returned_at IS NULL AND i.status <> 'on_loan'",
    ),
    (
        "a copy on the hold shelf without exactly one waiting hold",
        "SELECT i.id FROM items i WHERE i.status = 'on_hold_shelf' AND \
         (SELECT COUNT(*) FROM holds h WHERE h.item_id = i.id AND h.status = 'waiting') <> 1",
    ),
    (
        "a waiting hold whose copy is not on the hold shelf",
        "SELECT h.id FROM holds h LEFT JOIN items i ON i.id = h.item_id \
         WHERE h.status = 'waiting' AND (i.id IS NULL OR i.status <> 'on_hold_shelf')",
    ),
    (
        "a reader with two active holds on one title",
        "SELECT patron_id AS id FROM holds WHERE status IN ('queued', 'waiting') \
         GROUP BY patron_id, title_id HAVING COUNT(*) > 1",
    ),
    (
        "two holds of a title at one place in its queue",
        "SELECT title_id AS id FROM holds GROUP BY title_id, queue_seq HAVING COUNT(*) > 1",
    ),
    (
        "a collected hold without a loan of its title to its reader",
        "SELECT h.id FROM holds h WHERE h.status = 'collected' AND NOT EXISTS \
         (SELECT 1 FROM loans l JOIN items i ON i.id = l.item_id \
          WHERE l.patron_id = h.patron_id AND i.title_id = h.title_id)",
    ),
    (
        "a charge whose paid amount is not the sum of the payments allocated to it",
        "SELECT c.id FROM charges c WHERE c.paid <> COALESCE((SELECT SUM(a.amount) \
         FROM payment_allocations a WHERE a.charge_id = c.id), 0)",
    ),
    (
        "a charge paid or waived beyond its amount (a balance below zero)",
        "SELECT id FROM charges WHERE paid + COALESCE(waived_amount, 0) > amount",
    ),
    (
        "a payment whose allocations do not add up to it",
        "SELECT p.id FROM payments p WHERE p.amount <> COALESCE((SELECT SUM(a.amount) \
         FROM payment_allocations a WHERE a.payment_id = p.id), 0)",
    ),
    (
        "a reader whose payments and `fine.payment` audit entries differ in number",
        "SELECT p.patron_id AS id FROM payments p GROUP BY p.patron_id HAVING COUNT(*) <> \
         (SELECT COUNT(*) FROM audit_log a WHERE a.action = 'fine.payment' \
          AND a.subject = 'patron:' || CAST(p.patron_id AS TEXT))",
    ),
    (
        "a loan without exactly one checkout statistic",
        "SELECT l.id FROM loans l WHERE (SELECT COUNT(*) FROM circulation_statistics s \
         WHERE s.kind = 'checkout' AND s.loan_id = l.id) <> 1",
    ),
    (
        "a loan without exactly one `circulation.checkout` audit entry",
        "SELECT l.id FROM loans l WHERE (SELECT COUNT(*) FROM audit_log a \
         WHERE a.action = 'circulation.checkout' \
         AND a.subject = 'loan:' || CAST(l.id AS TEXT)) <> 1",
    ),
    (
        "a loan whose renewals differ from its renewal statistics",
        "SELECT l.id FROM loans l WHERE l.renewals <> (SELECT COUNT(*) \
         FROM circulation_statistics s WHERE s.kind = 'renewal' AND s.loan_id = l.id)",
    ),
    (
        "a loan whose renewals differ from its `circulation.renew` audit entries",
        "SELECT l.id FROM loans l WHERE l.renewals <> (SELECT COUNT(*) FROM audit_log a \
         WHERE a.action = 'circulation.renew' AND a.subject = 'loan:' || CAST(l.id AS TEXT))",
    ),
    (
        "a loan returned without one checkin statistic, or one with a statistic not returned \
         (a loan declared lost ends without a checkin)",
        "SELECT l.id FROM loans l WHERE (SELECT COUNT(*) FROM circulation_statistics s \
         WHERE s.kind = 'checkin' AND s.loan_id = l.id) <> \
         CASE WHEN l.returned_at IS NULL OR l.lost_at IS NOT NULL THEN 0 ELSE 1 END",
    ),
    (
        "a hold without exactly one placement statistic",
        "SELECT h.id FROM holds h WHERE (SELECT COUNT(*) FROM circulation_statistics s \
         WHERE s.kind = 'hold_placed' AND s.hold_id = h.id) <> 1",
    ),
    (
        "a hold whose collection statistics disagree with its status",
        "SELECT h.id FROM holds h WHERE (SELECT COUNT(*) FROM circulation_statistics s \
         WHERE s.kind = 'hold_collected' AND s.hold_id = h.id) <> \
         CASE WHEN h.status = 'collected' THEN 1 ELSE 0 END",
    ),
];

impl Stored {
    /// Opens a connection of its own to the database at `url`.
    pub async fn open(url: &str) -> Stored {
        let conn = sea_orm::Database::connect(url)
            .await
            .expect("a connection of the test's own");
        let backend = conn.get_database_backend();
        Stored { conn, backend }
    }

    /// The rows `sql` returns.
    pub async fn rows(&self, sql: &str) -> Vec<QueryResult> {
        self.conn
            .query_all_raw(Statement::from_string(self.backend, sql.to_owned()))
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// The `id` column of the rows `sql` returns.
    pub async fn ids(&self, sql: &str) -> Vec<i64> {
        self.rows(sql).await.iter().map(|r| int(r, "id")).collect()
    }

    /// The invariants broken, each with the ids of the rows that break it.
    pub async fn broken_invariants(&self) -> Vec<String> {
        let mut broken = Vec::new();
        for (what, sql) in INVARIANTS {
            let ids = self.ids(sql).await;
            if !ids.is_empty() {
                broken.push(format!("{what}: {ids:?}"));
            }
        }
        broken
    }

    /// On SQLite, what `PRAGMA integrity_check` and `PRAGMA foreign_key_check` report
    /// beyond "ok" (empty on a sound file); nothing on PostgreSQL, which checks its
    /// constraints on every statement.
    pub async fn sqlite_damage(&self) -> Vec<String> {
        if self.backend != DbBackend::Sqlite {
            return Vec::new();
        }
        let mut damage = Vec::new();
        for row in self.rows("PRAGMA integrity_check").await {
            let line: String = row.try_get("", "integrity_check").expect("integrity_check");
            if line != "ok" {
                damage.push(format!("integrity_check: {line}"));
            }
        }
        for row in self.rows("PRAGMA foreign_key_check").await {
            let table: String = row.try_get("", "table").expect("table");
            let parent: String = row.try_get("", "parent").expect("parent");
            damage.push(format!(
                "foreign_key_check: a row of {table} without its {parent}"
            ));
        }
        damage
    }

    pub async fn close(self) {
        self.conn.close().await.expect("close");
    }
}

/// An integer column (every stored integer is `BIGINT`; an expression such as `CASE … THEN
/// 1` is `INTEGER` on PostgreSQL).
pub fn int(row: &QueryResult, column: &str) -> i64 {
    row.try_get::<i64>("", column)
        .or_else(|_| row.try_get::<i32>("", column).map(i64::from))
        .unwrap_or_else(|e| panic!("column {column}: {e}"))
}

/// A text column.
pub fn text(row: &QueryResult, column: &str) -> String {
    row.try_get("", column)
        .unwrap_or_else(|e| panic!("column {column}: {e}"))
}
