//! The catalogue search's indexes: every word of a search is a substring of a title's
//! name, author or ISBN, found through trigrams instead of a scan of the titles.
//!
//! - SQLite: two FTS5 tables with the `trigram` tokenizer (`case_sensitive 0`: letters of
//!   every script folded; diacritics kept, so `e` does not find `é`): `titles_search` over
//!   `titles (name, author)` and `titles_isbn_search` over `titles (isbn)`. The ISBNs have
//!   a table of their own so that the digit trigrams of a million ISBNs (`978` is in
//!   nearly all of them) do not lengthen the lists a word of a name is looked up in. Both
//!   are external-content tables (they keep no copy of the text, only the index;
//!   `content_rowid` is `titles.id`), kept in step by three triggers on `titles` (after
//!   insert, update and delete) and filled for the titles already there by `rebuild`.
//! - PostgreSQL: the `pg_trgm` extension and three GIN indexes (`gin_trgm_ops`) on the very
//!   expressions the search compares, `lower(name)`, `lower(coalesce(author, ''))` and
//!   `coalesce(isbn, '')`, so `LIKE '%word%'` on them is answered from the index (rows
//!   rechecked). They are built with `fastupdate = off`: a new title goes straight into
//!   the index (a fraction of a millisecond), instead of into a pending list that every
//!   search reads until a vacuum merges it (up to 4 MB: about 7 ms a search). Creating the
//!   extension needs the right to: a superuser, or (it is a trusted extension) a role with
//!   `CREATE` on the database. Without it the migration fails saying so, and an
//!   administrator creates it once (`CREATE EXTENSION pg_trgm;`).
//! - Both: a B-tree index on `titles (isbn)`, for a whole ISBN-13 typed (equal to the ISBN
//!   or to none).
//!
//! Every statement is idempotent, so a start interrupted half-way migrates again.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

/// SQLite: the FTS5 tables, their triggers, and the index of the titles already stored.
const SQLITE_UP: &[&str] = &[
    "CREATE VIRTUAL TABLE IF NOT EXISTS titles_search USING fts5(\
     name, author, content = 'titles', content_rowid = 'id', \
     tokenize = 'trigram case_sensitive 0')",
    "CREATE VIRTUAL TABLE IF NOT EXISTS titles_isbn_search USING fts5(\
     isbn, content = 'titles', content_rowid = 'id', \
     tokenize = 'trigram case_sensitive 0')",
    "CREATE TRIGGER IF NOT EXISTS titles_search_insert AFTER INSERT ON titles BEGIN \
     INSERT INTO titles_search (rowid, name, author) VALUES (new.id, new.name, new.author); \
     INSERT INTO titles_isbn_search (rowid, isbn) VALUES (new.id, new.isbn); \
     END",
    // An external-content table forgets a row by being told its old values.
    "CREATE TRIGGER IF NOT EXISTS titles_search_delete AFTER DELETE ON titles BEGIN \
     INSERT INTO titles_search (titles_search, rowid, name, author) \
     VALUES ('delete', old.id, old.name, old.author); \
     INSERT INTO titles_isbn_search (titles_isbn_search, rowid, isbn) \
     VALUES ('delete', old.id, old.isbn); \
     END",
    "CREATE TRIGGER IF NOT EXISTS titles_search_update AFTER UPDATE ON titles BEGIN \
     INSERT INTO titles_search (titles_search, rowid, name, author) \
     VALUES ('delete', old.id, old.name, old.author); \
     INSERT INTO titles_search (rowid, name, author) VALUES (new.id, new.name, new.author); \
     INSERT INTO titles_isbn_search (titles_isbn_search, rowid, isbn) \
     VALUES ('delete', old.id, old.isbn); \
     INSERT INTO titles_isbn_search (rowid, isbn) VALUES (new.id, new.isbn); \
     END",
    "INSERT INTO titles_search (titles_search) VALUES ('rebuild')",
    "INSERT INTO titles_isbn_search (titles_isbn_search) VALUES ('rebuild')",
    ISBN_INDEX,
];

const SQLITE_DOWN: &[&str] = &[
    "DROP INDEX IF EXISTS idx_titles_isbn",
    "DROP TRIGGER IF EXISTS titles_search_update",
    "DROP TRIGGER IF EXISTS titles_search_delete",
    "DROP TRIGGER IF EXISTS titles_search_insert",
    "DROP TABLE IF EXISTS titles_isbn_search",
    "DROP TABLE IF EXISTS titles_search",
];

/// Both: a whole ISBN-13 is looked up by equality.
const ISBN_INDEX: &str = "CREATE INDEX IF NOT EXISTS idx_titles_isbn ON titles (isbn)";

/// PostgreSQL: the trigram indexes (after the extension).
const POSTGRES_INDEXES: &[&str] = &[
    "CREATE INDEX IF NOT EXISTS idx_titles_name_trgm ON titles \
     USING gin (lower(name) gin_trgm_ops) WITH (fastupdate = off)",
    "CREATE INDEX IF NOT EXISTS idx_titles_author_trgm ON titles \
     USING gin (lower(coalesce(author, '')) gin_trgm_ops) WITH (fastupdate = off)",
    "CREATE INDEX IF NOT EXISTS idx_titles_isbn_trgm ON titles \
     USING gin (coalesce(isbn, '') gin_trgm_ops) WITH (fastupdate = off)",
    ISBN_INDEX,
];

const POSTGRES_DOWN: &[&str] = &[
    "DROP INDEX IF EXISTS idx_titles_isbn",
    "DROP INDEX IF EXISTS idx_titles_isbn_trgm",
    "DROP INDEX IF EXISTS idx_titles_author_trgm",
    "DROP INDEX IF EXISTS idx_titles_name_trgm",
];

/// What an operator is told when the extension cannot be created.
fn pg_trgm_missing(cause: &DbErr) -> DbErr {
    DbErr::Migration(format!(
        "the catalogue search needs the PostgreSQL extension pg_trgm, and this role cannot \
         create it ({cause}); have an administrator run `CREATE EXTENSION IF NOT EXISTS \
         pg_trgm;` once in this database (it ships with PostgreSQL's contrib package), \
         or grant this role CREATE on the database, then start again"
    ))
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        match conn.get_database_backend() {
            DbBackend::Postgres => {
                conn.execute_unprepared("CREATE EXTENSION IF NOT EXISTS pg_trgm")
                    .await
                    .map_err(|e| pg_trgm_missing(&e))?;
                for sql in POSTGRES_INDEXES {
                    conn.execute_unprepared(sql).await?;
                }
            }
            _ => {
                for sql in SQLITE_UP {
                    conn.execute_unprepared(sql).await?;
                }
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        let statements = match conn.get_database_backend() {
            DbBackend::Postgres => POSTGRES_DOWN,
            _ => SQLITE_DOWN,
        };
        for sql in statements {
            conn.execute_unprepared(sql).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::ConnectionTrait;
    use sea_orm_migration::MigratorTrait;

    /// The titles a database holds when it migrates are indexed by the migration.
    #[tokio::test]
    async fn titles_stored_before_the_migration_are_found() {
        for t in crate::testing::backends().await {
            let conn = sea_orm::Database::connect(&t.url).await.unwrap();
            super::super::Migrator::up(&conn, Some(12)).await.unwrap();
            conn.execute_unprepared(
                "INSERT INTO titles (name, author, isbn) VALUES \
                 ('Silent River', 'Chan Siu Ming', '9780306406157'), \
                 ('香港歷史', NULL, NULL)",
            )
            .await
            .unwrap();
            conn.close().await.unwrap();
            let db = t.connect().await;
            for (q, expected) in [
                ("river", "Silent River"),
                ("SIU MING", "Silent River"),
                ("0-306-406", "Silent River"),
                ("港歷史", "香港歷史"),
            ] {
                let query = library_app::CatalogueQuery::parse(q, None, None, None).unwrap();
                let found = db.catalogue().search(&query).await.unwrap();
                let names: Vec<_> = found.items.iter().map(|h| h.name.as_str()).collect();
                assert_eq!(names, [expected], "{}: {q}", t.name);
            }
            db.close().await.unwrap();
        }
    }
}
