//! Catalogue search: what a reader types (`q`) made into the words every matching title
//! must contain, in its title, author or ISBN (case-insensitive; an ISBN with or without
//! hyphens), with the paging and the library the copies are counted at.

use library_core::{LibraryCode, TitleId};

use crate::ports::AdminError;
use crate::services::Services;

/// The longest `q` taken, in characters.
pub const MAX_QUERY_CHARS: usize = 200;
/// The most words of `q` that count (the rest would only narrow a search already narrow).
pub const MAX_QUERY_WORDS: usize = 10;
/// The most results on a page.
pub const MAX_PER_PAGE: u32 = 100;
/// Results on a page unless asked.
pub const DEFAULT_PER_PAGE: u32 = 20;

/// One word a title must contain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchWord {
    /// The word in lower case, matched within the title and the author.
    pub text: String,
    /// The word without hyphens (`978-0-14`→`978014`), matched within the ISBN's digits.
    pub isbn: String,
}

/// A search, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogueQuery {
    /// Every word a title must contain (at least one).
    pub words: Vec<SearchWord>,
    /// The whole query in lower case, for ranking (an exact title first, then titles
    /// starting with it).
    pub phrase: String,
    /// Count the copies of this library only.
    pub library: Option<LibraryCode>,
    /// Results on a page.
    pub limit: u32,
    /// Results skipped.
    pub offset: u64,
}

/// A title found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogueHit {
    /// The title.
    pub title: TitleId,
    /// Its name.
    pub name: String,
    /// Its author.
    pub author: Option<String>,
    /// Its ISBN (digits).
    pub isbn: Option<String>,
    /// Its copies (at the library asked for).
    pub copies: u64,
    /// Those available to borrow now.
    pub available: u64,
}

/// Why a search was refused: the violation codes (`q_missing`, `q_too_long`,
/// `page_invalid`, `per_page_invalid`, `unknown_library`).
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// The input broke these rules.
    #[error("invalid search: {0:?}")]
    Invalid(Vec<&'static str>),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] AdminError),
}

impl CatalogueQuery {
    /// `q` split on white space into words (at most [`MAX_QUERY_WORDS`]), page `page`
    /// (from 1) of `per_page` results (1 to [`MAX_PER_PAGE`]).
    pub fn parse(
        q: &str,
        library: Option<LibraryCode>,
        page: Option<i64>,
        per_page: Option<i64>,
    ) -> Result<Self, Vec<&'static str>> {
        let mut violations = Vec::new();
        if q.chars().count() > MAX_QUERY_CHARS {
            violations.push("q_too_long");
        }
        let words: Vec<SearchWord> = q
            .split_whitespace()
            .take(MAX_QUERY_WORDS)
            .map(|w| {
                let text = w.to_lowercase();
                SearchWord {
                    isbn: text.replace('-', ""),
                    text,
                }
            })
            .collect();
        if words.is_empty() {
            violations.push("q_missing");
        }
        let per_page = match per_page {
            None => Some(DEFAULT_PER_PAGE),
            Some(n) => u32::try_from(n)
                .ok()
                .filter(|n| (1..=MAX_PER_PAGE).contains(n)),
        };
        if per_page.is_none() {
            violations.push("per_page_invalid");
        }
        let page = match page {
            None => Some(1),
            Some(n) => u64::try_from(n).ok().filter(|n| *n >= 1),
        };
        if page.is_none() {
            violations.push("page_invalid");
        }
        match (per_page, page) {
            (Some(limit), Some(page)) if violations.is_empty() => Ok(CatalogueQuery {
                phrase: words
                    .iter()
                    .map(|w| w.text.as_str())
                    .collect::<Vec<_>>()
                    .join(" "),
                words,
                library,
                limit,
                offset: (page - 1).saturating_mul(u64::from(limit)),
            }),
            _ => Err(violations),
        }
    }
}

impl Services {
    /// The titles matching `query`, best match first, with their copies counted.
    pub async fn search_catalogue(
        &self,
        query: &CatalogueQuery,
    ) -> Result<library_reader_services::Page<CatalogueHit>, SearchError> {
        if let Some(code) = &query.library
            && self.libraries.library(code).await?.is_none()
        {
            return Err(SearchError::Invalid(vec!["unknown_library"]));
        }
        Ok(self.catalogue.search(query).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_lower_cased_and_isbn_hyphens_dropped() {
        let query = CatalogueQuery::parse("  Silent  RIVER 978-0-14 ", None, None, None).unwrap();
        assert_eq!(
            query.words,
            [
                SearchWord {
                    text: "silent".into(),
                    isbn: "silent".into()
                },
                SearchWord {
                    text: "river".into(),
                    isbn: "river".into()
                },
                SearchWord {
                    text: "978-0-14".into(),
                    isbn: "978014".into()
                },
            ]
        );
        assert_eq!(query.phrase, "silent river 978-0-14");
        assert_eq!((query.limit, query.offset), (20, 0));
    }

    #[test]
    fn paging_and_limits() {
        let q = |page, per_page| CatalogueQuery::parse("x", None, page, per_page);
        assert_eq!(
            q(Some(3), Some(100)).map(|q| (q.limit, q.offset)),
            Ok((100, 200))
        );
        assert_eq!(q(Some(0), None), Err(vec!["page_invalid"]));
        assert_eq!(q(None, Some(0)), Err(vec!["per_page_invalid"]));
        assert_eq!(q(None, Some(101)), Err(vec!["per_page_invalid"]));
        assert_eq!(
            q(Some(-1), Some(-1)),
            Err(vec!["per_page_invalid", "page_invalid"])
        );
        // A huge page number does not overflow: it pages past every result.
        assert_eq!(q(Some(i64::MAX), Some(100)).map(|q| q.offset), Ok(u64::MAX));
        assert_eq!(
            CatalogueQuery::parse(" \t ", None, None, None),
            Err(vec!["q_missing"])
        );
        assert_eq!(
            CatalogueQuery::parse(&"a".repeat(201), None, None, None),
            Err(vec!["q_too_long"])
        );
        let many = (0..15)
            .map(|n| format!("w{n}"))
            .collect::<Vec<_>>()
            .join(" ");
        assert_eq!(
            CatalogueQuery::parse(&many, None, None, None).map(|q| q.words.len()),
            Ok(MAX_QUERY_WORDS)
        );
    }
}
