//! A library's calendar beyond dated closures (your design; http.md): closed weekdays,
//! yearly closed days and dates re-opened, listed publicly, added and removed by staff.
//! Dated closures keep the contract's `POST /libraries/{code}/closures` and are listed
//! here too.

use library_circulation::{CalendarRule, Closure};
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};
use serde_json::json;
use time::{Date, Month, Weekday};

use super::ApiTags;
use super::common::{IdBody, audit_record, path_library};
use super::libraries::calendar_reason;
use super::types::Text;
use crate::auth::StaffAuth;
use crate::error::ApiError;
use library_app::AdminError;
use library_app::Services;

/// The kind of a calendar rule on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
enum RuleKind {
    /// Closed every such weekday (`weekday`).
    ClosedWeekday,
    /// Closed every year on `month`/`day` (29 February: in leap years).
    ClosedYearly,
    /// Closed on every date from `from` to `to` inclusive.
    Closure,
    /// Open on `date` whatever the other rules say.
    Reopen,
}

/// A weekday on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
enum WeekdayDto {
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
    Saturday,
    Sunday,
}

impl From<WeekdayDto> for Weekday {
    fn from(d: WeekdayDto) -> Self {
        match d {
            WeekdayDto::Monday => Weekday::Monday,
            WeekdayDto::Tuesday => Weekday::Tuesday,
            WeekdayDto::Wednesday => Weekday::Wednesday,
            WeekdayDto::Thursday => Weekday::Thursday,
            WeekdayDto::Friday => Weekday::Friday,
            WeekdayDto::Saturday => Weekday::Saturday,
            WeekdayDto::Sunday => Weekday::Sunday,
        }
    }
}

impl From<Weekday> for WeekdayDto {
    fn from(d: Weekday) -> Self {
        match d {
            Weekday::Monday => WeekdayDto::Monday,
            Weekday::Tuesday => WeekdayDto::Tuesday,
            Weekday::Wednesday => WeekdayDto::Wednesday,
            Weekday::Thursday => WeekdayDto::Thursday,
            Weekday::Friday => WeekdayDto::Friday,
            Weekday::Saturday => WeekdayDto::Saturday,
            Weekday::Sunday => WeekdayDto::Sunday,
        }
    }
}

/// `POST /libraries/{code}/calendar`: `rule` and the fields it needs.
#[derive(Debug, Object)]
struct NewEntryRequest {
    rule: RuleKind,
    /// For `closed_weekday`.
    #[oai(nullable)]
    weekday: Option<WeekdayDto>,
    /// For `closed_yearly`: 1 to 12.
    #[oai(nullable)]
    month: Option<u8>,
    /// For `closed_yearly`: a day the month has.
    #[oai(nullable)]
    day: Option<u8>,
    /// For `closure`: the first closed date.
    #[oai(nullable)]
    from: Option<Date>,
    /// For `closure`: the last closed date.
    #[oai(nullable)]
    to: Option<Date>,
    /// For `reopen`.
    #[oai(nullable)]
    date: Option<Date>,
    /// Trimmed, at most 200 characters, one line; may be blank.
    #[oai(validator(
        pattern = "^\\s*([^\\s\\u0000-\\u001F\\u007F-\\u009F]([^\\u0000-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F])?)?\\s*$",
        max_length = 200
    ))]
    reason: Text,
}

/// One calendar entry.
#[derive(Debug, Object)]
struct EntryBody {
    id: i64,
    rule: RuleKind,
    #[oai(nullable, skip_serializing_if_is_none)]
    weekday: Option<WeekdayDto>,
    #[oai(nullable, skip_serializing_if_is_none)]
    month: Option<u8>,
    #[oai(nullable, skip_serializing_if_is_none)]
    day: Option<u8>,
    #[oai(nullable, skip_serializing_if_is_none)]
    from: Option<Date>,
    #[oai(nullable, skip_serializing_if_is_none)]
    to: Option<Date>,
    #[oai(nullable, skip_serializing_if_is_none)]
    date: Option<Date>,
    reason: String,
}

impl EntryBody {
    fn new(id: i64, rule: CalendarRule, reason: String) -> Self {
        let entry = |rule| EntryBody {
            id,
            rule,
            weekday: None,
            month: None,
            day: None,
            from: None,
            to: None,
            date: None,
            reason,
        };
        match rule {
            CalendarRule::ClosedWeekday(w) => EntryBody {
                weekday: Some(w.into()),
                ..entry(RuleKind::ClosedWeekday)
            },
            CalendarRule::Yearly { month, day } => EntryBody {
                month: Some(u8::from(month)),
                day: Some(day),
                ..entry(RuleKind::ClosedYearly)
            },
            CalendarRule::Closure(c) => EntryBody {
                from: Some(c.from()),
                to: Some(c.to()),
                ..entry(RuleKind::Closure)
            },
            CalendarRule::Reopen(d) => EntryBody {
                date: Some(d),
                ..entry(RuleKind::Reopen)
            },
        }
    }
}

/// `GET /libraries/{code}/calendar`.
#[derive(Debug, Object)]
struct EntriesBody {
    entries: Vec<EntryBody>,
}

#[derive(ApiResponse)]
enum Created {
    /// Added.
    #[oai(status = 201)]
    Created(Json<IdBody>),
}

#[derive(ApiResponse)]
enum Removed {
    /// Removed.
    #[oai(status = 204)]
    Removed,
}

/// `value`, noting `missing` when there is none.
fn need<T>(
    value: Option<T>,
    missing: &'static str,
    violations: &mut Vec<&'static str>,
) -> Option<T> {
    if value.is_none() {
        violations.push(missing);
    }
    value
}

/// The rule a request describes, or the violations: a field the rule needs is missing
/// (`weekday_missing`, `month_missing`, `day_missing`, `from_missing`, `to_missing`,
/// `date_missing`), a month out of 1..=12 (`month_invalid`).
fn rule_of(req: &NewEntryRequest) -> Result<CalendarRule, ApiError> {
    let mut violations = Vec::new();
    let rule = match req.rule {
        RuleKind::ClosedWeekday => need(req.weekday, "weekday_missing", &mut violations)
            .map(|w| CalendarRule::ClosedWeekday(w.into())),
        RuleKind::ClosedYearly => {
            let month = need(req.month, "month_missing", &mut violations);
            let day = need(req.day, "day_missing", &mut violations);
            let month = match month.map(Month::try_from) {
                Some(Ok(m)) => Some(m),
                Some(Err(_)) => {
                    violations.push("month_invalid");
                    None
                }
                None => None,
            };
            month
                .zip(day)
                .map(|(month, day)| CalendarRule::Yearly { month, day })
        }
        RuleKind::Closure => {
            let from = need(req.from, "from_missing", &mut violations);
            let to = need(req.to, "to_missing", &mut violations);
            match from.zip(to).map(|(from, to)| Closure::new(from, to)) {
                Some(Ok(c)) => Some(CalendarRule::Closure(c)),
                Some(Err(e)) => return Err(AdminError::from(e).into()),
                None => None,
            }
        }
        RuleKind::Reopen => {
            need(req.date, "date_missing", &mut violations).map(CalendarRule::Reopen)
        }
    };
    match rule {
        Some(rule) if violations.is_empty() => Ok(rule),
        _ => Err(ApiError::validation_failed(violations)),
    }
}

pub(crate) struct CalendarApi {
    state: Services,
}

impl CalendarApi {
    pub(crate) fn new(state: Services) -> Self {
        Self { state }
    }
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Libraries")]
impl CalendarApi {
    /// A library's calendar (public): every rule in the order added. 404 for an unknown
    /// library.
    #[oai(path = "/libraries/:code/calendar", method = "get")]
    async fn entries(&self, code: Path<Text>) -> Result<Json<EntriesBody>, ApiError> {
        let code = path_library(&code.0)?;
        let entries = self
            .state
            .libraries
            .calendar_entries(&code)
            .await?
            .ok_or_else(ApiError::not_found)?;
        Ok(Json(EntriesBody {
            entries: entries
                .into_iter()
                .map(|e| EntryBody::new(e.id, e.rule, e.reason))
                .collect(),
        }))
    }

    /// Adds a rule to a library's calendar (staff): `closed_weekday`, `closed_yearly`,
    /// `closure` or `reopen`, with the fields it needs. 404 for an unknown library; 422
    /// with the violations (a missing field, `month_invalid`, `no_such_day`,
    /// `to_before_from`, `reason_invalid`); an unknown `rule` or `weekday` is 400.
    #[oai(path = "/libraries/:code/calendar", method = "post")]
    async fn add(
        &self,
        auth: StaffAuth,
        code: Path<Text>,
        body: Json<NewEntryRequest>,
    ) -> Result<Created, ApiError> {
        let code = path_library(&code.0)?;
        let body = body.0;
        let reason = calendar_reason(&body.reason)?;
        let rule = rule_of(&body)?;
        let audit = |id: i64| {
            audit_record(
                &self.state,
                &auth.0,
                "library.calendar_add",
                format!("library:{code}"),
                &json!({"id": id, "rule": format!("{rule:?}"), "reason": reason}),
            )
        };
        let id = self
            .state
            .libraries
            .add_calendar_entry(&code, rule, reason, &audit)
            .await?;
        Ok(Created::Created(Json(IdBody { id })))
    }

    /// Removes a rule from a library's calendar (staff). 404 for an unknown library or an
    /// id that is not one of its entries.
    #[oai(path = "/libraries/:code/calendar/:id", method = "delete")]
    async fn remove(
        &self,
        auth: StaffAuth,
        code: Path<Text>,
        id: Path<i64>,
    ) -> Result<Removed, ApiError> {
        let code = path_library(&code.0)?;
        let audit = audit_record(
            &self.state,
            &auth.0,
            "library.calendar_remove",
            format!("library:{code}"),
            &json!({"id": id.0}),
        );
        if !self
            .state
            .libraries
            .remove_calendar_entry(&code, id.0, audit)
            .await?
        {
            return Err(ApiError::not_found());
        }
        Ok(Removed::Removed)
    }
}
