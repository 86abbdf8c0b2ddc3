//! Database faults in process: another process holding SQLite's write lock (503 with
//! `Retry-After`, `/ready` 503, and the next write stored once the lock is let go). The
//! full disk, the read-only file system and PostgreSQL's terminated and refused
//! connections are proved against the binary under load (`tests/outside/faults.rs`), and
//! a kill in the middle of payments with the rest of a mixed load
//! (`tests/outside/crash.rs`).

use serde_json::Value;

use crate::support::{TestApp, TestDb, stored_loans};

/// A library with `n` copies (`FLT0000`, …) and `n` readers; the staff token and the cards.
async fn counter_with_copies(app: &TestApp, n: usize) -> (String, Vec<String>) {
    let staff = app.counter_on_1_june_2021().await;
    let title = app.title(&staff, "The Fault Lines").await;
    let mut cards = Vec::new();
    for i in 0..n {
        app.item(&staff, title, &format!("FLT{i:04}"), "CEN").await;
        cards.push(app.reader(&staff, &format!("9555{i:04}")).await);
    }
    (staff, cards)
}

async fn ready(app: &TestApp) -> (u16, Value) {
    let answer = app.get("/ready", None).await;
    (answer.status.as_u16(), answer.body)
}

#[tokio::test]
async fn sqlite_write_lock_held_by_another_process_gives_503_then_recovers() {
    use sea_orm::sqlx::{ConnectOptions, Connection, sqlite::SqliteConnectOptions};
    let db = TestDb::sqlite();
    let url = db.url();
    let app = TestApp::spawn(db, true).await;
    let (staff, cards) = counter_with_copies(&app, 1).await;

    // Another process takes the write lock and keeps it past the busy timeout.
    let options: SqliteConnectOptions = url.parse().expect("url");
    let mut other = options.connect().await.expect("another connection");
    sea_orm::sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut other)
        .await
        .expect("take the write lock");
    let login =
        serde_json::json!({"username": "admin", "password": crate::support::ADMIN_PASSWORD});
    let (checkout, staff_login, not_ready) = tokio::join!(
        app.checkout(&staff, &cards[0], "FLT0000", "CEN"),
        app.post("/api/v1/staff/login", None, login),
        ready(&app)
    );
    for answer in [checkout, staff_login] {
        let answer = answer.expect(503, "service_unavailable");
        assert_eq!(
            answer
                .headers
                .get("retry-after")
                .and_then(|v| v.to_str().ok()),
            Some("2")
        );
    }
    assert_eq!(
        (not_ready.0, not_ready.1["reason"].as_str()),
        (503, Some("database_write_failed")),
        "{}",
        not_ready.1
    );

    // The lock is released: the next checkout is stored, and only it.
    sea_orm::sqlx::query("ROLLBACK")
        .execute(&mut other)
        .await
        .expect("release");
    other.close().await.expect("close");
    let lent = app
        .checkout(&staff, &cards[0], "FLT0000", "CEN")
        .await
        .expect(201, "");
    assert_eq!(ready(&app).await.0, 200);
    let stored = stored_loans(&url).await;
    assert_eq!(
        stored.keys().copied().collect::<Vec<_>>(),
        vec![lent.body["loan_id"].as_i64().expect("loan id")]
    );
    app.stop().await;
}
