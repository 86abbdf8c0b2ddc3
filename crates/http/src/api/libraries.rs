//! Libraries (create, list with `open_now`, closures) and the catalogue (titles, items).

use library_circulation::closure_moves::{ClosureImpact, ClosureMoves, DeadlineMove};
use library_circulation::{Closure, ItemType};
use library_core::{
    Isbn, ItemId, LibraryCode, MAX_CATALOGUE_TEXT_CHARS, MAX_NAME_CHARS, TitleId, fits,
};
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};
use serde_json::json;
use time::Date;

use super::ApiTags;
use super::common::{IdBody, KindDto, audit_record, library_code, path_library};
use super::types::{Int, Text};
use crate::auth::StaffAuth;
use crate::error::ApiError;
use library_app::Services;
use library_app::{AdminError, MoveLine, NewCopy, NewLibraryInfo, TitleInfo};

/// `POST /libraries`.
#[derive(Debug, Object)]
struct NewLibraryRequest {
    /// `[A-Za-z0-9_]{1,32}`.
    #[oai(validator(pattern = "^[A-Za-z0-9_]{1,32}$"))]
    code: Text,
    #[oai(validator(
        pattern = "^\\s*[^\\s\\u0000-\\u001F\\u007F-\\u009F]([^\\u0000-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F])?\\s*$",
        max_length = 200
    ))]
    name: Text,
    #[oai(nullable)]
    #[oai(validator(pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*$", max_length = 200))]
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
    #[oai(nullable)]
    closes_at: Option<String>,
    /// The next opening after now, RFC 3339 at +08:00, within 366 days; `null` if none.
    #[oai(nullable)]
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

/// `POST /libraries/{code}/closures` (and its preview).
#[derive(Debug, Object)]
struct ClosureRequest {
    /// First closed date.
    from: Date,
    /// Last closed date (inclusive).
    to: Date,
    #[oai(validator(
        pattern = "^\\s*([^\\s\\u0000-\\u001F\\u007F-\\u009F]([^\\u0000-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F])?)?\\s*$",
        max_length = 200
    ))]
    reason: Text,
    /// Due dates inside the closure of the open loans this library lent: `"none"` (absent:
    /// they stay), `"first_open_day"` (to the first day after the closure the library is
    /// open) or a date `"YYYY-MM-DD"` (after the closure, a day the library is open; 422
    /// `move_date_before_closure`, `move_date_in_closure`, `move_date_closed`,
    /// `move_date_too_late`, `no_open_day_after_closure`). Anything else is 400.
    #[oai(nullable)]
    move_due_dates: Option<DeadlineMoveDto>,
    /// Pickup-by dates inside the closure of the holds waiting at this library: as
    /// `move_due_dates`.
    #[oai(nullable)]
    move_pickup_dates: Option<DeadlineMoveDto>,
}

impl ClosureRequest {
    fn moves(&self) -> ClosureMoves {
        let choice = |dto: &Option<DeadlineMoveDto>| dto.map(|d| d.0).unwrap_or_default();
        ClosureMoves {
            due_dates: choice(&self.move_due_dates),
            pickup_dates: choice(&self.move_pickup_dates),
        }
    }
}

/// A deadline move on the wire: the JSON string `"none"`, `"first_open_day"` or a date
/// `"YYYY-MM-DD"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct DeadlineMoveDto(DeadlineMove);

impl poem_openapi::types::Type for DeadlineMoveDto {
    const IS_REQUIRED: bool = true;
    type RawValueType = Self;
    type RawElementValueType = Self;

    fn name() -> std::borrow::Cow<'static, str> {
        "string".into()
    }

    /// `"none"`, `"first_open_day"` or a date: anything else is 400.
    fn schema_ref() -> poem_openapi::registry::MetaSchemaRef {
        use poem_openapi::registry::{MetaSchema, MetaSchemaRef};
        let mut word = MetaSchema::new("string");
        word.enum_items = vec!["none".into(), "first_open_day".into()];
        let mut date = MetaSchema::new("string");
        date.format = Some("date");
        let mut either = MetaSchema::new("string");
        either.any_of = vec![
            MetaSchemaRef::Inline(Box::new(word)),
            MetaSchemaRef::Inline(Box::new(date)),
        ];
        MetaSchemaRef::Inline(Box::new(either))
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        Some(self)
    }

    fn raw_element_iter<'a>(
        &'a self,
    ) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
        Box::new(self.as_raw_value().into_iter())
    }
}

impl poem_openapi::types::ParseFromJSON for DeadlineMoveDto {
    fn parse_from_json(value: Option<serde_json::Value>) -> poem_openapi::types::ParseResult<Self> {
        use poem_openapi::types::ParseError;
        match value {
            Some(serde_json::Value::String(text)) => match text.as_str() {
                "none" => Ok(Self(DeadlineMove::Keep)),
                "first_open_day" => Ok(Self(DeadlineMove::FirstOpenDay)),
                date => <Date as poem_openapi::types::ParseFromJSON>::parse_from_json(Some(
                    serde_json::Value::String(date.to_owned()),
                ))
                .map(|d| Self(DeadlineMove::ToDate(d)))
                .map_err(|_| ParseError::custom("expected \"none\", \"first_open_day\" or a date")),
            },
            other => Err(ParseError::expected_type(other.unwrap_or_default())),
        }
    }
}

impl poem_openapi::types::ToJSON for DeadlineMoveDto {
    fn to_json(&self) -> Option<serde_json::Value> {
        Some(serde_json::Value::String(move_text(self.0)))
    }
}

/// A deadline move as the wire and the audit log spell it.
fn move_text(choice: DeadlineMove) -> String {
    match choice {
        DeadlineMove::Keep => "none".to_owned(),
        DeadlineMove::FirstOpenDay => "first_open_day".to_owned(),
        DeadlineMove::ToDate(d) => d.to_string(),
    }
}

/// A closure declared: its calendar entry and the deadlines moved.
#[derive(Debug, Object)]
struct ClosureCreatedBody {
    /// The calendar entry's id.
    id: i64,
    /// Loans whose due date moved.
    loans: u64,
    /// Waiting holds whose pickup-by date moved.
    holds: u64,
    /// Distinct readers among them (each is sent one notice).
    readers: u64,
}

/// Whether a moved deadline is a loan's or a hold's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
enum MoveKind {
    /// A loan's due date.
    Loan,
    /// A waiting hold's pickup-by date.
    Hold,
}

/// One deadline the closure would move.
#[derive(Debug, Object)]
struct MoveBody {
    kind: MoveKind,
    /// The loan's or the hold's id.
    id: i64,
    /// The deadline now.
    from: Date,
    /// The deadline after the move.
    to: Date,
}

/// `POST /libraries/{code}/closures/preview`.
#[derive(Debug, Object)]
struct ClosurePreviewBody {
    /// Loans whose due date would move.
    loans: u64,
    /// Waiting holds whose pickup-by date would move.
    holds: u64,
    /// Distinct readers among them.
    readers: u64,
    /// Where due dates inside the closure would move; `null` when they stay.
    #[oai(nullable)]
    due_on: Option<Date>,
    /// Where pickup-by dates inside the closure would move; `null` when they stay.
    #[oai(nullable)]
    pickup_by: Option<Date>,
    /// The first 20 moves, loans then holds, each by id (no reader is named).
    sample: Vec<MoveBody>,
}

#[derive(ApiResponse)]
enum ClosureCreated {
    /// Created.
    #[oai(status = 201)]
    Created(Json<ClosureCreatedBody>),
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
    reason_text(&raw.0).map_err(|code| ApiError::validation_failed([code]))
}

/// A reason as typed, trimmed: at most [`MAX_NAME_CHARS`] characters, no control
/// characters (`reason_invalid`).
pub(super) fn reason_text(raw: &str) -> Result<&str, &'static str> {
    let reason = raw.trim();
    if !fits(reason, MAX_NAME_CHARS) {
        return Err("reason_invalid");
    }
    Ok(reason)
}

/// `POST /catalog/titles`.
#[derive(Debug, Object)]
struct NewTitleRequest {
    #[oai(validator(
        pattern = "^\\s*[^\\s\\u0000-\\u001F\\u007F-\\u009F]([^\\u0000-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F])?\\s*$",
        max_length = 1000
    ))]
    title: Text,
    /// At most 200 characters, no control characters; blank: none.
    #[oai(nullable)]
    #[oai(validator(pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*$", max_length = 1000))]
    author: Option<Text>,
    /// ISBN-10 or ISBN-13, hyphens and spaces allowed, check digit verified; blank: none.
    #[oai(nullable)]
    isbn: Option<Text>,
    /// What replacing a lost copy costs, in cents (0 to 100,000,000), unless the copy
    /// records its own; absent: the rule `replacement_cost_cents` (422
    /// `replacement_cost_invalid`).
    #[oai(nullable)]
    #[oai(validator(minimum(value = "0"), maximum(value = "100000000")))]
    replacement_cost_cents: Option<Int>,
}

/// `GET /catalog/titles/{id}`.
#[derive(Debug, Object)]
struct TitleBody {
    id: i64,
    title: String,
    /// The author, if recorded.
    #[oai(nullable)]
    author: Option<String>,
    /// The ISBN's digits (hyphens and spaces dropped), if recorded.
    #[oai(nullable)]
    isbn: Option<String>,
}

/// `POST /catalog/items`.
#[derive(Debug, Object)]
struct NewItemRequest {
    title_id: i64,
    /// Letters, digits, `-`, `_`; at most 32.
    #[oai(validator(pattern = "^[A-Za-z0-9_-]{1,32}$"))]
    barcode: Text,
    /// `[a-z0-9_]{1,32}`.
    #[oai(validator(pattern = "^[a-z0-9_]{1,32}$"))]
    item_type: Text,
    /// A library code.
    #[oai(validator(pattern = "^[A-Za-z0-9_]{1,32}$"))]
    home_library: Text,
    /// What replacing the copy costs if it is lost, in cents (0 to 100,000,000); absent:
    /// the rule `replacement_cost_cents` applies (422 `replacement_cost_invalid`).
    #[oai(nullable)]
    #[oai(validator(minimum(value = "0"), maximum(value = "100000000")))]
    replacement_cost_cents: Option<Int>,
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

    /// Closes a library on every date from `from` to `to` inclusive (staff), and moves the
    /// due dates and pickup-by dates inside the closure as `move_due_dates` and
    /// `move_pickup_dates` say, in one transaction with a notice to each reader affected.
    /// 404 for an unknown library; 422 `to_before_from` or a move's code.
    #[oai(path = "/libraries/:code/closures", method = "post")]
    async fn add_closure(
        &self,
        auth: StaffAuth,
        code: Path<Text>,
        body: Json<ClosureRequest>,
    ) -> Result<ClosureCreated, ApiError> {
        let code = path_library(&code.0)?;
        let body = body.0;
        let reason = calendar_reason(&body.reason)?;
        let closure = Closure::new(body.from, body.to).map_err(AdminError::from)?;
        let moves = body.moves();
        let audit = |id: i64, moved: &ClosureImpact| {
            let mut details = json!({
                "id": id, "from": body.from.to_string(), "to": body.to.to_string(),
                "reason": reason,
            });
            if moves != ClosureMoves::default() {
                details["move_due_dates"] = json!(move_text(moves.due_dates));
                details["move_pickup_dates"] = json!(move_text(moves.pickup_dates));
                details["loans"] = json!(moved.loans.len());
                details["holds"] = json!(moved.holds.len());
                details["readers"] = json!(moved.readers().len());
            }
            audit_record(
                &self.state,
                &auth.0,
                "library.closure",
                format!("library:{code}"),
                &details,
            )
        };
        let declared = self
            .state
            .declare_closure(&code, closure, reason, moves, &audit)
            .await?;
        let count = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
        Ok(ClosureCreated::Created(Json(ClosureCreatedBody {
            id: declared.id,
            loans: count(declared.impact.loans.len()),
            holds: count(declared.impact.holds.len()),
            readers: count(declared.impact.readers().len()),
        })))
    }

    /// What declaring the closure in the body would do (staff): how many due dates and
    /// pickup-by dates would move, for how many readers, where to, and the first 20 moves.
    /// Changes no data. 404 for an unknown library; 422 as the declaration.
    #[oai(path = "/libraries/:code/closures/preview", method = "post")]
    async fn preview_closure(
        &self,
        _auth: StaffAuth,
        code: Path<Text>,
        body: Json<ClosureRequest>,
    ) -> Result<Json<ClosurePreviewBody>, ApiError> {
        let code = path_library(&code.0)?;
        let body = body.0;
        calendar_reason(&body.reason)?;
        let closure = Closure::new(body.from, body.to).map_err(AdminError::from)?;
        let preview = self
            .state
            .preview_closure(&code, closure, body.moves())
            .await?;
        Ok(Json(ClosurePreviewBody {
            loans: preview.loans,
            holds: preview.holds,
            readers: preview.readers,
            due_on: preview.targets.due_on,
            pickup_by: preview.targets.pickup_by,
            sample: preview
                .sample
                .into_iter()
                .map(|line| match line {
                    MoveLine::Loan { id, from, to } => MoveBody {
                        kind: MoveKind::Loan,
                        id: id.get(),
                        from,
                        to,
                    },
                    MoveLine::Hold { id, from, to } => MoveBody {
                        kind: MoveKind::Hold,
                        id: id.get(),
                        from,
                        to,
                    },
                })
                .collect(),
        }))
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
        let cost = Int::get(body.replacement_cost_cents);
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
        let cost = Int::get(body.replacement_cost_cents);
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
