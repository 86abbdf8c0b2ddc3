//! A fresh install lends: the server stores the "hkpl" profile on first start (no `--demo`,
//! no rules set by the test), never again on a restart, once when two processes start
//! together on an empty PostgreSQL database; with no policy a checkout is `no_policy`.

use library_circulation::{RuleScope, RuleSet, ScopedRules, hkpl_profile};
use library_setup::Policy;
use serde_json::{Value, json};

use crate::support::{
    POSTGRES_URL_VAR, TestApp, TestDb, futures_join_all, hk, on_every_backend, test_databases,
};

/// The stored rules as `GET /circulation/rules` gives them.
async fn rules(app: &TestApp, staff: &str) -> Vec<Value> {
    app.get("/api/v1/circulation/rules", Some(staff))
        .await
        .expect(200, "")
        .body["scopes"]
        .as_array()
        .expect("scopes")
        .clone()
}

/// The rules of the scope `scope` (`{}` = global) in a rules listing.
fn at<'a>(scopes: &'a [Value], scope: &Value) -> &'a Value {
    &scopes
        .iter()
        .find(|s| &s["scope"] == scope)
        .unwrap_or_else(|| panic!("no scope {scope} in {scopes:#?}"))["rules"]
}

/// An item of `item_type` at CEN.
async fn item(app: &TestApp, staff: &str, title: i64, barcode: &str, item_type: &str) {
    app.post(
        "/api/v1/catalog/items",
        Some(staff),
        json!({"title_id": title, "barcode": barcode, "item_type": item_type,
               "home_library": "CEN"}),
    )
    .await
    .expect(201, "");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_server_lends_renews_reserves_and_fines_under_the_hkpl_profile() {
    for database in test_databases().await {
        let app = TestApp::with_default_policy(database).await;
        app.set_clock(hk("2021-06-01T10:00:00")).await;
        let staff = app.staff_token().await;

        // The profile is stored and listed: the global scope and the six junior types.
        let scopes = rules(&app, &staff).await;
        assert_eq!(scopes.len(), 7, "{}: {scopes:#?}", app.db);
        assert_eq!(
            at(&scopes, &json!({})),
            &json!({"loan_days": 14, "renewals_allowed": 5, "renewal_base": "renewal_date",
                    "quota": 10, "holds_allowed": 10, "pickup_days": 7,
                    "fine_per_day_cents": 150, "grace_days": 0, "block_threshold_cents": 10000,
                    "suspension_days_per_day": 0, "count_closed_days": true,
                    "hold_fee_cents": 330, "replacement_cost_cents": 15000}),
            "{}",
            app.db
        );
        assert_eq!(
            at(&scopes, &json!({"item_type": "children_book"})),
            &json!({"fine_per_day_cents": 50})
        );

        // A library, a reader registered by staff, titles and copies: nothing else.
        app.library(&staff, "CEN", "district").await;
        let reader = app.reader(&staff, "91230001").await;
        let other = app.reader(&staff, "91230002").await;
        let novel = app.title(&staff, "A Novel").await;
        item(&app, &staff, novel, "A1", "adult_book").await;
        let picture = app.title(&staff, "A Picture Book").await;
        item(&app, &staff, picture, "C1", "children_book").await;
        let wanted = app.title(&staff, "Wanted").await;
        item(&app, &staff, wanted, "W1", "adult_book").await;

        // Checkout on Tuesday 1 June 2021: 14 days, due 15 June at 23:59:59.
        let lent = app
            .checkout(&staff, &reader, "A1", "CEN")
            .await
            .expect(201, "");
        assert_eq!(
            lent.body["due_at"], "2021-06-15T23:59:59+08:00",
            "{}",
            app.db
        );
        let loan = lent.body["loan_id"].as_i64().expect("loan id");
        app.checkout(&staff, &reader, "C1", "CEN")
            .await
            .expect(201, "");

        // Renewed on 10 June: 14 days from the renewal date, one of five used.
        app.set_clock(hk("2021-06-10T09:00:00")).await;
        let staff = app.staff_token().await;
        let renewed = app
            .post(
                &format!("/api/v1/circulation/loans/{loan}/renewal"),
                Some(&staff),
                Value::Null,
            )
            .await
            .expect(200, "");
        assert_eq!(
            (&renewed.body["due_at"], &renewed.body["renewals"]),
            (&json!("2021-06-24T23:59:59+08:00"), &json!(1)),
            "{}",
            app.db
        );

        // A hold on a title the other reader has out; trapped on return for 7 open days.
        app.checkout(&staff, &other, "W1", "CEN")
            .await
            .expect(201, "");
        let hold = app
            .post(
                &format!("/api/v1/patrons/{reader}/holds"),
                Some(&staff),
                json!({"title_id": wanted, "pickup_library": "CEN"}),
            )
            .await
            .expect(201, "");
        assert_eq!(
            (&hold.body["status"], &hold.body["position"]),
            (&json!("queued"), &json!(1))
        );
        let back = app.checkin(&staff, "W1", "CEN", None).await.expect(200, "");
        assert_eq!(back.body["hold"]["pickup_by"], "2021-06-17", "{}", app.db);

        // Returned on 27 June, 3 days late: HK$1.50 a day for the adult novel, HK$0.50 a
        // day for the picture book (due 15 June, 12 days late).
        app.set_clock(hk("2021-06-27T12:00:00")).await;
        let staff = app.staff_token().await;
        let back = app.checkin(&staff, "A1", "CEN", None).await.expect(200, "");
        assert_eq!(
            (&back.body["overdue_days"], &back.body["fine_cents"]),
            (&json!(3), &json!(450)),
            "{}",
            app.db
        );
        let back = app.checkin(&staff, "C1", "CEN", None).await.expect(200, "");
        assert_eq!(
            (&back.body["overdue_days"], &back.body["fine_cents"]),
            (&json!(12), &json!(600)),
            "{}",
            app.db
        );
        let account = app
            .get(&format!("/api/v1/patrons/{reader}"), Some(&staff))
            .await
            .expect(200, "");
        assert_eq!(account.body["outstanding_cents"], 1050, "{}", app.db);
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_keeps_the_rules_staff_changed_or_removed() {
    for database in test_databases().await {
        let url = database.url();
        let label = database.label();
        let app = TestApp::with_policy_at(&url, label, Policy::Hkpl).await;
        let staff = app.staff_token().await;
        app.rules(
            &staff,
            json!({}),
            json!({"quota": 3, "hold_fee_cents": null}),
        )
        .await
        .expect(200, "");
        app.rules(
            &staff,
            json!({"item_type": "children_book"}),
            json!({"fine_per_day_cents": null}),
        )
        .await
        .expect(200, "");
        let changed = rules(&app, &staff).await;
        assert_eq!(changed.len(), 6, "{label}: the children_book scope is gone");
        app.stop().await;

        // Restarted with the default policy: the changed rules stay as they are.
        let app = TestApp::with_policy_at(&url, label, Policy::Hkpl).await;
        let staff = app.staff_token().await;
        assert_eq!(rules(&app, &staff).await, changed, "{label}");
        app.stop().await;

        // Every rule removed (an empty policy on purpose): a restart stores nothing either.
        let db = library_persistence::Database::connect(&url).await.unwrap();
        db.rules().replace_all(&[]).await.unwrap();
        db.close().await.unwrap();
        let app = TestApp::with_policy_at(&url, label, Policy::Hkpl).await;
        let staff = app.staff_token().await;
        assert!(rules(&app, &staff).await.is_empty(), "{label}");
        app.stop().await;
        drop(database);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn servers_starting_together_on_an_empty_postgres_database_store_one_policy() {
    // PostgreSQL only: SQLite is one process's file.
    let Ok(url) = std::env::var(POSTGRES_URL_VAR) else {
        return;
    };
    if url.is_empty() {
        return;
    }
    // Each start offers a different policy, so a second store would show: as a mixture,
    // or as the other policy's values.
    let short = vec![ScopedRules {
        scope: RuleScope::any(),
        rules: RuleSet {
            loan_days: Some(7),
            quota: Some(2),
            ..RuleSet::default()
        },
    }];
    for round in 0..3 {
        let database = TestDb::postgres(&url).await;
        let db_url = database.url();
        let starts = vec![
            TestApp::with_policy_at(&db_url, "postgres", Policy::Hkpl),
            TestApp::with_policy_at(&db_url, "postgres", Policy::Scopes(short.clone())),
            TestApp::with_policy_at(&db_url, "postgres", Policy::Hkpl),
        ];
        let apps = futures_join_all(starts).await;
        let db = library_persistence::Database::connect(&db_url)
            .await
            .unwrap();
        let stored = db.rules().list().await.unwrap();
        db.close().await.unwrap();
        let key = |s: &ScopedRules| s.scope.item_type.clone();
        let mut sorted = stored.clone();
        sorted.sort_by_key(key);
        let mut profile = hkpl_profile();
        profile.sort_by_key(key);
        assert!(
            sorted == profile || stored == short,
            "round {round}: stored {stored:#?}"
        );
        for app in apps {
            app.stop().await;
        }
        drop(database);
    }
}

#[tokio::test]
async fn without_a_policy_a_checkout_is_refused_no_policy() {
    // The harness starts servers with the empty policy (`profile = "none"`).
    on_every_backend(true, async |app: &TestApp| {
        app.set_clock(hk("2021-06-01T10:00:00")).await;
        let staff = app.staff_token().await;
        assert!(rules(app, &staff).await.is_empty());
        app.library(&staff, "CEN", "district").await;
        let card = app.reader(&staff, "91230003").await;
        let title = app.title(&staff, "T").await;
        app.item(&staff, title, "N1", "CEN").await;
        app.item(&staff, title, "N2", "CEN").await;

        // A reader with no loans: not a quota, a missing policy.
        app.checkout(&staff, &card, "N1", "CEN")
            .await
            .refused("checkout_refused", "no_policy");
        // Holds keep the contract's reasons (docs/circulation.md, "No policy").
        app.post(
            &format!("/api/v1/patrons/{card}/holds"),
            Some(&staff),
            json!({"title_id": title, "pickup_library": "CEN"}),
        )
        .await
        .refused("hold_refused", "quota_reached");

        // A quota set for another library only: still no policy here.
        app.library(&staff, "KLN", "major").await;
        app.rules(&staff, json!({"library_code": "KLN"}), json!({"quota": 5}))
            .await
            .expect(200, "");
        app.checkout(&staff, &card, "N1", "CEN")
            .await
            .refused("checkout_refused", "no_policy");
        app.checkout(&staff, &card, "N1", "KLN")
            .await
            .expect(201, "");

        // A quota at the global scope: lent; a quota reached is `quota_reached` again.
        app.rules(&staff, json!({}), json!({"quota": 1}))
            .await
            .expect(200, "");
        app.checkout(&staff, &card, "N2", "CEN")
            .await
            .refused("checkout_refused", "quota_reached");
    })
    .await;
}
