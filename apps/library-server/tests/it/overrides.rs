//! Staff overrides over HTTP (docs/circulation.md, Overrides): who may override what, and
//! what is audited, on every backend.

use serde_json::{Value, json};

use crate::support::{TestApp, hk, on_every_backend};

const PASSWORD: &str = "Counter-Desk-7";

/// A staff user created by `admin` with `role` and `permissions`, logged in: its token.
async fn staff_user(
    app: &TestApp,
    admin: &str,
    name: &str,
    role: &str,
    permissions: Value,
) -> String {
    let created = app
        .post(
            "/api/v1/staff/users",
            Some(admin),
            json!({"username": name, "password": PASSWORD, "role": role,
                   "permissions": permissions}),
        )
        .await
        .expect(201, "");
    assert_eq!(created.body["permissions"], permissions);
    app.post(
        "/api/v1/staff/login",
        None,
        json!({"username": name, "password": PASSWORD}),
    )
    .await
    .expect(200, "")
    .token()
}

fn overriding(refusals: &[&str], reason: &str) -> Value {
    json!({"refusals": refusals, "reason": reason})
}

#[tokio::test]
async fn the_override_table_who_may_step_over_which_refusal() {
    on_every_backend(true, async |app: &TestApp| {
        let admin = app.counter_on_1_june_2021().await;
        // A quota of 1 and a fine threshold of HK$10.
        app.rules(
            &admin,
            json!({}),
            json!({"loan_days": 14, "renewals_allowed": 1, "quota": 1, "holds_allowed": 5,
                   "pickup_days": 3, "fine_per_day_cents": 150,
                   "block_threshold_cents": 1000}),
        )
        .await
        .expect(200, "");
        let granted = staff_user(app, &admin, "senior", "librarian", json!(["override"])).await;
        let plain = staff_user(app, &admin, "clerk", "librarian", json!([])).await;
        let listed = app
            .get("/api/v1/staff/users", Some(&admin))
            .await
            .expect(200, "");
        let perms: Vec<_> = listed.body["users"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| (u["username"].clone(), u["permissions"].clone()))
            .collect();
        assert!(perms.contains(&(json!("senior"), json!(["override"]))));
        assert!(perms.contains(&(json!("clerk"), json!([]))));

        let titles = [
            app.title(&admin, "Title A").await,
            app.title(&admin, "Title B").await,
            app.title(&admin, "Title C").await,
        ];
        app.item(&admin, titles[0], "O1", "CEN").await;
        app.item(&admin, titles[1], "O2", "CEN").await;
        app.item(&admin, titles[2], "O3", "CEN").await;
        let reader = app.reader(&admin, "91240001").await;
        let checkout = |token: String, barcode: &'static str, o: Option<Value>| {
            let reader = reader.clone();
            async move {
                let mut body =
                    json!({"card_number": reader, "item_barcode": barcode, "library_code": "CEN"});
                if let Some(o) = o {
                    body["override"] = o;
                }
                app.post("/api/v1/circulation/checkouts", Some(&token), body)
                    .await
            }
        };
        let first = checkout(plain.clone(), "O1", None).await.expect(201, "");
        assert_eq!(first.body["overridden"], json!([]));
        // Quota 1 reached: a librarian without `override` is refused 403 for trying, and
        // 409 without trying.
        checkout(plain.clone(), "O2", None)
            .await
            .refused("checkout_refused", "quota_reached");
        checkout(
            plain.clone(),
            "O2",
            Some(overriding(&["quota_reached"], "exam week")),
        )
        .await
        .expect(403, "forbidden");
        // Bad overrides: every violation at once; never past a refusal it cannot name.
        let bad = checkout(
            granted.clone(),
            "O2",
            Some(overriding(&["card_expired"], " ")),
        )
        .await
        .expect(422, "validation_failed");
        assert_eq!(
            bad.violations(),
            vec!["override_refusal_invalid", "override_reason_missing"]
        );
        checkout(granted.clone(), "O2", Some(overriding(&[], "x")))
            .await
            .expect(422, "validation_failed");
        // Naming another refusal does not step over this one.
        checkout(
            granted.clone(),
            "O2",
            Some(overriding(&["fines_over_limit"], "exam week")),
        )
        .await
        .refused("checkout_refused", "quota_reached");
        let made = checkout(
            granted.clone(),
            "O2",
            Some(overriding(&["quota_reached"], "exam week")),
        )
        .await
        .expect(201, "");
        assert_eq!(made.body["overridden"], json!(["quota_reached"]));
        // An admin may without being granted anything.
        let made = checkout(
            admin.clone(),
            "O3",
            Some(overriding(&["quota_reached"], "class set")),
        )
        .await
        .expect(201, "");
        assert_eq!(made.body["overridden"], json!(["quota_reached"]));

        // Renewals: 1 allowed; the second needs an override.
        let loan = first.body["loan_id"].as_i64().unwrap();
        let renew = |token: String| async move {
            app.post(
                &format!("/api/v1/circulation/loans/{loan}/renewal"),
                Some(&token),
                Value::Null,
            )
            .await
        };
        let renew_over = |token: String, o: Value| async move {
            app.post(
                &format!("/api/v1/circulation/loans/{loan}/renewal/override"),
                Some(&token),
                o,
            )
            .await
        };
        renew(plain.clone()).await.expect(200, "");
        renew(plain.clone())
            .await
            .refused("renewal_refused", "too_many_renewals");
        renew_over(
            plain.clone(),
            overriding(&["too_many_renewals"], "reader abroad"),
        )
        .await
        .expect(403, "forbidden");
        let renewed = renew_over(
            granted.clone(),
            overriding(&["too_many_renewals"], "reader abroad"),
        )
        .await
        .expect(200, "");
        assert_eq!(renewed.body["renewals"], 2);
        assert_eq!(renewed.body["overridden"], json!(["too_many_renewals"]));
        // Renewals are exhausted again: an override naming something else refuses.
        renew_over(granted.clone(), overriding(&["quota_reached"], "wrong one"))
            .await
            .refused("renewal_refused", "too_many_renewals");

        // Never past an expired card, whatever is named.
        app.set_clock(hk("2026-06-02T10:00:00")).await;
        let admin = app.staff_token().await;
        let granted = app
            .post(
                "/api/v1/staff/login",
                None,
                json!({"username": "senior", "password": PASSWORD}),
            )
            .await
            .expect(200, "")
            .token();
        renew_over(
            granted.clone(),
            overriding(
                &[
                    "too_many_renewals",
                    "fines_over_limit",
                    "on_hold_for_another",
                ],
                "expired card",
            ),
        )
        .await
        .refused("renewal_refused", "card_expired");
        let _ = admin;

        // The audit names the refusals stepped over and the reason.
        let audit = app.audit_log().await;
        let overridden: Vec<_> = audit
            .iter()
            .filter_map(|e| {
                let d: Value = serde_json::from_str(&e.entry.details).ok()?;
                d.get("overridden").map(|o| {
                    (
                        e.entry.action.clone(),
                        o.clone(),
                        d["override_reason"].clone(),
                    )
                })
            })
            .collect();
        assert_eq!(overridden.len(), 3, "{}: {overridden:?}", app.db);
        assert!(overridden.contains(&(
            "circulation.checkout".into(),
            json!(["quota_reached"]),
            json!("exam week")
        )));
        assert!(overridden.contains(&(
            "circulation.renew".into(),
            json!(["too_many_renewals"]),
            json!("reader abroad")
        )));
    })
    .await;
}

#[tokio::test]
async fn a_copy_waiting_for_another_reader_lent_by_override_sends_their_hold_back_to_the_head_of_the_queue()
 {
    on_every_backend(true, async |app: &TestApp| {
        let admin = app.counter_on_1_june_2021().await;
        let title = app.title(&admin, "Waiting Title").await;
        app.item(&admin, title, "W1", "CEN").await;
        let a = app.reader(&admin, "91240011").await;
        let b = app.reader(&admin, "91240012").await;
        let c = app.reader(&admin, "91240013").await;
        let tb = app.reader_session(&b, "91240012").await;
        let tc = app.reader_session(&c, "91240013").await;
        app.checkout(&admin, &a, "W1", "CEN").await.expect(201, "");
        for token in [&tb, &tc] {
            app.post(
                "/api/v1/me/holds",
                Some(token),
                json!({"title_id": title, "pickup_library": "CEN"}),
            )
            .await
            .expect(201, "");
        }
        // Returned: waiting for B on the shelf.
        app.checkin(&admin, "W1", "CEN", None).await.expect(200, "");
        app.checkout(&admin, &c, "W1", "CEN")
            .await
            .refused("checkout_refused", "on_hold_for_another");
        let made = app
            .post(
                "/api/v1/circulation/checkouts",
                Some(&admin),
                json!({"card_number": c, "item_barcode": "W1", "library_code": "CEN",
                       "override": overriding(&["on_hold_for_another"], "urgent")}),
            )
            .await
            .expect(201, "");
        assert_eq!(made.body["overridden"], json!(["on_hold_for_another"]));
        // B is first in line again; C's own hold was filled by the loan.
        let holds = app.get("/api/v1/me/holds", Some(&tb)).await.expect(200, "");
        let hold = &holds.body["holds"][0];
        assert_eq!(
            (&hold["status"], &hold["position"]),
            (&json!("queued"), &json!(1)),
            "{}",
            app.db
        );
        let holds = app.get("/api/v1/me/holds", Some(&tc)).await.expect(200, "");
        assert_eq!(holds.body["holds"][0]["status"], "collected");
        // The next return goes to B.
        let back = app.checkin(&admin, "W1", "CEN", None).await.expect(200, "");
        assert_eq!(back.body["hold"]["id"], hold["id"]);
    })
    .await;
}
