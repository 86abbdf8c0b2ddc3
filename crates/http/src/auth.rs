//! Authentication and scopes, decided here and nowhere else.
//!
//! Each protected operation takes one of the security schemes below as an argument. The
//! scheme's checker (run by poem-openapi before the body is parsed) does, in order:
//!
//! 1. no bearer token, or one that opens no live session → 401 `unauthorized`;
//! 2. the session's scope against the operation's [`Access`] ([`Access::check`], the one
//!    table) → 403 `password_change_required` or 403 `forbidden`;
//! 3. for staff operations, the staff user must still exist → 401 `unauthorized`;
//! 4. for staff operations, the staff user's role against the operation's entry in the
//!    role table ([`STAFF_ROUTES`], the other table) → 403 `forbidden`;
//! 5. a request whose text the edge refused ([`crate::text`]) → 422 `validation_failed`
//!    (`control_character`), where a malformed body would get its 400.
//!
//! Routing comes first (an unknown route is 404 whatever the token), because poem routes
//! before it runs an operation's extractors.

use library_credentials::{AttemptSource, Scope, Session, StaffRole, StoredStaff};
use poem::{PathPattern, Request};
use poem_openapi::SecurityScheme;
use poem_openapi::auth::Bearer;

use crate::error::ApiError;
use crate::text::{RefusedText, control_character};
use library_app::{Services, StaffWork};

/// What an operation needs from the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    /// Anything a reader does with a Password session (`full` only).
    Reader,
    /// Changing the Password: `full` or `change_password_only`.
    ChangePassword,
    /// Listing loans, renewing and hearing the charges: `full` or `pin`.
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

/// A staff operation and the kind of staff work it is: one row of the role table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StaffRoute {
    /// The HTTP method, upper case (`POST`).
    pub method: &'static str,
    /// The path as the OpenAPI document writes it (`/api/v1/libraries/{code}/closures`).
    pub path: &'static str,
    /// What the operation does; the application layer decides which roles may
    /// ([`library_app::roles`]).
    pub work: StaffWork,
}

impl StaffRoute {
    /// The least role the operation needs.
    pub const fn role(&self) -> StaffRole {
        self.work.least_role()
    }
}

const fn route(method: &'static str, path: &'static str, work: StaffWork) -> StaffRoute {
    StaffRoute { method, path, work }
}

/// The role table: every operation that takes a staff session, and the role it needs.
///
/// Each row classes an operation as one kind of [`StaffWork`]; which roles may do that
/// work is the application layer's decision ([`library_app::roles`]): `admin` everything,
/// `librarian` the counter's work only. An operation missing here is refused to every
/// role but `admin` (and logged); the tests keep the table, the OpenAPI document and
/// docs/http.md ("Staff roles") in step.
pub const STAFF_ROUTES: &[StaffRoute] = &[
    // Readers.
    route("POST", "/api/v1/patrons", StaffWork::Readers),
    route("GET", "/api/v1/patrons", StaffWork::Readers),
    route("GET", "/api/v1/patrons/{card_number}", StaffWork::Readers),
    route("PATCH", "/api/v1/patrons/{card_number}", StaffWork::Readers),
    route(
        "POST",
        "/api/v1/patrons/{card_number}/card-renewal",
        StaffWork::Readers,
    ),
    route(
        "POST",
        "/api/v1/patrons/{card_number}/deactivation",
        StaffWork::Readers,
    ),
    route(
        "GET",
        "/api/v1/patrons/{card_number}/reading-history",
        StaffWork::Readers,
    ),
    route(
        "GET",
        "/api/v1/patrons/{card_number}/payments",
        StaffWork::Payments,
    ),
    route(
        "DELETE",
        "/api/v1/patrons/{card_number}/block",
        StaffWork::Readers,
    ),
    route(
        "POST",
        "/api/v1/patrons/{card_number}/password-reset",
        StaffWork::Readers,
    ),
    route(
        "DELETE",
        "/api/v1/patrons/{card_number}/pin-lock",
        StaffWork::Readers,
    ),
    route(
        "GET",
        "/api/v1/patrons/{card_number}/notices",
        StaffWork::Readers,
    ),
    // Circulation at the counter.
    route(
        "POST",
        "/api/v1/circulation/loans/{loan_id}/renewal/override",
        StaffWork::Circulation,
    ),
    route(
        "POST",
        "/api/v1/circulation/loans/{loan_id}/lost",
        StaffWork::Circulation,
    ),
    route(
        "POST",
        "/api/v1/circulation/loans/{loan_id}/claim-returned",
        StaffWork::Circulation,
    ),
    route(
        "GET",
        "/api/v1/circulation/claims-returned",
        StaffWork::Circulation,
    ),
    route(
        "POST",
        "/api/v1/circulation/checkouts",
        StaffWork::Circulation,
    ),
    route(
        "POST",
        "/api/v1/circulation/checkins",
        StaffWork::Circulation,
    ),
    route(
        "POST",
        "/api/v1/circulation/loans/{loan_id}/renewal",
        StaffWork::Circulation,
    ),
    route(
        "POST",
        "/api/v1/circulation/holds/{id}/collection",
        StaffWork::Circulation,
    ),
    route(
        "GET",
        "/api/v1/patrons/{card_number}/holds",
        StaffWork::Circulation,
    ),
    route(
        "GET",
        "/api/v1/patrons/{card_number}/loans",
        StaffWork::Circulation,
    ),
    route(
        "GET",
        "/api/v1/patrons/{card_number}/fines",
        StaffWork::Payments,
    ),
    route(
        "POST",
        "/api/v1/patrons/{card_number}/holds",
        StaffWork::Circulation,
    ),
    route(
        "DELETE",
        "/api/v1/patrons/{card_number}/holds/{id}",
        StaffWork::Circulation,
    ),
    route(
        "PATCH",
        "/api/v1/patrons/{card_number}/holds/{id}",
        StaffWork::Circulation,
    ),
    route(
        "POST",
        "/api/v1/patrons/{card_number}/holds/{id}/cancellation",
        StaffWork::Circulation,
    ),
    // Payments and waivers.
    route(
        "POST",
        "/api/v1/patrons/{card_number}/payments",
        StaffWork::Payments,
    ),
    route("POST", "/api/v1/fines/{id}/waiver", StaffWork::Payments),
    // The catalogue.
    route("POST", "/api/v1/catalog/titles", StaffWork::Catalogue),
    route("POST", "/api/v1/catalog/items", StaffWork::Catalogue),
    // Activities, notices, enquiries.
    route("POST", "/api/v1/activities", StaffWork::ReaderServices),
    route(
        "DELETE",
        "/api/v1/activities/{id}",
        StaffWork::ReaderServices,
    ),
    route("GET", "/api/v1/staff/activities", StaffWork::ReaderServices),
    route(
        "GET",
        "/api/v1/activities/{id}/registrations",
        StaffWork::ReaderServices,
    ),
    route("POST", "/api/v1/notices", StaffWork::ReaderServices),
    route("DELETE", "/api/v1/notices/{id}", StaffWork::ReaderServices),
    route("GET", "/api/v1/staff/notices", StaffWork::ReaderServices),
    route("GET", "/api/v1/staff/enquiries", StaffWork::ReaderServices),
    route(
        "POST",
        "/api/v1/staff/enquiries/{id}/answer",
        StaffWork::ReaderServices,
    ),
    // Students' Study Room cards: the counter's and the door's work.
    route(
        "POST",
        "/api/v1/study-room-schemes/{id}/applications",
        StaffWork::ReaderServices,
    ),
    route(
        "GET",
        "/api/v1/study-room-schemes/{id}/applications",
        StaffWork::ReaderServices,
    ),
    route(
        "POST",
        "/api/v1/study-room-applications/{id}/decision",
        StaffWork::ReaderServices,
    ),
    route(
        "POST",
        "/api/v1/study-room-applications/{id}/revocation",
        StaffWork::ReaderServices,
    ),
    route(
        "POST",
        "/api/v1/study-room-schemes/{id}/admissions",
        StaffWork::ReaderServices,
    ),
    // Configuration, read.
    route(
        "GET",
        "/api/v1/notices/outbox/preview",
        StaffWork::ReadConfiguration,
    ),
    route(
        "GET",
        "/api/v1/circulation/rules",
        StaffWork::ReadConfiguration,
    ),
    route(
        "GET",
        "/api/v1/fine-suspensions",
        StaffWork::ReadConfiguration,
    ),
    route(
        "POST",
        "/api/v1/fine-suspensions/preview",
        StaffWork::ReadConfiguration,
    ),
    route(
        "POST",
        "/api/v1/libraries/{code}/closures/preview",
        StaffWork::ReadConfiguration,
    ),
    // Configuration, changed: administrators only.
    route("PUT", "/api/v1/circulation/rules", StaffWork::Configuration),
    route("POST", "/api/v1/libraries", StaffWork::Configuration),
    route(
        "POST",
        "/api/v1/libraries/{code}/closures",
        StaffWork::Configuration,
    ),
    route(
        "POST",
        "/api/v1/libraries/{code}/calendar",
        StaffWork::Configuration,
    ),
    route(
        "DELETE",
        "/api/v1/libraries/{code}/calendar/{id}",
        StaffWork::Configuration,
    ),
    route(
        "PUT",
        "/api/v1/libraries/{code}/hours",
        StaffWork::Configuration,
    ),
    route(
        "DELETE",
        "/api/v1/libraries/{code}/hours",
        StaffWork::Configuration,
    ),
    route(
        "POST",
        "/api/v1/libraries/{code}/special-hours",
        StaffWork::Configuration,
    ),
    route(
        "DELETE",
        "/api/v1/libraries/{code}/special-hours/{id}",
        StaffWork::Configuration,
    ),
    route(
        "PUT",
        "/api/v1/libraries/{code}/sections/{section}",
        StaffWork::Configuration,
    ),
    route(
        "PUT",
        "/api/v1/libraries/{code}/door-services",
        StaffWork::Configuration,
    ),
    route("POST", "/api/v1/reopenings", StaffWork::Configuration),
    route("POST", "/api/v1/fine-suspensions", StaffWork::Configuration),
    route(
        "PATCH",
        "/api/v1/fine-suspensions/{id}",
        StaffWork::Configuration,
    ),
    route(
        "POST",
        "/api/v1/study-room-schemes",
        StaffWork::Configuration,
    ),
    route(
        "POST",
        "/api/v1/study-room-schemes/{id}/ballot",
        StaffWork::Configuration,
    ),
    // SIP2 station accounts, listing included: they are machines' credentials.
    route("POST", "/api/v1/sip2/stations", StaffWork::Stations),
    route("GET", "/api/v1/sip2/stations", StaffWork::Stations),
    route(
        "PATCH",
        "/api/v1/sip2/stations/{username}",
        StaffWork::Stations,
    ),
    route(
        "DELETE",
        "/api/v1/sip2/stations/{username}",
        StaffWork::Stations,
    ),
    // Staff users.
    route("POST", "/api/v1/staff/users", StaffWork::StaffAccounts),
    route("GET", "/api/v1/staff/users", StaffWork::StaffAccounts),
    // Reports.
    route("GET", "/api/v1/reports/circulation", StaffWork::Reports),
    route("GET", "/api/v1/reports/fines", StaffWork::Reports),
    route("GET", "/api/v1/reports/overdue", StaffWork::Reports),
    // Capacity, the door, visitor registrations (reading them also needs the
    // `contact_tracing` permission, checked by the application layer).
    route(
        "PUT",
        "/api/v1/libraries/{code}/capacity",
        StaffWork::Configuration,
    ),
    route(
        "POST",
        "/api/v1/libraries/{code}/admissions",
        StaffWork::Door,
    ),
    route(
        "POST",
        "/api/v1/libraries/{code}/departures",
        StaffWork::Door,
    ),
    route("POST", "/api/v1/libraries/{code}/visitors", StaffWork::Door),
    route("GET", "/api/v1/visitors", StaffWork::Door),
    route(
        "PUT",
        "/api/v1/staff/users/{username}/permissions/contact_tracing",
        StaffWork::StaffAccounts,
    ),
    route(
        "DELETE",
        "/api/v1/staff/users/{username}/permissions/contact_tracing",
        StaffWork::StaffAccounts,
    ),
];

/// Whether two route paths have the same shape: the same literal segments, and variables
/// (`{code}` in the document, `:param0` in poem's route table) in the same places.
fn same_shape(a: &str, b: &str) -> bool {
    let variable = |s: &str| s.starts_with('{') || s.starts_with(':');
    let (mut a, mut b) = (a.split('/'), b.split('/'));
    loop {
        match (a.next(), b.next()) {
            (None, None) => return true,
            (Some(x), Some(y)) if x == y || (variable(x) && variable(y)) => {}
            _ => return false,
        }
    }
}

/// The role the staff operation `method path` needs, from [`STAFF_ROUTES`]; `None` if the
/// table has no such operation. `path` may name its variables in either syntax.
pub fn required_role(method: &str, path: &str) -> Option<StaffRole> {
    STAFF_ROUTES
        .iter()
        .find(|r| r.method.eq_ignore_ascii_case(method) && same_shape(r.path, path))
        .map(|r| r.role())
}

/// The role table's verdict on the routed operation of `req` for a staff user of `role`.
/// An operation missing from the table is refused to all but `admin`.
fn check_role(req: &Request, role: StaffRole) -> Result<(), ApiError> {
    let work = req.data::<PathPattern>().and_then(|pattern| {
        STAFF_ROUTES
            .iter()
            .find(|r| {
                r.method.eq_ignore_ascii_case(req.method().as_str())
                    && same_shape(r.path, &pattern.0)
            })
            .map(|r| r.work)
    });
    let allowed = match work {
        Some(work) => library_app::may(role, work),
        None => {
            tracing::error!(
                method = %req.method(),
                path = req.data::<PathPattern>().map(|p| &*p.0),
                "a staff operation missing from the role table: administrators only"
            );
            role == StaffRole::Admin
        }
    };
    if allowed {
        Ok(())
    } else {
        Err(ApiError::forbidden())
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

/// Where an attempt at a secret comes from, for the per-source limits: the peer's IP
/// address, or for IPv6 its /64 network (one subscriber commonly holds a whole /64, so
/// counting single IPv6 addresses would give an attacker 2^64 sources). An IPv4 address
/// seen through IPv6 (`::ffff:a.b.c.d`) counts as that IPv4 address. (Behind a reverse
/// proxy this is the proxy; trusting `X-Forwarded-For` is a deployment decision not taken
/// yet.)
pub(crate) fn attempt_source(req: &Request) -> AttemptSource {
    match req.remote_addr().as_socket_addr() {
        Some(addr) => AttemptSource(source_key(addr.ip())),
        None => AttemptSource("ip:unknown".to_owned()),
    }
}

/// The per-source key of a peer address: the IPv4 address, or the /64 of an IPv6 one.
pub fn source_key(ip: std::net::IpAddr) -> String {
    use std::net::IpAddr;
    match ip {
        IpAddr::V4(v4) => format!("ip:{v4}"),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => format!("ip:{v4}"),
            None => {
                let network = u128::from(v6) & !((1u128 << 64) - 1);
                format!("ip:{}/64", std::net::Ipv6Addr::from(network))
            }
        },
    }
}

async fn guard(req: &Request, bearer: Bearer, access: Access) -> poem::Result<Principal> {
    let state = req
        .data::<Services>()
        .ok_or_else(|| ApiError::internal(&"application state missing"))?;
    // The session and its staff user in one read.
    let (session, staff) = state
        .credentials
        .authenticate_with_staff(&bearer.token)
        .await
        .map_err(ApiError::from)?;
    access.check(session.scope)?;
    let staff = if access == Access::Staff {
        let Some(staff) = staff else {
            return Err(ApiError::unauthorized().into());
        };
        check_role(req, staff.role)?;
        Some(staff)
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

/// A reader session that may list loans, renew and list the charges (`full` or `pin`).
#[derive(SecurityScheme)]
#[oai(ty = "bearer", checker = "loans")]
pub(crate) struct LoansAuth(pub(crate) Principal);

/// A staff session whose staff user's role the operation allows (`admin` every staff
/// operation, `librarian` the counter's work; see the role table in docs/http.md).
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
    fn an_ipv6_source_is_its_64_network_and_ipv4_stays_whole() {
        let key = |s: &str| source_key(s.parse().unwrap());
        assert_eq!(key("203.0.113.7"), "ip:203.0.113.7");
        assert_eq!(key("::ffff:203.0.113.7"), "ip:203.0.113.7");
        assert_eq!(
            key("2001:db8:1:2:aaaa:bbbb:cccc:dddd"),
            "ip:2001:db8:1:2::/64"
        );
        assert_eq!(
            key("2001:db8:1:2::1"),
            key("2001:db8:1:2:ffff:ffff:ffff:ffff")
        );
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(key("::1"), "ip:::/64");
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
    fn routes_are_found_by_shape_in_either_syntax() {
        let closures = Some(StaffRole::Admin);
        assert_eq!(
            required_role("POST", "/api/v1/libraries/{code}/closures"),
            closures
        );
        assert_eq!(
            required_role("POST", "/api/v1/libraries/:param0/closures"),
            closures
        );
        assert_eq!(
            required_role("post", "/api/v1/libraries/:code/closures"),
            closures
        );
        assert_eq!(
            required_role("GET", "/api/v1/libraries/{code}/closures"),
            None
        );
        assert_eq!(
            required_role("POST", "/api/v1/libraries/CEN/closures"),
            None
        );
        assert_eq!(required_role("POST", "/api/v1/libraries/{code}"), None);
        assert_eq!(
            required_role("POST", "/api/v1/fine-suspensions/preview"),
            Some(StaffRole::Librarian)
        );
        assert_eq!(
            required_role("PATCH", "/api/v1/fine-suspensions/{id}"),
            Some(StaffRole::Admin)
        );
    }

    /// Every operation of the document that takes a staff session, as (method, path).
    fn staff_operations() -> Vec<(String, String)> {
        let mut staff = Vec::new();
        for api in <crate::api::Apis as poem_openapi::OpenApi>::meta() {
            for path in api.paths {
                for op in path.operations {
                    if op.security.iter().any(|r| r.contains_key("StaffAuth")) {
                        staff.push((op.method.as_str().to_owned(), path.path.clone()));
                    }
                }
            }
        }
        staff
    }

    #[test]
    fn the_role_table_lists_every_staff_operation_once_and_nothing_else() {
        let operations = staff_operations();
        let mut missing = Vec::new();
        for (method, path) in &operations {
            let rows: Vec<_> = STAFF_ROUTES
                .iter()
                .filter(|r| r.method == method && r.path == path)
                .collect();
            match rows.len() {
                1 => {}
                0 => missing.push(format!("{method} {path}")),
                n => panic!("{method} {path} is in the role table {n} times"),
            }
        }
        assert!(
            missing.is_empty(),
            "staff operations missing from the role table (auth.rs, STAFF_ROUTES): {missing:#?}"
        );
        for row in STAFF_ROUTES {
            assert!(
                operations
                    .iter()
                    .any(|(m, p)| m == row.method && p == row.path),
                "{} {} is in the role table but is no staff operation",
                row.method,
                row.path
            );
        }
        assert!(operations.len() > 30, "{}", operations.len());
    }

    /// docs/http.md.
    fn http_doc() -> String {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/http.md");
        std::fs::read_to_string(path).expect("docs/http.md")
    }

    /// The lines of the section under `heading` (up to the next heading of any level).
    fn section<'a>(doc: &'a str, heading: &str) -> Vec<&'a str> {
        doc.lines()
            .skip_while(|l| *l != heading)
            .skip(1)
            .take_while(|l| !l.starts_with('#'))
            .collect()
    }

    /// The cells of a Markdown table row, trimmed; `None` for other lines and separators.
    fn cells(line: &str) -> Option<Vec<&str>> {
        let inner = line.strip_prefix('|')?.strip_suffix('|')?;
        let cells: Vec<&str> = inner.split('|').map(str::trim).collect();
        (!cells[0].starts_with("---")).then_some(cells)
    }

    #[test]
    fn the_documented_staff_roles_are_the_role_table() {
        let doc = http_doc();
        let admin_only: Vec<String> = STAFF_ROUTES
            .iter()
            .filter(|r| r.role() == StaffRole::Admin)
            .map(|r| format!("{} {}", r.method, r.path))
            .collect();
        // "Staff roles": the administrators' operations, exactly.
        let mut documented: Vec<String> = section(&doc, "### Staff roles")
            .into_iter()
            .filter_map(cells)
            .skip(1)
            .map(|c| format!("{} {}", c[0], c[1].trim_matches('`')))
            .collect();
        documented.sort();
        let mut expected = admin_only.clone();
        expected.sort();
        let rows: String = admin_only
            .iter()
            .map(|r| {
                let (method, path) = r.split_once(' ').unwrap_or_default();
                format!("| {method} | `{path}` |\n")
            })
            .collect();
        assert_eq!(
            documented, expected,
            "docs/http.md, \"Staff roles\", should list the admin-only operations of the role \
             table (auth.rs):\n{rows}"
        );
        // "Routes": every staff operation, its session `admin` or `staff` as the table says.
        let mut listed = Vec::new();
        for c in section(&doc, "## Routes").into_iter().filter_map(cells) {
            let role = match c.get(2) {
                Some(&"admin") => StaffRole::Admin,
                Some(&"staff") => StaffRole::Librarian,
                _ => continue,
            };
            let path = c[1].trim_matches('`');
            for method in c[0].split(", ") {
                assert_eq!(
                    required_role(method, path),
                    Some(role),
                    "docs/http.md, Routes: {method} {path} is `{}`",
                    c[2]
                );
                listed.push(format!("{method} {path}"));
            }
        }
        for row in STAFF_ROUTES {
            let route = format!("{} {}", row.method, row.path);
            assert!(
                listed.contains(&route),
                "docs/http.md, Routes: {route} is missing"
            );
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
