//! Black-box tests: the real application on a random port, a fresh database per test
//! (SQLite always; PostgreSQL too when `LIBRARY_TEST_POSTGRES_URL` is set), driven over
//! real HTTP.

mod admission;
mod anonymisation;
mod attacks;
mod backup;
mod bad_input;
mod calendar;
mod circulation;
mod circulation_bad_input;
mod closure_moves;
mod control_characters;
mod credential_hardening;
mod credentials;
mod default_policy;
mod demo;
mod deploy;
mod faults;
mod fines;
mod guessing;
mod hold_options;
mod holds;
mod hours;
mod http_hardening;
mod lost;
mod mail;
mod metrics;
mod overrides;
mod process;
mod reader_records;
mod reader_services;
mod reminders;
mod renewals;
mod reports;
mod search;
mod seed_2021;
mod sip2;
mod sip2_security;
mod staff_audit;
mod staff_roles;
mod study_rooms;
mod support;
mod transit;
mod two_processes;
mod web;
