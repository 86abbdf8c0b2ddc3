//! Signing in and out, the language switch, the Password change (forced after a default
//! or temporary Password) and "forgot your Password?".

use library_credentials::{ChangePasswordError, LoginError, Scope, Secret, Session};
use maud::{Markup, html};
use poem::http::StatusCode;
use poem::{Body, Request, Response, handler};

use super::{described_by, expired_form, field_errors, reason, too_many_attempts, unavailable};
use crate::ctx::{Ctx, FormData, LANG_COOKIE, SESSION_COOKIE, local_target, query, see_other};
use crate::i18n::Lang;
use crate::layout::{csrf_field, flash, ok, page};

/// `GET /`: My Account (which sends a visitor to sign in first).
#[handler]
pub(crate) fn home() -> Response {
    see_other("/account")
}

/// `GET /login`: the address a visitor is likely to type; the page is `/sign-in`.
#[handler]
pub(crate) fn login_address() -> Response {
    see_other("/sign-in")
}

/// `GET /sign-in`.
#[handler]
pub(crate) async fn sign_in_page(req: &Request) -> poem::Result<Response> {
    let ctx = Ctx::load(req).await?;
    if ctx.reader().is_ok() {
        return Ok(ctx.redirect("/account"));
    }
    let q = query(req);
    let form = sign_in_form(&ctx, "", q.get("next"), None);
    let main = html! { (flash(&ctx, q.get("done"))) (form) };
    let title = ctx.lang.t("sign-in-title");
    Ok(ok(ctx, &title, main))
}

fn sign_in_form(ctx: &Ctx, card: &str, next: Option<&str>, error: Option<String>) -> Markup {
    let lang = ctx.lang;
    html! {
        h1 { (lang.t("sign-in-title")) }
        p { (lang.t("sign-in-intro")) }
        @if let Some(error) = &error {
            p .error #sign-in-error role="alert" { (error) }
        }
        form #sign-in .stack method="post" action="/sign-in" {
            (csrf_field(ctx))
            @if let Some(next) = next {
                input type="hidden" name="next" value=(next);
            }
            label for="card_number" { (lang.t("field-card-number")) }
            input #card_number name="card_number" type="text" inputmode="numeric"
                autocomplete="username" required value=(card)
                aria-describedby=[error.as_ref().map(|_| "sign-in-error")];
            label for="password" { (lang.t("field-password")) }
            input #password name="password" type="password" autocomplete="current-password"
                required aria-describedby=[error.as_ref().map(|_| "sign-in-error")];
            button type="submit" { (lang.t("sign-in-button")) }
        }
        p { a href="/forgot-password" { (lang.t("forgot-link")) } }
        p .hint { (lang.t("sign-in-default-hint")) }
    }
}

/// `POST /sign-in`: a Password session in the cookie, then the forced change or the page
/// asked for.
#[handler]
pub(crate) async fn sign_in(req: &Request, body: Body) -> poem::Result<Response> {
    let mut ctx = Ctx::load(req).await?;
    let form = FormData::read(body).await?;
    if !ctx.csrf_ok(&form) {
        return Ok(expired_form(ctx));
    }
    let card = form.text("card_number").trim().to_owned();
    let next = form.get("next").map(str::to_owned);
    let result = ctx
        .services
        .credentials
        .login(
            &card,
            &Secret::new(form.text("password").to_owned()),
            &ctx.source,
        )
        .await;
    let (status, error) = match result {
        Ok(issued) => {
            ctx.set_cookie(SESSION_COOKIE, issued.token.expose());
            // The language: the one chosen in this browser is kept in the settings;
            // without a choice here, the one the settings hold (from another browser).
            if let Ok(session) = ctx
                .services
                .credentials
                .authenticate(issued.token.expose())
                .await
            {
                if ctx.lang_chosen {
                    save_language(&ctx, &session, ctx.lang).await?;
                } else if let Some(patron) = session.patron()
                    && let Ok(settings) =
                        ctx.services.reader_services.settings.settings(patron).await
                {
                    let lang = Lang::from_setting(settings.language);
                    ctx.set_lasting_cookie(LANG_COOKIE, lang.tag());
                }
            }
            let to = if issued.scope == Scope::ChangePasswordOnly {
                "/password".to_owned()
            } else {
                local_target(next.as_deref())
            };
            return Ok(ctx.redirect(&to));
        }
        Err(LoginError::InvalidCredentials) => {
            (StatusCode::UNAUTHORIZED, ctx.lang.t("sign-in-invalid"))
        }
        Err(LoginError::TooManyAttempts { retry_after }) => (
            StatusCode::TOO_MANY_REQUESTS,
            too_many_attempts(ctx.lang, retry_after),
        ),
        Err(LoginError::Infrastructure(e)) => return Err(unavailable(e)),
    };
    let main = sign_in_form(&ctx, &card, next.as_deref(), Some(error));
    let title = ctx.lang.t("sign-in-title");
    Ok(page(ctx, status, &title, main))
}

/// `POST /sign-out`: ends the session.
#[handler]
pub(crate) async fn sign_out(req: &Request, body: Body) -> poem::Result<Response> {
    let mut ctx = Ctx::load(req).await?;
    let form = FormData::read(body).await?;
    if !ctx.csrf_ok(&form) {
        return Ok(expired_form(ctx));
    }
    if let Some(session) = &ctx.session {
        ctx.services
            .credentials
            .logout(session)
            .await
            .map_err(unavailable)?;
    }
    ctx.clear_cookie(SESSION_COOKIE);
    Ok(ctx.redirect("/sign-in?done=signed-out"))
}

/// `POST /language`: the other language, remembered in a cookie and, for a signed-in
/// reader, in their settings.
#[handler]
pub(crate) async fn language(req: &Request, body: Body) -> poem::Result<Response> {
    let mut ctx = Ctx::load(req).await?;
    let form = FormData::read(body).await?;
    if !ctx.csrf_ok(&form) {
        return Ok(expired_form(ctx));
    }
    let Some(lang) = Lang::from_tag(form.text("lang")) else {
        return Err(poem::Error::from_status(StatusCode::BAD_REQUEST));
    };
    ctx.lang = lang;
    ctx.set_lasting_cookie(LANG_COOKIE, lang.tag());
    // Any reader session: also during the forced Password change.
    if let Some(session) = ctx.session.clone() {
        save_language(&ctx, &session, lang).await?;
    }
    let back = local_target(form.get("back"));
    Ok(ctx.redirect(&back))
}

/// Saves `lang` in the settings of the reader of `session` when they hold another.
async fn save_language(ctx: &Ctx, session: &Session, lang: Lang) -> poem::Result<()> {
    if session.patron().is_none() {
        return Ok(());
    }
    ctx.services
        .set_language(session, lang.setting(), &ctx.source)
        .await
        .map_err(unavailable)
}

/// The Password rules as the page lists them (`data-rule` = the API's code; the script
/// checks the first four as the reader types).
const PASSWORD_RULES: &[&str] = &[
    "too_short",
    "missing_uppercase",
    "missing_lowercase",
    "missing_digit",
    "common_password",
    "contains_personal_info",
    "context_word",
    "same_as_current",
];

#[derive(Default)]
struct PasswordErrors {
    current: Vec<String>,
    new: Vec<String>,
    confirm: Vec<String>,
    general: Option<String>,
}

fn password_form(ctx: &Ctx, forced: bool, errors: &PasswordErrors) -> Markup {
    let lang = ctx.lang;
    html! {
        h1 { (lang.t("password-title")) }
        @if forced {
            p .notice role="status" { (lang.t("password-forced")) }
        }
        @if let Some(general) = &errors.general {
            p .error role="alert" { (general) }
        }
        form #change-password .stack method="post" action="/password" {
            (csrf_field(ctx))
            label for="current_password" { (lang.t("field-current-password")) }
            input #current_password name="current_password" type="password"
                autocomplete="current-password" required
                aria-describedby=[described_by("current_password-errors", &errors.current)];
            (field_errors("current_password-errors", &errors.current))
            label for="new_password" { (lang.t("field-new-password")) }
            input #new_password name="new_password" type="password" autocomplete="new-password"
                required aria-describedby={
                    "password-rules"
                    @if !errors.new.is_empty() { " new_password-errors" }
                };
            (field_errors("new_password-errors", &errors.new))
            div .rules {
                p #password-rules-title { (lang.t("password-rules-title")) }
                ul #password-rules aria-labelledby="password-rules-title" {
                    @for rule in PASSWORD_RULES {
                        li data-rule=(rule) { (reason(lang, "password-rule", rule)) }
                    }
                }
            }
            label for="confirm_password" { (lang.t("field-confirm-password")) }
            input #confirm_password name="confirm_password" type="password"
                autocomplete="new-password" required
                aria-describedby=[described_by("confirm_password-errors", &errors.confirm)];
            (field_errors("confirm_password-errors", &errors.confirm))
            button type="submit" { (lang.t("password-button")) }
        }
    }
}

/// `GET /password`: change the Password (any reader session with a Password).
#[handler]
pub(crate) async fn password_page(req: &Request) -> poem::Result<Response> {
    let ctx = Ctx::load(req).await?;
    let forced = match &ctx.session {
        Some(s) => s.scope == Scope::ChangePasswordOnly,
        None => return Ok(ctx.redirect("/sign-in?next=/password")),
    };
    let main = password_form(&ctx, forced, &PasswordErrors::default());
    let title = ctx.lang.t("password-title");
    Ok(ok(ctx, &title, main))
}

/// `POST /password`: the change; every earlier session ends, a new one is in the cookie.
#[handler]
pub(crate) async fn change_password(req: &Request, body: Body) -> poem::Result<Response> {
    let mut ctx = Ctx::load(req).await?;
    let form = FormData::read(body).await?;
    if !ctx.csrf_ok(&form) {
        return Ok(expired_form(ctx));
    }
    let Some(session) = ctx.session.clone() else {
        return Ok(ctx.redirect("/sign-in?next=/password"));
    };
    let forced = session.scope == Scope::ChangePasswordOnly;
    let lang = ctx.lang;
    let mut errors = PasswordErrors::default();
    let new = form.text("new_password");
    let status = if new != form.text("confirm_password") {
        errors.confirm.push(lang.t("password-confirm-mismatch"));
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        let result = ctx
            .services
            .credentials
            .change_password(
                &session,
                &Secret::new(form.text("current_password").to_owned()),
                &Secret::new(new.to_owned()),
                &ctx.source,
            )
            .await;
        match result {
            Ok(issued) => {
                ctx.set_cookie(SESSION_COOKIE, issued.token.expose());
                return Ok(ctx.redirect("/account?done=password-changed"));
            }
            Err(ChangePasswordError::Rejected(violations)) => {
                errors.new = violations
                    .iter()
                    .map(|v| {
                        let rule = reason(lang, "password-rule", v.code());
                        lang.ta("password-must", &[("rule", rule.into())])
                    })
                    .collect();
                StatusCode::UNPROCESSABLE_ENTITY
            }
            Err(ChangePasswordError::InvalidCredentials) => {
                errors.current.push(lang.t("password-current-wrong"));
                StatusCode::UNPROCESSABLE_ENTITY
            }
            Err(ChangePasswordError::TooManyAttempts { retry_after }) => {
                errors.general = Some(too_many_attempts(lang, retry_after));
                StatusCode::TOO_MANY_REQUESTS
            }
            Err(ChangePasswordError::Forbidden) => {
                return Ok(ctx.redirect("/sign-in?next=/password"));
            }
            Err(ChangePasswordError::Infrastructure(e)) => return Err(unavailable(e)),
        }
    };
    let main = password_form(&ctx, forced, &errors);
    let title = lang.t("password-title");
    Ok(page(ctx, status, &title, main))
}

fn forgot_form(ctx: &Ctx, error: Option<String>) -> Markup {
    let lang = ctx.lang;
    html! {
        h1 { (lang.t("forgot-title")) }
        p { (lang.t("forgot-intro")) }
        form #forgot .stack method="post" action="/forgot-password" {
            (csrf_field(ctx))
            label for="email" { (lang.t("field-email")) }
            input #email name="email" type="email" autocomplete="email" required
                aria-describedby=[error.as_ref().map(|_| "email-errors")];
            @if let Some(error) = &error {
                div .field-errors #email-errors role="alert" { p { (error) } }
            }
            button type="submit" { (lang.t("forgot-button")) }
        }
        p .hint { (lang.t("forgot-no-email")) }
        p { a href="/sign-in" { (lang.t("back-to-sign-in")) } }
    }
}

/// `GET /forgot-password`.
#[handler]
pub(crate) async fn forgot_page(req: &Request) -> poem::Result<Response> {
    let ctx = Ctx::load(req).await?;
    let q = query(req);
    let main = html! { (flash(&ctx, q.get("done"))) (forgot_form(&ctx, None)) };
    let title = ctx.lang.t("forgot-title");
    Ok(ok(ctx, &title, main))
}

/// `POST /forgot-password`: a temporary password to every reader with this email (within
/// the limits); the same answer for any email.
#[handler]
pub(crate) async fn forgot(req: &Request, body: Body) -> poem::Result<Response> {
    let ctx = Ctx::load(req).await?;
    let form = FormData::read(body).await?;
    if !ctx.csrf_ok(&form) {
        return Ok(expired_form(ctx));
    }
    let email = form.text("email").trim();
    if email.is_empty() || !email.contains('@') {
        let main = forgot_form(&ctx, Some(ctx.lang.t("forgot-email-invalid")));
        let title = ctx.lang.t("forgot-title");
        return Ok(page(ctx, StatusCode::UNPROCESSABLE_ENTITY, &title, main));
    }
    ctx.services
        .request_password_reset(email, &ctx.source)
        .await
        .map_err(unavailable)?;
    Ok(ctx.redirect("/forgot-password?done=reset-requested"))
}
