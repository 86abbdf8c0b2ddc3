//! `import-catalogue FILE.csv`: every row checked (and every problem reported with its
//! line) before anything is written; then all titles and items in one transaction.
//!
//! Rows with the same ISBN, or without one the same title and author, are copies of one
//! title; the title is stored with the author and ISBN of its first row (the ISBN as its
//! digits).

use std::collections::{HashMap, HashSet};
use std::path::Path;

use library_circulation::{ItemStatus, ItemType};
use library_core::{Barcode, Isbn, LibraryCode, MAX_CATALOGUE_TEXT_CHARS, fits};
use library_persistence::{ImportedItem, ImportedTitle, TitleDetails};

use crate::context::{Context, Failure};
use crate::csv::Table;
use crate::readers::{read, rejected};

const REQUIRED: [&str; 4] = ["barcode", "title", "item_type", "home_library"];
const OPTIONAL: [&str; 3] = ["author", "isbn", "status"];

/// Runs the import.
pub async fn import(ctx: &Context, file: &Path) -> Result<(), Failure> {
    let text = read(file)?;
    let table =
        Table::parse(&text, &REQUIRED, &OPTIONAL).map_err(|e| rejected(file, &[e.to_string()]))?;
    if table.records.is_empty() {
        return Err(Failure::failed(format!(
            "{}: no items after the header row; nothing was imported",
            file.display()
        )));
    }
    let libraries: HashSet<String> = ctx
        .db()
        .libraries()
        .list()
        .await
        .map_err(Failure::failed)?
        .into_iter()
        .map(|l| l.code.as_str().to_owned())
        .collect();
    let catalogue = ctx.db().catalogue();
    let mut problems = Vec::new();
    let mut barcodes: HashMap<String, usize> = HashMap::new();
    // Title key → (index in `titles`, the title text, first line).
    let mut keys: HashMap<String, (usize, String, usize)> = HashMap::new();
    let mut titles: Vec<ImportedTitle> = Vec::new();
    for record in &table.records {
        let line = record.line;
        let mut bad = |what: String| problems.push(format!("line {line}: {what}"));
        let raw_barcode = table.get(record, "barcode").unwrap_or_default();
        let barcode = match Barcode::parse(raw_barcode) {
            Ok(b) => {
                if let Some(first) = barcodes.insert(b.as_str().to_owned(), line) {
                    bad(format!("barcode {raw_barcode}: also on line {first}"));
                } else if catalogue
                    .item_by_barcode(&b)
                    .await
                    .map_err(Failure::failed)?
                    .is_some()
                {
                    bad(format!("barcode {raw_barcode}: already in the catalogue"));
                }
                Some(b)
            }
            Err(_) => {
                bad(format!(
                    "barcode {raw_barcode:?}: 1 to 32 letters, digits, '-' or '_'"
                ));
                None
            }
        };
        let title = table.get(record, "title").unwrap_or_default();
        if title.is_empty() {
            bad("title: missing".into());
        } else if !fits(title, MAX_CATALOGUE_TEXT_CHARS) {
            bad(format!(
                "title: at most {MAX_CATALOGUE_TEXT_CHARS} characters, no control characters"
            ));
        }
        let author = table.get(record, "author").unwrap_or_default();
        if !fits(author, MAX_CATALOGUE_TEXT_CHARS) {
            bad(format!(
                "author: at most {MAX_CATALOGUE_TEXT_CHARS} characters, no control characters"
            ));
        }
        let isbn = match table.get(record, "isbn") {
            None => None,
            Some(raw) => match Isbn::parse(raw) {
                Ok(i) => Some(i),
                Err(_) => {
                    bad(format!("isbn {raw:?}: not a valid ISBN-10 or ISBN-13"));
                    None
                }
            },
        };
        let raw_type = table.get(record, "item_type").unwrap_or_default();
        let item_type = match ItemType::parse(raw_type) {
            Ok(t) => Some(t),
            Err(_) => {
                bad(format!(
                    "item_type {raw_type:?}: expected [a-z0-9_]{{1,32}} (adult_book, children_book, ...)"
                ));
                None
            }
        };
        let home = table.get(record, "home_library").unwrap_or_default();
        let home = match LibraryCode::parse(home) {
            Ok(code) if libraries.contains(code.as_str()) => Some(code),
            Ok(_) => {
                bad(format!("home_library {home:?}: no such library"));
                None
            }
            Err(_) => {
                bad(format!("home_library {home:?}: not a library code"));
                None
            }
        };
        let status = match table.get(record, "status").unwrap_or("available") {
            "available" => Some(ItemStatus::Available),
            "not_for_loan" => Some(ItemStatus::NotForLoan),
            other => {
                bad(format!(
                    "status {other:?}: available or not_for_loan (loans come from circulation)"
                ));
                None
            }
        };
        let key = match &isbn {
            Some(i) => format!("isbn:{i}"),
            None => format!(
                "title:{}\u{0}{}",
                title.to_lowercase(),
                author.to_lowercase()
            ),
        };
        let index = match keys.get(&key) {
            Some((index, first_title, first_line)) => {
                if first_title != title {
                    bad(format!(
                        "isbn: the same as line {first_line} but the title differs ({first_title:?})"
                    ));
                }
                *index
            }
            None => {
                titles.push(ImportedTitle {
                    title: TitleDetails {
                        name: title.to_owned(),
                        author: (!author.is_empty()).then(|| author.to_owned()),
                        isbn: isbn.clone(),
                        replacement_cost: None,
                    },
                    items: Vec::new(),
                });
                keys.insert(key, (titles.len() - 1, title.to_owned(), line));
                titles.len() - 1
            }
        };
        if let (Some(barcode), Some(item_type), Some(home_library), Some(status)) =
            (barcode, item_type, home, status)
        {
            titles[index].items.push(ImportedItem {
                barcode,
                item_type,
                home_library,
                status,
            });
        }
    }
    if !problems.is_empty() {
        return Err(rejected(file, &problems));
    }
    let ids = catalogue
        .import(&titles)
        .await
        .map_err(|e| Failure::failed(format!("{}: {e}; nothing was imported", file.display())))?;
    let items: usize = titles.iter().map(|t| t.items.len()).sum();
    println!("imported {} title(s) and {items} item(s)", ids.len());
    Ok(())
}
