//! Backup and restore with the real binaries (docs/operations.md, "Backup and restore"):
//! `library-admin backup` while a `library-server` process writes, `restore` into a new
//! database, and a server on it that reads the data back.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

use serde_json::json;

use crate::process::Binary;
use crate::support::{ADMIN_PASSWORD, TestApp, TestDb, standard_rules};

/// `library-admin`: the binary `LIBRARY_ADMIN_BIN` names (`cargo xtask test` and CI set it
/// to the one `cargo test --workspace` builds for the admin tool's own tests), or else
/// built here beside this test's `library-server` (an app's tests cannot depend on
/// another app). Building here runs cargo with another selection and environment, which
/// compiles part of the dependencies again, and again in the next build of the tests.
fn admin_binary() -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            if let Some(given) = std::env::var_os("LIBRARY_ADMIN_BIN") {
                let given = PathBuf::from(given);
                assert!(
                    given.is_file(),
                    "LIBRARY_ADMIN_BIN={}: no such file",
                    given.display()
                );
                return given;
            }
            let server = Path::new(env!("CARGO_BIN_EXE_library-server"));
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
            let mut build = std::process::Command::new(cargo);
            build.args(["build", "--quiet", "--locked", "-p", "library-admin"]);
            if server.parent().and_then(Path::file_name) == Some("release".as_ref()) {
                build.arg("--release");
            }
            let status = build.status().expect("run cargo build -p library-admin");
            assert!(status.success(), "cargo build -p library-admin: {status}");
            server.with_file_name("library-admin")
        })
        .clone()
}

/// What a run of `library-admin` gave.
#[derive(Debug)]
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// `library-admin ARGS` on the database at `url` (off the async runtime).
async fn admin(url: &str, args: &[&str]) -> Run {
    let url = url.to_owned();
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    tokio::task::spawn_blocking(move || {
        let out = std::process::Command::new(admin_binary())
            .args(&args)
            .env("LIBRARY_DATABASE_URL", url)
            .env_remove("LIBRARY_CONFIG")
            .env_remove("RUST_LOG")
            .output()
            .expect("run library-admin");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    })
    .await
    .expect("join")
}

/// The file of a `sqlite://PATH?mode=rwc` URL.
fn file_of(url: &str) -> PathBuf {
    let rest = url.strip_prefix("sqlite://").expect("a sqlite URL");
    PathBuf::from(rest.split('?').next().expect("path"))
}

/// A directory of the test's own, removed at the end.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "lib_backup_{}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).expect("create the test directory");
        TempDir(dir)
    }

    /// The names in the directory, sorted.
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

/// The real server on `db`, its admin password the tests' one. Its log is read only up
/// to the line saying where it listens, so it logs nothing else below a warning: the
/// counter's hundreds of requests (the request log, and any other line a request writes)
/// would otherwise fill the pipe and block the server.
async fn start(db: TestDb) -> (Binary, TestApp) {
    let url = db.url();
    let mut server = Binary::start_on(
        db,
        &[],
        &[
            ("LIBRARY_ADMIN_PASSWORD", ADMIN_PASSWORD),
            ("RUST_LOG", "warn,library_server=info"),
        ],
    );
    let addr = server.wait_for("listening on http://").await;
    let app = TestApp::remote(format!("http://{addr}"), "sqlite", &url);
    (server, app)
}

/// The number after `label: ` in a summary the tool printed.
fn figure(stdout: &str, label: &str) -> i64 {
    stdout
        .lines()
        .find_map(|line| line.strip_prefix(&format!("{label}: ")))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no `{label}:` figure in {stdout}"))
}

/// Waits until the counter has done `target` rounds; a counter that failed fails the test
/// with its own panic, one that stalls fails it after a minute.
async fn wait_for_rounds(
    rounds: &AtomicU32,
    target: u32,
    churn: &mut Option<tokio::task::JoinHandle<()>>,
) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while rounds.load(Ordering::Relaxed) < target {
        if churn
            .as_ref()
            .is_some_and(tokio::task::JoinHandle::is_finished)
        {
            churn
                .take()
                .expect("the counter")
                .await
                .expect("the counter's writes all succeeded");
            panic!("the counter stopped before {target} rounds");
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the counter did {} of {target} rounds in a minute",
            rounds.load(Ordering::Relaxed)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_backup_taken_while_the_server_writes_restores_into_a_server_that_reads_it_back() {
    let db = TestDb::sqlite();
    let url = db.url();
    let live = file_of(&url);
    let (server, app) = start(db).await;
    let staff = app.staff_token().await;
    app.library(&staff, "CEN", "district").await;
    app.rules(&staff, json!({}), standard_rules())
        .await
        .expect(200, "");
    let title = app.title(&staff, "A Brief History of Hong Kong").await;
    app.item(&staff, title, "B0001", "CEN").await;
    app.item(&staff, title, "B0002", "CEN").await;
    let card = app.reader(&staff, "91234567").await;
    app.reader_session(&card, "91234567").await;
    app.checkout(&staff, &card, "B0001", "CEN")
        .await
        .expect(201, "");

    // A counter that keeps lending and taking back a copy and registering readers.
    let stop = Arc::new(AtomicBool::new(false));
    let rounds = Arc::new(AtomicU32::new(0));
    let churn = {
        let (stop, rounds) = (stop.clone(), rounds.clone());
        let counter = TestApp::remote(app.base.clone(), "sqlite", &url);
        let staff = staff.clone();
        tokio::spawn(async move {
            let other = counter.reader(&staff, "92000000").await;
            let mut n = 0_u32;
            while !stop.load(Ordering::Relaxed) {
                counter
                    .checkout(&staff, &other, "B0002", "CEN")
                    .await
                    .expect(201, "");
                counter
                    .reader(&staff, &format!("93{:06}", n % 1_000_000))
                    .await;
                counter
                    .checkin(&staff, "B0002", "CEN", None)
                    .await
                    .expect(200, "");
                n += 1;
                rounds.store(n, Ordering::Relaxed);
            }
        })
    };
    let mut churn = Some(churn);
    wait_for_rounds(&rounds, 3, &mut churn).await;

    let dir = TempDir::new();
    let backup = dir.0.join("library-backup.db");
    let backup_arg = backup.to_str().expect("utf-8 path");
    let during = rounds.load(Ordering::Relaxed);
    let taken = admin(&url, &["backup", backup_arg]).await;
    let after = rounds.load(Ordering::Relaxed);
    assert_eq!(taken.code, 0, "{taken:?}");
    assert!(taken.stdout.contains("integrity_check: ok"), "{taken:?}");
    assert!(figure(&taken.stdout, "size") > 0, "{taken:?}");
    // The reader, the churn's reader and at least the three readers registered before.
    assert!(figure(&taken.stdout, "readers") >= 5, "{taken:?}");
    assert!(figure(&taken.stdout, "loans") >= 4, "{taken:?}");
    assert!(figure(&taken.stdout, "ledger entries") >= 0, "{taken:?}");
    // Nothing but the backup in its directory: the temporary file is gone.
    assert_eq!(dir.names(), ["library-backup.db"]);
    // Let the counter write some more after the copy, so the copy is not the last state.
    wait_for_rounds(&rounds, after + 2, &mut churn).await;
    assert!(during >= 3);

    // A backup never overwrites: the same path again is refused and the file unchanged.
    let before = std::fs::read(&backup).expect("read the backup");
    let again = admin(&url, &["backup", backup_arg]).await;
    assert_eq!(again.code, 1, "{again:?}");
    assert!(again.stderr.contains("exists"), "{again:?}");
    assert_eq!(std::fs::read(&backup).expect("read the backup"), before);
    assert_eq!(dir.names(), ["library-backup.db"]);

    // Restoring over the database the running server has open is refused, and the
    // server goes on serving from it.
    let in_use = admin(&url, &["restore", backup_arg]).await;
    assert_eq!(in_use.code, 1, "{in_use:?}");
    assert!(in_use.stderr.contains("is in use"), "{in_use:?}");
    assert!(live.exists());
    app.relogin(&card).await;

    stop.store(true, Ordering::Relaxed);
    churn
        .take()
        .expect("the counter")
        .await
        .expect("the counter's writes all succeeded");
    server.terminate().await;

    // Restored into a new database, a server on it has the reader and the loan.
    let restored = TestDb::sqlite();
    let restored_url = restored.url();
    let put = admin(&restored_url, &["restore", backup_arg]).await;
    assert_eq!(put.code, 0, "{put:?}");
    assert!(put.stdout.contains("integrity_check: ok"), "{put:?}");
    assert_eq!(
        figure(&put.stdout, "readers"),
        figure(&taken.stdout, "readers"),
        "{put:?}"
    );
    assert_eq!(std::fs::read(&backup).expect("read the backup"), before);
    let (server, app) = start(restored).await;
    let token = app.relogin(&card).await;
    let loans = app
        .get("/api/v1/me/loans", Some(&token))
        .await
        .expect(200, "");
    let barcodes: Vec<&str> = loans.body["loans"]
        .as_array()
        .expect("loans")
        .iter()
        .filter_map(|loan| loan["item_barcode"].as_str())
        .collect();
    assert_eq!(barcodes, ["B0001"], "{:?}", loans.body);
    // The copy was consistent: the churned copy is either lent once or on the shelf, and
    // can be lent and returned again.
    let staff = app.staff_token().await;
    let other = app.reader(&staff, "94000000").await;
    let lent = app.checkout(&staff, &other, "B0002", "CEN").await;
    if lent.status.as_u16() != 201 {
        app.checkin(&staff, "B0002", "CEN", None)
            .await
            .expect(200, "");
        app.checkout(&staff, &other, "B0002", "CEN")
            .await
            .expect(201, "");
    }
    server.terminate().await;
}
