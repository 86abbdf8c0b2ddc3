//! Libraries (create, list with `open_now`, closures) and the catalogue (titles, items).

use library_circulation::{CalendarRule, Closure, ItemType};
use library_core::{
    Isbn, ItemId, LibraryCode, MAX_CATALOGUE_TEXT_CHARS, MAX_NAME_CHARS, TitleId, fits,
};
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use serde_json::json;
use time::Date;

use super::ApiTags;
use super::common::{IdBody, KindDto, audit_record, library_code};
use super::types::Text;
use crate::auth::StaffAuth;
use crate::error::ApiError;
use library_app::Services;
use library_app::{AdminError, NewCopy, NewLibraryInfo, TitleInfo};

/// `POST /libraries`.
#[derive(Debug, Object)]
struct NewLibraryRequest {
    /// `[A-Za-z0-9_]{1,32}`.
    code: Text,
    name: Text,
    name_zh: Option<Text>,
    kind: KindDto,
}

/// A library as listed.
#[derive(Debug, Object)]
struct LibraryBody {
    code: String,
    name: String,
    name_zh: String,
    kind: KindDto,
    /// Whether the library is open at this instant: its calendar has today open and the
    /// time is within today's hours (special hours, else the regular week; a library with
    /// no hours configured is open all day on open days).
    open_now: bool,
    /// When the current period ends, local `HH:MM` today (`24:00` for midnight); `null`
    /// when closed.
    closes_at: Option<String>,
    /// The next opening after now, RFC 3339 at +08:00, within 366 days; `null` if none.
    opens_next: Option<time::OffsetDateTime>,
    /// The book drop takes returns while the library is closed.
    book_drop: bool,
    /// The self-service station serves while the library is closed.
    self_service_station: bool,
}

/// `GET /libraries`.
#[derive(Debug, Object)]
struct LibrariesBody {
    libraries: Vec<LibraryBody>,
}

/// `POST /libraries/{code}/closures`.
#[derive(Debug, Object)]
struct ClosureRequest {
    /// First closed date.
    from: Date,
    /// Last closed date (inclusive).
    to: Date,
    reason: Text,
}

/// A library code.
#[derive(Debug, Object)]
struct CodeBody {
    code: String,
}

#[derive(ApiResponse)]
enum CreatedCode {
    /// Created.
    #[oai(status = 201)]
    Created(Json<CodeBody>),
}

#[derive(ApiResponse)]
enum CreatedId {
    /// Created.
    #[oai(status = 201)]
    Created(Json<IdBody>),
}

/// The reason of a calendar entry: trimmed, at most [`MAX_NAME_CHARS`] characters, no
/// control characters
/// (422 `reason_invalid`).
pub(super) fn calendar_reason(raw: &Text) -> Result<&str, ApiError> {
    let reason = raw.0.trim();
    if !fits(reason, MAX_NAME_CHARS) {
        return Err(ApiError::validation_failed(["reason_invalid"]));
    }
    Ok(reason)
}

/// `POST /catalog/titles`.
#[derive(Debug, Object)]
struct NewTitleRequest {
    title: Text,
    /// At most 200 characters, no control characters; blank: none.
    author: Option<Text>,
    /// ISBN-10 or ISBN-13, hyphens and spaces allowed, check digit verified; blank: none.
    isbn: Option<Text>,
    /// What replacing a lost copy costs, in cents (0 to 100,000,000), unless the copy
    /// records its own; absent: the rule `replacement_cost_cents` (422
    /// `replacement_cost_invalid`).
    replacement_cost_cents: Option<i64>,
}

/// `GET /catalog/titles/{id}`.
#[derive(Debug, Object)]
struct TitleBody {
    id: i64,
    title: String,
    /// The author, if recorded.
    author: Option<String>,
    /// The ISBN's digits (hyphens and spaces dropped), if recorded.
    isbn: Option<String>,
}

/// `POST /catalog/items`.
#[derive(Debug, Object)]
struct NewItemRequest {
    title_id: i64,
    /// Letters, digits, `-`, `_`; at most 32.
    barcode: Text,
    /// `[a-z0-9_]{1,32}`.
    item_type: Text,
    /// A library code.
    home_library: Text,
    /// What replacing the copy costs if it is lost, in cents (0 to 100,000,000); absent:
    /// the rule `replacement_cost_cents` applies (422 `replacement_cost_invalid`).
    replacement_cost_cents: Option<i64>,
}

/// `raw` trimmed, if not empty (`missing`) and it [`fits`] in `max` characters
/// (`invalid`).
fn clean_text(
    raw: &str,
    max: usize,
    missing: &'static str,
    invalid: &'static str,
) -> Result<String, &'static str> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        Err(missing)
    } else if !fits(trimmed, max) {
        Err(invalid)
    } else {
        Ok(trimmed.to_owned())
    }
}

/// The highest replacement cost accepted (HK$1,000,000).
const MAX_REPLACEMENT_COST_CENTS: i64 = 100_000_000;

pub(crate) struct LibrariesApi {
    state: Services,
}

impl LibrariesApi {
    pub(crate) fn new(state: Services) -> Self {
        Self { state }
    }
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Libraries")]
impl LibrariesApi {
    /// Creates a library (staff). 409 `already_exists` if the code is taken.
    #[oai(path = "/libraries", method = "post")]
    async fn create_library(
        &self,
        auth: StaffAuth,
        body: Json<NewLibraryRequest>,
    ) -> Result<CreatedCode, ApiError> {
        let body = body.0;
        let mut violations = Vec::new();
        let code = LibraryCode::parse(&body.code.0)
            .map_err(|_| violations.push("code_invalid"))
            .ok();
        let name = clean_text(&body.name.0, MAX_NAME_CHARS, "name_missing", "name_invalid")
            .map_err(|v| violations.push(v))
            .ok();
        let name_zh = match body.name_zh.as_ref().map(|t| t.0.trim()) {
            None | Some("") => Some(String::new()),
            Some(zh) => clean_text(zh, MAX_NAME_CHARS, "name_zh_invalid", "name_zh_invalid")
                .map_err(|v| violations.push(v))
                .ok(),
        };
        let (Some(code), Some(name), Some(name_zh)) = (code, name, name_zh) else {
            return Err(ApiError::validation_failed(violations));
        };
        let library = NewLibraryInfo {
            code: code.clone(),
            name,
            name_zh,
            kind: body.kind.into(),
        };
        let audit = audit_record(
            &self.state,
            &auth.0,
            "library.create",
            format!("library:{code}"),
            &json!({"kind": library.kind.as_str()}),
        );
        self.state.libraries.create(&library, audit).await?;
        Ok(CreatedCode::Created(Json(CodeBody {
            code: code.as_str().to_owned(),
        })))
    }

    /// Every library (public), with whether it is open now, until when, when it opens
    /// next and its door services.
    #[oai(path = "/libraries", method = "get")]
    async fn list_libraries(&self) -> Result<Json<LibrariesBody>, ApiError> {
        let libraries = self
            .state
            .premises
            .all_now()
            .await?
            .into_iter()
            .map(|now| {
                let status = super::hours::status(&now);
                let p = now.premises;
                LibraryBody {
                    open_now: status.open_now,
                    closes_at: status.closes_at,
                    opens_next: status.opens_next,
                    book_drop: p.doors.book_drop,
                    self_service_station: p.doors.self_service_station,
                    code: p.library.info.code.as_str().to_owned(),
                    name: p.library.info.name,
                    name_zh: p.library.info.name_zh,
                    kind: p.library.info.kind.into(),
                }
            })
            .collect();
        Ok(Json(LibrariesBody { libraries }))
    }

    /// Closes a library on every date from `from` to `to` inclusive (staff). 404 for an
    /// unknown library; 422 `to_before_from`.
    #[oai(path = "/libraries/:code/closures", method = "post")]
    async fn add_closure(
        &self,
        auth: StaffAuth,
        code: Path<String>,
        body: Json<ClosureRequest>,
    ) -> Result<CreatedId, ApiError> {
        let code = LibraryCode::parse(&code.0).map_err(|_| ApiError::not_found())?;
        let body = body.0;
        let reason = calendar_reason(&body.reason)?;
        let closure = Closure::new(body.from, body.to).map_err(AdminError::from)?;
        let audit = |id: i64| {
            audit_record(
                &self.state,
                &auth.0,
                "library.closure",
                format!("library:{code}"),
                &json!({"id": id, "from": body.from.to_string(), "to": body.to.to_string(), "reason": reason}),
            )
        };
        let id = self
            .state
            .libraries
            .add_calendar_entry(&code, CalendarRule::Closure(closure), reason, &audit)
            .await?;
        Ok(CreatedId::Created(Json(IdBody { id })))
    }

    /// Adds a title to the catalogue (staff).
    #[oai(path = "/catalog/titles", method = "post", tag = "ApiTags::Catalogue")]
    async fn create_title(
        &self,
        auth: StaffAuth,
        body: Json<NewTitleRequest>,
    ) -> Result<CreatedId, ApiError> {
        let body = body.0;
        let mut violations = Vec::new();
        let name = clean_text(
            &body.title.0,
            MAX_CATALOGUE_TEXT_CHARS,
            "title_missing",
            "title_invalid",
        )
        .map_err(|v| violations.push(v))
        .ok();
        let blank = |t: &Option<Text>| {
            t.as_ref()
                .map(|t| t.0.trim().to_owned())
                .filter(|t| !t.is_empty())
        };
        let author = blank(&body.author);
        if author
            .as_deref()
            .is_some_and(|a| !fits(a, MAX_CATALOGUE_TEXT_CHARS))
        {
            violations.push("author_invalid");
        }
        let isbn = match blank(&body.isbn).map(|raw| Isbn::parse(&raw)) {
            None => None,
            Some(Ok(isbn)) => Some(isbn),
            Some(Err(_)) => {
                violations.push("isbn_invalid");
                None
            }
        };
        let cost = body.replacement_cost_cents;
        if cost.is_some_and(|c| !(0..=MAX_REPLACEMENT_COST_CENTS).contains(&c)) {
            violations.push("replacement_cost_invalid");
        }
        let Some(name) = name.filter(|_| violations.is_empty()) else {
            return Err(ApiError::validation_failed(violations));
        };
        let title = TitleInfo {
            name,
            author,
            isbn,
            replacement_cost: cost.map(library_core::Money::from_cents),
        };
        let details = json!({"isbn": title.isbn.as_ref().map(Isbn::as_str)});
        let audit = |id: TitleId| {
            audit_record(
                &self.state,
                &auth.0,
                "catalog.title",
                format!("title:{}", id.get()),
                &details,
            )
        };
        let id = self.state.catalogue.create_title(&title, &audit).await?;
        Ok(CreatedId::Created(Json(IdBody { id: id.get() })))
    }

    /// A title as the catalogue records it (public): its name, author and ISBN. 404 for an
    /// unknown id.
    #[oai(
        path = "/catalog/titles/:id",
        method = "get",
        tag = "ApiTags::Catalogue"
    )]
    async fn title(&self, id: Path<i64>) -> Result<Json<TitleBody>, ApiError> {
        let title = self
            .state
            .catalogue
            .title(TitleId(id.0))
            .await?
            .ok_or_else(ApiError::not_found)?;
        Ok(Json(TitleBody {
            id: id.0,
            title: title.name,
            author: title.author,
            isbn: title.isbn.map(|i| i.as_str().to_owned()),
        }))
    }

    /// Adds an item (a copy) to the catalogue (staff). A barcode already used is 409
    /// `already_exists`; an unknown title or home library is 422 (`title_id_unknown`,
    /// `home_library_unknown`).
    #[oai(path = "/catalog/items", method = "post", tag = "ApiTags::Catalogue")]
    async fn create_item(
        &self,
        auth: StaffAuth,
        body: Json<NewItemRequest>,
    ) -> Result<CreatedId, ApiError> {
        let body = body.0;
        let mut violations = Vec::new();
        let barcode = library_core::Barcode::parse(&body.barcode.0)
            .map_err(|_| violations.push("barcode_invalid"))
            .ok();
        let item_type = ItemType::parse(&body.item_type.0)
            .map_err(|_| violations.push("item_type_invalid"))
            .ok();
        let home = library_code(&body.home_library.0, "home_library_invalid")
            .map_err(|_| violations.push("home_library_invalid"))
            .ok();
        let cost = body.replacement_cost_cents;
        if cost.is_some_and(|c| !(0..=MAX_REPLACEMENT_COST_CENTS).contains(&c)) {
            violations.push("replacement_cost_invalid");
        }
        let (Some(barcode), Some(item_type), Some(home_library), true) =
            (barcode, item_type, home, violations.is_empty())
        else {
            return Err(ApiError::validation_failed(violations));
        };
        let copy = NewCopy {
            title: TitleId(body.title_id),
            barcode,
            item_type,
            home_library,
            replacement_cost: cost.map(library_core::Money::from_cents),
        };
        let details = json!({"barcode": copy.barcode.as_str(), "title_id": body.title_id});
        let audit = |id: ItemId| {
            audit_record(
                &self.state,
                &auth.0,
                "catalog.item",
                format!("item:{}", id.get()),
                &details,
            )
        };
        let id = self.state.catalogue.create_item(&copy, &audit).await?;
        Ok(CreatedId::Created(Json(IdBody { id: id.get() })))
    }
}
