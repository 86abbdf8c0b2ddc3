//! The 2021 closure through HTTP with the dev clock: fine-suspension periods for every
//! library and an open-ended one for mobile libraries, later given its end; the impact
//! preview; payments and waivers.

use serde_json::{Value, json};

use crate::support::{TestApp, hk, on_every_backend, standard_rules};

async fn snapshot(app: &TestApp, token: &str) -> (Value, Value) {
    let fines = app
        .get("/api/v1/me/fines", Some(token))
        .await
        .expect(200, "");
    let loans = app
        .get("/api/v1/me/loans", Some(token))
        .await
        .expect(200, "");
    (fines.body, loans.body)
}

#[tokio::test]
async fn the_2021_closure() {
    on_every_backend(true, async |app: &TestApp| {
        app.set_clock(hk("2020-11-20T10:00:00")).await;
        let staff = app.staff_token().await;
        app.library(&staff, "DIST", "district").await;
        app.library(&staff, "MOB", "mobile").await;
        app.rules(&staff, json!({}), standard_rules())
            .await
            .expect(200, "");
        let title = app.title(&staff, "Fortress Besieged").await;
        for barcode in ["D1", "D2", "D3", "M1", "M2"] {
            let home = if barcode.starts_with('D') {
                "DIST"
            } else {
                "MOB"
            };
            app.item(&staff, title, barcode, home).await;
        }
        let a = app.reader(&staff, "91233001").await;
        let b = app.reader(&staff, "91233002").await;
        for barcode in ["D1", "D2", "D3"] {
            let loan = app
                .checkout(&staff, &a, barcode, "DIST")
                .await
                .expect(201, "");
            assert_eq!(loan.body["due_at"], "2020-12-04T23:59:59+08:00");
        }
        for barcode in ["M1", "M2"] {
            app.checkout(&staff, &b, barcode, "MOB")
                .await
                .expect(201, "");
        }

        // Before anything is declared: preview the all-libraries period as of 10 March.
        app.set_clock(hk("2021-03-04T10:00:00")).await;
        let staff = app.staff_token().await;
        let ta = app.reader_session(&a, "91233001").await;
        let tb = app.reader_session(&b, "91233002").await;
        let before = (snapshot(app, &ta).await, snapshot(app, &tb).await);
        let all_libraries = json!({"starts_on": "2020-12-02", "resumes_on": "2021-03-05",
                                   "reason": "COVID-19 closure"});
        let mut candidate = all_libraries.clone();
        candidate["as_of"] = json!("2021-03-10");
        let preview = app
            .post("/api/v1/fine-suspensions/preview", Some(&staff), candidate)
            .await
            .expect(200, "");
        // 96 days × HK$1.50 = 14400 without; 6 days = 900 with, for each of 5 loans.
        assert_eq!(
            preview.body,
            json!({"loans": 5, "patrons": 2, "total_cents": 4500, "waived_cents": 67500}),
            "{}",
            app.db
        );
        let after = (snapshot(app, &ta).await, snapshot(app, &tb).await);
        assert_eq!(before, after, "the preview changes nothing");
        assert!(
            app.get("/api/v1/fine-suspensions", Some(&staff)).await.body["fine_suspensions"]
                .as_array()
                .is_some_and(Vec::is_empty)
        );

        let all_id = app
            .post("/api/v1/fine-suspensions", Some(&staff), all_libraries)
            .await
            .expect(201, "")
            .body["id"]
            .clone();
        let mobile_id = app
            .post(
                "/api/v1/fine-suspensions",
                Some(&staff),
                json!({"starts_on": "2020-12-02", "resumes_on": null,
                       "library_kinds": ["mobile"], "reason": "mobile libraries"}),
            )
            .await
            .expect(201, "")
            .body["id"]
            .as_i64()
            .expect("id");
        let listed = app
            .get("/api/v1/fine-suspensions", Some(&staff))
            .await
            .expect(200, "");
        assert_eq!(
            listed.body["fine_suspensions"],
            json!([
                {"id": all_id, "starts_on": "2020-12-02", "resumes_on": "2021-03-05",
                 "library_kinds": [], "library_codes": [], "reason": "COVID-19 closure"},
                {"id": mobile_id, "starts_on": "2020-12-02", "resumes_on": null,
                 "library_kinds": ["mobile"], "library_codes": [], "reason": "mobile libraries"}
            ])
        );
        // With both in force, the mobile period again changes nothing.
        let again = app
            .post(
                "/api/v1/fine-suspensions/preview",
                Some(&staff),
                json!({"starts_on": "2020-12-02", "library_kinds": ["mobile"], "reason": "x",
                       "as_of": "2021-03-10"}),
            )
            .await
            .expect(200, "");
        assert_eq!(
            again.body,
            json!({"loans": 3, "patrons": 1, "total_cents": 2700, "waived_cents": 0})
        );

        // Returns at the district library: 4 March 0, 5 March 150, 10 March 900.
        let back = app
            .checkin(&staff, "D1", "DIST", None)
            .await
            .expect(200, "");
        assert_eq!(
            (&back.body["fine_cents"], &back.body["overdue_days"]),
            (&json!(0), &json!(90))
        );
        app.set_clock(hk("2021-03-05T10:00:00")).await;
        let staff = app.staff_token().await;
        let back = app
            .checkin(&staff, "D2", "DIST", None)
            .await
            .expect(200, "");
        assert_eq!(
            (&back.body["fine_cents"], &back.body["chargeable_days"]),
            (&json!(150), &json!(1))
        );
        app.set_clock(hk("2021-03-10T10:00:00")).await;
        let staff = app.staff_token().await;
        let back = app
            .checkin(&staff, "D3", "DIST", None)
            .await
            .expect(200, "");
        assert_eq!(back.body["fine_cents"], 900);
        // Mobile: still suspended on 10 March.
        let back = app.checkin(&staff, "M1", "MOB", None).await.expect(200, "");
        assert_eq!(back.body["fine_cents"], 0);

        // The mobile libraries' period is given its end; fines resume 3 May.
        let patched = app
            .patch(
                &format!("/api/v1/fine-suspensions/{mobile_id}"),
                Some(&staff),
                json!({"resumes_on": "2021-05-03"}),
            )
            .await
            .expect(200, "");
        assert_eq!(patched.body["resumes_on"], "2021-05-03");
        app.patch(
            &format!("/api/v1/fine-suspensions/{mobile_id}"),
            Some(&staff),
            json!({"resumes_on": "2020-12-01"}),
        )
        .await
        .expect(422, "validation_failed");
        app.set_clock(hk("2021-05-05T10:00:00")).await;
        let staff = app.staff_token().await;
        let back = app.checkin(&staff, "M2", "MOB", None).await.expect(200, "");
        assert_eq!(
            (&back.body["fine_cents"], &back.body["chargeable_days"]),
            (&json!(450), &json!(3))
        );

        // Payments and waivers change what A owes (150 + 900).
        let ta = app.relogin(&a).await;
        let fines = app.get("/api/v1/me/fines", Some(&ta)).await.expect(200, "");
        assert_eq!(fines.body["outstanding_cents"], 1050, "{:?}", fines.body);
        let charges = fines.body["fines"].as_array().expect("fines").clone();
        assert_eq!(charges.len(), 2);
        assert_eq!(charges[1]["item_barcode"], "D3");
        assert_eq!(charges[1]["chargeable_days"], 6);
        app.post(
            &format!("/api/v1/patrons/{a}/payments"),
            Some(&staff),
            json!({"amount_cents": 5000}),
        )
        .await
        .expect(422, "validation_failed");
        let paid = app
            .post(
                &format!("/api/v1/patrons/{a}/payments"),
                Some(&staff),
                json!({"amount_cents": 200}),
            )
            .await
            .expect(201, "");
        assert_eq!(paid.body["outstanding_cents"], 850);
        let big = charges[1]["id"].as_i64().expect("id");
        app.post(
            &format!("/api/v1/fines/{big}/waiver"),
            Some(&staff),
            json!({"reason": " "}),
        )
        .await
        .expect(422, "validation_failed");
        let waived = app
            .post(
                &format!("/api/v1/fines/{big}/waiver"),
                Some(&staff),
                json!({"reason": "closure hardship"}),
            )
            .await
            .expect(200, "");
        assert_eq!(waived.body["waived_cents"], 850);
        let fines = app.get("/api/v1/me/fines", Some(&ta)).await.expect(200, "");
        assert_eq!(fines.body["outstanding_cents"], 0);
        let statuses: Vec<&str> = fines.body["fines"]
            .as_array()
            .expect("fines")
            .iter()
            .map(|f| f["status"].as_str().unwrap_or(""))
            .collect();
        assert_eq!(statuses, ["paid", "waived"]);
        let me = app.get("/api/v1/me", Some(&ta)).await.expect(200, "");
        assert_eq!(me.body["outstanding_cents"], 0);
        let tb = app.relogin(&b).await;
        let me = app.get("/api/v1/me", Some(&tb)).await.expect(200, "");
        assert_eq!(me.body["outstanding_cents"], 450);

        let audit = app.audit_log().await;
        let waiver = audit
            .iter()
            .find(|e| e.entry.action == "fine.waive")
            .expect("the waiver is audited");
        assert!(waiver.entry.staff.is_some());
        assert_eq!(waiver.entry.subject, format!("fine:{big}"));
        assert!(waiver.entry.details.contains("closure hardship"));
        for action in [
            "fine_suspension.create",
            "fine_suspension.resume",
            "fine.payment",
        ] {
            assert!(audit.iter().any(|e| e.entry.action == action), "{action}");
        }
    })
    .await;
}

#[tokio::test]
async fn staff_see_a_readers_loans_and_charges_and_waive_the_one_they_name() {
    on_every_backend(true, async |app: &TestApp| {
        let staff = app.counter_on_1_june_2021().await;
        let t1 = app.title(&staff, "Harbour Lights").await;
        let t2 = app.title(&staff, "Typhoon Season").await;
        app.item(&staff, t1, "SV1", "CEN").await;
        app.item(&staff, t2, "SV2", "CEN").await;
        let card = app.reader(&staff, "91237001").await;
        app.checkout(&staff, &card, "SV1", "CEN")
            .await
            .expect(201, "");
        app.checkout(&staff, &card, "SV2", "CEN")
            .await
            .expect(201, "");
        // Due 15 June; on 20 June SV1 comes back 5 days late (5 × HK$1.50), SV2 is still out.
        app.set_clock(hk("2021-06-20T10:00:00")).await;
        let staff = app.staff_token().await;
        app.checkin(&staff, "SV1", "CEN", None)
            .await
            .expect(200, "");
        let loans = app
            .get(&format!("/api/v1/patrons/{card}/loans"), Some(&staff))
            .await
            .expect(200, "");
        let open = loans.body["loans"].as_array().expect("loans");
        assert_eq!(open.len(), 1, "{}", loans.body);
        assert_eq!(open[0]["item_barcode"], "SV2");
        assert_eq!(open[0]["overdue_days"], 5);
        assert_eq!(open[0]["fine_cents"], 750);
        let fines = app
            .get(&format!("/api/v1/patrons/{card}/fines"), Some(&staff))
            .await
            .expect(200, "");
        // The returned loan's fine is charged; the open one's accrues into what is owed.
        assert_eq!(fines.body["outstanding_cents"], 1500, "{}", fines.body);
        let charges = fines.body["fines"].as_array().expect("fines");
        assert_eq!(charges.len(), 1);
        assert_eq!(charges[0]["item_barcode"], "SV1");
        assert_eq!(charges[0]["amount_cents"], 750);
        let id = charges[0]["id"].as_i64().expect("id");
        app.post(
            &format!("/api/v1/fines/{id}/waiver"),
            Some(&staff),
            json!({"reason": "returned in the book drop on the due date"}),
        )
        .await
        .expect(200, "");
        let after = app
            .get(&format!("/api/v1/patrons/{card}/fines"), Some(&staff))
            .await
            .expect(200, "");
        assert_eq!(after.body["fines"][0]["status"], "waived");
        assert_eq!(after.body["outstanding_cents"], 750);
        // Unknown card: 404; a reader's token: 403.
        app.get("/api/v1/patrons/21999999999999/loans", Some(&staff))
            .await
            .expect(404, "not_found");
        app.get("/api/v1/patrons/21999999999999/fines", Some(&staff))
            .await
            .expect(404, "not_found");
        let reader = app.reader_session(&card, "91237001").await;
        app.get(&format!("/api/v1/patrons/{card}/fines"), Some(&reader))
            .await
            .expect(403, "forbidden");
    })
    .await;
}
