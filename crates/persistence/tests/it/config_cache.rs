//! The configuration cache stays exact: a change of rules, a calendar or a fine-suspension
//! period made through one `Database` is seen by the same one at once and by a second one
//! on the same database (another server process, or the admin tool) as soon as the change
//! is announced (PostgreSQL) or its version read (SQLite, within a second).

use library_circulation::ports::{CalendarRepository, FineSuspensionRepository, RuleRepository};
use library_circulation::{Closure, RuleScope, RuleSet};
use library_core::{LibraryCode, LibraryKind};
use library_fines::{FineSuspensionPeriod, SuspensionScope};
use library_persistence::{CalendarRule, Database, NewLibrary};
use time::UtcOffset;
use time::macros::date;

use crate::support::{self, backends};

fn code(text: &str) -> LibraryCode {
    LibraryCode::parse(text).unwrap()
}

/// [`support::eventually`] on `db`.
async fn eventually<F, Fut>(what: &str, db: &Database, check: F)
where
    F: Fn(Database) -> Fut,
    Fut: Future<Output = bool>,
{
    support::eventually(what, || check(db.clone())).await;
}

#[tokio::test]
async fn changes_reach_this_process_at_once_and_another_when_announced() {
    for t in backends().await {
        // Both listen before reading, so the second really caches what it reads.
        let (first, second) = support::two_processes(&t).await;
        let tmpl = code("TMPL");
        first
            .libraries()
            .create(
                &NewLibrary {
                    code: tmpl.clone(),
                    name: "Tuen Mun Public Library".into(),
                    name_zh: "屯門公共圖書館".into(),
                    kind: LibraryKind::District,
                    utc_offset: UtcOffset::from_hms(8, 0, 0).unwrap(),
                },
                None,
            )
            .await
            .unwrap();
        // Both processes read (and cache) the configuration.
        for db in [&first, &second] {
            let library = db.libraries().library_calendar(&tmpl).await.unwrap();
            assert!(library.unwrap().calendar.is_open(date!(2021 - 12 - 31)));
            assert!(db.rules().scoped_rules().await.unwrap().is_empty());
            assert!(
                db.fine_suspensions()
                    .fine_suspension_periods()
                    .await
                    .unwrap()
                    .is_empty()
            );
        }

        // A closure, rules and a period written through the first.
        let closure = Closure::new(date!(2021 - 12 - 30), date!(2022 - 01 - 02)).unwrap();
        first
            .libraries()
            .add_calendar_entry(&tmpl, CalendarRule::Closure(closure), "stocktake", None)
            .await
            .unwrap();
        let rules = RuleSet {
            loan_days: Some(21),
            ..RuleSet::default()
        };
        first
            .rules()
            .put_rules(&RuleScope::default(), &rules)
            .await
            .unwrap();
        let period = FineSuspensionPeriod::new(
            date!(2021 - 01 - 01),
            Some(date!(2021 - 03 - 05)),
            SuspensionScope::all_libraries(),
            "closure",
        )
        .unwrap();
        let period_id = first
            .fine_suspensions()
            .create(&period, None)
            .await
            .unwrap();

        // The writer sees them at once.
        let library = first.libraries().library_calendar(&tmpl).await.unwrap();
        assert!(
            !library.unwrap().calendar.is_open(date!(2021 - 12 - 31)),
            "{}",
            t.name
        );
        assert_eq!(first.rules().scoped_rules().await.unwrap()[0].rules, rules);
        assert_eq!(
            first
                .fine_suspensions()
                .fine_suspension_periods()
                .await
                .unwrap(),
            vec![period.clone()]
        );

        // The other process once the change is announced (or, on SQLite, once it reads
        // the configuration's version).
        eventually("closure", &second, |db| async move {
            let library = db
                .libraries()
                .library_calendar(&code("TMPL"))
                .await
                .unwrap();
            !library.unwrap().calendar.is_open(date!(2021 - 12 - 31))
        })
        .await;
        eventually("rules", &second, |db| async move {
            db.rules().scoped_rules().await.unwrap().len() == 1
        })
        .await;
        eventually("period", &second, |db| async move {
            db.fine_suspensions()
                .fine_suspension_periods()
                .await
                .unwrap()
                .len()
                == 1
        })
        .await;

        // Moving the resume date and removing the closure and the rule reach it too.
        first
            .fine_suspensions()
            .set_resume_date(period_id, date!(2021 - 05 - 03), None)
            .await
            .unwrap();
        let entry = first.libraries().calendar_entries(&tmpl).await.unwrap()[0].id;
        assert!(
            first
                .libraries()
                .remove_calendar_entry(&tmpl, entry, None)
                .await
                .unwrap()
        );
        assert!(
            first
                .rules()
                .remove_rule(&RuleScope::default(), "loan_days")
                .await
                .unwrap()
        );
        eventually("moved resume date", &second, |db| async move {
            db.fine_suspensions()
                .fine_suspension_periods()
                .await
                .unwrap()[0]
                .resumes_on
                == Some(date!(2021 - 05 - 03))
        })
        .await;
        eventually("removed closure", &second, |db| async move {
            let library = db
                .libraries()
                .library_calendar(&code("TMPL"))
                .await
                .unwrap();
            library.unwrap().calendar.is_open(date!(2021 - 12 - 31))
        })
        .await;
        eventually("removed rule", &second, |db| async move {
            db.rules().scoped_rules().await.unwrap().is_empty()
        })
        .await;
    }
}

#[tokio::test]
async fn on_sqlite_another_process_change_is_seen_when_the_version_moves() {
    use sea_orm::ConnectionTrait;
    let t = library_persistence::testing::TestDb::sqlite();
    let (first, second) = support::two_processes(&t).await;
    // The second has read its version once (which invalidates) and caches what it reads.
    tokio::time::sleep(library_persistence::SQLITE_POLL_EVERY * 2).await;
    assert!(second.rules().scoped_rules().await.unwrap().is_empty());

    // A rule written behind the stores' back (no version moved) stays unseen: the second
    // answers from its cache, also after several polls.
    let raw = sea_orm::Database::connect(t.url()).await.unwrap();
    raw.execute_unprepared(
        "INSERT INTO circulation_rules (library, category, item_type, name, value) \
         VALUES ('', '', '', 'quota', '4')",
    )
    .await
    .unwrap();
    raw.close().await.unwrap();
    tokio::time::sleep(library_persistence::SQLITE_POLL_EVERY * 3).await;
    assert!(
        second.rules().scoped_rules().await.unwrap().is_empty(),
        "the second process caches the rules"
    );

    // A change through the first process's store moves the version: the second drops its
    // cache and reads both rules.
    first
        .rules()
        .put_rules(
            &RuleScope::default(),
            &RuleSet {
                loan_days: Some(21),
                ..RuleSet::default()
            },
        )
        .await
        .unwrap();
    eventually("rules", &second, |db| async move {
        let rules = db.rules().scoped_rules().await.unwrap();
        rules.len() == 1 && rules[0].rules.quota == Some(4) && rules[0].rules.loan_days == Some(21)
    })
    .await;
    first.close().await.unwrap();
    second.close().await.unwrap();
}
