//! The HTTP adapter: the JSON API (`docs/http.md`) on poem-openapi.
//!
//! It only translates: requests into calls of the application layer
//! ([`library_app::Services`]), its answers and errors into the contract's status codes
//! and bodies.
//!
//! Invariants:
//! - Only this crate knows HTTP, JSON and OpenAPI. Domain types are not serialisable; the
//!   request and response types of `api/` are converted by hand.
//! - Authentication, scopes and staff roles are decided in one place, `auth`: every
//!   protected operation takes one of its security schemes as an argument, and the
//!   scheme's checker authenticates the bearer token (401), then applies the access table
//!   and, for staff, the role table [`STAFF_ROUTES`] (403).
//! - Errors are mapped in one place, `error`: one table from domain errors
//!   to [`ApiError`], and one middleware that turns every other failure poem reports
//!   (unknown route, unparseable body, body too large, panic) into the same JSON shape.
//!   Nothing a client sends produces a 500.
//! - Text is checked once, at the edge, after routing: every operation of the API refuses
//!   control characters in its body, path and query before its handler runs
//!   (`text`), the same on SQLite and PostgreSQL.
//! - It holds no port of its own: every use case is a call of the application layer
//!   (`library-app`), which owns the interfaces and the rules.

mod allow;
mod api;
mod auth;
mod csv;
mod error;
mod middleware;
mod text;

pub use api::app;
pub use auth::{STAFF_ROUTES, StaffRoute, required_role, source_key};
pub use error::ApiError;
