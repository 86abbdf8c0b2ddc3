//! The application layer's interfaces (`library-app`) implemented over the stores of this
//! crate: what the apps wire into [`library_app::Services`]. Each operation is one store
//! call, and so one transaction; the use cases that combine several (registration with
//! its default credentials, a SIP2 station's circulation) live in `library-app`.

mod admin;
mod delivery;
mod premises;
mod reader_services;
mod stations;

pub(crate) use admin::audit_entry;
pub use admin::{
    DbAdmin, DbCirculation, DbPools, DbReaderDirectory, DbReadiness, DbStaffDirectory,
    OutboxNotifier, ScheduledJobs, SharedClock, circulation,
};
pub use delivery::{DbNotices, DbOutbox};
pub use premises::DbPremises;
pub use reader_services::{DbReaderServices, reader_services};
pub use stations::DbSip2Stations;

/// A store's error as the application layer's.
pub(crate) fn admin_error(err: crate::error::StoreError) -> library_app::AdminError {
    admin::admin_err(err)
}
