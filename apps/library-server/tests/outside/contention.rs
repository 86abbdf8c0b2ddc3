//! Contention across two server processes on one database: parallel requests split
//! between the two, each process with its own HTTP client, pool and write gate, so only the
//! database's locks and constraints keep the answers right.
//!
//! - 100 checkouts of one copy to 100 readers: one 201, 99 refusals, one open loan;
//! - 100 holds on one title by 100 readers: all accepted at positions 1..100, each once,
//!   as the answers, the API and the stored queue order agree;
//! - 20 renewals of one loan under an allowance of 3: exactly 3 succeed, each moving the
//!   due date by the loan period once; 17 are refused `too_many_renewals`.
//!
//! On PostgreSQL (several processes on one database is its deployment) and on SQLite (two
//! processes on one file: the write gate is per process, so only SQLite's own locking
//! stands between them).

use std::collections::BTreeSet;
use std::time::Instant;

use serde_json::{Value, json};

use crate::server::{Options, Server};
use crate::store::{Stored, int, text};
use crate::support::{Answer, futures_join_all, test_databases};

const READERS: usize = 100;
const RENEWALS_SENT: usize = 20;
const RENEWALS_ALLOWED: i64 = 3;
const LOAN_DAYS: i64 = 14;

fn options() -> Options {
    Options {
        env: vec![("LIBRARY_POLICY".into(), "none".into())],
        ..Options::default()
    }
}

/// `(status, code, reason)` of an answer.
fn outcome(answer: &Answer) -> (u16, String, String) {
    (
        answer.status.as_u16(),
        answer.code().to_owned(),
        answer.body["reason"].as_str().unwrap_or("").to_owned(),
    )
}

/// The local date of an RFC 3339 instant with its offset (`2021-06-15T23:59:59+08:00`).
fn date_of(body: &Value, field: &str) -> time::Date {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let at = body[field].as_str().unwrap_or_default();
    time::Date::parse(at.get(..10).unwrap_or_default(), &format)
        .unwrap_or_else(|_| panic!("no date in {field} of {body}"))
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "outside-in suite: run by `cargo xtask outside`"]
async fn two_processes_lend_once_queue_in_order_and_renew_to_the_allowance() {
    for db in test_databases().await {
        let url = db.url();
        let label = db.label();
        let started = Instant::now();
        let first = Server::start(&url, label, &options()).await;
        let one = first.app();
        let staff = one.staff_token().await;
        one.library(&staff, "CEN", "district").await;
        one.rules(
            &staff,
            json!({}),
            json!({"loan_days": LOAN_DAYS, "renewals_allowed": RENEWALS_ALLOWED,
                   "renewal_base": "due_date", "quota": 10, "holds_allowed": 5,
                   "pickup_days": 3, "fine_per_day_cents": 150}),
        )
        .await
        .expect(200, "");
        let single = one.title(&staff, "The Only Copy").await;
        one.item(&staff, single, "ONE0001", "CEN").await;
        // The queue's title has one copy, on loan to a reader of its own, so holds queue.
        let queued = one.title(&staff, "The Long Wait").await;
        one.item(&staff, queued, "WAIT0001", "CEN").await;
        let renewed = one.title(&staff, "Again and Again").await;
        one.item(&staff, renewed, "RNW0001", "CEN").await;
        let keeper = one.reader(&staff, "98000000").await;
        one.checkout(&staff, &keeper, "WAIT0001", "CEN")
            .await
            .expect(201, "");
        let lent = one
            .checkout(&staff, &keeper, "RNW0001", "CEN")
            .await
            .expect(201, "");
        let loan = lent.body["loan_id"].as_i64().expect("loan id");
        let due = date_of(&lent.body, "due_at");
        // Registered eight at a time (each registration hashes a first Password).
        let mut readers = Vec::new();
        for chunk in (1..=READERS).collect::<Vec<_>>().chunks(8) {
            let phones: Vec<String> = chunk.iter().map(|n| format!("98{n:06}")).collect();
            readers.extend(
                futures_join_all(phones.iter().map(|p| one.reader(&staff, p)).collect()).await,
            );
        }
        // The second process starts on the database the first set up.
        let second = Server::start(&url, label, &options()).await;
        let two = second.app();
        let staff2 = two.staff_token().await;
        let both = [(&one, staff.as_str()), (&two, staff2.as_str())];
        let setup = started.elapsed();

        // 100 checkouts of one copy, half through each process.
        let t = Instant::now();
        let answers = futures_join_all(
            readers
                .iter()
                .enumerate()
                .map(|(n, card)| {
                    let (app, token) = both[n % 2];
                    app.checkout(token, card, "ONE0001", "CEN")
                })
                .collect(),
        )
        .await;
        let checkouts = t.elapsed();
        let winners: Vec<_> = readers
            .iter()
            .zip(&answers)
            .filter(|(_, a)| a.status.as_u16() == 201)
            .map(|(card, _)| card.clone())
            .collect();
        assert_eq!(winners.len(), 1, "{label}: {answers:#?}");
        for answer in answers.iter().filter(|a| a.status.as_u16() != 201) {
            assert_eq!(
                outcome(answer),
                (409, "checkout_refused".into(), "item_not_available".into()),
                "{label}: {:?}",
                answer.body
            );
        }
        let stored = Stored::open(&url).await;
        let loans = stored
            .rows(
                "SELECT p.card_number, CASE WHEN l.returned_at IS NULL THEN 1 ELSE 0 END AS open \
                 FROM loans l JOIN items i ON i.id = l.item_id \
                 JOIN patrons p ON p.id = l.patron_id WHERE i.barcode = 'ONE0001'",
            )
            .await;
        let loans: Vec<(String, i64)> = loans
            .iter()
            .map(|r| (text(r, "card_number"), int(r, "open")))
            .collect();
        assert_eq!(
            loans,
            vec![(winners[0].clone(), 1)],
            "{label}: one open loan, the winner's"
        );

        // 100 holds on one title by 100 readers, half through each process.
        let t = Instant::now();
        let answers = futures_join_all(
            readers
                .iter()
                .enumerate()
                .map(|(n, card)| {
                    let (app, token) = both[n % 2];
                    let path = format!("/api/v1/patrons/{card}/holds");
                    async move {
                        app.post(
                            &path,
                            Some(token),
                            json!({"title_id": queued, "pickup_library": "CEN"}),
                        )
                        .await
                    }
                })
                .collect(),
        )
        .await;
        let holds = t.elapsed();
        let mut placed = Vec::new();
        for answer in &answers {
            assert_eq!(
                (answer.status.as_u16(), answer.body["status"].as_str()),
                (201, Some("queued")),
                "{label}: {:?}",
                answer.body
            );
            placed.push((
                answer.body["position"].as_i64().expect("position"),
                answer.body["id"].as_i64().expect("id"),
            ));
        }
        let positions: BTreeSet<i64> = placed.iter().map(|(p, _)| *p).collect();
        assert_eq!(
            positions,
            (1..=READERS as i64).collect::<BTreeSet<i64>>(),
            "{label}: the answers' positions"
        );
        // The API, through either process, shows each hold where its answer put it.
        for (n, (card, (position, id))) in readers.iter().zip(&placed).enumerate() {
            let (app, token) = both[(n + 1) % 2];
            let shown = app
                .get(&format!("/api/v1/patrons/{card}/holds"), Some(token))
                .await
                .expect(200, "");
            let hold = shown.body["holds"]
                .as_array()
                .and_then(|h| h.iter().find(|h| h["id"].as_i64() == Some(*id)))
                .unwrap_or_else(|| panic!("{label}: hold {id} not shown: {:?}", shown.body));
            assert_eq!(
                hold["position"].as_i64(),
                Some(*position),
                "{label}: {hold}"
            );
        }
        // The stored queue order is the answers' order.
        let in_queue = stored
            .ids(&format!(
                "SELECT id FROM holds WHERE title_id = {queued} AND status = 'queued' \
                 ORDER BY queue_seq"
            ))
            .await;
        placed.sort_unstable();
        assert_eq!(
            in_queue,
            placed.iter().map(|(_, id)| *id).collect::<Vec<_>>(),
            "{label}: the stored queue"
        );

        // 20 renewals of one loan with 3 allowed, half through each process.
        let t = Instant::now();
        let path = format!("/api/v1/circulation/loans/{loan}/renewal");
        let answers = futures_join_all(
            (0..RENEWALS_SENT)
                .map(|n| {
                    let (app, token) = both[n % 2];
                    app.post(&path, Some(token), Value::Null)
                })
                .collect(),
        )
        .await;
        let renewals = t.elapsed();
        let mut renewed_to = BTreeSet::new();
        let mut counts = BTreeSet::new();
        for answer in &answers {
            if answer.status.as_u16() == 200 {
                renewed_to.insert(date_of(&answer.body, "due_at"));
                counts.insert(answer.body["renewals"].as_i64().expect("renewals"));
            } else {
                assert_eq!(
                    outcome(answer),
                    (409, "renewal_refused".into(), "too_many_renewals".into()),
                    "{label}: {:?}",
                    answer.body
                );
            }
        }
        let moves = |n: i64| due + time::Duration::days(LOAN_DAYS * n);
        assert_eq!(
            counts,
            (1..=RENEWALS_ALLOWED).collect::<BTreeSet<i64>>(),
            "{label}: {answers:#?}"
        );
        assert_eq!(
            renewed_to,
            (1..=RENEWALS_ALLOWED).map(moves).collect::<BTreeSet<_>>(),
            "{label}: each renewal moved the due date once"
        );
        let row = stored
            .rows(&format!(
                "SELECT renewals, CAST(due_on AS TEXT) AS due_on FROM loans WHERE id = {loan}"
            ))
            .await;
        let row = row.first().expect("the loan");
        assert_eq!(
            (int(row, "renewals"), text(row, "due_on")),
            (RENEWALS_ALLOWED, moves(RENEWALS_ALLOWED).to_string()),
            "{label}: the stored loan"
        );

        assert_eq!(
            stored.broken_invariants().await,
            Vec::<String>::new(),
            "{label}"
        );
        second.terminate().await;
        first.terminate().await;
        assert_eq!(
            stored.sqlite_damage().await,
            Vec::<String>::new(),
            "{label}"
        );
        stored.close().await;
        crate::crash::say(format_args!(
            "contention: {label}: setup {:.1} s; {READERS} checkouts of one copy {:.2} s, \
             {READERS} holds on one title {:.2} s, {RENEWALS_SENT} renewals of one loan {:.2} s",
            setup.as_secs_f64(),
            checkouts.as_secs_f64(),
            holds.as_secs_f64(),
            renewals.as_secs_f64()
        ));
        drop(db);
    }
}
