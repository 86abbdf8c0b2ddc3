//! Staff roles (docs/http.md, Staff roles) and staff users over HTTP, on every backend.

use library_credentials::StaffRole;
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{Answer, STAFF_PASSWORD as LIBRARIAN_PASSWORD, TestApp, on_every_backend};

/// The name of the staff security scheme in the OpenAPI document.
const STAFF_SCHEME: &str = "StaffAuth";

/// Every operation of the served document that takes a staff session: (method, path,
/// whether it takes a body).
async fn staff_operations(app: &TestApp) -> Vec<(Method, String, bool)> {
    let doc = app.get("/openapi.json", None).await.expect(200, "").body;
    assert!(
        doc["components"]["securitySchemes"][STAFF_SCHEME].is_object(),
        "no {STAFF_SCHEME} scheme in the document"
    );
    let mut staff = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            let takes_staff = op["security"].as_array().is_some_and(|requirements| {
                requirements.iter().any(|r| r.get(STAFF_SCHEME).is_some())
            });
            if takes_staff {
                let method = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
                staff.push((method, path.clone(), op.get("requestBody").is_some()));
            }
        }
    }
    staff
}

/// `path` with every `{variable}` replaced by `1` (an id, card, code or username that
/// names nothing).
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|s| if s.starts_with('{') { "1" } else { s })
        .collect::<Vec<_>>()
        .join("/")
}

async fn call(app: &TestApp, method: &Method, path: &str, body: bool, token: &str) -> Answer {
    let body = if body { json!({}) } else { Value::Null };
    app.call(method.clone(), path, Some(token), body).await
}

/// Neither refused for the session nor failed: what an allowed call with a minimal body
/// may answer.
fn allowed(answer: &Answer) -> bool {
    matches!(
        answer.status.as_u16(),
        200..=299 | 400 | 404 | 405 | 409 | 422
    )
}

#[tokio::test]
async fn every_staff_route_answers_each_role_as_the_role_table_says() {
    on_every_backend(false, async |app| {
        let admin = app.staff_token().await;
        let librarian = app.staff_user(&admin, "clerk", "librarian").await;
        let operations = staff_operations(app).await;
        assert!(
            operations.len() > 30,
            "{} staff operations",
            operations.len()
        );
        let mut missing = Vec::new();
        let mut admin_only = 0;
        for (method, path, body) in &operations {
            let Some(role) = library_http::required_role(method.as_str(), path) else {
                missing.push(format!("{method} {path}"));
                continue;
            };
            let url = concrete(path);
            // The librarian first: an admin-only change refused must change nothing.
            let answer = call(app, method, &url, *body, &librarian).await;
            if role == StaffRole::Admin {
                admin_only += 1;
                assert_eq!(
                    (answer.status.as_u16(), answer.code()),
                    (403, "forbidden"),
                    "{}: librarian on {method} {path}: {:?}",
                    app.db,
                    answer.body
                );
            } else {
                assert!(
                    allowed(&answer),
                    "{}: librarian on {method} {path}: {} {:?}",
                    app.db,
                    answer.status,
                    answer.body
                );
            }
            let answer = call(app, method, &url, *body, &admin).await;
            assert!(
                allowed(&answer),
                "{}: admin on {method} {path}: {} {:?}",
                app.db,
                answer.status,
                answer.body
            );
        }
        assert!(
            missing.is_empty(),
            "{}: staff routes missing from the role table (library_http::STAFF_ROUTES): \
             {missing:#?}",
            app.db
        );
        assert_eq!(
            admin_only,
            library_http::STAFF_ROUTES
                .iter()
                .filter(|r| r.role() == StaffRole::Admin)
                .count(),
            "{}: every admin-only row is a served route",
            app.db
        );
    })
    .await;
}

#[tokio::test]
async fn the_token_and_the_scope_come_before_the_role() {
    on_every_backend(false, async |app| {
        let admin = app.staff_token().await;
        let librarian = app.staff_user(&admin, "clerk", "librarian").await;
        let rules = json!({"scope": {}, "rules": {"loan_days": 21}});
        // No token, a token that opens nothing: 401 before any role check.
        app.put("/api/v1/circulation/rules", None, rules.clone())
            .await
            .expect(401, "unauthorized");
        app.put("/api/v1/circulation/rules", Some("nope"), rules.clone())
            .await
            .expect(401, "unauthorized");
        // A librarian's logged-out token is no session at all.
        let gone = app
            .post(
                "/api/v1/staff/login",
                None,
                json!({"username": "clerk", "password": LIBRARIAN_PASSWORD}),
            )
            .await
            .expect(200, "")
            .token();
        app.post("/api/v1/auth/logout", Some(&gone), Value::Null)
            .await
            .expect(204, "");
        app.put("/api/v1/circulation/rules", Some(&gone), rules.clone())
            .await
            .expect(401, "unauthorized");
        // A reader's token on a staff route stays 403 `forbidden`, admin-only or not.
        app.library(&admin, "CEN", "district").await;
        let (_, reader) = app.full_reader("91234567", "Reading-Room-42").await;
        app.put("/api/v1/circulation/rules", Some(&reader), rules.clone())
            .await
            .expect(403, "forbidden");
        app.get("/api/v1/circulation/rules", Some(&reader))
            .await
            .expect(403, "forbidden");
        // The librarian: refused, and nothing changed; a refused text does not matter.
        app.put("/api/v1/circulation/rules", Some(&librarian), rules.clone())
            .await
            .expect(403, "forbidden");
        app.post(
            "/api/v1/libraries",
            Some(&librarian),
            json!({"code": "NOP\u{0}", "name": "N", "kind": "small"}),
        )
        .await
        .expect(403, "forbidden");
        let scopes = app
            .get("/api/v1/circulation/rules", Some(&librarian))
            .await
            .expect(200, "")
            .body;
        assert_eq!(scopes["scopes"], json!([]), "{}", app.db);
        // The admin may.
        app.put("/api/v1/circulation/rules", Some(&admin), rules)
            .await
            .expect(200, "");
    })
    .await;
}

#[tokio::test]
async fn staff_users_are_created_listed_and_audited() {
    on_every_backend(false, async |app| {
        let admin = app.staff_token().await;
        let created = app
            .post(
                "/api/v1/staff/users",
                Some(&admin),
                json!({"username": "Clerk.Wong", "password": LIBRARIAN_PASSWORD,
                       "role": "librarian"}),
            )
            .await
            .expect(201, "");
        assert_eq!(
            created.body,
            json!({"username": "clerk.wong", "role": "librarian", "permissions": []}),
            "{}",
            app.db
        );
        // Taken, in any case.
        app.post(
            "/api/v1/staff/users",
            Some(&admin),
            json!({"username": "CLERK.WONG", "password": "Another-Desk-8", "role": "admin"}),
        )
        .await
        .expect(409, "already_exists");
        // The username and the staff Password policy, all at once.
        let refused = app
            .post(
                "/api/v1/staff/users",
                Some(&admin),
                json!({"username": "bad name", "password": "abc", "role": "admin"}),
            )
            .await
            .expect(422, "validation_failed");
        assert_eq!(
            refused.violations(),
            [
                "username_invalid",
                "too_short",
                "missing_uppercase",
                "missing_digit"
            ],
            "{}",
            app.db
        );
        let refused = app
            .post(
                "/api/v1/staff/users",
                Some(&admin),
                json!({"username": "kwok", "password": "Kwok-Desk-77", "role": "librarian"}),
            )
            .await
            .expect(422, "validation_failed");
        assert_eq!(refused.violations(), ["contains_personal_info"]);
        let refused = app
            .post(
                "/api/v1/staff/users",
                Some(&admin),
                json!({"username": "kwok", "password": "Password1", "role": "librarian"}),
            )
            .await
            .expect(422, "validation_failed");
        assert_eq!(refused.violations(), ["common_password"]);
        let long = "x".repeat(65);
        app.post(
            "/api/v1/staff/users",
            Some(&admin),
            json!({"username": long, "password": LIBRARIAN_PASSWORD, "role": "admin"}),
        )
        .await
        .expect(422, "validation_failed");
        // Only the two roles; a missing field or a wrong type is 400 too.
        for body in [
            json!({"username": "kwok", "password": LIBRARIAN_PASSWORD, "role": "boss"}),
            json!({"username": "kwok", "password": LIBRARIAN_PASSWORD}),
            json!({"username": "kwok", "password": 12345678, "role": "admin"}),
        ] {
            app.post("/api/v1/staff/users", Some(&admin), body)
                .await
                .expect(400, "bad_request");
        }
        app.post(
            "/api/v1/staff/users",
            Some(&admin),
            json!({"username": "deputy", "password": "Second-Desk-9", "role": "admin"}),
        )
        .await
        .expect(201, "");

        let list = app
            .get("/api/v1/staff/users", Some(&admin))
            .await
            .expect(200, "");
        assert_eq!(
            list.body,
            json!({"users": [
                {"username": "admin", "role": "admin", "permissions": []},
                {"username": "clerk.wong", "role": "librarian", "permissions": []},
                {"username": "deputy", "role": "admin", "permissions": []},
            ]}),
            "{}",
            app.db
        );

        // The new users log in at once, in any case, with their role.
        let clerk = app
            .post(
                "/api/v1/staff/login",
                None,
                json!({"username": "clerk.WONG", "password": LIBRARIAN_PASSWORD}),
            )
            .await
            .expect(200, "")
            .token();
        app.get("/api/v1/staff/users", Some(&clerk))
            .await
            .expect(403, "forbidden");
        app.post(
            "/api/v1/staff/users",
            Some(&clerk),
            json!({"username": "mine", "password": LIBRARIAN_PASSWORD, "role": "admin"}),
        )
        .await
        .expect(403, "forbidden");
        let deputy = app
            .post(
                "/api/v1/staff/login",
                None,
                json!({"username": "deputy", "password": "Second-Desk-9"}),
            )
            .await
            .expect(200, "")
            .token();
        app.library(&deputy, "CEN", "district").await;

        // Audited with who did it, the username and the role; never the password.
        let log = app.audit_log().await;
        let creations: Vec<_> = log
            .iter()
            .filter(|e| e.entry.action == "staff.create")
            .collect();
        assert_eq!(creations.len(), 2, "{}: {creations:?}", app.db);
        let clerk_entry = creations
            .iter()
            .find(|e| e.entry.details.contains("clerk.wong"))
            .expect("the clerk's creation");
        let details: Value = serde_json::from_str(&clerk_entry.entry.details).expect("json");
        assert_eq!(
            details,
            json!({"username": "clerk.wong", "role": "librarian", "permissions": []})
        );
        assert!(clerk_entry.entry.subject.starts_with("staff:"));
        assert!(clerk_entry.entry.staff.is_some(), "{}", app.db);
        for entry in &log {
            for secret in [LIBRARIAN_PASSWORD, "Second-Desk-9", "Another-Desk-8"] {
                assert!(!entry.entry.details.contains(secret), "{entry:?}");
            }
        }
    })
    .await;
}

#[tokio::test]
async fn a_librarian_does_the_counters_work() {
    on_every_backend(true, async |app| {
        let admin = app.counter_on_1_june_2021().await;
        let title = app.title(&admin, "Counter Manual").await;
        let librarian = app.staff_user(&admin, "clerk", "librarian").await;
        // The catalogue, a reader, a loan and its return, at the librarian's hands.
        app.item(&librarian, title, "30001", "CEN").await;
        let card = app.reader(&librarian, "91234567").await;
        app.get(&format!("/api/v1/patrons/{card}"), Some(&librarian))
            .await
            .expect(200, "");
        app.checkout(&librarian, &card, "30001", "CEN")
            .await
            .expect(201, "");
        app.checkin(&librarian, "30001", "CEN", None)
            .await
            .expect(200, "");
        app.post(
            &format!("/api/v1/patrons/{card}/password-reset"),
            Some(&librarian),
            Value::Null,
        )
        .await
        .expect(200, "");
        // The configuration it reads, and the preview, which changes nothing.
        app.get("/api/v1/circulation/rules", Some(&librarian))
            .await
            .expect(200, "");
        app.get("/api/v1/fine-suspensions", Some(&librarian))
            .await
            .expect(200, "");
        app.post(
            "/api/v1/fine-suspensions/preview",
            Some(&librarian),
            json!({"starts_on": "2021-06-01", "resumes_on": null, "reason": "typhoon"}),
        )
        .await
        .expect(200, "");
        // Not the configuration it changes.
        app.post(
            "/api/v1/fine-suspensions",
            Some(&librarian),
            json!({"starts_on": "2021-06-01", "resumes_on": null, "reason": "typhoon"}),
        )
        .await
        .expect(403, "forbidden");
        app.closure(&admin, "CEN", "2021-06-10", "2021-06-11").await;
        app.get("/api/v1/sip2/stations", Some(&librarian))
            .await
            .expect(403, "forbidden");
        // The checkout and checkin are audited as the librarian's.
        let log = app.audit_log().await;
        let checkout = log
            .iter()
            .find(|e| e.entry.action == "circulation.checkout")
            .expect("the checkout's entry");
        let admin_id = log
            .iter()
            .find(|e| e.entry.action == "library.create")
            .and_then(|e| e.entry.staff);
        assert!(checkout.entry.staff.is_some(), "{}", app.db);
        assert_ne!(checkout.entry.staff, admin_id, "{}", app.db);
    })
    .await;
}
