//! `patron_credentials`: one row per reader, created with the reader.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "patron_credentials")]
pub(crate) struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub patron_id: i64,
    pub password_hash: Option<String>,
    pub password_is_default: bool,
    pub pin_hash: Option<String>,
    pub temporary_password_hash: Option<String>,
    pub temporary_password_expires_at: Option<TimeDateTimeWithTimeZone>,
    pub temporary_password_used_at: Option<TimeDateTimeWithTimeZone>,
    pub credential_epoch: i64,
    pub temporary_password_failures: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub(crate) enum Relation {
    #[sea_orm(
        belongs_to = "super::patron::Entity",
        from = "Column::PatronId",
        to = "super::patron::Column::Id",
        on_delete = "Cascade"
    )]
    Patron,
}

impl Related<super::patron::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Patron.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
