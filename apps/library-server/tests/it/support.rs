//! Spawning the application and talking to it.

use library_server::Application;
use library_setup::{Config, Policy};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::sync::oneshot;

pub const POSTGRES_URL_VAR: &str = "LIBRARY_TEST_POSTGRES_URL";
pub const ADMIN_PASSWORD: &str = "Circ-Desk-2026x";
/// The password of the staff users made by [`TestApp::staff_user`].
pub const STAFF_PASSWORD: &str = "Counter-Desk-7";
/// The key the test servers seal secrets with (base64 of 32 bytes).
pub const TEST_SECRET_KEY: &str = "dGVzdC1rZXktb2YtdGhlLWxpYnJhcnktc2VydmVyISE=";

pub use library_persistence::testing::TestDb;

/// A running application.
pub struct TestApp {
    pub base: String,
    /// The SIP2 listener, when the app serves SIP2.
    pub sip2: Option<std::net::SocketAddr>,
    /// The server's security events, counted by name (empty for a remote server).
    pub security: std::sync::Arc<library_app::security::SecurityLog>,
    pub db: &'static str,
    database_url: String,
    client: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    _database: Option<TestDb>,
}

/// An answer: status, JSON body (Null when empty or not JSON) and headers.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
}

impl Answer {
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }

    pub fn violations(&self) -> Vec<String> {
        self.body["violations"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn token(&self) -> String {
        self.body["token"]
            .as_str()
            .unwrap_or_else(|| panic!("no token in {:?}", self))
            .to_owned()
    }

    #[track_caller]
    pub fn expect(self, status: u16, code: &str) -> Self {
        assert_eq!(
            (self.status.as_u16(), self.code()),
            (status, code),
            "unexpected answer: {:?}",
            self.body
        );
        self
    }
}

impl TestApp {
    pub async fn spawn(database: TestDb, dev_clock: bool) -> TestApp {
        Self::spawn_with(database, dev_clock, false).await
    }

    /// With `sip2`, the app also serves SIP2 on a free port ([`TestApp::sip2`]).
    pub async fn spawn_with(database: TestDb, dev_clock: bool, sip2: bool) -> TestApp {
        let label = database.label();
        let url = database.url();
        let mut app = Self::spawn_on(&url, label, dev_clock, sip2).await;
        app._database = Some(database);
        app
    }

    /// Another server process (an `Application` of its own: pool, services, listener) on
    /// the database of a running one.
    pub async fn second_process(&self, dev_clock: bool) -> TestApp {
        Self::spawn_on(&self.database_url, self.db, dev_clock, false).await
    }

    /// The helpers of this type over a server running elsewhere (a separate process) at
    /// `base` (`http://ADDR`) on the database at `url`; [`TestApp::stop`] does nothing.
    pub fn remote(base: String, label: &'static str, url: &str) -> TestApp {
        TestApp {
            base,
            sip2: None,
            security: std::sync::Arc::default(),
            db: label,
            database_url: url.to_owned(),
            client: reqwest::Client::new(),
            stop: None,
            server: None,
            _database: None,
        }
    }

    /// With the development clock, and the scheduled jobs running every second on it.
    pub async fn with_jobs_every_second(database: TestDb) -> TestApp {
        let label = database.label();
        let url = database.url();
        let config = Config {
            jobs_every_secs: Some(1),
            ..Self::config(&url, true, false)
        };
        let mut app = Self::start(config, label).await;
        app._database = Some(database);
        app
    }

    /// The tests' settings. The policy is empty (`profile = "none"`): the tests set the
    /// rules they lend under, and the default profile's item-type scopes (the junior fine
    /// rates) would otherwise sit under them. [`TestApp::with_default_policy`] starts a
    /// server as shipped.
    fn config(database_url: &str, dev_clock: bool, sip2: bool) -> Config {
        Config {
            database_url: database_url.to_owned(),
            http_addr: "127.0.0.1:0".into(),
            sip2_addr: sip2.then(|| ":0".to_owned()),
            admin_password: Some(ADMIN_PASSWORD.into()),
            dev_clock,
            policy: Policy::Empty,
            // A fixed key: no key file beside the test databases.
            secret_key: Some(TEST_SECRET_KEY.into()),
            // No timer: a test runs the jobs when it means to (`POST /dev/jobs/run`, or
            // `with_jobs_every_second`), so a run at start cannot deliver (and empty) an
            // outbox row the test is about to read.
            jobs_every_secs: Some(0),
            ..Config::default()
        }
    }

    /// A server with the default policy (the "hkpl" profile stored on first start) and the
    /// development clock, on `database` (or, with `url`, on a database the caller owns).
    pub async fn with_default_policy(database: TestDb) -> TestApp {
        let label = database.label();
        let url = database.url();
        let mut app = Self::with_policy_at(&url, label, Policy::Hkpl).await;
        app._database = Some(database);
        app
    }

    /// A server with `policy` and the development clock on the database at `url`, which
    /// the caller owns (a restart, a second process).
    pub async fn with_policy_at(url: &str, label: &'static str, policy: Policy) -> TestApp {
        let config = Config {
            policy,
            ..Self::config(url, true, false)
        };
        Self::start(config, label).await
    }

    async fn spawn_on(
        database_url: &str,
        label: &'static str,
        dev_clock: bool,
        sip2: bool,
    ) -> TestApp {
        Self::start(Self::config(database_url, dev_clock, sip2), label).await
    }

    /// A server with the development clock and the settings `adjust` makes, on `database`.
    pub async fn with_config(database: TestDb, adjust: impl FnOnce(&mut Config)) -> TestApp {
        let label = database.label();
        let url = database.url();
        let mut app = Self::with_config_at(&url, label, adjust).await;
        app._database = Some(database);
        app
    }

    /// As [`TestApp::with_config`], on the database at `url`, which the caller owns (a
    /// second process).
    pub async fn with_config_at(
        url: &str,
        label: &'static str,
        adjust: impl FnOnce(&mut Config),
    ) -> TestApp {
        let mut config = Self::config(url, true, false);
        adjust(&mut config);
        Self::start(config, label).await
    }

    async fn start(config: Config, label: &'static str) -> TestApp {
        let database_url = config.database_url.clone();
        let database_url = database_url.as_str();
        let app = Application::build(&config)
            .await
            .expect("application starts");
        let base = format!("http://{}", app.local_addr());
        let sip2 = app.sip2_addr();
        let security = app.security();
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(app.run_until(async {
            let _ = stopped.await;
        }));
        TestApp {
            base,
            sip2,
            security,
            db: label,
            database_url: database_url.to_owned(),
            client: reqwest::Client::new(),
            stop: Some(stop),
            server: Some(server),
            _database: None,
        }
    }

    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.expect("server task").expect("server ran");
        }
    }

    /// The notifications the server queued, sent or not, oldest first (read from its
    /// database; the scheduled jobs deliver them, to the log unless the test sets SMTP).
    pub async fn outbox(&self) -> Vec<library_persistence::Notification> {
        let db = library_persistence::Database::connect(&self.database_url)
            .await
            .expect("open the test database");
        let queued = db.outbox().all(1000).await.expect("read the outbox");
        db.close().await.expect("close");
        queued
    }

    /// The server's database URL.
    pub fn database_url(&self) -> &str {
        &self.database_url
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<(&str, Vec<u8>)>,
    ) -> Answer {
        let mut req = self.client.request(method, self.url(path));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some((content_type, bytes)) = body {
            req = req.header("content-type", content_type).body(bytes);
        }
        let resp = req.send().await.expect("request sent");
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.bytes().await.expect("body");
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Answer {
            status,
            body,
            headers,
        }
    }

    /// GET with an `Accept` header (when given): the status, the content type and the body
    /// as text.
    pub async fn get_text(
        &self,
        path: &str,
        token: Option<&str>,
        accept: Option<&str>,
    ) -> (u16, String, String) {
        let mut req = self.client.get(self.url(path));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(accept) = accept {
            req = req.header("accept", accept);
        }
        let resp = req.send().await.expect("request sent");
        let status = resp.status().as_u16();
        let content_type = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        (status, content_type, resp.text().await.expect("body"))
    }

    /// GET with one custom header; the status.
    pub async fn client_get_with_header(&self, path: &str, name: &str, value: &str) -> u16 {
        self.client
            .get(self.url(path))
            .header(name, value)
            .send()
            .await
            .expect("request sent")
            .status()
            .as_u16()
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Value,
    ) -> Answer {
        let body = (!body.is_null())
            .then(|| ("application/json", serde_json::to_vec(&body).expect("json")));
        self.raw(method, path, token, body).await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Answer {
        self.call(Method::GET, path, token, Value::Null).await
    }

    /// POST `body`; the status, or `None` when the server does not answer (it is gone).
    pub async fn try_post(&self, path: &str, token: Option<&str>, body: Value) -> Option<u16> {
        let mut req = self.client.post(self.url(path)).json(&body);
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        req.send().await.ok().map(|resp| resp.status().as_u16())
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Answer {
        self.call(Method::POST, path, token, body).await
    }

    pub async fn put(&self, path: &str, token: Option<&str>, body: Value) -> Answer {
        self.call(Method::PUT, path, token, body).await
    }

    pub async fn patch(&self, path: &str, token: Option<&str>, body: Value) -> Answer {
        self.call(Method::PATCH, path, token, body).await
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> Answer {
        self.call(Method::DELETE, path, token, Value::Null).await
    }

    /// The lending library of the open loan of the item with this barcode (read from the
    /// server's database).
    pub async fn loan_library(&self, barcode: &str) -> Option<String> {
        use library_circulation::ports::CirculationStore;
        let db = library_persistence::Database::connect(&self.database_url)
            .await
            .expect("open the test database");
        let barcode = library_core::Barcode::parse(barcode).expect("a barcode");
        let library = {
            let mut tx = db.circulation().begin().await.expect("begin");
            let item = tx.item_by_barcode(&barcode).await.expect("read item");
            match item {
                Some(item) => tx
                    .open_loan_of_item(item.id)
                    .await
                    .expect("read loan")
                    .map(|l| l.library.as_str().to_owned()),
                None => None,
            }
        };
        db.close().await.expect("close");
        library
    }

    /// The audit log the server wrote, newest first.
    pub async fn audit_log(&self) -> Vec<library_persistence::AuditEntry> {
        let db = library_persistence::Database::connect(&self.database_url)
            .await
            .expect("open the test database");
        let entries = db
            .audit_log()
            .recent(1000)
            .await
            .expect("read the audit log");
        db.close().await.expect("close");
        entries
    }

    pub async fn staff_token(&self) -> String {
        self.staff_login("admin", ADMIN_PASSWORD).await
    }

    /// A fresh session of staff user `username`; its token.
    pub async fn staff_login(&self, username: &str, password: &str) -> String {
        self.post(
            "/api/v1/staff/login",
            None,
            json!({"username": username, "password": password}),
        )
        .await
        .expect(200, "")
        .token()
    }

    /// Creates a staff user with `role` (as `admin`, password [`STAFF_PASSWORD`]) and logs
    /// it in; its token.
    pub async fn staff_user(&self, admin: &str, username: &str, role: &str) -> String {
        self.post(
            "/api/v1/staff/users",
            Some(admin),
            json!({"username": username, "password": STAFF_PASSWORD, "role": role}),
        )
        .await
        .expect(201, "");
        self.staff_login(username, STAFF_PASSWORD).await
    }

    /// Registers a reader with this phone (and email) and returns the card number.
    pub async fn register(&self, phone: &str, email: Option<&str>) -> String {
        let staff = self.staff_token().await;
        let answer = self
            .post(
                "/api/v1/patrons",
                Some(&staff),
                json!({"name": "Chan Tai Man", "phone": phone, "email": email,
                       "category": "adult", "home_library": "CEN",
                       "date_of_birth": "1990-04-01"}),
            )
            .await
            .expect(201, "");
        answer.body["card_number"]
            .as_str()
            .expect("card")
            .to_owned()
    }

    pub async fn login(&self, card: &str, password: &str) -> Answer {
        self.post(
            "/api/v1/auth/login",
            None,
            json!({"card_number": card, "password": password}),
        )
        .await
    }

    pub async fn pin_login(&self, card: &str, pin: &str) -> Answer {
        self.post(
            "/api/v1/auth/pin-login",
            None,
            json!({"card_number": card, "pin": pin}),
        )
        .await
    }

    /// Moves the dev clock (the app must run with it).
    pub async fn set_clock(&self, now: time::OffsetDateTime) {
        let now = now
            .format(&time::format_description::well_known::Rfc3339)
            .expect("rfc3339");
        self.put("/api/v1/dev/clock", None, json!({ "now": now }))
            .await
            .expect(204, "");
    }

    /// A reader with a `full` session: registered, default Password changed.
    pub async fn full_reader(&self, phone: &str, password: &str) -> (String, String) {
        let card = self.register(phone, None).await;
        let last4 = &phone[phone.len() - 4..];
        let first = self.login(&card, last4).await.expect(200, "").token();
        let full = self
            .put(
                "/api/v1/me/password",
                Some(&first),
                json!({"current_password": last4, "new_password": password}),
            )
            .await
            .expect(200, "")
            .token();
        (card, full)
    }
}

/// Runs `test` against a fresh application on every configured backend.
pub async fn on_every_backend(dev_clock: bool, test: impl AsyncFn(&TestApp)) {
    on_every_backend_with(dev_clock, false, test).await;
}

/// Every loan in the database at `url`, read by a connection of its own: id → returned.
pub async fn stored_loans(url: &str) -> std::collections::HashMap<i64, bool> {
    use sea_orm::ConnectionTrait as _;
    let conn = sea_orm::Database::connect(url)
        .await
        .expect("a separate connection");
    let rows = conn
        .query_all_raw(sea_orm::Statement::from_string(
            conn.get_database_backend(),
            "SELECT id, CASE WHEN returned_at IS NULL THEN 0 ELSE 1 END AS returned FROM loans",
        ))
        .await
        .expect("read loans");
    let loans = rows
        .iter()
        .map(|r| {
            let id: i64 = r.try_get("", "id").expect("id");
            let returned: i32 = r.try_get("", "returned").expect("returned");
            (id, returned == 1)
        })
        .collect();
    conn.close().await.expect("close");
    loans
}

/// The fresh test databases: SQLite, and PostgreSQL when configured.
pub async fn test_databases() -> Vec<TestDb> {
    let mut databases = vec![TestDb::sqlite()];
    if let Ok(url) = std::env::var(POSTGRES_URL_VAR)
        && !url.is_empty()
    {
        databases.push(TestDb::postgres(&url).await);
    }
    databases
}

/// As [`on_every_backend`], the application also serving SIP2 when `sip2`.
pub async fn on_every_backend_with(dev_clock: bool, sip2: bool, test: impl AsyncFn(&TestApp)) {
    for database in test_databases().await {
        let app = TestApp::spawn_with(database, dev_clock, sip2).await;
        test(&app).await;
        app.stop().await;
    }
}

// ---------------------------------------------------------------------------------------
// Circulation fixtures, all through the API.
// ---------------------------------------------------------------------------------------

/// An instant in Hong Kong time, `"2021-03-05T10:00:00"` → `2021-03-05T10:00:00+08:00`.
pub fn hk(local: &str) -> time::OffsetDateTime {
    time::OffsetDateTime::parse(
        &format!("{local}+08:00"),
        &time::format_description::well_known::Rfc3339,
    )
    .expect("an RFC 3339 local time")
}

/// The rules most tests lend under (global scope).
pub fn standard_rules() -> Value {
    json!({"loan_days": 14, "renewals_allowed": 5, "quota": 10, "holds_allowed": 5,
           "pickup_days": 3, "fine_per_day_cents": 150})
}

impl TestApp {
    /// The usual counter: the dev clock at 1 June 2021 10:00 in Hong Kong, library `CEN`
    /// (district) under [`standard_rules`]; a staff token.
    pub async fn counter_on_1_june_2021(&self) -> String {
        self.set_clock(hk("2021-06-01T10:00:00")).await;
        let staff = self.staff_token().await;
        self.library(&staff, "CEN", "district").await;
        self.rules(&staff, json!({}), standard_rules())
            .await
            .expect(200, "");
        staff
    }

    pub async fn library(&self, staff: &str, code: &str, kind: &str) {
        self.post(
            "/api/v1/libraries",
            Some(staff),
            json!({"code": code, "name": format!("{code} Library"), "kind": kind}),
        )
        .await
        .expect(201, code);
    }

    pub async fn closure(&self, staff: &str, code: &str, from: &str, to: &str) {
        self.post(
            &format!("/api/v1/libraries/{code}/closures"),
            Some(staff),
            json!({"from": from, "to": to, "reason": "closed"}),
        )
        .await
        .expect(201, "");
    }

    pub async fn title(&self, staff: &str, name: &str) -> i64 {
        self.post(
            "/api/v1/catalog/titles",
            Some(staff),
            json!({"title": name}),
        )
        .await
        .expect(201, "")
        .body["id"]
            .as_i64()
            .expect("title id")
    }

    pub async fn item(&self, staff: &str, title: i64, barcode: &str, home: &str) -> i64 {
        self.post(
            "/api/v1/catalog/items",
            Some(staff),
            json!({"title_id": title, "barcode": barcode, "item_type": "adult_book",
                   "home_library": home}),
        )
        .await
        .expect(201, "")
        .body["id"]
            .as_i64()
            .expect("item id")
    }

    pub async fn rules(&self, staff: &str, scope: Value, rules: Value) -> Answer {
        self.put(
            "/api/v1/circulation/rules",
            Some(staff),
            json!({"scope": scope, "rules": rules}),
        )
        .await
    }

    /// Registers a reader with the staff session given; the card number.
    pub async fn reader(&self, staff: &str, phone: &str) -> String {
        self.post(
            "/api/v1/patrons",
            Some(staff),
            json!({"name": "Chan Tai Man", "phone": phone, "category": "adult",
                   "home_library": "CEN"}),
        )
        .await
        .expect(201, "")
        .body["card_number"]
            .as_str()
            .expect("card")
            .to_owned()
    }

    /// A `full` session for a reader whose Password is still the default.
    pub async fn reader_session(&self, card: &str, phone: &str) -> String {
        let last4 = &phone[phone.len() - 4..];
        let first = self.login(card, last4).await.expect(200, "").token();
        self.put(
            "/api/v1/me/password",
            Some(&first),
            json!({"current_password": last4, "new_password": "Reading-Room-42"}),
        )
        .await
        .expect(200, "")
        .token()
    }

    /// A new `full` session for a reader who has set the Password of `reader_session`.
    pub async fn relogin(&self, card: &str) -> String {
        self.login(card, "Reading-Room-42")
            .await
            .expect(200, "")
            .token()
    }

    pub async fn checkout(&self, staff: &str, card: &str, barcode: &str, library: &str) -> Answer {
        self.post(
            "/api/v1/circulation/checkouts",
            Some(staff),
            json!({"card_number": card, "item_barcode": barcode, "library_code": library}),
        )
        .await
    }

    pub async fn checkin(
        &self,
        staff: &str,
        barcode: &str,
        library: &str,
        returned_at: Option<&str>,
    ) -> Answer {
        let mut body = json!({"item_barcode": barcode, "library_code": library});
        if let Some(at) = returned_at {
            body["returned_at"] = json!(at);
        }
        self.post("/api/v1/circulation/checkins", Some(staff), body)
            .await
    }

    pub async fn run_jobs(&self) {
        self.post("/api/v1/dev/jobs/run", None, Value::Null)
            .await
            .expect(204, "");
    }
}

impl Answer {
    /// A 409 with this code and reason.
    #[track_caller]
    pub fn refused(self, code: &str, reason: &str) -> Self {
        assert_eq!(
            (
                self.status.as_u16(),
                self.code(),
                self.body["reason"].as_str().unwrap_or("")
            ),
            (409, code, reason),
            "unexpected answer: {:?}",
            self.body
        );
        self
    }
}

/// Runs the futures concurrently (without a `futures` dependency).
pub async fn futures_join_all<F: std::future::Future>(futures: Vec<F>) -> Vec<F::Output> {
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
