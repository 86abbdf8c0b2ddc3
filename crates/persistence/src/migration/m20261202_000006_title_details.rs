//! A title's author and ISBN (both optional; the ISBN as its digits, check digit verified
//! on the way in).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one at a time.
        for column in [Titles::Author, Titles::Isbn] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Titles::Table)
                        .add_column(text_null(column))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [Titles::Isbn, Titles::Author] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Titles::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Titles {
    Table,
    Author,
    Isbn,
}
