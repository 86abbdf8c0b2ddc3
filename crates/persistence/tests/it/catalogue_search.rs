//! The catalogue search through the trigram index (FTS5 on SQLite, `pg_trgm` on
//! PostgreSQL): the index follows the titles (added, renamed, deleted), and every query
//! answers what the documented rule says (every word a substring of the name, the author or
//! the ISBN, letters folded) in the documented order, finding at least every title the
//! former scan (`LIKE` over every title, kept below as the reference) found.

use library_app::{CatalogueHit, CatalogueQuery};
use library_core::{Isbn, TitleId};
use library_persistence::{Database, TitleDetails};
use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};

use crate::support::backends;

/// The ISBN-13 with the 12 digits `first` and its check digit.
fn isbn13(first: &str) -> String {
    let sum: u32 = first
        .chars()
        .zip([1, 3].into_iter().cycle())
        .map(|(c, w)| c.to_digit(10).unwrap() * w)
        .sum();
    format!("{first}{}", (10 - sum % 10) % 10)
}

async fn add(db: &Database, name: &str, author: Option<&str>, isbn: Option<&str>) -> TitleId {
    db.catalogue()
        .add_title(
            &TitleDetails {
                name: name.into(),
                author: author.map(str::to_owned),
                isbn: isbn.map(|i| Isbn::parse(i).unwrap()),
                replacement_cost: None,
            },
            None,
        )
        .await
        .unwrap()
}

async fn search(db: &Database, q: &str) -> Vec<CatalogueHit> {
    let query = CatalogueQuery::parse(q, None, None, Some(100)).unwrap();
    db.catalogue().search(&query).await.unwrap().items
}

async fn names(db: &Database, q: &str) -> Vec<String> {
    search(db, q).await.into_iter().map(|h| h.name).collect()
}

/// Runs `sql` (`?` placeholders) on a connection of its own.
async fn raw(url: &str, sql: &str, values: Vec<Value>) -> Vec<sea_orm::QueryResult> {
    let conn = sea_orm::Database::connect(url).await.unwrap();
    let backend = conn.get_database_backend();
    let mut numbered = String::new();
    let mut n = 0;
    for c in sql.chars() {
        if c == '?' && backend == DbBackend::Postgres {
            n += 1;
            numbered.push_str(&format!("${n}"));
        } else {
            numbered.push(c);
        }
    }
    let rows = conn
        .query_all_raw(Statement::from_sql_and_values(backend, numbered, values))
        .await
        .unwrap();
    conn.close().await.unwrap();
    rows
}

#[tokio::test]
async fn titles_added_renamed_and_deleted_are_found_accordingly() {
    for t in backends().await {
        let db = t.connect().await;
        let harbour = add(&db, "Harbour Lights", Some("Lee Ka Yan"), None).await;
        let history = add(&db, "香港歷史", Some("陳大文"), Some("978-0-306-40615-7")).await;
        assert_eq!(
            names(&db, "harbour").await,
            ["Harbour Lights"],
            "{}",
            t.name
        );
        assert_eq!(names(&db, "歷史").await, ["香港歷史"], "{}", t.name);
        assert_eq!(names(&db, "港歷史").await, ["香港歷史"], "{}", t.name);
        assert_eq!(names(&db, "0-306-40").await, ["香港歷史"], "{}", t.name);

        // Renamed, a new author and ISBN, behind the store's back: the triggers (SQLite) or
        // the indexes (PostgreSQL) follow.
        raw(
            &t.url,
            "UPDATE titles SET name = ?, author = ?, isbn = ? WHERE id = ?",
            vec![
                "Island Walks".into(),
                "Ho Wing".into(),
                isbn13("978962040001").into(),
                harbour.get().into(),
            ],
        )
        .await;
        assert!(names(&db, "harbour").await.is_empty(), "{}", t.name);
        assert!(names(&db, "lee ka").await.is_empty(), "{}", t.name);
        assert_eq!(
            names(&db, "ISLAND walk").await,
            ["Island Walks"],
            "{}",
            t.name
        );
        assert_eq!(names(&db, "wing").await, ["Island Walks"], "{}", t.name);
        assert_eq!(
            names(&db, "978-962-04").await,
            ["Island Walks"],
            "{}",
            t.name
        );
        // The other title is untouched.
        assert_eq!(names(&db, "陳大文").await, ["香港歷史"], "{}", t.name);

        raw(
            &t.url,
            "DELETE FROM titles WHERE id = ?",
            vec![history.get().into()],
        )
        .await;
        assert!(names(&db, "歷史").await.is_empty(), "{}", t.name);
        assert!(names(&db, "香港歷史").await.is_empty(), "{}", t.name);
        assert!(names(&db, "9780306406157").await.is_empty(), "{}", t.name);
        // Added after the others: found at once.
        add(&db, "歷史與文化", None, None).await;
        assert_eq!(names(&db, "歷史").await, ["歷史與文化"], "{}", t.name);
        assert_eq!(names(&db, "史與文").await, ["歷史與文化"], "{}", t.name);
        if t.name == "sqlite" {
            // FTS5 compares each index with the titles (`rank` 1: with the external
            // content too): an error if a trigger had left a row behind.
            for table in ["titles_search", "titles_isbn_search"] {
                raw(
                    &t.url,
                    &format!("INSERT INTO {table} ({table}, rank) VALUES ('integrity-check', 1)"),
                    vec![],
                )
                .await;
            }
        }
        db.close().await.unwrap();
    }
}

#[tokio::test]
async fn short_words_percent_underscore_chinese_and_hyphenated_isbns() {
    for t in backends().await {
        let db = t.connect().await;
        add(&db, "Go", None, None).await;
        add(&db, "Go Fishing", Some("Au Yeung"), None).await;
        add(&db, "100% Cotton", None, None).await;
        add(&db, "snake_case for All", None, None).await;
        add(&db, "香港歷史", Some("陳大文"), None).await;
        add(&db, "X Marks", None, Some("080442957X")).await;
        add(&db, "Silent River", None, Some("978-0-306-40615-7")).await;

        // One and two characters: a filter on what the long words found, or a scan.
        assert_eq!(names(&db, "go").await, ["Go", "Go Fishing"], "{}", t.name);
        assert_eq!(names(&db, "g").await, ["Go", "Go Fishing"], "{}", t.name);
        assert_eq!(names(&db, "fishing au").await, ["Go Fishing"], "{}", t.name);
        assert_eq!(names(&db, "歷").await, ["香港歷史"], "{}", t.name);
        assert_eq!(names(&db, "大文").await, ["香港歷史"], "{}", t.name);
        assert_eq!(names(&db, "香港 歷史").await, ["香港歷史"], "{}", t.name);
        assert!(names(&db, "歷史 river").await.is_empty(), "{}", t.name);
        // `%` and `_` are characters, alone, short or long.
        assert_eq!(names(&db, "%").await, ["100% Cotton"], "{}", t.name);
        assert_eq!(names(&db, "0%").await, ["100% Cotton"], "{}", t.name);
        assert_eq!(names(&db, "100% cot").await, ["100% Cotton"], "{}", t.name);
        assert_eq!(names(&db, "_").await, ["snake_case for All"], "{}", t.name);
        assert_eq!(
            names(&db, "e_c").await,
            ["snake_case for All"],
            "{}",
            t.name
        );
        assert!(names(&db, "1_0").await.is_empty(), "{}", t.name);
        assert!(names(&db, "s%e").await.is_empty(), "{}", t.name);
        // ISBNs with hyphens, in part, and an ISBN-10's X in either case.
        for q in ["978-0-306-40615-7", "0-306", "97803", "0306406157"] {
            assert_eq!(names(&db, q).await, ["Silent River"], "{}: {q}", t.name);
        }
        for q in ["0-8044-2957-X", "957x", "2957X"] {
            assert_eq!(names(&db, q).await, ["X Marks"], "{}: {q}", t.name);
        }
        // Only hyphens: every title (the empty ISBN form is in every ISBN), as before.
        assert_eq!(search(&db, "--").await.len(), 7, "{}", t.name);
        db.close().await.unwrap();
    }
}

/// The titles of the reference set: ASCII in mixed case, accented letters in both cases,
/// Chinese, punctuation, ISBNs.
const TITLES: &[(&str, Option<&str>)] = &[
    ("Silent River", Some("Chan Siu Ming")),
    ("silent river", None),
    ("Silent River Songs", Some("Ada Lovelace")),
    ("The Silent River", None),
    ("River Walks", Some("Ada Silent")),
    ("Harbour Tales", Some("Wong Mei")),
    ("100% Cotton", None),
    ("snake_case", Some("O'Brien \"Quotes\"")),
    ("École des femmes", Some("Molière")),
    ("L'ÉCOLE", Some("MOLIÈRE")),
    ("Ärger im Café", Some("Jürgen Müller")),
    ("ΣΟΦΙΑ σοφία", None),
    ("香港歷史", Some("陳大文")),
    ("香港", None),
    ("歷史與文化", Some("李小明")),
    ("a", None),
    ("Ab", Some("x")),
    ("C++ in 21 Days", Some("A-B")),
    ("back\\slash", None),
    ("Go", None),
];

const QUERIES: &[&str] = &[
    "silent river",
    "SILENT",
    "riv",
    "ri",
    "r",
    "silent r",
    "walks ada",
    "ada",
    "harbour tales",
    "%",
    "_",
    "0%",
    "e_c",
    "\"quotes\"",
    "o'brien",
    "école",
    "ÉCOLE",
    "é",
    "É",
    "ée",
    "molière",
    "MOLIÈRE",
    "ärger",
    "café",
    "CAFÉ",
    "müller",
    "σοφία",
    "ΣΟΦ",
    "香港",
    "歷史",
    "港歷史",
    "香港歷史",
    "香",
    "史與文",
    "陳",
    "a",
    "ab",
    "abc",
    "c++",
    "+",
    "21",
    "a-b",
    "-",
    "\\",
    "k\\s",
    "978-0-306",
    "9780306406157",
    "306406",
    "0-8044-2957-x",
    "957x",
    "x",
    "go",
    "go silent",
    "silent river songs",
    "école des",
    "l'éc",
    "ärger im café",
    "σοφια σοφία",
];

/// ISBNs of the reference titles (by position; the rest have none).
fn reference_isbn(i: usize) -> Option<String> {
    match i {
        0 => Some("9780306406157".into()),
        5 => Some("080442957X".into()),
        12 => Some(isbn13("978962040001")),
        _ => None,
    }
}

/// What the documented rule answers: every word in the name or author (both in lower
/// case), or its ISBN form in the ISBN; the exact title, then those starting with the
/// query, then by name (bytes) and id. Letters are folded in every script, except, on
/// SQLite, when the query is shorter than three characters or has no cased letter beyond
/// ASCII: there the rank compares ASCII letters in lower case only.
fn reference(
    backend: DbBackend,
    titles: &[(TitleId, String, Option<String>, Option<String>)],
    q: &str,
) -> Vec<TitleId> {
    let query = CatalogueQuery::parse(q, None, None, None).unwrap();
    let phrase = query.phrase.as_str();
    let folds_beyond_ascii = phrase.chars().count() >= 3
        && phrase
            .chars()
            .any(|c| !c.is_ascii() && c.to_uppercase().ne(c.to_lowercase()));
    let tier = |name: &str| -> u8 {
        let (exact, prefix) = match backend {
            DbBackend::Sqlite => {
                let ascii = name.to_ascii_lowercase();
                let folded = name.to_lowercase();
                (
                    ascii == phrase
                        || (folds_beyond_ascii
                            && folded.starts_with(phrase)
                            && name.chars().count() == phrase.chars().count()),
                    ascii.starts_with(phrase) || (folds_beyond_ascii && folded.starts_with(phrase)),
                )
            }
            _ => {
                let folded = name.to_lowercase();
                (folded == phrase, folded.starts_with(phrase))
            }
        };
        if exact {
            0
        } else if prefix {
            1
        } else {
            2
        }
    };
    let mut found: Vec<(u8, &str, TitleId)> = titles
        .iter()
        .filter(|(_, name, author, isbn)| {
            query.words.iter().all(|w| {
                name.to_lowercase().contains(&w.text)
                    || author
                        .as_deref()
                        .is_some_and(|a| a.to_lowercase().contains(&w.text))
                    || isbn
                        .as_deref()
                        .unwrap_or("")
                        .contains(&w.isbn.to_ascii_uppercase())
            })
        })
        .map(|(id, name, _, _)| (tier(name), name.as_str(), *id))
        .collect();
    found.sort();
    found.into_iter().map(|(_, _, id)| id).collect()
}

/// The scan the index replaced, as it was: every word `LIKE` in the three columns.
async fn former_scan(url: &str, q: &str) -> Vec<TitleId> {
    let query = CatalogueQuery::parse(q, None, None, None).unwrap();
    let pattern = |word: &str| {
        let escaped = word
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        format!("%{escaped}%")
    };
    let mut filter = String::from("1 = 1");
    let mut values: Vec<Value> = Vec::new();
    for word in &query.words {
        filter.push_str(
            " AND (lower(t.name) LIKE ? ESCAPE '\\' \
             OR lower(COALESCE(t.author, '')) LIKE ? ESCAPE '\\' \
             OR COALESCE(t.isbn, '') LIKE ? ESCAPE '\\')",
        );
        values.push(pattern(&word.text).into());
        values.push(pattern(&word.text).into());
        values.push(pattern(&word.isbn).into());
    }
    raw(
        url,
        &format!("SELECT t.id FROM titles t WHERE {filter}"),
        values,
    )
    .await
    .iter()
    .map(|r| TitleId(r.try_get::<i64>("", "id").unwrap()))
    .collect()
}

#[tokio::test]
async fn every_query_answers_the_rule_and_finds_what_the_scan_found() {
    for t in backends().await {
        let db = t.connect().await;
        let backend = match db.backend() {
            library_persistence::Backend::Sqlite => DbBackend::Sqlite,
            library_persistence::Backend::Postgres => DbBackend::Postgres,
        };
        let mut titles = Vec::new();
        for (i, (name, author)) in TITLES.iter().enumerate() {
            let isbn = reference_isbn(i);
            let id = add(&db, name, *author, isbn.as_deref()).await;
            titles.push((id, name.to_string(), author.map(str::to_owned), isbn));
        }
        for q in QUERIES {
            let found: Vec<TitleId> = search(&db, q).await.iter().map(|h| h.title).collect();
            assert_eq!(found, reference(backend, &titles, q), "{}: {q:?}", t.name);
            for id in former_scan(&t.url, q).await {
                assert!(
                    found.contains(&id),
                    "{}: {q:?} lost {id:?}, which the scan found",
                    t.name
                );
            }
        }
        // Paging splits the same order.
        let all: Vec<TitleId> = search(&db, "i").await.iter().map(|h| h.title).collect();
        let mut paged = Vec::new();
        for page in 1..=4 {
            let query = CatalogueQuery::parse("i", None, Some(page), Some(3)).unwrap();
            let got = db.catalogue().search(&query).await.unwrap();
            assert_eq!(got.total, all.len() as u64, "{}", t.name);
            paged.extend(got.items.iter().map(|h| h.title));
        }
        assert_eq!(paged, all[..paged.len().min(12)], "{}", t.name);
        // A page past the last: nothing, and the total.
        let query = CatalogueQuery::parse("i", None, Some(100), Some(3)).unwrap();
        let past = db.catalogue().search(&query).await.unwrap();
        assert_eq!(
            (past.items.len(), past.total),
            (0, all.len() as u64),
            "{}",
            t.name
        );
        db.close().await.unwrap();
    }
}
