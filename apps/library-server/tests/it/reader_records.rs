//! Reader records at the counter over HTTP: search, the record, edit, card renewal,
//! deactivation, payments and reading history, on every backend.

use serde_json::json;

use crate::support::{TestApp, hk, on_every_backend};

async fn register(
    app: &TestApp,
    staff: &str,
    name: &str,
    phone: &str,
    email: Option<&str>,
) -> String {
    app.post(
        "/api/v1/patrons",
        Some(staff),
        json!({"name": name, "phone": phone, "email": email, "category": "adult",
               "home_library": "CEN"}),
    )
    .await
    .expect(201, "")
    .body["card_number"]
        .as_str()
        .expect("card")
        .to_owned()
}

fn cards(answer: &crate::support::Answer) -> Vec<String> {
    answer.body["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| r["card_number"].as_str().expect("card").to_owned())
        .collect()
}

#[tokio::test]
async fn staff_find_readers_by_card_name_phone_and_email_a_page_at_a_time() {
    on_every_backend(true, async |app: &TestApp| {
        let staff = app.counter_on_1_june_2021().await;
        let chan = register(
            app,
            &staff,
            "Chan Tai Man",
            "9123 4567",
            Some("tm.chan@example.org"),
        )
        .await;
        let chen = register(app, &staff, "Chen Siu Ming", "+852 9123-9999", None).await;
        let lee = register(
            app,
            &staff,
            "Lee Ka Yan",
            "6123 0000",
            Some("ky.lee@example.org"),
        )
        .await;
        let wong = register(app, &staff, "陳大文", "2123 4567", None).await;
        let token = staff.as_str();
        let search = |query: String| async move {
            app.get(&format!("/api/v1/patrons?{query}"), Some(token))
                .await
        };

        // Name: case-blind prefix, ordered by name then card.
        let found = search("name=CH".into()).await.expect(200, "");
        assert_eq!(found.body["total"], 2, "{}", app.db);
        assert_eq!(cards(&found), vec![chan.clone(), chen.clone()]);
        // Chinese names, by their first characters.
        let found = search("name=%E9%99%B3%E5%A4%A7".into())
            .await
            .expect(200, "");
        assert_eq!(cards(&found), vec![wong.clone()]);
        // Phone: digits only on both sides; the country code as typed counts.
        let found = search("phone=9123".into()).await.expect(200, "");
        assert_eq!(cards(&found), vec![chan.clone()]);
        let found = search("phone=852%209123".into()).await.expect(200, "");
        assert_eq!(cards(&found), vec![chen.clone()]);
        // Email, case-blind.
        let found = search("email=KY.L".into()).await.expect(200, "");
        assert_eq!(cards(&found), vec![lee.clone()]);
        // Card prefix; every criterion must match.
        let found = search(format!("card={}", &lee[..10])).await.expect(200, "");
        assert_eq!(cards(&found), vec![lee.clone()]);
        let found = search(format!("card={}&name=chan", &lee[..14]))
            .await
            .expect(200, "");
        assert_eq!(found.body["total"], 0);
        // `%` and `_` are letters, not wildcards.
        let found = search("name=C%25".into()).await.expect(200, "");
        assert_eq!(found.body["total"], 0);
        // Paging: 4 readers whose card starts with 21, 3 a page.
        let first = search("card=2100&per_page=3".into()).await.expect(200, "");
        let second = search("card=2100&per_page=3&page=2".into())
            .await
            .expect(200, "");
        let all: Vec<_> = cards(&first).into_iter().chain(cards(&second)).collect();
        let total = first.body["total"].as_u64().unwrap();
        assert_eq!(all.len() as u64, total.min(6));
        // The record shown has every detail.
        let found = search("email=tm.chan@".into()).await.expect(200, "");
        let r = &found.body["results"][0];
        assert_eq!(r["name"], "Chan Tai Man");
        assert_eq!(r["phone"], "9123 4567");
        assert_eq!(r["category"], "adult");
        assert_eq!(r["home_library"], "CEN");
        assert_eq!(r["card_expires_on"], "2026-06-01");
        assert_eq!(r["registered_at"], "2021-06-01T10:00:00+08:00");
        assert_eq!(r["deactivated_at"], json!(null));
        assert_eq!(r["blocked"], false);

        // Bad searches: every rule at once, never a 500.
        search(String::new()).await.expect(422, "validation_failed");
        let bad = search("card=21x&name=C&phone=91&email=ab&page=0&per_page=101".into())
            .await
            .expect(422, "validation_failed");
        assert_eq!(
            bad.violations(),
            vec![
                "card_invalid",
                "name_invalid",
                "phone_invalid",
                "email_invalid",
                "page_invalid",
                "per_page_invalid"
            ]
        );
        search("name=chan&page=99999999999".into())
            .await
            .expect(422, "validation_failed");
        search("name=chan&page=x".into())
            .await
            .expect(400, "bad_request");
        // Readers may not search readers.
        let reader = app.reader_session(&chan, "9123 4567").await;
        app.get("/api/v1/patrons?name=chan", Some(&reader))
            .await
            .expect(403, "forbidden");
    })
    .await;
}

#[tokio::test]
async fn staff_edit_a_reader_with_the_registration_checks_and_the_audit_says_what_changed() {
    on_every_backend(true, async |app: &TestApp| {
        let staff = app.counter_on_1_june_2021().await;
        app.library(&staff, "STL", "small").await;
        let card = register(
            app,
            &staff,
            "Chan Tai Man",
            "91234567",
            Some("old@example.org"),
        )
        .await;
        let path = format!("/api/v1/patrons/{card}");

        let edited = app
            .patch(
                &path,
                Some(&staff),
                json!({"name": "  Chan Tai-man ", "phone": "9876 5432", "email": null,
                       "category": "senior", "home_library": "STL"}),
            )
            .await
            .expect(200, "");
        assert_eq!(edited.body["name"], "Chan Tai-man");
        assert_eq!(edited.body["phone"], "9876 5432");
        assert_eq!(edited.body["email"], json!(null));
        assert_eq!(edited.body["category"], "senior");
        assert_eq!(edited.body["home_library"], "STL");
        // Absent fields stay.
        let edited = app
            .patch(&path, Some(&staff), json!({"email": "new@example.org"}))
            .await
            .expect(200, "");
        assert_eq!(edited.body["name"], "Chan Tai-man");
        assert_eq!(edited.body["email"], "new@example.org");
        let record = app.get(&path, Some(&staff)).await.expect(200, "");
        assert_eq!(record.body["phone"], "9876 5432");
        assert_eq!(record.body["category"], "senior");

        // The registration's checks, all at once; and the library must exist.
        let bad = app
            .patch(
                &path,
                Some(&staff),
                json!({"name": " ", "phone": "12", "email": "not-an-email",
                       "category": "Adult!", "home_library": "nope nope"}),
            )
            .await
            .expect(422, "validation_failed");
        assert_eq!(
            bad.violations(),
            vec![
                "name_missing",
                "phone_too_short",
                "email_invalid",
                "category_invalid",
                "home_library_invalid"
            ]
        );
        let bad = app
            .patch(&path, Some(&staff), json!({"home_library": "NOWHERE"}))
            .await
            .expect(422, "validation_failed");
        assert_eq!(bad.violations(), vec!["unknown_library"]);
        app.patch(&path, Some(&staff), json!({"name": 12}))
            .await
            .expect(400, "bad_request");
        app.patch("/api/v1/patrons/21999999999999", Some(&staff), json!({}))
            .await
            .expect(404, "not_found");
        // Nothing refused was stored.
        let record = app.get(&path, Some(&staff)).await.expect(200, "");
        assert_eq!(record.body["home_library"], "STL");

        let audit = app.audit_log().await;
        let mut updates: Vec<_> = audit
            .iter()
            .filter(|e| e.entry.action == "reader.update")
            .collect();
        updates.sort_by_key(|e| e.id);
        assert_eq!(updates.len(), 2, "{}", app.db);
        assert_eq!(updates[0].entry.subject, format!("card:{card}"));
        let details: serde_json::Value = serde_json::from_str(&updates[0].entry.details).unwrap();
        assert_eq!(
            details["changed"],
            json!({"name": "Chan Tai-man", "phone": "9876 5432", "email": null,
                   "category": "senior", "home_library": "STL"})
        );
        let details: serde_json::Value = serde_json::from_str(&updates[1].entry.details).unwrap();
        assert_eq!(details["changed"], json!({"email": "new@example.org"}));
    })
    .await;
}

#[tokio::test]
async fn an_expired_card_is_renewed_for_five_years_from_today_and_lends_again() {
    on_every_backend(true, async |app: &TestApp| {
        let staff = app.counter_on_1_june_2021().await;
        let t = app.title(&staff, "Dream of the Red Chamber").await;
        app.item(&staff, t, "CR1", "CEN").await;
        // Registered on 29 February 2016: the card's last day is 28 February 2021.
        app.set_clock(hk("2016-02-29T10:00:00")).await;
        let card = register(app, &staff, "Ho Wing", "91230001", None).await;
        let path = format!("/api/v1/patrons/{card}");
        assert_eq!(
            app.get(&path, Some(&staff)).await.expect(200, "").body["card_expires_on"],
            "2021-02-28"
        );
        app.set_clock(hk("2021-06-01T10:00:00")).await;
        app.checkout(&staff, &card, "CR1", "CEN")
            .await
            .refused("checkout_refused", "card_expired");

        let renewed = app
            .post(&format!("{path}/card-renewal"), Some(&staff), json!(null))
            .await
            .expect(200, "");
        assert_eq!(renewed.body["card_expires_on"], "2026-06-01");
        app.checkout(&staff, &card, "CR1", "CEN")
            .await
            .expect(201, "");
        // Renewing again the same day never shortens it.
        let again = app
            .post(&format!("{path}/card-renewal"), Some(&staff), json!(null))
            .await
            .expect(200, "");
        assert_eq!(again.body["card_expires_on"], "2026-06-01");
        app.post(
            "/api/v1/patrons/21999999999999/card-renewal",
            Some(&staff),
            json!(null),
        )
        .await
        .expect(404, "not_found");
        let audit = app.audit_log().await;
        let entry = audit
            .iter()
            .filter(|e| e.entry.action == "reader.card_renewal")
            .min_by_key(|e| e.id)
            .expect("audited");
        let details: serde_json::Value = serde_json::from_str(&entry.entry.details).unwrap();
        assert_eq!(details["card_expires_on_before"], "2021-02-28");
        assert_eq!(details["card_expires_on"], "2026-06-01");
    })
    .await;
}

#[tokio::test]
async fn a_reader_is_deactivated_only_with_nothing_on_loan_owed_or_reserved() {
    on_every_backend(true, async |app: &TestApp| {
        let staff = app.counter_on_1_june_2021().await;
        let t1 = app.title(&staff, "Fortress Besieged").await;
        let t2 = app.title(&staff, "Rickshaw Boy").await;
        app.item(&staff, t1, "D1", "CEN").await;
        app.item(&staff, t2, "D2", "CEN").await;
        let card = register(app, &staff, "Yip Man", "91230002", None).await;
        let session = app.reader_session(&card, "91230002").await;
        let token = std::cell::RefCell::new(staff.clone());
        let deactivate = || async {
            let staff = token.borrow().clone();
            app.post(
                &format!("/api/v1/patrons/{card}/deactivation"),
                Some(&staff),
                json!(null),
            )
            .await
        };

        // A loan 10 days overdue (HK$1.50 a day under the standard rules) and a hold.
        app.checkout(&staff, &card, "D1", "CEN")
            .await
            .expect(201, "");
        app.post(
            "/api/v1/me/holds",
            Some(&session),
            json!({"title_id": t2, "pickup_library": "CEN"}),
        )
        .await
        .expect(201, "");
        let refused = deactivate()
            .await
            .refused("deactivation_refused", "loans_open");
        assert_eq!(
            refused.body["reasons"],
            json!(["loans_open", "holds_active"])
        );

        app.set_clock(hk("2021-06-25T10:00:00")).await;
        let staff = app.staff_token().await;
        *token.borrow_mut() = staff.clone();
        let session = app.relogin(&card).await;
        app.checkin(&staff, "D1", "CEN", None).await.expect(200, "");
        let refused = deactivate()
            .await
            .refused("deactivation_refused", "charges_outstanding");
        assert_eq!(
            refused.body["reasons"],
            json!(["charges_outstanding", "holds_active"])
        );
        let fines = app
            .get(&format!("/api/v1/patrons/{card}/fines"), Some(&staff))
            .await
            .expect(200, "");
        let owed = fines.body["outstanding_cents"].as_i64().unwrap();
        assert!(owed > 0);
        app.post(
            &format!("/api/v1/patrons/{card}/payments"),
            Some(&staff),
            json!({"amount_cents": owed}),
        )
        .await
        .expect(201, "");
        let holds = app
            .get("/api/v1/me/holds", Some(&session))
            .await
            .expect(200, "");
        let hold = holds.body["holds"][0]["id"].as_i64().unwrap();
        app.delete(&format!("/api/v1/me/holds/{hold}"), Some(&session))
            .await
            .expect(204, "");

        // The payments are on the record, with the charge each settled.
        let payments = app
            .get(&format!("/api/v1/patrons/{card}/payments"), Some(&staff))
            .await
            .expect(200, "");
        assert_eq!(payments.body["total_cents"], owed);
        assert_eq!(payments.body["payments"][0]["paid_on"], "2021-06-25");
        assert_eq!(
            payments.body["payments"][0]["allocations"][0]["charge_id"],
            fines.body["fines"][0]["id"]
        );

        // Sessions of today, which the deactivation must end.
        let session = app.relogin(&card).await;
        let pin = app.pin_login(&card, "0002").await.expect(200, "").token();
        app.get("/api/v1/me", Some(&session)).await.expect(200, "");
        deactivate().await.expect(204, "");
        // Sessions end; neither the Password nor the PIN works any more.
        app.get("/api/v1/me", Some(&session))
            .await
            .expect(401, "unauthorized");
        app.get("/api/v1/me/loans", Some(&pin))
            .await
            .expect(401, "unauthorized");
        app.login(&card, "Reading-Room-42")
            .await
            .expect(401, "invalid_credentials");
        app.pin_login(&card, "0002")
            .await
            .expect(401, "invalid_credentials");
        // No more lending; the record stays readable and searchable.
        app.checkout(&staff, &card, "D2", "CEN")
            .await
            .refused("checkout_refused", "patron_suspended");
        let record = app
            .get(&format!("/api/v1/patrons/{card}"), Some(&staff))
            .await
            .expect(200, "");
        assert_eq!(record.body["deactivated_at"], "2021-06-25T10:00:00+08:00");
        let found = app
            .get(&format!("/api/v1/patrons?card={card}"), Some(&staff))
            .await
            .expect(200, "");
        assert_eq!(
            found.body["results"][0]["deactivated_at"],
            "2021-06-25T10:00:00+08:00"
        );
        // It cannot be changed or deactivated again.
        app.patch(
            &format!("/api/v1/patrons/{card}"),
            Some(&staff),
            json!({"name": "X Y"}),
        )
        .await
        .expect(409, "reader_deactivated");
        app.post(
            &format!("/api/v1/patrons/{card}/card-renewal"),
            Some(&staff),
            json!(null),
        )
        .await
        .expect(409, "reader_deactivated");
        deactivate()
            .await
            .refused("deactivation_refused", "already_deactivated");
        assert_eq!(
            app.audit_log()
                .await
                .iter()
                .filter(|e| e.entry.action == "reader.deactivate")
                .count(),
            1
        );
        app.post(
            "/api/v1/patrons/21999999999999/deactivation",
            Some(&staff),
            json!(null),
        )
        .await
        .expect(404, "not_found");
    })
    .await;
}

#[tokio::test]
async fn staff_see_the_readers_history_only_while_the_reader_keeps_it() {
    on_every_backend(true, async |app: &TestApp| {
        let staff = app.counter_on_1_june_2021().await;
        let t = app.title(&staff, "The Romance of the Three Kingdoms").await;
        app.item(&staff, t, "H1", "CEN").await;
        let card = register(app, &staff, "Lam Ching Ying", "91230003", None).await;
        app.checkout(&staff, &card, "H1", "CEN")
            .await
            .expect(201, "");
        app.checkin(&staff, "H1", "CEN", None).await.expect(200, "");
        let history = app
            .get(
                &format!("/api/v1/patrons/{card}/reading-history"),
                Some(&staff),
            )
            .await
            .expect(200, "");
        let kept = history.body["keep_reading_history"].as_bool().unwrap();
        let loans = history.body["loans"].as_array().unwrap().len();
        assert_eq!(loans, usize::from(kept), "{}", app.db);
        app.get(
            "/api/v1/patrons/21999999999999/reading-history",
            Some(&staff),
        )
        .await
        .expect(404, "not_found");
    })
    .await;
}
