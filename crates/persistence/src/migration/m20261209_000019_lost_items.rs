//! Lost items (docs/circulation.md, Lost and found): a replacement cost on titles and on
//! items (cents; null = not recorded, the rule's default applies), and `loans.lost_at`
//! (when the loan's item was declared lost; the loan ended then) and
//! `loans.claimed_returned_at` (when the reader said they had returned it and staff took the
//! claim for review; the loan ended then, uncharged). Lost-item charge lines
//! are `charges` of kind `other` naming the loan, with the description `lost_item` or
//! `lost_processing` (the kind's CHECK constraint predates them, and SQLite cannot change a
//! CHECK without rebuilding the table).

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
                    .table(Titles::Table)
                    .add_column(big_integer_null(Titles::ReplacementCostCents))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Items::Table)
                    .add_column(big_integer_null(Items::ReplacementCostCents))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Loans::Table)
                    .add_column(timestamp_with_time_zone_null(Loans::LostAt))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Loans::Table)
                    .add_column(timestamp_with_time_zone_null(Loans::ClaimedReturnedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [Loans::ClaimedReturnedAt, Loans::LostAt] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Loans::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Items::Table)
                    .drop_column(Items::ReplacementCostCents)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Titles::Table)
                    .drop_column(Titles::ReplacementCostCents)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Titles {
    Table,
    ReplacementCostCents,
}

#[derive(DeriveIden)]
enum Items {
    Table,
    ReplacementCostCents,
}

#[derive(DeriveIden)]
enum Loans {
    Table,
    LostAt,
    ClaimedReturnedAt,
}
