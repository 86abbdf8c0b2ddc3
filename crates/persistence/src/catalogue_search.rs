//! The SQL of the catalogue search ([`CatalogueStore::search`](crate::CatalogueStore)):
//! which titles match a query's words, answered from the trigram indexes of migration
//! `m20261208_000013_catalogue_search_index` rather than by a scan of the titles, and how
//! the titles found are ranked.
//!
//! A word matches a title when it is a substring of the title's name or author (letters
//! compared in lower case), or when its ISBN form (the word without hyphens) is a
//! substring of the ISBN (digits, and `X` for an ISBN-10's check digit). Per backend:
//!
//! - SQLite: the words of at least [`MIN_INDEXED_CHARS`] characters that cannot be part of
//!   an ISBN become one FTS5 query on `titles_search` (name and author), a phrase per word
//!   joined by `AND`; the trigram tokenizer folds letters of every script. A word that can
//!   be part of an ISBN (digits, hyphens, `X`) is its own condition: its phrase in
//!   `titles_search`, or its ISBN form in `titles_isbn_search` (the ISBNs' own FTS5 table,
//!   so that the digits of a million ISBNs do not lengthen the name index's lists), or, for
//!   thirteen characters, equal to the ISBN (the B-tree index on `titles.isbn`: a whole
//!   ISBN-13 is a substring of an ISBN only when it is that ISBN). A shorter word has no
//!   trigram to look up: it is a `LIKE` filter on the titles the longer words found, or,
//!   when every word is short, on every title (a scan). Its non-ASCII letters are tried in
//!   both cases (`é` and `É`), because SQLite's `lower()` folds ASCII only, so a short word
//!   folds as a long one does.
//! - PostgreSQL: `LIKE` on `lower(name)`, `lower(coalesce(author, ''))` and
//!   `coalesce(isbn, '')`, the expressions the GIN trigram indexes are built on (`pg_trgm`
//!   looks up the trigrams of each pattern and rechecks the rows), or, for a thirteen
//!   character ISBN form, `isbn =` (B-tree). A pattern without a trigram (a word of one or
//!   two characters) is a filter on what the other words found, or a scan.
//!
//! Words that match every title (only hyphens: their ISBN form is empty and is a substring
//! of anything) are left out, as are ISBN forms that cannot occur in an ISBN (other
//! characters than digits and `X`, or longer than an ISBN-13), which match nothing.

use library_app::SearchWord;
use sea_orm::{DbBackend, Value};

/// Words shorter than this (in characters) have no trigram, so the index cannot find them.
pub const MIN_INDEXED_CHARS: usize = 3;

/// The characters of an ISBN-13, the longest ISBN stored.
const ISBN13_CHARS: usize = 13;

/// The FTS5 table over the titles' names and authors.
const TEXT_INDEX: &str = "titles_search";

/// The FTS5 table over the titles' ISBNs.
const ISBN_INDEX: &str = "titles_isbn_search";

/// `word` as a `LIKE` pattern matching it anywhere, `%`, `_` and `\` taken literally
/// (with `ESCAPE '\'`).
pub(crate) fn contains_pattern(word: &str) -> String {
    format!("%{}%", escape_like(word))
}

/// `phrase` as a `LIKE` pattern matching text that starts with it (with `ESCAPE '\'`).
pub(crate) fn prefix_pattern(phrase: &str) -> String {
    format!("{}%", escape_like(phrase))
}

fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// How a word's ISBN form is looked up.
#[derive(Debug, Clone, PartialEq, Eq)]
enum IsbnForm {
    /// It cannot occur in an ISBN.
    Impossible,
    /// Thirteen characters: equal to the ISBN or nothing.
    Whole(String),
    /// Part of an ISBN, as long as a trigram or longer.
    Part(String),
    /// One or two characters: no trigram.
    Short(String),
}

/// One word of the query, as the store matches it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Word {
    /// In lower case, a substring of the name or the author.
    text: String,
    /// Its ISBN form (`X` upper case).
    isbn: IsbnForm,
}

impl Word {
    /// `None` when the word matches every title.
    fn of(word: &SearchWord) -> Option<Word> {
        if word.isbn.is_empty() {
            return None;
        }
        let isbn = word.isbn.to_ascii_uppercase();
        let possible = isbn.chars().all(|c| c.is_ascii_digit() || c == 'X');
        let isbn = match isbn.len() {
            _ if !possible => IsbnForm::Impossible,
            n if n > ISBN13_CHARS => IsbnForm::Impossible,
            ISBN13_CHARS => IsbnForm::Whole(isbn),
            n if n >= MIN_INDEXED_CHARS => IsbnForm::Part(isbn),
            _ => IsbnForm::Short(isbn),
        };
        Some(Word {
            text: word.text.clone(),
            isbn,
        })
    }

    /// Whether the indexes can find every title this word matches.
    fn indexed(&self) -> bool {
        self.text.chars().count() >= MIN_INDEXED_CHARS && !matches!(self.isbn, IsbnForm::Short(_))
    }
}

/// A `WHERE` condition on `titles t` and the values of its placeholders.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Filter {
    /// The condition.
    pub sql: String,
    /// Its values, in order.
    pub values: Vec<Value>,
    /// Whether an index finds the titles (`false`: a scan of the titles).
    pub indexed: bool,
}

/// The condition a title must meet to match every word of `words`.
pub(crate) fn filter(backend: DbBackend, words: &[SearchWord]) -> Filter {
    let words: Vec<Word> = words.iter().filter_map(Word::of).collect();
    let mut conditions = Vec::new();
    let mut values = Vec::new();
    let indexed = match backend {
        DbBackend::Sqlite => {
            let (long, short): (Vec<&Word>, Vec<&Word>) = words.iter().partition(|w| w.indexed());
            let (text_only, isbn_too): (Vec<&Word>, Vec<&Word>) = long
                .iter()
                .partition(|w| matches!(w.isbn, IsbnForm::Impossible));
            if !text_only.is_empty() {
                conditions.push(in_index(TEXT_INDEX));
                values.push(
                    text_only
                        .iter()
                        .map(|w| fts_phrase(&w.text))
                        .collect::<Vec<_>>()
                        .join(" AND ")
                        .into(),
                );
            }
            for word in isbn_too {
                values.push(fts_phrase(&word.text).into());
                let isbn = match &word.isbn {
                    IsbnForm::Whole(isbn) => {
                        values.push(isbn.clone().into());
                        "t.isbn = ?".to_owned()
                    }
                    IsbnForm::Part(isbn) => {
                        values.push(fts_phrase(isbn).into());
                        in_index(ISBN_INDEX)
                    }
                    IsbnForm::Impossible | IsbnForm::Short(_) => unreachable!("indexed"),
                };
                conditions.push(format!("({} OR {isbn})", in_index(TEXT_INDEX)));
            }
            for word in short {
                conditions.push(like(word, &case_variants(&word.text), &mut values));
            }
            !long.is_empty()
        }
        _ => {
            for word in &words {
                conditions.push(like(word, std::slice::from_ref(&word.text), &mut values));
            }
            words.iter().any(Word::indexed)
        }
    };
    Filter {
        sql: if conditions.is_empty() {
            "1 = 1".to_owned()
        } else {
            conditions.join(" AND ")
        },
        values,
        indexed,
    }
}

/// The titles an FTS5 query (one placeholder) finds in `index`.
fn in_index(index: &str) -> String {
    format!("t.id IN (SELECT rowid FROM {index} WHERE {index} MATCH ?)")
}

/// The rank of a title among the results (`0` the title equal to `phrase`, `1` a title
/// starting with it, `2` the others), as SQL on `titles t`, and its values. Letters are
/// compared in lower case: `lower()` on PostgreSQL; on SQLite, whose `lower()` folds ASCII
/// only, a phrase with other cased letters (`é`) of at least [`MIN_INDEXED_CHARS`]
/// characters is also looked up in the index at the start of the name (`name : ^"…"`),
/// where letters of every script are folded, and a name found there of the phrase's length
/// is the exact title.
pub(crate) fn tier(backend: DbBackend, phrase: &str) -> (String, Vec<Value>) {
    let mut sql = String::from(
        "CASE WHEN lower(t.name) = ? THEN 0 WHEN lower(t.name) LIKE ? ESCAPE '\\' THEN 1",
    );
    let mut values: Vec<Value> = vec![phrase.into(), prefix_pattern(phrase).into()];
    let chars = phrase.chars().count();
    let folds_beyond_ascii = phrase
        .chars()
        .any(|c| !c.is_ascii() && c.to_uppercase().ne(c.to_lowercase()));
    if backend == DbBackend::Sqlite && chars >= MIN_INDEXED_CHARS && folds_beyond_ascii {
        sql.push_str(&format!(
            " WHEN {} THEN CASE WHEN length(t.name) = ? THEN 0 ELSE 1 END",
            in_index(TEXT_INDEX)
        ));
        values.push(format!("name : ^{}", fts_phrase(phrase)).into());
        values.push(i64::try_from(chars).unwrap_or(i64::MAX).into());
    }
    sql.push_str(" ELSE 2 END");
    (sql, values)
}

/// `(lower(name) LIKE … OR lower(author) LIKE … OR <the ISBN>)` for one word, the text
/// tried in each of `texts`.
fn like(word: &Word, texts: &[String], values: &mut Vec<Value>) -> String {
    let mut alternatives = Vec::new();
    for text in texts {
        let pattern = contains_pattern(text);
        alternatives.push("lower(t.name) LIKE ? ESCAPE '\\'");
        alternatives.push("lower(COALESCE(t.author, '')) LIKE ? ESCAPE '\\'");
        values.push(pattern.clone().into());
        values.push(pattern.into());
    }
    match &word.isbn {
        IsbnForm::Impossible => {}
        IsbnForm::Whole(isbn) => {
            alternatives.push("t.isbn = ?");
            values.push(isbn.clone().into());
        }
        IsbnForm::Part(isbn) | IsbnForm::Short(isbn) => {
            alternatives.push("COALESCE(t.isbn, '') LIKE ? ESCAPE '\\'");
            values.push(contains_pattern(isbn).into());
        }
    }
    format!("({})", alternatives.join(" OR "))
}

/// `text` as an FTS5 string: every character taken literally.
fn fts_phrase(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

/// The spellings of a lower-case word whose non-ASCII letters are each in lower or upper
/// case (`é` → `é`, `É`): SQLite's `lower()` and `LIKE` fold ASCII letters only. At most
/// 2^n spellings for n such letters; used for words shorter than [`MIN_INDEXED_CHARS`].
fn case_variants(text: &str) -> Vec<String> {
    let mut variants = vec![String::new()];
    for c in text.chars() {
        let mut upper = c.to_uppercase();
        let other = match (upper.next(), upper.next()) {
            (Some(u), None) if !c.is_ascii() && u != c => Some(u),
            _ => None,
        };
        let mut next = Vec::with_capacity(variants.len() * 2);
        for v in &variants {
            next.push(format!("{v}{c}"));
            if let Some(u) = other {
                next.push(format!("{v}{u}"));
            }
        }
        variants = next;
    }
    variants
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(q: &str) -> Vec<SearchWord> {
        library_app::CatalogueQuery::parse(q, None, None, None)
            .unwrap()
            .words
    }

    fn strings(values: &[Value]) -> Vec<String> {
        values
            .iter()
            .map(|v| match v {
                Value::String(Some(s)) => s.to_string(),
                other => panic!("not a string: {other:?}"),
            })
            .collect()
    }

    #[test]
    fn long_words_are_one_fts_query_and_short_ones_filter_its_titles() {
        let f = filter(DbBackend::Sqlite, &words("Silent RIVER of"));
        assert!(f.indexed);
        assert_eq!(
            f.sql,
            "t.id IN (SELECT rowid FROM titles_search WHERE titles_search MATCH ?) AND \
             (lower(t.name) LIKE ? ESCAPE '\\' OR lower(COALESCE(t.author, '')) LIKE ? \
             ESCAPE '\\')"
        );
        assert_eq!(
            strings(&f.values),
            ["\"silent\" AND \"river\"", "%of%", "%of%"]
        );
    }

    #[test]
    fn words_that_may_be_isbns_look_in_the_isbns_too() {
        let f = filter(DbBackend::Sqlite, &words("river 978-0-306 9780306406157"));
        assert!(f.indexed);
        assert_eq!(
            f.sql,
            "t.id IN (SELECT rowid FROM titles_search WHERE titles_search MATCH ?) AND \
             (t.id IN (SELECT rowid FROM titles_search WHERE titles_search MATCH ?) OR \
             t.id IN (SELECT rowid FROM titles_isbn_search WHERE titles_isbn_search MATCH ?)) \
             AND (t.id IN (SELECT rowid FROM titles_search WHERE titles_search MATCH ?) OR \
             t.isbn = ?)"
        );
        assert_eq!(
            strings(&f.values),
            [
                "\"river\"",
                "\"978-0-306\"",
                "\"9780306\"",
                "\"9780306406157\"",
                "9780306406157"
            ]
        );
        let f = filter(DbBackend::Postgres, &words("9780306406157 0-306"));
        assert!(f.sql.contains("OR t.isbn = ?)"), "{}", f.sql);
        assert_eq!(
            strings(&f.values),
            [
                "%9780306406157%",
                "%9780306406157%",
                "9780306406157",
                "%0-306%",
                "%0-306%",
                "%0306%"
            ]
        );
        // Longer than an ISBN-13: the name and author only.
        let f = filter(DbBackend::Sqlite, &words("97803064061570"));
        assert_eq!(strings(&f.values), ["\"97803064061570\""]);
    }

    #[test]
    fn only_short_words_scan_with_every_case_of_their_letters() {
        let f = filter(DbBackend::Sqlite, &words("É 9"));
        assert!(!f.indexed);
        assert_eq!(
            strings(&f.values),
            ["%é%", "%é%", "%É%", "%É%", "%9%", "%9%", "%9%"]
        );
        // A word of three characters whose ISBN form is two digits is not indexed.
        assert!(!filter(DbBackend::Sqlite, &words("1-2")).indexed);
        assert!(filter(DbBackend::Sqlite, &words("a-b")).indexed);
    }

    #[test]
    fn quotes_percent_and_underscore_are_characters() {
        let f = filter(DbBackend::Sqlite, &words("say\"hi\" 10%_"));
        assert_eq!(strings(&f.values), ["\"say\"\"hi\"\"\" AND \"10%_\""]);
        let f = filter(DbBackend::Postgres, &words("a%_\\"));
        assert_eq!(strings(&f.values), ["%a\\%\\_\\\\%", "%a\\%\\_\\\\%"]);
        assert_eq!(prefix_pattern("100%"), "100\\%%");
    }

    #[test]
    fn hyphens_alone_match_everything_and_x_is_an_isbn_digit() {
        let f = filter(DbBackend::Sqlite, &words("--"));
        assert_eq!((f.sql.as_str(), f.values.len()), ("1 = 1", 0));
        let f = filter(DbBackend::Postgres, &words("0-x"));
        assert_eq!(strings(&f.values), ["%0-x%", "%0-x%", "%0X%"]);
    }

    #[test]
    fn postgres_keeps_one_like_per_column() {
        let f = filter(DbBackend::Postgres, &words("River 香港歷史 ab"));
        assert!(f.indexed);
        assert_eq!(f.sql.matches("LIKE").count(), 6);
        assert_eq!(
            strings(&f.values),
            [
                "%river%",
                "%river%",
                "%香港歷史%",
                "%香港歷史%",
                "%ab%",
                "%ab%"
            ]
        );
    }

    #[test]
    fn sqlite_ranks_letters_beyond_ascii_through_the_index() {
        let (sql, values) = tier(DbBackend::Sqlite, "école d");
        assert!(sql.contains("MATCH ?"), "{sql}");
        assert_eq!(
            strings(&values[..3]),
            ["école d", "école d%", "name : ^\"école d\""]
        );
        assert_eq!(values[3], Value::from(7_i64));
        // ASCII, Chinese (no case), short, or PostgreSQL: `lower()` is enough.
        for (backend, phrase) in [
            (DbBackend::Sqlite, "silent river"),
            (DbBackend::Sqlite, "香港歷史"),
            (DbBackend::Sqlite, "éa"),
            (DbBackend::Postgres, "école"),
        ] {
            assert_eq!(tier(backend, phrase).1.len(), 2, "{phrase}");
        }
    }

    #[test]
    fn case_variants_of_non_ascii_letters() {
        assert_eq!(case_variants("ab"), ["ab"]);
        assert_eq!(case_variants("éa"), ["éa", "Éa"]);
        assert_eq!(case_variants("歷史"), ["歷史"]);
        assert_eq!(case_variants("σé").len(), 4);
        // ß upper-cases to two letters: kept as it is.
        assert_eq!(case_variants("ß"), ["ß"]);
    }
}
