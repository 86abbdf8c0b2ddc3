//! `staff_users.may_override`: a librarian granted `override` may check out or renew past
//! the refusals staff may step over (docs/circulation.md, Overrides); an administrator
//! always may. Set when the user is created, like the role.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(StaffUsers::Table)
                    .add_column(boolean(StaffUsers::MayOverride).default(false))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(StaffUsers::Table)
                    .drop_column(StaffUsers::MayOverride)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum StaffUsers {
    Table,
    MayOverride,
}
