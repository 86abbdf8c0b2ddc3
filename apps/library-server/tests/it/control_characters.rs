//! NUL and the other control characters, in every text a client sends: refused at the edge
//! the same way on SQLite and PostgreSQL (which refuses NUL in text), never a 5xx, and
//! nothing stored. Over HTTP: every string of every JSON body the OpenAPI document
//! describes, every path and query parameter. Over SIP2: any field of any message.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{ADMIN_PASSWORD, Answer, TestApp, on_every_backend, on_every_backend_with};

/// Written into a string as `a{c}b`: NUL, BEL, DEL and a C1 control (NEL).
const REFUSED: [&str; 4] = ["\u{0}", "\u{7}", "\u{7f}", "\u{85}"];
/// The same, percent-encoded for a path or a query.
const REFUSED_ENCODED: [&str; 4] = ["%00", "%07", "%7F", "%C2%85"];

const READER_PHONE: &str = "6123 9876";
const READER_PASSWORD: &str = "Lantern-Harbour-42";

/// What the edge answers a refused text on `path`.
#[track_caller]
fn assert_refused(path: &str, answer: &Answer, shown: &str) {
    let got = (answer.status.as_u16(), answer.code());
    match path {
        "/api/v1/auth/login" | "/api/v1/auth/pin-login" | "/api/v1/staff/login" => {
            assert_eq!(
                got,
                (401, "invalid_credentials"),
                "{shown}: {:?}",
                answer.body
            );
        }
        "/api/v1/auth/password-reset" => {
            assert_eq!(answer.status.as_u16(), 202, "{shown}: {:?}", answer.body);
            assert_eq!(answer.body, json!({}), "{shown}");
        }
        _ => {
            assert_eq!(
                got,
                (422, "validation_failed"),
                "{shown}: {:?}",
                answer.body
            );
            assert_eq!(answer.violations(), ["control_character"], "{shown}");
        }
    }
}

#[tokio::test]
async fn a_nul_in_a_login_or_a_reset_is_answered_as_an_unknown_account() {
    on_every_backend(false, async |app: &TestApp| {
        let staff = app.staff_token().await;
        app.library(&staff, "CEN", "central").await;
        let card = app.register("9876 5432", Some("reader@example.com")).await;

        // Forgotten Password: the same 202 `{}` as for an email nobody has; nothing sent.
        let unknown = app
            .post(
                "/api/v1/auth/password-reset",
                None,
                json!({"email": "nobody@example.com"}),
            )
            .await;
        for email in [
            "a\u{0}@b.c",
            "reader@example.com\u{0}",
            "reader\u{85}@example.com",
        ] {
            let answer = app
                .post(
                    "/api/v1/auth/password-reset",
                    None,
                    json!({ "email": email }),
                )
                .await;
            assert_eq!(answer.status, unknown.status, "{email:?} on {}", app.db);
            assert_eq!(answer.body, unknown.body, "{email:?}");
            assert_eq!(
                answer.headers.get("content-type"),
                unknown.headers.get("content-type")
            );
        }
        assert!(
            app.outbox()
                .await
                .iter()
                .all(|n| n.notification.kind != "credentials.temporary_password"),
            "nothing is sent"
        );

        // Logins: the same 401 as any failed login.
        for bad in REFUSED {
            app.post(
                "/api/v1/staff/login",
                None,
                json!({"username": format!("adm{bad}in"), "password": ADMIN_PASSWORD}),
            )
            .await
            .expect(401, "invalid_credentials");
            app.post(
                "/api/v1/staff/login",
                None,
                json!({"username": "admin", "password": format!("{ADMIN_PASSWORD}{bad}")}),
            )
            .await
            .expect(401, "invalid_credentials");
            app.login(&format!("{card}{bad}"), "5432")
                .await
                .expect(401, "invalid_credentials");
            app.login(&card, &format!("5432{bad}"))
                .await
                .expect(401, "invalid_credentials");
            app.pin_login(&format!("{bad}{card}"), "5432")
                .await
                .expect(401, "invalid_credentials");
        }

        // Not counted: more of them than the per-source window allows (20 failures) leave
        // the right credentials working from the same address.
        for _ in 0..25 {
            app.post(
                "/api/v1/staff/login",
                None,
                json!({"username": "admin\u{0}", "password": "wrong"}),
            )
            .await
            .expect(401, "invalid_credentials");
        }
        app.staff_token().await;
        app.login(&card, "5432").await.expect(200, "");
    })
    .await;
}

#[tokio::test]
async fn a_reset_body_without_its_email_is_malformed_whatever_it_holds() {
    on_every_backend(false, async |app: &TestApp| {
        // The reset's answer to a refused character is an acceptance (202), so the body's
        // shape comes first there: a body without `email`, or with a wrong type, is the 400
        // of any malformed body, with or without a control character elsewhere.
        for body in [
            json!({}),
            json!({"\u{0}": "reader@example.com"}),
            json!({"note": "a\u{85}b"}),
            json!({"emial": "reader\u{0}@example.com"}),
            json!({"email": 21, "x": "\u{1}"}),
            json!({"email": null, "y": "\u{7f}"}),
            json!(["\u{0}"]),
        ] {
            app.post("/api/v1/auth/password-reset", None, body.clone())
                .await
                .expect(400, "bad_request");
        }
        // With its `email`, a refused character anywhere gets the same 202 `{}` as an email
        // nobody has (the email itself, or a field the route does not read).
        for body in [
            json!({"email": "reader\u{0}@example.com"}),
            json!({"email": "reader@example.com", "\u{85}": true}),
        ] {
            let answer = app.post("/api/v1/auth/password-reset", None, body).await;
            assert_eq!(answer.status.as_u16(), 202, "on {}", app.db);
            assert_eq!(answer.body, json!({}));
        }
    })
    .await;
}

// ---------------------------------------------------------------------------------------
// Every operation of the OpenAPI document.
// ---------------------------------------------------------------------------------------

/// `schema` with its `$ref`s (and poem-openapi's `allOf: [{$ref}, {description}]`)
/// followed.
fn resolve<'a>(doc: &'a Value, mut schema: &'a Value) -> &'a Value {
    loop {
        if let Some(reference) = schema["$ref"].as_str() {
            schema = doc
                .pointer(reference.trim_start_matches('#'))
                .unwrap_or_else(|| panic!("no {reference}"));
        } else if let Some(first) = schema["allOf"].get(0) {
            schema = first;
        } else {
            return schema;
        }
    }
}

/// A plausible value for `schema` (every property of an object, one element in an array),
/// and the JSON pointer of every string in it.
fn sample(doc: &Value, schema: &Value, pointer: &str, strings: &mut Vec<String>) -> Value {
    let schema = resolve(doc, schema);
    if let Some(values) = schema["enum"].as_array() {
        strings.push(pointer.to_owned());
        return values[0].clone();
    }
    match schema["type"].as_str() {
        Some("object") => match schema["properties"].as_object() {
            Some(properties) => Value::Object(
                properties
                    .iter()
                    .map(|(name, property)| {
                        let value = sample(doc, property, &format!("{pointer}/{name}"), strings);
                        (name.clone(), value)
                    })
                    .collect(),
            ),
            // A map (the circulation rules): one entry.
            None => json!({"loan_days": 14}),
        },
        Some("array") => json!([sample(
            doc,
            &schema["items"],
            &format!("{pointer}/0"),
            strings
        )]),
        Some("string") => {
            strings.push(pointer.to_owned());
            match schema["format"].as_str() {
                Some("naive-date" | "date") => json!("2026-12-01"),
                Some("date-time") => json!("2026-12-01T10:00:00+08:00"),
                _ => json!("CEN"),
            }
        }
        Some("integer") => json!(1),
        Some("number") => json!(1.5),
        Some("boolean") => json!(true),
        other => panic!("a schema of type {other:?}: {schema}"),
    }
}

/// One operation of the document.
struct Operation {
    method: Method,
    /// As in the document: `/api/v1/patrons/{card_number}`.
    path: String,
    /// `(name, sample value)` of each path parameter.
    path_params: Vec<(String, String)>,
    query_params: Vec<String>,
    /// A sample body and the pointers of its strings.
    body: Option<(Value, Vec<String>)>,
    /// The security scheme, if any.
    scheme: Option<String>,
}

impl Operation {
    fn all(doc: &Value) -> Vec<Operation> {
        let mut all = Vec::new();
        for (path, operations) in doc["paths"].as_object().expect("paths") {
            for (method, op) in operations.as_object().expect("operations") {
                let params = op["parameters"].as_array().cloned().unwrap_or_default();
                let of = |place: &str| {
                    params
                        .iter()
                        .filter(|p| p["in"] == place)
                        .map(|p| {
                            let name = p["name"].as_str().expect("name").to_owned();
                            let sample = match resolve(doc, &p["schema"])["type"].as_str() {
                                Some("integer") => "1".to_owned(),
                                _ => "CEN".to_owned(),
                            };
                            (name, sample)
                        })
                        .collect::<Vec<_>>()
                };
                let body = op["requestBody"]["content"]
                    .as_object()
                    .and_then(|content| content.values().next())
                    .map(|media| {
                        let mut strings = Vec::new();
                        let body = sample(doc, &media["schema"], "", &mut strings);
                        (body, strings)
                    });
                let scheme = op["security"][0]
                    .as_object()
                    .and_then(|s| s.keys().next().cloned());
                all.push(Operation {
                    method: method.to_uppercase().parse().expect("a method"),
                    path: path.clone(),
                    path_params: of("path"),
                    query_params: of("query").into_iter().map(|(name, _)| name).collect(),
                    body,
                    scheme,
                });
            }
        }
        all
    }

    /// The path with every parameter at its sample value but `tainted`, set to `value`.
    fn url(&self, tainted: Option<(&str, &str)>) -> String {
        let mut url = self.path.clone();
        for (name, sample) in &self.path_params {
            let value = match tainted {
                Some((which, value)) if which == name => value,
                _ => sample,
            };
            url = url.replace(&format!("{{{name}}}"), value);
        }
        url
    }
}

#[tokio::test]
async fn every_text_field_of_the_openapi_document_refuses_control_characters() {
    on_every_backend(false, async |app: &TestApp| {
        let started = Instant::now();
        let staff = app.staff_token().await;
        app.library(&staff, "CEN", "central").await;
        let (_, reader) = app.full_reader(READER_PHONE, READER_PASSWORD).await;
        let doc = app.get("/openapi.json", None).await.expect(200, "").body;
        let operations = Operation::all(&doc);
        assert!(operations.len() > 60, "{} operations", operations.len());
        let audit_before = app.audit_log().await.len();

        let mut sent = 0;
        let mut with_body = 0;
        for op in &operations {
            let token = match op.scheme.as_deref() {
                None => None,
                Some("StaffAuth") => Some(staff.as_str()),
                Some(_) => Some(reader.as_str()),
            };
            let send = async |url: &str, body: Option<&Value>| {
                let body = body.map(|b| ("application/json", serde_json::to_vec(b).expect("json")));
                app.raw(op.method.clone(), url, token, body).await
            };
            let base = op.body.as_ref().map(|(body, _)| body);
            // Each string of the body in turn, and an object key.
            if let Some((body, strings)) = &op.body {
                with_body += 1;
                for pointer in strings {
                    for bad in REFUSED {
                        let mut tainted = body.clone();
                        *tainted.pointer_mut(pointer).expect("a string") =
                            json!(format!("a{bad}b"));
                        let answer = send(&op.url(None), Some(&tainted)).await;
                        let shown =
                            format!("{} {} {pointer} {bad:?} on {}", op.method, op.path, app.db);
                        assert_refused(&op.path, &answer, &shown);
                        sent += 1;
                    }
                }
                let mut tainted = body.clone();
                tainted["key\u{0}"] = json!("CEN");
                let answer = send(&op.url(None), Some(&tainted)).await;
                assert_refused(&op.path, &answer, &format!("{} {} key", op.method, op.path));
                sent += 1;
            }
            // Each path parameter, each query parameter, and a query parameter nobody reads.
            for bad in REFUSED_ENCODED {
                for (name, _) in &op.path_params {
                    let url = op.url(Some((name, &format!("a{bad}b"))));
                    let answer = send(&url, base).await;
                    assert_refused(
                        &op.path,
                        &answer,
                        &format!("{} {url} on {}", op.method, app.db),
                    );
                    sent += 1;
                }
                let queries = op.query_params.iter().map(String::as_str).chain(["q"]);
                for name in queries {
                    let url = format!("{}?{name}=a{bad}b", op.url(None));
                    let answer = send(&url, base).await;
                    assert_refused(
                        &op.path,
                        &answer,
                        &format!("{} {url} on {}", op.method, app.db),
                    );
                    sent += 1;
                }
            }
        }
        assert!(with_body >= 30, "{with_body} operations with a body");

        // Nothing ran: no audit entry, the reader's session (logout, Password change) and
        // the staff session still open.
        assert_eq!(app.audit_log().await.len(), audit_before, "{}", app.db);
        app.get("/api/v1/me", Some(&reader)).await.expect(200, "");
        app.get("/api/v1/sip2/stations", Some(&staff))
            .await
            .expect(200, "");
        let elapsed = started.elapsed();
        assert!(sent > 500, "{sent} requests");
        assert!(elapsed < Duration::from_secs(60), "{elapsed:?}");
    })
    .await;
}

#[tokio::test]
async fn routing_and_the_session_come_before_the_text_check() {
    on_every_backend(false, async |app: &TestApp| {
        let staff = app.staff_token().await;
        app.library(&staff, "CEN", "central").await;
        let (card, reader) = app.full_reader(READER_PHONE, READER_PASSWORD).await;
        let tainted = json!({"title": "a\u{0}b"});

        // An unknown route is 404, a wrong method 405, whatever the text.
        app.post("/api/v1/no-such-route", Some(&staff), tainted.clone())
            .await
            .expect(404, "not_found");
        app.get("/api/v1/no%00such", None)
            .await
            .expect(404, "not_found");
        let wrong = app
            .delete("/api/v1/catalog/titles", Some(&staff))
            .await
            .expect(405, "method_not_allowed");
        // The answer names the methods the path has (RFC 9110 §15.5.6).
        assert_eq!(wrong.headers["allow"], "POST");
        let wrong = app
            .delete(&format!("/api/v1/patrons/{card}"), Some(&staff))
            .await
            .expect(405, "method_not_allowed");
        assert_eq!(wrong.headers["allow"], "GET, HEAD, PATCH");
        let wrong = app
            .put("/api/v1/me/holds", Some(&reader), json!({}))
            .await
            .expect(405, "method_not_allowed");
        assert_eq!(wrong.headers["allow"], "GET, HEAD, POST");
        // No session, then the wrong session: 401, then 403, as for any other body.
        app.post("/api/v1/catalog/titles", None, tainted.clone())
            .await
            .expect(401, "unauthorized");
        app.post(
            "/api/v1/catalog/titles",
            Some("not-a-token"),
            tainted.clone(),
        )
        .await
        .expect(401, "unauthorized");
        app.post("/api/v1/catalog/titles", Some(&reader), tainted.clone())
            .await
            .expect(403, "forbidden");
        app.get(&format!("/api/v1/patrons/{card}%00"), Some(&reader))
            .await
            .expect(403, "forbidden");
        let pin = app
            .pin_login(&card, &READER_PHONE[READER_PHONE.len() - 4..])
            .await
            .expect(200, "")
            .token();
        app.put(
            "/api/v1/me/settings",
            Some(&pin),
            json!({"email": "a\u{0}", "sms_number": null, "notification_channels": [],
                   "language": "en", "keep_reading_history": true}),
        )
        .await
        .expect(403, "forbidden");
        // Then the text.
        let refused = app
            .post("/api/v1/catalog/titles", Some(&staff), tainted.clone())
            .await
            .expect(422, "validation_failed");
        assert_eq!(refused.violations(), ["control_character"]);
        // Malformed JSON is still 400, whatever it holds.
        let answer = app
            .raw(
                Method::POST,
                "/api/v1/catalog/titles",
                Some(&staff),
                Some(("application/json", br#"{"title": "a\u0000b""#.to_vec())),
            )
            .await;
        assert_eq!(
            (answer.status.as_u16(), answer.code()),
            (400, "bad_request")
        );
        let answer = app
            .raw(
                Method::POST,
                "/api/v1/catalog/titles",
                Some(&staff),
                Some(("application/json", b"{\"title\": \"a\x00b\"}".to_vec())),
            )
            .await;
        assert_eq!(
            (answer.status.as_u16(), answer.code()),
            (400, "bad_request")
        );
        // The Password change keeps its contract's violation.
        let refused = app
            .put(
                "/api/v1/me/password",
                Some(&reader),
                json!({"current_password": READER_PASSWORD,
                       "new_password": "Lantern\u{0}Harbour42"}),
            )
            .await
            .expect(422, "validation_failed");
        assert_eq!(refused.violations(), ["control_character"]);
        app.get("/api/v1/me", Some(&reader)).await.expect(200, "");
    })
    .await;
}

#[tokio::test]
async fn tab_line_feed_and_carriage_return_are_left_to_each_field() {
    on_every_backend(false, async |app: &TestApp| {
        let staff = app.staff_token().await;
        app.library(&staff, "CEN", "central").await;
        // A single-line field refuses them by its own rule.
        for (path, body, violation) in [
            (
                "/api/v1/catalog/titles",
                json!({"title": "Tao\tTe Ching"}),
                "title_invalid",
            ),
            (
                "/api/v1/notices",
                json!({"title": "Closed\non Monday", "body": "x"}),
                "title_invalid",
            ),
            (
                "/api/v1/patrons",
                json!({"name": "Chan\rTai Man", "phone": "91234567", "category": "adult",
                       "home_library": "CEN"}),
                "name_invalid",
            ),
        ] {
            let refused = app
                .post(path, Some(&staff), body)
                .await
                .expect(422, "validation_failed");
            assert_eq!(refused.violations(), [violation], "{path} on {}", app.db);
        }
        // A multi-line one takes them.
        let text = "Closed on Monday\r\n\tfor the typhoon.\n";
        let created = app
            .post(
                "/api/v1/notices",
                Some(&staff),
                json!({"title": "Typhoon", "body": text}),
            )
            .await
            .expect(201, "");
        assert!(created.body["id"].is_i64());
    })
    .await;
}

// ---------------------------------------------------------------------------------------
// SIP2.
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sip2_field_with_a_control_character_gets_96_and_reaches_nothing() {
    on_every_backend_with(true, true, async |app: &TestApp| {
        app.set_clock(crate::support::hk("2021-06-01T10:00:00"))
            .await;
        let staff = app.staff_token().await;
        app.library(&staff, "CEN", "central").await;
        app.rules(&staff, json!({}), crate::support::standard_rules())
            .await
            .expect(200, "");
        let title = app.title(&staff, "Tao Te Ching").await;
        app.item(&staff, title, "T1", "CEN").await;
        let card = app.reader(&staff, "91234567").await;
        app.post(
            "/api/v1/sip2/stations",
            Some(&staff),
            json!({"username": "sc01", "password": "kiosk-pass-2026", "library_code": "CEN"}),
        )
        .await
        .expect(201, "");
        let audit_before = app.audit_log().await.len();

        let mut station = crate::sip2::Raw::connect(app.sip2.expect("the app serves SIP2")).await;
        let date = "20210601    100000";
        let blank = " ".repeat(18);
        for bad in REFUSED {
            // Before login: a station username with a control character is not a login
            // attempt, just an unreadable message.
            let login = format!("9300CNsc{bad}01|COkiosk-pass-2026|CPCEN|");
            assert_eq!(station.call(&login).await, "96AZFEF6", "{bad:?}");
        }
        let login = station.call("9300CNsc01|COkiosk-pass-2026|CPCEN|").await;
        assert_eq!(login, "941", "on {}", app.db);
        for bad in REFUSED {
            for message in [
                format!("23001{date}AOCEN|AA{card}{bad}|AC|AD4567|"),
                format!("11YN{date}{blank}AOCEN|AA{card}|ABT1{bad}|AC|AD4567|"),
                format!("11YN{date}{blank}AOCEN|AA{card}|ABT1|AC|AD4567|CH{bad}|"),
                format!("37{date}0100HKDBV1.00|AOCEN|AA{card}|AD4567|BK{bad}|"),
            ] {
                let answer = station.call(&message).await;
                assert_eq!(answer, "96AZFEF6", "{message:?} on {}", app.db);
            }
            // The connection stays, as after any unreadable message.
            let status = station
                .call(&format!("23001{date}AOCEN|AA{card}|AC|AD4567|"))
                .await;
            assert!(status.starts_with("24"), "{status}");
        }
        // Nothing was lent, paid or written; the PIN was never tried.
        assert_eq!(app.loan_library("T1").await, None);
        assert_eq!(app.audit_log().await.len(), audit_before, "{}", app.db);
        let lent = station
            .call(&format!("11YN{date}{blank}AOCEN|AA{card}|ABT1|AC|AD4567|"))
            .await;
        assert!(lent.starts_with("121"), "{lent}");
    })
    .await;
}
