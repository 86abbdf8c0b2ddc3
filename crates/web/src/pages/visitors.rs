//! `GET|POST /visitors`: the visitors' own registration for contact tracing (name, contact
//! phone, library; the visit is now), public. The rules and the per-source limit are the
//! application layer's (`library_app::Admission`); the confirmation does not show the
//! phone again.

use library_app::AdmissionError;
use library_premises::admission::VisitorForm;
use maud::{Markup, html};
use poem::http::StatusCode;
use poem::{Body, Request, Response, handler};

use super::{described_by, expired_form, field_errors, library_names, name_of, unavailable};
use crate::ctx::{Ctx, FormData};
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
    let libraries = library_names(ctx).await?;
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
                @for (code, name) in &libraries {
                    option value=(code) selected[typed.library == *code] { (name) }
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
    let visitor = VisitorForm {
        name: typed.name.clone(),
        phone: typed.phone.clone(),
        visited_at: None,
    };
    let result = ctx
        .services
        .admission
        .register_self(&ctx.source.0, &typed.library, None, &visitor)
        .await;
    match result {
        Ok((_, visited_at)) => {
            let shown = lang.date_time(visited_at, library_core::DEFAULT_LIBRARY_OFFSET);
            let names = library_names(&ctx).await?;
            let library_name = name_of(&names, &typed.library).to_owned();
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
        Err(AdmissionError::TooMany(_)) => {
            let e = vec![("form", lang.t("visitors-error-too-many"))];
            fail(ctx, StatusCode::TOO_MANY_REQUESTS, e).await
        }
        Err(AdmissionError::Invalid(codes)) => {
            let e = codes
                .iter()
                .map(|c| match *c {
                    "unknown_library" => ("library", lang.t("visitors-error-library")),
                    "name_invalid" => ("name", lang.t("visitors-error-name")),
                    "phone_invalid" => ("phone", lang.t("visitors-error-phone")),
                    _ => ("form", lang.ta("reason-unknown", &[("code", (*c).into())])),
                })
                .collect();
            fail(ctx, StatusCode::UNPROCESSABLE_ENTITY, e).await
        }
        Err(other) => Err(unavailable(other)),
    }
}
