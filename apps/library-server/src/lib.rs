//! The composition root: configuration → database → adapters → services → HTTP listener
//! (and the SIP2 listener when configured).
//! Nothing here decides a library rule; it only wires.
//!
//! The binary (`main.rs`) reads [`Config::from_env`], initialises logging and runs an
//! [`Application`] until SIGTERM or Ctrl-C. Tests build an [`Application`] from a
//! [`Config`] directly and drive it over real HTTP.

mod adapters;
mod bootstrap;
mod config;
pub mod demo;
mod policy;
mod reader_services;
mod scheduler;
mod sip2;
mod startup;

pub use adapters::{
    DbAdmin, DbCirculation, DbReaderDirectory, DbReadiness, DbStaffDirectory, OutboxNotifier,
    ScheduledJobs, SharedClock, circulation,
};
pub use bootstrap::{ADMIN_USERNAME, BootstrapError};
pub use config::{Config, ConfigError, DEFAULT_DATABASE_URL, DEFAULT_HTTP_ADDR, DEFAULT_SIP2_ADDR};
pub use policy::{Policy, PolicyError, parse_policy_document, policy_toml};
pub use reader_services::{DbReaderServices, reader_services};
pub use sip2::{DbSip2Stations, LibrarySip2Server, Sip2Library};
pub use startup::{Application, StartupError};
