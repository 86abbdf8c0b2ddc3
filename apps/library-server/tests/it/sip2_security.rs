//! SIP2 stations on a short leash, end to end on every backend: connections that do not log
//! in cannot lock stations out, and each station account says whether it needs the reader's
//! PIN, whether it may block cards and where it may log in from (docs/sip2.md, Connection
//! limits and Station settings; docs/credentials.md, SIP2 stations).

use std::time::Duration;

use serde_json::{Value, json};
use tokio::net::TcpSocket;

use crate::sip2::{DATE, LIBRARY, Raw, STATION_PASSWORD, all, field};
use crate::support::{TestApp, hk, on_every_backend, standard_rules};

const PHONE: &str = "91234567";
const PIN: &str = "4567";
const EMAIL: &str = "chan.tai.man@example.org";
/// Eighteen blanks: "no date".
const BLANK: &str = "                  ";
/// What a station that needs PINs says when none was sent.
const ENTER_PIN: &str = "Please enter your PIN.";

/// Two libraries, the standard rules, a title with three copies and a reader (with an
/// email); the clock at 1 June 2021, 10:00 in Hong Kong.
struct Fixture {
    staff: String,
    card: String,
}

async fn fixture(app: &TestApp) -> Fixture {
    app.set_clock(hk("2021-06-01T10:00:00")).await;
    let staff = app.staff_token().await;
    app.library(&staff, "CEN", "central").await;
    app.library(&staff, LIBRARY, "district").await;
    app.rules(&staff, json!({}), standard_rules())
        .await
        .expect(200, "");
    let tao = app.title(&staff, "Tao Te Ching").await;
    for barcode in ["T1", "T2", "T3"] {
        app.item(&staff, tao, barcode, "CEN").await;
    }
    let card = app
        .post(
            "/api/v1/patrons",
            Some(&staff),
            json!({"name": "Chan Tai Man", "phone": PHONE, "email": EMAIL,
                   "category": "adult", "home_library": "CEN"}),
        )
        .await
        .expect(201, "")
        .body["card_number"]
        .as_str()
        .expect("card")
        .to_owned();
    Fixture { staff, card }
}

/// Creates station `username` at KLN with `settings` (merged into the request body).
async fn station(app: &TestApp, staff: &str, username: &str, settings: Value) -> Value {
    let mut body = json!({"username": username, "password": STATION_PASSWORD,
                          "library_code": LIBRARY});
    if let (Some(body), Some(settings)) = (body.as_object_mut(), settings.as_object()) {
        body.extend(settings.clone());
    }
    app.post("/api/v1/sip2/stations", Some(staff), body)
        .await
        .expect(201, "")
        .body
}

/// A connection logged in as `username` from 127.0.0.1.
async fn logged_in(app: &TestApp, username: &str) -> Raw {
    let mut raw = Raw::connect(app.sip2.expect("SIP2")).await;
    assert_eq!(raw.login(username, STATION_PASSWORD).await, "941");
    raw
}

/// Waits (at most 10 s) until the count of `event` reaches `at_least`; the count then.
async fn count_reaching(app: &TestApp, event: &str, at_least: u64) -> u64 {
    let started = tokio::time::Instant::now();
    loop {
        let count = app.security.count(event);
        if count >= at_least || started.elapsed() > Duration::from_secs(10) {
            return count;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

// ---------------------------------------------------------------------------------------
// Connections that do not log in.
// ---------------------------------------------------------------------------------------

/// The server with SIP2 and a login deadline of 1 s (10 s in production).
async fn on_every_backend_with_short_deadline(test: impl AsyncFn(&TestApp)) {
    for database in crate::support::test_databases().await {
        let app = TestApp::with_config(database, |c| {
            c.sip2_addr = Some(":0".into());
            c.sip2_limits.login_deadline_secs = 1;
        })
        .await;
        test(&app).await;
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_cannot_lock_stations_out() {
    on_every_backend_with_short_deadline(async |app: &TestApp| {
        let f = fixture(app).await;
        station(app, &f.staff, "sc01", json!({})).await;
        let addr = app.sip2.expect("SIP2");

        // 500 connections from one address that never say anything (more than the 128
        // the server serves at once, the 32 not logged in, and the 4 per address).
        let mut idle = Vec::new();
        for _ in 0..500 {
            let socket = TcpSocket::new_v4().unwrap();
            socket.bind("127.0.0.2:0".parse().unwrap()).unwrap();
            idle.push(socket.connect(addr).await.expect("the kernel accepts"));
        }
        // All but 4 are closed at once, each recorded once (the 4 at the deadline).
        let refused = count_reaching(app, "sip2_connection_refused", 496).await;
        assert!((496..=500).contains(&refused), "{refused} on {}", app.db);

        // 60 stations log in from their own address, and stay logged in.
        let mut stations = Vec::new();
        for i in 0..60 {
            let mut raw = Raw::connect_from("127.0.0.3", addr).await;
            assert_eq!(
                raw.login("sc01", STATION_PASSWORD).await,
                "941",
                "login {i} on {}",
                app.db
            );
            stations.push(raw);
        }

        // The 4 idle ones are closed at the login deadline (1 s here), recorded once each;
        // the stations logged in stay.
        assert_eq!(
            count_reaching(app, "sip2_connection_refused", 500).await,
            500,
            "{}",
            app.db
        );
        let mut last = Raw::connect_from("127.0.0.2", addr).await;
        let started = tokio::time::Instant::now();
        assert!(last.call("9900802.00").await.starts_with("98"));
        // A `99` before login does not extend the deadline.
        tokio::time::sleep(Duration::from_millis(600)).await;
        assert!(last.call("9900802.00").await.starts_with("98"));
        assert_eq!(last.recv().await, None, "closed at the deadline");
        let waited = started.elapsed();
        assert!(
            waited >= Duration::from_millis(900) && waited < Duration::from_secs(5),
            "{waited:?}"
        );
        assert_eq!(
            count_reaching(app, "sip2_connection_refused", 501).await,
            501
        );
        for raw in stations.iter_mut().step_by(10) {
            assert!(raw.call("9900802.00").await.starts_with("98"), "{}", app.db);
        }
        drop(idle);
    })
    .await;
}

// ---------------------------------------------------------------------------------------
// The station's settings.
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn station_settings_are_set_at_creation_changed_and_listed() {
    on_every_backend(true, async |app: &TestApp| {
        let f = fixture(app).await;
        // A new station needs PINs, may not block and may log in from anywhere.
        let created = station(app, &f.staff, "sc01", json!({})).await;
        assert_eq!(created["pin_required"], true, "{}", app.db);
        assert_eq!(created["may_block"], false);
        assert_eq!(created["allowed_addresses"], json!([]));
        let open = station(
            app,
            &f.staff,
            "sc02",
            json!({"pin_required": false, "may_block": true,
                   "allowed_addresses": ["127.0.0.3", "192.0.2.77/24"]}),
        )
        .await;
        assert_eq!(open["pin_required"], false);
        assert_eq!(open["may_block"], true);
        assert_eq!(
            open["allowed_addresses"],
            json!(["127.0.0.3", "192.0.2.0/24"])
        );

        // Bad addresses and wrong types are refused, and nothing is created.
        let post = |body: Value| app.post("/api/v1/sip2/stations", Some(&f.staff), body);
        for bad in [
            json!(["library.example"]),
            json!(["192.0.2.1/33"]),
            json!(["10.0.0.1", ""]),
            json!((0..33).map(|i| format!("10.0.0.{i}")).collect::<Vec<_>>()),
        ] {
            let answer = post(json!({"username": "sc03", "password": STATION_PASSWORD,
                                     "library_code": LIBRARY, "allowed_addresses": bad}))
            .await
            .expect(422, "validation_failed");
            assert_eq!(answer.violations(), ["allowed_addresses_invalid"]);
        }
        post(json!({"username": "sc03", "password": STATION_PASSWORD,
                    "library_code": LIBRARY, "pin_required": "no"}))
        .await
        .expect(400, "bad_request");

        // Changed: only what is sent; audited with the settings in force.
        let patch = async |name: &str, body: Value| {
            app.patch(
                &format!("/api/v1/sip2/stations/{name}"),
                Some(&f.staff),
                body,
            )
            .await
        };
        let changed = patch("sc01", json!({"may_block": true}))
            .await
            .expect(200, "")
            .body;
        assert_eq!(
            (
                &changed["pin_required"],
                &changed["may_block"],
                &changed["allowed_addresses"]
            ),
            (&json!(true), &json!(true), &json!([]))
        );
        let changed = patch(
            "sc02",
            json!({"pin_required": true, "allowed_addresses": []}),
        )
        .await
        .expect(200, "")
        .body;
        assert_eq!(changed["pin_required"], true);
        assert_eq!(changed["may_block"], true);
        assert_eq!(changed["allowed_addresses"], json!([]));
        patch("sc02", json!({"allowed_addresses": ["nope"]}))
            .await
            .expect(422, "validation_failed");
        patch("nobody", json!({"may_block": true}))
            .await
            .expect(404, "not_found");
        patch("NOT%20ONE", json!({"may_block": true}))
            .await
            .expect(404, "not_found");
        patch("sc01", json!({"may_block": 1}))
            .await
            .expect(400, "bad_request");
        let reader = app.pin_login(&f.card, PIN).await.expect(200, "").token();
        app.patch(
            "/api/v1/sip2/stations/sc01",
            Some(&reader),
            json!({"may_block": false}),
        )
        .await
        .expect(403, "forbidden");

        let listed = app
            .get("/api/v1/sip2/stations", Some(&f.staff))
            .await
            .expect(200, "")
            .body;
        let settings: Vec<(Value, Value, Value)> = listed["stations"]
            .as_array()
            .expect("a list")
            .iter()
            .map(|s| {
                (
                    s["pin_required"].clone(),
                    s["may_block"].clone(),
                    s["allowed_addresses"].clone(),
                )
            })
            .collect();
        assert_eq!(
            settings,
            [
                (json!(true), json!(true), json!([])),
                (json!(true), json!(true), json!([])),
            ],
            "{}",
            app.db
        );
        let audit = app.audit_log().await;
        let change = audit
            .iter()
            .find(|e| e.entry.action == "sip2_station.settings")
            .expect("audited");
        assert_eq!(change.entry.subject, "sip2_station:sc02");
        let details: Value = serde_json::from_str(&change.entry.details).unwrap();
        assert_eq!(details["pin_required"], true);
        let doc = app.get("/openapi.json", None).await.expect(200, "");
        let operation = &doc.body["paths"]["/api/v1/sip2/stations/{username}"]["patch"];
        assert!(operation.is_object(), "PATCH documented");
        let schema = doc.body["components"]["schemas"]["StationBody"]["properties"].clone();
        for property in ["pin_required", "may_block", "allowed_addresses"] {
            assert!(schema.get(property).is_some(), "{property} documented");
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_station_needs_the_pin_to_lend() {
    on_every_backend_with_sip2(async |app: &TestApp| {
        let f = fixture(app).await;
        station(app, &f.staff, "sc01", json!({})).await;
        let mut raw = logged_in(app, "sc01").await;
        let card = &f.card;
        let audit_before = app.audit_log().await.len();
        // Every message that acts for or shows the reader, without `AD`: refused in its own
        // form, nothing done, nothing shown, nothing counted.
        for _ in 0..12 {
            let refused = raw.checkout(card, None, "T1").await;
            assert!(refused.starts_with("120NUN"), "{refused}");
            assert_eq!(field(&refused, "AF").as_deref(), Some(ENTER_PIN));
            assert_eq!(field(&refused, "BL"), None, "says nothing about the card");
        }
        let status = raw
            .call(&format!("23001{DATE}AO{LIBRARY}|AA{card}|AC|AD|"))
            .await;
        assert!(status.starts_with("24Y"), "{status}");
        assert_eq!(field(&status, "CQ").as_deref(), Some("N"));
        assert_eq!(field(&status, "AE").as_deref(), Some(""));
        assert_eq!(field(&status, "AF").as_deref(), Some(ENTER_PIN));
        let information = raw
            .call(&format!("63001{DATE}  Y       AO{LIBRARY}|AA{card}|"))
            .await;
        assert_eq!(field(&information, "AE").as_deref(), Some(""));
        assert_eq!(field(&information, "BE"), None);
        assert_eq!(field(&information, "CQ").as_deref(), Some("N"));
        for (message, refused) in [
            (
                format!("29NN{DATE}{BLANK}AO{LIBRARY}|AA{card}|ABT1|"),
                "300",
            ),
            (format!("65{DATE}AO{LIBRARY}|AA{card}|"), "660"),
            (
                format!("15+{DATE}BS{LIBRARY}|AO{LIBRARY}|AA{card}|ABT2|"),
                "160",
            ),
            (
                format!("37{DATE}0100HKDBV1.00|AO{LIBRARY}|AA{card}|"),
                "38N",
            ),
            (format!("35{DATE}AO{LIBRARY}|AA{card}|"), "36N"),
            (format!("01N{DATE}AO{LIBRARY}|ALkept|AA{card}|AC|"), "24Y"),
        ] {
            let answer = raw.call(&message).await;
            assert!(answer.starts_with(refused), "{message}: {answer}");
        }
        assert_eq!(app.loan_library("T1").await, None, "nothing lent");
        assert_eq!(app.audit_log().await.len(), audit_before, "{}", app.db);

        // A wrong PIN is refused and counted as before ...
        let wrong = raw.checkout(card, Some("0000"), "T1").await;
        assert!(wrong.starts_with("120NUN"), "{wrong}");
        assert_eq!(field(&wrong, "BL").as_deref(), Some("Y"));
        // ... and the right one lends: the twelve checkouts without a PIN counted nothing.
        let lent = raw.checkout(card, Some(PIN), "T1").await;
        assert!(lent.starts_with("121"), "{lent}");
        assert_eq!(app.loan_library("T1").await.as_deref(), Some(LIBRARY));
        let renewed = raw
            .call(&format!(
                "29NN{DATE}{BLANK}AO{LIBRARY}|AA{card}|ABT1|AD{PIN}|"
            ))
            .await;
        assert!(renewed.starts_with("301"), "{renewed}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_wrong_pins_at_a_station_that_needs_them_lock_the_pin() {
    on_every_backend_with_sip2(async |app: &TestApp| {
        let f = fixture(app).await;
        station(app, &f.staff, "sc01", json!({})).await;
        let mut raw = logged_in(app, "sc01").await;
        let mut now = hk("2021-06-01T10:00:00");
        for attempt in 1..=10 {
            now += time::Duration::hours(1);
            app.set_clock(now).await;
            let refused = raw.checkout(&f.card, Some("0000"), "T1").await;
            assert!(refused.starts_with("120"), "attempt {attempt}: {refused}");
        }
        now += time::Duration::days(1);
        app.set_clock(now).await;
        let refused = raw.checkout(&f.card, Some(PIN), "T1").await;
        assert!(refused.starts_with("120"), "locked: {refused}");
        app.pin_login(&f.card, PIN)
            .await
            .expect(401, "invalid_credentials");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_contact_details_without_a_pin() {
    on_every_backend_with_sip2(async |app: &TestApp| {
        let f = fixture(app).await;
        let card = &f.card;
        station(app, &f.staff, "open", json!({"pin_required": false})).await;
        station(app, &f.staff, "strict", json!({})).await;
        let information = |pin: &str| format!("63001{DATE}          AO{LIBRARY}|AA{card}|AC|{pin}");
        // A station that may act without PINs sees the reader, but not how to reach them.
        let mut open = logged_in(app, "open").await;
        let without = open.call(&information("")).await;
        assert_eq!(
            field(&without, "AE").as_deref(),
            Some("Chan Tai Man"),
            "{without}"
        );
        assert_eq!(field(&without, "CQ").as_deref(), Some("N"));
        for id in ["BE", "BF", "BD"] {
            assert_eq!(field(&without, id), None, "{id} in {without}");
        }
        assert!(
            !without.contains(EMAIL) && !without.contains(PHONE),
            "{without}"
        );
        // An empty AD is no PIN either; a wrong one shows nothing at all.
        let empty = open.call(&information("AD|")).await;
        assert_eq!(field(&empty, "BE"), None, "{empty}");
        let wrong = open.call(&information("AD0000|")).await;
        assert!(!wrong.contains(EMAIL) && !wrong.contains(PHONE), "{wrong}");
        assert_eq!(field(&wrong, "AE").as_deref(), Some(""));
        // With the PIN verified in that message: the email and the phone.
        for raw in [&mut open, &mut logged_in(app, "strict").await] {
            let with = raw.call(&information(&format!("AD{PIN}|"))).await;
            assert_eq!(field(&with, "CQ").as_deref(), Some("Y"), "{with}");
            assert_eq!(all(&with, "BE"), [EMAIL], "{with}");
            assert_eq!(all(&with, "BF"), [PHONE], "{with}");
        }
        // The next message without the PIN is back to no contact details.
        let again = open.call(&information("")).await;
        assert_eq!(field(&again, "BE"), None, "{again}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_station_may_not_block_by_default() {
    on_every_backend_with_sip2(async |app: &TestApp| {
        let f = fixture(app).await;
        let card = &f.card;
        station(app, &f.staff, "sc01", json!({})).await;
        let mut raw = logged_in(app, "sc01").await;
        let block = |pin: &str| format!("01N{DATE}AO{LIBRARY}|ALcard retained|AA{card}|AC|{pin}");
        let refused = raw.call(&block(&format!("AD{PIN}|"))).await;
        assert!(refused.starts_with("24"), "{refused}");
        assert_eq!(
            field(&refused, "AF").as_deref(),
            Some("This station may not block cards. Please ask staff.")
        );
        assert_eq!(field(&refused, "AE").as_deref(), Some(""));
        assert_eq!(blocked(app, &f).await, json!(false), "{}", app.db);
        assert!(
            !app.audit_log()
                .await
                .iter()
                .any(|e| e.entry.action == "sip2.block_patron")
        );

        // Allowed to block: the open connection is closed, so the station logs in again
        // under its new settings. It still needs the PIN, and a wrong one blocks nothing.
        app.patch(
            "/api/v1/sip2/stations/sc01",
            Some(&f.staff),
            json!({"may_block": true}),
        )
        .await
        .expect(200, "");
        assert_eq!(raw.recv().await, None, "closed by the change");
        let mut raw = logged_in(app, "sc01").await;
        let no_pin = raw.call(&block("")).await;
        assert_eq!(field(&no_pin, "AF").as_deref(), Some(ENTER_PIN));
        let wrong = raw.call(&block("AD0000|")).await;
        assert_eq!(field(&wrong, "BL").as_deref(), Some("Y"), "{wrong}");
        assert_eq!(blocked(app, &f).await, json!(false));
        let done = raw.call(&block(&format!("AD{PIN}|"))).await;
        assert!(done.starts_with("24Y"), "{done}");
        assert_eq!(blocked(app, &f).await, json!(true), "{}", app.db);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_pin_refuses_lending_at_a_station() {
    on_every_backend_with_sip2(async |app: &TestApp| {
        let f = fixture(app).await;
        let card = &f.card;
        station(app, &f.staff, "open", json!({"pin_required": false})).await;
        let mut raw = logged_in(app, "open").await;
        // Without a PIN, this station lends while the PIN is not locked.
        let lent = raw.checkout(card, None, "T1").await;
        assert!(lent.starts_with("121"), "{lent}");
        // Nine failures: not locked yet, still lending.
        let mut now = hk("2021-06-01T10:00:00");
        for _ in 1..=9 {
            now += time::Duration::hours(1);
            app.set_clock(now).await;
            let wrong = raw.patron_status(card, "0000").await;
            assert_eq!(field(&wrong, "CQ").as_deref(), Some("N"));
        }
        let lent = raw.checkout(card, None, "T2").await;
        assert!(lent.starts_with("121"), "nine failures: {lent}");
        // The tenth locks the PIN: no lending at the station, PIN or not.
        now += time::Duration::hours(1);
        app.set_clock(now).await;
        raw.patron_status(card, "0000").await;
        for pin in [None, Some(PIN)] {
            let refused = raw.checkout(card, pin, "T3").await;
            assert!(refused.starts_with("120NUN"), "{pin:?}: {refused}");
        }
        let refused = raw.checkout(card, None, "T3").await;
        assert_eq!(
            field(&refused, "AF").as_deref(),
            Some("Your PIN is locked. Please change it or ask staff.")
        );
        assert_eq!(app.loan_library("T3").await, None, "{}", app.db);
        let renewal = raw
            .call(&format!("29NN{DATE}{BLANK}AO{LIBRARY}|AA{card}|ABT1|"))
            .await;
        assert!(renewal.starts_with("300"), "{renewal}");
        let all_renewed = raw.call(&format!("65{DATE}AO{LIBRARY}|AA{card}|")).await;
        assert!(all_renewed.starts_with("660"), "{all_renewed}");
        // Returns still work: a locked PIN stops lending, not the library.
        let back = raw
            .call(&format!("09N{DATE}{DATE}APKLN|AO{LIBRARY}|ABT1|AC|"))
            .await;
        assert!(back.starts_with("101"), "{back}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_station_login_from_an_address_not_allowed_fails() {
    on_every_backend_with_sip2(async |app: &TestApp| {
        let f = fixture(app).await;
        station(
            app,
            &f.staff,
            "sc01",
            json!({"allowed_addresses": ["127.0.0.3"]}),
        )
        .await;
        let addr = app.sip2.expect("SIP2");
        let refused_before = app.security.count("sip2_connection_refused");
        let failed_before = app.security.count("station_login_failed");
        // From elsewhere: the right password fails like a wrong one, and counts.
        let mut elsewhere = Raw::connect_from("127.0.0.2", addr).await;
        assert_eq!(elsewhere.login("sc01", STATION_PASSWORD).await, "940");
        assert_eq!(elsewhere.login("sc01", "wrong-password-1").await, "940");
        assert_eq!(
            app.security.count("sip2_connection_refused"),
            refused_before + 2,
            "{}",
            app.db
        );
        assert_eq!(
            app.security.count("station_login_failed"),
            failed_before + 2
        );
        // Not logged in: anything else closes the connection.
        elsewhere
            .send(&format!("23001{DATE}AO{LIBRARY}|AA{}|AC|AD{PIN}|", f.card))
            .await;
        assert_eq!(elsewhere.recv().await, None);
        // From the allowed address it logs in.
        let mut here = Raw::connect_from("127.0.0.3", addr).await;
        assert_eq!(here.login("sc01", STATION_PASSWORD).await, "941");
        // A range: 127.0.0.0/30 holds .2 (and .3), not .4; the change closes `here`.
        app.patch(
            "/api/v1/sip2/stations/sc01",
            Some(&f.staff),
            json!({"allowed_addresses": ["127.0.0.0/30"]}),
        )
        .await
        .expect(200, "");
        assert_eq!(here.recv().await, None, "closed by the change");
        let mut two = Raw::connect_from("127.0.0.2", addr).await;
        assert_eq!(two.login("sc01", STATION_PASSWORD).await, "941");
        let mut four = Raw::connect_from("127.0.0.4", addr).await;
        assert_eq!(four.login("sc01", STATION_PASSWORD).await, "940");
        // Anywhere again.
        app.patch(
            "/api/v1/sip2/stations/sc01",
            Some(&f.staff),
            json!({"allowed_addresses": []}),
        )
        .await
        .expect(200, "");
        let mut four = Raw::connect_from("127.0.0.4", addr).await;
        assert_eq!(four.login("sc01", STATION_PASSWORD).await, "941");
    })
    .await;
}

/// Whether the fixture's reader is blocked, as staff see it.
async fn blocked(app: &TestApp, f: &Fixture) -> Value {
    app.get(&format!("/api/v1/patrons/{}", f.card), Some(&f.staff))
        .await
        .expect(200, "")
        .body["blocked"]
        .clone()
}

async fn on_every_backend_with_sip2(test: impl AsyncFn(&TestApp)) {
    crate::support::on_every_backend_with(true, true, test).await;
}
