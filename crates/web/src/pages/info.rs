//! My Info (extension activities with registration, and the library notices) and Ask a
//! Librarian.

use library_app::ServiceError;
use library_core::LibraryCode;
use library_reader_services::{ActivityId, ActivityQuery, EnquiryForm};
use maud::{Markup, html};
use poem::http::StatusCode;
use poem::web::Path;
use poem::{Body, Request, Response, handler};

use super::{
    Col::{Hidden, Shown},
    described_by, field_errors, library_names, local_name, name_of, reader_page, reader_post,
    reason, table, unavailable,
};
use crate::ctx::{Ctx, FormData, query};
use crate::layout::{csrf_field, flash, ok, page};

/// How many coming activities My Info lists.
const ACTIVITIES_SHOWN: u32 = 50;

/// `GET /info`: the activities to come (with the reader's registrations) and the notices
/// for the reader's libraries.
#[handler]
pub(crate) async fn info(req: &Request) -> poem::Result<Response> {
    let (ctx, reader) = match reader_page(req).await? {
        Ok(opened) => opened,
        Err(answer) => return Ok(answer),
    };
    let lang = ctx.lang;
    let services = &ctx.services;
    let now = services.clock.now();
    let zone = library_core::DEFAULT_LIBRARY_OFFSET;
    let activities = services
        .reader_services
        .activities
        .list(&ActivityQuery {
            library: None,
            starting_from: now,
            include_cancelled: false,
            limit: ACTIVITIES_SHOWN,
            offset: 0,
        })
        .await
        .map_err(unavailable)?;
    let mine = services
        .reader_services
        .activities
        .registrations_of(reader.patron, now)
        .await
        .map_err(unavailable)?;
    let home = services
        .readers
        .profile(reader.patron)
        .await
        .map_err(unavailable)?
        .and_then(|p| p.home_library)
        .and_then(|c| LibraryCode::parse(&c).ok());
    let today = now.to_offset(zone).date();
    let notices = services
        .reader_services
        .notices
        .current_for(home.as_ref(), today)
        .await
        .map_err(unavailable)?;
    let q = query(req);
    let registered = |id: ActivityId| {
        mine.iter()
            .any(|r| r.listing.activity.id == id && r.cancelled_at.is_none())
    };
    let main = html! {
        h1 { (lang.t("info-title")) }
        (flash(&ctx, q.get("done")))
        @if let Some(code) = q.get("refused") {
            p .error role="alert" { (reason(lang, "activity-refused", code)) }
        }
        section aria-labelledby="activities-title" {
            h2 #activities-title { (lang.t("activities-title")) }
            @if activities.items.is_empty() {
                p { (lang.t("activities-none")) }
            } @else {
                (table(lang, "activities", "activities-title", &[Shown("col-event"), Shown("col-date"), Shown("col-time"), Shown("col-venue"), Shown("col-type"), Shown("col-places"), Hidden("col-action")], html! {
                    @for listing in &activities.items {
                        @let a = &listing.activity;
                        @let starts = a.details.starts_at.to_offset(zone);
                        @let ends = a.details.ends_at.to_offset(zone);
                        @let library = local_name(lang, &listing.library_name, &listing.library_name_zh);
                        tr data-activity-id=(a.id.0) {
                            td data-label=(lang.t("col-event")) { (a.details.title) }
                            td .nowrap data-label=(lang.t("col-date")) { (lang.date(starts.date())) }
                            td .nowrap data-label=(lang.t("col-time")) { (format!("{:02}:{:02}–{:02}:{:02}", starts.hour(), starts.minute(), ends.hour(), ends.minute())) }
                            td data-label=(lang.t("col-venue")) { (a.details.venue) ", " (library) }
                            td data-label=(lang.t("col-type")) { (reason(lang, "activity-type", a.details.activity_type.as_str())) }
                            td data-label=(lang.t("col-places")) { (lang.ta("activity-places", &[("left", a.places_left().into()), ("capacity", a.details.capacity.into())])) }
                            td {
                                @if registered(a.id) {
                                    form .cancel-registration method="post" action={"/info/activities/" (a.id.0) "/cancel"} {
                                        (csrf_field(&ctx))
                                        span .badge { (lang.t("activity-registered")) }
                                        " "
                                        button type="submit" .secondary aria-label=(lang.ta("activity-cancel-one", &[("title", a.details.title.clone().into())])) { (lang.t("activity-cancel")) }
                                    }
                                } @else {
                                    form .register method="post" action={"/info/activities/" (a.id.0) "/register"} {
                                        (csrf_field(&ctx))
                                        button type="submit" aria-label=(lang.ta("activity-register-one", &[("title", a.details.title.clone().into())])) { (lang.t("activity-register")) }
                                    }
                                }
                            }
                        }
                    }
                }))
            }
        }
        section aria-labelledby="notices-title" {
            h2 #notices-title { (lang.t("notices-title")) }
            (notices_table(&ctx, &notices))
        }
    };
    let title = lang.t("info-title");
    Ok(ok(ctx, &title, main))
}

/// The notices as the seed's table: library name, date, content.
pub(crate) fn notices_table(
    ctx: &Ctx,
    notices: &[library_reader_services::NoticeListing],
) -> Markup {
    let lang = ctx.lang;
    html! {
        @if notices.is_empty() {
            p { (lang.t("notices-none")) }
        } @else {
            (table(lang, "notices", "notices-title", &[Shown("col-library-name"), Shown("col-date"), Shown("col-content")], html! {
                @for n in notices {
                    @let library = match (lang, &n.library_name, &n.library_name_zh) {
                        (crate::i18n::Lang::ZhHant, _, Some(zh)) if !zh.is_empty() => zh.clone(),
                        (_, Some(en), _) => en.clone(),
                        _ => lang.t("notice-all-libraries"),
                    };
                    @let (title, body) = n.notice.details.text_in(lang.setting());
                    tr data-notice-id=(n.notice.id.0) {
                        td data-label=(lang.t("col-library-name")) { (library) }
                        td .nowrap data-label=(lang.t("col-date")) { (lang.date(n.notice.details.published_on)) }
                        td data-label=(lang.t("col-content")) { strong { (title) } br; (body) }
                    }
                }
            }))
        }
    }
}

async fn registration(
    req: &Request,
    id: i64,
    body: Body,
    signing_up: bool,
) -> poem::Result<Response> {
    let (ctx, reader, _form) = match reader_post(req, body).await? {
        Ok(posted) => posted,
        Err(answer) => return Ok(answer),
    };
    let board = &ctx.services.reader_services.activities;
    let now = ctx.services.clock.now();
    let result = if signing_up {
        board
            .register(ActivityId(id), reader.patron, now)
            .await
            .map(|_| ())
    } else {
        board
            .cancel_registration(ActivityId(id), reader.patron, now)
            .await
    };
    let to = match result {
        Ok(()) if signing_up => "/info?done=activity-registered".to_owned(),
        Ok(()) => "/info?done=activity-cancelled".to_owned(),
        Err(ServiceError::RegistrationRefused(r)) => format!("/info?refused={}", r.code()),
        Err(ServiceError::CancellationRefused(r)) => format!("/info?refused={}", r.code()),
        Err(ServiceError::ActivityCancelled) => "/info?refused=cancelled".to_owned(),
        Err(ServiceError::NotFound) => "/info?refused=not_found".to_owned(),
        Err(e) => return Err(unavailable(e)),
    };
    Ok(ctx.redirect(&to))
}

/// `POST /info/activities/{id}/register`.
#[handler]
pub(crate) async fn register(
    req: &Request,
    Path(id): Path<i64>,
    body: Body,
) -> poem::Result<Response> {
    registration(req, id, body, true).await
}

/// `POST /info/activities/{id}/cancel`: cancels the reader's registration.
#[handler]
pub(crate) async fn cancel(
    req: &Request,
    Path(id): Path<i64>,
    body: Body,
) -> poem::Result<Response> {
    registration(req, id, body, false).await
}

#[derive(Default)]
struct AskErrors {
    subject: Vec<String>,
    message: Vec<String>,
    library: Vec<String>,
}

async fn ask_view(
    ctx: Ctx,
    status: StatusCode,
    form: &FormData,
    errors: &AskErrors,
    done: Option<&str>,
) -> poem::Result<Response> {
    let reader = match ctx.reader() {
        Ok(r) => r,
        Err(to) => return Ok(ctx.redirect(&to)),
    };
    let lang = ctx.lang;
    let names = library_names(&ctx).await?;
    let enquiries = ctx
        .services
        .reader_services
        .enquiries
        .of_reader(reader.patron)
        .await
        .map_err(unavailable)?;
    let zone = library_core::DEFAULT_LIBRARY_OFFSET;
    let chosen = form.text("library");
    let main = html! {
        h1 { (lang.t("ask-title")) }
        (flash(&ctx, done))
        p { (lang.t("ask-intro")) }
        form #ask .stack method="post" action="/ask" {
            (csrf_field(&ctx))
            label for="subject" { (lang.t("field-subject")) }
            input #subject name="subject" type="text" maxlength="200" required value=(form.text("subject"))
                aria-describedby=[described_by("subject-errors", &errors.subject)];
            (field_errors("subject-errors", &errors.subject))
            label for="message" { (lang.t("field-message")) }
            textarea #message name="message" rows="6" maxlength="4000" required
                aria-describedby=[described_by("message-errors", &errors.message)] { (form.text("message")) }
            (field_errors("message-errors", &errors.message))
            label for="library" { (lang.t("field-library-optional")) }
            select #library name="library" aria-describedby=[described_by("library-errors", &errors.library)] {
                option value="" { (lang.t("ask-any-library")) }
                @for (code, name) in &names {
                    option value=(code) selected[chosen == code] { (name) }
                }
            }
            (field_errors("library-errors", &errors.library))
            button type="submit" { (lang.t("ask-button")) }
        }
        section aria-labelledby="enquiries-title" {
            h2 #enquiries-title { (lang.t("enquiries-title")) }
            @if enquiries.is_empty() {
                p { (lang.t("enquiries-none")) }
            } @else {
                ul #enquiries .cards {
                    @for e in &enquiries {
                        li data-enquiry-id=(e.id.0) {
                            h3 { (e.details.subject) }
                            p .muted { (lang.date_time(e.created_at, zone))
                                @if let Some(code) = &e.details.library { " · " (name_of(&names, code.as_str())) } }
                            p .question { (e.details.message) }
                            @match &e.answer {
                                Some(answer) => div .answer {
                                    p .muted { (lang.ta("enquiry-answered", &[("at", lang.date_time(answer.answered_at, zone).into())])) }
                                    p { (answer.text) }
                                },
                                None => p .pending { (lang.t("enquiry-waiting")) },
                            }
                        }
                    }
                }
            }
        }
    };
    let title = lang.t("ask-title");
    Ok(page(ctx, status, &title, main))
}

/// `GET /ask`: the form and the reader's enquiries with their answers.
#[handler]
pub(crate) async fn ask_page(req: &Request) -> poem::Result<Response> {
    let ctx = Ctx::load(req).await?;
    let q = query(req);
    ask_view(
        ctx,
        StatusCode::OK,
        &FormData::default(),
        &AskErrors::default(),
        q.get("done"),
    )
    .await
}

/// `POST /ask`: a new enquiry.
#[handler]
pub(crate) async fn ask(req: &Request, body: Body) -> poem::Result<Response> {
    let (ctx, reader, form) = match reader_post(req, body).await? {
        Ok(posted) => posted,
        Err(answer) => return Ok(answer),
    };
    let lang = ctx.lang;
    let library = Some(form.text("library").trim()).filter(|s| !s.is_empty());
    let parsed = EnquiryForm {
        subject: form.text("subject").to_owned(),
        message: form.text("message").replace("\r\n", "\n"),
        library_code: library.map(str::to_owned),
    }
    .parse();
    let codes = match parsed {
        Ok(enquiry) => {
            let now = ctx.services.clock.now();
            match ctx
                .services
                .reader_services
                .enquiries
                .ask(reader.patron, &enquiry, now)
                .await
            {
                Ok(_) => return Ok(ctx.redirect("/ask?done=enquiry-sent")),
                Err(ServiceError::Invalid(codes)) => codes,
                Err(e) => return Err(unavailable(e)),
            }
        }
        Err(violations) => violations.0,
    };
    let mut errors = AskErrors::default();
    for code in codes {
        let text = reason(lang, "enquiry", code);
        if code.starts_with("subject") {
            errors.subject.push(text);
        } else if code.starts_with("message") {
            errors.message.push(text);
        } else {
            errors.library.push(text);
        }
    }
    ask_view(ctx, StatusCode::UNPROCESSABLE_ENTITY, &form, &errors, None).await
}
