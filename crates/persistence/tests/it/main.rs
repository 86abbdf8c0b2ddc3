//! The persistence contract suite: one binary, every test run on every backend (SQLite in a
//! temporary file always; PostgreSQL when `LIBRARY_TEST_POSTGRES_URL` names an admin URL,
//! each test in a database of its own).

mod admin_stores;
mod admission;
mod catalogue_search;
mod circ_support;
mod circulation_audit;
mod circulation_concurrency;
mod circulation_flow;
mod circulation_joins;
mod concurrency;
mod config_cache;
mod credential_store;
mod hours;
mod job_leases;
mod migrations;
mod reader_services;
mod restart;
mod rules;
mod service_flow;
mod session_store;
mod sip2_stations;
mod study_rooms;
mod support;
