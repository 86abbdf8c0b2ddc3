//! The real `library-admin` binary against a temporary SQLite file and, when
//! `LIBRARY_TEST_POSTGRES_URL` is set, a PostgreSQL database of its own.

mod common;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use library_app::BlockingHasher;
use library_circulation::ports::CirculationStore;
use library_circulation::{Calendar, DueDate, NewLoan, hkpl_profile};
use library_core::{
    Barcode, CardNumber, DEFAULT_LIBRARY_OFFSET, LibraryCode, LibraryKind, SystemClock,
};
use library_credentials::{
    AttemptSource, CredentialConfig, CredentialPorts, CredentialService, OsRandom, Scope, Secret,
};
use library_persistence::application::OutboxNotifier;
use library_persistence::{Database, NewLibrary};
use time::macros::date;

use common::Run;

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn unique() -> String {
    format!(
        "{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        time::OffsetDateTime::now_utc().unix_timestamp_nanos() % 1_000_000
    )
}

use library_persistence::testing::{TestDb, backends};

async fn run(db: &TestDb, args: &[&str], stdin: Option<&str>) -> Run {
    common::admin(&db.url(), args, stdin).await
}

fn credentials(db: &Database) -> CredentialService {
    let clock = Arc::new(SystemClock);
    CredentialService::new(
        CredentialPorts {
            store: Arc::new(db.credentials()),
            sessions: Arc::new(db.sessions()),
            hasher: Arc::new(BlockingHasher::per_core()),
            staff: Arc::new(db.staff()),
            notifier: Arc::new(OutboxNotifier::new(
                db,
                library_app::SecretBox::new([7; 32]),
                clock.clone(),
            )),
            random: Arc::new(OsRandom),
            clock,
            events: Arc::new(library_credentials::NoSecurityEvents),
        },
        CredentialConfig::default(),
    )
}

fn source() -> AttemptSource {
    AttemptSource("test".into())
}

async fn add_library(db: &Database, code: &str, kind: LibraryKind) {
    db.libraries()
        .create(
            &NewLibrary {
                code: LibraryCode::parse(code).unwrap(),
                name: format!("{code} library"),
                name_zh: String::new(),
                kind,
                utc_offset: DEFAULT_LIBRARY_OFFSET,
            },
            None,
        )
        .await
        .unwrap();
}

fn write_file(contents: &str) -> TempFile {
    let path = std::env::temp_dir().join(format!("library_admin_{}.csv", unique()));
    std::fs::write(&path, contents).unwrap();
    TempFile(path)
}

struct TempFile(PathBuf);

impl TempFile {
    fn arg(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn usage_errors_exit_with_2_and_help_with_0() {
    let db = TestDb::sqlite();
    let r = run(&db, &["frobnicate"], None).await;
    assert_eq!(r.code, 2, "{r:?}");
    let r = run(&db, &["create-staff", "kim", "--role", "boss"], None).await;
    assert_eq!(r.code, 2, "{r:?}");
    let r = run(&db, &["preview-fines", "--starts-on", "5 March"], None).await;
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("YYYY-MM-DD"), "{r:?}");
    let r = run(&db, &["--help"], None).await;
    assert_eq!(r.code, 0, "{r:?}");
    for sub in [
        "migrate",
        "create-staff",
        "reset-password",
        "import-readers",
        "import-catalogue",
        "preview-fines",
        "sip2-station",
        "policy",
    ] {
        assert!(r.stdout.contains(sub), "{sub} in {r:?}");
    }
    let r = run(
        &db,
        &["sip2-station", "create", "SC 01", "--library", "CEN"],
        None,
    )
    .await;
    assert_eq!(r.code, 2, "{r:?}");
    let r = run(&db, &["sip2-station", "create", "sc01"], None).await;
    assert_eq!(r.code, 2, "--library is required: {r:?}");
    let r = run(&db, &["policy", "apply"], None).await;
    assert_eq!(r.code, 2, "FILE is required: {r:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn sip2_stations_are_created_listed_and_deleted() {
    for db in backends().await {
        let label = db.label();
        let database = db.connect().await;
        add_library(&database, "CEN", LibraryKind::Central).await;

        let r = run(
            &db,
            &[
                "sip2-station",
                "create",
                "sc01",
                "--library",
                "CEN",
                "--password-stdin",
            ],
            Some("short|one\n"),
        )
        .await;
        assert_eq!(r.code, 1, "{label} {r:?}");
        assert!(r.stderr.contains("password_too_short"), "{r:?}");
        assert!(r.stderr.contains("password_invalid"), "{r:?}");
        let r = run(
            &db,
            &[
                "sip2-station",
                "create",
                "sc01",
                "--library",
                "NOPE",
                "--password-stdin",
            ],
            Some("kiosk-pass-2026\n"),
        )
        .await;
        assert_eq!(r.code, 1, "{label} {r:?}");
        assert!(r.stderr.contains("no library has code NOPE"), "{r:?}");
        assert!(database.sip2_stations().list().await.unwrap().is_empty());

        let r = run(
            &db,
            &[
                "sip2-station",
                "create",
                "sc01",
                "--library",
                "CEN",
                "--password-stdin",
            ],
            Some("kiosk-pass-2026\n"),
        )
        .await;
        assert_eq!(r.code, 0, "{label} {r:?}");
        assert!(
            r.stdout
                .contains("created SIP2 station sc01 (lends from CEN; pin_required=true"),
            "{r:?}"
        );
        assert!(!r.stdout.contains("kiosk-pass-2026"), "{r:?}");
        let r = run(
            &db,
            &["sip2-station", "create", "sc01", "--library", "CEN"],
            None,
        )
        .await;
        assert_eq!(r.code, 1, "{label} {r:?}");
        assert!(r.stderr.contains("already exists"), "{r:?}");
        let r = run(
            &db,
            &["sip2-station", "create", "sc02", "--library", "CEN"],
            None,
        )
        .await;
        assert_eq!(r.code, 0, "{label} {r:?}");
        let generated = r
            .stdout
            .lines()
            .find_map(|l| l.strip_prefix("password: "))
            .unwrap_or_else(|| panic!("no password in {r:?}"))
            .to_owned();

        // The stored hashes verify the passwords through the credential service, as a
        // station's 93 does.
        let service = credentials(&database);
        let stored = database.sip2_stations().list().await.unwrap();
        assert_eq!(stored.len(), 2, "{label}");
        assert_eq!(stored[0].library.as_str(), "CEN");
        assert_eq!(stored[0].created_by, "library-admin");
        for (station, password) in [(&stored[0], "kiosk-pass-2026"), (&stored[1], &generated)] {
            service
                .verify_station(
                    station.username.as_str(),
                    &Secret::new(password),
                    Some(&station.password_hash),
                    &source(),
                )
                .await
                .unwrap_or_else(|e| panic!("{label}: {} logs in: {e}", station.username));
        }
        service
            .verify_station(
                "sc01",
                &Secret::new("kiosk-pass-2025"),
                Some(&stored[0].password_hash),
                &source(),
            )
            .await
            .expect_err("a wrong password is refused");

        let r = run(&db, &["sip2-station", "list"], None).await;
        assert_eq!(r.code, 0, "{label} {r:?}");
        let lines: Vec<&str> = r.stdout.lines().collect();
        assert_eq!(lines.len(), 2, "{r:?}");
        assert!(lines[0].starts_with("sc01\tCEN\t"), "{r:?}");
        assert!(
            lines[0].ends_with(
                "+08:00\tlibrary-admin\tpin_required=true may_block=false addresses=any"
            ),
            "the defaults: {r:?}"
        );
        assert!(lines[1].starts_with("sc02\tCEN\t"), "{r:?}");

        let r = run(&db, &["sip2-station", "delete", "sc01"], None).await;
        assert_eq!(r.code, 0, "{label} {r:?}");
        assert!(r.stdout.contains("deleted SIP2 station sc01"), "{r:?}");
        let r = run(&db, &["sip2-station", "delete", "sc01"], None).await;
        assert_eq!(r.code, 1, "{label} {r:?}");
        assert!(r.stderr.contains("no SIP2 station sc01"), "{r:?}");
        let names: Vec<String> = database
            .sip2_stations()
            .list()
            .await
            .unwrap()
            .iter()
            .map(|s| s.username.to_string())
            .collect();
        assert_eq!(names, ["sc02"], "{label}");
        let audit: Vec<String> = database
            .audit_log()
            .recent(10)
            .await
            .unwrap()
            .into_iter()
            .map(|e| format!("{} {}", e.entry.action, e.entry.subject))
            .collect();
        assert_eq!(
            audit,
            [
                "sip2_station.delete sip2_station:sc01",
                "sip2_station.create sip2_station:sc02",
                "sip2_station.create sip2_station:sc01",
            ],
            "{label}"
        );
        database.close().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn migrate_is_idempotent() {
    for db in backends().await {
        for _ in 0..2 {
            let r = run(&db, &["migrate"], None).await;
            assert_eq!(r.code, 0, "{} {r:?}", db.label());
            assert!(r.stdout.contains("is migrated"), "{r:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn staff_users_are_created_with_the_policy_and_can_log_in() {
    for db in backends().await {
        let label = db.label();
        let r = run(
            &db,
            &[
                "create-staff",
                "kim",
                "--role",
                "librarian",
                "--password-stdin",
            ],
            Some("short\n"),
        )
        .await;
        assert_eq!(r.code, 1, "{label} {r:?}");
        assert!(r.stderr.contains("too_short"), "{r:?}");
        assert!(r.stderr.contains("missing_uppercase"), "{r:?}");

        let r = run(
            &db,
            &[
                "create-staff",
                "kim",
                "--role",
                "librarian",
                "--password-stdin",
            ],
            Some("Counter-Desk-42\n"),
        )
        .await;
        assert_eq!(r.code, 0, "{label} {r:?}");
        assert!(
            r.stdout.contains("created staff user kim (librarian)"),
            "{r:?}"
        );
        assert!(!r.stdout.contains("Counter-Desk-42"), "{r:?}");

        let r = run(&db, &["create-staff", "kim", "--role", "admin"], None).await;
        assert_eq!(r.code, 1, "{label} {r:?}");
        assert!(r.stderr.contains("already exists"), "{r:?}");

        let r = run(&db, &["create-staff", "lee", "--role", "admin"], None).await;
        assert_eq!(r.code, 0, "{label} {r:?}");
        let generated = r
            .stdout
            .lines()
            .find_map(|l| l.strip_prefix("password: "))
            .unwrap_or_else(|| panic!("no password in {r:?}"))
            .to_owned();

        let database = db.connect().await;
        let service = credentials(&database);
        let (_, kim) = service
            .staff_login("kim", &Secret::new("Counter-Desk-42"), &source())
            .await
            .expect("kim logs in");
        assert_eq!(kim.role.as_str(), "librarian");
        let (session, lee) = service
            .staff_login("lee", &Secret::new(generated), &source())
            .await
            .expect("lee logs in with the printed password");
        assert_eq!(lee.role.as_str(), "admin");
        assert_eq!(session.scope, Scope::Staff);
        database.close().await.unwrap();
    }
}

const READERS_BAD: &str = "name,phone,email,category,date_of_birth,home_library,card_number\n\
    Chan Tai Man,9123 4567,tm@example.com,adult,1985-03-14,CEN,21000000000999\n\
    Wong Siu Ming,12,,child,2016-05-04,CEN,\n\
    Lee Mei Ling,2345 9753,,senior,1952-08-21,NOPE,\n\
    \"Ho, Wing Sze\",6188 2468,not-an-email,Adult!,31/12/1990,CEN,\n";

const READERS_GOOD: &str = "name,phone,email,category,date_of_birth,home_library,card_number\n\
    Chan Tai Man,9123 4567,tm@example.com,adult,1985-03-14,CEN,21000000000999\n\
    Wong Siu Ming,5234 1357,,child,2016-05-04,CEN,\n\
    \"Ho, Wing Sze\",6188 2468,,adult,,MOB,\n";

#[tokio::test(flavor = "multi_thread")]
async fn reader_imports_are_all_or_nothing_and_readers_can_log_in() {
    for db in backends().await {
        let label = db.label();
        let database = db.connect().await;
        add_library(&database, "CEN", LibraryKind::District).await;
        add_library(&database, "MOB", LibraryKind::Mobile).await;

        let bad = write_file(READERS_BAD);
        let r = run(&db, &["import-readers", bad.arg()], None).await;
        assert_eq!(r.code, 1, "{label} {r:?}");
        for expected in [
            "nothing was imported",
            "line 3: phone \"12\": needs at least 4 digits",
            "line 4: home_library \"NOPE\": no such library",
            "line 5: email \"not-an-email\"",
            "line 5: category \"Adult!\"",
            "line 5: date_of_birth \"31/12/1990\"",
        ] {
            assert!(r.stderr.contains(expected), "{expected:?} in {r:?}");
        }
        assert!(!r.stderr.contains("line 2:"), "{r:?}");
        let card = CardNumber::parse("21000000000999").unwrap();
        assert!(
            database
                .patrons()
                .reader_by_card(&card)
                .await
                .unwrap()
                .is_none(),
            "the good row was not imported"
        );

        let good = write_file(READERS_GOOD);
        let r = run(&db, &["import-readers", good.arg()], None).await;
        assert_eq!(r.code, 0, "{label} {r:?}");
        assert!(r.stdout.contains("imported 3 reader(s)"), "{r:?}");
        let cards: Vec<(String, String)> = r
            .stdout
            .lines()
            .skip_while(|l| !l.starts_with("line,card_number"))
            .skip(1)
            .map(|l| {
                let mut parts = l.splitn(3, ',');
                let _line = parts.next();
                (
                    parts.next().unwrap().to_owned(),
                    parts.next().unwrap().to_owned(),
                )
            })
            .collect();
        assert_eq!(cards.len(), 3, "{r:?}");
        assert_eq!(cards[0].0, "21000000000999");
        assert_eq!(cards[2].1, "\"Ho, Wing Sze\"");
        assert!(cards[1].0.starts_with("21") && cards[1].0.len() == 14);

        let service = credentials(&database);
        for ((card, _), secret) in cards.iter().zip(["4567", "1357", "2468"]) {
            let issued = service
                .login(card, &Secret::new(secret), &source())
                .await
                .unwrap_or_else(|e| panic!("{label}: {card} logs in with {secret}: {e:?}"));
            assert_eq!(issued.scope, Scope::ChangePasswordOnly);
            service
                .pin_login(card, &Secret::new(secret), &source())
                .await
                .unwrap_or_else(|e| panic!("{label}: {card} PIN {secret}: {e:?}"));
        }
        let child = database
            .patrons()
            .reader_by_card(&CardNumber::parse(&cards[1].0).unwrap())
            .await
            .unwrap()
            .expect("imported");
        assert_eq!(child.category.as_str(), "child");
        assert_eq!(child.home_library.as_str(), "CEN");

        // The same file again: the fixed card number is taken now; nothing is imported.
        let r = run(&db, &["import-readers", good.arg()], None).await;
        assert_eq!(r.code, 1, "{label} {r:?}");
        assert!(
            r.stderr
                .contains("line 2: card_number 21000000000999: already registered"),
            "{r:?}"
        );

        // In-person reset: a temporary password that logs in once, forcing a change.
        let r = run(&db, &["reset-password", &cards[2].0], None).await;
        assert_eq!(r.code, 0, "{label} {r:?}");
        let temporary = r
            .stdout
            .lines()
            .find_map(|l| l.strip_prefix("temporary password: "))
            .expect("temporary password printed")
            .to_owned();
        assert!(r.stdout.contains("expires at: "), "{r:?}");
        assert!(r.stdout.contains("+08:00"), "{r:?}");
        let issued = service
            .login(&cards[2].0, &Secret::new(temporary), &source())
            .await
            .expect("the temporary password logs in");
        assert_eq!(issued.scope, Scope::ChangePasswordOnly);
        let r = run(&db, &["reset-password", "21999999999999"], None).await;
        assert_eq!(r.code, 1, "{r:?}");
        assert!(r.stderr.contains("no reader has card number"), "{r:?}");
        database.close().await.unwrap();
    }
}

const CATALOGUE_BAD: &str = "barcode,title,author,isbn,item_type,home_library,status\n\
    B0001,The Silent River,Chan,978-0-306-40615-7,adult_book,CEN,\n\
    B0002,The Silent River,Chan,978-0-306-40615-7,adult_book,MOB,\n\
    B0001,Duplicate barcode,,,adult_book,CEN,\n\
    B0004,Bad ISBN,,978-0-306-40615-8,adult_book,CEN,\n\
    B0005,,,,Adult Book,CEN,lost\n\
    B 6,Unknown library,,,children_book,XYZ,\n";

const CATALOGUE_GOOD: &str = "barcode,title,author,isbn,item_type,home_library,status\n\
    B0001,The Silent River,Chan,978-0-306-40615-7,adult_book,CEN,\n\
    B0002,The Silent River,Chan,978-0-306-40615-7,adult_book,MOB,\n\
    B0003,Little Panda Visits the Library,Wong,,children_book,CEN,not_for_loan\n\
    B0004,Little Panda Visits the Library,Wong,,children_book,MOB,\n\
    B0005,\"Tea, Culture and Time\",,,adult_book,CEN,\n";

#[tokio::test(flavor = "multi_thread")]
async fn catalogue_imports_are_all_or_nothing() {
    for db in backends().await {
        let label = db.label();
        let database = db.connect().await;
        add_library(&database, "CEN", LibraryKind::District).await;
        add_library(&database, "MOB", LibraryKind::Mobile).await;

        let bad = write_file(CATALOGUE_BAD);
        let r = run(&db, &["import-catalogue", bad.arg()], None).await;
        assert_eq!(r.code, 1, "{label} {r:?}");
        for expected in [
            "nothing was imported",
            "line 4: barcode B0001: also on line 2",
            "line 5: isbn \"978-0-306-40615-8\"",
            "line 6: title: missing",
            "line 6: item_type \"Adult Book\"",
            "line 6: status \"lost\"",
            "line 7: barcode \"B 6\"",
            "line 7: home_library \"XYZ\": no such library",
        ] {
            assert!(r.stderr.contains(expected), "{expected:?} in {r:?}");
        }
        assert_eq!(database.catalogue().counts().await.unwrap(), (0, 0));

        let good = write_file(CATALOGUE_GOOD);
        let r = run(&db, &["import-catalogue", good.arg()], None).await;
        assert_eq!(r.code, 0, "{label} {r:?}");
        assert!(
            r.stdout.contains("imported 3 title(s) and 5 item(s)"),
            "{r:?}"
        );
        assert_eq!(database.catalogue().counts().await.unwrap(), (3, 5));
        let catalogue = database.catalogue();
        let first = catalogue
            .item_by_barcode(&Barcode::parse("B0001").unwrap())
            .await
            .unwrap()
            .unwrap();
        let second = catalogue
            .item_by_barcode(&Barcode::parse("B0002").unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(first.title, second.title, "same ISBN, one title");
        let details = catalogue.title_details(first.title).await.unwrap().unwrap();
        assert_eq!(
            (
                details.name.as_str(),
                details.author.as_deref(),
                details.isbn.as_ref().map(library_core::Isbn::as_str)
            ),
            ("The Silent River", Some("Chan"), Some("9780306406157")),
            "{label}: author and ISBN stored"
        );
        let reserved = catalogue
            .item_by_barcode(&Barcode::parse("B0003").unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(reserved.status, library_circulation::ItemStatus::NotForLoan);
        let title = catalogue
            .item_by_barcode(&Barcode::parse("B0005").unwrap())
            .await
            .unwrap()
            .unwrap()
            .title;
        let details = catalogue.title_details(title).await.unwrap().unwrap();
        assert_eq!(
            (details.name.as_str(), details.author, details.isbn),
            ("Tea, Culture and Time", None, None),
            "{label}"
        );

        // Again: every barcode is taken now.
        let r = run(&db, &["import-catalogue", good.arg()], None).await;
        assert_eq!(r.code, 1, "{label} {r:?}");
        assert!(r.stderr.contains("already in the catalogue"), "{r:?}");
        assert_eq!(database.catalogue().counts().await.unwrap(), (3, 5));
        database.close().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_fine_preview_counts_the_open_loans_and_changes_nothing() {
    for db in backends().await {
        let label = db.label();
        let database = db.connect().await;
        add_library(&database, "CEN", LibraryKind::District).await;
        add_library(&database, "MOB", LibraryKind::Mobile).await;
        database.rules().replace_all(&hkpl_profile()).await.unwrap();
        let catalogue = write_file(
            "barcode,title,item_type,home_library\n\
             A1,Adult one,adult_book,CEN\n\
             J1,Junior one,children_book,CEN\n\
             A2,Adult two,adult_book,MOB\n\
             A3,Adult three,adult_book,CEN\n",
        );
        assert_eq!(
            run(&db, &["import-catalogue", catalogue.arg()], None)
                .await
                .code,
            0
        );
        let readers = write_file(
            "name,phone,category,home_library,card_number\n\
             Reader A,9123 4567,adult,CEN,21000000000101\n\
             Reader B,9123 7654,child,CEN,21000000000102\n",
        );
        assert_eq!(
            run(&db, &["import-readers", readers.arg()], None)
                .await
                .code,
            0
        );

        // Open loans: A has an adult and a children's item from CEN due 1 March 2021; B an
        // adult item from the mobile library due 1 March and one from CEN due 20 March.
        let patron = |card: &'static str| {
            let database = database.clone();
            async move {
                database
                    .patrons()
                    .reader_by_card(&CardNumber::parse(card).unwrap())
                    .await
                    .unwrap()
                    .unwrap()
                    .id
            }
        };
        let (a, b) = (
            patron("21000000000101").await,
            patron("21000000000102").await,
        );
        let calendar = Calendar::always_open(DEFAULT_LIBRARY_OFFSET);
        let mut tx = database.circulation().begin().await.unwrap();
        for (who, barcode, library, due) in [
            (a, "A1", "CEN", date!(2021 - 03 - 01)),
            (a, "J1", "CEN", date!(2021 - 03 - 01)),
            (b, "A2", "MOB", date!(2021 - 03 - 01)),
            (b, "A3", "CEN", date!(2021 - 03 - 20)),
        ] {
            let item = database
                .catalogue()
                .item_by_barcode(&Barcode::parse(barcode).unwrap())
                .await
                .unwrap()
                .unwrap();
            tx.insert_loan(NewLoan {
                patron: who,
                item: item.id,
                library: LibraryCode::parse(library).unwrap(),
                borrowed_at: time::macros::datetime!(2021 - 02 - 01 10:00 UTC),
                due: DueDate::on(due, &calendar),
            })
            .await
            .unwrap();
        }
        tx.commit().await.unwrap();

        let dbr = &db;
        let preview = move |extra: &'static [&'static str]| {
            let mut args = vec![
                "preview-fines",
                "--starts-on",
                "2021-02-01",
                "--resumes-on",
                "2021-03-05",
                "--as-of",
                "2021-03-10",
                "--json",
            ];
            args.extend_from_slice(extra);
            async move {
                let r = run(dbr, &args, None).await;
                assert_eq!(r.code, 0, "{r:?}");
                serde_json::from_str::<serde_json::Value>(r.stdout.trim())
                    .unwrap_or_else(|e| panic!("{e}: {r:?}"))
            }
        };
        // Every library: 6 charged days (5 to 10 March) instead of 9 for the three overdue
        // loans: 6 × 150 + 6 × 50 + 6 × 150; without the period 9 × (150 + 50 + 150).
        let all = preview(&[]).await;
        assert_eq!(all["loans"], 3, "{label} {all}");
        assert_eq!(all["patrons"], 2, "{label} {all}");
        assert_eq!(all["total_cents"], 2100, "{label} {all}");
        assert_eq!(all["waived_cents"], 1050, "{label} {all}");
        // Mobile libraries only: A's loans are charged 9 days.
        let mobile = preview(&["--library-kinds", "mobile"]).await;
        assert_eq!(mobile["total_cents"], 1350 + 450 + 900, "{label} {mobile}");
        assert_eq!(mobile["waived_cents"], 450, "{label} {mobile}");
        let by_code = preview(&["--library-codes", "MOB"]).await;
        assert_eq!(by_code, mobile, "{label}");
        // Until further notice, as of a later date.
        let r = run(
            &db,
            &[
                "preview-fines",
                "--starts-on",
                "2021-02-01",
                "--as-of",
                "2021-03-10",
            ],
            None,
        )
        .await;
        assert_eq!(r.code, 0, "{r:?}");
        assert!(r.stdout.contains("loans charged:   0"), "{r:?}");
        assert!(
            r.stdout.contains("waived:          HK$31.50 (3150 cents)"),
            "{r:?}"
        );
        // Bad candidates are usage errors.
        let r = run(
            &db,
            &[
                "preview-fines",
                "--starts-on",
                "2021-03-05",
                "--resumes-on",
                "2021-03-01",
            ],
            None,
        )
        .await;
        assert_eq!(r.code, 2, "{r:?}");
        let r = run(
            &db,
            &[
                "preview-fines",
                "--starts-on",
                "2021-03-05",
                "--library-kinds",
                "huge",
            ],
            None,
        )
        .await;
        assert_eq!(r.code, 2, "{r:?}");

        // Nothing changed: the loans are still open, no charge was written.
        let again = preview(&[]).await;
        assert_eq!(again, all);
        database.close().await.unwrap();
    }
}

/// The stored rules, in a stable order, read by a process of its own (no cache).
async fn stored_rules(db: &TestDb) -> Vec<library_circulation::ScopedRules> {
    let fresh = db.connect().await;
    let rules = fresh.rules().list().await.unwrap();
    fresh.close().await.unwrap();
    sorted(rules)
}

/// `rules` in a stable order.
fn sorted(
    mut rules: Vec<library_circulation::ScopedRules>,
) -> Vec<library_circulation::ScopedRules> {
    rules.sort_by_key(|s| {
        (
            s.scope.library.as_ref().map(|c| c.as_str().to_owned()),
            s.scope.category.as_ref().map(|c| c.as_str().to_owned()),
            s.scope.item_type.as_ref().map(|c| c.as_str().to_owned()),
        )
    });
    rules
}

#[tokio::test(flavor = "multi_thread")]
async fn policy_show_and_apply_round_trip_and_reach_a_running_server() {
    use library_circulation::ports::RuleRepository;
    for db in backends().await {
        let label = db.label();
        // A server process's view of the rules (cached, as a running server's).
        let server = db.connect().await;
        assert!(server.rules().scoped_rules().await.unwrap().is_empty());

        // No rules: the empty policy, which applies back to no rules.
        let r = run(&db, &["policy", "show"], None).await;
        assert_eq!(r.code, 0, "{label} {r:?}");
        assert!(r.stdout.contains("profile = \"none\""), "{r:?}");

        // A policy of three scopes, every rule and scope key among them.
        let file = write_file(
            "# rules for the branch network\n\
             [[policy.scopes]]\n\
             [policy.scopes.rules]\n\
             loan_days = 21\nrenewals_allowed = 3\nrenewal_base = \"due_date\"\n\
             renew_before_days = 4\nquota = 8\nholds_allowed = 5\npickup_days = 6\n\
             fine_per_day_cents = 100\ngrace_days = 1\nmax_fine_cents = 5000\n\
             block_threshold_cents = 5000\nsuspension_days_per_day = 1\n\
             max_suspension_days = 28\ncount_closed_days = false\nhold_fee_cents = 200\n\n\
             [[policy.scopes]]\n\
             scope = { item_type = \"children_book\" }\n\
             [policy.scopes.rules]\nfine_per_day_cents = 20\n\n\
             [[policy.scopes]]\n\
             scope = { library_code = \"MOB1\", category = \"child\", item_type = \"adult_av\" }\n\
             [policy.scopes.rules]\nloan_days = 7\nquota = 2\n",
        );
        let r = run(&db, &["policy", "apply", file.arg()], None).await;
        assert_eq!(r.code, 0, "{label} {r:?}");
        assert!(r.stdout.contains("3 scope(s) (were 0)"), "{r:?}");
        let applied = stored_rules(&db).await;
        assert_eq!(applied.len(), 3, "{label}");
        let global = &applied[0].rules;
        assert_eq!(
            (global.loan_days, global.quota, global.count_closed_days),
            (Some(21), Some(8), Some(false))
        );

        // The running server's cache picks the change up (PostgreSQL: its notification;
        // SQLite: the configuration's version, read every second).
        let mut seen = false;
        for _ in 0..100 {
            if sorted(server.rules().scoped_rules().await.unwrap()) == applied {
                seen = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert!(seen, "{label}: the running server kept the old rules");

        // `show` prints what `apply` reads back to the same rules and the same text.
        let shown = run(&db, &["policy", "show"], None).await;
        assert_eq!(shown.code, 0, "{label} {shown:?}");
        assert_eq!(shown.stdout.matches("[[policy.scopes]]").count(), 3);
        let again = write_file(&shown.stdout);
        let r = run(&db, &["policy", "apply", again.arg()], None).await;
        assert_eq!(r.code, 0, "{label} {r:?}");
        assert_eq!(stored_rules(&db).await, applied, "{label}");
        let shown_again = run(&db, &["policy", "show"], None).await;
        assert_eq!(shown_again.stdout, shown.stdout, "{label}");

        // An invalid file changes nothing and says what is wrong.
        let bad = write_file("[[policy.scopes]]\n[policy.scopes.rules]\nquta = 10\n");
        let r = run(&db, &["policy", "apply", bad.arg()], None).await;
        assert_eq!(r.code, 1, "{label} {r:?}");
        assert!(r.stderr.contains("unknown field `quta`"), "{r:?}");
        let bad = write_file(
            "[[policy.scopes]]\nscope = { item_type = \"AV\" }\n[policy.scopes.rules]\nquota = 1\n",
        );
        let r = run(&db, &["policy", "apply", bad.arg()], None).await;
        assert_eq!(r.code, 1, "{label} {r:?}");
        assert!(r.stderr.contains("#1: scope.item_type \"AV\""), "{r:?}");
        let bad = write_file("database_url = \"sqlite://elsewhere.db\"\n");
        let r = run(&db, &["policy", "apply", bad.arg()], None).await;
        assert_eq!(r.code, 1, "{label} {r:?}");
        assert!(r.stderr.contains("no [policy] section"), "{r:?}");
        assert_eq!(stored_rules(&db).await, applied, "{label}");

        // The default profile by name, then no rules at all.
        let hkpl = write_file("[policy]\nprofile = \"hkpl\"\n");
        let r = run(&db, &["policy", "apply", hkpl.arg()], None).await;
        assert_eq!(r.code, 0, "{label} {r:?}");
        let mut profile = hkpl_profile();
        profile.sort_by_key(|s| s.scope.item_type.as_ref().map(|c| c.as_str().to_owned()));
        assert_eq!(stored_rules(&db).await, profile, "{label}");
        let none = write_file("[policy]\nprofile = \"none\"\n");
        let r = run(&db, &["policy", "apply", none.arg()], None).await;
        assert_eq!(r.code, 0, "{label} {r:?}");
        assert!(stored_rules(&db).await.is_empty(), "{label}");
        let mut emptied = false;
        for _ in 0..100 {
            if server.rules().scoped_rules().await.unwrap().is_empty() {
                emptied = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert!(emptied, "{label}: the running server kept the old rules");

        // Each replacement is in the audit log.
        let replaced = server
            .audit_log()
            .recent(100)
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.entry.action == "rules.replace")
            .count();
        assert_eq!(replaced, 4, "{label}");
        server.close().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sip2_station_settings_are_given_at_creation_and_changed() {
    for db in backends().await {
        let label = db.label();
        let database = db.connect().await;
        add_library(&database, "CEN", LibraryKind::Central).await;
        let create = [
            "sip2-station",
            "create",
            "sc01",
            "--library",
            "CEN",
            "--pin-required",
            "false",
            "--may-block",
            "true",
            "--allow",
            "127.0.0.3",
            "--allow",
            "10.1.2.3/8",
        ];
        let r = run(&db, &create, None).await;
        assert_eq!(r.code, 0, "{label} {r:?}");
        assert!(
            r.stdout
                .contains("pin_required=false may_block=true addresses=127.0.0.3,10.0.0.0/8"),
            "{r:?}"
        );
        let stored = &database.sip2_stations().list().await.unwrap()[0];
        assert!(!stored.settings.pin_required, "{label}");
        assert!(stored.settings.may_block);
        assert_eq!(stored.settings.allowed_addresses.len(), 2);

        // Changed: only what is given.
        let r = run(
            &db,
            &["sip2-station", "set", "sc01", "--pin-required", "true"],
            None,
        )
        .await;
        assert_eq!(r.code, 0, "{label} {r:?}");
        let r = run(&db, &["sip2-station", "list"], None).await;
        assert!(
            r.stdout
                .contains("pin_required=true may_block=true addresses=127.0.0.3,10.0.0.0/8"),
            "{r:?}"
        );
        let r = run(
            &db,
            &[
                "sip2-station",
                "set",
                "sc01",
                "--allow-any",
                "--may-block",
                "false",
            ],
            None,
        )
        .await;
        assert_eq!(r.code, 0, "{label} {r:?}");
        let stored = &database.sip2_stations().list().await.unwrap()[0];
        assert!(stored.settings.pin_required && !stored.settings.may_block);
        assert!(stored.settings.allowed_addresses.is_empty(), "{label}");

        // Bad input changes nothing.
        for bad in [
            &["sip2-station", "set", "sc01", "--allow", "library.example"][..],
            &["sip2-station", "set", "sc01", "--pin-required", "maybe"],
            &[
                "sip2-station",
                "set",
                "sc01",
                "--allow",
                "10.0.0.1",
                "--allow-any",
            ],
        ] {
            let r = run(&db, bad, None).await;
            assert_eq!(r.code, 2, "{label} {bad:?} {r:?}");
        }
        let r = run(
            &db,
            &["sip2-station", "set", "nobody", "--may-block", "true"],
            None,
        )
        .await;
        assert_eq!(r.code, 1, "{label} {r:?}");
        assert!(r.stderr.contains("no SIP2 station nobody"), "{r:?}");
        let stored = &database.sip2_stations().list().await.unwrap()[0];
        assert!(stored.settings.pin_required && !stored.settings.may_block);
        let audit: Vec<String> = database
            .audit_log()
            .recent(10)
            .await
            .unwrap()
            .into_iter()
            .map(|e| format!("{} {}", e.entry.action, e.entry.subject))
            .collect();
        assert_eq!(
            audit,
            [
                "sip2_station.settings sip2_station:sc01",
                "sip2_station.settings sip2_station:sc01",
                "sip2_station.create sip2_station:sc01",
            ],
            "{label}"
        );
        database.close().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn purge_dry_run_lists_counts_and_purge_deletes_past_the_retention() {
    use library_app::admission::{AdmissionStore, NewVisitorRecord, RecordedBy, VisitorQuery};
    use library_premises::admission::Visitor;
    for t in backends().await {
        let db = t.connect().await;
        add_library(&db, "TMPL", LibraryKind::Major).await;
        let store = db.admission();
        // The admin tool runs on the system clock: one visit 40 days ago (past the 31
        // days), one yesterday.
        let now = time::OffsetDateTime::now_utc();
        for (name, days) in [("Chan Tai Man", 40), ("Wong Siu Ming", 1)] {
            let at = now - time::Duration::days(days);
            store
                .register(
                    &NewVisitorRecord {
                        library: LibraryCode::parse("TMPL").unwrap(),
                        section: None,
                        visitor: Visitor {
                            name: name.into(),
                            phone: "91234567".into(),
                            visited_at: at,
                        },
                        recorded_at: at,
                        recorded_by: RecordedBy::SelfService,
                    },
                    false,
                    None,
                )
                .await
                .unwrap();
        }
        let count = async || {
            // Visits of the last two months, whatever today is.
            let today = now.to_offset(DEFAULT_LIBRARY_OFFSET).date();
            let recent = VisitorQuery {
                library: None,
                from: today - time::Duration::days(60),
                to: today,
            };
            store
                .visitors(&recent, &|_| library_app::AuditRecord {
                    staff: None,
                    action: "visitors.read",
                    subject: "library:*".into(),
                    details: "{}".into(),
                    at: now,
                })
                .await
                .unwrap()
                .len()
        };
        let dry = run(&t, &["purge", "--dry-run"], None).await;
        assert_eq!(dry.code, 0, "{}: {dry:?}", t.name);
        let old_day = (now - time::Duration::days(40))
            .to_offset(DEFAULT_LIBRARY_OFFSET)
            .date();
        assert!(
            dry.stdout.contains("would delete 1 registrations"),
            "{dry:?}"
        );
        assert!(
            dry.stdout.contains(&format!("TMPL\t{old_day}\t1")),
            "{dry:?}"
        );
        assert!(
            !dry.stdout.contains("Chan") && !dry.stdout.contains("9123"),
            "{dry:?}"
        );
        assert_eq!(count().await, 2, "{}: the dry run deleted", t.name);
        let purge = run(&t, &["purge"], None).await;
        assert_eq!(purge.code, 0, "{}: {purge:?}", t.name);
        assert!(
            purge.stdout.contains("deleted 1 registrations"),
            "{purge:?}"
        );
        assert_eq!(count().await, 1, "{}", t.name);
        // Nothing left to purge.
        let again = run(&t, &["purge"], None).await;
        assert!(
            again.stdout.contains("deleted 0 registrations"),
            "{again:?}"
        );
        // The permission: an unknown user fails, a known one is granted and revoked.
        let r = run(&t, &["grant-contact-tracing", "nobody"], None).await;
        assert_eq!(r.code, 1, "{r:?}");
        let r = run(
            &t,
            &[
                "create-staff",
                "mei",
                "--role",
                "librarian",
                "--password-stdin",
            ],
            Some("Door-Keeper-42\n"),
        )
        .await;
        assert_eq!(r.code, 0, "{r:?}");
        let r = run(&t, &["grant-contact-tracing", "mei"], None).await;
        assert_eq!(r.code, 0, "{r:?}");
        let log = db.audit_log().recent(1).await.unwrap();
        assert_eq!(log[0].entry.action, "staff.permission_grant", "{}", t.name);
        let r = run(&t, &["revoke-contact-tracing", "mei"], None).await;
        assert_eq!(r.code, 0, "{r:?}");
        assert!(r.stdout.contains("revoked"), "{r:?}");
    }
}
