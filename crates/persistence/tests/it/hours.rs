//! Opening hours, sections, door services and the reopening act (`DbPremises`), on every
//! backend: what is stored reads back, each change writes its audit entry in its own
//! transaction, and a reopening with an unknown library changes nothing.

use library_app::premises::{PremisesStore, Reopening, ReopeningNotice};
use library_app::{AdminError, AuditRecord};
use library_core::LibraryCode;
use library_premises::hours::{
    DayHours, DoorServices, Period, Section, SectionCode, SectionStatus, SpecialHours,
    SpecialPattern, WeekHours,
};
use library_reader_services::NoticeId;
use time::macros::date;

use crate::circ_support::{NOW, code, seed_db};
use crate::support::backends;

fn audit(action: &'static str) -> AuditRecord {
    AuditRecord {
        staff: None,
        action,
        subject: "library:HKCL".into(),
        details: "{}".into(),
        at: NOW,
    }
}

fn day(start: &str, end: &str) -> DayHours {
    DayHours::new(vec![Period::parse(start, end).unwrap()]).unwrap()
}

fn section(c: &str, status: SectionStatus) -> Section {
    Section::new(
        SectionCode::parse(c).unwrap(),
        status,
        date!(2021 - 02 - 19),
        None,
        None,
    )
    .unwrap()
}

fn reopening(libraries: &[&str]) -> Reopening {
    Reopening {
        libraries: libraries.iter().map(|c| code(c)).collect(),
        from: date!(2021 - 02 - 19),
        open_sections: vec![SectionCode::parse("adult").unwrap()],
        closed_sections: vec![SectionCode::parse("study_room").unwrap()],
        special: Some((
            SpecialHours::new(
                date!(2021 - 02 - 19),
                date!(2021 - 03 - 31),
                SpecialPattern::Daily(day("10:00", "18:00")),
            )
            .unwrap(),
            "special opening hours".into(),
        )),
        notice: ReopeningNotice {
            title: "Libraries reopen".into(),
            body: "Lending resumes.".into(),
            title_zh: "圖書館重開".into(),
            body_zh: "恢復借還服務。".into(),
        },
    }
}

async fn actions(db: &library_persistence::Database) -> Vec<String> {
    let mut out: Vec<String> = db
        .audit_log()
        .recent(50)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.entry.action)
        .collect();
    out.reverse();
    out
}

#[tokio::test]
async fn hours_sections_and_door_services_round_trip_with_their_audit() {
    for t in backends().await {
        let db = t.connect().await;
        seed_db(&db, 0, 0).await;
        let store = db.premises();
        let hkcl = code("HKCL");
        let fresh = store.premises(&hkcl).await.unwrap().unwrap();
        assert_eq!(fresh.regular, None, "{}", t.name);
        assert!(fresh.special.is_empty() && fresh.sections.is_empty());
        assert_eq!(fresh.doors, DoorServices::default());
        assert_eq!(store.premises(&code("NONE")).await.unwrap(), None);

        let mut days: [DayHours; 7] = std::array::from_fn(|_| day("10:00", "19:00"));
        days[6] = DayHours::new(vec![
            Period::parse("08:00", "12:30").unwrap(),
            Period::parse("12:45", "17:15").unwrap(),
        ])
        .unwrap();
        let week = WeekHours::new(days);
        store
            .set_regular_hours(&hkcl, Some(&week), audit("library.hours"))
            .await
            .unwrap();
        let closed = SpecialHours::new(
            date!(2021 - 02 - 12),
            date!(2021 - 02 - 14),
            SpecialPattern::Closed,
        )
        .unwrap();
        let first = store
            .add_special_hours(&hkcl, &closed, "New Year", NOW, &|_| {
                audit("library.special_hours")
            })
            .await
            .unwrap();
        let weekly = SpecialHours::new(
            date!(2021 - 03 - 01),
            date!(2021 - 05 - 31),
            SpecialPattern::Weekly(WeekHours::every_day(&day("08:00", "22:00"))),
        )
        .unwrap();
        let second = store
            .add_special_hours(&hkcl, &weekly, "", NOW, &|_| audit("library.special_hours"))
            .await
            .unwrap();
        assert!(second > first);
        let study = Section::new(
            SectionCode::parse("study_room").unwrap(),
            SectionStatus::Open,
            date!(2021 - 03 - 01),
            Some(date!(2021 - 05 - 31)),
            Some(WeekHours::every_day(&day("08:00", "22:00"))),
        )
        .unwrap();
        store
            .set_section(&hkcl, &study, audit("library.section"))
            .await
            .unwrap();
        let doors = DoorServices {
            book_drop: true,
            self_service_station: false,
        };
        store
            .set_door_services(&hkcl, doors, audit("library.services"))
            .await
            .unwrap();

        let read = store.premises(&hkcl).await.unwrap().unwrap();
        assert_eq!(read.regular, Some(week));
        assert_eq!(
            read.special
                .iter()
                .map(|s| (s.id, s.hours.clone(), s.reason.as_str()))
                .collect::<Vec<_>>(),
            vec![(first, closed, "New Year"), (second, weekly, "")]
        );
        assert_eq!(read.sections, vec![study]);
        assert_eq!(read.doors, doors);
        assert!(
            !read.library.calendar.is_open(date!(2021 - 03 - 01)),
            "HKCL closes on Mondays"
        );

        // Replacing a section and clearing the week; removing special hours.
        let closed_study = section("study_room", SectionStatus::Closed);
        store
            .set_section(&hkcl, &closed_study, audit("library.section"))
            .await
            .unwrap();
        store
            .set_regular_hours(&hkcl, None, audit("library.hours"))
            .await
            .unwrap();
        assert!(
            store
                .remove_special_hours(&hkcl, first, audit("library.special_hours.remove"))
                .await
                .unwrap()
        );
        assert!(
            !store
                .remove_special_hours(&code("KLN"), second, audit("never"))
                .await
                .unwrap()
        );
        let read = store.premises(&hkcl).await.unwrap().unwrap();
        assert_eq!(read.regular, None);
        assert_eq!(read.sections, vec![closed_study.clone()]);
        assert_eq!(read.special.len(), 1);

        // An unknown library: nothing changes, nothing is audited.
        let none = code("NONE");
        assert!(matches!(
            store.set_regular_hours(&none, None, audit("never")).await,
            Err(AdminError::NotFound)
        ));
        assert!(matches!(
            store
                .set_section(&none, &closed_study, audit("never"))
                .await,
            Err(AdminError::NotFound)
        ));
        assert!(matches!(
            store.set_door_services(&none, doors, audit("never")).await,
            Err(AdminError::NotFound)
        ));
        assert!(matches!(
            store
                .add_special_hours(&none, &closed_study_range(), "", NOW, &|_| audit("never"))
                .await,
            Err(AdminError::NotFound)
        ));
        assert_eq!(
            actions(&db).await,
            [
                "library.hours",
                "library.special_hours",
                "library.special_hours",
                "library.section",
                "library.services",
                "library.section",
                "library.hours",
                "library.special_hours.remove",
            ],
            "{}",
            t.name
        );
        assert_eq!(store.all().await.unwrap().len(), 2);
    }
}

fn closed_study_range() -> SpecialHours {
    SpecialHours::new(
        date!(2021 - 02 - 19),
        date!(2021 - 02 - 19),
        SpecialPattern::Closed,
    )
    .unwrap()
}

#[tokio::test]
async fn a_reopening_is_one_transaction_over_every_library_with_its_notice() {
    for t in backends().await {
        let db = t.connect().await;
        seed_db(&db, 0, 0).await;
        let store = db.premises();
        let names = |libs: &[library_app::premises::LibraryNames]| {
            reopening(&[]).notice(libs, date!(2021 - 02 - 18))
        };
        // One unknown library: refused, nothing stored, no notice, no audit.
        let refused = store
            .reopen(&reopening(&["HKCL", "NONE"]), NOW, &names, &|_| {
                audit("library.reopen")
            })
            .await;
        assert!(
            matches!(&refused, Err(AdminError::Invalid(v)) if v == &["unknown_library"]),
            "{}: {refused:?}",
            t.name
        );
        for lib in ["HKCL", "KLN"] {
            let p = store.premises(&code(lib)).await.unwrap().unwrap();
            assert!(p.sections.is_empty() && p.special.is_empty());
        }
        assert!(actions(&db).await.is_empty());

        let id: NoticeId = store
            .reopen(&reopening(&["HKCL", "KLN"]), NOW, &names, &|_| {
                audit("library.reopen")
            })
            .await
            .unwrap();
        for lib in ["HKCL", "KLN"] {
            let p = store.premises(&code(lib)).await.unwrap().unwrap();
            assert_eq!(
                p.sections,
                vec![
                    section("adult", SectionStatus::Open),
                    section("study_room", SectionStatus::Closed)
                ],
                "{lib}"
            );
            assert_eq!(p.special.len(), 1);
            assert_eq!(p.special[0].reason, "special opening hours");
        }
        let notices = db
            .notices()
            .current_for(
                Some(&LibraryCode::parse("HKCL").unwrap()),
                date!(2021 - 02 - 18),
            )
            .await
            .unwrap();
        assert_eq!(notices.len(), 1);
        let n = &notices[0].notice;
        assert_eq!(n.id, id);
        assert_eq!(n.details.library, None);
        assert!(
            n.details
                .body
                .ends_with("Libraries reopening: HKCL Library, KLN Library.")
        );
        assert_eq!(n.details.title_zh.as_deref(), Some("圖書館重開"));
        assert!(
            n.details
                .body_zh
                .as_deref()
                .unwrap()
                .ends_with("重開的圖書館：圖書館、圖書館。")
        );
        assert_eq!(actions(&db).await, ["library.reopen"]);
    }
}
