//! One request's context: the language, the reader's session from its cookie, the CSRF
//! token, the cookies to set, and the answers (a page, a redirect).
//!
//! Cookies (all `__Host-`: `Secure`, `Path=/`, no `Domain`):
//! - `__Host-session`: the session token, exactly the bearer token of the API (the same
//!   scopes, expiry and revocation), `HttpOnly`, `SameSite=Lax`, no `Max-Age` (it ends
//!   with the browser, or earlier with the session);
//! - `__Host-csrf`: a random token that every form repeats in its `csrf` field (the
//!   double-submit pattern); a POST whose field does not match is refused (403);
//! - `__Host-lang`: the language chosen (`en`, `zh-Hant`); a signed-in reader's choice is
//!   also saved in their settings, and read from there at sign-in.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use library_app::Services;
use library_core::PatronId;
use library_credentials::{AttemptSource, AuthError, Scope, Session};
use poem::http::{StatusCode, header};
use poem::{Body, Request, Response};
use subtle::ConstantTimeEq;

use crate::i18n::Lang;

pub(crate) const SESSION_COOKIE: &str = "__Host-session";
pub(crate) const CSRF_COOKIE: &str = "__Host-csrf";
pub(crate) const LANG_COOKIE: &str = "__Host-lang";

/// The largest form body the pages accept (the API's limits are its own).
pub(crate) const FORM_LIMIT: usize = 64 * 1024;

/// A signed-in reader.
#[derive(Debug, Clone)]
pub(crate) struct Reader {
    /// Their session.
    pub(crate) session: Session,
    /// Who they are.
    pub(crate) patron: PatronId,
}

/// The context of one request.
pub(crate) struct Ctx {
    pub(crate) services: Services,
    pub(crate) lang: Lang,
    /// Whether the language was chosen in this browser (the cookie), not guessed from
    /// `Accept-Language`.
    pub(crate) lang_chosen: bool,
    pub(crate) csrf: String,
    csrf_known: bool,
    /// The reader's session, when the cookie opens a live reader session.
    pub(crate) session: Option<Session>,
    /// Where attempts at secrets come from (the peer's address), as in the API.
    pub(crate) source: AttemptSource,
    /// The path and query of this request (where the language switch comes back to).
    pub(crate) here: String,
    cookies: Vec<String>,
}

impl std::fmt::Debug for Ctx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ctx")
            .field("lang", &self.lang)
            .field("signed_in", &self.session.is_some())
            .finish_non_exhaustive()
    }
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub(crate) fn cookie<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

impl Ctx {
    /// The context of `req`: reads the cookies and opens the session (one read).
    pub(crate) async fn load(req: &Request) -> poem::Result<Ctx> {
        let mut ctx = Ctx::basic(req)?;
        if let Some(token) = cookie(req, SESSION_COOKIE) {
            match ctx.services.credentials.authenticate(token).await {
                Ok(session) if session.patron().is_some() => ctx.session = Some(session),
                Ok(_) | Err(AuthError::Unauthorized) => {
                    // Expired, revoked, or not a reader's: forget it.
                    ctx.clear_cookie(SESSION_COOKIE);
                }
                Err(err) => {
                    tracing::error!(error = %err, "web: opening the session failed");
                    return Err(poem::Error::from_status(StatusCode::SERVICE_UNAVAILABLE));
                }
            }
        }
        Ok(ctx)
    }

    /// The context of `req` without its session (no database read): for error pages.
    pub(crate) fn basic(req: &Request) -> poem::Result<Ctx> {
        let services = req
            .data::<Services>()
            .cloned()
            .ok_or_else(|| poem::Error::from_status(StatusCode::INTERNAL_SERVER_ERROR))?;
        let chosen = cookie(req, LANG_COOKIE).and_then(Lang::from_tag);
        let lang = chosen.unwrap_or_else(|| {
            Lang::from_accept_language(
                req.headers()
                    .get(header::ACCEPT_LANGUAGE)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or(""),
            )
        });
        let (csrf, csrf_known) = match cookie(req, CSRF_COOKIE) {
            Some(token) if token.len() == 43 && token.bytes().all(is_token_byte) => {
                (token.to_owned(), true)
            }
            _ => {
                let mut bytes = [0u8; 32];
                services.random.fill(&mut bytes);
                (URL_SAFE_NO_PAD.encode(bytes), false)
            }
        };
        let source = match req.remote_addr().as_socket_addr() {
            Some(addr) => AttemptSource(format!("ip:{}", addr.ip())),
            None => AttemptSource("ip:unknown".to_owned()),
        };
        let here = req
            .uri()
            .path_and_query()
            .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned());
        Ok(Ctx {
            services,
            lang,
            lang_chosen: chosen.is_some(),
            csrf,
            csrf_known,
            session: None,
            source,
            here,
            cookies: Vec::new(),
        })
    }

    /// The signed-in reader with a `full` session; otherwise the redirect to take: to the
    /// sign-in page (coming back here afterwards), or to the forced Password change.
    /// (The location to redirect to.)
    pub(crate) fn reader(&self) -> Result<Reader, String> {
        match (
            &self.session,
            self.session.as_ref().and_then(Session::patron),
        ) {
            (Some(session), Some(patron)) if session.scope == Scope::Full => Ok(Reader {
                session: session.clone(),
                patron,
            }),
            (Some(session), _) if session.scope == Scope::ChangePasswordOnly => {
                Err("/password".to_owned())
            }
            _ => Err(format!(
                "/sign-in?next={}",
                form_urlencoded::byte_serialize(self.here.as_bytes()).collect::<String>()
            )),
        }
    }

    /// Whether a reader is signed in (any reader session).
    pub(crate) fn signed_in(&self) -> bool {
        self.session.is_some()
    }

    /// Whether the form repeats this browser's CSRF token.
    pub(crate) fn csrf_ok(&self, form: &FormData) -> bool {
        self.csrf_known
            && form
                .get("csrf")
                .is_some_and(|sent| bool::from(sent.as_bytes().ct_eq(self.csrf.as_bytes())))
    }

    /// Sets a `__Host-` cookie for the browser session (`HttpOnly`, `SameSite=Lax`).
    pub(crate) fn set_cookie(&mut self, name: &str, value: &str) {
        self.cookies.push(format!(
            "{name}={value}; Path=/; Secure; HttpOnly; SameSite=Lax"
        ));
    }

    /// Sets a `__Host-` cookie kept for a year (the language).
    pub(crate) fn set_lasting_cookie(&mut self, name: &str, value: &str) {
        self.cookies.push(format!(
            "{name}={value}; Path=/; Max-Age=31536000; Secure; HttpOnly; SameSite=Lax"
        ));
    }

    /// Removes a cookie.
    pub(crate) fn clear_cookie(&mut self, name: &str) {
        self.cookies.push(expired_cookie(name));
    }

    /// `resp` with the cookies this request set (and the CSRF cookie when new).
    pub(crate) fn finish(mut self, mut resp: Response) -> Response {
        if !self.csrf_known {
            let csrf = self.csrf.clone();
            self.set_cookie(CSRF_COOKIE, &csrf);
        }
        for c in self.cookies {
            if let Ok(value) = c.parse() {
                resp.headers_mut().append(header::SET_COOKIE, value);
            }
        }
        resp
    }

    /// A redirect (303) to `to`, with the cookies.
    pub(crate) fn redirect(self, to: &str) -> Response {
        self.finish(see_other(to))
    }
}

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

fn expired_cookie(name: &str) -> String {
    format!("{name}=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Lax")
}

/// A 303 See Other to `to` (Post/Redirect/Get).
pub(crate) fn see_other(to: &str) -> Response {
    Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header(header::LOCATION, to)
        .finish()
}

/// Where to go after signing in: a local path only (never another site).
pub(crate) fn local_target(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_owned(),
        _ => "/account".to_owned(),
    }
}

/// A submitted form (`application/x-www-form-urlencoded`): every field in order, repeats
/// kept (checkboxes).
#[derive(Debug, Default)]
pub(crate) struct FormData {
    fields: Vec<(String, String)>,
}

impl FormData {
    /// Reads the body (the middleware has bounded it already).
    pub(crate) async fn read(body: Body) -> poem::Result<FormData> {
        let bytes = body
            .into_bytes_limit(FORM_LIMIT)
            .await
            .map_err(|_| poem::Error::from_status(StatusCode::PAYLOAD_TOO_LARGE))?;
        Ok(FormData::parse(&bytes))
    }

    /// Parses an urlencoded form.
    pub(crate) fn parse(bytes: &[u8]) -> FormData {
        FormData {
            fields: form_urlencoded::parse(bytes)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        }
    }

    /// The first value of `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first value of `name`, or "".
    pub(crate) fn text(&self, name: &str) -> &str {
        self.get(name).unwrap_or("")
    }

    /// Every value of `name`.
    pub(crate) fn all(&self, name: &str) -> Vec<&str> {
        self.fields
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// The query string of `req` as a form.
pub(crate) fn query(req: &Request) -> FormData {
    FormData::parse(req.uri().query().unwrap_or("").as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_keep_repeats_and_decode() {
        let form = FormData::parse(b"loan=1&loan=2&q=harry+potter&x=%E5%9C%96");
        assert_eq!(form.all("loan"), ["1", "2"]);
        assert_eq!(form.get("q"), Some("harry potter"));
        assert_eq!(form.text("x"), "圖");
        assert_eq!(form.text("none"), "");
    }

    #[test]
    fn only_local_targets_after_sign_in() {
        assert_eq!(local_target(Some("/catalogue?q=a")), "/catalogue?q=a");
        assert_eq!(local_target(Some("//evil.example")), "/account");
        assert_eq!(local_target(Some("https://evil.example")), "/account");
        assert_eq!(local_target(Some("/\\evil.example")), "/account");
        assert_eq!(local_target(None), "/account");
    }
}
