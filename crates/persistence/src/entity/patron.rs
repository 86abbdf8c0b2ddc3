//! `patrons`: readers, shared by credentials and (later) circulation.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "patrons")]
pub(crate) struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub card_number: String,
    pub name: String,
    pub phone: String,
    pub email: Option<String>,
    pub date_of_birth: Option<TimeDate>,
    pub category: Option<String>,
    pub home_library: Option<String>,
    pub card_expires_on: Option<TimeDate>,
    pub created_at: TimeDateTimeWithTimeZone,
    pub deactivated_at: Option<TimeDateTimeWithTimeZone>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub(crate) enum Relation {
    #[sea_orm(has_one = "super::patron_credentials::Entity")]
    Credentials,
}

impl Related<super::patron_credentials::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Credentials.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
