//! Two server processes on one PostgreSQL database: 20 parallel checkouts of one item split
//! across both give exactly one loan.

use serde_json::json;

use crate::support::{POSTGRES_URL_VAR, TestApp, TestDb, standard_rules};

#[tokio::test]
async fn two_servers_lend_one_item_once() {
    // PostgreSQL only: SQLite is one process's file.
    let Ok(url) = std::env::var(POSTGRES_URL_VAR) else {
        return;
    };
    if url.is_empty() {
        return;
    }
    let first = TestApp::spawn(TestDb::postgres(&url).await, false).await;
    let second = first.second_process(false).await;
    let staff = first.staff_token().await;
    first.library(&staff, "CEN", "central").await;
    first
        .rules(&staff, json!({}), standard_rules())
        .await
        .expect(200, "");
    let title = first.title(&staff, "One Copy Only").await;
    first.item(&staff, title, "ONLY1", "CEN").await;
    let mut cards = Vec::new();
    for n in 0..20 {
        cards.push(first.reader(&staff, &format!("9124{n:04}")).await);
    }
    let staff2 = second.staff_token().await;

    let mut tasks = Vec::new();
    for (n, card) in cards.iter().enumerate() {
        let (app, token) = if n % 2 == 0 {
            (&first, &staff)
        } else {
            (&second, &staff2)
        };
        tasks.push(app.checkout(token, card, "ONLY1", "CEN"));
    }
    let answers = futures_join_all(tasks).await;
    let created = answers.iter().filter(|a| a.status.as_u16() == 201).count();
    assert_eq!(
        created,
        1,
        "{:?}",
        answers.iter().map(|a| &a.body).collect::<Vec<_>>()
    );
    for answer in answers.iter().filter(|a| a.status.as_u16() != 201) {
        assert_eq!(
            (
                answer.status.as_u16(),
                answer.code(),
                answer.body["reason"].as_str()
            ),
            (409, "checkout_refused", Some("item_not_available")),
            "{:?}",
            answer.body
        );
    }
    second.stop().await;
    first.stop().await;
}

/// Runs the futures concurrently (without a `futures` dependency).
async fn futures_join_all<F: std::future::Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut pinned: Vec<_> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = pinned.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (fut, out) in pinned.iter_mut().zip(outputs.iter_mut()) {
            if out.is_none() {
                match fut.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => *out = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().flatten().collect()
}
