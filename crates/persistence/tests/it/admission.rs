//! Capacity, admission and visitor registrations on every backend: parallel admissions
//! never pass the capacity; counts never go below zero; registrations are read with an
//! audit entry in the read's transaction; the purge deletes exactly what its preview
//! lists, in batches; permissions are granted and revoked with their audit entries.

use std::sync::Arc;

use library_app::AuditRecord;
use library_app::admission::{
    AdmissionStore, NewVisitorRecord, PurgeLine, RecordedBy, Registered, StaffPermission,
    VisitorQuery,
};
use library_core::{LibraryKind, StaffId};
use library_credentials::{SecretHash, StaffRole};
use library_persistence::{Database, NewLibrary, NewStaffUser};
use library_premises::admission::{
    AdmissionRefusal, Capacity, Occupancy, Retention, SectionCode, Visitor,
};
use time::macros::{date, datetime};
use time::{OffsetDateTime, UtcOffset};

use crate::circ_support::code;
use crate::support::backends;

const AT: OffsetDateTime = datetime!(2021-02-19 10:00 +08:00);

fn audit(action: &'static str) -> AuditRecord {
    AuditRecord {
        staff: None,
        action,
        subject: "library:TMPL".into(),
        details: "{}".into(),
        at: AT,
    }
}

async fn library(db: &Database, c: &str) {
    db.libraries()
        .create(
            &NewLibrary {
                code: code(c),
                name: format!("{c} Library"),
                name_zh: String::new(),
                kind: LibraryKind::District,
                utc_offset: UtcOffset::from_hms(8, 0, 0).unwrap(),
            },
            None,
        )
        .await
        .unwrap();
}

fn record(library: &str, name: &str, visited_at: OffsetDateTime) -> NewVisitorRecord {
    NewVisitorRecord {
        library: code(library),
        section: None,
        visitor: Visitor {
            name: name.into(),
            phone: "91234567".into(),
            visited_at,
        },
        recorded_at: visited_at,
        recorded_by: RecordedBy::SelfService,
    }
}

#[tokio::test]
async fn fifty_parallel_admissions_at_capacity_ten_admit_exactly_ten() {
    for t in backends().await {
        let db = t.connect().await;
        library(&db, "TMPL").await;
        let store = Arc::new(db.admission());
        assert!(
            store
                .set_capacity(
                    &code("TMPL"),
                    None,
                    Capacity::parse(Some(10)).unwrap(),
                    audit("admission.capacity")
                )
                .await
                .unwrap()
        );
        let tasks: Vec<_> = (0..50)
            .map(|_| {
                let store = store.clone();
                tokio::spawn(async move { store.admit(&code("TMPL"), None, AT, None).await })
            })
            .collect();
        let mut admitted = 0;
        let mut refused = 0;
        for task in tasks {
            match task.await.unwrap().unwrap().unwrap() {
                Ok(_) => admitted += 1,
                Err(AdmissionRefusal::CapacityReached { capacity, inside }) => {
                    assert_eq!((capacity, inside), (10, 10), "{}", t.name);
                    refused += 1;
                }
            }
        }
        assert_eq!((admitted, refused), (10, 40), "{}", t.name);
        let doors = store.occupancy(&code("TMPL")).await.unwrap().unwrap();
        assert_eq!(doors.len(), 1, "{}", t.name);
        assert_eq!(
            doors[0].occupancy,
            Occupancy {
                inside: 10,
                capacity: Capacity::parse(Some(10)).unwrap()
            },
            "{}",
            t.name
        );
    }
}

#[tokio::test]
async fn doors_count_separately_and_never_below_zero() {
    for t in backends().await {
        let db = t.connect().await;
        library(&db, "TMPL").await;
        let store = db.admission();
        let tmpl = code("TMPL");
        let study = SectionCode::parse("study_room").unwrap();
        // Unknown library: none of it.
        assert_eq!(store.occupancy(&code("NONE")).await.unwrap(), None);
        assert_eq!(
            store.admit(&code("NONE"), None, AT, None).await.unwrap(),
            None
        );
        assert_eq!(
            store.leave(&code("NONE"), None, AT, None).await.unwrap(),
            None
        );
        assert!(
            !store
                .set_capacity(&code("NONE"), None, Capacity::UNLIMITED, audit("x"))
                .await
                .unwrap()
        );
        // No capacity: unlimited; a departure at zero stays at zero.
        assert_eq!(store.occupancy(&tmpl).await.unwrap(), Some(vec![]));
        let left = store.leave(&tmpl, None, AT, None).await.unwrap().unwrap();
        assert_eq!(left.inside, 0, "{}", t.name);
        for n in 1..=3 {
            let o = store
                .admit(&tmpl, None, AT, None)
                .await
                .unwrap()
                .unwrap()
                .unwrap();
            assert_eq!(o.inside, n, "{}", t.name);
        }
        // Capacity 0 closes the study room; the library's count is untouched by it.
        store
            .set_capacity(
                &tmpl,
                Some(&study),
                Capacity::parse(Some(0)).unwrap(),
                audit("c"),
            )
            .await
            .unwrap();
        assert_eq!(
            store
                .admit(&tmpl, Some(&study), AT, None)
                .await
                .unwrap()
                .unwrap(),
            Err(AdmissionRefusal::CapacityReached {
                capacity: 0,
                inside: 0
            }),
            "{}",
            t.name
        );
        // A capacity set below the people inside keeps the count and refuses.
        store
            .set_capacity(&tmpl, None, Capacity::parse(Some(2)).unwrap(), audit("c"))
            .await
            .unwrap();
        let doors = store.occupancy(&tmpl).await.unwrap().unwrap();
        assert_eq!(doors[0].section, None, "{}", t.name);
        assert_eq!(doors[0].occupancy.inside, 3, "{}", t.name);
        assert_eq!(
            doors[1].section.as_deref(),
            Some("study_room"),
            "{}",
            t.name
        );
        assert_eq!(doors[1].occupancy.capacity.limit(), Some(0), "{}", t.name);
        assert!(
            store
                .admit(&tmpl, None, AT, None)
                .await
                .unwrap()
                .unwrap()
                .is_err()
        );
        for expected in [2, 1, 0, 0] {
            let o = store.leave(&tmpl, None, AT, None).await.unwrap().unwrap();
            assert_eq!(o.inside, expected, "{}", t.name);
        }
        // Registration with admission: refused at capacity stores nothing.
        store
            .set_capacity(&tmpl, None, Capacity::parse(Some(1)).unwrap(), audit("c"))
            .await
            .unwrap();
        let first = store
            .register(&record("TMPL", "Chan", AT), true, None)
            .await
            .unwrap()
            .unwrap();
        assert!(
            matches!(first, Registered::Recorded { admitted: Some(o), .. } if o.inside == 1),
            "{}: {first:?}",
            t.name
        );
        let second = store
            .register(&record("TMPL", "Wong", AT), true, None)
            .await
            .unwrap()
            .unwrap();
        assert!(matches!(second, Registered::Refused(_)), "{}", t.name);
        let day = VisitorQuery {
            library: Some(tmpl.clone()),
            from: date!(2021 - 02 - 19),
            to: date!(2021 - 02 - 19),
        };
        let read = store
            .visitors(&day, &|_| audit("visitors.read"))
            .await
            .unwrap();
        assert_eq!(read.len(), 1, "{}", t.name);
        assert_eq!(read[0].name, "Chan", "{}", t.name);
        assert_eq!(read[0].visited_at, AT, "{}", t.name);
        assert_eq!(read[0].recorded_by, "self", "{}", t.name);
    }
}

#[tokio::test]
async fn reads_are_audited_and_the_purge_deletes_what_its_preview_lists() {
    for t in backends().await {
        let db = t.connect().await;
        library(&db, "TMPL").await;
        library(&db, "KLN").await;
        let store = db.admission();
        // Local dates: the 19th (10:00, and 23:59 which is 15:59 UTC), the 20th (00:30,
        // which is the 19th in UTC), and one at KLN on the 19th.
        let visits = [
            ("TMPL", "A", datetime!(2021-02-19 10:00 +08:00)),
            ("TMPL", "B", datetime!(2021-02-19 23:59 +08:00)),
            ("TMPL", "C", datetime!(2021-02-20 00:30 +08:00)),
            ("KLN", "D", datetime!(2021-02-19 12:00 +08:00)),
        ];
        for (library, name, at) in visits {
            store
                .register(
                    &record(library, name, at),
                    false,
                    Some(&|id| AuditRecord {
                        subject: format!("visitor:{id}"),
                        ..audit("visitor.register")
                    }),
                )
                .await
                .unwrap();
        }
        // A read by local dates, all libraries.
        let query = VisitorQuery {
            library: None,
            from: date!(2021 - 02 - 19),
            to: date!(2021 - 02 - 19),
        };
        let read = store
            .visitors(&query, &|n| AuditRecord {
                details: format!("{{\"records\":{n}}}"),
                ..audit("visitors.read")
            })
            .await
            .unwrap();
        let names: Vec<_> = read.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["A", "D", "B"], "{}", t.name);
        let log = db.audit_log().recent(1).await.unwrap();
        assert_eq!(log[0].entry.action, "visitors.read", "{}", t.name);
        assert_eq!(log[0].entry.details, "{\"records\":3}", "{}", t.name);

        // Day 31 after the 19th: nothing to purge. Day 32: the 19th's, not the 20th's.
        let r = Retention::default();
        let day31 = datetime!(2021-03-22 23:00 +08:00);
        assert_eq!(
            store.purge_preview(r.purge_before(day31)).await.unwrap(),
            vec![]
        );
        assert_eq!(store.purge(r.purge_before(day31), 1).await.unwrap(), 0);
        let day32 = datetime!(2021-03-23 00:00 +08:00);
        assert_eq!(
            store.purge_preview(r.purge_before(day32)).await.unwrap(),
            vec![
                PurgeLine {
                    library: code("KLN"),
                    date: date!(2021 - 02 - 19),
                    count: 1
                },
                PurgeLine {
                    library: code("TMPL"),
                    date: date!(2021 - 02 - 19),
                    count: 2
                },
            ],
            "{}",
            t.name
        );
        // Batches of one: three transactions, and the end found by a short batch.
        assert_eq!(store.purge(r.purge_before(day32), 1).await.unwrap(), 3);
        let everything = VisitorQuery {
            library: None,
            from: date!(2021 - 02 - 01),
            to: date!(2021 - 03 - 31),
        };
        let left = store
            .visitors(&everything, &|_| audit("visitors.read"))
            .await
            .unwrap();
        assert_eq!(left.len(), 1, "{}", t.name);
        assert_eq!(left[0].name, "C", "{}", t.name);
    }
}

#[tokio::test]
async fn permissions_are_granted_and_revoked_with_their_audit_entries() {
    for t in backends().await {
        let db = t.connect().await;
        let id = db
            .staff()
            .create_unless_taken(
                &NewStaffUser {
                    username: "mei".into(),
                    password_hash: SecretHash("x".into()),
                    role: StaffRole::Librarian,
                    may_override: false,
                    created_at: AT,
                },
                None,
            )
            .await
            .unwrap()
            .unwrap();
        let store = db.admission();
        let ct = StaffPermission::ContactTracing;
        assert!(!store.has_permission(id, ct).await.unwrap(), "{}", t.name);
        let grant = |staff: StaffId| AuditRecord {
            subject: format!("staff:{}", staff.get()),
            ..audit("staff.permission_grant")
        };
        // In any case, and twice is once.
        assert!(store.set_permission("MEI", ct, true, &grant).await.unwrap());
        assert!(store.set_permission("mei", ct, true, &grant).await.unwrap());
        assert!(store.has_permission(id, ct).await.unwrap(), "{}", t.name);
        let log = db.audit_log().recent(1).await.unwrap();
        assert_eq!(log[0].entry.subject, format!("staff:{}", id.get()));
        assert!(
            !store
                .set_permission("nobody", ct, true, &grant)
                .await
                .unwrap()
        );
        assert!(
            store
                .set_permission("mei", ct, false, &grant)
                .await
                .unwrap()
        );
        assert!(!store.has_permission(id, ct).await.unwrap(), "{}", t.name);
    }
}
