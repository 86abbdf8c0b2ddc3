//! SIP2 end to end: the real server (HTTP and SIP2 listeners, a fresh database on every
//! backend), station accounts created over HTTP, and stations driven over TCP by the
//! `sip2` crate from crates.io (a client we did not write) and by hand-built messages.

use std::net::SocketAddr;
use std::time::Duration;

use serde_json::{Value, json};
use sip2::{Client, Connection, Message, ParamSet};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

use crate::support::{TestApp, hk, on_every_backend_with, standard_rules};

pub(crate) const STATION: &str = "sc01";
pub(crate) const STATION_PASSWORD: &str = "kiosk-pass-2026";
/// The station's library; the items' home is CEN.
pub(crate) const LIBRARY: &str = "KLN";
const PHONE: &str = "91234567";
const PIN: &str = "4567";
const NAME: &str = "Chan Tai Man";
/// A card number nobody has, as long as the readers' (14 digits).
const UNKNOWN_CARD: &str = "21999999999999";
/// A transaction date as stations send it (we answer with our own clock).
pub(crate) const DATE: &str = "20210601    100000";
/// The generic answer to an unknown card and to a PIN that did not verify.
const NOT_VERIFIED: &str = "Your card number or PIN is not right. Please ask staff.";

/// A library with two branches, the standard rules, two titles and a reader; the station
/// `sc01` lends from KLN. The clock is 1 June 2021, 10:00 in Hong Kong.
pub(crate) struct Fixture {
    staff: String,
    card: String,
    tao: i64,
    sorghum: i64,
}

pub(crate) async fn fixture(app: &TestApp) -> Fixture {
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
    let sorghum = app.title(&staff, "Red Sorghum").await;
    app.item(&staff, sorghum, "R1", "CEN").await;
    let card = app.reader(&staff, PHONE).await;
    create_station(app, &staff, STATION, LIBRARY).await;
    Fixture {
        staff,
        card,
        tao,
        sorghum,
    }
}

/// A station that may act without PINs and may block: these tests are about the messages,
/// not the station's settings (`sip2_security.rs` is).
async fn create_station(app: &TestApp, staff: &str, username: &str, library: &str) -> Value {
    app.post(
        "/api/v1/sip2/stations",
        Some(staff),
        json!({"username": username, "password": STATION_PASSWORD, "library_code": library,
               "pin_required": false, "may_block": true}),
    )
    .await
    .expect(201, "")
    .body
}

pub(crate) fn sip2_addr(app: &TestApp) -> SocketAddr {
    app.sip2.expect("the app serves SIP2")
}

// ---------------------------------------------------------------------------------------
// Hand-built messages over a raw socket.
// ---------------------------------------------------------------------------------------

/// `body` (ending in `AY<n>AZ`) with its checksum: the two's complement of the byte sum.
fn with_checksum(body: &str) -> String {
    let sum = body.bytes().fold(0u16, |s, b| s.wrapping_add(u16::from(b)));
    format!("{body}{:04X}", sum.wrapping_neg())
}

/// Whether a response's `AZ` checksum is right.
fn checksum_ok(response: &str) -> bool {
    let Some(at) = response.rfind("AZ") else {
        return false;
    };
    let (prefix, hex) = response.split_at(at + 2);
    let Ok(value) = u16::from_str_radix(hex, 16) else {
        return false;
    };
    prefix
        .bytes()
        .fold(0u16, |s, b| s.wrapping_add(u16::from(b)))
        .wrapping_add(value)
        == 0
}

/// Length of the fixed part of a response (docs/sip2.md, Fixed parts of the responses).
fn fixed_len(response: &str) -> usize {
    match &response[..2] {
        "94" => 3,
        "98" => 36,
        "24" => 37,
        "64" => 61,
        "12" | "30" | "10" => 24,
        "66" => 29,
        "16" => 22,
        "36" | "38" => 21,
        "18" => 26,
        other => panic!("unexpected response {other}: {response:?}"),
    }
}

/// The variable fields of a response, in order (the `AY`/`AZ` trailer left out).
fn fields(response: &str) -> Vec<(String, String)> {
    response[fixed_len(response)..]
        .split('|')
        .filter(|f| f.len() >= 2 && !f.starts_with("AY") && !f.starts_with("AZ"))
        .map(|f| (f[..2].to_owned(), f[2..].to_owned()))
        .collect()
}

/// The first value of field `id`.
pub(crate) fn field(response: &str, id: &str) -> Option<String> {
    fields(response)
        .into_iter()
        .find(|(i, _)| i == id)
        .map(|(_, v)| v)
}

/// Every value of field `id`.
pub(crate) fn all(response: &str, id: &str) -> Vec<String> {
    fields(response)
        .into_iter()
        .filter(|(i, _)| i == id)
        .map(|(_, v)| v)
        .collect()
}

/// A station's connection, one line at a time.
pub(crate) struct Raw {
    reader: BufReader<OwnedReadHalf>,
    writer: OwnedWriteHalf,
}

impl Raw {
    pub(crate) async fn connect(addr: SocketAddr) -> Raw {
        Self::over(TcpStream::connect(addr).await.expect("connect"))
    }

    /// A connection from `from`, an address of 127.0.0.0/8 (they all reach the loopback
    /// listener): a station somewhere else.
    pub(crate) async fn connect_from(from: &str, addr: SocketAddr) -> Raw {
        let socket = tokio::net::TcpSocket::new_v4().expect("socket");
        socket
            .bind(SocketAddr::new(from.parse().expect("an address"), 0))
            .expect("bind");
        Self::over(socket.connect(addr).await.expect("connect"))
    }

    /// A connection from the local address `from` (any 127.0.0.0/8 address reaches the
    /// loopback listener), so the server sees another source.
    pub(crate) async fn connect_from_ip(addr: SocketAddr, from: std::net::IpAddr) -> Raw {
        let socket = tokio::net::TcpSocket::new_v4().expect("socket");
        socket.bind(SocketAddr::new(from, 0)).expect("bind");
        let target = SocketAddr::new(std::net::Ipv4Addr::LOCALHOST.into(), addr.port());
        Raw::over(socket.connect(target).await.expect("connect"))
    }

    fn over(stream: TcpStream) -> Raw {
        let (read, write) = stream.into_split();
        Raw {
            reader: BufReader::new(read),
            writer: write,
        }
    }

    async fn logged_in(addr: SocketAddr) -> Raw {
        let mut raw = Raw::connect(addr).await;
        assert_eq!(raw.login(STATION, STATION_PASSWORD).await, "941");
        raw
    }

    pub(crate) async fn send(&mut self, line: &str) {
        self.writer
            .write_all(format!("{line}\r").as_bytes())
            .await
            .expect("send");
    }

    /// The next response without its CR; `None` once the server has closed.
    pub(crate) async fn recv(&mut self) -> Option<String> {
        let mut buf = Vec::new();
        let read = tokio::time::timeout(
            Duration::from_secs(20),
            self.reader.read_until(b'\r', &mut buf),
        )
        .await
        .expect("an answer or a close within 20 s");
        match read {
            Ok(0) | Err(_) => None,
            Ok(_) => Some(
                String::from_utf8(buf)
                    .expect("UTF-8")
                    .trim_end_matches('\r')
                    .to_owned(),
            ),
        }
    }

    pub(crate) async fn call(&mut self, line: &str) -> String {
        self.send(line).await;
        self.recv()
            .await
            .unwrap_or_else(|| panic!("no answer to {line:?}"))
    }

    pub(crate) async fn login(&mut self, user: &str, password: &str) -> String {
        self.call(&format!("9300CN{user}|CO{password}|CP{LIBRARY}|"))
            .await
    }

    pub(crate) async fn patron_status(&mut self, card: &str, pin: &str) -> String {
        self.call(&format!("23001{DATE}AO{LIBRARY}|AA{card}|AC|AD{pin}|"))
            .await
    }

    pub(crate) async fn checkout(&mut self, card: &str, pin: Option<&str>, item: &str) -> String {
        let pin = pin.map(|p| format!("AD{p}|")).unwrap_or_default();
        let blank = " ".repeat(18);
        self.call(&format!(
            "11YN{DATE}{blank}AO{LIBRARY}|AA{card}|AB{item}|AC|{pin}"
        ))
        .await
    }
}

// ---------------------------------------------------------------------------------------
// The third-party client (blocking: it runs on the blocking pool).
// ---------------------------------------------------------------------------------------

fn params(card: &str, pin: &str) -> ParamSet {
    let mut p = ParamSet::new();
    p.set_sip_user(STATION)
        .set_sip_pass(STATION_PASSWORD)
        .set_location(LIBRARY)
        .set_institution(LIBRARY)
        .set_terminal_pwd("")
        .set_patron_id(card)
        .set_patron_pwd(pin);
    p
}

/// Runs `f` with a logged-in `sip2::Client` on the blocking pool.
async fn with_client<T: Send + 'static>(
    addr: SocketAddr,
    card: &str,
    f: impl FnOnce(&mut Client, ParamSet) -> T + Send + 'static,
) -> T {
    let p = params(card, PIN);
    tokio::task::spawn_blocking(move || {
        let mut client = Client::new(&addr.to_string()).expect("connect");
        assert!(client.login(&p).expect("94").ok(), "941");
        f(&mut client, p)
    })
    .await
    .expect("client thread")
}

/// Runs `f` with a raw `sip2::Connection` logged in as the station.
async fn with_connection<T: Send + 'static>(
    addr: SocketAddr,
    f: impl FnOnce(&mut Connection) -> T + Send + 'static,
) -> T {
    tokio::task::spawn_blocking(move || {
        let mut conn = Connection::new(&addr.to_string()).expect("connect");
        let login = Message::from_values(
            "93",
            &["0", "0"],
            &[("CN", STATION), ("CO", STATION_PASSWORD)],
        )
        .expect("93");
        let answer = conn.sendrecv(&login).expect("94");
        assert_eq!(answer.fixed_fields()[0].value(), "1", "941");
        f(&mut conn)
    })
    .await
    .expect("client thread")
}

fn values(m: &Message, id: &str) -> Vec<String> {
    m.fields()
        .iter()
        .filter(|f| f.code() == id)
        .map(|f| f.value().to_owned())
        .collect()
}

fn value(m: &Message, id: &str) -> Option<String> {
    m.get_field_value(id).map(str::to_owned)
}

// ---------------------------------------------------------------------------------------
// Station accounts over HTTP.
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn station_accounts_are_administered_by_staff_over_http() {
    on_every_backend_with(true, true, async |app: &TestApp| {
        let f = fixture(app).await;
        let stations = app
            .get("/api/v1/sip2/stations", Some(&f.staff))
            .await
            .expect(200, "");
        let listed = &stations.body["stations"];
        assert_eq!(listed.as_array().map(Vec::len), Some(1), "{}", app.db);
        assert_eq!(listed[0]["username"], STATION);
        assert_eq!(listed[0]["library_code"], LIBRARY);
        assert_eq!(listed[0]["created_by"], "admin");
        assert_eq!(listed[0]["created_at"], "2021-06-01T10:00:00+08:00");
        let text = stations.body.to_string();
        assert!(
            !text.contains("argon2") && !text.contains("password"),
            "never the password or its hash: {text}"
        );

        // Every rule broken is reported.
        let post = |body: Value| app.post("/api/v1/sip2/stations", Some(&f.staff), body);
        let bad = post(json!({"username": "SC 02", "password": "short|", "library_code": "K L"}))
            .await
            .expect(422, "validation_failed");
        assert_eq!(
            bad.violations(),
            [
                "username_invalid",
                "password_too_short",
                "password_invalid",
                "library_code_invalid"
            ]
        );
        let long = post(json!({"username": "sc02", "password": "x".repeat(129),
                               "library_code": LIBRARY}))
        .await
        .expect(422, "validation_failed");
        assert_eq!(long.violations(), ["password_too_long"]);
        let unknown = post(json!({"username": "sc02", "password": STATION_PASSWORD,
                                  "library_code": "NOPE"}))
        .await
        .expect(422, "validation_failed");
        assert_eq!(unknown.violations(), ["unknown_library"]);
        post(
            json!({"username": STATION, "password": "another-password-1",
                    "library_code": "CEN"}),
        )
        .await
        .expect(409, "already_exists");
        post(json!({"username": "sc02", "password": 12, "library_code": LIBRARY}))
            .await
            .expect(400, "bad_request");
        // A body carrying a secret: the credential routes' 8 KiB limit.
        post(json!({"username": "sc02", "password": "x".repeat(9 * 1024),
                    "library_code": LIBRARY}))
        .await
        .expect(413, "payload_too_large");

        // Staff only.
        let reader = app.pin_login(&f.card, PIN).await.expect(200, "").token();
        app.get("/api/v1/sip2/stations", Some(&reader))
            .await
            .expect(403, "forbidden");
        app.post(
            "/api/v1/sip2/stations",
            Some(&reader),
            json!({"username": "sc03", "password": STATION_PASSWORD, "library_code": LIBRARY}),
        )
        .await
        .expect(403, "forbidden");
        app.delete("/api/v1/sip2/stations/sc01", Some(&reader))
            .await
            .expect(403, "forbidden");
        app.get("/api/v1/sip2/stations", None)
            .await
            .expect(401, "unauthorized");

        let created = create_station(app, &f.staff, "sc02", "CEN").await;
        assert_eq!(
            created,
            json!({"username": "sc02", "library_code": "CEN",
                   "created_at": "2021-06-01T10:00:00+08:00", "created_by": "admin",
                   "pin_required": false, "may_block": true, "allowed_addresses": []})
        );
        app.delete("/api/v1/sip2/stations/sc02", Some(&f.staff))
            .await
            .expect(204, "");
        app.delete("/api/v1/sip2/stations/sc02", Some(&f.staff))
            .await
            .expect(404, "not_found");
        app.delete("/api/v1/sip2/stations/NOT%20ONE", Some(&f.staff))
            .await
            .expect(404, "not_found");
        let names: Vec<Value> = app
            .get("/api/v1/sip2/stations", Some(&f.staff))
            .await
            .expect(200, "")
            .body["stations"]
            .as_array()
            .expect("a list")
            .iter()
            .map(|s| s["username"].clone())
            .collect();
        assert_eq!(names, [json!(STATION)]);

        let audit: Vec<(String, String)> = app
            .audit_log()
            .await
            .into_iter()
            .filter(|e| e.entry.action.starts_with("sip2_station."))
            .map(|e| (e.entry.action, e.entry.subject))
            .collect();
        assert_eq!(
            audit,
            [
                ("sip2_station.delete".into(), "sip2_station:sc02".into()),
                ("sip2_station.create".into(), "sip2_station:sc02".into()),
                ("sip2_station.create".into(), "sip2_station:sc01".into()),
            ]
        );
        let doc = app.get("/openapi.json", None).await.expect(200, "");
        for path in ["/api/v1/sip2/stations", "/api/v1/sip2/stations/{username}"] {
            assert!(doc.body["paths"].get(path).is_some(), "{path} documented");
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_station_logs_in_with_its_password_and_the_third_failure_closes() {
    on_every_backend_with(true, true, async |app: &TestApp| {
        let f = fixture(app).await;
        let addr = sip2_addr(app);

        let mut raw = Raw::connect(addr).await;
        assert_eq!(raw.login(STATION, "wrong-password-1").await, "940");
        assert_eq!(raw.login("nobody", STATION_PASSWORD).await, "940");
        // Still open, still logged out: 99 is answered with the configured institution.
        let status = raw.call("9900802.00").await;
        assert!(status.starts_with("98YYYYNN"), "{status}");
        assert_eq!(field(&status, "AO").as_deref(), Some("LIBRARY"));
        // The third refusal on the connection answers 940 and closes it.
        assert_eq!(raw.login(STATION, "wrong-password-3").await, "940");
        assert_eq!(raw.recv().await, None, "closed after the third 940");

        // Before a login, anything but 93, 99 and 97 closes the connection unanswered.
        let mut raw = Raw::connect(addr).await;
        raw.send(&format!("23001{DATE}AO{LIBRARY}|AA{}|AC|AD{PIN}|", f.card))
            .await;
        assert_eq!(raw.recv().await, None);

        // The right password, with checksums: the answer echoes AY with its own AZ.
        let mut raw = Raw::connect(addr).await;
        let login = raw
            .call(&with_checksum(&format!(
                "9300CN{STATION}|CO{STATION_PASSWORD}|CP{LIBRARY}|AY0AZ"
            )))
            .await;
        assert!(login.starts_with("941AY0AZ"), "{login}");
        assert!(checksum_ok(&login), "{login}");
        // Logged in, 98 names the station's library and location.
        let status = raw.call(&with_checksum("9900802.00AY1AZ")).await;
        assert!(checksum_ok(&status), "{status}");
        assert_eq!(field(&status, "AO").as_deref(), Some(LIBRARY));
        assert_eq!(field(&status, "AN").as_deref(), Some(LIBRARY));
        assert_eq!(field(&status, "BX").as_deref(), Some("YYYYYYYYYYYNNYYY"));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_station_closes_its_connections_only() {
    on_every_backend_with(true, true, async |app: &TestApp| {
        let f = fixture(app).await;
        let addr = sip2_addr(app);
        create_station(app, &f.staff, "sc02", LIBRARY).await;
        let mut doomed = Raw::logged_in(addr).await;
        let mut other = Raw::connect(addr).await;
        assert_eq!(other.login("sc02", STATION_PASSWORD).await, "941");
        assert!(doomed.call("9900802.00").await.starts_with("98"));

        app.delete("/api/v1/sip2/stations/sc01", Some(&f.staff))
            .await
            .expect(204, "");
        assert_eq!(doomed.recv().await, None, "sc01's connection is closed");
        assert!(
            other.call("9900802.00").await.starts_with("98"),
            "sc02 stays"
        );
        let audit = app.audit_log().await;
        assert_eq!(audit[0].entry.action, "sip2_station.delete");
        assert_eq!(audit[0].entry.details, r#"{"connections_closed":1}"#);
        let mut again = Raw::connect(addr).await;
        assert_eq!(again.login(STATION, STATION_PASSWORD).await, "940");
    })
    .await;
}

// ---------------------------------------------------------------------------------------
// The third-party client.
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sip2_crate_checks_readers_and_lends_from_the_stations_library() {
    on_every_backend_with(true, true, async |app: &TestApp| {
        let f = fixture(app).await;
        let addr = sip2_addr(app);

        let (status, right, wrong, empty) = with_client(addr, &f.card, |c, p| {
            let status = c.sc_status().expect("98");
            let right = c.patron_status(&p).expect("24");
            let mut wrong = p.clone();
            wrong.set_patron_pwd("9999");
            let wrong = c.patron_status(&wrong).expect("24");
            let mut empty = p.clone();
            empty.set_patron_pwd("");
            let empty = c.patron_status(&empty).expect("24");
            let shown = |ok: bool, m: &Message| {
                (
                    ok,
                    value(m, "CQ"),
                    value(m, "AE"),
                    m.fixed_fields()[0].value().to_owned(),
                )
            };
            (
                (
                    status.ok(),
                    value(status.msg(), "AO"),
                    value(status.msg(), "BX"),
                ),
                shown(right.ok(), right.msg()),
                shown(wrong.ok(), wrong.msg()),
                shown(empty.ok(), empty.msg()),
            )
        })
        .await;
        assert_eq!(
            status,
            (true, Some(LIBRARY.into()), Some("YYYYYYYYYYYNNYYY".into())),
            "{}",
            app.db
        );
        let good = " ".repeat(14);
        assert_eq!(
            right,
            (true, Some("Y".into()), Some(NAME.into()), good.clone())
        );
        // A wrong PIN: valid patron, PIN not valid, nothing personal.
        assert_eq!(
            wrong,
            (
                true,
                Some("N".into()),
                Some(String::new()),
                format!("YYYY{}", " ".repeat(10))
            )
        );
        // An empty AD is "not supplied": never a match, but not a failure either.
        assert_eq!(empty, (true, Some("N".into()), Some(NAME.into()), good));

        // Checkout and patron information with the charged items.
        let (out, again, info) = with_client(addr, &f.card, |c, p| {
            let mut p1 = p.clone();
            p1.set_item_id("T1");
            let out = c.checkout(&p1).expect("12");
            let again = c.checkout(&p1).expect("12");
            let mut p2 = p.clone();
            p2.set_item_id("R1");
            assert!(c.checkout(&p2).expect("12").ok());
            let mut q = p.clone();
            q.set_summary(2).set_start_item(2).set_end_item(2);
            let info = c.patron_info(&q).expect("64");
            (
                (
                    out.ok(),
                    value(out.msg(), "AJ"),
                    value(out.msg(), "AH"),
                    value(out.msg(), "AA"),
                ),
                (again.ok(), value(again.msg(), "AF")),
                (
                    info.ok(),
                    value(info.msg(), "CQ"),
                    values(info.msg(), "AU"),
                    info.msg().fixed_fields()[5].value().to_owned(),
                    value(info.msg(), "CB"),
                ),
            )
        })
        .await;
        assert_eq!(
            out,
            (
                true,
                Some("Tao Te Ching".into()),
                // 14 days from 1 June, 23:59:59 local.
                Some("20210615    235959".into()),
                Some(f.card.clone())
            )
        );
        assert_eq!(
            again,
            (false, Some("The item is not available for loan.".into()))
        );
        // BP..BQ = 2..2 of the charged items; the charged count is both loans; CB the quota.
        assert_eq!(
            info,
            (
                true,
                Some("Y".into()),
                vec!["R1".to_owned()],
                "0002".to_owned(),
                Some("0010".into())
            )
        );
        // The station lends from its own library, not the item's home.
        assert_eq!(app.loan_library("T1").await.as_deref(), Some(LIBRARY));

        // Renewal through the crate's raw connection, nine days later.
        app.set_clock(hk("2021-06-10T10:00:00")).await;
        let card = f.card.clone();
        let renewed = with_connection(addr, move |conn| {
            let blank = " ".repeat(18);
            let renew = Message::from_values(
                "29",
                &["N", "N", DATE, &blank],
                &[("AO", LIBRARY), ("AA", &card), ("AD", PIN), ("AB", "T1")],
            )
            .expect("29");
            let resp = conn.sendrecv(&renew).expect("30");
            let fixed: Vec<String> = resp
                .fixed_fields()
                .iter()
                .map(|f| f.value().to_owned())
                .collect();
            (fixed, resp.get_field_value("AH").map(str::to_owned))
        })
        .await;
        assert_eq!(renewed.0[..4], ["1", "Y", "N", "N"]);
        assert_eq!(
            renewed.1.as_deref(),
            Some("20210624    235959"),
            "from 10 June"
        );

        // Checkin through the crate: the borrower's card comes back.
        let back = with_client(addr, &f.card, |c, p| {
            let mut p = p.clone();
            p.set_item_id("T1");
            let back = c.checkin(&p).expect("10");
            let again = c.checkin(&p).expect("10");
            (
                back.ok(),
                value(back.msg(), "AA"),
                value(back.msg(), "AQ"),
                again.ok(),
                value(again.msg(), "AF"),
            )
        })
        .await;
        assert_eq!(
            back,
            (
                true,
                Some(f.card.clone()),
                Some("CEN".into()),
                false,
                Some("The item is not on loan.".into())
            )
        );
        assert_eq!(app.loan_library("T1").await, None);

        // Audited like the counter's actions, with the channel and the station.
        let audit: Vec<(String, Option<i64>, Value)> = app
            .audit_log()
            .await
            .into_iter()
            .filter(|e| e.entry.action.starts_with("circulation."))
            .map(|e| {
                (
                    e.entry.action,
                    e.entry.staff.map(|s| s.get()),
                    serde_json::from_str(&e.entry.details).expect("JSON details"),
                )
            })
            .collect();
        let actions: Vec<&str> = audit.iter().map(|(a, _, _)| a.as_str()).collect();
        assert_eq!(
            actions,
            [
                "circulation.checkin",
                "circulation.renew",
                "circulation.checkout",
                "circulation.checkout"
            ]
        );
        for (action, staff, details) in &audit {
            assert_eq!(*staff, None, "{action}");
            assert_eq!(details["channel"], "sip2", "{action}");
            assert_eq!(details["station"], STATION, "{action}");
        }
        assert_eq!(audit[3].2["library_code"], LIBRARY);
        assert_eq!(audit[3].2["item_barcode"], "T1");
        let _ = (f.tao, f.sorghum);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fees_are_paid_through_the_ledger_in_hong_kong_dollars() {
    on_every_backend_with(true, true, async |app: &TestApp| {
        let f = fixture(app).await;
        let addr = sip2_addr(app);
        app.checkout(&f.staff, &f.card, "T2", "CEN")
            .await
            .expect(201, "");
        // Due 15 June; returned 20 June: 5 days at HK$1.50.
        app.set_clock(hk("2021-06-20T10:00:00")).await;
        // Staff sessions last 12 hours: log in again.
        let staff = app.staff_token().await;
        let back = app.checkin(&staff, "T2", "CEN", None).await.expect(200, "");
        assert_eq!(back.body["fine_cents"], 750);

        let usd = with_client(addr, &f.card, |c, p| {
            let mut p = p.clone();
            p.set_pay_amount("2.50").set_transaction_id("T-77");
            // The crate always says USD: refused, the currency named.
            let usd = c.fee_paid(&p).expect("38");
            (
                usd.msg().fixed_fields()[0].value().to_owned(),
                value(usd.msg(), "AF"),
            )
        })
        .await;
        let card = f.card.clone();
        let (too_much, paid) = with_connection(addr, move |conn| {
            let mut pay = |amount: &str| {
                let m = Message::from_values(
                    "37",
                    &[DATE, "01", "00", "HKD"],
                    &[
                        ("AO", LIBRARY),
                        ("AA", card.as_str()),
                        ("AD", PIN),
                        ("BV", amount),
                        ("BK", "T-78"),
                    ],
                )
                .expect("37");
                let m = conn.sendrecv(&m).expect("38");
                (
                    m.fixed_fields()[0].value().to_owned(),
                    m.get_field_value("AF").map(str::to_owned),
                    m.get_field_value("BK").map(str::to_owned),
                )
            };
            let too_much = pay("7.51");
            (too_much, pay("2.50"))
        })
        .await;
        assert_eq!(
            usd,
            ("N".into(), Some("Payments are taken in HKD.".into())),
            "{}",
            app.db
        );
        assert_eq!(
            too_much,
            (
                "N".into(),
                Some("HK$7.51 is more than the fines to pay (HK$7.50).".into()),
                Some("T-78".into())
            )
        );
        assert_eq!(
            paid,
            (
                "Y".into(),
                Some("Still outstanding: 5.00".into()),
                Some("T-78".into())
            )
        );
        // The same ledger the counter sees.
        let record = app
            .get(&format!("/api/v1/patrons/{}", f.card), Some(&staff))
            .await
            .expect(200, "");
        assert_eq!(record.body["outstanding_cents"], 500);
        let payment = app
            .audit_log()
            .await
            .into_iter()
            .find(|e| e.entry.action == "fine.payment")
            .expect("the payment is audited");
        let details: Value = serde_json::from_str(&payment.entry.details).unwrap();
        assert_eq!(
            details,
            json!({"amount_cents": 250, "transaction_id": "T-78", "channel": "sip2",
                   "station": STATION})
        );
    })
    .await;
}

// ---------------------------------------------------------------------------------------
// Hand-built messages: what the crate does not send.
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renew_all_holds_end_session_resend_and_checksums() {
    on_every_backend_with(true, true, async |app: &TestApp| {
        let f = fixture(app).await;
        let mut raw = Raw::logged_in(sip2_addr(app)).await;
        let card = &f.card;

        // A bad checksum: 96, and the connection stays.
        assert_eq!(raw.call("9900802.00AY1AZ0000").await, "96AZFEF6");
        // Resend: the last answer again, byte for byte (a 96 is not one).
        assert_eq!(raw.call("97").await, "941");
        let status = raw.call("9900802.00").await;
        assert_eq!(raw.call("97AZFEF5").await, status);

        // Holds: placed on the title of a copy, queued at the station's library.
        let hold = |mode: char, item: &str| {
            format!("15{mode}{DATE}BS{LIBRARY}|BY2|AO{LIBRARY}|AA{card}|AD{PIN}|AB{item}|")
        };
        let placed = raw.call(&hold('+', "T3")).await;
        assert!(placed.starts_with("161N"), "{placed}");
        assert_eq!(field(&placed, "BR").as_deref(), Some("1"));
        assert_eq!(field(&placed, "BS").as_deref(), Some(LIBRARY));
        let twice = raw.call(&hold('+', "T1")).await;
        assert!(twice.starts_with("160N"), "{twice}");
        assert_eq!(
            field(&twice, "AF").as_deref(),
            Some("The reader already has a hold on this title.")
        );
        let cancelled = raw.call(&hold('-', "T2")).await;
        assert!(cancelled.starts_with("161N"), "{cancelled}");
        let gone = raw.call(&hold('-', "T2")).await;
        assert!(gone.starts_with("160N"), "{gone}");
        assert_eq!(
            field(&gone, "AF").as_deref(),
            Some("You have no hold on this title.")
        );
        let nothing = raw.call(&hold('+', "NOPE")).await;
        assert!(nothing.starts_with("160N"), "{nothing}");
        assert_eq!(field(&nothing, "AF").as_deref(), Some("Item not found"));

        // Renew all: one loan renewed, one refused because another reader holds the title.
        assert!(raw.checkout(card, None, "T1").await.starts_with("121"));
        assert!(raw.checkout(card, None, "R1").await.starts_with("121"));
        let other = app.reader(&f.staff, "92345678").await;
        let other_session = app.reader_session(&other, "92345678").await;
        app.post(
            "/api/v1/me/holds",
            Some(&other_session),
            json!({"title_id": f.sorghum, "pickup_library": "CEN"}),
        )
        .await
        .expect(201, "");
        app.set_clock(hk("2021-06-10T10:00:00")).await;
        let all_renewed = raw
            .call(&format!("65{DATE}AO{LIBRARY}|AA{card}|AD{PIN}|"))
            .await;
        assert!(all_renewed.starts_with("66100010001"), "{all_renewed}");
        assert_eq!(all(&all_renewed, "BM"), ["T1"]);
        assert_eq!(all(&all_renewed, "BN"), ["R1"]);
        assert_eq!(
            all(&all_renewed, "AF"),
            ["R1: Another reader has reserved the title."]
        );
        let wrong = raw
            .call(&format!("65{DATE}AO{LIBRARY}|AA{card}|AD0000|"))
            .await;
        assert!(wrong.starts_with("66000000000"), "{wrong}");

        // The same checkout line again with the same AY and AZ: the answer is replayed,
        // not re-run (a second run would be refused: the copy is out).
        let checkout = with_checksum(&format!(
            "11YN{DATE}{}AO{LIBRARY}|AA{card}|AB{}|AC|AY4AZ",
            " ".repeat(18),
            "T2"
        ));
        let first = raw.call(&checkout).await;
        assert!(first.starts_with("121"), "{first}");
        assert!(checksum_ok(&first), "{first}");
        assert_eq!(raw.call(&checkout).await, first);
        let lent_t2 = app
            .audit_log()
            .await
            .into_iter()
            .filter(|e| {
                e.entry.action == "circulation.checkout" && e.entry.details.contains(r#""T2""#)
            })
            .count();
        assert_eq!(lent_t2, 1, "executed once");

        // End of the reader's session: the PIN is checked when given.
        let end = |pin: &str| format!("35{DATE}AO{LIBRARY}|AA{card}|AD{pin}|");
        assert!(raw.call(&end(PIN)).await.starts_with("36Y"));
        let ended = raw.call(&end("0000")).await;
        assert!(ended.starts_with("36N"), "{ended}");
        assert_eq!(field(&ended, "AF").as_deref(), Some(NOT_VERIFIED));

        // Item information.
        let item = raw.call(&format!("17{DATE}AO{LIBRARY}|ABT1|")).await;
        assert!(item.starts_with("1804"), "on loan: {item}");
        assert_eq!(field(&item, "AJ").as_deref(), Some("Tao Te Ching"));
        assert_eq!(field(&item, "AH").as_deref(), Some("20210624    235959"));

        // Block patron (vector 18): answered with privileges denied, recorded for staff,
        // and later checkouts are refused on every channel until staff lift the block.
        let blocked = raw
            .call(&format!(
                "01N{DATE}AO{LIBRARY}|ALcard retained|AA{card}|AC|"
            ))
            .await;
        assert!(blocked.starts_with("24Y"), "{blocked}");
        let audit = app.audit_log().await;
        assert_eq!(audit[0].entry.action, "sip2.block_patron");
        assert!(audit[0].entry.details.contains("card retained"));
        // The morning's staff session has expired on the moved clock: log in again.
        let staff = app.staff_token().await;
        app.item(&staff, f.sorghum, "R2", "CEN").await;
        let refused = raw.checkout(card, None, "R2").await;
        assert!(refused.starts_with("120"), "{refused}");
        let reason = field(&refused, "AF").unwrap_or_default();
        assert!(reason.to_lowercase().contains("suspended"), "{refused}");
        let status = raw
            .call(&format!("23001{DATE}AO{LIBRARY}|AA{card}|AC|AD{PIN}|"))
            .await;
        assert!(
            status.starts_with("24Y"),
            "charge privileges denied: {status}"
        );
        app.checkout(&staff, card, "R2", "CEN")
            .await
            .expect(409, "checkout_refused");
        let record = app
            .get(&format!("/api/v1/patrons/{card}"), Some(&staff))
            .await
            .expect(200, "");
        assert_eq!(record.body["blocked"], true);
        app.delete(&format!("/api/v1/patrons/{card}/block"), Some(&staff))
            .await
            .expect(204, "");
        app.delete(&format!("/api/v1/patrons/{card}/block"), Some(&staff))
            .await
            .expect(404, "not_found");
        let record = app
            .get(&format!("/api/v1/patrons/{card}"), Some(&staff))
            .await
            .expect(200, "");
        assert_eq!(record.body["blocked"], false);
        let lent = raw.checkout(card, None, "R2").await;
        assert!(lent.starts_with("121"), "lifted: {lent}");
    })
    .await;
}

// ---------------------------------------------------------------------------------------
// The same rules as HTTP.
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_checkout_is_refused_over_sip2_for_the_reason_http_gives() {
    on_every_backend_with(true, true, async |app: &TestApp| {
        let f = fixture(app).await;
        let mut raw = Raw::logged_in(sip2_addr(app)).await;

        // The quota: one loan for adults.
        app.rules(&f.staff, json!({"category": "adult"}), json!({"quota": 1}))
            .await
            .expect(200, "");
        app.checkout(&f.staff, &f.card, "T1", "CEN")
            .await
            .expect(201, "");
        app.checkout(&f.staff, &f.card, "T2", LIBRARY)
            .await
            .refused("checkout_refused", "quota_reached");
        let refused = raw.checkout(&f.card, Some(PIN), "T2").await;
        assert!(refused.starts_with("120NUN"), "{}: {refused}", app.db);
        assert_eq!(
            field(&refused, "AF").as_deref(),
            Some("The reader has reached the loan quota.")
        );
        assert_eq!(field(&refused, "BL").as_deref(), Some("Y"));
        let status = raw.patron_status(&f.card, PIN).await;
        // Charge privileges denied (0), too many items charged (5).
        assert_eq!(&status[2..16], "Y    Y        ", "{status}");
        assert_eq!(
            all(&status, "AF"),
            ["You have reached your loan quota (1)."]
        );

        // Fines at the blocking threshold: returned 5 days late (HK$7.50 > HK$3.00).
        app.rules(
            &f.staff,
            json!({"category": "adult"}),
            json!({"quota": null}),
        )
        .await
        .expect(200, "");
        app.rules(&f.staff, json!({}), json!({"block_threshold_cents": 300}))
            .await
            .expect(200, "");
        app.set_clock(hk("2021-06-20T10:00:00")).await;
        let staff = app.staff_token().await;
        app.checkin(&staff, "T1", "CEN", None).await.expect(200, "");
        app.checkout(&staff, &f.card, "T2", LIBRARY)
            .await
            .refused("checkout_refused", "fines_over_limit");
        let refused = raw.checkout(&f.card, None, "T2").await;
        assert!(refused.starts_with("120NUN"), "{refused}");
        assert_eq!(
            field(&refused, "AF").as_deref(),
            Some("Outstanding charges are at or over the limit.")
        );
        let status = raw.patron_status(&f.card, PIN).await;
        // Charge, renewal and hold privileges denied; excessive fines (10); BV the amount.
        assert_eq!(&status[2..16], "YY Y      Y   ", "{status}");
        assert_eq!(field(&status, "BV").as_deref(), Some("7.50"));
        assert_eq!(field(&status, "BH").as_deref(), Some("HKD"));
        // Paying at the station lifts the block, as at the counter.
        let paid = raw
            .call(&format!(
                "37{DATE}0100HKDBV7.50|AO{LIBRARY}|AA{}|AD{PIN}|",
                f.card
            ))
            .await;
        assert!(paid.starts_with("38Y"), "{paid}");
        assert!(
            raw.checkout(&f.card, Some(PIN), "T2")
                .await
                .starts_with("121")
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_wrong_pins_over_sip2_lock_the_pin_on_the_web_too() {
    on_every_backend_with(true, true, async |app: &TestApp| {
        let f = fixture(app).await;
        let mut raw = Raw::logged_in(sip2_addr(app)).await;
        let mut now = hk("2021-06-01T10:00:00");
        for attempt in 1..=10 {
            // Past the throttling delay each time, so every attempt is counted.
            now += time::Duration::hours(1);
            app.set_clock(now).await;
            let wrong = raw.patron_status(&f.card, "9999").await;
            assert_eq!(
                field(&wrong, "CQ").as_deref(),
                Some("N"),
                "attempt {attempt}"
            );
        }
        now += time::Duration::days(2);
        app.set_clock(now).await;
        // Locked: the right PIN is refused at the station and on the web alike.
        let right = raw.patron_status(&f.card, PIN).await;
        assert_eq!(field(&right, "CQ").as_deref(), Some("N"), "{right}");
        assert_eq!(field(&right, "AE").as_deref(), Some(""));
        app.pin_login(&f.card, PIN)
            .await
            .expect(401, "invalid_credentials");
        let refused = raw.checkout(&f.card, Some(PIN), "T1").await;
        assert!(refused.starts_with("120NUN"), "{refused}");
        assert_eq!(field(&refused, "AF").as_deref(), Some(NOT_VERIFIED));
        // The Password (still the default) works.
        app.login(&f.card, PIN).await.expect(200, "");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_card_and_a_wrong_pin_answer_in_the_same_shape() {
    on_every_backend_with(true, true, async |app: &TestApp| {
        let f = fixture(app).await;
        assert_eq!(f.card.len(), UNKNOWN_CARD.len());
        let mut raw = Raw::logged_in(sip2_addr(app)).await;
        // Only the card (AA) and valid patron (BL, which the specification requires) may
        // differ.
        let normalised = |answer: &str, card: &str| {
            answer
                .replace(&format!("AA{card}|"), "AA<card>|")
                .replace("BLN|", "BL?|")
                .replace("BLY|", "BL?|")
        };
        let blank = " ".repeat(18);
        // `<card>` stands for the card number.
        let requests = [
            format!("23001{DATE}AO{LIBRARY}|AA<card>|AC|AD0000|"),
            format!("63001{DATE}  Y       AO{LIBRARY}|AA<card>|AD0000|"),
            format!("11YN{DATE}{blank}AO{LIBRARY}|AA<card>|ABT1|AC|AD0000|"),
            format!("37{DATE}0100HKDBV1.00|AO{LIBRARY}|AA<card>|AD0000|"),
        ];
        for request in &requests {
            let code = &request[..2];
            let unknown = raw.call(&request.replace("<card>", UNKNOWN_CARD)).await;
            let wrong = raw.call(&request.replace("<card>", &f.card)).await;
            assert_eq!(
                normalised(&unknown, UNKNOWN_CARD),
                normalised(&wrong, &f.card),
                "{code} on {}",
                app.db
            );
            assert_eq!(unknown.len(), wrong.len(), "{code}");
            assert_eq!(all(&unknown, "AF"), [NOT_VERIFIED], "{code}");
        }
        let unknown = raw.patron_status(UNKNOWN_CARD, "0000").await;
        assert_eq!(field(&unknown, "BL").as_deref(), Some("N"));
        let wrong = raw.patron_status(&f.card, "0000").await;
        assert_eq!(field(&wrong, "BL").as_deref(), Some("Y"));
    })
    .await;
}

// ---------------------------------------------------------------------------------------
// The binary.
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn the_binary_serves_sip2_when_asked_and_stops_cleanly() {
    let mut server = crate::process::Binary::start(&["--sip2=127.0.0.1:0"]);
    let addr = server.wait_for("sip2 listening on ").await;
    let addr: SocketAddr = addr.parse().expect("an address");
    assert_ne!(addr.port(), 0);

    let mut raw = Raw::connect(addr).await;
    let status = raw.call("9900802.00").await;
    assert!(status.starts_with("98YYYYNN"), "{status}");

    let all_lines = server.terminate().await;
    assert_eq!(raw.recv().await, None, "the station's connection is closed");
    let count = |needle: &str| all_lines.iter().filter(|l| l.contains(needle)).count();
    assert_eq!(count("sip2 listening on "), 1, "{all_lines:#?}");
    assert_eq!(count("listening on http://"), 1, "{all_lines:#?}");
    assert_eq!(count("sip2 stopped"), 1, "{all_lines:#?}");
}

#[tokio::test]
async fn a_lost_copy_checked_in_at_a_station_is_taken_back_as_found() {
    on_every_backend_with(true, true, async |app: &TestApp| {
        let f = fixture(app).await;
        let addr = sip2_addr(app);
        let loan = app
            .checkout(&f.staff, &f.card, "T1", LIBRARY)
            .await
            .expect(201, "")
            .body["loan_id"]
            .as_i64()
            .unwrap();
        let lost = app
            .post(
                &format!("/api/v1/circulation/loans/{loan}/lost"),
                Some(&f.staff),
                Value::Null,
            )
            .await
            .expect(200, "");
        // No cost recorded and no rule: nothing but a zero-cost loss.
        assert_eq!(lost.body["replacement_cents"], 0);
        let back = with_client(addr, &f.card, |c, p| {
            let mut p = p.clone();
            p.set_item_id("T1");
            let back = c.checkin(&p).expect("10");
            (back.ok(), value(back.msg(), "AB"), value(back.msg(), "CT"))
        })
        .await;
        // Taken back at KLN and sent home to CEN.
        assert_eq!(
            back,
            (true, Some("T1".into()), Some("CEN".into())),
            "{}",
            app.db
        );
        let actions: Vec<_> = app
            .audit_log()
            .await
            .iter()
            .map(|e| e.entry.action.clone())
            .collect();
        assert!(actions.contains(&"circulation.found".to_owned()));
    })
    .await;
}
