//! `attempt_sources`: the per-source window (IP address, terminal, caller).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "attempt_sources")]
pub(crate) struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub source: String,
    pub window_started_at: TimeDateTimeWithTimeZone,
    pub failures: i64,
    pub version: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub(crate) enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
