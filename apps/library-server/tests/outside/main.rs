//! Outside-in suites: the server binary run as separate processes on a database of the
//! suite's own, driven over real HTTP and SIP2 connections, killed and restarted the way an
//! operator's machine would see it.
//!
//! The binary is the one `LIBRARY_SERVER_BIN` names (`cargo xtask outside --release` builds
//! the release binary and sets it), or else the one cargo builds for these tests (what CI
//! drives). A plain `cargo test` builds the suite but skips its tests (each is ignored, with
//! the reason): run it with `cargo xtask outside` or `cargo test -p library-server --test
//! outside -- --ignored`. Each suite runs on SQLite and, when `LIBRARY_TEST_POSTGRES_URL` is
//! set, on PostgreSQL. docs/operations.md, Outside-in suites,
//! lists them with what each proves.

// Each suite prints what it measured (connections, rounds, recovery times) for the CI log.
#![allow(clippy::print_stderr)]

mod contention;
mod crash;
mod faults;
mod hostile;
mod lifecycle;
#[allow(dead_code)]
mod server;
mod store;
#[allow(dead_code)]
#[path = "../it/support.rs"]
mod support;
