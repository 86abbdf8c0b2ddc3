//! Titles and items: creation and look-up for staff and the HTTP layer.

use library_circulation::{Item, ItemStatus, ItemType, Title};
use library_core::{Barcode, Isbn, ItemId, LibraryCode, TitleId};

use crate::audit_store::{NewAuditEntry, insert_audit_entry};
use crate::circulation::rows::{self, ITEM_COLUMNS, item_status_str};
use crate::error::StoreError;
use crate::pool::Pool;
use crate::sql::{all, corrupt, exec, get, infra, insert_returning_id, one, store_err};

/// An item to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewItem {
    /// The barcode (unique).
    pub barcode: Barcode,
    /// The title it is a copy of.
    pub title: TitleId,
    /// The item type.
    pub item_type: ItemType,
    /// The owning library.
    pub home_library: LibraryCode,
    /// Where it is (usually available).
    pub status: ItemStatus,
}

/// A copy of a title to import ([`CatalogueStore::import`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedItem {
    /// The barcode (unique).
    pub barcode: Barcode,
    /// The item type.
    pub item_type: ItemType,
    /// The owning library.
    pub home_library: LibraryCode,
    /// Where it is (usually available).
    pub status: ItemStatus,
}

/// What the catalogue records of a title.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TitleDetails {
    /// The title proper.
    pub name: String,
    /// Its author, if recorded.
    pub author: Option<String>,
    /// Its ISBN, if recorded.
    pub isbn: Option<Isbn>,
}

/// A title with its copies to import ([`CatalogueStore::import`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedTitle {
    /// The title.
    pub title: TitleDetails,
    /// Its copies.
    pub items: Vec<ImportedItem>,
}

/// Inserts a title ([`title_values`]), returning its id.
const INSERT_TITLE: &str = "INSERT INTO titles (name, author, isbn) VALUES (?, ?, ?) RETURNING id";

/// The values of [`INSERT_TITLE`].
fn title_values(title: &TitleDetails) -> Vec<sea_orm::Value> {
    vec![
        title.name.as_str().into(),
        title.author.clone().into(),
        title.isbn.as_ref().map(|i| i.as_str().to_owned()).into(),
    ]
}

/// Titles and items in the database.
#[derive(Debug, Clone)]
pub struct CatalogueStore {
    conn: Pool,
}

impl CatalogueStore {
    pub(crate) fn new(conn: Pool) -> Self {
        Self { conn }
    }

    /// Creates a title with its name only; its id.
    pub async fn create_title(&self, name: &str) -> Result<TitleId, StoreError> {
        self.add_title(
            &TitleDetails {
                name: name.to_owned(),
                author: None,
                isbn: None,
            },
            None,
        )
        .await
    }

    /// Creates a title; its id. `audit`, when given, makes the audit entry of the id,
    /// written in the same transaction: the entry exists exactly when the title does.
    pub async fn add_title(
        &self,
        title: &TitleDetails,
        audit: Option<&(dyn Fn(TitleId) -> NewAuditEntry + Send + Sync)>,
    ) -> Result<TitleId, StoreError> {
        const C: &str = "create title";
        let txn = self.conn.begin_write().await.map_err(store_err(C))?;
        let id = insert_returning_id(&txn, INSERT_TITLE, title_values(title))
            .await
            .map(TitleId)
            .map_err(store_err(C))?;
        if let Some(entry) = audit {
            insert_audit_entry(&txn, &entry(id))
                .await
                .map_err(store_err(C))?;
        }
        txn.commit().await.map_err(store_err(C))?;
        Ok(id)
    }

    /// What the catalogue records of title `id`.
    pub async fn title_details(&self, id: TitleId) -> Result<Option<TitleDetails>, StoreError> {
        const C: &str = "read title details";
        let Some(row) = one(
            &self.conn,
            "SELECT name, author, isbn FROM titles WHERE id = ?",
            vec![id.get().into()],
        )
        .await
        .map_err(store_err(C))?
        else {
            return Ok(None);
        };
        let isbn = match get::<Option<String>>(&row, "isbn").map_err(infra(C))? {
            Some(raw) => Some(Isbn::parse(&raw).map_err(|e| corrupt(C, e))?),
            None => None,
        };
        Ok(Some(TitleDetails {
            name: get(&row, "name").map_err(infra(C))?,
            author: get(&row, "author").map_err(infra(C))?,
            isbn,
        }))
    }

    /// One title.
    pub async fn title(&self, id: TitleId) -> Result<Option<Title>, StoreError> {
        let row = one(
            &self.conn,
            "SELECT id, name FROM titles WHERE id = ?",
            vec![id.get().into()],
        )
        .await
        .map_err(store_err("read title"))?;
        row.map(|r| -> Result<Title, StoreError> {
            Ok(Title {
                id,
                name: get(&r, "name").map_err(infra("read title"))?,
            })
        })
        .transpose()
    }

    /// The names of the titles `ids` (duplicates allowed), in one query per 500 ids; a
    /// missing title is absent from the map.
    pub async fn title_names(
        &self,
        ids: &[TitleId],
    ) -> Result<std::collections::HashMap<TitleId, String>, StoreError> {
        const C: &str = "read title names";
        let mut unique: Vec<i64> = ids.iter().map(|t| t.get()).collect();
        unique.sort_unstable();
        unique.dedup();
        let mut names = std::collections::HashMap::with_capacity(unique.len());
        for chunk in unique.chunks(500) {
            let marks = vec!["?"; chunk.len()].join(", ");
            let rows = all(
                &self.conn,
                &format!("SELECT id, name FROM titles WHERE id IN ({marks})"),
                chunk.iter().map(|&id| id.into()).collect(),
            )
            .await
            .map_err(store_err(C))?;
            for row in &rows {
                let id: i64 = get(row, "id").map_err(infra(C))?;
                names.insert(TitleId(id), get(row, "name").map_err(infra(C))?);
            }
        }
        Ok(names)
    }

    /// Creates an item; its id. A barcode already used, or an unknown title or library, is
    /// [`StoreError::Conflict`]. `audit`, when given, makes the audit entry of the id,
    /// written in the same transaction: the entry exists exactly when the item does.
    pub async fn create_item(
        &self,
        new: &NewItem,
        audit: Option<&(dyn Fn(ItemId) -> NewAuditEntry + Send + Sync)>,
    ) -> Result<ItemId, StoreError> {
        const C: &str = "create item";
        let txn = self.conn.begin_write().await.map_err(store_err(C))?;
        let id = insert_returning_id(
            &txn,
            "INSERT INTO items (barcode, title_id, item_type, home_library, status) \
             VALUES (?, ?, ?, ?, ?) RETURNING id",
            vec![
                new.barcode.as_str().into(),
                new.title.get().into(),
                new.item_type.as_str().into(),
                new.home_library.as_str().into(),
                item_status_str(new.status).into(),
            ],
        )
        .await
        .map(ItemId)
        .map_err(store_err(C))?;
        if let Some(entry) = audit {
            insert_audit_entry(&txn, &entry(id))
                .await
                .map_err(store_err(C))?;
        }
        txn.commit().await.map_err(store_err(C))?;
        Ok(id)
    }

    /// Creates titles and their items in **one transaction**: all of them or, on any error
    /// (a barcode already used or an unknown library is [`StoreError::Conflict`]), none.
    /// The new title ids, in order.
    pub async fn import(&self, titles: &[ImportedTitle]) -> Result<Vec<TitleId>, StoreError> {
        const CONTEXT: &str = "import catalogue";
        let txn = self.conn.begin_write().await.map_err(store_err(CONTEXT))?;
        let mut ids = Vec::with_capacity(titles.len());
        for title in titles {
            let id = insert_returning_id(&txn, INSERT_TITLE, title_values(&title.title))
                .await
                .map_err(store_err(CONTEXT))?;
            for item in &title.items {
                exec(
                    &txn,
                    "INSERT INTO items (barcode, title_id, item_type, home_library, status) \
                     VALUES (?, ?, ?, ?, ?)",
                    vec![
                        item.barcode.as_str().into(),
                        id.into(),
                        item.item_type.as_str().into(),
                        item.home_library.as_str().into(),
                        item_status_str(item.status).into(),
                    ],
                )
                .await
                .map_err(store_err(CONTEXT))?;
            }
            ids.push(TitleId(id));
        }
        txn.commit().await.map_err(store_err(CONTEXT))?;
        Ok(ids)
    }

    /// Numbers of titles and of items.
    pub async fn counts(&self) -> Result<(u64, u64), StoreError> {
        let row = one(
            &self.conn,
            "SELECT (SELECT COUNT(*) FROM titles) AS titles, (SELECT COUNT(*) FROM items) AS items",
            vec![],
        )
        .await
        .map_err(store_err("count catalogue"))?
        .ok_or_else(|| StoreError::Invalid("count catalogue: no row".into()))?;
        let count = |name: &str| -> Result<u64, StoreError> {
            let n: i64 = get(&row, name).map_err(infra("count catalogue"))?;
            Ok(u64::try_from(n).unwrap_or(0))
        };
        Ok((count("titles")?, count("items")?))
    }

    /// The titles containing every word of `query` in their title, author or ISBN (a
    /// substring match, case-insensitive for ASCII letters), best match first, one page,
    /// with their copies and the available ones counted (at `query.library` when given).
    pub async fn search(
        &self,
        query: &library_app::CatalogueQuery,
    ) -> Result<library_reader_services::Page<library_app::CatalogueHit>, StoreError> {
        const C: &str = "search the catalogue";
        // `%`, `_` and the escape itself are matched as they are.
        let pattern = |word: &str| {
            let escaped = word
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            format!("%{escaped}%")
        };
        let mut filter = String::from("1 = 1");
        let mut values: Vec<sea_orm::Value> = Vec::new();
        for word in &query.words {
            filter.push_str(
                " AND (lower(t.name) LIKE ? ESCAPE '\\' \
                 OR lower(COALESCE(t.author, '')) LIKE ? ESCAPE '\\' \
                 OR COALESCE(t.isbn, '') LIKE ? ESCAPE '\\')",
            );
            let text = pattern(&word.text);
            values.push(text.clone().into());
            values.push(text.into());
            values.push(pattern(&word.isbn).into());
        }
        let total = crate::sql::count(
            &self.conn,
            C,
            &format!("SELECT COUNT(*) AS n FROM titles t WHERE {filter}"),
            values.clone(),
        )
        .await?;
        let (join, library) = match &query.library {
            Some(code) => (
                "LEFT JOIN items i ON i.title_id = t.id AND i.home_library = ?",
                vec![sea_orm::Value::from(code.as_str())],
            ),
            None => ("LEFT JOIN items i ON i.title_id = t.id", vec![]),
        };
        let mut page_values = library;
        page_values.extend(values);
        page_values.push(query.phrase.clone().into());
        page_values.push(format!("{}%", query.phrase).into());
        page_values.push(i64::from(query.limit).into());
        page_values.push(i64::try_from(query.offset).unwrap_or(i64::MAX).into());
        let rows = all(
            &self.conn,
            &format!(
                "SELECT t.id, t.name, t.author, t.isbn, COUNT(i.id) AS copies, \
                 COALESCE(SUM(CASE WHEN i.status = 'available' THEN 1 ELSE 0 END), 0) \
                 AS available \
                 FROM titles t {join} WHERE {filter} \
                 GROUP BY t.id, t.name, t.author, t.isbn \
                 ORDER BY CASE WHEN lower(t.name) = ? THEN 0 \
                 WHEN lower(t.name) LIKE ? THEN 1 ELSE 2 END, t.name, t.id \
                 LIMIT ? OFFSET ?"
            ),
            page_values,
        )
        .await
        .map_err(store_err(C))?;
        let items = rows
            .iter()
            .map(|r| {
                let count = |name: &str| -> Result<u64, StoreError> {
                    let n: i64 = get(r, name).map_err(infra(C))?;
                    Ok(u64::try_from(n).unwrap_or(0))
                };
                Ok(library_app::CatalogueHit {
                    title: TitleId(get(r, "id").map_err(infra(C))?),
                    name: get(r, "name").map_err(infra(C))?,
                    author: get(r, "author").map_err(infra(C))?,
                    isbn: get(r, "isbn").map_err(infra(C))?,
                    copies: count("copies")?,
                    available: count("available")?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(library_reader_services::Page { items, total })
    }

    /// The item with `barcode`.
    pub async fn item_by_barcode(&self, barcode: &Barcode) -> Result<Option<Item>, StoreError> {
        let sql = format!("SELECT {ITEM_COLUMNS} FROM items WHERE barcode = ?");
        let row = one(&self.conn, &sql, vec![barcode.as_str().into()])
            .await
            .map_err(store_err("read item"))?;
        Ok(row.map(|r| rows::item(&r)).transpose()?)
    }

    /// One item.
    pub async fn item(&self, id: ItemId) -> Result<Option<Item>, StoreError> {
        let sql = format!("SELECT {ITEM_COLUMNS} FROM items WHERE id = ?");
        let row = one(&self.conn, &sql, vec![id.get().into()])
            .await
            .map_err(store_err("read item"))?;
        Ok(row.map(|r| rows::item(&r)).transpose()?)
    }

    /// The copies of a title, by id.
    pub async fn items_of_title(&self, title: TitleId) -> Result<Vec<Item>, StoreError> {
        let sql = format!("SELECT {ITEM_COLUMNS} FROM items WHERE title_id = ? ORDER BY id");
        let rows = all(&self.conn, &sql, vec![title.get().into()])
            .await
            .map_err(store_err("read items of title"))?;
        Ok(rows.iter().map(rows::item).collect::<Result<_, _>>()?)
    }

    /// Sets an item's status outside circulation (declared lost, withdrawn, back from
    /// transit). `false` if there is no such item.
    pub async fn set_item_status(
        &self,
        id: ItemId,
        status: ItemStatus,
    ) -> Result<bool, StoreError> {
        let n = exec(
            &self.conn,
            "UPDATE items SET status = ? WHERE id = ?",
            vec![item_status_str(status).into(), id.get().into()],
        )
        .await
        .map_err(store_err("set item status"))?;
        Ok(n == 1)
    }
}
