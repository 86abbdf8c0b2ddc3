//! Opening hours, sections, door services and reopenings (docs/premises.md): the public
//! view of a library's hours, and the administrators' changes. The rules are
//! `library_premises::hours`'; the use cases `library_app::premises`; this module only
//! translates.

use library_app::premises::{LibraryNow, Reopening, ReopeningNotice};
use library_core::LibraryCode;
use library_premises::hours::{
    DayHours, DoorServices, HoursError, Period, Section, SectionCode, SectionStatus, SpecialHours,
    SpecialPattern, WeekHours,
};
use library_reader_services::{NoticeForm, NoticeId};
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};
use serde_json::json;
use time::{Date, OffsetDateTime, Weekday};

use super::ApiTags;
use super::common::{IdBody, audit_record, path_library, today};
use super::libraries::reason_text;
use super::types::{NoContent, Text};
use crate::auth::StaffAuth;
use crate::error::ApiError;
use library_app::Services;

/// One opening period, `[start, end)`: open at `start`, closed at `end`.
#[derive(Debug, Clone, Object)]
struct PeriodBody {
    /// `HH:MM`, library-local.
    start: Text,
    /// `HH:MM` after `start`; `24:00` for midnight. Closed from this minute on.
    end: Text,
}

/// A week of hours: each weekday's periods, in order with gaps between them, at most 4.
/// A weekday absent or `[]` is closed all day.
#[derive(Debug, Clone, Object, Default)]
struct WeekBody {
    #[oai(nullable)]
    monday: Option<Vec<PeriodBody>>,
    #[oai(nullable)]
    tuesday: Option<Vec<PeriodBody>>,
    #[oai(nullable)]
    wednesday: Option<Vec<PeriodBody>>,
    #[oai(nullable)]
    thursday: Option<Vec<PeriodBody>>,
    #[oai(nullable)]
    friday: Option<Vec<PeriodBody>>,
    #[oai(nullable)]
    saturday: Option<Vec<PeriodBody>>,
    #[oai(nullable)]
    sunday: Option<Vec<PeriodBody>>,
}

/// `POST /libraries/{code}/special-hours`, and a reopening's `special_hours`: exactly one
/// of `closed: true`, `daily` and `week`.
#[derive(Debug, Object)]
struct SpecialHoursRequest {
    /// First date (library-local).
    from: Date,
    /// Last date, inclusive.
    to: Date,
    /// Closed every day of the range.
    #[oai(nullable)]
    closed: Option<bool>,
    /// The same periods every day of the range.
    #[oai(nullable)]
    daily: Option<Vec<PeriodBody>>,
    /// A week of their own.
    #[oai(nullable)]
    week: Option<WeekBody>,
    /// Why (shown to readers); at most 200 characters.
    #[oai(nullable)]
    #[oai(validator(
        pattern = "^\\s*([^\\s\\u0000-\\u001F\\u007F-\\u009F]([^\\u0000-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F])?)?\\s*$",
        max_length = 200
    ))]
    reason: Option<Text>,
}

/// `PUT /libraries/{code}/sections/{section}`.
#[derive(Debug, Object)]
struct SectionRequest {
    status: StatusDto,
    /// From this date (library-local) the section has `status`.
    from: Date,
    /// Last date with `status`, inclusive; absent or `null`: until further notice.
    #[oai(nullable)]
    until: Option<Date>,
    /// The section's own hours; absent or `null`: the library's.
    #[oai(nullable)]
    hours: Option<WeekBody>,
}

/// `PUT /libraries/{code}/door-services`.
#[derive(Debug, Object)]
struct DoorServicesBody {
    /// The book drop takes returns while the library is closed.
    book_drop: bool,
    /// The self-service station serves while the library is closed.
    self_service_station: bool,
}

/// A reopening's notice.
#[derive(Debug, Object)]
struct ReopeningNoticeRequest {
    /// At most 200 characters.
    title: Text,
    /// At most 5,000 characters, line breaks allowed; the reopening libraries' names are
    /// appended.
    body: Text,
    /// The title in Traditional Chinese.
    title_zh: Text,
    /// The text in Traditional Chinese; the libraries' Chinese names are appended.
    body_zh: Text,
}

/// `POST /reopenings`.
#[derive(Debug, Object)]
struct ReopeningRequest {
    /// The libraries that reopen (codes).
    #[oai(validator(pattern = "^[A-Za-z0-9_]{1,32}$"))]
    libraries: Vec<Text>,
    /// The date the sections open.
    from: Date,
    /// Sections open from `from` until further notice (`adult`, `young_adult`, ...).
    #[oai(validator(pattern = "^[a-z0-9_]{1,32}$"))]
    open_sections: Vec<Text>,
    /// Sections closed from `from` until further notice (`study_room`, `computer`, ...).
    #[oai(nullable)]
    #[oai(validator(pattern = "^[a-z0-9_]{1,32}$"))]
    closed_sections: Option<Vec<Text>>,
    /// Special hours for every library named.
    #[oai(nullable)]
    special_hours: Option<SpecialHoursRequest>,
    /// Published for every library's readers, from today.
    notice: ReopeningNoticeRequest,
}

/// What a reopening published.
#[derive(Debug, Object)]
struct ReopeningBody {
    /// The notice's id (`DELETE /notices/{id}` withdraws it).
    notice_id: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
enum StatusDto {
    Open,
    Closed,
}

impl From<StatusDto> for SectionStatus {
    fn from(s: StatusDto) -> Self {
        match s {
            StatusDto::Open => SectionStatus::Open,
            StatusDto::Closed => SectionStatus::Closed,
        }
    }
}

impl From<SectionStatus> for StatusDto {
    fn from(s: SectionStatus) -> Self {
        match s {
            SectionStatus::Open => StatusDto::Open,
            SectionStatus::Closed => StatusDto::Closed,
        }
    }
}

/// A period as shown.
#[derive(Debug, Object)]
struct PeriodShown {
    /// `HH:MM`.
    start: String,
    /// `HH:MM`; `24:00` for midnight.
    end: String,
}

/// A week as shown: every weekday, `[]` when closed.
#[derive(Debug, Object)]
struct WeekShown {
    monday: Vec<PeriodShown>,
    tuesday: Vec<PeriodShown>,
    wednesday: Vec<PeriodShown>,
    thursday: Vec<PeriodShown>,
    friday: Vec<PeriodShown>,
    saturday: Vec<PeriodShown>,
    sunday: Vec<PeriodShown>,
}

/// Special hours as shown.
#[derive(Debug, Object)]
struct SpecialShown {
    id: i64,
    from: Date,
    to: Date,
    /// Closed every day of the range.
    closed: bool,
    /// The same periods every day; `null` otherwise.
    #[oai(nullable)]
    daily: Option<Vec<PeriodShown>>,
    /// A week of their own; `null` otherwise.
    #[oai(nullable)]
    week: Option<WeekShown>,
    reason: String,
}

/// A section as shown.
#[derive(Debug, Object)]
struct SectionShown {
    section: String,
    /// The status declared, from `from` to `until`.
    status: StatusDto,
    from: Date,
    /// `null`: until further notice.
    #[oai(nullable)]
    until: Option<Date>,
    /// Its own hours; `null`: the library's.
    #[oai(nullable)]
    hours: Option<WeekShown>,
    /// Its status today.
    status_today: StatusDto,
    /// Open at this instant.
    open_now: bool,
}

/// A day's hours as shown.
#[derive(Debug, Object)]
struct DayShown {
    date: Date,
    /// Closed all day (a closed day of the calendar, or no periods).
    closed: bool,
    periods: Vec<PeriodShown>,
}

/// `GET /libraries/{code}/hours`.
#[derive(Debug, Object)]
struct HoursBody {
    library_code: String,
    name: String,
    name_zh: String,
    /// Open at this instant (calendar, special hours, week).
    open_now: bool,
    /// When the current period ends, local `HH:MM` today (`24:00` for midnight); `null`
    /// when closed.
    #[oai(nullable)]
    closes_at: Option<String>,
    /// The next opening after now, RFC 3339 at +08:00, within 366 days; `null` if none.
    #[oai(nullable)]
    opens_next: Option<OffsetDateTime>,
    book_drop: bool,
    self_service_station: bool,
    /// The regular week; `null`: none configured (open all day on open days).
    #[oai(nullable)]
    regular: Option<WeekShown>,
    /// Special hours, in the order declared (a later one wins on overlap).
    special_hours: Vec<SpecialShown>,
    sections: Vec<SectionShown>,
    /// The hours in force on the 7 days from today (library-local dates).
    days: Vec<DayShown>,
}

#[derive(ApiResponse)]
enum Created {
    /// Declared.
    #[oai(status = 201)]
    Created(Json<IdBody>),
}

#[derive(ApiResponse)]
enum Reopened {
    /// Applied and published.
    #[oai(status = 201)]
    Created(Json<ReopeningBody>),
}

fn periods_shown(day: &DayHours) -> Vec<PeriodShown> {
    day.periods()
        .iter()
        .map(|p| PeriodShown {
            start: p.start().to_string(),
            end: p.end().to_string(),
        })
        .collect()
}

fn week_shown(week: &WeekHours) -> WeekShown {
    let d = |w| periods_shown(week.on(w));
    WeekShown {
        monday: d(Weekday::Monday),
        tuesday: d(Weekday::Tuesday),
        wednesday: d(Weekday::Wednesday),
        thursday: d(Weekday::Thursday),
        friday: d(Weekday::Friday),
        saturday: d(Weekday::Saturday),
        sunday: d(Weekday::Sunday),
    }
}

/// The state of a library as `GET /libraries/{code}/hours` shows it; also what
/// `GET /libraries` takes its status fields from.
pub(super) struct Status {
    pub(super) open_now: bool,
    pub(super) closes_at: Option<String>,
    pub(super) opens_next: Option<OffsetDateTime>,
}

pub(super) fn status(now: &LibraryNow) -> Status {
    let offset = now.premises.library.calendar.offset();
    Status {
        open_now: now.status.open_now,
        closes_at: now.status.closes_at.map(|t| t.to_string()),
        opens_next: now.status.opens_next.map(|t| t.assume_offset(offset)),
    }
}

fn hours_body(now: LibraryNow) -> HoursBody {
    let Status {
        open_now,
        closes_at,
        opens_next,
    } = status(&now);
    let p = now.premises;
    HoursBody {
        library_code: p.library.info.code.as_str().to_owned(),
        name: p.library.info.name,
        name_zh: p.library.info.name_zh,
        open_now,
        closes_at,
        opens_next,
        book_drop: p.doors.book_drop,
        self_service_station: p.doors.self_service_station,
        regular: p.regular.as_ref().map(week_shown),
        special_hours: p
            .special
            .iter()
            .map(|s| SpecialShown {
                id: s.id,
                from: s.hours.from(),
                to: s.hours.to(),
                closed: matches!(s.hours.pattern(), SpecialPattern::Closed),
                daily: match s.hours.pattern() {
                    SpecialPattern::Daily(d) => Some(periods_shown(d)),
                    _ => None,
                },
                week: match s.hours.pattern() {
                    SpecialPattern::Weekly(w) => Some(week_shown(w)),
                    _ => None,
                },
                reason: s.reason.clone(),
            })
            .collect(),
        sections: now
            .sections
            .iter()
            .map(|s| SectionShown {
                section: s.section.code().as_str().to_owned(),
                status: s.section.status().into(),
                from: s.section.from(),
                until: s.section.until(),
                hours: s.section.hours().map(week_shown),
                status_today: s.status_today.into(),
                open_now: s.open_now,
            })
            .collect(),
        days: now
            .days
            .iter()
            .map(|(date, day)| DayShown {
                date: *date,
                closed: day.is_closed(),
                periods: periods_shown(day),
            })
            .collect(),
    }
}

fn day_hours(periods: &[PeriodBody]) -> Result<DayHours, HoursError> {
    let periods = periods
        .iter()
        .map(|p| Period::parse(&p.start.0, &p.end.0))
        .collect::<Result<Vec<_>, _>>()?;
    DayHours::new(periods)
}

fn week_hours(week: &WeekBody) -> Result<WeekHours, HoursError> {
    let day = |d: &Option<Vec<PeriodBody>>| day_hours(d.as_deref().unwrap_or_default());
    Ok(WeekHours::new([
        day(&week.monday)?,
        day(&week.tuesday)?,
        day(&week.wednesday)?,
        day(&week.thursday)?,
        day(&week.friday)?,
        day(&week.saturday)?,
        day(&week.sunday)?,
    ]))
}

/// The special hours of a request and their reason; the violation
/// `special_pattern_invalid` unless exactly one of `closed: true`, `daily`, `week` is
/// given, `reason_invalid`, or the hours' own codes.
fn special_hours(body: &SpecialHoursRequest) -> Result<(SpecialHours, String), &'static str> {
    let pattern = match (body.closed, &body.daily, &body.week) {
        (Some(true), None, None) => SpecialPattern::Closed,
        (None | Some(false), Some(daily), None) => {
            SpecialPattern::Daily(day_hours(daily).map_err(HoursError::code)?)
        }
        (None | Some(false), None, Some(week)) => {
            SpecialPattern::Weekly(week_hours(week).map_err(HoursError::code)?)
        }
        _ => return Err("special_pattern_invalid"),
    };
    let reason = reason_text(body.reason.as_ref().map_or("", |r| r.0.as_str()))?;
    let hours = SpecialHours::new(body.from, body.to, pattern).map_err(HoursError::code)?;
    Ok((hours, reason.to_owned()))
}

/// Adds `code` to `violations` once.
fn add(violations: &mut Vec<&'static str>, code: &'static str) {
    if !violations.contains(&code) {
        violations.push(code);
    }
}

pub(crate) struct HoursApi {
    state: Services,
}

impl HoursApi {
    pub(crate) fn new(state: Services) -> Self {
        Self { state }
    }
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Libraries")]
impl HoursApi {
    /// A library's hours (public): open now, closes at, opens next, the regular week,
    /// special hours, sections with their status, door services and the next 7 days'
    /// hours. 404 for an unknown library.
    #[oai(path = "/libraries/:code/hours", method = "get")]
    async fn hours(&self, code: Path<Text>) -> Result<Json<HoursBody>, ApiError> {
        let code = path_library(&code.0)?;
        let now = self
            .state
            .premises
            .now(&code)
            .await?
            .ok_or_else(ApiError::not_found)?;
        Ok(Json(hours_body(now)))
    }

    /// Replaces a library's regular week (admin). 404; 422 `hours_invalid`,
    /// `hours_overlap`, `hours_too_many`.
    #[oai(path = "/libraries/:code/hours", method = "put")]
    async fn set_hours(
        &self,
        auth: StaffAuth,
        code: Path<Text>,
        body: Json<WeekBody>,
    ) -> Result<Json<HoursBody>, ApiError> {
        let code = path_library(&code.0)?;
        let week = week_hours(&body.0)?;
        let audit = audit_record(
            &self.state,
            &auth.0,
            "library.hours",
            format!("library:{code}"),
            &json!({"week": week.to_text()}),
        );
        let store = self.state.premises.store();
        store.set_regular_hours(&code, Some(&week), audit).await?;
        self.hours(Path(Text(code.as_str().to_owned()))).await
    }

    /// Removes a library's regular week (admin): open all day on open days again. 404.
    #[oai(path = "/libraries/:code/hours", method = "delete")]
    async fn clear_hours(&self, auth: StaffAuth, code: Path<Text>) -> Result<NoContent, ApiError> {
        let code = path_library(&code.0)?;
        let audit = audit_record(
            &self.state,
            &auth.0,
            "library.hours",
            format!("library:{code}"),
            &json!({"week": null}),
        );
        let store = self.state.premises.store();
        store.set_regular_hours(&code, None, audit).await?;
        Ok(NoContent::NoContent)
    }

    /// Declares special hours for a date range (admin). 404; 422 `to_before_from`,
    /// `special_pattern_invalid`, `reason_invalid`, `hours_invalid`, `hours_overlap`,
    /// `hours_too_many`.
    #[oai(path = "/libraries/:code/special-hours", method = "post")]
    async fn add_special(
        &self,
        auth: StaffAuth,
        code: Path<Text>,
        body: Json<SpecialHoursRequest>,
    ) -> Result<Created, ApiError> {
        let code = path_library(&code.0)?;
        let (hours, reason) =
            special_hours(&body.0).map_err(|v| ApiError::validation_failed([v]))?;
        let details = json!({"from": hours.from().to_string(), "to": hours.to().to_string(),
                             "pattern": hours.pattern().to_text(), "reason": reason});
        let audit = |id: i64| {
            audit_record(
                &self.state,
                &auth.0,
                "library.special_hours",
                format!("library:{code}"),
                &json!({"id": id, "hours": details}),
            )
        };
        let now = self.state.clock.now();
        let store = self.state.premises.store();
        let id = store
            .add_special_hours(&code, &hours, &reason, now, &audit)
            .await?;
        Ok(Created::Created(Json(IdBody { id })))
    }

    /// Removes special hours (admin). 404 (unknown library, or not its special hours).
    #[oai(path = "/libraries/:code/special-hours/:id", method = "delete")]
    async fn remove_special(
        &self,
        auth: StaffAuth,
        code: Path<Text>,
        id: Path<i64>,
    ) -> Result<NoContent, ApiError> {
        let code = path_library(&code.0)?;
        let audit = audit_record(
            &self.state,
            &auth.0,
            "library.special_hours_remove",
            format!("library:{code}"),
            &json!({"id": id.0}),
        );
        let store = self.state.premises.store();
        if store.remove_special_hours(&code, id.0, audit).await? {
            Ok(NoContent::NoContent)
        } else {
            Err(ApiError::not_found())
        }
    }

    /// Sets a section's status from a date, until a date or further notice, with its own
    /// hours or the library's (admin). 404 unknown library; 422 `section_invalid` (the
    /// code is not `[a-z0-9_]{1,32}`), `to_before_from`, `hours_*`.
    #[oai(path = "/libraries/:code/sections/:section", method = "put")]
    async fn set_section(
        &self,
        auth: StaffAuth,
        code: Path<Text>,
        section: Path<Text>,
        body: Json<SectionRequest>,
    ) -> Result<Json<HoursBody>, ApiError> {
        let code = path_library(&code.0)?;
        let body = body.0;
        let section_code = SectionCode::parse(&section.0)?;
        let hours = body.hours.as_ref().map(week_hours).transpose()?;
        let declared = Section::new(
            section_code,
            body.status.into(),
            body.from,
            body.until,
            hours,
        )?;
        let audit = audit_record(
            &self.state,
            &auth.0,
            "library.section",
            format!("library:{code}"),
            &json!({"section": declared.code().as_str(), "status": declared.status().as_str(),
                    "from": declared.from().to_string(),
                    "until": declared.until().map(|d| d.to_string())}),
        );
        let store = self.state.premises.store();
        store.set_section(&code, &declared, audit).await?;
        self.hours(Path(Text(code.as_str().to_owned()))).await
    }

    /// Sets which door services serve while the library is closed (admin). 404.
    #[oai(path = "/libraries/:code/door-services", method = "put")]
    async fn set_door_services(
        &self,
        auth: StaffAuth,
        code: Path<Text>,
        body: Json<DoorServicesBody>,
    ) -> Result<Json<DoorServicesBody>, ApiError> {
        let code = path_library(&code.0)?;
        let doors = DoorServices {
            book_drop: body.0.book_drop,
            self_service_station: body.0.self_service_station,
        };
        let audit = audit_record(
            &self.state,
            &auth.0,
            "library.door_services",
            format!("library:{code}"),
            &json!({"book_drop": doors.book_drop,
                    "self_service_station": doors.self_service_station}),
        );
        let store = self.state.premises.store();
        store.set_door_services(&code, doors, audit).await?;
        Ok(body)
    }

    /// Reopens several libraries in one act (admin): sections open (and others closed
    /// until further notice) from a date, optional special hours, and a notice in English
    /// and Traditional Chinese naming the libraries, published for every library's readers;
    /// all or nothing. 422 with violations: `libraries_missing`, `unknown_library`,
    /// `section_invalid`, `section_twice`, the special hours' codes, the notice's
    /// (`title_*`, `body_*`, `title_zh_missing`, `body_zh_missing`, ...).
    #[oai(path = "/reopenings", method = "post")]
    async fn reopen(
        &self,
        auth: StaffAuth,
        body: Json<ReopeningRequest>,
    ) -> Result<Reopened, ApiError> {
        let body = body.0;
        let mut violations: Vec<&'static str> = Vec::new();
        let mut libraries = Vec::new();
        for raw in &body.libraries {
            match LibraryCode::parse(raw.0.trim()) {
                Ok(code) => libraries.push(code),
                Err(_) => add(&mut violations, "unknown_library"),
            }
        }
        let mut sections = |list: &[Text]| -> Vec<SectionCode> {
            let mut out = Vec::new();
            for raw in list {
                match SectionCode::parse(&raw.0) {
                    Ok(code) => out.push(code),
                    Err(e) => add(&mut violations, e.code()),
                }
            }
            out
        };
        let open_sections = sections(&body.open_sections);
        let closed_sections = sections(body.closed_sections.as_deref().unwrap_or_default());
        let special = match body.special_hours.as_ref().map(special_hours).transpose() {
            Ok(special) => special,
            Err(v) => {
                add(&mut violations, v);
                None
            }
        };
        let n = body.notice;
        let notice = NoticeForm {
            library_code: None,
            title: n.title.into_string(),
            body: n.body.into_string(),
            title_zh: Some(n.title_zh.into_string()),
            body_zh: Some(n.body_zh.into_string()),
            published_on: None,
            expires_on: None,
        }
        .parse(today(&self.state));
        let notice = match notice {
            Ok(notice) => match (notice.title_zh, notice.body_zh) {
                (Some(title_zh), Some(body_zh)) => Some(ReopeningNotice {
                    title: notice.title,
                    body: notice.body,
                    title_zh,
                    body_zh,
                }),
                (title_zh, body_zh) => {
                    if title_zh.is_none() {
                        add(&mut violations, "title_zh_missing");
                    }
                    if body_zh.is_none() {
                        add(&mut violations, "body_zh_missing");
                    }
                    None
                }
            },
            Err(v) => {
                for code in v.0 {
                    add(&mut violations, code);
                }
                None
            }
        };
        let Some(notice) = notice.filter(|_| violations.is_empty()) else {
            return Err(ApiError::validation_failed(violations));
        };
        let reopening = Reopening {
            libraries,
            from: body.from,
            open_sections,
            closed_sections,
            special,
            notice,
        };
        let details = json!({
            "libraries": reopening.libraries.iter().map(LibraryCode::as_str).collect::<Vec<_>>(),
            "from": reopening.from.to_string(),
            "open_sections": reopening.open_sections.iter().map(SectionCode::as_str).collect::<Vec<_>>(),
            "closed_sections": reopening.closed_sections.iter().map(SectionCode::as_str).collect::<Vec<_>>(),
            "special_hours": reopening.special.as_ref().map(|(h, _)| json!({
                "from": h.from().to_string(), "to": h.to().to_string(), "pattern": h.pattern().to_text()})),
        });
        let audit = |id: NoticeId| {
            let mut details = details.clone();
            details["notice_id"] = json!(id.get());
            audit_record(
                &self.state,
                &auth.0,
                "library.reopening",
                format!("notice:{}", id.get()),
                &details,
            )
        };
        let id = self.state.premises.reopen(reopening, &audit).await?;
        Ok(Reopened::Created(Json(ReopeningBody {
            notice_id: id.get(),
        })))
    }
}
