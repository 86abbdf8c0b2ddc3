//! Backups of a SQLite database and their restore (docs/operations.md, "Backup and
//! restore"). PostgreSQL is backed up with its own tools (`pg_dump`, `pg_restore`).
//!
//! - A backup is `VACUUM INTO` a temporary file beside the destination, run on a
//!   connection of the open database: SQLite runs it as one read transaction, so in WAL
//!   mode it copies one consistent state while other connections and processes keep
//!   writing. The copy is synced, checked (see [`verify_sqlite_copy`]) and only then linked
//!   at the destination, which must not exist: a crash never leaves half a file there, and
//!   nothing is overwritten.
//! - A restore copies the file to a temporary file beside the target, checks that copy
//!   (integrity, and a schema of this product no newer than this binary), syncs it, makes
//!   sure no process has the target open, removes the target's `-wal` and `-shm` files and
//!   renames the copy over the target.
//!
//! "In use" is what SQLite's own locks say: in WAL mode every open connection holds a
//! shared lock on the database file, so an exclusive lock cannot be had while a server
//! has the file open (the server reads the configuration's version every second, so its
//! pool is never empty).

use std::path::{Path, PathBuf};
use std::time::Duration;

use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqliteLockingMode};
use sea_orm::sqlx::{self, Connection as _, Row as _};
use sea_orm::{ConnectionTrait, Statement};
use sea_orm_migration::MigratorTrait as _;

use crate::database::{Backend, Database};
use crate::migration::Migrator;

/// What a checked copy holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopySummary {
    /// The file's size in bytes.
    pub bytes: u64,
    /// Migrations applied in it (all known to this binary).
    pub migrations: usize,
    /// Migrations of this binary not yet applied in it (a server applies them at start).
    pub migrations_behind: usize,
    /// Rows of `patrons`.
    pub readers: i64,
    /// Rows of `loans` (open and returned).
    pub loans: i64,
    /// Rows of `charges` and `payments`: the fine ledger's entries.
    pub ledger_entries: i64,
}

/// Why a backup or a restore did not happen. Nothing was changed at the destination.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// Not a SQLite file database.
    #[error("only a SQLite database file can be backed up or restored this way")]
    NotSqlite,
    /// The backup's destination exists.
    #[error("{0} exists: choose a new file name (a backup never overwrites a file)")]
    Exists(PathBuf),
    /// The file to restore is missing.
    #[error("{0} does not exist")]
    Missing(PathBuf),
    /// The file to restore is the database itself.
    #[error("{0} is the database itself")]
    SameFile(PathBuf),
    /// The file to restore has a write-ahead log beside it, which a copy of the file alone
    /// would lose.
    #[error(
        "{0} has a write-ahead log beside it (-wal): it is a live database, not a backup; take a backup of it with `library-admin backup`"
    )]
    LiveSource(PathBuf),
    /// Not a SQLite database.
    #[error("{path} is not a SQLite database ({why})")]
    NotADatabase {
        /// The file.
        path: PathBuf,
        /// SQLite's answer.
        why: String,
    },
    /// A SQLite database that fails `PRAGMA integrity_check`.
    #[error("{path} fails SQLite's integrity check: {problems}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// The first problems reported.
        problems: String,
    },
    /// A SQLite database without this product's migrations table.
    #[error("{0} is a SQLite database but not a library database (no seaql_migrations table)")]
    NotOurs(PathBuf),
    /// Migrations this binary does not know: the database was written by a newer version.
    #[error(
        "{path} has migrations this version does not know ({unknown}): restore it with the version that wrote it"
    )]
    Newer {
        /// The file.
        path: PathBuf,
        /// The unknown migrations' names.
        unknown: String,
    },
    /// Another process has the target open.
    #[error(
        "{0} is in use (a running server or another process has it open): stop it, then restore"
    )]
    InUse(PathBuf),
    /// A file operation failed.
    #[error("{what}: {err}")]
    Io {
        /// What was being done.
        what: String,
        /// The error.
        #[source]
        err: std::io::Error,
    },
    /// The database failed.
    #[error("{0}")]
    Database(String),
}

impl BackupError {
    /// The same error naming `path` (the file a temporary copy was made of).
    fn naming(self, path: &Path) -> BackupError {
        let path = path.to_path_buf();
        match self {
            BackupError::NotADatabase { why, .. } => BackupError::NotADatabase { path, why },
            BackupError::Corrupt { problems, .. } => BackupError::Corrupt { path, problems },
            BackupError::NotOurs(_) => BackupError::NotOurs(path),
            BackupError::Newer { unknown, .. } => BackupError::Newer { path, unknown },
            other => other,
        }
    }
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> BackupError {
    move |err| BackupError::Io {
        what: what.into(),
        err,
    }
}

/// The database file a `sqlite://…` URL names (`None` for another URL or an in-memory
/// database), without opening it.
#[must_use]
pub fn sqlite_file_of_url(url: &str) -> Option<PathBuf> {
    if Backend::of_url(url) != Some(Backend::Sqlite)
        || url.contains(":memory:")
        || url.contains("mode=memory")
    {
        return None;
    }
    let options = url.parse::<SqliteConnectOptions>().ok()?;
    Some(options.get_filename().to_path_buf())
}

impl Database {
    /// Writes a consistent copy of this SQLite database to `dest`, which must not exist,
    /// checks it and answers what it holds. Other connections and processes may write
    /// meanwhile: the copy is one read transaction's state.
    ///
    /// # Errors
    /// [`BackupError::NotSqlite`] on PostgreSQL or an in-memory database,
    /// [`BackupError::Exists`] when `dest` exists; otherwise a file or database failure,
    /// after which no file is left at `dest`.
    pub async fn backup_sqlite(&self, dest: &Path) -> Result<CopySummary, BackupError> {
        if self.backend() != Backend::Sqlite || self.sqlite_file().is_none() {
            return Err(BackupError::NotSqlite);
        }
        if dest.symlink_metadata().is_ok() {
            return Err(BackupError::Exists(dest.to_path_buf()));
        }
        let temp = TempFile(temp_beside(dest, "backup"));
        let pool = self.pool();
        pool.execute_raw(Statement::from_sql_and_values(
            pool.get_database_backend(),
            "VACUUM INTO ?",
            [temp.0.to_string_lossy().into_owned().into()],
        ))
        .await
        .map_err(|e| {
            BackupError::Database(format!(
                "copying the database: {}",
                crate::fault::describe(&e)
            ))
        })?;
        sync_file(&temp.0)?;
        let summary = verify_sqlite_copy(&temp.0).await?;
        // A hard link, unlike a rename, never replaces a file that appeared meanwhile.
        std::fs::hard_link(&temp.0, dest).map_err(|err| {
            if err.kind() == std::io::ErrorKind::AlreadyExists {
                BackupError::Exists(dest.to_path_buf())
            } else {
                io(format!("linking the copy at {}", dest.display()))(err)
            }
        })?;
        drop(temp);
        sync_dir(dest)?;
        Ok(summary)
    }
}

/// Checks the SQLite database at `path`, opened read-only: `PRAGMA integrity_check` says
/// `ok`, it carries this product's migrations and none this binary does not know; and
/// counts readers, loans and ledger entries.
///
/// # Errors
/// [`BackupError::NotADatabase`], [`BackupError::Corrupt`], [`BackupError::NotOurs`],
/// [`BackupError::Newer`], or a file or database failure.
pub async fn verify_sqlite_copy(path: &Path) -> Result<CopySummary, BackupError> {
    let bytes = std::fs::metadata(path)
        .map_err(io(format!("reading {}", path.display())))?
        .len();
    let options = SqliteConnectOptions::new()
        .filename(path)
        .read_only(true)
        .create_if_missing(false);
    let mut conn = SqliteConnection::connect_with(&options)
        .await
        .map_err(|e| not_a_database(path, &e))?;
    let checked = check(&mut conn, path).await;
    let _ = conn.close().await;
    let (migrations, migrations_behind, readers, loans, ledger_entries) = checked?;
    Ok(CopySummary {
        bytes,
        migrations,
        migrations_behind,
        readers,
        loans,
        ledger_entries,
    })
}

async fn check(
    conn: &mut SqliteConnection,
    path: &Path,
) -> Result<(usize, usize, i64, i64, i64), BackupError> {
    let rows = sqlx::query("PRAGMA integrity_check")
        .fetch_all(&mut *conn)
        .await
        .map_err(|e| not_a_database(path, &e))?;
    let answers: Vec<String> = rows
        .iter()
        .filter_map(|row| row.try_get::<String, _>(0).ok())
        .collect();
    if answers != ["ok"] {
        return Err(BackupError::Corrupt {
            path: path.to_path_buf(),
            problems: answers.into_iter().take(3).collect::<Vec<_>>().join("; "),
        });
    }
    let has_migrations: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'seaql_migrations'",
    )
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| BackupError::Database(e.to_string()))?;
    if has_migrations == 0 {
        return Err(BackupError::NotOurs(path.to_path_buf()));
    }
    let applied: Vec<String> = sqlx::query_scalar("SELECT version FROM seaql_migrations")
        .fetch_all(&mut *conn)
        .await
        .map_err(|e| BackupError::Database(e.to_string()))?;
    let known: Vec<String> = Migrator::migrations()
        .iter()
        .map(|m| m.name().to_owned())
        .collect();
    let unknown: Vec<&str> = applied
        .iter()
        .filter(|v| !known.contains(v))
        .map(String::as_str)
        .collect();
    if !unknown.is_empty() {
        return Err(BackupError::Newer {
            path: path.to_path_buf(),
            unknown: unknown.join(", "),
        });
    }
    let mut counts = [0_i64; 4];
    for (count, (table, sql)) in counts.iter_mut().zip([
        ("patrons", "SELECT count(*) FROM patrons"),
        ("loans", "SELECT count(*) FROM loans"),
        ("charges", "SELECT count(*) FROM charges"),
        ("payments", "SELECT count(*) FROM payments"),
    ]) {
        *count = sqlx::query_scalar(sql)
            .fetch_one(&mut *conn)
            .await
            .map_err(|e| BackupError::Database(format!("counting {table}: {e}")))?;
    }
    let [readers, loans, charges, payments] = counts;
    Ok((
        applied.len(),
        known.len() - applied.len(),
        readers,
        loans,
        charges + payments,
    ))
}

fn not_a_database(path: &Path, err: &sqlx::Error) -> BackupError {
    BackupError::NotADatabase {
        path: path.to_path_buf(),
        why: err
            .as_database_error()
            .map_or_else(|| err.to_string(), |e| e.message().to_owned()),
    }
}

/// Replaces the SQLite database `target` by a checked copy of `source`, atomically. Refused
/// while any process has `target` open.
///
/// # Errors
/// The refusals of [`verify_sqlite_copy`], [`BackupError::Missing`],
/// [`BackupError::SameFile`], [`BackupError::LiveSource`], [`BackupError::InUse`], or a file
/// failure; `target` is then unchanged.
pub async fn restore_sqlite(source: &Path, target: &Path) -> Result<CopySummary, BackupError> {
    if !source.is_file() {
        return Err(BackupError::Missing(source.to_path_buf()));
    }
    if target.exists() && same_file(source, target) {
        return Err(BackupError::SameFile(source.to_path_buf()));
    }
    if with_suffix(source, "-wal")
        .metadata()
        .is_ok_and(|m| m.len() > 0)
    {
        return Err(BackupError::LiveSource(source.to_path_buf()));
    }
    let temp = TempFile(temp_beside(target, "restore"));
    std::fs::copy(source, &temp.0).map_err(io(format!(
        "copying {} to {}",
        source.display(),
        temp.0.display()
    )))?;
    sync_file(&temp.0)?;
    let summary = verify_sqlite_copy(&temp.0)
        .await
        .map_err(|e| e.naming(source))?;
    if target.exists() {
        refuse_if_in_use(target).await?;
    }
    for suffix in ["-wal", "-shm"] {
        let stale = with_suffix(target, suffix);
        match std::fs::remove_file(&stale) {
            Ok(()) => {}
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => return Err(io(format!("removing {}", stale.display()))(err)),
        }
    }
    std::fs::rename(&temp.0, target)
        .map_err(io(format!("renaming the copy to {}", target.display())))?;
    sync_dir(target)?;
    Ok(summary)
}

/// Opens `target` asking for an exclusive lock without waiting: SQLite refuses it while
/// another connection (of any process) has the file open in WAL mode. Closing this only
/// connection also folds a leftover `-wal` back into the old file.
async fn refuse_if_in_use(target: &Path) -> Result<(), BackupError> {
    let options = SqliteConnectOptions::new()
        .filename(target)
        .create_if_missing(false)
        .locking_mode(SqliteLockingMode::Exclusive)
        .busy_timeout(Duration::ZERO);
    let mut conn = match SqliteConnection::connect_with(&options).await {
        Ok(conn) => conn,
        Err(err) if is_busy(&err) => return Err(BackupError::InUse(target.to_path_buf())),
        // Not a database (what a restore is for): nothing can have it open as one.
        Err(_) => return Ok(()),
    };
    let taken = sqlx::query("BEGIN EXCLUSIVE").execute(&mut conn).await;
    let result = match taken {
        Ok(_) => {
            let _ = sqlx::query("ROLLBACK").execute(&mut conn).await;
            Ok(())
        }
        Err(err) if is_busy(&err) => Err(BackupError::InUse(target.to_path_buf())),
        Err(_) => Ok(()),
    };
    let _ = conn.close().await;
    result
}

fn is_busy(err: &sqlx::Error) -> bool {
    // SQLITE_BUSY (5) and SQLITE_LOCKED (6), with their extended codes.
    err.as_database_error()
        .and_then(|e| e.code())
        .and_then(|code| code.parse::<i32>().ok())
        .is_some_and(|code| matches!(code & 0xff, 5 | 6))
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// A hidden temporary name in `path`'s directory (so the final rename or link stays on
/// one file system).
fn temp_beside(path: &Path, what: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.{what}-{}-{nanos}.tmp", std::process::id()))
}

fn sync_file(path: &Path) -> Result<(), BackupError> {
    std::fs::File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(io(format!("syncing {}", path.display())))
}

fn sync_dir(path: &Path) -> Result<(), BackupError> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::File::open(dir)
        .and_then(|f| f.sync_all())
        .map_err(io(format!("syncing {}", dir.display())))
}

/// A temporary file, removed when dropped (its link or rename made it permanent first, or
/// a failure left it to be cleaned up).
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let _ = std::fs::remove_file(with_suffix(&self.0, suffix));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_of_a_sqlite_url() {
        assert_eq!(
            sqlite_file_of_url("sqlite:///var/lib/library/library.db?mode=rwc"),
            Some(PathBuf::from("/var/lib/library/library.db"))
        );
        assert_eq!(
            sqlite_file_of_url("sqlite://library.db?mode=rwc"),
            Some(PathBuf::from("library.db"))
        );
        assert_eq!(sqlite_file_of_url("sqlite::memory:"), None);
        assert_eq!(sqlite_file_of_url("postgres://u@h/db"), None);
    }

    #[test]
    fn temporary_names_are_hidden_beside_the_file() {
        let temp = temp_beside(Path::new("/var/backups/library.db"), "backup");
        assert_eq!(temp.parent(), Some(Path::new("/var/backups")));
        let name = temp.file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.starts_with(".library.db.backup-"), "{name}");
        assert!(name.ends_with(".tmp"), "{name}");
    }
}
