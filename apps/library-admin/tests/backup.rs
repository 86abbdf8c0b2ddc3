//! `library-admin backup` and `restore`: what they refuse, and that a refusal changes
//! nothing. (The backup of a database a server is writing, and its restore into a server
//! that reads it back, are tested with both binaries in the server's `tests/it/backup.rs`.)

mod common;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use library_persistence::testing::{TestDb, backends};
use sea_orm::ConnectionTrait;

use common::admin;

/// A directory of the test's own, removed at the end.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "lib_admin_backup_{}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).expect("create the test directory");
        TempDir(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.0)
            .expect("read dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn arg(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

fn sqlite_url(path: &Path) -> String {
    format!("sqlite://{}?mode=rwc", path.display())
}

/// A migrated library database at `path` with one library, and a backup of it at
/// `backup`.
async fn database_and_backup(path: &Path, backup: &Path) {
    let db = library_persistence::Database::connect(&sqlite_url(path))
        .await
        .expect("create the database");
    db.close().await.expect("close");
    let r = admin(&sqlite_url(path), &["backup", arg(backup)], None).await;
    assert_eq!(r.code, 0, "{r:?}");
}

/// Runs `sql` on the SQLite file at `path`.
async fn execute(path: &Path, sql: &str) {
    let conn = sea_orm::Database::connect(format!("sqlite://{}?mode=rwc", path.display()))
        .await
        .expect("open");
    conn.execute_unprepared(sql).await.expect("execute");
    conn.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_backup_never_overwrites_and_leaves_nothing_behind_when_refused() {
    let dir = TempDir::new();
    let (live, backup) = (dir.path("library.db"), dir.path("backup.db"));
    std::fs::write(&backup, "last week's backup").expect("write");
    library_persistence::Database::connect(&sqlite_url(&live))
        .await
        .expect("create the database")
        .close()
        .await
        .expect("close");
    let before = dir.names();

    let r = admin(&sqlite_url(&live), &["backup", arg(&backup)], None).await;
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stderr
            .contains("backup.db exists: choose a new file name"),
        "{r:?}"
    );
    assert_eq!(
        std::fs::read_to_string(&backup).expect("read"),
        "last week's backup"
    );
    assert_eq!(dir.names(), before);

    // A database that does not exist is not created to be copied.
    let missing = dir.path("missing.db");
    let r = admin(
        &sqlite_url(&missing),
        &["backup", arg(&dir.path("b2.db"))],
        None,
    )
    .await;
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("does not exist"), "{r:?}");
    assert_eq!(dir.names(), before);
}

#[tokio::test(flavor = "multi_thread")]
async fn restore_refuses_what_is_not_a_sound_library_database_and_changes_nothing() {
    let dir = TempDir::new();
    let (live, backup) = (dir.path("library.db"), dir.path("backup.db"));
    database_and_backup(&live, &backup).await;
    let target = dir.path("target.db");
    std::fs::write(&target, "the database in place").expect("write");
    let target_url = sqlite_url(&target);

    let refused = async |file: &Path, says: &str| {
        let before = dir.names();
        let r = admin(&target_url, &["restore", arg(file)], None).await;
        assert_eq!(r.code, 1, "{r:?}");
        assert!(r.stderr.contains(says), "expected {says:?}: {r:?}");
        assert!(r.stderr.contains(arg(file)), "names the file: {r:?}");
        assert_eq!(
            std::fs::read_to_string(&target).expect("read"),
            "the database in place"
        );
        assert_eq!(dir.names(), before, "no file left behind");
    };

    // Not a database at all.
    let text = dir.path("notes.txt");
    std::fs::write(
        &text,
        "these are not the pages you are looking for ".repeat(200),
    )
    .expect("write");
    refused(&text, "is not a SQLite database").await;

    // A library database damaged in the middle (a page overwritten).
    let damaged = dir.path("damaged.db");
    let mut bytes = std::fs::read(&backup).expect("read");
    assert!(bytes.len() > 4096 * 12, "{} bytes", bytes.len());
    for byte in &mut bytes[4096 * 8..4096 * 10] {
        *byte = 0xA5;
    }
    std::fs::write(&damaged, bytes).expect("write");
    let before = dir.names();
    let r = admin(&target_url, &["restore", arg(&damaged)], None).await;
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stderr.contains("fails SQLite's integrity check")
            || r.stderr.contains("malformed")
            || r.stderr.contains("is not a SQLite database"),
        "{r:?}"
    );
    assert!(r.stderr.contains(arg(&damaged)), "{r:?}");
    assert_eq!(dir.names(), before);

    // A SQLite database of something else.
    let foreign = dir.path("foreign.db");
    execute(&foreign, "CREATE TABLE recipes (name TEXT)").await;
    refused(&foreign, "not a library database").await;

    // A library database written by a newer version (a migration this one does not know).
    let newer = dir.path("newer.db");
    std::fs::copy(&backup, &newer).expect("copy");
    execute(
        &newer,
        "INSERT INTO seaql_migrations (version, applied_at) \
         VALUES ('m20991231_000099_from_the_future', 0)",
    )
    .await;
    refused(&newer, "m20991231_000099_from_the_future").await;

    // A file that is not there.
    refused(&dir.path("nowhere.db"), "does not exist").await;

    // And the sound backup is restored over the target.
    let r = admin(&target_url, &["restore", arg(&backup)], None).await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("integrity_check: ok"), "{r:?}");
    assert!(r.stdout.contains("migrations: "), "{r:?}");
    assert_eq!(
        std::fs::read(&target).expect("read"),
        std::fs::read(&backup).expect("read")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn restore_is_refused_while_a_process_has_the_database_open() {
    let dir = TempDir::new();
    let (live, backup) = (dir.path("library.db"), dir.path("backup.db"));
    database_and_backup(&live, &backup).await;
    let before = std::fs::read(&live).expect("read");

    // Another process's pool (as a running server's) on the database.
    let open = library_persistence::Database::connect(&sqlite_url(&live))
        .await
        .expect("open");
    open.check_ready().await.expect("a write");
    let r = admin(&sqlite_url(&live), &["restore", arg(&backup)], None).await;
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("is in use"), "{r:?}");
    open.check_ready().await.expect("still served");
    open.close().await.expect("close");
    assert_eq!(std::fs::read(&live).expect("read").len(), before.len());

    // Once nothing has it open, the restore replaces it and its -wal and -shm go.
    let r = admin(&sqlite_url(&live), &["restore", arg(&backup)], None).await;
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(dir.names(), ["backup.db", "library.db"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn on_postgresql_backup_and_restore_name_pg_dump_and_pg_restore_and_exit_3() {
    let dir = TempDir::new();
    let dump = dir.path("library.dump");
    let mut databases: Vec<TestDb> = backends().await;
    databases.retain(|db| db.label() == "postgres");
    // Without a test server the tool is still checked on a URL it never connects to.
    let mut urls: Vec<String> = databases.iter().map(TestDb::url).collect();
    urls.push("postgres://library:s3cret@db.example:5432/library".to_owned());
    for url in urls {
        let r = admin(&url, &["backup", arg(&dump)], None).await;
        assert_eq!(r.code, 3, "{r:?}");
        assert!(
            r.stderr.contains(&format!(
                "pg_dump --format=custom --file={}",
                dump.display()
            )),
            "{r:?}"
        );
        assert!(!r.stderr.contains("s3cret"), "{r:?}");
        let r = admin(&url, &["restore", arg(&dump)], None).await;
        assert_eq!(r.code, 3, "{r:?}");
        assert!(r.stderr.contains("pg_restore --clean --if-exists"), "{r:?}");
        assert!(r.stdout.is_empty(), "{r:?}");
        assert!(dir.names().is_empty(), "nothing written");
    }
}
