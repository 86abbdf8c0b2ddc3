//! Renewals over HTTP: by the reader with a PIN session, by staff, refusals, accrued fines.

use serde_json::json;

use crate::support::{TestApp, hk, on_every_backend};

#[tokio::test]
async fn renewals_by_pin_and_at_the_counter() {
    on_every_backend(true, async |app: &TestApp| {
        let staff = app.counter_on_1_june_2021().await;
        let t1 = app.title(&staff, "Journey to the West").await;
        let t2 = app.title(&staff, "Water Margin").await;
        app.item(&staff, t1, "R1", "CEN").await;
        app.item(&staff, t2, "R2", "CEN").await;
        let a = app.reader(&staff, "91232001").await;
        let b = app.reader(&staff, "91232002").await;
        let tb = app.reader_session(&b, "91232002").await;
        let pin = app.pin_login(&a, "2001").await.expect(200, "").token();

        let l1 = app
            .checkout(&staff, &a, "R1", "CEN")
            .await
            .expect(201, "")
            .body["loan_id"]
            .as_i64()
            .expect("loan");
        let renew = |token: String, loan: i64| async move {
            app.post(
                &format!("/api/v1/me/loans/{loan}/renewal"),
                Some(&token),
                json!(null),
            )
            .await
        };
        for n in 1..=5 {
            let renewed = renew(pin.clone(), l1).await.expect(200, "");
            assert_eq!(renewed.body["renewals"], n, "{}", app.db);
            assert_eq!(renewed.body["due_at"], "2021-06-15T23:59:59+08:00");
        }
        renew(pin.clone(), l1)
            .await
            .refused("renewal_refused", "too_many_renewals");
        let loans = app
            .get("/api/v1/me/loans", Some(&pin))
            .await
            .expect(200, "");
        let loan = &loans.body["loans"][0];
        assert_eq!(
            (
                &loan["renewals"],
                &loan["renewals_left"],
                &loan["fine_cents"]
            ),
            (&json!(5), &json!(0), &json!(0))
        );
        // Another reader's loan is not found; a PIN session may not do anything else.
        renew(tb.clone(), l1).await.expect(404, "not_found");
        renew(pin.clone(), 999_999).await.expect(404, "not_found");
        app.get("/api/v1/me", Some(&pin))
            .await
            .expect(403, "forbidden");
        app.get("/api/v1/me/holds", Some(&pin))
            .await
            .expect(403, "forbidden");
        // The charges it may hear (telephone renewal tells the caller what they owe).
        app.get("/api/v1/me/fines", Some(&pin))
            .await
            .expect(200, "");

        // Reserved by another reader.
        let l2 = app
            .checkout(&staff, &a, "R2", "CEN")
            .await
            .expect(201, "")
            .body["loan_id"]
            .as_i64()
            .expect("loan");
        app.post(
            "/api/v1/me/holds",
            Some(&tb),
            json!({"title_id": t2, "pickup_library": "CEN"}),
        )
        .await
        .expect(201, "");
        renew(pin.clone(), l2)
            .await
            .refused("renewal_refused", "on_hold_for_another");
        app.post(
            &format!("/api/v1/circulation/loans/{l2}/renewal"),
            Some(&staff),
            json!(null),
        )
        .await
        .refused("renewal_refused", "on_hold_for_another");
        app.post(
            "/api/v1/circulation/loans/999999/renewal",
            Some(&staff),
            json!(null),
        )
        .await
        .expect(404, "not_found");

        // Two days overdue: the loan shows its accrued fine; renewing at the counter fixes
        // it as a charge.
        app.set_clock(hk("2021-06-17T10:00:00")).await;
        let staff = app.staff_token().await;
        let ta = app.reader_session(&a, "91232001").await;
        let tb = app.relogin(&b).await;
        let loans = app.get("/api/v1/me/loans", Some(&ta)).await.expect(200, "");
        let loan = &loans.body["loans"][0];
        assert_eq!(
            (&loan["overdue_days"], &loan["fine_cents"]),
            (&json!(2), &json!(300))
        );
        let me = app.get("/api/v1/me", Some(&ta)).await.expect(200, "");
        assert_eq!(
            me.body["outstanding_cents"], 600,
            "two loans, two days each"
        );
        app.delete("/api/v1/me/holds/1", Some(&ta))
            .await
            .expect(404, "not_found");
        let hold = app
            .get("/api/v1/me/holds", Some(&tb))
            .await
            .expect(200, "")
            .body["holds"][0]["id"]
            .as_i64()
            .expect("hold");
        app.delete(&format!("/api/v1/me/holds/{hold}"), Some(&tb))
            .await
            .expect(204, "");
        let renewed = app
            .post(
                &format!("/api/v1/circulation/loans/{l2}/renewal"),
                Some(&staff),
                json!(null),
            )
            .await
            .expect(200, "");
        assert_eq!(renewed.body["due_at"], "2021-07-01T23:59:59+08:00");
        let fines = app.get("/api/v1/me/fines", Some(&ta)).await.expect(200, "");
        assert_eq!(
            fines.body["fines"][0]["amount_cents"], 300,
            "{:?}",
            fines.body
        );
        assert_eq!(fines.body["fines"][0]["item_barcode"], "R2");
        assert_eq!(fines.body["outstanding_cents"], 600);
    })
    .await;
}

#[tokio::test]
async fn renew_all_tries_every_open_loan_and_says_why_each_refusal() {
    on_every_backend(true, async |app: &TestApp| {
        let staff = app.counter_on_1_june_2021().await;
        let t1 = app.title(&staff, "Journey to the West").await;
        let t2 = app.title(&staff, "Water Margin").await;
        app.item(&staff, t1, "RA1", "CEN").await;
        app.item(&staff, t2, "RA2", "CEN").await;
        let a = app.reader(&staff, "91232011").await;
        let b = app.reader(&staff, "91232012").await;
        let pin = app.pin_login(&a, "2011").await.expect(200, "").token();
        // Nothing on loan: an empty list.
        let none = app
            .post("/api/v1/me/loans/renewals", Some(&pin), json!(null))
            .await
            .expect(200, "");
        assert_eq!(none.body, json!({"renewals": []}));
        let l1 = app
            .checkout(&staff, &a, "RA1", "CEN")
            .await
            .expect(201, "")
            .body["loan_id"]
            .as_i64()
            .expect("loan");
        let l2 = app
            .checkout(&staff, &a, "RA2", "CEN")
            .await
            .expect(201, "")
            .body["loan_id"]
            .as_i64()
            .expect("loan");
        app.post(
            &format!("/api/v1/patrons/{b}/holds"),
            Some(&staff),
            json!({"title_id": t2, "pickup_library": "CEN"}),
        )
        .await
        .expect(201, "");
        // Three days later: the renewal counts 14 days from 4 June.
        app.set_clock(hk("2021-06-04T10:00:00")).await;
        let pin = app.pin_login(&a, "2011").await.expect(200, "").token();
        let all = app
            .post("/api/v1/me/loans/renewals", Some(&pin), json!(null))
            .await
            .expect(200, "");
        let mut lines = all.body["renewals"].as_array().expect("renewals").clone();
        lines.sort_by_key(|l| l["loan_id"].as_i64());
        assert_eq!(
            lines,
            vec![
                json!({"loan_id": l1, "renewed": true, "due_at": "2021-06-18T23:59:59+08:00"}),
                json!({"loan_id": l2, "renewed": false, "due_at": "2021-06-15T23:59:59+08:00",
                       "reason": "on_hold_for_another"}),
            ],
            "{}",
            app.db
        );
        // A staff session may not; no session at all is 401.
        let staff = app.staff_token().await;
        app.post("/api/v1/me/loans/renewals", Some(&staff), json!(null))
            .await
            .expect(403, "forbidden");
        app.post("/api/v1/me/loans/renewals", None, json!(null))
            .await
            .expect(401, "unauthorized");
    })
    .await;
}
