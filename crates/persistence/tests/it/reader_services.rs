//! The reader-service stores on every backend: activities and registrations (capacity
//! exact under real parallelism), notices, settings with the reading history, enquiries.

use std::collections::BTreeSet;
use std::sync::Arc;

use library_circulation::service::{CheckinRequest, CheckoutRequest};
use library_core::{LibraryCode, ManualClock, PatronId, StaffId};
use library_credentials::{CredentialStore, SecretHash, StaffRole};
use library_persistence::{
    EMAIL_CHANGED, NewStaffUser, ReaderSettingsStore, SettingsPut, StoreError,
};
use library_reader_services::{
    ActivityForm, ActivityId, ActivityQuery, CancellationRefusal, Channel, EmailChange,
    EnquiryForm, EnquiryStatus, Language, NewActivity, NoticeForm, ReaderSettings, ReadingHistory,
    RegistrationRefusal, SettingsForm,
};
use time::macros::{date, datetime};
use time::{Duration, OffsetDateTime};

use crate::circ_support::{NOW, barcode, card_of, code, db_service, seed_db};
use crate::support::backends;

fn activity(library: &str, starts_at: OffsetDateTime, capacity: i64) -> NewActivity {
    ActivityForm {
        library_code: library.into(),
        title: "Storytelling in Cantonese".into(),
        activity_type: "story_time".into(),
        venue: "Children's Library, 2/F".into(),
        description: Some("For children aged 4 to 8.".into()),
        starts_at,
        ends_at: starts_at + Duration::hours(1),
        capacity,
        registration_closes_at: Some(starts_at - Duration::hours(2)),
    }
    .parse(NOW)
    .unwrap()
}

fn query(library: Option<&str>, from: OffsetDateTime, cancelled: bool) -> ActivityQuery {
    ActivityQuery {
        library: library.map(code),
        starting_from: from,
        include_cancelled: cancelled,
        limit: 10,
        offset: 0,
    }
}

#[tokio::test]
async fn activities_registrations_and_cancellations() {
    for t in backends().await {
        let db = t.connect().await;
        let s = seed_db(&db, 3, 0).await;
        let (a, b, c) = (s.readers[0], s.readers[1], s.readers[2]);
        let store = db.activities();
        let start = datetime!(2021-03-12 15:00 +08:00);
        assert!(matches!(
            store.create(&activity("NOPE", start, 2), NOW, None).await,
            Err(StoreError::NotFound("library"))
        ));
        let id = store
            .create(&activity("HKCL", start, 2), NOW, None)
            .await
            .unwrap();
        let later = store
            .create(&activity("KLN", start + Duration::days(1), 5), NOW, None)
            .await
            .unwrap();
        let got = store.get(id).await.unwrap().unwrap();
        assert_eq!(got.library_name, "HKCL Library", "{}", t.name);
        assert_eq!(got.library_name_zh, "圖書館");
        assert_eq!(got.activity.details, activity("HKCL", start, 2));
        assert_eq!(got.activity.registered, 0);
        assert_eq!(store.get(ActivityId(999_999)).await.unwrap(), None);

        // Listing: by start, filtered by library and start, paged.
        let all = store.list(&query(None, NOW, false)).await.unwrap();
        assert_eq!(all.total, 2);
        let ids: Vec<_> = all.items.iter().map(|l| l.activity.id).collect();
        assert_eq!(ids, [id, later]);
        let kln = store.list(&query(Some("KLN"), NOW, false)).await.unwrap();
        assert_eq!(kln.items.len(), 1);
        assert_eq!(kln.items[0].activity.id, later);
        let from = store
            .list(&query(None, start + Duration::minutes(1), false))
            .await
            .unwrap();
        assert_eq!(from.total, 1);
        let page2 = store
            .list(&ActivityQuery {
                limit: 1,
                offset: 1,
                ..query(None, NOW, false)
            })
            .await
            .unwrap();
        assert_eq!((page2.total, page2.items.len()), (2, 1));
        assert_eq!(page2.items[0].activity.id, later);

        // Two places: A and B get them; C is refused; A again is already registered.
        let at = datetime!(2021-03-10 09:00 +08:00);
        let after_a = store.register(id, a, at).await.unwrap().unwrap();
        assert_eq!(after_a.places_left(), 1, "{}", t.name);
        store.register(id, b, at).await.unwrap().unwrap();
        assert_eq!(
            store.register(id, c, at).await.unwrap(),
            Err(RegistrationRefusal::Full)
        );
        assert_eq!(
            store.register(id, a, at).await.unwrap(),
            Err(RegistrationRefusal::AlreadyRegistered)
        );
        assert!(matches!(
            store.register(ActivityId(999_999), a, at).await,
            Err(StoreError::NotFound("activity"))
        ));

        // B cancels: C gets the place; B cannot cancel twice, and registers again once
        // the place is free.
        store.cancel_registration(id, b, at).await.unwrap().unwrap();
        assert!(matches!(
            store.cancel_registration(id, b, at).await,
            Err(StoreError::NotFound("registration"))
        ));
        assert!(matches!(
            store.cancel_registration(id, c, at).await,
            Err(StoreError::NotFound("registration"))
        ));
        store.register(id, c, at).await.unwrap().unwrap();
        assert_eq!(
            store.register(id, b, at).await.unwrap(),
            Err(RegistrationRefusal::Full)
        );
        assert_eq!(store.get(id).await.unwrap().unwrap().activity.registered, 2);

        // After registration closes, and after the start.
        let closed = start - Duration::hours(2);
        assert_eq!(
            store
                .register(later, b, closed + Duration::days(1))
                .await
                .unwrap(),
            Err(RegistrationRefusal::Closed)
        );
        assert_eq!(
            store.cancel_registration(id, a, start).await.unwrap(),
            Err(CancellationRefusal::Started)
        );

        // B's list: the cancelled registration; A's: registered.
        let since = at - Duration::days(90);
        let b_regs = store.registrations_of(b, since).await.unwrap();
        assert_eq!(b_regs.len(), 1, "{}", t.name);
        assert!(b_regs[0].cancelled_at.is_some());
        let a_regs = store.registrations_of(a, since).await.unwrap();
        assert_eq!(a_regs.len(), 1);
        assert_eq!(a_regs[0].registered_at, at);
        assert_eq!(a_regs[0].cancelled_at, None);
        assert_eq!(a_regs[0].listing.activity.registered, 2);
        // Ended more than the window ago: not listed.
        assert!(
            store
                .registrations_of(a, start + Duration::hours(2))
                .await
                .unwrap()
                .is_empty()
        );

        // The library cancels: the registered readers are named, once.
        let mut told = store.cancel(id, at, None).await.unwrap().unwrap();
        told.sort();
        assert_eq!(told, [a, c]);
        assert_eq!(store.cancel(id, at, None).await.unwrap(), None);
        assert!(matches!(
            store.cancel(ActivityId(999_999), at, None).await,
            Err(StoreError::NotFound("activity"))
        ));
        assert_eq!(
            store.register(id, b, at).await.unwrap(),
            Err(RegistrationRefusal::Cancelled)
        );
        assert_eq!(
            store.cancel_registration(id, a, at).await.unwrap(),
            Err(CancellationRefusal::Cancelled)
        );
        assert_eq!(store.list(&query(None, NOW, false)).await.unwrap().total, 1);
        assert_eq!(store.list(&query(None, NOW, true)).await.unwrap().total, 2);
        db.close().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn forty_parallel_registrations_for_seven_places_make_exactly_seven() {
    for t in backends().await {
        let db = t.connect().await;
        let s = seed_db(&db, 40, 0).await;
        let start = datetime!(2021-03-12 15:00 +08:00);
        let id = db
            .activities()
            .create(&activity("HKCL", start, 7), NOW, None)
            .await
            .unwrap();
        // Every task waits at the barrier, so the registrations really overlap.
        let start_line = Arc::new(tokio::sync::Barrier::new(s.readers.len()));
        let tasks: Vec<_> = s
            .readers
            .iter()
            .map(|&patron| {
                let store = db.activities();
                let start_line = start_line.clone();
                tokio::spawn(async move {
                    start_line.wait().await;
                    store.register(id, patron, NOW).await
                })
            })
            .collect();
        let (mut won, mut full) = (0, 0);
        for task in tasks {
            match task.await.unwrap() {
                Ok(Ok(_)) => won += 1,
                Ok(Err(RegistrationRefusal::Full)) => full += 1,
                other => panic!("{}: unexpected {other:?}", t.name),
            }
        }
        assert_eq!((won, full), (7, 33), "{}", t.name);
        let stored = db.activities().get(id).await.unwrap().unwrap();
        assert_eq!(stored.activity.registered, 7, "{}", t.name);
        let mut registered = 0;
        for &reader in &s.readers {
            registered += db
                .activities()
                .registrations_of(reader, NOW)
                .await
                .unwrap()
                .len();
        }
        assert_eq!(registered, 7, "{}", t.name);
        db.close().await.unwrap();
    }
}

#[tokio::test]
async fn notices_current_for_a_library_newest_first() {
    for t in backends().await {
        let db = t.connect().await;
        seed_db(&db, 0, 0).await;
        let store = db.notices();
        let today = date!(2021 - 03 - 05);
        let notice = |library: Option<&str>, title: &str, published, expires| {
            NoticeForm {
                library_code: library.map(str::to_owned),
                title: title.into(),
                body: "Details\nfollow.".into(),
                title_zh: None,
                body_zh: None,
                published_on: Some(published),
                expires_on: expires,
            }
            .parse(date!(2021 - 03 - 01))
            .unwrap()
        };
        let all_libs = store
            .publish(
                &notice(None, "Fines resume", date!(2021 - 03 - 01), None),
                NOW,
                None,
            )
            .await
            .unwrap();
        let hkcl = store
            .publish(
                &notice(
                    Some("HKCL"),
                    "Stocktaking",
                    date!(2021 - 03 - 03),
                    Some(today),
                ),
                NOW,
                None,
            )
            .await
            .unwrap();
        let _kln = store
            .publish(
                &notice(Some("KLN"), "Kowloon only", date!(2021 - 03 - 04), None),
                NOW,
                None,
            )
            .await
            .unwrap();
        let _future = store
            .publish(
                &notice(None, "Later", date!(2021 - 03 - 06), None),
                NOW,
                None,
            )
            .await
            .unwrap();
        assert!(matches!(
            store
                .publish(
                    &notice(Some("NOPE"), "x", date!(2021 - 03 - 01), None),
                    NOW,
                    None
                )
                .await,
            Err(StoreError::NotFound("library"))
        ));

        let hkcl_code = code("HKCL");
        let current = store.current_for(Some(&hkcl_code), today).await.unwrap();
        let titles: Vec<_> = current
            .iter()
            .map(|n| n.notice.details.title.as_str())
            .collect();
        assert_eq!(titles, ["Stocktaking", "Fines resume"], "{}", t.name);
        assert_eq!(current[0].library_name.as_deref(), Some("HKCL Library"));
        assert_eq!(current[1].library_name, None);
        assert_eq!(current[0].notice.details.body, "Details\nfollow.");
        // The day after it expires, and for a reader without a home library.
        let next = store
            .current_for(Some(&hkcl_code), date!(2021 - 03 - 06))
            .await
            .unwrap();
        let titles: Vec<_> = next
            .iter()
            .map(|n| n.notice.details.title.as_str())
            .collect();
        assert_eq!(titles, ["Later", "Fines resume"]);
        assert_eq!(store.current_for(None, today).await.unwrap().len(), 1);

        assert!(store.withdraw(all_libs, NOW, None).await.unwrap());
        assert!(!store.withdraw(all_libs, NOW, None).await.unwrap());
        assert!(matches!(
            store
                .withdraw(library_reader_services::NoticeId(999_999), NOW, None)
                .await,
            Err(StoreError::NotFound("notice"))
        ));
        let current = store.current_for(Some(&hkcl_code), today).await.unwrap();
        assert_eq!(current.len(), 1);
        assert_eq!(current[0].notice.id, hkcl);

        let listed = store.list(10, 0).await.unwrap();
        assert_eq!(listed.total, 4);
        assert_eq!(listed.items[3].notice.id, all_libs, "newest first");
        assert!(listed.items[3].notice.withdrawn_at.is_some());
        db.close().await.unwrap();
    }
}

/// Saves `settings`, which must be stored.
async fn save(
    store: &ReaderSettingsStore,
    reader: PatronId,
    settings: &ReaderSettings,
    at: OffsetDateTime,
    email_change: EmailChange,
) -> (ReaderSettings, ReadingHistory) {
    match store.put(reader, settings, at, email_change).await.unwrap() {
        SettingsPut::Saved(settings, history) => (settings, history),
        other => panic!("not saved: {other:?}"),
    }
}

/// The `settings.email_changed` notices queued, as (reader, payload).
async fn email_notices(db: &library_persistence::Database) -> Vec<(PatronId, serde_json::Value)> {
    db.outbox()
        .unsent(1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|n| n.notification.kind == EMAIL_CHANGED)
        .map(|n| {
            (
                n.notification.patron.unwrap(),
                serde_json::from_str(&n.notification.payload).unwrap(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_replace_the_email_and_govern_the_reading_history() {
    for t in backends().await {
        let db = t.connect().await;
        let s = seed_db(&db, 1, 2).await;
        let reader = s.readers[0];
        let store = db.reader_settings();
        let (defaults, _) = store.get(reader).await.unwrap().unwrap();
        assert_eq!(defaults, ReaderSettings::defaults(None), "{}", t.name);
        assert_eq!(store.get(PatronId(999_999)).await.unwrap(), None);

        let form = SettingsForm {
            email: Some("reader@example.com".into()),
            sms_number: Some("9123 4567".into()),
            channels: vec![Channel::Sms, Channel::Email],
            language: Language::ZhHant,
            keep_reading_history: true,
        }
        .parse()
        .unwrap();
        // A first email is a change of the email: not without the confirmation.
        assert_eq!(
            store
                .put(reader, &form, NOW, EmailChange::Unconfirmed)
                .await
                .unwrap(),
            SettingsPut::EmailChangeUnconfirmed,
            "{}",
            t.name
        );
        assert_eq!(store.get(reader).await.unwrap().unwrap().0, defaults);
        let (saved, history) = save(&store, reader, &form, NOW, EmailChange::Confirmed).await;
        assert_eq!(saved, form);
        assert!(
            email_notices(&db).await.is_empty(),
            "{}: no old address to tell",
            t.name
        );
        assert_eq!(history.kept_since, None);
        assert_eq!(store.get(reader).await.unwrap().unwrap().0, form);
        // The one email: "forgot Password" finds the reader by it.
        let found = db
            .credentials()
            .find_by_email("READER@example.com")
            .await
            .unwrap();
        assert_eq!(found.len(), 1, "{}", t.name);
        assert_eq!(found[0].patron, reader);
        assert!(matches!(
            store
                .put(PatronId(999_999), &form, NOW, EmailChange::Confirmed)
                .await,
            Err(StoreError::NotFound("reader"))
        ));

        // Two loans returned: one while the history is kept, one while it is not.
        let clock = Arc::new(ManualClock::new(NOW));
        let svc = db_service(&db, clock.clone());
        let lend_and_return = async |item: &str, returned: OffsetDateTime| {
            clock.set(returned - Duration::days(3));
            svc.checkout(CheckoutRequest {
                card_number: card_of(1),
                item_barcode: barcode(item),
                library: code("HKCL"),
            })
            .await
            .unwrap();
            clock.set(returned);
            svc.checkin(CheckinRequest {
                item_barcode: barcode(item),
                library: code("HKCL"),
                returned_at: None,
            })
            .await
            .unwrap();
        };
        let first = datetime!(2021-03-09 11:00 +08:00);
        lend_and_return("B0001", first).await;
        let (history, loans) = store.reading_history(reader).await.unwrap();
        assert!(history.keep);
        assert_eq!(loans.len(), 1, "{}", t.name);
        assert_eq!(loans[0].title, "The Rust Book");
        assert_eq!(loans[0].item_barcode, barcode("B0001"));
        assert_eq!(loans[0].library, LibraryCode::parse("HKCL").unwrap());
        assert_eq!(loans[0].returned_at, first);

        let off = ReaderSettings {
            keep_reading_history: false,
            ..form.clone()
        };
        let turned_off = datetime!(2021-03-10 09:00 +08:00);
        // The email stays: no confirmation needed.
        save(&store, reader, &off, turned_off, EmailChange::Unconfirmed).await;
        assert!(store.reading_history(reader).await.unwrap().1.is_empty());
        lend_and_return("B0002", datetime!(2021-03-14 11:00 +08:00)).await;
        let turned_on = datetime!(2021-03-15 09:00 +08:00);
        let (_, history) = save(&store, reader, &form, turned_on, EmailChange::Unconfirmed).await;
        assert_eq!(history.kept_since, Some(turned_on));
        let (_, loans) = store.reading_history(reader).await.unwrap();
        assert!(loans.is_empty(), "{}: {loans:?}", t.name);
        // Saving again while on keeps the start.
        let (_, history) = save(
            &store,
            reader,
            &form,
            turned_on + Duration::days(1),
            EmailChange::Confirmed,
        )
        .await;
        assert_eq!(history.kept_since, Some(turned_on));
        lend_and_return("B0001", datetime!(2021-03-20 11:00 +08:00)).await;
        let (_, loans) = store.reading_history(reader).await.unwrap();
        assert_eq!(loans.len(), 1);
        assert_eq!(loans[0].returned_at, datetime!(2021-03-20 11:00 +08:00));

        // No email, no channels: the email is gone for "forgot Password" too.
        let none = ReaderSettings {
            email: None,
            sms_number: None,
            channels: BTreeSet::new(),
            ..form
        };
        assert_eq!(
            store
                .put(reader, &none, NOW, EmailChange::Unconfirmed)
                .await
                .unwrap(),
            SettingsPut::EmailChangeUnconfirmed
        );
        assert!(email_notices(&db).await.is_empty());
        save(&store, reader, &none, NOW, EmailChange::Confirmed).await;
        // The old address is told, once, in the change's transaction.
        assert_eq!(
            email_notices(&db).await,
            [(
                reader,
                serde_json::json!({"old_email": "reader@example.com", "new_email": null})
            )],
            "{}",
            t.name
        );
        assert!(
            db.credentials()
                .find_by_email("reader@example.com")
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(store.get(reader).await.unwrap().unwrap().0, none);
        db.close().await.unwrap();
    }
}

#[tokio::test]
async fn enquiries_are_answered_once() {
    for t in backends().await {
        let db = t.connect().await;
        let s = seed_db(&db, 2, 0).await;
        let staff = db
            .staff()
            .create(&NewStaffUser {
                username: "counter".into(),
                password_hash: SecretHash("x".into()),
                role: StaffRole::Librarian,
                may_override: false,
                created_at: NOW,
            })
            .await
            .unwrap();
        let store = db.enquiries();
        let ask = |subject: &str, library: Option<&str>| {
            EnquiryForm {
                subject: subject.into(),
                message: "When does it open?".into(),
                library_code: library.map(str::to_owned),
            }
            .parse()
            .unwrap()
        };
        let first = store
            .create(s.readers[0], &ask("Opening hours", Some("HKCL")), NOW)
            .await
            .unwrap();
        let second = store
            .create(
                s.readers[0],
                &ask("Study rooms", None),
                NOW + Duration::hours(1),
            )
            .await
            .unwrap();
        let other = store
            .create(
                s.readers[1],
                &ask("Lost card", None),
                NOW + Duration::hours(2),
            )
            .await
            .unwrap();
        assert!(matches!(
            store
                .create(s.readers[0], &ask("x", Some("NOPE")), NOW)
                .await,
            Err(StoreError::NotFound("library"))
        ));

        let mine = store.of_patron(s.readers[0]).await.unwrap();
        let ids: Vec<_> = mine.iter().map(|e| e.id).collect();
        assert_eq!(ids, [second, first], "{}: newest first", t.name);
        assert_eq!(mine[1].details.library, Some(code("HKCL")));
        assert_eq!(mine[1].status(), EnquiryStatus::Open);

        let answered_at = NOW + Duration::days(1);
        assert!(
            store
                .answer(first, Some(staff), "9 am to 9 pm.", answered_at, None)
                .await
                .unwrap()
        );
        assert!(
            !store
                .answer(first, Some(staff), "Again", answered_at, None)
                .await
                .unwrap()
        );
        assert!(matches!(
            store
                .answer(
                    library_reader_services::EnquiryId(999_999),
                    None,
                    "x",
                    NOW,
                    None
                )
                .await,
            Err(StoreError::NotFound("enquiry"))
        ));
        let got = store.get(first).await.unwrap().unwrap();
        assert_eq!(got.card_number, card_of(1));
        assert_eq!(got.reader_name, "Chan Tai Man");
        let answer = got.enquiry.answer.unwrap();
        assert_eq!(answer.text, "9 am to 9 pm.");
        assert_eq!(answer.answered_at, answered_at);
        assert_eq!(answer.staff, Some(staff));
        assert_eq!(answer.staff.map(StaffId::get), Some(staff.get()));

        let open = store.list(Some(EnquiryStatus::Open), 10, 0).await.unwrap();
        let ids: Vec<_> = open.items.iter().map(|e| e.enquiry.id).collect();
        assert_eq!(ids, [second, other], "{}: oldest first", t.name);
        assert_eq!(open.total, 2);
        let answered = store
            .list(Some(EnquiryStatus::Answered), 10, 0)
            .await
            .unwrap();
        assert_eq!(answered.total, 1);
        assert_eq!(
            store.list(None, 1, 2).await.unwrap().items[0].enquiry.id,
            other
        );
        db.close().await.unwrap();
    }
}
