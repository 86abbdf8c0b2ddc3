//! A crash under a mixed load. Several clients, each on connections of its own, lend and
//! renew copies, place holds as readers, collect the holds that become ready and take
//! payments, all at once over HTTP; the server is killed (SIGKILL) at a random moment and a
//! new process is started on the same database. Then every answered write must be stored
//! exactly once, nothing refused may be stored, every request the kill cut off must be
//! stored entirely or not at all, and the database must keep its invariants.
//!
//! The moment of the kill and the amounts paid come from a seed, printed at the start of
//! each run: `LIBRARY_CRASH_SEED=<seed>` replays it.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::server::{Options, Server};
use crate::store::{Stored, int, text};
use crate::support::{TestApp, futures_join_all, hk, test_databases};

/// Kills per backend.
const ROUNDS: u64 = 3;
/// Clients that lend a copy, renew it to the allowance and take it back, again and again.
const LENDERS: usize = 3;
/// Clients that lend a copy, let a reader hold its title and have the hold collected.
const HOLD_CYCLES: usize = 2;
/// Clients that take payments from a reader who owes fines.
const PAYERS: usize = 2;
/// Readers who place holds on the queue titles (copies none, so the holds stay queued).
const QUEUE_READERS: usize = 4;
const QUEUE_TITLES: usize = 24;
/// The kill comes this many milliseconds after the load starts, at least and at most.
const KILL_AFTER_MS: (u64, u64) = (300, 1800);
/// Renewals allowed in a row.
const RENEWALS_ALLOWED: i64 = 3;

/// A small generator (splitmix64): the run is replayed from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// `LIBRARY_CRASH_SEED`, or else one from the clock.
fn seed() -> u64 {
    std::env::var("LIBRARY_CRASH_SEED")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or_else(|| {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .expect("clock")
                .as_nanos();
            u64::try_from(nanos & u128::from(u64::MAX)).expect("64 bits")
        })
}

/// A line of the suite's figures on the standard error (shown even when the harness
/// captures the output).
pub fn say(line: std::fmt::Arguments<'_>) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// The rules lent under: the policy is empty (`LIBRARY_POLICY=none`), these are all.
fn rules() -> Value {
    json!({"loan_days": 14, "renewals_allowed": RENEWALS_ALLOWED, "quota": 10,
           "holds_allowed": 30, "pickup_days": 3, "fine_per_day_cents": 150})
}

fn options() -> Options {
    Options {
        dev_clock: true,
        env: vec![("LIBRARY_POLICY".into(), "none".into())],
        ..Options::default()
    }
}

/// A write a client sent.
#[derive(Clone, Debug)]
enum Op {
    /// A counter checkout; `collects` the hold it collects (the reader's waiting hold).
    Checkout {
        card: String,
        barcode: String,
        collects: Option<i64>,
    },
    Renewal {
        loan: i64,
    },
    Checkin {
        barcode: String,
    },
    /// A hold placed by the reader.
    Hold {
        card: String,
        title: i64,
    },
    Payment {
        card: String,
        amount: i64,
    },
}

#[derive(Debug)]
enum Outcome {
    /// Answered with the success status: acknowledged.
    Done(Value),
    /// Refused (4xx) as expected.
    Refused,
    /// No answer: the kill cut it off.
    Cut,
}

#[derive(Debug)]
struct Step {
    op: Op,
    outcome: Outcome,
}

/// One client: connections of its own, what it sent and what came back.
struct Client<'a> {
    http: reqwest::Client,
    base: &'a str,
    staff: &'a str,
    killed: &'a AtomicBool,
    log: Vec<Step>,
    unexpected: Vec<String>,
}

/// A request's end: the client goes on (`Ok`, with the body of a success) or stops (the
/// server is gone, or the answer was not one the client expected).
type Sent = Result<Option<Value>, ()>;

impl<'a> Client<'a> {
    fn new(base: &'a str, staff: &'a str, killed: &'a AtomicBool) -> Client<'a> {
        Client {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(15))
                .build()
                .expect("client"),
            base,
            staff,
            killed,
            log: Vec::new(),
            unexpected: Vec::new(),
        }
    }

    /// POSTs `body` (none when null) with `token`; `success` is the status that
    /// acknowledges the write (none: no success is expected), `refusals` the
    /// `(status, code, reason)` answers expected instead (`""`: any reason).
    async fn send(
        &mut self,
        op: Op,
        path: &str,
        token: Option<&str>,
        body: Value,
        success: Option<u16>,
        refusals: &[(u16, &str, &str)],
    ) -> Sent {
        let mut request = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(token.unwrap_or(self.staff));
        if !body.is_null() {
            request = request.json(&body);
        }
        let answer = match request.send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                response.bytes().await.map(|bytes| (status, bytes))
            }
            Err(e) => Err(e),
        };
        let (status, bytes) = match answer {
            Ok(answer) => answer,
            Err(e) => {
                if self.killed.load(Ordering::SeqCst) {
                    self.log.push(Step {
                        op,
                        outcome: Outcome::Cut,
                    });
                } else {
                    self.unexpected
                        .push(format!("{op:?}: no answer before the kill: {e}"));
                }
                return Err(());
            }
        };
        let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        let code = body["code"].as_str().unwrap_or("");
        let reason = body["reason"].as_str().unwrap_or("");
        if success == Some(status) {
            self.log.push(Step {
                op,
                outcome: Outcome::Done(body.clone()),
            });
            return Ok(Some(body));
        }
        // A refusal names its reason in `reason` (409) or in `violations` (422).
        let named = |r: &str| {
            r.is_empty()
                || r == reason
                || body["violations"]
                    .as_array()
                    .is_some_and(|v| v.iter().any(|v| v == r))
        };
        if refusals
            .iter()
            .any(|&(s, c, r)| s == status && c == code && named(r))
        {
            self.log.push(Step {
                op,
                outcome: Outcome::Refused,
            });
            return Ok(None);
        }
        self.unexpected.push(format!("{op:?}: {status} {body}"));
        Err(())
    }

    async fn checkout(&mut self, card: &str, barcode: &str, collects: Option<i64>) -> Sent {
        self.send(
            Op::Checkout {
                card: card.into(),
                barcode: barcode.into(),
                collects,
            },
            "/api/v1/circulation/checkouts",
            None,
            json!({"card_number": card, "item_barcode": barcode, "library_code": "CEN"}),
            Some(201),
            &[],
        )
        .await
    }

    /// A checkout that must be refused: the copy is on loan to someone else.
    async fn refused_checkout(&mut self, card: &str, barcode: &str) -> Sent {
        self.send(
            Op::Checkout {
                card: card.into(),
                barcode: barcode.into(),
                collects: None,
            },
            "/api/v1/circulation/checkouts",
            None,
            json!({"card_number": card, "item_barcode": barcode, "library_code": "CEN"}),
            None,
            &[(409, "checkout_refused", "item_not_available")],
        )
        .await
    }

    async fn checkin(&mut self, barcode: &str) -> Sent {
        self.send(
            Op::Checkin {
                barcode: barcode.into(),
            },
            "/api/v1/circulation/checkins",
            None,
            json!({"item_barcode": barcode, "library_code": "CEN"}),
            Some(200),
            &[],
        )
        .await
    }

    async fn hold(&mut self, card: &str, token: &str, title: i64, refusal: Option<&str>) -> Sent {
        let refusals = refusal.map(|r| [(409, "hold_refused", r)]);
        self.send(
            Op::Hold {
                card: card.into(),
                title,
            },
            "/api/v1/me/holds",
            Some(token),
            json!({"title_id": title, "pickup_library": "CEN"}),
            refusal.is_none().then_some(201),
            refusals.as_ref().map(|r| &r[..]).unwrap_or(&[]),
        )
        .await
    }
}

fn id_of(body: &Option<Value>, field: &str) -> Result<i64, ()> {
    body.as_ref().and_then(|b| b[field].as_i64()).ok_or(())
}

/// Lends its copy, renews it until the allowance refuses, tries to lend it to another
/// reader (refused), takes it back; again and again.
async fn lender(c: &mut Client<'_>, card: &str, barcode: &str, stranger: &str) -> Result<(), ()> {
    loop {
        let loan = id_of(&c.checkout(card, barcode, None).await?, "loan_id")?;
        loop {
            let renewed = c
                .send(
                    Op::Renewal { loan },
                    &format!("/api/v1/circulation/loans/{loan}/renewal"),
                    None,
                    Value::Null,
                    Some(200),
                    &[(409, "renewal_refused", "too_many_renewals")],
                )
                .await?;
            if renewed.is_none() {
                break;
            }
        }
        c.refused_checkout(stranger, barcode).await?;
        c.checkin(barcode).await?;
    }
}

/// The copy is lent to `borrower`; `holder` holds its title (a second hold is refused);
/// the copy comes back and waits for the holder, who collects it (a checkout at the pickup
/// library) and brings it back; again and again.
async fn hold_cycle(
    c: &mut Client<'_>,
    borrower: &str,
    (holder, token): (&str, &str),
    barcode: &str,
    title: i64,
) -> Result<(), ()> {
    loop {
        c.checkout(borrower, barcode, None).await?;
        let hold = id_of(&c.hold(holder, token, title, None).await?, "id")?;
        c.hold(holder, token, title, Some("already_on_hold"))
            .await?;
        c.checkin(barcode).await?;
        c.checkout(holder, barcode, Some(hold)).await?;
        c.checkin(barcode).await?;
    }
}

/// Payments of 1 to 9 cents from `card`; every fourth one more than is owed (refused).
async fn payer(c: &mut Client<'_>, card: &str, mut rng: Rng) -> Result<(), ()> {
    for n in 1.. {
        let amount = if n % 4 == 0 {
            100_000_000
        } else {
            1 + rng.below(9) as i64
        };
        c.send(
            Op::Payment {
                card: card.into(),
                amount,
            },
            &format!("/api/v1/patrons/{card}/payments"),
            None,
            json!({ "amount_cents": amount }),
            (n % 4 != 0).then_some(201),
            &[(422, "validation_failed", "amount_exceeds_outstanding")],
        )
        .await?;
    }
    Ok(())
}

/// Holds by one reader on each queue title in turn.
async fn queue_reader(
    c: &mut Client<'_>,
    card: &str,
    token: &str,
    titles: &[i64],
) -> Result<(), ()> {
    for &title in titles {
        c.hold(card, token, title, None).await?;
    }
    Ok(())
}

/// What the round set up.
struct Setup {
    staff: String,
    /// Lenders: (reader, copy).
    lenders: Vec<(String, String)>,
    /// The reader every lender tries to lend its copy to, always refused.
    stranger: String,
    /// Hold cycles: (borrower, (holder, holder's session), copy, title).
    hold_cycles: Vec<(String, (String, String), String, i64)>,
    /// Readers who owe fines.
    payers: Vec<String>,
    /// Queue readers: (reader, session).
    queue: Vec<(String, String)>,
    queue_titles: Vec<i64>,
}

/// Phone numbers: `9<kind><n>`, one kind per sort of reader.
fn phone(kind: u32, n: usize) -> String {
    format!("9{kind}{n:06}")
}

async fn set_up(app: &TestApp) -> Setup {
    app.set_clock(hk("2021-06-01T10:00:00")).await;
    let staff = app.staff_token().await;
    app.library(&staff, "CEN", "district").await;
    app.rules(&staff, json!({}), rules()).await.expect(200, "");

    let lent = app.title(&staff, "The Lending Desk").await;
    let mut lenders = Vec::new();
    for n in 0..LENDERS {
        let barcode = format!("LND{n:04}");
        app.item(&staff, lent, &barcode, "CEN").await;
        lenders.push((app.reader(&staff, &phone(1, n)).await, barcode));
    }
    let stranger = app.reader(&staff, &phone(2, 0)).await;

    // Fines: a copy lent on 1 June to each payer comes back on 1 August, 47 days late; a
    // second copy is declared lost.
    let fines = app.title(&staff, "Late Again").await;
    let mut payers = Vec::new();
    let mut lost = Vec::new();
    for n in 0..PAYERS {
        let card = app.reader(&staff, &phone(3, n)).await;
        for kind in ["FIN", "LST"] {
            let barcode = format!("{kind}{n:04}");
            app.item(&staff, fines, &barcode, "CEN").await;
            let loan = app
                .checkout(&staff, &card, &barcode, "CEN")
                .await
                .expect(201, "")
                .body["loan_id"]
                .as_i64()
                .expect("loan");
            if kind == "LST" {
                lost.push(loan);
            }
        }
        payers.push(card);
    }
    app.set_clock(hk("2021-08-01T10:00:00")).await;
    // Sessions are timed by the development clock: new ones from here on.
    let staff = app.staff_token().await;
    for n in 0..PAYERS {
        app.checkin(&staff, &format!("FIN{n:04}"), "CEN", None)
            .await
            .expect(200, "");
    }
    for loan in lost {
        app.post(
            &format!("/api/v1/circulation/loans/{loan}/lost"),
            Some(&staff),
            Value::Null,
        )
        .await
        .expect(200, "");
    }

    let mut hold_cycles = Vec::new();
    for n in 0..HOLD_CYCLES {
        let title = app.title(&staff, &format!("Held Dear {n}")).await;
        let barcode = format!("HLD{n:04}");
        app.item(&staff, title, &barcode, "CEN").await;
        let borrower = app.reader(&staff, &phone(4, n)).await;
        let holder = app.reader(&staff, &phone(5, n)).await;
        let token = app.reader_session(&holder, &phone(5, n)).await;
        hold_cycles.push((borrower, (holder, token), barcode, title));
    }

    let mut queue_titles = Vec::new();
    for n in 0..QUEUE_TITLES {
        queue_titles.push(app.title(&staff, &format!("Long Queue {n}")).await);
    }
    let mut queue = Vec::new();
    for n in 0..QUEUE_READERS {
        let card = app.reader(&staff, &phone(6, n)).await;
        let token = app.reader_session(&card, &phone(6, n)).await;
        queue.push((card, token));
    }
    Setup {
        staff,
        lenders,
        stranger,
        hold_cycles,
        payers,
        queue,
        queue_titles,
    }
}

/// What the clients acknowledged, summed over them.
#[derive(Debug, Default)]
struct Tally {
    done: BTreeMap<&'static str, usize>,
    refused: usize,
    cut: usize,
}

fn kind(op: &Op) -> &'static str {
    match op {
        Op::Checkout {
            collects: Some(_), ..
        } => "collection",
        Op::Checkout { .. } => "checkout",
        Op::Renewal { .. } => "renewal",
        Op::Checkin { .. } => "checkin",
        Op::Hold { .. } => "hold",
        Op::Payment { .. } => "payment",
    }
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "outside-in suite: run by `cargo xtask outside`"]
async fn a_server_killed_under_a_mixed_load_keeps_exactly_what_it_acknowledged() {
    let seed = seed();
    say(format_args!(
        "crash: seed {seed} (LIBRARY_CRASH_SEED={seed} replays it)"
    ));
    let mut rng = Rng(seed);
    for round in 1..=ROUNDS {
        for db in test_databases().await {
            let started = Instant::now();
            let label = db.label();
            let kill_after = KILL_AFTER_MS.0 + rng.below(KILL_AFTER_MS.1 - KILL_AFTER_MS.0);
            let pay_seed = rng.next();
            let (tally, failures) = round_on(&db.url(), label, kill_after, pay_seed).await;
            say(format_args!(
                "crash: {label} round {round} (seed {seed}): killed after {kill_after} ms; \
                 acknowledged {:?}, refused {}, cut {}; {:.1} s",
                tally.done,
                tally.refused,
                tally.cut,
                started.elapsed().as_secs_f64()
            ));
            assert!(
                failures.is_empty(),
                "{label} round {round} (LIBRARY_CRASH_SEED={seed}): {failures:#?}"
            );
            drop(db);
        }
    }
}

/// One round on the database at `url`: set up, load, kill after `kill_after` ms, restart,
/// check. What was acknowledged, and what is wrong.
async fn round_on(
    url: &str,
    label: &'static str,
    kill_after: u64,
    pay_seed: u64,
) -> (Tally, Vec<String>) {
    let server = Server::start(url, label, &options()).await;
    let app = server.app();
    let setup = set_up(&app).await;

    let killed = AtomicBool::new(false);
    let base = server.base.clone();
    let mut clients = Vec::new();
    let total = LENDERS + HOLD_CYCLES + PAYERS + QUEUE_READERS;
    for _ in 0..total {
        clients.push(Client::new(&base, &setup.staff, &killed));
    }
    let mut pay_rng = Rng(pay_seed);
    let pay_seeds: Vec<u64> = (0..PAYERS).map(|_| pay_rng.next()).collect();
    let setup = &setup;
    let load = futures_join_all(
        clients
            .iter_mut()
            .enumerate()
            .map(|(n, c)| {
                let pay_seeds = &pay_seeds;
                async move {
                    let _ = if n < LENDERS {
                        let (card, barcode) = &setup.lenders[n];
                        lender(c, card, barcode, &setup.stranger).await
                    } else if n < LENDERS + HOLD_CYCLES {
                        let (borrower, (holder, token), barcode, title) =
                            &setup.hold_cycles[n - LENDERS];
                        hold_cycle(c, borrower, (holder, token), barcode, *title).await
                    } else if n < LENDERS + HOLD_CYCLES + PAYERS {
                        let k = n - LENDERS - HOLD_CYCLES;
                        payer(c, &setup.payers[k], Rng(pay_seeds[k])).await
                    } else {
                        let (card, token) = &setup.queue[n - LENDERS - HOLD_CYCLES - PAYERS];
                        queue_reader(c, card, token, &setup.queue_titles).await
                    };
                }
            })
            .collect(),
    );
    let killer = async {
        tokio::time::sleep(Duration::from_millis(kill_after)).await;
        killed.store(true, Ordering::SeqCst);
        server.kill().await;
    };
    tokio::join!(load, killer);

    let mut failures: Vec<String> = Vec::new();
    let mut tally = Tally::default();
    for c in &clients {
        failures.extend(c.unexpected.iter().cloned());
        for step in &c.log {
            match step.outcome {
                Outcome::Done(_) => *tally.done.entry(kind(&step.op)).or_default() += 1,
                Outcome::Refused => tally.refused += 1,
                Outcome::Cut => tally.cut += 1,
            }
        }
    }
    let logs: Vec<&[Step]> = clients.iter().map(|c| &c.log[..]).collect();

    // A new process on the same database: what it serves and what the database holds.
    let server = Server::start(url, label, &options()).await;
    let app = server.app();
    app.set_clock(hk("2021-08-01T10:00:00")).await;
    let staff = app.staff_token().await;
    let ready = app.get("/ready", None).await;
    if ready.status.as_u16() != 200 {
        failures.push(format!("/ready after the restart: {:?}", ready.body));
    }
    let stored = Stored::open(url).await;
    failures.extend(stored.broken_invariants().await);
    failures.extend(check_loans(&stored, &logs).await);
    failures.extend(check_holds(&stored, &logs).await);
    failures.extend(check_payments(&stored, &logs).await);
    failures.extend(check_queue(&app, &staff, setup, &logs).await);
    server.terminate().await;
    failures.extend(stored.sqlite_damage().await);
    stored.close().await;
    (tally, failures)
}

/// The cut step of a client's log (its last, when the kill cut it).
fn cut(log: &[Step]) -> Option<&Op> {
    log.last()
        .filter(|s| matches!(s.outcome, Outcome::Cut))
        .map(|s| &s.op)
}

fn done(log: &[Step]) -> impl Iterator<Item = (&Op, &Value)> {
    log.iter().filter_map(|s| match &s.outcome {
        Outcome::Done(body) => Some((&s.op, body)),
        _ => None,
    })
}

/// Loans: per reader and copy a checkout was sent for, the stored loans are the
/// acknowledged ones (plus at most the one a cut checkout made, untouched since); each
/// acknowledged loan has exactly its acknowledged renewals and is returned exactly when a
/// checkin of it was acknowledged (either way when the cut request was that renewal or
/// checkin).
async fn check_loans(stored: &Stored, logs: &[&[Step]]) -> Vec<String> {
    let mut failures = Vec::new();
    let rows = stored
        .rows(
            "SELECT l.id, p.card_number, i.barcode, l.renewals, \
             CASE WHEN l.returned_at IS NULL THEN 0 ELSE 1 END AS returned \
             FROM loans l JOIN patrons p ON p.id = l.patron_id JOIN items i ON i.id = l.item_id",
        )
        .await;
    // (card, barcode) → [(loan, renewals, returned)]
    type Pair = (String, String);
    let mut by_pair: HashMap<Pair, Vec<(i64, i64, bool)>> = HashMap::new();
    for r in &rows {
        by_pair
            .entry((text(r, "card_number"), text(r, "barcode")))
            .or_default()
            .push((int(r, "id"), int(r, "renewals"), int(r, "returned") == 1));
    }
    for log in logs {
        // Per loan of this client: renewals acknowledged, checkin acknowledged.
        let mut acked: BTreeMap<(String, String), Vec<i64>> = BTreeMap::new();
        let mut loans: BTreeMap<i64, (i64, bool)> = BTreeMap::new();
        let mut open: HashMap<String, i64> = HashMap::new();
        for step in log.iter() {
            match (&step.op, &step.outcome) {
                (Op::Checkout { card, barcode, .. }, Outcome::Done(body)) => {
                    let loan = body["loan_id"].as_i64().expect("loan id");
                    acked
                        .entry((card.clone(), barcode.clone()))
                        .or_default()
                        .push(loan);
                    loans.insert(loan, (0, false));
                    open.insert(barcode.clone(), loan);
                }
                (Op::Checkout { card, barcode, .. }, _) => {
                    acked.entry((card.clone(), barcode.clone())).or_default();
                }
                (Op::Renewal { loan }, Outcome::Done(_)) => {
                    loans.get_mut(loan).expect("a loan of this client").0 += 1;
                }
                (Op::Checkin { barcode }, Outcome::Done(_)) => {
                    let loan = open.remove(barcode).expect("an open loan of this client");
                    loans.get_mut(&loan).expect("a loan of this client").1 = true;
                }
                _ => {}
            }
        }
        let cut = cut(log);
        for ((card, barcode), ids) in &acked {
            let found = by_pair
                .get(&(card.clone(), barcode.clone()))
                .cloned()
                .unwrap_or_default();
            let extra: Vec<_> = found.iter().filter(|(id, ..)| !ids.contains(id)).collect();
            let missing: Vec<_> = ids
                .iter()
                .filter(|id| !found.iter().any(|(f, ..)| f == *id))
                .collect();
            if !missing.is_empty() {
                failures.push(format!(
                    "loans {missing:?} of {card} on {barcode} answered 201 are not stored"
                ));
            }
            let cut_here = matches!(cut, Some(Op::Checkout { card: c, barcode: b, .. }) if c == card && b == barcode);
            let extra_allowed = cut_here && extra.len() == 1 && extra[0].1 == 0 && !extra[0].2;
            if !extra.is_empty() && !extra_allowed {
                failures.push(format!(
                    "loans {extra:?} of {card} on {barcode} are stored but were not answered 201"
                ));
            }
        }
        for (loan, (renewals, returned)) in &loans {
            let Some(&(_, stored_renewals, stored_returned)) =
                by_pair.values().flatten().find(|(id, ..)| id == loan)
            else {
                continue;
            };
            let renewal_cut = matches!(cut, Some(Op::Renewal { loan: l }) if l == loan);
            if !(stored_renewals == *renewals || renewal_cut && stored_renewals == renewals + 1) {
                failures.push(format!(
                    "loan {loan}: {renewals} renewals answered 200 (cut: {renewal_cut}), \
                     {stored_renewals} stored"
                ));
            }
            let checkin_cut = !returned
                && matches!(cut, Some(Op::Checkin { .. }))
                && loans.keys().next_back() == Some(loan);
            if stored_returned != *returned && !checkin_cut {
                failures.push(format!(
                    "loan {loan}: returned answered {returned}, stored {stored_returned}"
                ));
            }
        }
    }
    failures
}

/// Holds: per reader and title a hold was sent for, the stored holds are the acknowledged
/// ones (plus at most one a cut placement made, queued); each in the state the answers
/// put it in: queued, waiting once a checkin trapped the copy for it, collected once the
/// reader's checkout of the copy was answered (either of two when the cut request was the
/// step between them).
async fn check_holds(stored: &Stored, logs: &[&[Step]]) -> Vec<String> {
    let mut failures = Vec::new();
    let rows = stored
        .rows(
            "SELECT h.id, p.card_number, h.title_id, h.status \
             FROM holds h JOIN patrons p ON p.id = h.patron_id",
        )
        .await;
    let mut by_pair: HashMap<(String, i64), Vec<(i64, String)>> = HashMap::new();
    for r in &rows {
        by_pair
            .entry((text(r, "card_number"), int(r, "title_id")))
            .or_default()
            .push((int(r, "id"), text(r, "status")));
    }
    for log in logs {
        let mut acked: BTreeMap<(String, i64), Vec<i64>> = BTreeMap::new();
        // hold → the states it may be in
        let mut states: BTreeMap<i64, Vec<&str>> = BTreeMap::new();
        for step in log.iter() {
            match (&step.op, &step.outcome) {
                (Op::Hold { card, title }, Outcome::Done(body)) => {
                    let hold = body["id"].as_i64().expect("hold id");
                    acked.entry((card.clone(), *title)).or_default().push(hold);
                    states.insert(hold, vec!["queued"]);
                }
                (Op::Hold { card, title }, _) => {
                    acked.entry((card.clone(), *title)).or_default();
                }
                (Op::Checkin { .. }, outcome) => {
                    for s in states.values_mut() {
                        if s.as_slice() == ["queued"] {
                            match outcome {
                                Outcome::Done(_) => *s = vec!["waiting"],
                                _ => s.push("waiting"),
                            }
                        }
                    }
                }
                (
                    Op::Checkout {
                        collects: Some(hold),
                        ..
                    },
                    outcome,
                ) => {
                    let s = states.get_mut(hold).expect("a hold of this client");
                    match outcome {
                        Outcome::Done(_) => *s = vec!["collected"],
                        Outcome::Cut => s.push("collected"),
                        Outcome::Refused => {}
                    }
                }
                _ => {}
            }
        }
        let cut = cut(log);
        for ((card, title), ids) in &acked {
            let found = by_pair
                .get(&(card.clone(), *title))
                .cloned()
                .unwrap_or_default();
            for id in ids {
                match found.iter().find(|(f, _)| f == id) {
                    None => failures.push(format!(
                        "hold {id} of {card} on title {title} answered 201 is not stored"
                    )),
                    Some((_, status)) if !states[id].contains(&status.as_str()) => {
                        failures.push(format!(
                            "hold {id} of {card} on title {title}: {status}, expected one of {:?}",
                            states[id]
                        ))
                    }
                    Some(_) => {}
                }
            }
            let extra: Vec<_> = found.iter().filter(|(id, _)| !ids.contains(id)).collect();
            let cut_here =
                matches!(cut, Some(Op::Hold { card: c, title: t }) if c == card && t == title);
            let extra_allowed = cut_here && extra.len() == 1 && extra[0].1 == "queued";
            if !extra.is_empty() && !extra_allowed {
                failures.push(format!(
                    "holds {extra:?} of {card} on title {title} are stored but were not \
                     answered 201"
                ));
            }
        }
    }
    failures
}

/// Payments: per reader, the stored amounts in order are the acknowledged ones, plus the
/// cut one at the end at most; none refused is among them.
async fn check_payments(stored: &Stored, logs: &[&[Step]]) -> Vec<String> {
    let mut failures = Vec::new();
    for log in logs {
        let mut per_card: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
        for step in log.iter() {
            if let Op::Payment { card, amount } = &step.op {
                let amounts = per_card.entry(card).or_default();
                if matches!(step.outcome, Outcome::Done(_)) {
                    amounts.push(*amount);
                }
            }
        }
        for (card, acked) in per_card {
            let found: Vec<i64> = stored
                .rows(&format!(
                    "SELECT y.amount FROM payments y JOIN patrons p ON p.id = y.patron_id \
                     WHERE p.card_number = '{card}' ORDER BY y.id"
                ))
                .await
                .iter()
                .map(|r| int(r, "amount"))
                .collect();
            let with_cut = match cut(log) {
                Some(Op::Payment { amount, .. }) => {
                    let mut all = acked.clone();
                    all.push(*amount);
                    Some(all)
                }
                _ => None,
            };
            if found != acked && Some(&found) != with_cut.as_ref() {
                failures.push(format!(
                    "payments of {card}: answered 201 {acked:?} (cut: {with_cut:?}), \
                     stored {found:?}"
                ));
            }
        }
    }
    failures
}

/// The queue titles, as the restarted server shows them: every acknowledged hold at the
/// position its answer gave, and each title's positions 1..n without a gap.
async fn check_queue(app: &TestApp, staff: &str, setup: &Setup, logs: &[&[Step]]) -> Vec<String> {
    let mut failures = Vec::new();
    let mut acked: HashMap<i64, i64> = HashMap::new();
    for log in logs {
        for (op, body) in done(log) {
            if let Op::Hold { title, .. } = op
                && setup.queue_titles.contains(title)
            {
                acked.insert(
                    body["id"].as_i64().expect("id"),
                    body["position"].as_i64().expect("position"),
                );
            }
        }
    }
    let mut positions: BTreeMap<i64, BTreeSet<i64>> = BTreeMap::new();
    let mut count = 0;
    for (card, _) in &setup.queue {
        let answer = app
            .get(&format!("/api/v1/patrons/{card}/holds"), Some(staff))
            .await;
        for hold in answer.body["holds"].as_array().into_iter().flatten() {
            let (id, title) = (hold["id"].as_i64(), hold["title_id"].as_i64());
            let (Some(id), Some(title)) = (id, title) else {
                continue;
            };
            let position = hold["position"].as_i64().unwrap_or(0);
            count += 1;
            if !positions.entry(title).or_default().insert(position) {
                failures.push(format!("title {title}: position {position} twice"));
            }
            if let Some(&answered) = acked.get(&id)
                && answered != position
            {
                failures.push(format!(
                    "hold {id} on title {title}: answered at {answered}, now at {position}"
                ));
            }
        }
    }
    for (title, seen) in &positions {
        let expected: BTreeSet<i64> = (1..=seen.len() as i64).collect();
        if seen != &expected {
            failures.push(format!("title {title}: positions {seen:?}"));
        }
    }
    if count < acked.len() {
        failures.push(format!(
            "{} queue holds answered 201, the server shows {count}",
            acked.len()
        ));
    }
    failures
}
