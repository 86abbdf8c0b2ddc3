//! The admin-side stores and the schema's last line of defence, on every backend.

use library_circulation::ports::{
    CalendarRepository, CirculationStore, FineSuspensionRepository, RuleRepository,
};
use library_circulation::{
    Closure, DueDate, HoldStatus, ItemStatus, ItemType, NewHold, NewLoan, RuleScope, RuleSet,
    hkpl_profile,
};
use library_core::{LibraryKind, Money, StaffId};
use library_credentials::{SecretHash, StaffRole};
use library_fines::{FineSuspensionPeriod, SuspensionScope};
use library_persistence::{
    CalendarRule, NewAuditEntry, NewItem, NewLibrary, NewNotification, NewStaffUser, StoreError,
};
use time::macros::date;
use time::{Month, UtcOffset, Weekday};

use crate::circ_support::{NOW, barcode, code, seed_db};
use crate::support::{T0, backends, new_patron};

#[tokio::test]
async fn libraries_and_calendars_round_trip() {
    for t in backends().await {
        let db = t.connect().await;
        let libs = db.libraries();
        let new = NewLibrary {
            code: code("TMPL"),
            name: "Tuen Mun Public Library".into(),
            name_zh: "屯門公共圖書館".into(),
            kind: LibraryKind::District,
            utc_offset: UtcOffset::from_hms(8, 0, 0).unwrap(),
        };
        libs.create(&new, None).await.unwrap();
        assert!(matches!(
            libs.create(&new, None).await,
            Err(StoreError::Conflict(_))
        ));
        assert_eq!(libs.list().await.unwrap(), vec![new.clone()], "{}", t.name);
        assert_eq!(libs.get(&code("TMPL")).await.unwrap(), Some(new));
        assert_eq!(libs.get(&code("NONE")).await.unwrap(), None);

        let closure = Closure::new(date!(2021 - 12 - 30), date!(2022 - 01 - 02)).unwrap();
        let tmpl = code("TMPL");
        libs.add_calendar_entry(
            &tmpl,
            CalendarRule::ClosedWeekday(Weekday::Monday),
            "",
            None,
        )
        .await
        .unwrap();
        libs.add_calendar_entry(
            &tmpl,
            CalendarRule::Yearly {
                month: Month::December,
                day: 25,
            },
            "Christmas",
            None,
        )
        .await
        .unwrap();
        let c = libs
            .add_calendar_entry(&tmpl, CalendarRule::Closure(closure), "stocktake", None)
            .await
            .unwrap();
        // Monday 3 January 2022 opens after all.
        libs.add_calendar_entry(&tmpl, CalendarRule::Reopen(date!(2022 - 01 - 03)), "", None)
            .await
            .unwrap();
        assert!(matches!(
            libs.add_calendar_entry(
                &tmpl,
                CalendarRule::Yearly {
                    month: Month::April,
                    day: 31
                },
                "",
                None
            )
            .await,
            Err(StoreError::Calendar(_))
        ));
        assert!(matches!(
            libs.add_calendar_entry(
                &code("NONE"),
                CalendarRule::Reopen(date!(2022 - 01 - 03)),
                "",
                None
            )
            .await,
            Err(StoreError::NotFound(_))
        ));
        assert_eq!(libs.calendar_entries(&tmpl).await.unwrap().len(), 4);
        let lib = libs.library_calendar(&tmpl).await.unwrap().unwrap();
        assert_eq!(lib.kind, LibraryKind::District);
        let cal = &lib.calendar;
        assert!(!cal.is_open(date!(2021 - 03 - 08)), "{}: a Monday", t.name);
        assert!(cal.is_open(date!(2021 - 03 - 09)));
        assert!(!cal.is_open(date!(2023 - 12 - 25)), "yearly");
        assert!(!cal.is_open(date!(2021 - 12 - 31)), "closure");
        assert!(cal.is_open(date!(2022 - 01 - 03)), "reopened Monday");
        assert!(libs.remove_calendar_entry(&tmpl, c, None).await.unwrap());
        let cal = libs
            .library_calendar(&tmpl)
            .await
            .unwrap()
            .unwrap()
            .calendar;
        assert!(cal.is_open(date!(2021 - 12 - 31)));
        assert_eq!(libs.library_calendar(&code("NONE")).await.unwrap(), None);
        db.close().await.unwrap();
    }
}

#[tokio::test]
async fn rules_round_trip_per_scope() {
    for t in backends().await {
        let db = t.connect().await;
        let rules = db.rules();
        rules.replace_all(&hkpl_profile()).await.unwrap();
        let mut stored = rules.scoped_rules().await.unwrap();
        let mut expected = hkpl_profile();
        let key = |s: &library_circulation::ScopedRules| format!("{:?}", s.scope);
        stored.sort_by_key(key);
        expected.sort_by_key(key);
        assert_eq!(stored, expected, "{}", t.name);

        let scope = RuleScope {
            library: Some(code("HKCL")),
            item_type: Some(ItemType::parse("adult_av").unwrap()),
            ..RuleScope::any()
        };
        let set = RuleSet {
            loan_days: Some(7),
            max_fine: Some(Money::from_cents(13_000)),
            count_closed_days: Some(false),
            ..RuleSet::default()
        };
        rules.put_rules(&scope, &set).await.unwrap();
        rules
            .put_rules(
                &scope,
                &RuleSet {
                    loan_days: Some(10),
                    ..RuleSet::default()
                },
            )
            .await
            .unwrap();
        assert!(rules.remove_rule(&scope, "max_fine_cents").await.unwrap());
        assert!(!rules.remove_rule(&scope, "max_fine_cents").await.unwrap());
        assert!(matches!(
            rules.remove_rule(&scope, "nonsense").await,
            Err(StoreError::Invalid(_))
        ));
        let found = rules
            .list()
            .await
            .unwrap()
            .into_iter()
            .find(|s| s.scope == scope)
            .unwrap();
        assert_eq!(
            found.rules,
            RuleSet {
                loan_days: Some(10),
                count_closed_days: Some(false),
                ..RuleSet::default()
            },
            "{}",
            t.name
        );
        db.close().await.unwrap();
    }
}

#[tokio::test]
async fn catalogue_periods_audit_and_outbox() {
    for t in backends().await {
        let db = t.connect().await;
        let s = seed_db(&db, 1, 1).await;
        let cat = db.catalogue();
        let dup = NewItem {
            barcode: barcode("B0001"),
            title: s.title,
            item_type: ItemType::parse("adult_book").unwrap(),
            home_library: code("HKCL"),
            status: ItemStatus::Available,
            replacement_cost: None,
        };
        assert!(
            matches!(
                cat.create_item(&dup, None).await,
                Err(StoreError::Conflict(_))
            ),
            "{}",
            t.name
        );
        let unknown_library = NewItem {
            barcode: barcode("B0999"),
            home_library: code("NONE"),
            ..dup
        };
        assert!(matches!(
            cat.create_item(&unknown_library, None).await,
            Err(StoreError::Conflict(_))
        ));
        let item = cat
            .item_by_barcode(&barcode("B0001"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(item.id, s.items[0]);
        assert_eq!(
            cat.items_of_title(s.title).await.unwrap(),
            vec![item.clone()]
        );
        assert_eq!(
            cat.title(s.title).await.unwrap().unwrap().name,
            "The Rust Book"
        );
        assert!(
            cat.set_item_status(item.id, ItemStatus::Lost)
                .await
                .unwrap()
        );
        assert_eq!(
            cat.item(item.id).await.unwrap().unwrap().status,
            ItemStatus::Lost
        );

        let periods = db.fine_suspensions();
        let period = FineSuspensionPeriod::new(
            date!(2021 - 03 - 01),
            None,
            SuspensionScope {
                library_codes: [code("HKCL")].into(),
                library_kinds: [LibraryKind::Mobile, LibraryKind::Small].into(),
            },
            "COVID-19",
        )
        .unwrap();
        let id = periods.create(&period, None).await.unwrap();
        assert_eq!(
            periods.fine_suspension_periods().await.unwrap(),
            vec![period.clone()]
        );
        assert!(matches!(
            periods
                .set_resume_date(id, date!(2021 - 02 - 01), None)
                .await,
            Err(StoreError::Period(_))
        ));
        let closed = periods
            .set_resume_date(id, date!(2021 - 04 - 01), None)
            .await
            .unwrap();
        assert_eq!(
            periods.list().await.unwrap()[0].period,
            closed,
            "{}",
            t.name
        );
        assert!(matches!(
            periods
                .set_resume_date(id + 100, date!(2021 - 04 - 01), None)
                .await,
            Err(StoreError::NotFound(_))
        ));

        let staff = db
            .staff()
            .create(&NewStaffUser {
                username: "Librarian".into(),
                password_hash: SecretHash("x".into()),
                role: StaffRole::Librarian,
                may_override: false,
                created_at: T0,
            })
            .await
            .unwrap();
        let entry = NewAuditEntry {
            staff: Some(staff),
            action: "fine.waive".into(),
            subject: format!("patron:{}", s.readers[0]),
            details: r#"{"charge":1}"#.into(),
            at: NOW,
        };
        let first = db.audit_log().append(&entry).await.unwrap();
        let system = NewAuditEntry {
            staff: None,
            action: "holds.expire".into(),
            ..entry.clone()
        };
        db.audit_log().append(&system).await.unwrap();
        assert!(
            db.audit_log()
                .append(&NewAuditEntry {
                    staff: Some(StaffId(staff.get() + 99)),
                    ..entry.clone()
                })
                .await
                .is_err()
        );
        let recent = db.audit_log().recent(10).await.unwrap();
        assert_eq!(recent.len(), 2, "{}", t.name);
        assert_eq!(recent[1].id, first);
        assert_eq!(recent[1].entry.at, NOW);
        assert_eq!(recent[0].entry.staff, None);

        let outbox = db.outbox();
        let n = NewNotification {
            kind: "hold.waiting".into(),
            patron: Some(s.readers[0]),
            payload: "{}".into(),
            created_at: NOW,
            expires_at: None,
        };
        let a = outbox.append(&n).await.unwrap();
        let b = outbox.append(&n).await.unwrap();
        assert!(outbox.mark_sent(a, NOW, &["email"]).await.unwrap());
        assert!(!outbox.mark_sent(a, NOW, &["email"]).await.unwrap());
        let unsent = outbox.unsent(10).await.unwrap();
        assert_eq!(
            unsent.iter().map(|n| n.id).collect::<Vec<_>>(),
            vec![b],
            "{}",
            t.name
        );
        assert_eq!(unsent[0].notification, n);

        // A temporary password still unsent at its expiry is given up and wiped, whatever
        // its next try; one expiring later, and a message without an expiry, are left.
        let secret = |expires_at| NewNotification {
            kind: "credentials.temporary_password".into(),
            patron: Some(s.readers[0]),
            payload: r#"{"sealed_password":"v1:abc"}"#.into(),
            created_at: NOW,
            expires_at: Some(expires_at),
        };
        let expired = outbox
            .append(&secret(NOW + time::Duration::hours(24)))
            .await
            .unwrap();
        let later = outbox
            .append(&secret(NOW + time::Duration::hours(25)))
            .await
            .unwrap();
        let at = NOW + time::Duration::hours(24);
        assert_eq!(outbox.expire(at).await.unwrap(), 1, "{}", t.name);
        assert_eq!(outbox.expire(at).await.unwrap(), 0, "{}", t.name);
        let rows = outbox.all(100).await.unwrap();
        let row = |id| rows.iter().find(|r| r.id == id).unwrap();
        assert_eq!(row(expired).notification.payload, "{}", "{}", t.name);
        assert!(row(expired).sent_at.is_none());
        assert_eq!(
            row(later).notification.payload,
            r#"{"sealed_password":"v1:abc"}"#
        );
        // Given up: never claimed again; the later one still is.
        let claimed: Vec<i64> = outbox
            .claim(at, std::time::Duration::from_secs(60), 10)
            .await
            .unwrap()
            .iter()
            .map(|m| m.id)
            .collect();
        assert!(!claimed.contains(&expired), "{}", t.name);
        assert!(claimed.contains(&later), "{}", t.name);
        db.close().await.unwrap();
    }
}

#[tokio::test]
async fn constraints_refuse_a_second_open_loan_and_a_second_active_hold() {
    for t in backends().await {
        let db = t.connect().await;
        let s = seed_db(&db, 2, 1).await;
        let loan = |patron| NewLoan {
            patron,
            item: s.items[0],
            library: code("HKCL"),
            borrowed_at: NOW,
            due: DueDate {
                on: date!(2021 - 03 - 19),
                at: NOW,
            },
        };
        let mut tx = db.circulation().begin().await.unwrap();
        tx.insert_loan(loan(s.readers[0])).await.unwrap();
        let err = tx.insert_loan(loan(s.readers[1])).await.unwrap_err();
        assert!(err.to_string().contains("unique"), "{}: {err}", t.name);
        drop(tx);
        // Rolled back on drop: nothing was stored.
        let mut tx = db.circulation().begin().await.unwrap();
        assert_eq!(
            tx.open_loan_of_item(s.items[0]).await.unwrap(),
            None,
            "{}",
            t.name
        );
        let hold = |position| NewHold {
            patron: s.readers[0],
            title: s.title,
            pickup_library: code("HKCL"),
            placed_at: NOW,
            position,
            not_needed_after: None,
        };
        let first = tx.insert_hold(hold(1)).await.unwrap();
        assert_eq!(first.status(), HoldStatus::Queued);
        assert!(tx.insert_hold(hold(2)).await.is_err(), "{}", t.name);
        drop(tx);
        let mut tx = db.circulation().begin().await.unwrap();
        let first = tx.insert_hold(hold(1)).await.unwrap();
        let second = tx
            .insert_hold(NewHold {
                patron: s.readers[1],
                ..hold(1)
            })
            .await;
        assert!(second.is_err(), "{}: position 1 is taken", t.name);
        tx.commit().await.unwrap();
        let mut tx = db.circulation().begin().await.unwrap();
        assert_eq!(tx.hold(first.id).await.unwrap(), Some(first), "{}", t.name);
        drop(tx);
        db.close().await.unwrap();
    }
}

#[tokio::test]
async fn a_reader_without_a_circulation_profile_cannot_borrow() {
    for t in backends().await {
        let db = t.connect().await;
        let id = db
            .patrons()
            .register(&new_patron("21000000009999", None))
            .await
            .unwrap();
        let mut tx = db.circulation().begin().await.unwrap();
        assert!(tx.patron_for_update(id).await.is_err(), "{}", t.name);
        drop(tx);
        assert!(
            db.patrons()
                .set_reader_profile(id, &crate::circ_support::profile())
                .await
                .unwrap()
        );
        assert!(
            db.patrons()
                .set_suspended_until(id, Some(date!(2021 - 04 - 01)))
                .await
                .unwrap()
        );
        let reader = db.patrons().reader(id).await.unwrap().unwrap();
        assert_eq!(
            reader.suspended_until,
            Some(date!(2021 - 04 - 01)),
            "{}",
            t.name
        );
        assert_eq!(
            db.patrons()
                .reader_by_card(&reader.card_number)
                .await
                .unwrap(),
            Some(reader)
        );
        db.close().await.unwrap();
    }
}

/// A hold's options and a cancellation's author and reason are stored and read back, and
/// the expiry job's scan finds only queued holds whose last date is before its bound.
#[tokio::test]
async fn hold_options_and_cancel_reasons_round_trip() {
    use library_circulation::{CancelReason, CancelledBy, HoldState};
    for t in backends().await {
        let db = t.connect().await;
        let s = seed_db(&db, 3, 1).await;
        let new = |patron, position, last| NewHold {
            patron,
            title: s.title,
            pickup_library: code("HKCL"),
            placed_at: NOW,
            position,
            not_needed_after: last,
        };
        let mut tx = db.circulation().begin().await.unwrap();
        let first = tx
            .insert_hold(new(s.readers[0], 1, Some(date!(2021 - 03 - 05))))
            .await
            .unwrap();
        assert_eq!(
            first.not_needed_after,
            Some(date!(2021 - 03 - 05)),
            "{}",
            t.name
        );
        let mut second = tx.insert_hold(new(s.readers[1], 2, None)).await.unwrap();
        let third = tx
            .insert_hold(new(s.readers[2], 3, Some(date!(2021 - 03 - 09))))
            .await
            .unwrap();
        second.suspended_until = Some(date!(2021 - 03 - 10));
        second.not_needed_after = Some(date!(2021 - 04 - 30));
        tx.update_hold(&second).await.unwrap();
        assert_eq!(
            tx.hold(second.id).await.unwrap().as_ref(),
            Some(&second),
            "{}",
            t.name
        );
        let found: Vec<_> = tx
            .queued_holds_not_needed_before(date!(2021 - 03 - 09))
            .await
            .unwrap()
            .into_iter()
            .map(|h| h.id)
            .collect();
        assert_eq!(found, vec![first.id], "{}", t.name);
        // Cancelled by staff with a reason: read back with both; the others move up.
        let mut cancelled = first.clone();
        cancelled.state = HoldState::Cancelled {
            at: NOW,
            by: CancelledBy::Staff,
            reason: Some(CancelReason::parse("書已報失 / copy lost").unwrap()),
        };
        tx.update_hold(&cancelled).await.unwrap();
        assert_eq!(
            tx.hold(first.id).await.unwrap(),
            Some(cancelled),
            "{}",
            t.name
        );
        assert_eq!(
            tx.hold(second.id).await.unwrap().unwrap().position(),
            Some(1)
        );
        assert_eq!(
            tx.hold(third.id).await.unwrap().unwrap().position(),
            Some(2)
        );
        assert!(
            tx.queued_holds_not_needed_before(date!(2021 - 03 - 10))
                .await
                .unwrap()
                .iter()
                .all(|h| h.id == third.id),
            "{}",
            t.name
        );
        // A reader's own cancellation has no reason.
        let mut own = third.clone();
        own.state = HoldState::Cancelled {
            at: NOW,
            by: CancelledBy::Reader,
            reason: None,
        };
        tx.update_hold(&own).await.unwrap();
        assert_eq!(tx.hold(third.id).await.unwrap(), Some(own), "{}", t.name);
        tx.commit().await.unwrap();
        db.close().await.unwrap();
    }
}
