//! Students' Study Rooms: the schemes open for applications with the form to apply, and
//! the reader's applications with their status and the staff's reason
//! (docs/premises.md#study-room-admission-cards). The rules are the application layer's; this page only
//! shows and posts.

use library_app::StudyRoomError;
use library_premises::study_room::{Scheme, SchemeId};
use maud::{Markup, html};
use poem::web::Path;
use poem::{Body, Request, Response, handler};

use super::{Col::Shown, reader_page, reader_post, reason, table, unavailable};
use crate::ctx::{Ctx, query};
use crate::i18n::Lang;
use crate::layout::{csrf_field, flash, ok};

fn name(lang: Lang, scheme: &Scheme) -> &str {
    match lang {
        Lang::ZhHant => &scheme.details.name_zh,
        _ => &scheme.details.name,
    }
}

fn scheme_facts(ctx: &Ctx, s: &Scheme) -> Markup {
    let lang = ctx.lang;
    let d = &s.details;
    html! {
        dl .facts {
            dt { (lang.t("study-room-window")) }
            dd { (lang.date(d.opens_on)) " – " (lang.date(d.closes_on)) }
            dt { (lang.t("study-room-validity")) }
            dd { (lang.date(d.valid_from)) " – " (lang.date(d.valid_to)) }
            @if let Some(e) = &d.extended {
                dt { (lang.t("study-room-extended")) }
                dd {
                    (lang.date(e.from)) " – " (lang.date(e.to))
                    @for h in &e.hours { " " span .nowrap { (h.to_string()) } }
                }
            }
            dt { (lang.t("study-room-library")) }
            dd { (d.library.as_ref().map_or_else(|| lang.t("study-room-all-libraries"), |l| l.as_str().to_owned())) }
            dt { (lang.t("study-room-places")) }
            dd { (lang.ta("study-room-places-value", &[("places", d.places.into()), ("percent", u32::from(d.priority_percent).into())])) }
        }
    }
}

/// `GET /study-rooms`.
#[handler]
pub(crate) async fn study_rooms(req: &Request) -> poem::Result<Response> {
    let (ctx, reader) = match reader_page(req).await? {
        Ok(opened) => opened,
        Err(answer) => return Ok(answer),
    };
    let lang = ctx.lang;
    let rooms = &ctx.services.study_rooms;
    let today = ctx
        .services
        .clock
        .now()
        .to_offset(library_core::DEFAULT_LIBRARY_OFFSET)
        .date();
    let schemes = rooms.store.schemes(today).await.map_err(unavailable)?;
    let mine = rooms
        .store
        .applications_of(reader.patron)
        .await
        .map_err(unavailable)?;
    let applied = |id: SchemeId| mine.iter().any(|(s, _)| s.id == id);
    let open: Vec<&Scheme> = schemes
        .iter()
        .filter(|s| {
            s.details
                .application_refusal(today, s.ballot_run, applied(s.id))
                .is_none()
        })
        .collect();
    let q = query(req);
    let main = html! {
        h1 { (lang.t("study-rooms-title")) }
        p { (lang.t("study-rooms-intro")) }
        (flash(&ctx, q.get("done")))
        @if let Some(code) = q.get("refused") {
            p .error role="alert" { (reason(lang, "study-room-refused", code)) }
        }
        section aria-labelledby="open-schemes-title" {
            h2 #open-schemes-title { (lang.t("study-rooms-open")) }
            @if open.is_empty() {
                p { (lang.t("study-rooms-none-open")) }
            }
            @for s in &open {
                article .scheme data-scheme-id=(s.id.0) aria-labelledby={"scheme-" (s.id.0)} {
                    h3 id={"scheme-" (s.id.0)} { (name(lang, s)) }
                    (scheme_facts(&ctx, s))
                    form .apply method="post" action={"/study-rooms/" (s.id.0) "/apply"} {
                        (csrf_field(&ctx))
                        p {
                            input type="checkbox" name="exam_candidate" value="yes" id={"candidate-" (s.id.0)};
                            " "
                            label for={"candidate-" (s.id.0)} { (lang.t("study-room-candidate")) }
                        }
                        p {
                            label for={"exam-" (s.id.0)} { (lang.t("study-room-exam")) }
                            br;
                            input type="text" name="exam" maxlength="200" id={"exam-" (s.id.0)};
                        }
                        button type="submit" { (lang.t("study-room-apply")) }
                    }
                }
            }
        }
        section aria-labelledby="my-applications-title" {
            h2 #my-applications-title { (lang.t("study-rooms-mine")) }
            @if mine.is_empty() {
                p { (lang.t("study-rooms-none-mine")) }
            } @else {
                (table(lang, "study-room-applications", "study-rooms-mine", &[Shown("col-scheme"), Shown("col-applied-on"), Shown("col-status"), Shown("col-staff-reason")], html! {
                    @for (s, a) in &mine {
                        tr data-application-id=(a.id.0) data-status=(a.status().code()) {
                            td data-label=(lang.t("col-scheme")) { (name(lang, s)) }
                            td .nowrap data-label=(lang.t("col-applied-on")) { (lang.date(a.details.counted_on)) }
                            td data-label=(lang.t("col-status")) { span .badge { (lang.t(&format!("study-room-status-{}", a.status().code().replace('_', "-")))) } }
                            td data-label=(lang.t("col-staff-reason")) { (a.reason.clone().unwrap_or_default()) }
                        }
                    }
                }))
            }
        }
    };
    let title = lang.t("study-rooms-title");
    Ok(ok(ctx, &title, main))
}

/// `POST /study-rooms/{id}/apply`.
#[handler]
pub(crate) async fn apply(
    req: &Request,
    Path(id): Path<i64>,
    body: Body,
) -> poem::Result<Response> {
    let (ctx, reader, form) = match reader_post(req, body).await? {
        Ok(posted) => posted,
        Err(answer) => return Ok(answer),
    };
    let exam = form.text("exam").trim().to_owned();
    let result = ctx
        .services
        .study_rooms
        .apply_online(
            SchemeId(id),
            reader.patron,
            form.get("exam_candidate").is_some(),
            (!exam.is_empty()).then_some(exam),
        )
        .await;
    let to = match result {
        Ok(_) => "/study-rooms?done=study-room-applied".to_owned(),
        Err(StudyRoomError::ApplicationRefused(r)) => format!("/study-rooms?refused={}", r.code()),
        Err(StudyRoomError::Invalid(v)) => {
            format!(
                "/study-rooms?refused={}",
                v.first().copied().unwrap_or("invalid")
            )
        }
        Err(StudyRoomError::NotFound) => "/study-rooms?refused=not_found".to_owned(),
        Err(e) => return Err(unavailable(e)),
    };
    Ok(ctx.redirect(&to))
}
