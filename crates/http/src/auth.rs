//! Authentication and scopes, decided here and nowhere else.
//!
//! Each protected operation takes one of the security schemes below as an argument. The
//! scheme's checker (run by poem-openapi before the body is parsed) does, in order:
//!
//! 1. no bearer token, or one that opens no live session → 401 `unauthorized`;
//! 2. the session's scope against the operation's [`Access`] ([`Access::check`], the one
//!    table) → 403 `password_change_required` or 403 `forbidden`;
//! 3. for staff operations, the staff user must still exist → 401 `unauthorized`;
//! 4. a request whose text the edge refused ([`crate::text`]) → 422 `validation_failed`
//!    (`control_character`), where a malformed body would get its 400.
//!
//! Routing comes first (an unknown route is 404 whatever the token), because poem routes
//! before it runs an operation's extractors.

use library_credentials::{AttemptSource, Scope, Session, StoredStaff};
use poem::Request;
use poem_openapi::SecurityScheme;
use poem_openapi::auth::Bearer;

use crate::error::ApiError;
use crate::state::AppState;
use crate::text::{RefusedText, control_character};

/// What an operation needs from the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    /// Anything a reader does with a Password session (`full` only).
    Reader,
    /// Changing the Password: `full` or `change_password_only`.
    ChangePassword,
    /// Listing loans and renewing: `full` or `pin`.
    Loans,
    /// Ending the session: any session.
    Logout,
    /// Staff operations: a `staff` session.
    Staff,
}

impl Access {
    /// The access table: may a session of `scope` do this?
    pub(crate) fn check(self, scope: Scope) -> Result<(), ApiError> {
        match (scope, self) {
            (_, Access::Logout) => Ok(()),
            (Scope::ChangePasswordOnly, Access::ChangePassword) => Ok(()),
            // Only the Password change and logout (docs/credentials.md, Defaults).
            (Scope::ChangePasswordOnly, _) => Err(ApiError::password_change_required()),
            (Scope::Full, Access::Reader | Access::ChangePassword | Access::Loans) => Ok(()),
            (Scope::Pin, Access::Loans) => Ok(()),
            (Scope::Staff, Access::Staff) => Ok(()),
            _ => Err(ApiError::forbidden()),
        }
    }
}

/// An authenticated and authorised caller.
#[derive(Debug, Clone)]
pub(crate) struct Principal {
    /// The session the token opened.
    pub(crate) session: Session,
    /// The staff user, for staff sessions.
    pub(crate) staff: Option<StoredStaff>,
}

/// Where an attempt at a secret comes from, for the per-source limit: the peer's IP.
/// (Behind a reverse proxy this is the proxy; trusting `X-Forwarded-For` is a deployment
/// decision not taken yet.)
pub(crate) fn attempt_source(req: &Request) -> AttemptSource {
    match req.remote_addr().as_socket_addr() {
        Some(addr) => AttemptSource(format!("ip:{}", addr.ip())),
        None => AttemptSource("ip:unknown".to_owned()),
    }
}

async fn guard(req: &Request, bearer: Bearer, access: Access) -> poem::Result<Principal> {
    let state = req
        .data::<AppState>()
        .ok_or_else(|| ApiError::internal(&"application state missing"))?;
    // The session and its staff user in one read.
    let (session, staff) = state
        .credentials
        .authenticate_with_staff(&bearer.token)
        .await
        .map_err(ApiError::from)?;
    access.check(session.scope)?;
    let staff = if access == Access::Staff {
        match staff {
            Some(staff) => Some(staff),
            None => return Err(ApiError::unauthorized().into()),
        }
    } else {
        None
    };
    if req.data::<RefusedText>().is_some() {
        return Err(control_character().into());
    }
    Ok(Principal { session, staff })
}

async fn reader(req: &Request, bearer: Bearer) -> poem::Result<Principal> {
    guard(req, bearer, Access::Reader).await
}

async fn change_password(req: &Request, bearer: Bearer) -> poem::Result<Principal> {
    guard(req, bearer, Access::ChangePassword).await
}

async fn any_session(req: &Request, bearer: Bearer) -> poem::Result<Principal> {
    guard(req, bearer, Access::Logout).await
}

async fn loans(req: &Request, bearer: Bearer) -> poem::Result<Principal> {
    guard(req, bearer, Access::Loans).await
}

async fn staff(req: &Request, bearer: Bearer) -> poem::Result<Principal> {
    guard(req, bearer, Access::Staff).await
}

/// A reader's Password session (`full` scope).
#[derive(SecurityScheme)]
#[oai(ty = "bearer", checker = "reader")]
pub(crate) struct ReaderAuth(pub(crate) Principal);

/// A reader session that may change the Password (`full` or `change_password_only`).
#[derive(SecurityScheme)]
#[oai(ty = "bearer", checker = "change_password")]
pub(crate) struct PasswordChangeAuth(pub(crate) Principal);

/// Any live session (reader of any scope, or staff).
#[derive(SecurityScheme)]
#[oai(ty = "bearer", checker = "any_session")]
pub(crate) struct SessionAuth(pub(crate) Principal);

/// A reader session that may list loans and renew (`full` or `pin`).
#[derive(SecurityScheme)]
#[oai(ty = "bearer", checker = "loans")]
pub(crate) struct LoansAuth(pub(crate) Principal);

/// A staff session.
#[derive(SecurityScheme)]
#[oai(ty = "bearer", checker = "staff")]
pub(crate) struct StaffAuth(pub(crate) Principal);

#[cfg(test)]
mod tests {
    use super::*;

    fn code(r: Result<(), ApiError>) -> &'static str {
        r.err().map_or("ok", |e| e.code())
    }

    #[test]
    fn the_access_table() {
        use Access::*;
        let table: &[(Scope, Access, &str)] = &[
            (Scope::Full, Reader, "ok"),
            (Scope::Full, ChangePassword, "ok"),
            (Scope::Full, Loans, "ok"),
            (Scope::Full, Logout, "ok"),
            (Scope::Full, Staff, "forbidden"),
            (
                Scope::ChangePasswordOnly,
                Reader,
                "password_change_required",
            ),
            (Scope::ChangePasswordOnly, ChangePassword, "ok"),
            (Scope::ChangePasswordOnly, Loans, "password_change_required"),
            (Scope::ChangePasswordOnly, Logout, "ok"),
            (Scope::ChangePasswordOnly, Staff, "password_change_required"),
            (Scope::Pin, Reader, "forbidden"),
            (Scope::Pin, ChangePassword, "forbidden"),
            (Scope::Pin, Loans, "ok"),
            (Scope::Pin, Logout, "ok"),
            (Scope::Pin, Staff, "forbidden"),
            (Scope::Staff, Reader, "forbidden"),
            (Scope::Staff, ChangePassword, "forbidden"),
            (Scope::Staff, Loans, "forbidden"),
            (Scope::Staff, Logout, "ok"),
            (Scope::Staff, Staff, "ok"),
        ];
        for &(scope, access, expected) in table {
            assert_eq!(code(access.check(scope)), expected, "{scope} {access:?}");
        }
    }

    #[test]
    fn every_protected_operation_goes_through_the_guard() {
        // The schemes above, each of whose checkers is `guard`: the one place that also
        // refuses a request whose text the edge refused.
        let ours = [
            "ReaderAuth",
            "PasswordChangeAuth",
            "SessionAuth",
            "LoansAuth",
            "StaffAuth",
        ];
        let mut protected = 0;
        for api in <crate::api::Apis as poem_openapi::OpenApi>::meta() {
            for path in api.paths {
                for op in path.operations {
                    for requirement in &op.security {
                        assert!(!requirement.is_empty(), "{} is optional", path.path);
                        for name in requirement.keys() {
                            assert!(ours.contains(name), "{}: {name}", path.path);
                        }
                        protected += 1;
                    }
                }
            }
        }
        assert!(protected > 40, "{protected}");
    }
}
