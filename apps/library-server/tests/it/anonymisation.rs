//! The anonymisation of returned loans of readers who keep no reading history, moved
//! through with the development clock on every backend: the statistics do not change, a
//! loan with an unpaid charge keeps its reader until the charge is paid, a reader who
//! keeps the history keeps everything.

use library_core::{LoanId, PatronId};
use serde_json::{Value, json};

use crate::support::{TestApp, hk, on_every_backend, standard_rules};

/// The reader a loan is linked to (`None` once anonymised), read from the database.
async fn borrower(app: &TestApp, loan: i64) -> Option<PatronId> {
    let db = library_persistence::Database::connect(app.database_url())
        .await
        .expect("open the test database");
    let found = db
        .queries()
        .loan_borrower(LoanId(loan))
        .await
        .expect("read the loan")
        .expect("the loan row stays");
    db.close().await.expect("close");
    found
}

#[tokio::test]
async fn returned_loans_lose_their_reader_unless_owed_for_or_the_history_is_kept() {
    on_every_backend(true, async |app: &TestApp| {
        app.set_clock(hk("2021-03-01T10:00:00")).await;
        let staff = app.staff_token().await;
        app.library(&staff, "CEN", "district").await;
        app.rules(&staff, json!({}), standard_rules())
            .await
            .expect(200, "");
        for (n, name) in [
            "Journey to the West",
            "Water Margin",
            "Dream of the Red Chamber",
        ]
        .iter()
        .enumerate()
        {
            let t = app.title(&staff, name).await;
            app.item(&staff, t, &format!("B{}", n + 1), "CEN").await;
        }
        let private = app.reader(&staff, "91240001").await;
        let keeper = app.reader(&staff, "91240002").await;
        let private_token = app.reader_session(&private, "91240001").await;
        app.reader_session(&keeper, "91240002").await;
        app.put(
            "/api/v1/me/settings",
            Some(&private_token),
            json!({"email": null, "sms_number": null, "notification_channels": [],
                   "language": "en", "keep_reading_history": false}),
        )
        .await
        .expect(200, "");

        let lend = async |card: &str, barcode: &str| {
            app.checkout(&staff, card, barcode, "CEN")
                .await
                .expect(201, "")
                .body["loan_id"]
                .as_i64()
                .expect("loan")
        };
        let on_time = lend(&private, "B1").await;
        let late = lend(&private, "B2").await;
        let kept = lend(&keeper, "B3").await;
        // Returned on 5 March (on time), and B2 on 20 March: due 15 March, 5 days at
        // HK$1.50.
        app.set_clock(hk("2021-03-05T10:00:00")).await;
        let staff = app.staff_token().await;
        app.checkin(&staff, "B1", "CEN", None).await.expect(200, "");
        app.checkin(&staff, "B3", "CEN", None).await.expect(200, "");
        app.set_clock(hk("2021-03-20T10:00:00")).await;
        let staff = app.staff_token().await;
        let back = app.checkin(&staff, "B2", "CEN", None).await.expect(200, "");
        assert_eq!(back.body["fine_cents"], 750);

        let private_token = app.relogin(&private).await;
        let report = async |staff: &str| {
            app.get(
                "/api/v1/reports/circulation?from=2021-03-01&to=2021-03-31",
                Some(staff),
            )
            .await
            .expect(200, "")
            .body
        };
        let before = report(&staff).await;
        assert_eq!(before["days"].as_array().map(Vec::len), Some(3), "{before}");
        let private_id = borrower(app, on_time).await.expect("linked before the job");
        let keeper_id = borrower(app, kept).await.expect("linked");

        // The first run (anonymise after 0 days): the loan returned on time loses its
        // reader; the one with an unpaid fine keeps it; the keeper's stays.
        app.run_jobs().await;
        assert_eq!(borrower(app, on_time).await, None, "{}", app.db);
        assert_eq!(borrower(app, late).await, Some(private_id), "{}", app.db);
        assert_eq!(borrower(app, kept).await, Some(keeper_id), "{}", app.db);
        assert_eq!(report(&staff).await, before, "{}", app.db);
        // An anonymised loan is no one's to renew; the reader's charges still name the copy.
        app.post(
            &format!("/api/v1/circulation/loans/{on_time}/renewal"),
            Some(&staff),
            Value::Null,
        )
        .await
        .expect(404, "not_found");
        let fines = app
            .get("/api/v1/me/fines", Some(&private_token))
            .await
            .expect(200, "");
        assert_eq!(
            (
                &fines.body["outstanding_cents"],
                &fines.body["fines"][0]["item_barcode"]
            ),
            (&json!(750), &json!("B2"))
        );

        // Paid on 21 March: the next run anonymises it.
        app.set_clock(hk("2021-03-21T10:00:00")).await;
        let staff = app.staff_token().await;
        let private_token = app.relogin(&private).await;
        let keeper_token = app.relogin(&keeper).await;
        app.post(
            &format!("/api/v1/patrons/{private}/payments"),
            Some(&staff),
            json!({"amount_cents": 750}),
        )
        .await
        .expect(201, "");
        app.run_jobs().await;
        assert_eq!(borrower(app, late).await, None, "{}", app.db);
        assert_eq!(borrower(app, kept).await, Some(keeper_id), "{}", app.db);
        assert_eq!(report(&staff).await, before, "{}", app.db);
        let fines = app
            .get("/api/v1/me/fines", Some(&private_token))
            .await
            .expect(200, "");
        assert_eq!(
            (
                &fines.body["fines"][0]["item_barcode"],
                &fines.body["fines"][0]["status"]
            ),
            (&json!("B2"), &json!("paid"))
        );
        // The keeper's history is whole; the other reader's shows nothing, as before.
        let history = app
            .get("/api/v1/me/reading-history", Some(&keeper_token))
            .await
            .expect(200, "");
        assert_eq!(history.body["loans"][0]["loan_id"], kept);
        assert_eq!(history.body["loans"].as_array().map(Vec::len), Some(1));
        let none = app
            .get("/api/v1/me/reading-history", Some(&private_token))
            .await
            .expect(200, "");
        assert_eq!(none.body["loans"], json!([]));
        // The audit log still has the checkouts, by loan.
        let audit = app.audit_log().await;
        assert!(
            audit
                .iter()
                .any(|e| e.entry.action == "circulation.checkout"
                    && e.entry.subject == format!("loan:{on_time}")),
            "{}",
            app.db
        );
    })
    .await;
}

#[tokio::test]
async fn anonymisation_waits_the_configured_days() {
    for database in crate::support::test_databases().await {
        let app = TestApp::with_config(database, |c| c.anonymise_after_days = 7).await;
        app.set_clock(hk("2021-03-01T10:00:00")).await;
        let staff = app.staff_token().await;
        app.library(&staff, "CEN", "district").await;
        app.rules(&staff, json!({}), standard_rules())
            .await
            .expect(200, "");
        let t = app.title(&staff, "Journey to the West").await;
        app.item(&staff, t, "B1", "CEN").await;
        let card = app.reader(&staff, "91240003").await;
        let token = app.reader_session(&card, "91240003").await;
        app.put(
            "/api/v1/me/settings",
            Some(&token),
            json!({"email": null, "sms_number": null, "notification_channels": [],
                   "language": "en", "keep_reading_history": false}),
        )
        .await
        .expect(200, "");
        let loan = app
            .checkout(&staff, &card, "B1", "CEN")
            .await
            .expect(201, "")
            .body["loan_id"]
            .as_i64()
            .expect("loan");
        app.checkin(&staff, "B1", "CEN", None).await.expect(200, "");
        // Returned 1 March 10:00: still linked a second before 8 March 10:00, not after.
        app.set_clock(hk("2021-03-08T09:59:59")).await;
        app.run_jobs().await;
        assert!(borrower(&app, loan).await.is_some(), "{}", app.db);
        app.set_clock(hk("2021-03-08T10:00:00")).await;
        app.run_jobs().await;
        assert_eq!(borrower(&app, loan).await, None, "{}", app.db);
        app.stop().await;
    }
}
