//! Setting a system up, for both apps (`library-server` and `library-admin`), so that
//! neither depends on the other:
//! - [`Config`]: environment variables over an optional TOML file (`LIBRARY_CONFIG`) over
//!   defaults;
//! - [`Policy`]: the circulation policy stored on first start (the "hkpl" profile by
//!   default), its TOML document (`library-admin policy show|apply`);
//! - [`bootstrap`]: the first start, which stores the policy and creates the `admin` staff
//!   user;
//! - [`demo`]: the demo data set (`--demo`);
//! - [`wiring`]: the application layer's services over the database, built the same way
//!   by both apps.

mod bootstrap;
mod config;
pub mod demo;
mod policy;
pub mod wiring;

pub use bootstrap::{ADMIN_USERNAME, BootstrapError, bootstrap};
pub use config::{
    Config, ConfigError, DEFAULT_DATABASE_URL, DEFAULT_HTTP_ADDR, DEFAULT_MAIL_FROM,
    DEFAULT_SIP2_ADDR, DEFAULT_SIP2_REFUSAL_HOLD_MS, MAX_REFUSAL_HOLD_MS, Sip2Limits,
};
pub use policy::{Policy, PolicyError, parse_policy_document, policy_toml};
