//! Pages anyone may read: the libraries with their status now, hours and sections, the
//! current notices, and help with the Password and the PIN.

use library_app::premises::LibraryNow;
use library_core::{LibraryCode, LibraryKind};
use library_premises::hours::{DayHours, DoorServices, SectionStatus};
use maud::{Markup, html};
use poem::http::StatusCode;
use poem::web::Path;
use poem::{Request, Response, handler};

use super::Col::Shown;
use super::info::notices_table;
use super::{local_name, table, unavailable};
use crate::ctx::Ctx;
use crate::i18n::Lang;
use crate::layout::ok;

/// How many notices the libraries page looks through for the current ones.
const NOTICES_READ: u32 = 100;

fn kind_key(kind: LibraryKind) -> &'static str {
    match kind {
        LibraryKind::Central => "library-kind-central",
        LibraryKind::Major => "library-kind-major",
        LibraryKind::District => "library-kind-district",
        LibraryKind::Small => "library-kind-small",
        LibraryKind::Mobile => "library-kind-mobile",
    }
}

/// A section's name in the page's language: the known sections have a message
/// (`section-<code>`), any other is shown by its code.
fn section_name(lang: Lang, code: &str) -> String {
    lang.t_opt(&format!("section-{code}"))
        .unwrap_or_else(|| code.to_owned())
}

/// The library's name in the page's language.
fn library_name(lang: Lang, now: &LibraryNow) -> &str {
    let info = &now.premises.library.info;
    local_name(lang, &info.name, &info.name_zh)
}

/// "Closes at 18:00" while open; "Opens 19 February 2021, 10:00" while closed.
fn when(lang: Lang, now: &LibraryNow) -> String {
    match (now.status.closes_at, now.status.opens_next) {
        (Some(closes), _) => lang.ta("library-closes-at", &[("time", closes.to_string().into())]),
        (None, Some(next)) => {
            let offset = now.premises.library.calendar.offset();
            lang.ta(
                "library-opens-next",
                &[(
                    "when",
                    lang.date_time(next.assume_offset(offset), offset).into(),
                )],
            )
        }
        (None, None) => lang.t("library-never-opens"),
    }
}

/// What keeps serving while the library is closed.
fn door_services(lang: Lang, doors: DoorServices) -> Markup {
    html! {
        @if !doors.book_drop && !doors.self_service_station {
            "—"
        } @else {
            ul .plain {
                @if doors.book_drop { li data-service="book_drop" { (lang.t("library-book-drop")) } }
                @if doors.self_service_station { li data-service="self_service_station" { (lang.t("library-self-service")) } }
            }
        }
    }
}

fn periods(lang: Lang, day: &DayHours) -> String {
    if day.is_closed() {
        return lang.t("library-day-closed");
    }
    let parts: Vec<String> = day
        .periods()
        .iter()
        .map(|p| format!("{}–{}", p.start(), p.end()))
        .collect();
    parts.join(", ")
}

fn open_badge(lang: Lang, open: bool) -> Markup {
    html! {
        @if open { span .badge.open { (lang.t("library-open")) } } @else { span .badge.closed { (lang.t("library-closed")) } }
    }
}

/// `GET /libraries`: every library, open or closed now in its own zone with when it
/// closes or opens next, the sections open today and what serves while it is closed, and
/// the notices current today.
#[handler]
pub(crate) async fn libraries(req: &Request) -> poem::Result<Response> {
    let ctx = Ctx::load(req).await?;
    let lang = ctx.lang;
    let now = ctx.services.clock.now();
    let libraries = ctx.services.premises.all_now().await.map_err(unavailable)?;
    let today = now.to_offset(library_core::DEFAULT_LIBRARY_OFFSET).date();
    let notices: Vec<_> = ctx
        .services
        .reader_services
        .notices
        .list(NOTICES_READ, 0)
        .await
        .map_err(unavailable)?
        .items
        .into_iter()
        .filter(|n| n.notice.is_current(today))
        .collect();
    let main = html! {
        h1 { (lang.t("libraries-title")) }
        p .muted { (lang.ta("libraries-today", &[("date", lang.date(today).into())])) }
        p { a #visitors-link href="/visitors" { (lang.t("visitors-link")) } }
        @if libraries.is_empty() {
            p { (lang.t("libraries-none")) }
        } @else {
            (table(lang, "libraries", "libraries-title", &[Shown("col-library-name"), Shown("col-kind"), Shown("col-today"), Shown("col-hours"), Shown("col-sections"), Shown("col-door-services")], html! {
                @for l in &libraries {
                    @let code = l.premises.library.info.code.as_str();
                    tr data-library-code=(code) data-open=(l.status.open_now) {
                        td data-label=(lang.t("col-library-name")) { a href={ "/libraries/" (code) } { (library_name(lang, l)) } }
                        td data-label=(lang.t("col-kind")) { (lang.t(kind_key(l.premises.library.info.kind))) }
                        td data-label=(lang.t("col-today")) { (open_badge(lang, l.status.open_now)) }
                        td data-label=(lang.t("col-hours")) { (when(lang, l)) }
                        td data-label=(lang.t("col-sections")) {
                            @let open: Vec<String> = l.sections.iter().filter(|s| s.status_today == SectionStatus::Open).map(|s| section_name(lang, s.section.code().as_str())).collect();
                            @if l.sections.is_empty() { (lang.t("library-sections-none")) } @else if open.is_empty() { "—" } @else { (open.join(lang.t("list-separator").as_str())) }
                        }
                        td data-label=(lang.t("col-door-services")) { (door_services(lang, l.premises.doors)) }
                    }
                }
            }))
        }
        section aria-labelledby="notices-title" {
            h2 #notices-title { (lang.t("notices-title")) }
            (notices_table(&ctx, &notices))
        }
    };
    let title = lang.t("libraries-title");
    Ok(ok(ctx, &title, main))
}

/// `GET /libraries/{code}`: one library now, its sections, what serves while it is
/// closed, and its hours on the next 7 days.
#[handler]
pub(crate) async fn library(req: &Request, Path(code): Path<String>) -> poem::Result<Response> {
    let ctx = Ctx::load(req).await?;
    let lang = ctx.lang;
    let Ok(code) = LibraryCode::parse(&code) else {
        return Err(poem::Error::from_status(StatusCode::NOT_FOUND));
    };
    let Some(l) = ctx
        .services
        .premises
        .now(&code)
        .await
        .map_err(unavailable)?
    else {
        return Err(poem::Error::from_status(StatusCode::NOT_FOUND));
    };
    let name = library_name(lang, &l).to_owned();
    let main = html! {
        p { a href="/libraries" { (lang.t("library-back")) } }
        h1 { (name) }
        p #library-status data-open=(l.status.open_now) { (open_badge(lang, l.status.open_now)) " " (when(lang, &l)) }
        section aria-labelledby="doors-title" {
            h2 #doors-title { (lang.t("library-doors-title")) }
            (door_services(lang, l.premises.doors))
        }
        section aria-labelledby="sections-title" {
            h2 #sections-title { (lang.t("library-sections-title")) }
            @if l.sections.is_empty() {
                p { (lang.t("library-sections-none")) }
            } @else {
                (table(lang, "sections", "library-sections-title", &[Shown("col-section"), Shown("col-today"), Shown("col-status")], html! {
                    @for s in &l.sections {
                        tr data-section=(s.section.code().as_str()) data-open=(s.open_now) {
                            td data-label=(lang.t("col-section")) { (section_name(lang, s.section.code().as_str())) }
                            td data-label=(lang.t("col-today")) { (open_badge(lang, s.open_now)) }
                            td data-label=(lang.t("col-status")) {
                                @let status = match s.section.status() { SectionStatus::Open => lang.t("library-open"), SectionStatus::Closed => lang.t("library-closed") };
                                @let from = lang.date(s.section.from());
                                @match s.section.until() {
                                    Some(until) => (lang.ta("section-status-until", &[("status", status.into()), ("from", from.into()), ("until", lang.date(until).into())])),
                                    None => (lang.ta("section-status-notice", &[("status", status.into()), ("from", from.into())])),
                                }
                            }
                        }
                    }
                }))
            }
        }
        section aria-labelledby="week-title" {
            h2 #week-title { (lang.t("library-week-title")) }
            (table(lang, "week", "library-week-title", &[Shown("col-date"), Shown("col-hours")], html! {
                @for (date, day) in &l.days {
                    tr data-date=(date.to_string()) data-closed=(day.is_closed()) {
                        td .nowrap data-label=(lang.t("col-date")) { (lang.date(*date)) " (" (lang.t(&format!("weekday-{}", date.weekday().number_days_from_monday()))) ")" }
                        td data-label=(lang.t("col-hours")) { (periods(lang, day)) }
                    }
                }
            }))
        }
    };
    Ok(ok(ctx, &name, main))
}

/// The questions of the help page: message keys `help-q-<n>` and `help-a-<n>`, by topic.
const HELP: &[(&str, &[u32])] = &[
    ("help-topic-password", &[1, 2, 3, 4, 5]),
    ("help-topic-pin", &[6, 7, 8]),
    ("help-topic-account", &[9, 10, 11]),
];

/// `GET /help`: the Password and PIN questions and answers, from the product's rules.
#[handler]
pub(crate) async fn help(req: &Request) -> poem::Result<Response> {
    let ctx = Ctx::load(req).await?;
    let lang = ctx.lang;
    let main = html! {
        h1 { (lang.t("help-title")) }
        @for (topic, questions) in HELP {
            section .faq aria-labelledby=(topic) {
                h2 id=(topic) { (lang.t(topic)) }
                @for n in *questions {
                    details {
                        summary { (lang.t(&format!("help-q-{n}"))) }
                        p { (lang.t(&format!("help-a-{n}"))) }
                    }
                }
            }
        }
    };
    let title = lang.t("help-title");
    Ok(ok(ctx, &title, main))
}
