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
    /// What replacing it costs if it is lost; `None`: its title's, else the rule's.
    pub replacement_cost: Option<library_core::Money>,
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
    /// What replacing a lost copy costs, if recorded (a copy's own cost comes first).
    pub replacement_cost: Option<library_core::Money>,
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
const INSERT_TITLE: &str = "INSERT INTO titles (name, author, isbn, replacement_cost_cents) \
     VALUES (?, ?, ?, ?) RETURNING id";

/// The values of [`INSERT_TITLE`].
fn title_values(title: &TitleDetails) -> Vec<sea_orm::Value> {
    vec![
        title.name.as_str().into(),
        title.author.clone().into(),
        title.isbn.as_ref().map(|i| i.as_str().to_owned()).into(),
        sea_orm::Value::BigInt(title.replacement_cost.map(|m| m.cents())),
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
                replacement_cost: None,
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
            "SELECT name, author, isbn, replacement_cost_cents FROM titles WHERE id = ?",
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
            replacement_cost: get::<Option<i64>>(&row, "replacement_cost_cents")
                .map_err(infra(C))?
                .map(library_core::Money::from_cents),
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
            "INSERT INTO items (barcode, title_id, item_type, home_library, status, \
             replacement_cost_cents) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
            vec![
                new.barcode.as_str().into(),
                new.title.get().into(),
                new.item_type.as_str().into(),
                new.home_library.as_str().into(),
                item_status_str(new.status).into(),
                sea_orm::Value::BigInt(new.replacement_cost.map(|m| m.cents())),
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
    /// substring match, case-insensitive), best match first (the title equal to the query,
    /// then those starting with it, then by title and id), one page, with their copies and
    /// the available ones counted (at `query.library` when given). The words are looked up
    /// in the trigram indexes (see `catalogue_search.rs`): FTS5 on SQLite, `pg_trgm` on
    /// PostgreSQL; only a query whose every word is shorter than three characters scans.
    /// One statement finds, counts, ranks and cuts the page, then counts the copies of its
    /// titles; a page past the last is counted on its own.
    ///
    /// On PostgreSQL it runs in a transaction of its own that sets `plan_cache_mode =
    /// force_custom_plan`: the statement is prepared once per connection, and after five
    /// runs PostgreSQL may keep a generic plan, which cannot tell a rare word from a common
    /// one and reads the index lists of both (ten times slower on a million titles); a plan
    /// made for the words given reads the rare word's list and filters on the others. The
    /// transaction takes no row lock and asks the pool for no second connection, so it needs
    /// no permit of the transaction gate.
    pub async fn search(
        &self,
        query: &library_app::CatalogueQuery,
    ) -> Result<library_reader_services::Page<library_app::CatalogueHit>, StoreError> {
        const C: &str = "search the catalogue";
        if self.conn.get_database_backend() == sea_orm::DbBackend::Sqlite {
            return search_on(&self.conn, query).await;
        }
        let txn = self
            .conn
            .begin_with(sea_orm::TransactionOptions::default(), None)
            .await
            .map_err(store_err(C))?;
        exec(
            &txn,
            "SET LOCAL plan_cache_mode = force_custom_plan",
            vec![],
        )
        .await
        .map_err(store_err(C))?;
        let page = search_on(&txn, query).await?;
        txn.commit().await.map_err(store_err(C))?;
        Ok(page)
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

/// [`CatalogueStore::search`] on `conn`.
async fn search_on(
    conn: &impl sea_orm::ConnectionTrait,
    query: &library_app::CatalogueQuery,
) -> Result<library_reader_services::Page<library_app::CatalogueHit>, StoreError> {
    const C: &str = "search the catalogue";
    let backend = conn.get_database_backend();
    let filter = crate::catalogue_search::filter(backend, &query.words);
    let (tier, mut values) = crate::catalogue_search::tier(backend, &query.phrase);
    values.extend(filter.values.iter().cloned());
    values.push(i64::from(query.limit).into());
    values.push(i64::try_from(query.offset).unwrap_or(i64::MAX).into());
    let at_library = match &query.library {
        Some(code) => {
            values.push(code.as_str().into());
            // Copies *at* the library: where each is now (its home until returned
            // elsewhere; a floating copy where it was returned; one in transit where it
            // left), not where it belongs.
            " AND COALESCE(i.current_library, i.home_library) = ?"
        }
        None => "",
    };
    let rows = all(
        conn,
        &format!(
            "SELECT p.id, p.name, p.author, p.isbn, p.total, COUNT(i.id) AS copies, \
             COALESCE(SUM(CASE WHEN i.status = 'available' THEN 1 ELSE 0 END), 0) \
             AS available \
             FROM (SELECT t.id, t.name, t.author, t.isbn, {tier} AS tier, \
             COUNT(*) OVER () AS total \
             FROM titles t WHERE {} \
             ORDER BY tier, t.name, t.id LIMIT ? OFFSET ?) p \
             LEFT JOIN items i ON i.title_id = p.id{at_library} \
             GROUP BY p.id, p.name, p.author, p.isbn, p.tier, p.total \
             ORDER BY p.tier, p.name, p.id",
            filter.sql
        ),
        values,
    )
    .await
    .map_err(store_err(C))?;
    let count = |r: &sea_orm::QueryResult, name: &str| -> Result<u64, StoreError> {
        let n: i64 = get(r, name).map_err(infra(C))?;
        Ok(u64::try_from(n).unwrap_or(0))
    };
    let total = match rows.first() {
        Some(first) => count(first, "total")?,
        None if query.offset == 0 => 0,
        None => {
            crate::sql::count(
                conn,
                C,
                &format!("SELECT COUNT(*) AS n FROM titles t WHERE {}", filter.sql),
                filter.values,
            )
            .await?
        }
    };
    tracing::debug!(total, indexed = filter.indexed, "catalogue search");
    let items = rows
        .iter()
        .map(|r| {
            Ok(library_app::CatalogueHit {
                title: TitleId(get(r, "id").map_err(infra(C))?),
                name: get(r, "name").map_err(infra(C))?,
                author: get(r, "author").map_err(infra(C))?,
                isbn: get(r, "isbn").map_err(infra(C))?,
                copies: count(r, "copies")?,
                available: count(r, "available")?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(library_reader_services::Page { items, total })
}
