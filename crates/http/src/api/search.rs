//! Catalogue search (public): titles whose title, author or ISBN contain every word of the
//! query, with their copies and the available ones.

use library_app::{CatalogueQuery, SearchError, Services};
use library_core::LibraryCode;
use poem_openapi::param::Query;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use super::ApiTags;
use super::types::{Int, Text};
use crate::error::ApiError;

/// A title found.
#[derive(Debug, Object)]
struct SearchResultBody {
    title_id: i64,
    title: String,
    #[oai(nullable)]
    author: Option<String>,
    /// The ISBN's digits (and a final `X`).
    #[oai(nullable)]
    isbn: Option<String>,
    /// Copies of the title (at `library` when given).
    copies: u64,
    /// Of those, the ones available to borrow now.
    available: u64,
}

/// `GET /catalog/search`.
#[derive(Debug, Object)]
struct SearchBody {
    /// Titles matching, over all pages.
    total: u64,
    results: Vec<SearchResultBody>,
}

pub(crate) struct SearchApi {
    state: Services,
}

impl SearchApi {
    pub(crate) fn new(state: Services) -> Self {
        Self { state }
    }
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Catalogue")]
impl SearchApi {
    /// Searches the catalogue (public): titles whose title, author or ISBN contain every
    /// word of `q` (case-insensitive; an ISBN with or without hyphens), the exact title
    /// first, then titles starting with `q`, then by title. `page` from 1, `per_page` 1–100
    /// (default 20); `library` counts that library's copies only. 422 with violations
    /// `q_missing`, `q_too_long`, `page_invalid`, `per_page_invalid`, `unknown_library`.
    #[oai(path = "/catalog/search", method = "get")]
    async fn search(
        &self,
        #[oai(validator(max_length = 200))] q: Query<Option<Text>>,
        #[oai(validator(pattern = "^\\s*([A-Za-z0-9_]{1,32})?\\s*$"))] library: Query<Option<Text>>,
        #[oai(validator(minimum(value = "1")))] page: Query<Option<Int>>,
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))] per_page: Query<
            Option<Int>,
        >,
    ) -> Result<Json<SearchBody>, ApiError> {
        let library = match library.0.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(code) => Some(
                LibraryCode::parse(code)
                    .map_err(|_| ApiError::validation_failed(vec!["unknown_library"]))?,
            ),
        };
        let query = CatalogueQuery::parse(
            q.0.as_deref().unwrap_or_default(),
            library,
            Int::get(page.0),
            Int::get(per_page.0),
        )
        .map_err(ApiError::validation_failed)?;
        let found = match self.state.search_catalogue(&query).await {
            Ok(found) => found,
            Err(SearchError::Invalid(violations)) => {
                return Err(ApiError::validation_failed(violations));
            }
            Err(SearchError::Store(e)) => return Err(e.into()),
        };
        Ok(Json(SearchBody {
            total: found.total,
            results: found
                .items
                .into_iter()
                .map(|hit| SearchResultBody {
                    title_id: hit.title.get(),
                    title: hit.name,
                    author: hit.author,
                    isbn: hit.isbn,
                    copies: hit.copies,
                    available: hit.available,
                })
                .collect(),
        }))
    }
}
