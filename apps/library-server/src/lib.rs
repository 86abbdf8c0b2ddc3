//! The composition root: configuration → database → adapters → services → HTTP listener
//! (and the SIP2 listener when configured).
//! Nothing here decides a library rule; it only wires.
//!
//! The binary (`main.rs`) reads [`library_setup::Config::from_env`], initialises logging and runs an
//! [`Application`] until SIGTERM or Ctrl-C. Tests build an [`Application`] from a
//! [`library_setup::Config`] directly and drive it over real HTTP.

mod http_server;
mod scheduler;
mod startup;

pub use http_server::HttpLimits;
pub use startup::{Application, SHUTDOWN_GRACE, StartupError};
