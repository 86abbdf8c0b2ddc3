//! Lost and found over HTTP (docs/circulation.md, Lost and found), on every backend.

use serde_json::{Value, json};

use crate::support::{TestApp, hk, on_every_backend};

async fn item_costing(app: &TestApp, staff: &str, title: i64, barcode: &str, cents: Option<i64>) {
    let mut body = json!({"title_id": title, "barcode": barcode, "item_type": "adult_book",
                          "home_library": "CEN"});
    if let Some(cents) = cents {
        body["replacement_cost_cents"] = json!(cents);
    }
    app.post("/api/v1/catalog/items", Some(staff), body)
        .await
        .expect(201, "");
}

fn lines(fines: &Value) -> Vec<(String, i64, i64, String)> {
    fines["fines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["kind"].as_str().unwrap().to_owned(),
                f["amount_cents"].as_i64().unwrap(),
                f["outstanding_cents"].as_i64().unwrap(),
                f["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn an_hk_200_item_ten_days_overdue_is_charged_240_plus_the_fine_and_refunded_when_found() {
    on_every_backend(true, async |app: &TestApp| {
        let staff = app.counter_on_1_june_2021().await;
        let title = app.title(&staff, "Lost Horizon").await;
        item_costing(app, &staff, title, "L1", Some(20_000)).await;
        let card = app.reader(&staff, "91250001").await;
        let loan = app
            .checkout(&staff, &card, "L1", "CEN")
            .await
            .expect(201, "")
            .body["loan_id"]
            .as_i64()
            .unwrap();
        // Due 15 June 2021; 25 June is 10 days overdue at HK$1.50.
        app.set_clock(hk("2021-06-25T11:00:00")).await;
        let staff = app.staff_token().await;
        let lost = app
            .post(
                &format!("/api/v1/circulation/loans/{loan}/lost"),
                Some(&staff),
                Value::Null,
            )
            .await
            .expect(200, "");
        assert_eq!(
            (
                &lost.body["fine_cents"],
                &lost.body["replacement_cents"],
                &lost.body["processing_cents"]
            ),
            (&json!(1500), &json!(20_000), &json!(4000)),
            "{}",
            app.db
        );
        let fines = app
            .get(&format!("/api/v1/patrons/{card}/fines"), Some(&staff))
            .await
            .expect(200, "");
        assert_eq!(fines.body["outstanding_cents"], 25_500);
        let mut got = lines(&fines.body);
        got.sort();
        assert_eq!(
            got,
            vec![
                ("lost_item".into(), 20_000, 20_000, "outstanding".into()),
                ("lost_processing".into(), 4000, 4000, "outstanding".into()),
                ("overdue_fine".into(), 1500, 1500, "outstanding".into()),
            ]
        );
        // The loan ended: no longer on the reader's loans; the item is not lendable.
        let loans = app
            .get(&format!("/api/v1/patrons/{card}/loans"), Some(&staff))
            .await
            .expect(200, "");
        assert_eq!(loans.body["loans"], json!([]));
        let other = app.reader(&staff, "91250002").await;
        app.checkout(&staff, &other, "L1", "CEN")
            .await
            .refused("checkout_refused", "item_not_available");
        // Declaring it again: the loan is gone.
        app.post(
            &format!("/api/v1/circulation/loans/{loan}/lost"),
            Some(&staff),
            Value::Null,
        )
        .await
        .expect(404, "not_found");

        // Found 3 days later and returned: 24000 written off, the fine kept.
        app.set_clock(hk("2021-06-28T10:00:00")).await;
        let staff = app.staff_token().await;
        let back = app.checkin(&staff, "L1", "CEN", None).await.expect(200, "");
        assert_eq!(back.body["loan_id"], loan);
        assert_eq!(
            back.body["found"],
            json!({"written_off_cents": 24_000, "owed_back_cents": 0})
        );
        let fines = app
            .get(&format!("/api/v1/patrons/{card}/fines"), Some(&staff))
            .await
            .expect(200, "");
        assert_eq!(fines.body["outstanding_cents"], 1500);
        let mut got = lines(&fines.body);
        got.sort();
        assert_eq!(
            got,
            vec![
                ("lost_item".into(), 20_000, 0, "waived".into()),
                ("lost_processing".into(), 4000, 0, "waived".into()),
                ("overdue_fine".into(), 1500, 1500, "outstanding".into()),
            ]
        );
        // Back on the shelf: lent again.
        app.checkout(&staff, &other, "L1", "CEN")
            .await
            .expect(201, "");
        // A second return of a copy on the shelf is not a "found" again.
        let audit = app.audit_log().await;
        let actions: Vec<_> = audit.iter().map(|e| e.entry.action.as_str()).collect();
        assert!(actions.contains(&"circulation.lost"));
        assert!(actions.contains(&"circulation.found"));
    })
    .await;
}

#[tokio::test]
async fn a_reader_reports_a_loss_paid_in_part_and_gets_the_paid_part_back_when_found() {
    on_every_backend(true, async |app: &TestApp| {
        let staff = app.counter_on_1_june_2021().await;
        // No cost on the item: the rule's HK$80 applies.
        app.rules(
            &staff,
            json!({}),
            json!({"loan_days": 14, "renewals_allowed": 5, "quota": 10, "holds_allowed": 5,
                   "pickup_days": 3, "fine_per_day_cents": 150,
                   "replacement_cost_cents": 8000}),
        )
        .await
        .expect(200, "");
        let title = app.title(&staff, "Found Again").await;
        item_costing(app, &staff, title, "L2", None).await;
        let card = app.reader(&staff, "91250011").await;
        let me = app.reader_session(&card, "91250011").await;
        let loan = app
            .checkout(&staff, &card, "L2", "CEN")
            .await
            .expect(201, "")
            .body["loan_id"]
            .as_i64()
            .unwrap();
        // Not yet due: no fine; 8000 + 1600.
        let lost = app
            .post(
                &format!("/api/v1/me/loans/{loan}/lost"),
                Some(&me),
                Value::Null,
            )
            .await
            .expect(200, "");
        assert_eq!(
            (
                &lost.body["fine_cents"],
                &lost.body["replacement_cents"],
                &lost.body["processing_cents"]
            ),
            (&json!(0), &json!(8000), &json!(1600))
        );
        // Someone else's loan, or one already ended: not found.
        app.post(
            &format!("/api/v1/me/loans/{loan}/lost"),
            Some(&me),
            Value::Null,
        )
        .await
        .expect(404, "not_found");
        // HK$50 paid: the oldest charge first (the replacement line).
        app.post(
            &format!("/api/v1/patrons/{card}/payments"),
            Some(&staff),
            json!({"amount_cents": 5000}),
        )
        .await
        .expect(201, "");
        let back = app.checkin(&staff, "L2", "CEN", None).await.expect(200, "");
        assert_eq!(
            back.body["found"],
            json!({"written_off_cents": 4600, "owed_back_cents": 5000}),
            "{}",
            app.db
        );
        let fines = app.get("/api/v1/me/fines", Some(&me)).await.expect(200, "");
        assert_eq!(fines.body["outstanding_cents"], 0);
        // A copy neither on loan nor lost is still "not on loan".
        app.checkin(&staff, "L2", "CEN", None)
            .await
            .refused("checkin_refused", "not_on_loan");
        // Bad costs are refused.
        let bad = app
            .post(
                "/api/v1/catalog/items",
                Some(&staff),
                json!({"title_id": title, "barcode": "L3", "item_type": "adult_book",
                       "home_library": "CEN", "replacement_cost_cents": -1}),
            )
            .await
            .expect(422, "validation_failed");
        assert_eq!(bad.violations(), vec!["replacement_cost_invalid"]);
    })
    .await;
}

#[tokio::test]
async fn a_claim_of_return_charges_nothing_until_staff_review_it() {
    on_every_backend(true, async |app: &TestApp| {
        let staff = app.counter_on_1_june_2021().await;
        let title = app.title(&staff, "Claimed Title").await;
        item_costing(app, &staff, title, "C1", Some(20_000)).await;
        item_costing(app, &staff, title, "C2", Some(20_000)).await;
        let card = app.reader(&staff, "91250021").await;
        let loan_of = |answer: crate::support::Answer| answer.body["loan_id"].as_i64().unwrap();
        let l1 = loan_of(
            app.checkout(&staff, &card, "C1", "CEN")
                .await
                .expect(201, ""),
        );
        let l2 = loan_of(
            app.checkout(&staff, &card, "C2", "CEN")
                .await
                .expect(201, ""),
        );
        // Due 15 June; the reader says on 20 June (5 days overdue) both were returned.
        app.set_clock(hk("2021-06-20T10:00:00")).await;
        let staff = app.staff_token().await;
        for loan in [l1, l2] {
            app.post(
                &format!("/api/v1/circulation/loans/{loan}/claim-returned"),
                Some(&staff),
                Value::Null,
            )
            .await
            .expect(204, "");
        }
        app.post(
            &format!("/api/v1/circulation/loans/{l1}/claim-returned"),
            Some(&staff),
            Value::Null,
        )
        .await
        .expect(404, "not_found");
        // Nothing charged, nothing on loan, both under review.
        let fines = app
            .get(&format!("/api/v1/patrons/{card}/fines"), Some(&staff))
            .await
            .expect(200, "");
        assert_eq!(
            (&fines.body["outstanding_cents"], &fines.body["fines"]),
            (&json!(0), &json!([])),
            "{}",
            app.db
        );
        let loans = app
            .get(&format!("/api/v1/patrons/{card}/loans"), Some(&staff))
            .await
            .expect(200, "");
        assert_eq!(loans.body["loans"], json!([]));
        let claims = app
            .get("/api/v1/circulation/claims-returned", Some(&staff))
            .await
            .expect(200, "");
        let listed: Vec<_> = claims.body["claims"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["loan_id"].as_i64().unwrap(),
                    c["claimed_at"].clone(),
                    c["card_number"].clone(),
                )
            })
            .collect();
        assert_eq!(
            listed,
            vec![
                (l1, json!("2021-06-20T10:00:00+08:00"), json!(card)),
                (l2, json!("2021-06-20T10:00:00+08:00"), json!(card)),
            ]
        );
        let other = app.reader(&staff, "91250022").await;
        app.checkout(&staff, &other, "C1", "CEN")
            .await
            .refused("checkout_refused", "item_not_available");

        // Five days later: C2 turns up on the shelf; C1 is declared lost after review,
        // its fine counted to the claim's day (5 days at HK$1.50).
        app.set_clock(hk("2021-06-25T10:00:00")).await;
        let staff = app.staff_token().await;
        let back = app.checkin(&staff, "C2", "CEN", None).await.expect(200, "");
        assert_eq!(
            back.body["found"],
            json!({"written_off_cents": 0, "owed_back_cents": 0})
        );
        let lost = app
            .post(
                &format!("/api/v1/circulation/loans/{l1}/lost"),
                Some(&staff),
                Value::Null,
            )
            .await
            .expect(200, "");
        assert_eq!(
            (
                &lost.body["fine_cents"],
                &lost.body["replacement_cents"],
                &lost.body["processing_cents"]
            ),
            (&json!(750), &json!(20_000), &json!(4000))
        );
        // Once only; and a reader cannot settle a claim for staff.
        app.post(
            &format!("/api/v1/circulation/loans/{l1}/lost"),
            Some(&staff),
            Value::Null,
        )
        .await
        .expect(404, "not_found");
        let claims = app
            .get("/api/v1/circulation/claims-returned", Some(&staff))
            .await
            .expect(200, "");
        assert_eq!(claims.body["claims"], json!([]));
        app.checkout(&staff, &other, "C2", "CEN")
            .await
            .expect(201, "");
        let actions: Vec<_> = app
            .audit_log()
            .await
            .iter()
            .map(|e| e.entry.action.clone())
            .collect();
        assert_eq!(
            actions
                .iter()
                .filter(|a| *a == "circulation.claim_returned")
                .count(),
            2
        );
    })
    .await;
}

#[tokio::test]
async fn the_replacement_cost_is_the_items_else_the_titles_else_the_rules() {
    on_every_backend(true, async |app: &TestApp| {
        let staff = app.counter_on_1_june_2021().await;
        app.rules(
            &staff,
            json!({}),
            json!({"loan_days": 14, "renewals_allowed": 5, "quota": 10, "holds_allowed": 5,
                   "pickup_days": 3, "fine_per_day_cents": 150,
                   "replacement_cost_cents": 8000}),
        )
        .await
        .expect(200, "");
        let priced = app
            .post(
                "/api/v1/catalog/titles",
                Some(&staff),
                json!({"title": "Priced Title", "replacement_cost_cents": 12_000}),
            )
            .await
            .expect(201, "")
            .body["id"]
            .as_i64()
            .unwrap();
        let plain = app.title(&staff, "Plain Title").await;
        item_costing(app, &staff, priced, "P1", Some(30_000)).await;
        item_costing(app, &staff, priced, "P2", None).await;
        item_costing(app, &staff, plain, "P3", None).await;
        let card = app.reader(&staff, "91250031").await;
        let mut got = Vec::new();
        for barcode in ["P1", "P2", "P3"] {
            let loan = app
                .checkout(&staff, &card, barcode, "CEN")
                .await
                .expect(201, "")
                .body["loan_id"]
                .as_i64()
                .unwrap();
            let lost = app
                .post(
                    &format!("/api/v1/circulation/loans/{loan}/lost"),
                    Some(&staff),
                    Value::Null,
                )
                .await
                .expect(200, "");
            got.push((
                lost.body["replacement_cents"].as_i64().unwrap(),
                lost.body["processing_cents"].as_i64().unwrap(),
            ));
        }
        assert_eq!(
            got,
            vec![(30_000, 6000), (12_000, 2400), (8000, 1600)],
            "{}",
            app.db
        );
        let bad = app
            .post(
                "/api/v1/catalog/titles",
                Some(&staff),
                json!({"title": "Too Dear", "replacement_cost_cents": 100_000_001}),
            )
            .await
            .expect(422, "validation_failed");
        assert_eq!(bad.violations(), vec!["replacement_cost_invalid"]);
    })
    .await;
}
