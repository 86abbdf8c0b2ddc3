//! The configuration cache stays exact: a change of rules, a calendar or a fine-suspension
//! period made through one `Database` is seen by the same one at once and, on PostgreSQL,
//! by a second one on the same database (another server process) as soon as the change is
//! announced. (On SQLite the server is the only process that writes configuration.)

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
            .create(&NewLibrary {
                code: tmpl.clone(),
                name: "Tuen Mun Public Library".into(),
                name_zh: "屯門公共圖書館".into(),
                kind: LibraryKind::District,
                utc_offset: UtcOffset::from_hms(8, 0, 0).unwrap(),
            })
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
            .add_calendar_entry(&tmpl, CalendarRule::Closure(closure), "stocktake")
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
        let period_id = first.fine_suspensions().create(&period).await.unwrap();

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

        if t.label() == "sqlite" {
            continue;
        }
        // The other process once the change is announced.
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
            .set_resume_date(period_id, date!(2021 - 05 - 03))
            .await
            .unwrap();
        let entry = first.libraries().calendar_entries(&tmpl).await.unwrap()[0].id;
        assert!(
            first
                .libraries()
                .remove_calendar_entry(&tmpl, entry)
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
