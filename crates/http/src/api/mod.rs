//! The routes: one module per group, all mounted by [`app`].

mod activities;
mod admission;
mod auth;
mod calendar;
mod circulation;
mod common;
mod dev;
mod enquiries;
mod fines;
mod holds;
mod hours;
mod libraries;
mod me;
mod messages;
mod notices;
mod operations;
mod readers;
mod reports;
mod search;
mod settings;
mod sip2;
mod staff;
mod study_rooms;
mod types;

use poem::middleware::CatchPanic;
use poem::{Endpoint, EndpointExt, Response, Route};
use poem_openapi::{OpenApiService, Tags};

use crate::middleware::{guard_request, panic_response};
use crate::text::CheckedText;
use library_app::Services;

/// Groups of operations in the OpenAPI document.
#[derive(Tags)]
enum ApiTags {
    /// Health, readiness.
    Operations,
    /// Reader login, PIN login, logout, forgotten Password.
    Auth,
    /// My Account.
    Me,
    /// Staff: login, reader registration and records, resets at the counter.
    Staff,
    /// Libraries and their calendars.
    Libraries,
    /// Titles and items.
    Catalogue,
    /// Checkout, checkin, renewal at the counter, circulation rules.
    Circulation,
    /// Fine-suspension periods, payments, waivers.
    Fines,
    /// SIP2 station accounts (self-service stations).
    Sip2,
    /// My Info: extension activities and registrations.
    Activities,
    /// My Info: library notices.
    Notices,
    /// Ask a Librarian.
    Enquiries,
    /// Staff reports: circulation counts, fines, overdue loans (JSON or CSV).
    Reports,
    /// Students' Study Room admission cards: schemes, applications, the ballot, the door.
    StudyRooms,
    /// Development only (`LIBRARY_DEV_CLOCK=1`): the settable clock and the job trigger.
    Dev,
}

/// Every group of operations: what the OpenAPI service serves and documents.
pub(crate) type Apis = (
    operations::OperationsApi,
    auth::AuthApi,
    me::MeApi,
    staff::StaffApi,
    dev::DevApi,
    libraries::LibrariesApi,
    calendar::CalendarApi,
    circulation::CirculationApi,
    fines::FinesApi,
    holds::StaffHoldsApi,
    sip2::Sip2Api,
    (
        activities::ActivitiesApi,
        notices::NoticesApi,
        settings::SettingsApi,
        enquiries::EnquiriesApi,
        messages::MessagesApi,
        search::SearchApi,
        readers::ReadersApi,
        reports::ReportsApi,
        admission::AdmissionApi,
        study_rooms::StudyRoomsApi,
        hours::HoursApi,
    ),
);

fn apis(state: &Services) -> Apis {
    (
        operations::OperationsApi::new(state.clone()),
        auth::AuthApi::new(state.clone()),
        me::MeApi::new(state.clone()),
        staff::StaffApi::new(state.clone()),
        dev::DevApi::new(state.clone()),
        libraries::LibrariesApi::new(state.clone()),
        calendar::CalendarApi::new(state.clone()),
        circulation::CirculationApi::new(state.clone()),
        fines::FinesApi::new(state.clone()),
        holds::StaffHoldsApi::new(state.clone()),
        sip2::Sip2Api::new(state.clone()),
        (
            activities::ActivitiesApi::new(state.clone()),
            notices::NoticesApi::new(state.clone()),
            settings::SettingsApi::new(state.clone()),
            enquiries::EnquiriesApi::new(state.clone()),
            messages::MessagesApi::new(state.clone()),
            search::SearchApi::new(state.clone()),
            readers::ReadersApi::new(state.clone()),
            reports::ReportsApi::new(state.clone()),
            admission::AdmissionApi::new(state.clone()),
            study_rooms::StudyRoomsApi::new(state.clone()),
            hours::HoursApi::new(state.clone()),
        ),
    )
}

/// The Swagger UI page `html` with the document it embeds (`let spec = …;`) replaced by
/// `document`.
fn swagger_page(html: &str, document: &str) -> String {
    const START: &str = "let spec = ";
    const END: &str = ";\n    let oauth2RedirectUrl";
    // The page's own script (the Swagger bundle) comes first: the last `let spec = `
    // before the redirect line is the document's.
    let Some(end) = html.rfind(END) else {
        return html.to_owned();
    };
    match html[..end].rfind(START) {
        Some(start) => format!("{}{START}{document}{}", &html[..start], &html[end..]),
        None => html.to_owned(),
    }
}

/// The whole HTTP application: the API under `/api/v1`, the operations routes, the OpenAPI
/// document at `/openapi.json` and the interactive page at `/docs`. Every operation is
/// behind the text check (`CheckedText`), which runs once the request is routed.
pub fn app(state: Services) -> impl Endpoint<Output = Response> {
    let apis = CheckedText(apis(&state));
    let service = OpenApiService::new(apis, "Library account and circulation API", "1")
        .description(
            "JSON API of the library system. Errors are `{\"code\",\"message\"}` \
             (+ `violations` on 422, `reason` on 409).",
        );
    let document = crate::allow::one_entry_per_path(&service.spec());
    let allow = std::sync::Arc::new(crate::allow::AllowTable::from_spec(&document));
    // The interactive page embeds the document: the merged one, in place of the generated.
    let page = swagger_page(&service.swagger_ui_html(), &document);
    let spec = poem::endpoint::make_sync(move |_| {
        Response::builder()
            .content_type("application/json")
            .body(document.clone())
    });
    let docs = poem::endpoint::make_sync(move |_| poem::web::Html(page.clone()));
    Route::new()
        .at("/openapi.json", spec)
        .at("/docs", docs)
        .nest("/", service)
        .data(state)
        .with(CatchPanic::new().with_handler(panic_response))
        .around(move |ep, req| guard_request(ep, req, allow.clone()))
}
