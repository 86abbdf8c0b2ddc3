//! `GET|POST /visitors`: the visitors' own registration for contact tracing (name, contact
//! phone, library; the visit is now), public. The rules and the per-source limit are the
//! application layer's (`library_app::Admission`); the confirmation does not show the
//! phone again.

use library_app::AdmissionError;
use library_app::admission::RecordedBy;
use library_core::LibraryCode;
use library_premises::admission::VisitorForm;
use maud::{Markup, html};
use poem::http::StatusCode;
use poem::{Body, Request, Response, handler};

use super::{described_by, expired_form, field_errors, unavailable};
use crate::ctx::{Ctx, FormData};
use crate::i18n::Lang;
use crate::layout::{csrf_field, ok, page};

/// What was typed, to show the form again with its errors.
#[derive(Default)]
struct Typed {
    name: String,
    phone: String,
    library: String,
}

async fn form(ctx: &Ctx, typed: &Typed, errors: &[(&str, String)]) -> poem::Result<Markup> {
    let lang = ctx.lang;
    let libraries = ctx.services.libraries.list().await.map_err(unavailable)?;
    let of = |field: &str| -> Vec<String> {
        errors
            .iter()
            .filter(|(f, _)| *f == field)
            .map(|(_, e)| e.clone())
            .collect()
    };
    let (name_e, phone_e, library_e, other_e) =
        (of("name"), of("phone"), of("library"), of("form"));
    Ok(html! {
        h1 { (lang.t("visitors-title")) }
        p { (lang.t("visitors-intro")) }
        (field_errors("visitor-errors", &other_e))
        form #visitor-form .stack method="post" action="/visitors" {
            (csrf_field(ctx))
            label for="name" { (lang.t("visitors-name")) }
            input #name name="name" type="text" autocomplete="name" required maxlength="100"
                value=(typed.name) aria-describedby=[described_by("name-errors", &name_e)];
            (field_errors("name-errors", &name_e))
            label for="phone" { (lang.t("visitors-phone")) }
            input #phone name="phone" type="tel" autocomplete="tel" required
                value=(typed.phone) aria-describedby=[described_by("phone-errors", &phone_e)];
            (field_errors("phone-errors", &phone_e))
            label for="library" { (lang.t("visitors-library")) }
            select #library name="library" required
                aria-describedby=[described_by("library-errors", &library_e)] {
                @for l in &libraries {
                    @let name = match lang { Lang::ZhHant if !l.info.name_zh.is_empty() => &l.info.name_zh, _ => &l.info.name };
                    option value=(l.info.code.as_str()) selected[typed.library == l.info.code.as_str()] { (name) }
                }
            }
            (field_errors("library-errors", &library_e))
            button type="submit" { (lang.t("visitors-submit")) }
        }
        p .hint { (lang.ta("visitors-retention", &[("days", i64::from(ctx.services.admission.retention().get()).into())])) }
    })
}

/// `GET /visitors`.
#[handler]
pub(crate) async fn visitors_page(req: &Request) -> poem::Result<Response> {
    let ctx = Ctx::load(req).await?;
    let main = form(&ctx, &Typed::default(), &[]).await?;
    let title = ctx.lang.t("visitors-title");
    Ok(ok(ctx, &title, main))
}

/// `POST /visitors`: recorded (a confirmation naming the library and the time, not the
/// phone), or the form again with each field's errors.
#[handler]
pub(crate) async fn register(req: &Request, body: Body) -> poem::Result<Response> {
    let ctx = Ctx::load(req).await?;
    let data = FormData::read(body).await?;
    if !ctx.csrf_ok(&data) {
        return Ok(expired_form(ctx));
    }
    let lang = ctx.lang;
    let typed = Typed {
        name: data.text("name").to_owned(),
        phone: data.text("phone").to_owned(),
        library: data.text("library").to_owned(),
    };
    let fail = async |ctx: Ctx, status, errors: Vec<(&str, String)>| {
        let main = form(&ctx, &typed, &errors).await?;
        let title = ctx.lang.t("visitors-title");
        poem::Result::Ok(page(ctx, status, &title, main))
    };
    let Ok(library) = LibraryCode::parse(&typed.library) else {
        let e = vec![("library", lang.t("visitors-error-library"))];
        return fail(ctx, StatusCode::UNPROCESSABLE_ENTITY, e).await;
    };
    let admission = &ctx.services.admission;
    if let Err(AdmissionError::TooMany(_)) = admission.count_self_registration(&ctx.source.0) {
        let e = vec![("form", lang.t("visitors-error-too-many"))];
        return fail(ctx, StatusCode::TOO_MANY_REQUESTS, e).await;
    }
    let visitor = VisitorForm {
        name: typed.name.clone(),
        phone: typed.phone.clone(),
        visited_at: None,
    };
    let result = admission
        .register(
            &library,
            None,
            &visitor,
            RecordedBy::SelfService,
            false,
            None,
        )
        .await;
    match result {
        Ok(_) => {
            let now = ctx.services.clock.now();
            let shown = lang.date_time(now, library_core::DEFAULT_LIBRARY_OFFSET);
            let library_name = ctx
                .services
                .libraries
                .list()
                .await
                .map_err(unavailable)?
                .into_iter()
                .find(|l| l.info.code == library)
                .map(|l| match lang {
                    Lang::ZhHant if !l.info.name_zh.is_empty() => l.info.name_zh,
                    _ => l.info.name,
                })
                .unwrap_or_default();
            let main = html! {
                h1 { (lang.t("visitors-title")) }
                p #visitor-done role="status" {
                    (lang.ta("visitors-done", &[("library", library_name.into()), ("time", shown.into())]))
                }
                p .hint { (lang.ta("visitors-retention", &[("days", i64::from(ctx.services.admission.retention().get()).into())])) }
                p { a href="/libraries" { (lang.t("nav-libraries")) } }
            };
            let title = lang.t("visitors-title");
            Ok(ok(ctx, &title, main))
        }
        Err(AdmissionError::Invalid(codes)) => {
            let e = codes
                .iter()
                .map(|c| match *c {
                    "name_invalid" => ("name", lang.t("visitors-error-name")),
                    "phone_invalid" => ("phone", lang.t("visitors-error-phone")),
                    _ => ("form", lang.ta("reason-unknown", &[("code", (*c).into())])),
                })
                .collect();
            fail(ctx, StatusCode::UNPROCESSABLE_ENTITY, e).await
        }
        Err(AdmissionError::NotFound) => {
            let e = vec![("library", lang.t("visitors-error-library"))];
            fail(ctx, StatusCode::UNPROCESSABLE_ENTITY, e).await
        }
        Err(other) => Err(unavailable(other)),
    }
}
