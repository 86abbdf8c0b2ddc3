//! The outermost layer: request body limits and the translation of every failure into the
//! contract's JSON error (see [`crate::error::from_poem_error`]).

use poem::PathPattern;
use poem::http::header::CONTENT_LENGTH;
use poem::{Endpoint, IntoResponse, Request, Response};

use crate::error::{ApiError, from_poem_error};

/// Body limit of the credential routes (logins, Password and PIN changes, SIP2 station
/// accounts, staff users) and of the public visitor form: 8 KiB.
pub(crate) const AUTH_BODY_LIMIT: usize = 8 * 1024;
/// Body limit of every other route: 1 MiB.
pub(crate) const BODY_LIMIT: usize = 1024 * 1024;

const CREDENTIAL_PATHS: &[&str] = &[
    "/api/v1/auth/",
    "/api/v1/staff/login",
    "/api/v1/staff/users",
    "/api/v1/me/password",
    "/api/v1/me/pin",
    "/api/v1/sip2/",
    // Not a credential, but a public form anyone may post to: kept as small.
    "/api/v1/visitors",
];

fn body_limit(path: &str) -> usize {
    if CREDENTIAL_PATHS.iter().any(|p| path.starts_with(p)) {
        AUTH_BODY_LIMIT
    } else {
        BODY_LIMIT
    }
}

/// Reads the body up to the route's limit before anything else sees it: a declared
/// `Content-Length` over the limit is refused at once, and a body streamed without one
/// (chunked) is refused as soon as it passes the limit. Then runs the endpoint and turns
/// any error into the contract's JSON.
///
/// The answer carries the OpenAPI template its path matches as its [`PathPattern`]
/// (`/api/v1/patrons/{card_number}`; `/docs` for the interactive page's files), or none
/// when no declared path matches: the metrics' `route` label, read by the connection loop.
/// The template is found by matching the path against the document's paths (the table
/// built once at start), because the router poem-openapi builds knows its routes only as
/// `/:param0`-style patterns.
pub(crate) async fn guard_request<E: Endpoint>(
    ep: E,
    req: Request,
    allow: std::sync::Arc<crate::allow::AllowTable>,
) -> poem::Result<Response> {
    let path = req.uri().path();
    let template = allow.template(path).or_else(|| {
        (path == "/docs" || path.starts_with("/docs/")).then(|| std::sync::Arc::from("/docs"))
    });
    let mut resp = guard(ep, req, &allow).await;
    match template {
        Some(template) => resp.set_data(PathPattern(template)),
        None => {
            resp.extensions_mut().remove::<PathPattern>();
        }
    }
    Ok(resp)
}

async fn guard<E: Endpoint>(ep: E, mut req: Request, allow: &crate::allow::AllowTable) -> Response {
    let path = req.uri().path().to_owned();
    let limit = body_limit(req.uri().path());
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return secured(ApiError::payload_too_large().into_response());
    }
    let body = req.take_body();
    match body.into_bytes_limit(limit).await {
        Ok(bytes) => req.set_body(bytes),
        Err(poem::error::ReadBodyError::PayloadTooLarge) => {
            return secured(ApiError::payload_too_large().into_response());
        }
        // The connection loop's body deadline passed (a client sending too slowly).
        Err(poem::error::ReadBodyError::Io(err)) if err.kind() == std::io::ErrorKind::TimedOut => {
            return secured(ApiError::request_timeout().into_response());
        }
        Err(_) => return secured(ApiError::bad_request().into_response()),
    }
    let mut resp = match ep.call(req).await {
        Ok(resp) => resp.into_response(),
        Err(err) => from_poem_error(err).into_response(),
    };
    // A wrong method names the right ones (RFC 9110 §15.5.6).
    if resp.status() == poem::http::StatusCode::METHOD_NOT_ALLOWED
        && let Some(methods) = allow.allow(&path)
        && let Ok(value) = poem::http::HeaderValue::from_str(&methods)
    {
        resp.headers_mut().insert(poem::http::header::ALLOW, value);
    }
    secured(resp)
}

/// The headers every API answer carries: answers may hold a token or personal data, so
/// nothing is stored by a browser or a shared cache (`Cache-Control: no-store`, unless the
/// route set its own), content is never sniffed into another type, and no address is sent
/// on as a `Referer` (a path may name a card or a loan).
pub(crate) fn secured(mut resp: Response) -> Response {
    use poem::http::HeaderValue;
    use poem::http::header::{CACHE_CONTROL, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS};
    let headers = resp.headers_mut();
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    if !headers.contains_key(CACHE_CONTROL) {
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}

/// The answer to a panic in a handler (a bug: logged, and answered like any 500).
pub(crate) fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    ApiError::internal(&"handler panicked").into_response()
}
