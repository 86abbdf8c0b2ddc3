//! Every staff change is audited in its own transaction (docs/http.md, Audit log), on
//! every backend: the entry exists exactly when the change does. A change refused by the
//! database leaves no entry; an entry the database refuses undoes the change.

use reqwest::Method;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use serde_json::{Value, json};

use crate::support::{TestApp, on_every_backend, standard_rules};

const PASSWORD: &str = "Counter-Desk-7";
const STATION_PASSWORD: &str = "kiosk-pass-2026";

/// The test's own connection to the server's database.
struct Db(DatabaseConnection);

impl Db {
    async fn open(app: &TestApp) -> Db {
        Db(sea_orm::Database::connect(app.database_url())
            .await
            .expect("open the test database"))
    }

    async fn execute(&self, sql: &str) {
        self.0.execute_unprepared(sql).await.expect(sql);
    }

    async fn number(&self, sql: &str) -> i64 {
        self.0
            .query_one_raw(Statement::from_string(
                self.0.get_database_backend(),
                sql.to_owned(),
            ))
            .await
            .expect(sql)
            .expect("a row")
            .try_get("", "n")
            .expect("n")
    }

    /// How many rows `rows` (a table, with a condition or not) has.
    async fn rows(&self, rows: &str) -> i64 {
        self.number(&format!("SELECT COUNT(*) AS n FROM {rows}"))
            .await
    }

    /// From now on the database refuses every audit log row.
    async fn refuse_audit_entries(&self) {
        self.execute(match self.0.get_database_backend() {
            DbBackend::Postgres => {
                "ALTER TABLE audit_log ADD CONSTRAINT refuse_audit CHECK (action = '') NOT VALID"
            }
            _ => {
                "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log \
                 BEGIN SELECT RAISE(ABORT, 'audit entries refused'); END"
            }
        })
        .await;
    }

    async fn accept_audit_entries(&self) {
        self.execute(match self.0.get_database_backend() {
            DbBackend::Postgres => "ALTER TABLE audit_log DROP CONSTRAINT refuse_audit",
            _ => "DROP TRIGGER refuse_audit",
        })
        .await;
    }
}

/// The entries of `action`, oldest first: (subject, staff id, details).
async fn entries(app: &TestApp, action: &str) -> Vec<(String, Option<i64>, Value)> {
    let mut found: Vec<_> = app
        .audit_log()
        .await
        .into_iter()
        .filter(|e| e.entry.action == action)
        .map(|e| {
            (
                e.entry.subject,
                e.entry.staff.map(|s| s.get()),
                serde_json::from_str(&e.entry.details).expect("details are JSON"),
            )
        })
        .collect();
    found.reverse();
    found
}

#[tokio::test]
async fn each_staff_change_commits_or_rolls_back_with_its_audit_entry() {
    on_every_backend(false, async |app| {
        let db = Db::open(app).await;
        let staff = app.staff_token().await;
        let admin = Some(
            db.number("SELECT id AS n FROM staff_users WHERE username = 'admin'")
                .await,
        );
        let id = |answer: crate::support::Answer| answer.body["id"].as_i64().expect("an id");

        // Something of every kind to change.
        app.library(&staff, "CEN", "district").await;
        app.rules(&staff, json!({}), standard_rules())
            .await
            .expect(200, "");
        let title = app.title(&staff, "Audited").await;
        let reserved = app.title(&staff, "Reserved").await;
        let (card, reader) = app.full_reader("91234567", "Reading-Room-42").await;
        let blocked = app.reader(&staff, "98760000").await;
        db.execute(&format!(
            "UPDATE patrons SET blocked_at = CURRENT_TIMESTAMP, block_reason = 'card retained' \
             WHERE card_number = '{blocked}'"
        ))
        .await;
        let own_hold = id(app
            .post(
                "/api/v1/me/holds",
                Some(&reader),
                json!({"title_id": reserved, "pickup_library": "CEN"}),
            )
            .await
            .expect(201, ""));
        let enquiry = id(app
            .post(
                "/api/v1/enquiries",
                Some(&reader),
                json!({"subject": "Hours", "message": "When do you open?"}),
            )
            .await
            .expect(201, ""));
        let activity = id(app
            .post(
                "/api/v1/activities",
                Some(&staff),
                json!({"library_code": "CEN", "title": "Story time", "type": "story_time",
                       "venue": "Room 1", "starts_at": "2099-01-01T10:00:00+08:00",
                       "ends_at": "2099-01-01T11:00:00+08:00", "capacity": 10}),
            )
            .await
            .expect(201, ""));
        let notice = id(app
            .post(
                "/api/v1/notices",
                Some(&staff),
                json!({"title": "Stocktake", "body": "Closed for stocktake."}),
            )
            .await
            .expect(201, ""));
        let closure = id(app
            .post(
                "/api/v1/libraries/CEN/closures",
                Some(&staff),
                json!({"from": "2099-12-24", "to": "2099-12-26", "reason": "Stocktake"}),
            )
            .await
            .expect(201, ""));
        let typhoon = json!({"starts_on": "2021-03-01", "reason": "Typhoon"});
        let period = id(app
            .post("/api/v1/fine-suspensions", Some(&staff), typhoon.clone())
            .await
            .expect(201, ""));
        app.post(
            "/api/v1/sip2/stations",
            Some(&staff),
            json!({"username": "kiosk-1", "password": STATION_PASSWORD, "library_code": "CEN"}),
        )
        .await
        .expect(201, "");

        // The database refuses audit entries: every staff change fails (5xx) and leaves
        // nothing behind, whichever store or service makes it.
        db.refuse_audit_entries().await;
        let audited_before = db.rows("audit_log").await;
        let changes: Vec<(Method, String, Value, &str)> = vec![
            (
                Method::POST,
                "/api/v1/libraries".into(),
                json!({"code": "KLN", "name": "Kowloon", "kind": "district"}),
                "libraries",
            ),
            (
                Method::PUT,
                "/api/v1/circulation/rules".into(),
                json!({"scope": {"library_code": "CEN"}, "rules": {"loan_days": 21}}),
                "circulation_rules",
            ),
            (
                Method::POST,
                "/api/v1/fine-suspensions".into(),
                typhoon.clone(),
                "fine_suspension_periods",
            ),
            (
                Method::PATCH,
                format!("/api/v1/fine-suspensions/{period}"),
                json!({"resumes_on": "2021-04-01"}),
                "fine_suspension_periods WHERE resumes_on IS NULL",
            ),
            (
                Method::POST,
                "/api/v1/catalog/titles".into(),
                json!({"title": "Refused"}),
                "titles",
            ),
            (
                Method::POST,
                "/api/v1/catalog/items".into(),
                json!({"title_id": title, "barcode": "AUD0001", "item_type": "adult_book",
                       "home_library": "CEN"}),
                "items",
            ),
            (
                Method::POST,
                "/api/v1/libraries/CEN/closures".into(),
                json!({"from": "2099-12-31", "to": "2099-12-31", "reason": "Stocktake"}),
                "calendar_entries",
            ),
            (
                Method::DELETE,
                format!("/api/v1/libraries/CEN/calendar/{closure}"),
                Value::Null,
                "calendar_entries",
            ),
            (
                Method::POST,
                "/api/v1/patrons".into(),
                json!({"name": "Lee Siu Ming", "phone": "98765432", "category": "adult",
                       "home_library": "CEN"}),
                "patrons",
            ),
            (
                Method::DELETE,
                format!("/api/v1/patrons/{blocked}/block"),
                Value::Null,
                "patrons WHERE blocked_at IS NOT NULL",
            ),
            (
                Method::POST,
                "/api/v1/staff/users".into(),
                json!({"username": "clerk", "password": PASSWORD, "role": "librarian"}),
                "staff_users",
            ),
            (
                Method::POST,
                format!("/api/v1/patrons/{card}/holds"),
                json!({"title_id": title, "pickup_library": "CEN"}),
                "holds",
            ),
            (
                Method::DELETE,
                format!("/api/v1/patrons/{card}/holds/{own_hold}"),
                Value::Null,
                "holds WHERE status IN ('queued', 'waiting')",
            ),
            (
                Method::POST,
                "/api/v1/activities".into(),
                json!({"library_code": "CEN", "title": "Refused", "type": "talk",
                       "venue": "Room 2", "starts_at": "2099-02-01T10:00:00+08:00",
                       "ends_at": "2099-02-01T11:00:00+08:00", "capacity": 5}),
                "activities",
            ),
            (
                Method::DELETE,
                format!("/api/v1/activities/{activity}"),
                Value::Null,
                "activities WHERE cancelled_at IS NULL",
            ),
            (
                Method::POST,
                "/api/v1/notices".into(),
                json!({"title": "Refused", "body": "Never shown."}),
                "notices",
            ),
            (
                Method::DELETE,
                format!("/api/v1/notices/{notice}"),
                Value::Null,
                "notices WHERE withdrawn_at IS NULL",
            ),
            (
                Method::POST,
                format!("/api/v1/staff/enquiries/{enquiry}/answer"),
                json!({"answer": "Nine to nine."}),
                "enquiries WHERE answered_at IS NULL",
            ),
            (
                Method::POST,
                "/api/v1/sip2/stations".into(),
                json!({"username": "kiosk-2", "password": STATION_PASSWORD,
                       "library_code": "CEN"}),
                "sip2_stations",
            ),
            (
                Method::DELETE,
                "/api/v1/sip2/stations/kiosk-1".into(),
                Value::Null,
                "sip2_stations",
            ),
        ];
        for (method, path, body, rows) in &changes {
            let before = db.rows(rows).await;
            let answer = app
                .call(method.clone(), path, Some(&staff), body.clone())
                .await;
            assert!(
                answer.status.is_server_error(),
                "{}: {method} {path} with its audit entry refused: {} {:?}",
                app.db,
                answer.status,
                answer.body
            );
            assert_eq!(
                db.rows(rows).await,
                before,
                "{}: {method} {path} changed {rows} without its audit entry",
                app.db
            );
        }
        assert_eq!(db.rows("audit_log").await, audited_before, "{}", app.db);
        db.accept_audit_entries().await;

        // A change the database refuses (a code or barcode taken: 409) leaves no entry;
        // the change made once is audited once, with the staff id.
        let kowloon = json!({"code": "KLN", "name": "Kowloon", "kind": "district"});
        app.post("/api/v1/libraries", Some(&staff), kowloon.clone())
            .await
            .expect(201, "KLN");
        app.post("/api/v1/libraries", Some(&staff), kowloon)
            .await
            .expect(409, "already_exists");
        assert_eq!(
            entries(app, "library.create").await,
            vec![
                ("library:CEN".to_owned(), admin, json!({"kind": "district"})),
                ("library:KLN".to_owned(), admin, json!({"kind": "district"})),
            ],
            "{}",
            app.db
        );
        let copy = json!({"title_id": title, "barcode": "AUD0001", "item_type": "adult_book",
                          "home_library": "CEN"});
        let item = id(app
            .post("/api/v1/catalog/items", Some(&staff), copy.clone())
            .await
            .expect(201, ""));
        app.post("/api/v1/catalog/items", Some(&staff), copy)
            .await
            .expect(409, "already_exists");
        assert_eq!(
            entries(app, "catalog.item").await,
            vec![(
                format!("item:{item}"),
                admin,
                json!({"barcode": "AUD0001", "title_id": title})
            )],
            "{}",
            app.db
        );

        // A rule change and a fine suspension: audited with the staff id, the suspension
        // under the id it was given in the same transaction.
        app.rules(
            &staff,
            json!({"library_code": "CEN"}),
            json!({"loan_days": 21}),
        )
        .await
        .expect(200, "");
        let rules = entries(app, "rules.put").await;
        assert_eq!(rules.len(), 2, "{}: {rules:?}", app.db);
        assert_eq!(
            rules[1],
            (
                "rules".to_owned(),
                admin,
                json!({"scope": {"library_code": "CEN", "category": null, "item_type": null},
                       "rules": {"loan_days": 21}})
            ),
            "{}",
            app.db
        );
        let second = id(app
            .post("/api/v1/fine-suspensions", Some(&staff), typhoon)
            .await
            .expect(201, ""));
        let details = json!({"starts_on": "2021-03-01", "resumes_on": null, "reason": "Typhoon"});
        assert_eq!(
            entries(app, "fine_suspension.create").await,
            vec![
                (format!("fine_suspension:{period}"), admin, details.clone()),
                (format!("fine_suspension:{second}"), admin, details),
            ],
            "{}",
            app.db
        );

        // A hold placed and cancelled at the counter: in the circulation transaction, with
        // the staff id; cancelling it again (409) adds nothing.
        let hold = id(app
            .post(
                &format!("/api/v1/patrons/{card}/holds"),
                Some(&staff),
                json!({"title_id": title, "pickup_library": "CEN"}),
            )
            .await
            .expect(201, ""));
        let cancel = format!("/api/v1/patrons/{card}/holds/{hold}");
        app.delete(&cancel, Some(&staff)).await.expect(204, "");
        app.delete(&cancel, Some(&staff))
            .await
            .expect(409, "hold_ended");
        assert_eq!(
            entries(app, "hold.place").await,
            vec![(
                format!("hold:{hold}"),
                admin,
                json!({"card_number": card, "title_id": title})
            )],
            "{}",
            app.db
        );
        assert_eq!(
            entries(app, "hold.cancel").await,
            vec![(format!("hold:{hold}"), admin, json!({"card_number": card}))],
            "{}",
            app.db
        );

        // A block lifted once: one entry; a card no longer blocked (404) adds nothing.
        let unblock = format!("/api/v1/patrons/{blocked}/block");
        app.delete(&unblock, Some(&staff)).await.expect(204, "");
        app.delete(&unblock, Some(&staff))
            .await
            .expect(404, "not_found");
        assert_eq!(
            entries(app, "reader.unblock").await,
            vec![(format!("card:{blocked}"), admin, json!({}))],
            "{}",
            app.db
        );

        // Every entry is a change that exists, and every change here has its entry.
        assert_eq!(
            db.rows("audit_log").await,
            audited_before + 7,
            "{}: {:#?}",
            app.db,
            app.audit_log().await
        );
        db.0.close().await.expect("close");
    })
    .await;
}
