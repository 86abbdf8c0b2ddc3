//! Checkout and checkin over HTTP: refusal reasons, due dates on closure days, book-drop
//! returns, payments lifting the fines block.

use serde_json::json;

use crate::support::{TestApp, hk, on_every_backend, standard_rules};

#[tokio::test]
async fn checkout_refusals_and_due_dates() {
    on_every_backend(true, async |app: &TestApp| {
        app.set_clock(hk("2021-06-01T10:00:00")).await;
        let staff = app.staff_token().await;
        app.library(&staff, "CEN", "district").await;
        app.closure(&staff, "CEN", "2021-06-15", "2021-06-16").await;
        app.rules(&staff, json!({}), standard_rules())
            .await
            .expect(200, "");
        let title = app.title(&staff, "Tao Te Ching").await;
        for barcode in ["C1", "C2", "C3"] {
            app.item(&staff, title, barcode, "CEN").await;
        }
        let a = app.reader(&staff, "91230001").await;
        let b = app.reader(&staff, "91230002").await;
        let c = app.reader(&staff, "91230003").await;

        // Due on 15 June, a closure day: moved to the next open day, 23:59:59 local.
        let loan = app.checkout(&staff, &a, "C1", "CEN").await.expect(201, "");
        assert_eq!(
            loan.body["due_at"], "2021-06-17T23:59:59+08:00",
            "{}",
            app.db
        );
        app.checkout(&staff, &b, "C1", "CEN")
            .await
            .refused("checkout_refused", "item_not_available");
        app.checkout(&staff, "21999999999999", "C2", "CEN")
            .await
            .expect(404, "not_found");
        app.checkout(&staff, "not-a-card", "C2", "CEN")
            .await
            .expect(404, "not_found");
        app.checkout(&staff, &a, "NOPE", "CEN")
            .await
            .expect(404, "not_found");
        let unknown_library = app
            .checkout(&staff, &a, "C2", "ZZZ")
            .await
            .expect(422, "validation_failed");
        assert_eq!(unknown_library.violations(), ["unknown_library"]);

        // Quota at the category scope; `null` removes it again.
        let put = app
            .rules(&staff, json!({"category": "adult"}), json!({"quota": 1}))
            .await
            .expect(200, "");
        assert_eq!(put.body["rules"], json!({"quota": 1}));
        assert_eq!(put.body["scope"], json!({"category": "adult"}));
        app.checkout(&staff, &a, "C2", "CEN")
            .await
            .refused("checkout_refused", "quota_reached");
        let put = app
            .rules(&staff, json!({"category": "adult"}), json!({"quota": null}))
            .await
            .expect(200, "");
        assert_eq!(put.body["rules"], json!({}));
        let all = app
            .get("/api/v1/circulation/rules", Some(&staff))
            .await
            .expect(200, "");
        assert_eq!(
            all.body["scopes"][0]["rules"]["quota"], 10,
            "{:?}",
            all.body
        );

        // Overdue with a fines block and reader suspensions.
        app.rules(
            &staff,
            json!({}),
            json!({"block_threshold_cents": 300, "suspension_days_per_day": 1}),
        )
        .await
        .expect(200, "");
        app.set_clock(hk("2021-06-20T10:00:00")).await;
        let staff = app.staff_token().await;
        app.checkout(&staff, &a, "C2", "CEN")
            .await
            .refused("checkout_refused", "fines_over_limit");
        let back = app.checkin(&staff, "C1", "CEN", None).await.expect(200, "");
        assert_eq!(back.body["loan_id"], loan.body["loan_id"]);
        assert_eq!(
            (
                &back.body["overdue_days"],
                &back.body["chargeable_days"],
                &back.body["fine_cents"],
                &back.body["suspended_until"]
            ),
            (&json!(3), &json!(3), &json!(450), &json!("2021-06-23")),
            "{:?}",
            back.body
        );
        assert!(back.body.get("hold").is_none());
        app.checkout(&staff, &a, "C2", "CEN")
            .await
            .refused("checkout_refused", "patron_suspended");
        let record = app
            .get(&format!("/api/v1/patrons/{a}"), Some(&staff))
            .await
            .expect(200, "");
        assert_eq!(record.body["suspended_until"], "2021-06-23");
        assert_eq!(record.body["outstanding_cents"], 450);
        assert_eq!(record.body["loans"], 0);

        app.set_clock(hk("2021-06-23T10:00:00")).await;
        let staff = app.staff_token().await;
        app.checkout(&staff, &a, "C2", "CEN")
            .await
            .refused("checkout_refused", "fines_over_limit");
        let paid = app
            .post(
                &format!("/api/v1/patrons/{a}/payments"),
                Some(&staff),
                json!({"amount_cents": 450}),
            )
            .await
            .expect(201, "");
        assert_eq!(paid.body["outstanding_cents"], 0);
        app.checkout(&staff, &a, "C2", "CEN").await.expect(201, "");

        // Five years and a day after registration the card has expired.
        app.set_clock(hk("2026-06-02T10:00:00")).await;
        let staff = app.staff_token().await;
        app.checkout(&staff, &c, "C3", "CEN")
            .await
            .refused("checkout_refused", "card_expired");

        let actions: Vec<String> = app
            .audit_log()
            .await
            .into_iter()
            .map(|e| {
                assert!(e.entry.staff.is_some(), "audited with the staff id");
                e.entry.action
            })
            .collect();
        for action in [
            "circulation.checkout",
            "circulation.checkin",
            "fine.payment",
            "rules.put",
        ] {
            assert!(
                actions.iter().any(|a| a == action),
                "{action} in {actions:?}"
            );
        }
    })
    .await;
}

#[tokio::test]
async fn checkins_with_book_drop_times() {
    on_every_backend(true, async |app: &TestApp| {
        app.set_clock(hk("2021-06-10T10:00:00")).await;
        let staff = app.staff_token().await;
        app.library(&staff, "CEN", "district").await;
        app.library(&staff, "KLN", "major").await;
        app.rules(&staff, json!({}), standard_rules())
            .await
            .expect(200, "");
        let title = app.title(&staff, "Analects").await;
        app.item(&staff, title, "D1", "CEN").await;
        let a = app.reader(&staff, "91230011").await;
        app.checkout(&staff, &a, "D1", "CEN").await.expect(201, "");

        let future = app
            .checkin(&staff, "D1", "CEN", Some("2021-06-10T12:00:00+08:00"))
            .await
            .expect(422, "validation_failed");
        assert_eq!(future.violations(), ["returned_at_in_future"]);
        let early = app
            .checkin(&staff, "D1", "CEN", Some("2021-06-09T10:00:00+08:00"))
            .await
            .expect(422, "validation_failed");
        assert_eq!(early.violations(), ["returned_at_before_checkout"]);

        // Due 24 June; dropped on the 25th, the drop emptied on the 28th: one day.
        app.set_clock(hk("2021-06-28T09:00:00")).await;
        let staff = app.staff_token().await;
        let back = app
            .checkin(&staff, "D1", "KLN", Some("2021-06-25T08:00:00+08:00"))
            .await
            .expect(200, "");
        assert_eq!(back.body["overdue_days"], 1, "{:?}", back.body);
        assert_eq!(back.body["fine_cents"], 150);
        // Returned at KLN, away from its home: sent home to CEN. Scanned again at KLN, it
        // is not on loan; scanned in at CEN, it is received, once.
        assert_eq!(back.body["in_transit_to"], "CEN");
        app.checkin(&staff, "D1", "KLN", None)
            .await
            .refused("checkin_refused", "not_on_loan");
        let home = app.checkin(&staff, "D1", "CEN", None).await.expect(200, "");
        assert_eq!(
            (&home.body["loan_id"], &home.body["item_status"]),
            (&json!(null), &json!("available"))
        );
        app.checkin(&staff, "D1", "CEN", None)
            .await
            .refused("checkin_refused", "not_on_loan");
        app.checkin(&staff, "NOPE", "CEN", None)
            .await
            .expect(404, "not_found");
    })
    .await;
}
