//! `backup PATH` and `restore PATH` (docs/operations.md, "Backup and restore"): on SQLite
//! a checked copy of the running database, and a checked copy put in place of a database
//! no process has open; on PostgreSQL the `pg_dump` and `pg_restore` commands to run.

use std::path::Path;

use library_persistence::{
    Backend, BackupError, CopySummary, Database, restore_sqlite, sqlite_file_of_url,
};
use library_setup::Config;

use crate::context::Failure;

/// Backs the configured database up to `dest`.
pub async fn backup(dest: &Path) -> Result<(), Failure> {
    let config = config()?;
    let url = &config.database_url;
    let Some(file) = sqlite_file(url)? else {
        return Err(Failure::OtherTool(postgres_backup(url, dest)));
    };
    // The tool must not create the database it is asked to copy.
    if !file.is_file() {
        return Err(Failure::failed(format!(
            "{} does not exist: nothing to back up",
            file.display()
        )));
    }
    let db = Database::connect(url)
        .await
        .map_err(|e| Failure::failed(format!("{}: {e}", file.display())))?;
    let result = db.backup_sqlite(dest).await;
    let _ = db.close().await;
    let summary = result.map_err(refused)?;
    println!("backed up {} to {}", file.display(), dest.display());
    print_summary(&summary);
    println!(
        "the secret key (LIBRARY_SECRET_KEY, or {}.key) is not in the backup: keep a copy of it apart",
        file.display()
    );
    Ok(())
}

/// Replaces the configured SQLite database by a checked copy of `source`.
pub async fn restore(source: &Path) -> Result<(), Failure> {
    let config = config()?;
    let url = &config.database_url;
    let Some(target) = sqlite_file(url)? else {
        return Err(Failure::OtherTool(postgres_restore(url, source)));
    };
    let summary = restore_sqlite(source, &target).await.map_err(refused)?;
    println!("restored {} to {}", source.display(), target.display());
    print_summary(&summary);
    if summary.migrations_behind > 0 {
        println!(
            "the server applies the {} newer migration(s) when it starts",
            summary.migrations_behind
        );
    }
    Ok(())
}

fn config() -> Result<Config, Failure> {
    Config::from_env().map_err(|e| Failure::failed(format!("configuration: {e}")))
}

/// The SQLite file of `url`; `None` for PostgreSQL.
fn sqlite_file(url: &str) -> Result<Option<std::path::PathBuf>, Failure> {
    match Backend::of_url(url) {
        Some(Backend::Postgres) => Ok(None),
        Some(Backend::Sqlite) => sqlite_file_of_url(url).map(Some).ok_or_else(|| {
            Failure::failed("an in-memory SQLite database has no file to back up or restore")
        }),
        None => Err(Failure::failed(
            "configuration: unsupported database URL (expected sqlite:// or postgres://)",
        )),
    }
}

fn refused(err: BackupError) -> Failure {
    Failure::failed(err)
}

fn print_summary(s: &CopySummary) {
    println!("integrity_check: ok");
    println!("size: {} bytes", s.bytes);
    println!(
        "migrations: {} applied, {} to apply",
        s.migrations, s.migrations_behind
    );
    println!("readers: {}", s.readers);
    println!("loans: {}", s.loans);
    println!("ledger entries: {}", s.ledger_entries);
}

/// The URL without its password, and the database's name.
fn postgres_parts(url: &str) -> (String, String) {
    let shown = crate::context::shown_url(url);
    let without_password = shown.replace(":***@", "@");
    let database = without_password
        .split('?')
        .next()
        .and_then(|base| base.rsplit_once('/'))
        .map(|(_, name)| name.to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "postgres".to_owned());
    (without_password, database)
}

fn postgres_backup(url: &str, dest: &Path) -> String {
    let (url, database) = postgres_parts(url);
    format!(
        "this database is PostgreSQL ({database}): library-admin backs up SQLite files only.\n\
         Back it up with PostgreSQL's own tool (consistent while servers run):\n  \
         pg_dump --format=custom --file={} '{url}'\n\
         (the password from PGPASSWORD or ~/.pgpass; see docs/operations.md, Backup and restore)",
        dest.display()
    )
}

fn postgres_restore(url: &str, source: &Path) -> String {
    let (url, database) = postgres_parts(url);
    format!(
        "this database is PostgreSQL ({database}): library-admin restores SQLite files only.\n\
         Stop the servers, then restore the dump with PostgreSQL's own tool:\n  \
         pg_restore --clean --if-exists --no-owner --dbname='{url}' {}\n\
         (see docs/operations.md, Backup and restore)",
        source.display()
    )
}

#[cfg(test)]
mod tests {
    use super::postgres_parts;

    #[test]
    fn the_postgres_url_is_shown_without_its_password() {
        assert_eq!(
            postgres_parts("postgres://lib:s3cret@db:5432/library?sslmode=require"),
            (
                "postgres://lib@db:5432/library?sslmode=require".to_owned(),
                "library".to_owned()
            )
        );
        assert_eq!(
            postgres_parts("postgres://postgres@127.0.0.1:5432/lib_test_1"),
            (
                "postgres://postgres@127.0.0.1:5432/lib_test_1".to_owned(),
                "lib_test_1".to_owned()
            )
        );
    }
}
