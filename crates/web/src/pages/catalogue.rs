//! The catalogue: search by title, author or ISBN, and reserve (place a hold) with the
//! pickup library chosen.

use library_app::CatalogueQuery;
use library_app::catalogue::SearchError;
use library_circulation::service::{PlaceHoldError, PlaceHoldRequest};
use library_core::{LibraryCode, TitleId};
use maud::html;
use poem::http::StatusCode;
use poem::{Body, Request, Response, handler};

use super::{library_names, reader_post, reason, unavailable};
use crate::ctx::{Ctx, query};
use crate::layout::{csrf_field, flash, page};

const PER_PAGE: i64 = 20;

fn search_url(q: &str, library: &str, page: i64) -> String {
    let q: String = form_urlencoded::byte_serialize(q.as_bytes()).collect();
    let library: String = form_urlencoded::byte_serialize(library.as_bytes()).collect();
    format!("/catalogue?q={q}&library={library}&page={page}")
}

/// `GET /catalogue?q=&page=`: the search form and one page of results.
#[handler]
pub(crate) async fn search(req: &Request) -> poem::Result<Response> {
    let ctx = Ctx::load(req).await?;
    let lang = ctx.lang;
    let params = query(req);
    let q = params.text("q").trim().to_owned();
    let library_param = params.text("library").trim().to_owned();
    let page_no = params
        .get("page")
        .map(|p| p.parse::<i64>().unwrap_or(0))
        .unwrap_or(1);
    let reader = ctx.reader().ok();
    let names = library_names(&ctx).await?;
    let home = match &reader {
        Some(r) => ctx
            .services
            .readers
            .profile(r.patron)
            .await
            .map_err(unavailable)?
            .and_then(|p| p.home_library),
        None => None,
    };
    let mut status = StatusCode::OK;
    let mut errors = Vec::new();
    let mut results = None;
    if !q.is_empty() || params.get("q").is_some() {
        // Copies counted at one library, or at all.
        let library = match library_param.as_str() {
            "" => Ok(None),
            code => LibraryCode::parse(code).map(Some),
        };
        let parsed = match library {
            Ok(library) => CatalogueQuery::parse(&q, library, Some(page_no), Some(PER_PAGE)),
            Err(_) => Err(vec!["unknown_library"]),
        };
        match parsed {
            Ok(query) => match ctx.services.search_catalogue(&query).await {
                Ok(found) => results = Some(found),
                Err(SearchError::Invalid(codes)) => {
                    status = StatusCode::UNPROCESSABLE_ENTITY;
                    errors = codes.iter().map(|c| reason(lang, "search", c)).collect();
                }
                Err(SearchError::Store(e)) => return Err(unavailable(e)),
            },
            Err(codes) => {
                status = StatusCode::UNPROCESSABLE_ENTITY;
                errors = codes.iter().map(|c| reason(lang, "search", c)).collect();
            }
        }
    }
    let refused = params.get("refused");
    let main = html! {
        h1 { (lang.t("catalogue-title")) }
        (flash(&ctx, params.get("done")))
        @if let Some(code) = refused {
            p .error role="alert" #reserve-error { (lang.ta("hold-refused", &[("reason", reason(lang, "hold-refused", code).into())])) }
        }
        form #search .search role="search" method="get" action="/catalogue" {
            label for="q" { (lang.t("search-label")) }
            div .row {
                input #q name="q" type="search" value=(q)
                    aria-describedby=[(!errors.is_empty()).then_some("q-errors")];
                button type="submit" { (lang.t("search-button")) }
            }
            @if !errors.is_empty() {
                div .field-errors #q-errors role="alert" { @for e in &errors { p { (e) } } }
            }
            label for="library" { (lang.t("search-library-label")) }
            select #library name="library" {
                option value="" { (lang.t("search-all-libraries")) }
                @for (code, name) in &names {
                    option value=(code) selected[library_param == *code] { (name) }
                }
            }
            p .hint { (lang.t("search-hint")) }
        }
        @if let Some(found) = &results {
            @let pages = (found.total as i64 + PER_PAGE - 1) / PER_PAGE;
            p #result-count role="status" {
                (lang.ta("search-count", &[("count", (found.total as i64).into())]))
                @if !library_param.is_empty() {
                    " " (lang.ta("search-copies-at", &[("library", super::name_of(&names, &library_param).into())]))
                }
            }
            @if !found.items.is_empty() { ol .hits start=((page_no - 1) * PER_PAGE + 1) {
                @for hit in &found.items {
                    li .hit data-title-id=(hit.title.get()) {
                        h2 .hit-title { (hit.name) }
                        p .meta {
                            @if let Some(a) = &hit.author { (a) }
                            @if let Some(isbn) = &hit.isbn { " · ISBN " (isbn) }
                        }
                        p .availability {
                            (lang.ta("search-availability", &[("available", (hit.available as i64).into()), ("copies", (hit.copies as i64).into())]))
                        }
                        @if reader.is_some() {
                            form .reserve method="post" action="/catalogue/reserve" {
                                (csrf_field(&ctx))
                                input type="hidden" name="title_id" value=(hit.title.get());
                                input type="hidden" name="q" value=(q);
                                label for={"pickup-" (hit.title.get())} { (lang.t("reserve-pickup")) }
                                select name="pickup_library" id={"pickup-" (hit.title.get())} {
                                    @for (code, name) in &names {
                                        option value=(code) selected[home.as_deref() == Some(code.as_str())] { (name) }
                                    }
                                }
                                button type="submit" { (lang.t("reserve-button")) }
                            }
                        } @else {
                            p { a href={"/sign-in?next=" (form_urlencoded::byte_serialize(search_url(&q, &library_param, page_no).as_bytes()).collect::<String>())} { (lang.t("reserve-sign-in")) } }
                        }
                    }
                }
            }
            }
            @if pages > 1 {
                nav .pager aria-label=(lang.t("pager-label")) {
                    @if page_no > 1 { a rel="prev" href=(search_url(&q, &library_param, page_no - 1)) { (lang.t("pager-previous")) } }
                    span { (lang.ta("pager-position", &[("page", page_no.into()), ("pages", pages.into())])) }
                    @if page_no < pages { a rel="next" href=(search_url(&q, &library_param, page_no + 1)) { (lang.t("pager-next")) } }
                }
            }
        }
    };
    let title = lang.t("catalogue-title");
    Ok(page(ctx, status, &title, main))
}

/// `POST /catalogue/reserve`: a hold on the title for pickup at the library chosen.
#[handler]
pub(crate) async fn reserve(req: &Request, body: Body) -> poem::Result<Response> {
    let (ctx, reader, form) = match reader_post(req, body).await? {
        Ok(posted) => posted,
        Err(answer) => return Ok(answer),
    };
    let back = |code: &str| {
        let q: String = form_urlencoded::byte_serialize(form.text("q").as_bytes()).collect();
        format!("/catalogue?q={q}&refused={code}")
    };
    let Ok(title) = form.text("title_id").parse::<i64>() else {
        return Ok(ctx.redirect(&back("title_not_found")));
    };
    let Ok(library) = LibraryCode::parse(form.text("pickup_library")) else {
        return Ok(ctx.redirect(&back("unknown_library")));
    };
    let placed = ctx
        .services
        .circulation
        .place_hold(
            PlaceHoldRequest {
                patron: reader.patron,
                title: TitleId(title),
                pickup_library: library,
                not_needed_after: None,
            },
            None,
        )
        .await;
    let to = match placed {
        Ok(_) => "/account?done=hold-placed#holds-section".to_owned(),
        Err(PlaceHoldError::Refused(why)) => back(why.code()),
        Err(PlaceHoldError::TitleNotFound | PlaceHoldError::PatronNotFound) => {
            back("title_not_found")
        }
        Err(PlaceHoldError::LibraryNotFound(_)) => back("unknown_library"),
        // The catalogue's form gives no "not needed after" date.
        Err(PlaceHoldError::Invalid(v)) => back(v.code()),
        Err(PlaceHoldError::Infrastructure(e)) => return Err(unavailable(e)),
    };
    Ok(ctx.redirect(&to))
}
