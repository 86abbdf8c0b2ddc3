//! The tables as sea-orm entities, one module per table. Crate-private: stores convert
//! models to domain types at their edge. Read through entities; write instants only
//! through `crate::instant` (see there why).

pub(crate) mod attempt_source;
pub(crate) mod credential_attempt;
pub(crate) mod patron;
pub(crate) mod patron_credentials;
pub(crate) mod session;
pub(crate) mod staff_user;
