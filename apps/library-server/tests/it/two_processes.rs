//! Two server processes on one PostgreSQL database: rules and closures changed through one
//! reach the other's cached configuration; a session ended through one is refused by the
//! other. (Parallel writes split across two processes: the outside-in `contention` suite.)

use serde_json::json;

use crate::support::{POSTGRES_URL_VAR, TestApp, TestDb, standard_rules};

/// Two servers on one new PostgreSQL database with library `CEN`, the standard rules and
/// one copy `barcode`; each server's staff token.
async fn two_servers_with_one_copy(url: &str, barcode: &str) -> (TestApp, TestApp, String, String) {
    let first = TestApp::spawn(TestDb::postgres(url).await, false).await;
    let second = first.second_process(false).await;
    let staff = first.staff_token().await;
    first.library(&staff, "CEN", "central").await;
    first
        .rules(&staff, json!({}), standard_rules())
        .await
        .expect(200, "");
    let title = first.title(&staff, "One Copy Only").await;
    first.item(&staff, title, barcode, "CEN").await;
    let staff2 = second.staff_token().await;
    (first, second, staff, staff2)
}

/// The due date (`YYYY-MM-DD`) of a checkout answer.
fn due_on(answer: &crate::support::Answer) -> time::Date {
    let due = answer.body["due_at"].as_str().unwrap_or_default();
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(due.get(..10).unwrap_or_default(), &format)
        .unwrap_or_else(|_| panic!("no due date in {:?}", answer.body))
}

#[tokio::test]
async fn configuration_changed_through_one_server_reaches_the_other() {
    let Ok(url) = std::env::var(POSTGRES_URL_VAR) else {
        return;
    };
    if url.is_empty() {
        return;
    }
    let (first, second, staff, staff2) = two_servers_with_one_copy(&url, "CFG1").await;
    let card = first.reader(&staff, "91250001").await;

    // The second server lends under 14 loan days (and caches the rules and the calendar).
    let fourteen = second
        .checkout(&staff2, &card, "CFG1", "CEN")
        .await
        .expect(201, "");
    let d14 = due_on(&fourteen);
    second
        .checkin(&staff2, "CFG1", "CEN", None)
        .await
        .expect(200, "");

    // The first server sets 7 loan days, then closes the library on the new due date: the
    // second lends to the day after the closure. A notification crosses in milliseconds;
    // the bound only keeps a broken build from hanging.
    first
        .rules(&staff, json!({}), json!({"loan_days": 7}))
        .await
        .expect(200, "");
    let d7 = d14 - time::Duration::days(7);
    first
        .post(
            "/api/v1/libraries/CEN/closures",
            Some(&staff),
            json!({"from": d7.to_string(), "to": d7.to_string(), "reason": "stocktake"}),
        )
        .await
        .expect(201, "");
    let mut seen = None;
    for _ in 0..250 {
        let answer = second
            .checkout(&staff2, &card, "CFG1", "CEN")
            .await
            .expect(201, "");
        let due = due_on(&answer);
        if due == d7 + time::Duration::days(1) {
            seen = Some(due);
            break;
        }
        second
            .checkin(&staff2, "CFG1", "CEN", None)
            .await
            .expect(200, "");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(
        seen,
        Some(d7 + time::Duration::days(1)),
        "the second server kept old rules"
    );
    second.stop().await;
    first.stop().await;
}

#[tokio::test]
async fn a_logout_on_one_server_ends_the_session_on_the_other() {
    let Ok(url) = std::env::var(POSTGRES_URL_VAR) else {
        return;
    };
    if url.is_empty() {
        return;
    }
    let (first, second, staff, _) = two_servers_with_one_copy(&url, "OUT1").await;
    // Both servers accept the token (and the second keeps the session it found).
    for app in [&first, &second] {
        app.get("/api/v1/circulation/rules", Some(&staff))
            .await
            .expect(200, "");
    }
    first
        .post("/api/v1/auth/logout", Some(&staff), serde_json::Value::Null)
        .await
        .expect(204, "");
    first
        .get("/api/v1/circulation/rules", Some(&staff))
        .await
        .expect(401, "unauthorized");
    // The revocation crosses in milliseconds; the bound only keeps a broken build from
    // hanging.
    let mut refused = false;
    for _ in 0..250 {
        if second
            .get("/api/v1/circulation/rules", Some(&staff))
            .await
            .status
            .as_u16()
            == 401
        {
            refused = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(refused, "the second server still accepts the ended session");
    second.stop().await;
    first.stop().await;
}
