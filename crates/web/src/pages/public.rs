//! Pages anyone may read: the libraries with today's status and the current notices, and
//! help with the Password and the PIN.

use library_core::LibraryKind;
use maud::html;
use poem::{Request, Response, handler};

use super::Col::Shown;
use super::info::notices_table;
use super::{table, unavailable};
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

/// `GET /libraries`: every library, open or closed today in its own zone, and the notices
/// current today.
#[handler]
pub(crate) async fn libraries(req: &Request) -> poem::Result<Response> {
    let ctx = Ctx::load(req).await?;
    let lang = ctx.lang;
    let now = ctx.services.clock.now();
    let libraries = ctx.services.libraries.list().await.map_err(unavailable)?;
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
            (table(lang, "libraries", "libraries-title", &[Shown("col-library-name"), Shown("col-kind"), Shown("col-today"), Shown("col-next-open")], html! {
                @for l in &libraries {
                    @let local = l.calendar.local_date(now);
                    @let open = l.calendar.is_open(local);
                    @let name = match lang { Lang::ZhHant if !l.info.name_zh.is_empty() => &l.info.name_zh, _ => &l.info.name };
                    tr data-library-code=(l.info.code.as_str()) data-open=(open) {
                        td data-label=(lang.t("col-library-name")) { (name) }
                        td data-label=(lang.t("col-kind")) { (lang.t(kind_key(l.info.kind))) }
                        td data-label=(lang.t("col-today")) { @if open { span .badge.open { (lang.t("library-open")) } } @else { span .badge.closed { (lang.t("library-closed")) } } }
                        td .nowrap data-label=(lang.t("col-next-open")) {
                            @if !open {
                                @match local.next_day().and_then(|d| l.calendar.next_open_day(d)) {
                                    Some(d) => (lang.date(d)),
                                    None => "—",
                                }
                            } @else { "—" }
                        }
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
