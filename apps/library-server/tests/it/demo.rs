//! The demo data set (`--demo`, `library_setup::demo`) loaded by a real server: once into
//! an empty database, with every count as documented, and its readers able to log in.

use std::collections::HashSet;

use library_circulation::hkpl_profile;
use library_core::{CardNumber, DEFAULT_LIBRARY_OFFSET, LibraryCode, LibraryKind};
use library_persistence::Database;
use library_server::Application;
use library_setup::Config;
use library_setup::demo::{DemoOutcome, HOLIDAYS, READERS, load, load_on_start};
use time::OffsetDateTime;
use time::macros::date;

use crate::support::{ADMIN_PASSWORD, test_databases};

#[tokio::test(flavor = "multi_thread")]
async fn the_demo_loads_once_into_an_empty_database_and_its_readers_log_in() {
    for test_db in test_databases().await {
        let url = test_db.url();
        let config = Config {
            database_url: url.clone(),
            http_addr: "127.0.0.1:0".into(),
            admin_password: Some(ADMIN_PASSWORD.into()),
            demo: true,
            ..Config::default()
        };
        let app = Application::build(&config)
            .await
            .expect("application starts");
        let started = std::time::Instant::now();
        let outcome = load_on_start(&config).await.expect("demo loads");
        let took = started.elapsed();
        let DemoOutcome::Loaded(summary) = outcome else {
            panic!("{url}: not loaded: {outcome:?}");
        };
        assert!(
            took < std::time::Duration::from_secs(10),
            "{url}: took {took:?}"
        );
        assert_eq!(summary.titles, 1000);
        assert_eq!(summary.items, 1334);
        assert_eq!(summary.readers.len(), READERS.len());
        assert_eq!((summary.activities, summary.notices), (4, 4));
        assert_eq!(summary.study_room_schemes, 1);

        // Counts through the stores.
        let db = Database::connect(&url).await.unwrap();
        let libraries = db.libraries().list().await.unwrap();
        assert_eq!(libraries.len(), 6, "{url}");
        let kinds: HashSet<LibraryKind> = libraries.iter().map(|l| l.kind).collect();
        assert_eq!(kinds.len(), 5, "every kind of library");
        let mut entries = 0;
        for library in &libraries {
            entries += db
                .libraries()
                .calendar_entries(&library.code)
                .await
                .unwrap()
                .len();
        }
        assert_eq!(entries, summary.calendar_entries);
        assert_eq!(entries, 6 * HOLIDAYS.len() + 6);
        let scope_key = |r: &library_circulation::ScopedRules| r.scope.item_type.clone();
        let mut stored = db.rules().list().await.unwrap();
        stored.sort_by_key(scope_key);
        let mut profile = hkpl_profile();
        profile.sort_by_key(scope_key);
        assert_eq!(stored, profile, "{url}");
        assert_eq!(db.fine_suspensions().list().await.unwrap().len(), 2);
        assert_eq!(
            db.catalogue().counts().await.unwrap(),
            (1000, 1334),
            "{url}"
        );
        // Hong Kong Central Library is closed on Christmas Day, Kowloon on Wednesdays.
        use library_circulation::ports::CalendarRepository;
        let hkcl = db
            .libraries()
            .library_calendar(&LibraryCode::parse("HKCL").unwrap())
            .await
            .unwrap()
            .unwrap();
        assert!(!hkcl.calendar.is_open(date!(2026 - 12 - 25)));
        assert!(hkcl.calendar.is_open(date!(2026 - 12 - 23)));
        let kln = db
            .libraries()
            .library_calendar(&LibraryCode::parse("KLNPL").unwrap())
            .await
            .unwrap()
            .unwrap();
        assert!(!kln.calendar.is_open(date!(2026 - 12 - 23)), "a Wednesday");
        for r in &READERS {
            let reader = db
                .patrons()
                .reader_by_card(&CardNumber::parse(r.card).unwrap())
                .await
                .unwrap()
                .unwrap_or_else(|| panic!("{url}: demo reader {} missing", r.card));
            assert_eq!(reader.category.as_str(), r.category);
        }

        // "My Info": the activities are open, the notices current for a HKCL reader.
        let upcoming = db
            .activities()
            .list(&library_reader_services::ActivityQuery {
                library: None,
                starting_from: OffsetDateTime::now_utc(),
                include_cancelled: false,
                limit: 10,
                offset: 0,
            })
            .await
            .unwrap();
        assert_eq!(upcoming.total, 4, "{url}");
        let now = OffsetDateTime::now_utc();
        assert!(
            upcoming
                .items
                .iter()
                .all(|l| l.activity.registration_open(now))
        );
        let today = now.to_offset(DEFAULT_LIBRARY_OFFSET).date();
        let hkcl_notices = db
            .notices()
            .current_for(Some(&LibraryCode::parse("HKCL").unwrap()), today)
            .await
            .unwrap();
        assert_eq!(
            hkcl_notices.len(),
            3,
            "{url}: every library's, HKCL's and the reopening"
        );

        // A demo reader logs in over HTTP with the logged default Password and PIN.
        let base = format!("http://{}", app.local_addr());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(app.run_until(async {
            let _ = stopped.await;
        }));
        let client = reqwest::Client::new();
        for reader in &summary.readers {
            let answer = client
                .post(format!("{base}/api/v1/auth/login"))
                .json(&serde_json::json!({
                    "card_number": reader.card_number,
                    "password": reader.default_secret,
                }))
                .send()
                .await
                .unwrap();
            assert_eq!(answer.status(), 200, "{url}: {}", reader.card_number);
            let body: serde_json::Value = answer.json().await.unwrap();
            assert_eq!(body["scope"], "change_password_only");
        }
        // The seed's library services, through the public API: hours and door services,
        // the reopened sections, the capacities, the study-room scheme open for
        // applications.
        let get = async |path: &str| -> serde_json::Value {
            let answer = client.get(format!("{base}{path}")).send().await.unwrap();
            assert_eq!(answer.status(), 200, "{url}: {path}");
            answer.json().await.unwrap()
        };
        let hours = get("/api/v1/libraries/HKCL/hours").await;
        assert_eq!(hours["book_drop"], true, "{url}");
        assert_eq!(hours["special_hours"].as_array().map(Vec::len), Some(1));
        let sections: HashSet<(String, String)> = hours["sections"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["section"].as_str().unwrap().to_owned(),
                    s["status_today"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        for (section, status) in [
            ("adult", "open"),
            ("young_adult", "open"),
            ("children", "open"),
            ("study_room", "open"),
            ("computer", "closed"),
        ] {
            assert!(
                sections.contains(&(section.to_owned(), status.to_owned())),
                "{url}: {section} {status} in {sections:?}"
            );
        }
        let lckpl = get("/api/v1/libraries/LCKPL/hours").await;
        assert_eq!(lckpl["sections"], serde_json::json!([]), "not reopened");
        let door = get("/api/v1/libraries/HKCL/occupancy").await;
        assert_eq!(
            (&door["inside"], &door["capacity"]),
            (&serde_json::json!(0), &serde_json::json!(500))
        );
        let schemes = get("/api/v1/study-room-schemes").await;
        assert_eq!(schemes["schemes"][0]["window_open"], true, "{url}");
        let pin = client
            .post(format!("{base}/api/v1/auth/pin-login"))
            .json(&serde_json::json!({
                "card_number": summary.readers[0].card_number,
                "pin": summary.readers[0].default_secret,
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(pin.status(), 200);

        // Idempotent: a second start with --demo changes nothing.
        let again = load(&db, OffsetDateTime::now_utc()).await.unwrap();
        assert_eq!(again, DemoOutcome::Skipped { libraries: 6 });
        assert_eq!(db.catalogue().counts().await.unwrap(), (1000, 1334));
        db.close().await.unwrap();
        let _ = stop.send(());
        server.await.unwrap().unwrap();
    }
}
