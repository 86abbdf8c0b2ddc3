//! Staff reports (docs/http.md, Reports): circulation counts and fines per library and
//! local day, and the overdue loans now; JSON, or CSV with `Accept: text/csv` or
//! `?format=csv`.

use library_app::{
    CirculationDay, FinesDay, OverdueLine, OverdueQuery, ReportError, ReportPeriod, Services,
};
use poem::Request;
use poem_openapi::param::Query;
use poem_openapi::payload::{Json, PlainText};
use poem_openapi::{ApiResponse, Object, OpenApi, ResponseContent};
use time::{Date, OffsetDateTime};

use super::ApiTags;
use super::common::shown;
use super::types::{Int, Text};
use crate::auth::StaffAuth;
use crate::csv::{Cell, Csv};
use crate::error::ApiError;

/// One library's circulation on one local day.
#[derive(Debug, Object)]
struct CirculationDayBody {
    /// The library's local date.
    date: Date,
    library_code: String,
    /// Checkouts at a counter (hold collections included).
    checkouts_counter: u64,
    /// Checkouts at a self-service station.
    checkouts_station: u64,
    /// Checkins at a counter (book-drop returns included).
    checkins_counter: u64,
    /// Checkins at a station.
    checkins_station: u64,
    /// Renewals at a counter.
    renewals_counter: u64,
    /// Renewals at a station.
    renewals_station: u64,
    /// Renewals by readers online (a Password session).
    renewals_online: u64,
    /// Renewals by readers with a PIN session (telephone).
    renewals_pin: u64,
    /// Holds placed for pickup there.
    holds_placed: u64,
    /// Holds collected there.
    holds_collected: u64,
}

/// `GET /reports/circulation`.
#[derive(Debug, Object)]
struct CirculationReportBody {
    from: Date,
    to: Date,
    /// The library asked for; `null` for every library.
    #[oai(nullable)]
    library_code: Option<String>,
    /// The days on which something happened, by date then library.
    days: Vec<CirculationDayBody>,
}

/// One library's fine ledger on one day.
#[derive(Debug, Object)]
struct FinesDayBody {
    date: Date,
    /// The library the charges are for; `null` for charges of no library.
    #[oai(nullable)]
    library_code: Option<String>,
    /// Charged (fines fixed, hold fees).
    charged_cents: i64,
    /// Paid towards those charges.
    paid_cents: i64,
    /// Waived.
    waived_cents: i64,
}

/// `GET /reports/fines`.
#[derive(Debug, Object)]
struct FinesReportBody {
    from: Date,
    to: Date,
    #[oai(nullable)]
    library_code: Option<String>,
    days: Vec<FinesDayBody>,
}

/// An overdue loan.
#[derive(Debug, Object)]
struct OverdueLoanBody {
    loan_id: i64,
    card_number: String,
    title: String,
    item_barcode: String,
    /// The lending library.
    library_code: String,
    /// The due date (the lending library's local date).
    due_on: Date,
    due_at: OffsetDateTime,
    /// Local days since the due date.
    overdue_days: u32,
    /// The fine accrued so far (fixed as a charge on return or renewal).
    fine_cents: i64,
}

/// `GET /reports/overdue`.
#[derive(Debug, Object)]
struct OverdueReportBody {
    /// Overdue loans over all pages.
    total: u64,
    loans: Vec<OverdueLoanBody>,
}

/// A report's content: JSON or CSV.
#[derive(ResponseContent)]
enum ReportContent<T: poem_openapi::types::ToJSON> {
    Json(Json<T>),
    #[oai(content_type = "text/csv; charset=utf-8")]
    Csv(PlainText<String>),
}

#[derive(ApiResponse)]
enum ReportResponse<T: poem_openapi::types::ToJSON> {
    /// The report, as JSON or as CSV.
    #[oai(status = 200)]
    Ok(ReportContent<T>),
}

pub(crate) struct ReportsApi {
    state: Services,
}

impl ReportsApi {
    pub(crate) fn new(state: Services) -> Self {
        Self { state }
    }
}

/// Whether the client asked for CSV: `format=csv` (or `json`) wins; otherwise an `Accept`
/// naming `text/csv`. Another `format` is 422 `format_invalid`.
fn wants_csv(req: &Request, format: Option<&str>) -> Result<bool, ApiError> {
    match format.map(str::trim) {
        Some("csv") => Ok(true),
        Some("json") => Ok(false),
        Some(_) => Err(ApiError::validation_failed(vec!["format_invalid"])),
        None => Ok(req
            .headers()
            .get_all(poem::http::header::ACCEPT)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|t| {
                t.split(';')
                    .next()
                    .is_some_and(|m| m.trim().eq_ignore_ascii_case("text/csv"))
            })),
    }
}

fn report_error(err: ReportError) -> ApiError {
    match err {
        ReportError::Invalid(violations) => ApiError::validation_failed(violations),
        ReportError::Store(e) => e.into(),
    }
}

/// The period's checks, with a bad `format` among the violations.
fn period(
    req: &Request,
    from: Option<Date>,
    to: Option<Date>,
    library: Option<&str>,
    format: Option<&str>,
) -> Result<(ReportPeriod, bool), ApiError> {
    let csv = wants_csv(req, format);
    match (ReportPeriod::parse(from, to, library), csv) {
        (Ok(period), Ok(csv)) => Ok((period, csv)),
        (Err(mut violations), Err(_)) => {
            violations.push("format_invalid");
            Err(ApiError::validation_failed(violations))
        }
        (Err(violations), Ok(_)) => Err(ApiError::validation_failed(violations)),
        (Ok(_), Err(e)) => Err(e),
    }
}

fn date_text(date: Date) -> String {
    date.to_string()
}

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn circulation_csv(days: &[CirculationDay]) -> String {
    let mut csv = Csv::with_header(&[
        "date",
        "library_code",
        "checkouts_counter",
        "checkouts_station",
        "checkins_counter",
        "checkins_station",
        "renewals_counter",
        "renewals_station",
        "renewals_online",
        "renewals_pin",
        "holds_placed",
        "holds_collected",
    ]);
    for d in days {
        let date = date_text(d.on);
        let n = |v: u64| Cell::Number(i128::from(v));
        csv.record([
            Cell::Text(&date),
            Cell::Text(d.library.as_str()),
            n(d.checkouts_counter),
            n(d.checkouts_station),
            n(d.checkins_counter),
            n(d.checkins_station),
            n(d.renewals_counter),
            n(d.renewals_station),
            n(d.renewals_online),
            n(d.renewals_pin),
            n(d.holds_placed),
            n(d.holds_collected),
        ]);
    }
    csv.finish()
}

fn fines_csv(days: &[FinesDay]) -> String {
    let mut csv = Csv::with_header(&[
        "date",
        "library_code",
        "charged_cents",
        "paid_cents",
        "waived_cents",
    ]);
    for d in days {
        let date = date_text(d.on);
        csv.record([
            Cell::Text(&date),
            Cell::Text(d.library.as_ref().map_or("", |l| l.as_str())),
            Cell::Number(i128::from(d.charged.cents())),
            Cell::Number(i128::from(d.paid.cents())),
            Cell::Number(i128::from(d.waived.cents())),
        ]);
    }
    csv.finish()
}

fn overdue_csv(lines: &[OverdueLine]) -> String {
    let mut csv = Csv::with_header(&[
        "loan_id",
        "card_number",
        "title",
        "item_barcode",
        "library_code",
        "due_on",
        "due_at",
        "overdue_days",
        "fine_cents",
    ]);
    for l in lines {
        let due_on = date_text(l.row.loan.due.on);
        let due_at = rfc3339(shown(l.row.loan.due.at));
        csv.record([
            Cell::Number(i128::from(l.row.loan.id.get())),
            Cell::Text(l.row.card_number.as_str()),
            Cell::Text(&l.row.title),
            Cell::Text(l.row.barcode.as_str()),
            Cell::Text(l.row.loan.library.as_str()),
            Cell::Text(&due_on),
            Cell::Text(&due_at),
            Cell::Number(i128::from(l.accrued.overdue_days)),
            Cell::Number(i128::from(l.accrued.fine.cents())),
        ]);
    }
    csv.finish()
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Reports")]
impl ReportsApi {
    /// Circulation counts (staff) per library and local day from `from` to `to` (both
    /// included, at most 366 days; `library` for one library): checkouts and checkins at
    /// a counter or a station, renewals by channel (counter, station, reader online,
    /// reader by PIN), holds placed and collected. Only days with activity are listed.
    /// JSON, or CSV with `Accept: text/csv` or `format=csv`. 422 with violations
    /// `from_missing`, `to_missing`, `to_before_from`, `period_too_long`,
    /// `unknown_library`, `format_invalid`; a date that is not a date is 400.
    #[oai(path = "/reports/circulation", method = "get")]
    async fn circulation(
        &self,
        req: &Request,
        _auth: StaffAuth,
        from: Query<Option<Date>>,
        to: Query<Option<Date>>,
        #[oai(validator(pattern = "^\\s*([A-Za-z0-9_]{1,32})?\\s*$"))] library: Query<Option<Text>>,
        #[oai(validator(pattern = "^\\s*(csv|json)\\s*$"))] format: Query<Option<Text>>,
    ) -> Result<ReportResponse<CirculationReportBody>, ApiError> {
        let (period, csv) = period(req, from.0, to.0, library.0.as_deref(), format.0.as_deref())?;
        let days = self
            .state
            .circulation_report(&period)
            .await
            .map_err(report_error)?;
        if csv {
            return Ok(ReportResponse::Ok(ReportContent::Csv(PlainText(
                circulation_csv(&days),
            ))));
        }
        Ok(ReportResponse::Ok(ReportContent::Json(Json(
            CirculationReportBody {
                from: period.from,
                to: period.to,
                library_code: period.library.map(|l| l.as_str().to_owned()),
                days: days
                    .into_iter()
                    .map(|d| CirculationDayBody {
                        date: d.on,
                        library_code: d.library.as_str().to_owned(),
                        checkouts_counter: d.checkouts_counter,
                        checkouts_station: d.checkouts_station,
                        checkins_counter: d.checkins_counter,
                        checkins_station: d.checkins_station,
                        renewals_counter: d.renewals_counter,
                        renewals_station: d.renewals_station,
                        renewals_online: d.renewals_online,
                        renewals_pin: d.renewals_pin,
                        holds_placed: d.holds_placed,
                        holds_collected: d.holds_collected,
                    })
                    .collect(),
            },
        ))))
    }

    /// Fines (staff) per library and day from `from` to `to`: charged, paid and waived, in
    /// cents. A charge's library is the lending library of an overdue fine and the pickup
    /// library of a hold fee; a payment counts on its day for the charges it paid. Same
    /// parameters, formats and 422s as `/reports/circulation`.
    #[oai(path = "/reports/fines", method = "get")]
    async fn fines(
        &self,
        req: &Request,
        _auth: StaffAuth,
        from: Query<Option<Date>>,
        to: Query<Option<Date>>,
        #[oai(validator(pattern = "^\\s*([A-Za-z0-9_]{1,32})?\\s*$"))] library: Query<Option<Text>>,
        #[oai(validator(pattern = "^\\s*(csv|json)\\s*$"))] format: Query<Option<Text>>,
    ) -> Result<ReportResponse<FinesReportBody>, ApiError> {
        let (period, csv) = period(req, from.0, to.0, library.0.as_deref(), format.0.as_deref())?;
        let days = self
            .state
            .fines_report(&period)
            .await
            .map_err(report_error)?;
        if csv {
            return Ok(ReportResponse::Ok(ReportContent::Csv(PlainText(
                fines_csv(&days),
            ))));
        }
        Ok(ReportResponse::Ok(ReportContent::Json(Json(
            FinesReportBody {
                from: period.from,
                to: period.to,
                library_code: period.library.map(|l| l.as_str().to_owned()),
                days: days
                    .into_iter()
                    .map(|d| FinesDayBody {
                        date: d.on,
                        library_code: d.library.map(|l| l.as_str().to_owned()),
                        charged_cents: d.charged.cents(),
                        paid_cents: d.paid.cents(),
                        waived_cents: d.waived.cents(),
                    })
                    .collect(),
            },
        ))))
    }

    /// The overdue loans now (staff), lent by `library` when given, longest overdue first
    /// (by due time, then loan): the reader's card, the title, the copy, the due date, the
    /// days overdue and the fine accruing. `page` from 1 (default 1), `per_page` 1–100
    /// (default 20); `total` over all pages. JSON or CSV as the other reports. 422 with
    /// violations `page_invalid`, `per_page_invalid`, `unknown_library`, `format_invalid`.
    #[oai(path = "/reports/overdue", method = "get")]
    async fn overdue(
        &self,
        req: &Request,
        _auth: StaffAuth,
        #[oai(validator(pattern = "^\\s*([A-Za-z0-9_]{1,32})?\\s*$"))] library: Query<Option<Text>>,
        #[oai(validator(minimum(value = "1")))] page: Query<Option<Int>>,
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))] per_page: Query<
            Option<Int>,
        >,
        #[oai(validator(pattern = "^\\s*(csv|json)\\s*$"))] format: Query<Option<Text>>,
    ) -> Result<ReportResponse<OverdueReportBody>, ApiError> {
        let query =
            OverdueQuery::parse(library.0.as_deref(), Int::get(page.0), Int::get(per_page.0));
        let csv = wants_csv(req, format.0.as_deref());
        let (query, csv) = match (query, csv) {
            (Ok(query), Ok(csv)) => (query, csv),
            (Err(mut violations), Err(_)) => {
                violations.push("format_invalid");
                return Err(ApiError::validation_failed(violations));
            }
            (Err(violations), Ok(_)) => return Err(ApiError::validation_failed(violations)),
            (Ok(_), Err(e)) => return Err(e),
        };
        let found = self
            .state
            .overdue_report(&query)
            .await
            .map_err(report_error)?;
        if csv {
            return Ok(ReportResponse::Ok(ReportContent::Csv(PlainText(
                overdue_csv(&found.items),
            ))));
        }
        Ok(ReportResponse::Ok(ReportContent::Json(Json(
            OverdueReportBody {
                total: found.total,
                loans: found
                    .items
                    .into_iter()
                    .map(|l| OverdueLoanBody {
                        loan_id: l.row.loan.id.get(),
                        card_number: l.row.card_number.as_str().to_owned(),
                        title: l.row.title,
                        item_barcode: l.row.barcode.as_str().to_owned(),
                        library_code: l.row.loan.library.as_str().to_owned(),
                        due_on: l.row.loan.due.on,
                        due_at: shown(l.row.loan.due.at),
                        overdue_days: l.accrued.overdue_days,
                        fine_cents: l.accrued.fine.cents(),
                    })
                    .collect(),
            },
        ))))
    }
}
