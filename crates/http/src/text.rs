//! Text inputs: one check at the edge of every text a client sends, before any handler
//! sees it (docs/http.md, "Text inputs").
//!
//! Refused: the control characters (Unicode `Cc`: U+0000–U+001F and U+007F–U+009F) other
//! than TAB, LF and CR, in every string and object key of a JSON body, every
//! percent-decoded path parameter and every query parameter (name and value). PostgreSQL
//! refuses NUL in text, so without this check the same request would be stored on SQLite
//! and fail on PostgreSQL; and no field of the API means a control character. TAB, LF and
//! CR pass here because the free-text fields that allow line breaks (a notice's body, an
//! enquiry's message and answer, an activity's description) accept them; every
//! single-line field refuses them by its own rule (`title_invalid`, `reason_invalid`, ...).
//!
//! [`CheckedText`] wraps the whole route table of the OpenAPI service, so the check runs
//! after routing (an unknown route is 404, a wrong method 405) for every operation, present
//! and future, without code in any handler. What a refused request gets:
//!
//! - an operation that takes a session: the security scheme's checker answers, after the
//!   token (401) and the scope (403), with 422 `validation_failed`, violations
//!   `["control_character"]` (see [`crate::auth`]), exactly where a malformed body would
//!   get its 400;
//! - the logins (`/auth/login`, `/auth/pin-login`, `/staff/login`): 401
//!   `invalid_credentials`, like any card number or username that cannot be one: at once,
//!   no hash, not counted (it names no account, so it guesses nothing);
//! - `/auth/password-reset`: 202 `{}`, as for an email nobody has (nothing is sent), once
//!   the body has its shape: a body without `email`, or with a wrong type, is 400
//!   `bad_request` like any malformed body (the shape is checked before the text there,
//!   because the text's answer is an acceptance);
//! - every other operation: 422 `validation_failed`, violations `["control_character"]`.

use std::collections::HashMap;

use poem::http::{Method, StatusCode};
use poem::{Endpoint, EndpointExt, IntoResponse, Request, Response};
use poem_openapi::OpenApi;
use poem_openapi::payload::Json;
use poem_openapi::registry::{MetaApi, Registry};
use serde_json::Value;

use crate::error::ApiError;

/// The routes whose refusal is a failed login.
const LOGIN_PATHS: &[&str] = &[
    "/api/v1/auth/login",
    "/api/v1/auth/pin-login",
    "/api/v1/staff/login",
];
/// The route whose answer is the same whatever the email.
const PASSWORD_RESET_PATH: &str = "/api/v1/auth/password-reset";

/// Whether `c` is refused in a text a client sends: a control character other than TAB, LF
/// and CR.
pub(crate) fn is_refused(c: char) -> bool {
    c.is_control() && !matches!(c, '\t' | '\n' | '\r')
}

/// Whether `text` holds a refused character.
pub(crate) fn refuses(text: &str) -> bool {
    text.chars().any(is_refused)
}

/// Whether a JSON body holds a refused character in any string or object key. A body that
/// is not JSON holds none: its operation answers 400 when it reads it, as before.
pub(crate) fn body_refuses(body: &[u8]) -> bool {
    may_hold_control(body)
        && serde_json::from_slice::<Value>(body).is_ok_and(|value| value_refuses(&value))
}

/// A cheap first look, so that the usual body is parsed once: in valid JSON a control
/// character can only be written as an escape (`\u0000`, `\n`, ...: a backslash), or raw
/// as DEL (0x7F) or a C1 character (0xC2 0x80–0x9F in UTF-8); raw C0 bytes inside a string
/// are not JSON at all.
fn may_hold_control(body: &[u8]) -> bool {
    body.iter().any(|&b| b == b'\\' || b == 0x7F)
        || body
            .windows(2)
            .any(|w| w[0] == 0xC2 && (0x80..=0x9F).contains(&w[1]))
}

/// Every string and key, at any depth (serde_json limits the depth of what it parses).
fn value_refuses(value: &Value) -> bool {
    match value {
        Value::String(text) => refuses(text),
        Value::Array(items) => items.iter().any(value_refuses),
        Value::Object(map) => map
            .iter()
            .any(|(key, value)| refuses(key) || value_refuses(value)),
        Value::Null | Value::Bool(_) | Value::Number(_) => false,
    }
}

/// Whether the path parameters (percent-decoded, as the operation reads them) or the query
/// parameters (names and values, decoded) of a routed request hold a refused character.
fn params_refuse(req: &Request) -> bool {
    let path = req.path_params::<Vec<String>>().unwrap_or_default();
    let query = req.params::<Vec<(String, String)>>().unwrap_or_default();
    path.iter().any(|p| refuses(p)) || query.iter().any(|(k, v)| refuses(k) || refuses(v))
}

/// What a request with a refused character gets on a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    /// 422 `validation_failed`, `["control_character"]`.
    Invalid,
    /// 401 `invalid_credentials`.
    FailedLogin,
    /// 202 `{}`.
    ResetAccepted,
}

impl Refusal {
    fn of(path: &str) -> Self {
        if LOGIN_PATHS.contains(&path) {
            Refusal::FailedLogin
        } else if path == PASSWORD_RESET_PATH {
            Refusal::ResetAccepted
        } else {
            Refusal::Invalid
        }
    }

    fn answer(self) -> Response {
        match self {
            Refusal::Invalid => control_character().into_response(),
            Refusal::FailedLogin => ApiError::invalid_credentials().into_response(),
            Refusal::ResetAccepted => {
                let mut resp = Json(Value::Object(serde_json::Map::new())).into_response();
                resp.set_status(StatusCode::ACCEPTED);
                resp
            }
        }
    }
}

/// 422 `validation_failed` with the violation `control_character`.
pub(crate) fn control_character() -> ApiError {
    ApiError::validation_failed(["control_character"])
}

/// Set on a request to an operation that takes a session when its text was refused: the
/// security scheme's checker answers [`control_character`] once the session is checked.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RefusedText;

/// What the check needs to know of an operation (from its OpenAPI description).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Operation {
    /// It takes a session (every one of its security requirements names a scheme).
    protected: bool,
    /// It reads a request body.
    has_body: bool,
}

/// The operations the document describes, by their route's shape and method.
fn operations(apis: &[MetaApi]) -> HashMap<(String, Method), Operation> {
    apis.iter()
        .flat_map(|api| &api.paths)
        .flat_map(|path| {
            path.operations.iter().map(|op| {
                let protected =
                    !op.security.is_empty() && op.security.iter().all(|s| !s.is_empty());
                let operation = Operation {
                    protected,
                    has_body: op.request.is_some(),
                };
                ((shape(&path.path), op.method.clone()), operation)
            })
        })
        .collect()
}

/// A route path with its variable segments blanked, so that the route table's
/// `/libraries/:param0` and the document's `/libraries/{code}` compare equal.
fn shape(path: &str) -> String {
    path.split('/')
        .map(|segment| {
            if segment.starts_with(':') || segment.starts_with('{') {
                "{}"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// The APIs of `T`, each of their operations behind the text check.
#[derive(Debug)]
pub(crate) struct CheckedText<T>(pub(crate) T);

impl<T: OpenApi> OpenApi for CheckedText<T> {
    fn meta() -> Vec<MetaApi> {
        T::meta()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }

    fn add_routes(
        self,
        route_table: &mut HashMap<String, HashMap<Method, poem::endpoint::BoxEndpoint<'static>>>,
    ) {
        let operations = operations(&T::meta());
        let mut inner = HashMap::new();
        self.0.add_routes(&mut inner);
        for (path, endpoints) in inner {
            let refusal = Refusal::of(&path);
            let methods = route_table.entry(path.clone()).or_default();
            for (method, endpoint) in endpoints {
                // An operation the document does not describe (never, with poem-openapi)
                // is refused here rather than reached.
                let operation = operations
                    .get(&(shape(&path), method.clone()))
                    .copied()
                    .unwrap_or(Operation {
                        protected: false,
                        has_body: true,
                    });
                let checked = Checked {
                    endpoint,
                    operation,
                    refusal,
                };
                methods.insert(method, checked.boxed());
            }
        }
    }
}

/// One operation behind the check.
struct Checked {
    endpoint: poem::endpoint::BoxEndpoint<'static>,
    operation: Operation,
    refusal: Refusal,
}

impl Checked {
    /// Whether the request holds a refused character. The body was read whole by
    /// [`crate::middleware::guard_request`] (within its limit); it is put back as it was.
    async fn refuses(&self, req: &mut Request) -> Result<bool, ApiError> {
        if params_refuse(req) {
            return Ok(true);
        }
        if !self.operation.has_body {
            return Ok(false);
        }
        let bytes = req
            .take_body()
            .into_bytes()
            .await
            .map_err(|_| ApiError::bad_request())?;
        let refused = body_refuses(&bytes);
        req.set_body(bytes);
        Ok(refused)
    }
}

impl Endpoint for Checked {
    type Output = Response;

    async fn call(&self, mut req: Request) -> poem::Result<Response> {
        if !self.refuses(&mut req).await? {
            return self.endpoint.call(req).await;
        }
        tracing::debug!(path = req.uri().path(), "control character in a request");
        // An operation that takes a session answers once the session is checked; the
        // forgotten-Password route answers its "accepted" only to a body of the right shape
        // (a body without `email` is malformed, 400, whatever it holds), so it too reads the
        // body first and then answers for the refused text.
        if self.operation.protected || self.refusal == Refusal::ResetAccepted {
            req.set_data(RefusedText);
            return self.endpoint.call(req).await;
        }
        Ok(self.refusal.answer())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_but_tab_lf_and_cr_are_refused() {
        for c in ('\u{0}'..='\u{1f}').chain('\u{7f}'..='\u{9f}') {
            let expected = !matches!(c, '\t' | '\n' | '\r');
            assert_eq!(is_refused(c), expected, "{:?}", c);
        }
        for c in [
            ' ', 'a', '~', '\u{a0}', '陳', '\u{200b}', '\u{2028}', '\u{feff}',
        ] {
            assert!(!is_refused(c), "{c:?}");
        }
        assert!(refuses("a\u{0}b"));
        assert!(refuses("\u{85}"));
        assert!(!refuses("line one\r\nline two\tend"));
        assert!(!refuses(""));
    }

    #[test]
    fn every_string_and_key_of_a_body_is_looked_at() {
        let refused: &[&str] = &[
            r#"{"name":"a\u0000b"}"#,
            r#"{"name":"a\u0007b"}"#,
            r#"{"name":"a\u007fb"}"#,
            "{\"name\":\"a\u{7f}b\"}",
            r#"{"name":"a\u0085b"}"#,
            "{\"name\":\"a\u{85}b\"}",
            r#"{"name":"\b"}"#,
            r#"{"name":"\f"}"#,
            r#"{"a\u0000":1}"#,
            r#"{"scope":{"library_code":"\u0001"}}"#,
            r#"{"codes":["CEN","\u009f"]}"#,
            r#"[[[{"x":[null,true,1.5,"\u001f"]}]]]"#,
            r#""\u0000""#,
        ];
        for body in refused {
            assert!(body_refuses(body.as_bytes()), "{body}");
        }
        let passed: &[&str] = &[
            r#"{"name":"Chan Tai Man","phone":"91234567"}"#,
            r#"{"body":"line one\nline two\r\n\tindented"}"#,
            r#"{"path":"C:\\u0000"}"#,
            r#"{"quote":"\"\/"}"#,
            r#"{"name":"陳大文 \u00a0 \u00e9"}"#,
            r#"{"n":1,"b":false,"z":null,"a":[1,2]}"#,
            // Not JSON: the operation answers 400 itself.
            "{\"name\":\"a\u{0}b\"}",
            r#"{"name":"\u0000"#,
            "",
        ];
        for body in passed {
            assert!(!body_refuses(body.as_bytes()), "{body}");
        }
    }

    #[test]
    fn the_first_look_misses_nothing_the_walk_finds() {
        // Every character a JSON string may hold raw or escaped.
        for c in ('\u{0}'..='\u{a0}').chain(['陳', '\u{2028}']) {
            for body in [
                serde_json::to_string(&serde_json::json!({ "k": format!("a{c}b") })).expect("json"),
                format!("{{\"k\":\"a\\u{:04x}b\"}}", u32::from(c)),
            ] {
                let walked = serde_json::from_slice::<Value>(body.as_bytes())
                    .is_ok_and(|v| value_refuses(&v));
                assert_eq!(body_refuses(body.as_bytes()), walked, "{body:?}");
                assert_eq!(walked, is_refused(c), "{body:?}");
            }
        }
    }

    #[test]
    fn route_shapes_ignore_parameter_names() {
        assert_eq!(
            shape("/api/v1/patrons/:param0/holds/:param1"),
            shape("/api/v1/patrons/{card_number}/holds/{id}")
        );
        assert_ne!(shape("/api/v1/me/holds"), shape("/api/v1/me/{x}"));
    }

    #[test]
    fn every_operation_is_known_and_the_special_routes_are_public_logins() {
        let operations = operations(&<crate::api::Apis as OpenApi>::meta());
        assert!(operations.len() > 50, "{}", operations.len());
        for path in LOGIN_PATHS.iter().chain([&PASSWORD_RESET_PATH]) {
            let operation = operations
                .get(&(shape(path), Method::POST))
                .unwrap_or_else(|| panic!("no POST {path}"));
            assert_eq!(
                *operation,
                Operation {
                    protected: false,
                    has_body: true
                },
                "{path}"
            );
        }
        let staff = operations
            .get(&(shape("/api/v1/patrons/{card_number}"), Method::GET))
            .expect("GET /patrons/{card_number}");
        assert!(staff.protected && !staff.has_body);
    }

    #[test]
    fn the_answers() {
        let status = |r: Refusal| r.answer().status().as_u16();
        assert_eq!(status(Refusal::of("/api/v1/patrons")), 422);
        assert_eq!(status(Refusal::of("/api/v1/staff/login")), 401);
        assert_eq!(status(Refusal::of("/api/v1/auth/pin-login")), 401);
        assert_eq!(status(Refusal::of("/api/v1/auth/password-reset")), 202);
        assert_eq!(
            control_character().violations(),
            Some(&["control_character".to_owned()][..])
        );
    }
}
