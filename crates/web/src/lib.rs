//! The readers' web pages: sign in, the forced Password change, My Account, the catalogue,
//! My Info, My Setting, Ask a Librarian, the libraries and help, served by the server
//! itself under `/`, in English and Traditional Chinese (docs/web.md).
//!
//! Invariants:
//! - One more thin inbound adapter: every use case is a call of the application layer
//!   ([`library_app::Services`]), as the JSON API makes it; the pages hold no rule.
//! - Server-rendered HTML that works without JavaScript: forms, Post/Redirect/Get; the
//!   script only enhances (live Password rules, renewing without a reload).
//! - Every string comes from the translations (`i18n`); both languages have every key.
//! - Every response carries the security headers (`guard`); pages are never cached;
//!   every form carries the CSRF token and a POST without it changes nothing.
//! - Nothing a browser sends produces a 500: bad input is answered with the page and its
//!   errors in words, unknown paths with a 404 page.

mod assets;
mod ctx;
mod i18n;
mod layout;
mod pages;

use library_app::Services;
use maud::html;
use poem::PathPattern;
use poem::http::{HeaderValue, StatusCode, header};
use poem::{Endpoint, EndpointExt, IntoResponse, Request, Response};

use crate::ctx::{Ctx, FORM_LIMIT};

/// The content security policy of every page: our own script and style only, no inline
/// script, no frames, forms to ourselves only.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
                   connect-src 'self'; form-action 'self'; frame-ancestors 'none'; \
                   base-uri 'none'";

/// The whole site: the readers' pages, and `api` (the JSON API, its document and page,
/// the health and readiness routes) where its paths are.
pub fn site<E>(state: Services, api: E) -> impl Endpoint<Output = Response>
where
    E: Endpoint + 'static,
{
    Site {
        api: api.map_to_response(),
        pages: pages::routes().around(guard).data(state),
    }
}

/// Paths served by the API: everything under `/api/` and `/docs`, the OpenAPI document,
/// health and readiness. Every other path is a page (or the 404 page).
fn is_api_path(path: &str) -> bool {
    path.starts_with("/api/")
        || path == "/api"
        || path == "/docs"
        || path.starts_with("/docs/")
        || matches!(path, "/openapi.json" | "/health" | "/ready" | "/metrics")
}

/// Sends each request to the API or to the pages by its path (the two keep their own
/// routing, errors and headers).
struct Site<A, P> {
    api: A,
    pages: P,
}

impl<A, P> Endpoint for Site<A, P>
where
    A: Endpoint<Output = Response>,
    P: Endpoint,
{
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        if is_api_path(req.uri().path()) {
            self.api.call(req).await
        } else {
            self.pages.call(req).await.map(IntoResponse::into_response)
        }
    }
}

/// Around every page: bounds the body, turns every failure into a page in the visitor's
/// language, and adds the security headers.
async fn guard<E: Endpoint>(ep: E, mut req: Request) -> poem::Result<Response> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    // What an error page needs, taken before the request goes in (no database read).
    let basic = Ctx::basic(&req);
    let mut resp = if declared.is_some_and(|n| n > FORM_LIMIT as u64) {
        error_page(basic, StatusCode::PAYLOAD_TOO_LARGE)
    } else {
        let body = req.take_body();
        match body.into_bytes_limit(FORM_LIMIT).await {
            Err(poem::error::ReadBodyError::Io(err))
                if err.kind() == std::io::ErrorKind::TimedOut =>
            {
                error_page(basic, StatusCode::REQUEST_TIMEOUT)
            }
            Err(_) => error_page(basic, StatusCode::PAYLOAD_TOO_LARGE),
            Ok(bytes) => {
                req.set_body(bytes);
                let path = req.uri().path().to_owned();
                let (mut resp, pattern) = match ep.call(req).await {
                    Ok(r) => {
                        let r = r.into_response();
                        let pattern = r.data::<PathPattern>().cloned();
                        if r.status() == StatusCode::METHOD_NOT_ALLOWED {
                            (error_page(basic, StatusCode::METHOD_NOT_ALLOWED), pattern)
                        } else {
                            (r, pattern)
                        }
                    }
                    Err(err) => {
                        let status = err.status();
                        if status.is_server_error() {
                            tracing::error!(error = %err, path, "web page failed");
                        }
                        let pattern = err.data::<PathPattern>().cloned();
                        (error_page(basic, status), pattern)
                    }
                };
                // The route's template for the metrics, written like the API's
                // (`/libraries/{code}`); a path no route matched carries none.
                match pattern {
                    Some(p) => resp.set_data(PathPattern(template_of(&p.0).into())),
                    None => {
                        resp.extensions_mut().remove::<PathPattern>();
                    }
                }
                resp
            }
        }
    };
    let headers = resp.headers_mut();
    for (name, value) in [
        ("content-security-policy", CSP),
        ("referrer-policy", "no-referrer"),
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("cross-origin-opener-policy", "same-origin"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    Ok(resp)
}

/// A poem route pattern (`/libraries/:code`) written as a template (`/libraries/{code}`).
fn template_of(pattern: &str) -> String {
    pattern
        .split('/')
        .map(|s| match s.strip_prefix(':') {
            Some(name) => format!("{{{name}}}"),
            None => s.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// The page of a failure: not found, a form too large, or the service unavailable.
fn error_page(ctx: poem::Result<Ctx>, status: StatusCode) -> Response {
    let Ok(ctx) = ctx else {
        return Response::builder()
            .status(StatusCode::SERVICE_UNAVAILABLE)
            .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
            .body("Service unavailable / 服務暫停");
    };
    let lang = ctx.lang;
    let (title, text) = match status {
        StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED => {
            ("error-not-found-title", "error-not-found")
        }
        StatusCode::PAYLOAD_TOO_LARGE => ("error-too-large-title", "error-too-large"),
        s if s.is_client_error() => ("error-bad-request-title", "error-bad-request"),
        _ => ("error-unavailable-title", "error-unavailable"),
    };
    let status = if status.is_server_error() {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        status
    };
    let title = lang.t(title);
    let main = html! {
        h1 { (title) }
        p { (lang.t(text)) }
        p { a href="/" { (lang.t("error-home")) } }
    };
    layout::page(ctx, status, &title, main)
}

#[cfg(test)]
mod tests {
    use super::{is_api_path, template_of};

    #[test]
    fn a_route_pattern_is_written_as_a_template() {
        assert_eq!(template_of("/libraries/:code"), "/libraries/{code}");
        assert_eq!(
            template_of("/account/holds/:id/cancel"),
            "/account/holds/{id}/cancel"
        );
        assert_eq!(template_of("/"), "/");
    }

    #[test]
    fn the_api_keeps_its_paths_and_every_other_is_a_page() {
        for api in [
            "/api/v1/me",
            "/api",
            "/docs",
            "/docs/index.html",
            "/openapi.json",
            "/health",
            "/ready",
        ] {
            assert!(is_api_path(api), "{api}");
        }
        for page in [
            "/",
            "/account",
            "/apiary",
            "/docsx",
            "/health/x",
            "/static/site.css",
            "/sign-in",
        ] {
            assert!(!is_api_path(page), "{page}");
        }
    }
}
