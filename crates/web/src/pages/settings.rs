//! My Setting: email (a change needs the Password), SMS number, the channels notices go
//! through, the language, keeping the reading history; the PIN; a link to the Password.

use library_app::settings::SettingsChangeError;
use library_credentials::{ChangePinError, Secret};
use library_reader_services::{Channel, ReaderSettings, SettingsForm};
use maud::html;
use poem::http::StatusCode;
use poem::{Body, Request, Response, handler};

use super::{
    described_by, field_errors, reader_page, reader_post, reason, too_many_attempts, unavailable,
};
use crate::ctx::{Ctx, LANG_COOKIE, query};
use crate::i18n::Lang;
use crate::layout::{csrf_field, flash, page};

#[derive(Default)]
struct Errors {
    email: Vec<String>,
    sms: Vec<String>,
    channels: Vec<String>,
    password: Vec<String>,
    pin_password: Vec<String>,
    pin: Vec<String>,
    general: Option<String>,
}

fn view(
    ctx: Ctx,
    status: StatusCode,
    settings: &ReaderSettings,
    errors: &Errors,
    done: Option<&str>,
) -> Response {
    let lang = ctx.lang;
    let email = settings.email.as_ref().map_or("", |e| e.as_str());
    let sms = settings.sms_number.as_ref().map_or("", |n| n.as_str());
    let main = html! {
        h1 { (lang.t("settings-title")) }
        (flash(&ctx, done))
        @if let Some(general) = &errors.general { p .error role="alert" { (general) } }
        form #settings .stack method="post" action="/settings" {
            (csrf_field(&ctx))
            fieldset {
                legend { (lang.t("settings-contact")) }
                label for="email" { (lang.t("field-email")) }
                input #email name="email" type="email" autocomplete="email" value=(email)
                    aria-describedby=[described_by("email-errors", &errors.email)];
                (field_errors("email-errors", &errors.email))
                label for="current_password" { (lang.t("field-password-for-email")) }
                input #current_password name="current_password" type="password" autocomplete="current-password"
                    aria-describedby={ "current_password-hint" @if !errors.password.is_empty() { " current_password-errors" } };
                p .hint #current_password-hint { (lang.t("settings-password-hint")) }
                (field_errors("current_password-errors", &errors.password))
                label for="sms_number" { (lang.t("field-sms")) }
                input #sms_number name="sms_number" type="tel" autocomplete="tel" value=(sms)
                    aria-describedby=[described_by("sms-errors", &errors.sms)];
                (field_errors("sms-errors", &errors.sms))
            }
            fieldset aria-describedby=[described_by("channel-errors", &errors.channels)] {
                legend { (lang.t("settings-channels")) }
                div .check {
                    input #channel-email type="checkbox" name="channel" value="email" checked[settings.channels.contains(&Channel::Email)];
                    label for="channel-email" { (lang.t("channel-email")) }
                }
                div .check {
                    input #channel-sms type="checkbox" name="channel" value="sms" checked[settings.channels.contains(&Channel::Sms)];
                    label for="channel-sms" { (lang.t("channel-sms")) }
                }
                (field_errors("channel-errors", &errors.channels))
            }
            fieldset {
                legend { (lang.t("settings-preferences")) }
                label for="language-choice" { (lang.t("field-language")) }
                select #language-choice name="language" {
                    @for l in [Lang::En, Lang::ZhHant] {
                        option value=(l.tag()) lang=(l.tag()) selected[Lang::from_setting(settings.language) == l] { (l.t("language-name")) }
                    }
                }
                div .check {
                    input #keep_reading_history type="checkbox" name="keep_reading_history" value="on" checked[settings.keep_reading_history];
                    label for="keep_reading_history" { (lang.t("field-keep-history")) }
                }
            }
            button type="submit" { (lang.t("settings-save")) }
        }
        section aria-labelledby="pin-title" {
            h2 #pin-title { (lang.t("pin-title")) }
            p { (lang.t("pin-intro")) }
            form #change-pin .stack method="post" action="/settings/pin" {
                (csrf_field(&ctx))
                label for="pin-password" { (lang.t("field-password")) }
                input #pin-password name="password" type="password" autocomplete="current-password" required
                    aria-describedby=[described_by("pin-password-errors", &errors.pin_password)];
                (field_errors("pin-password-errors", &errors.pin_password))
                label for="new_pin" { (lang.t("field-new-pin")) }
                input #new_pin name="new_pin" type="password" inputmode="numeric" autocomplete="off" required
                    aria-describedby={ "pin-rules" @if !errors.pin.is_empty() { " new_pin-errors" } };
                p .hint #pin-rules { (lang.t("pin-rules")) }
                (field_errors("new_pin-errors", &errors.pin))
                button type="submit" { (lang.t("pin-button")) }
            }
        }
        section aria-labelledby="password-link-title" {
            h2 #password-link-title { (lang.t("password-title")) }
            p { a href="/password" { (lang.t("password-link")) } }
        }
    };
    let title = lang.t("settings-title");
    page(ctx, status, &title, main)
}

/// `GET /settings`.
#[handler]
pub(crate) async fn settings_page(req: &Request) -> poem::Result<Response> {
    let (ctx, reader) = match reader_page(req).await? {
        Ok(opened) => opened,
        Err(answer) => return Ok(answer),
    };
    let settings = ctx
        .services
        .reader_services
        .settings
        .settings(reader.patron)
        .await
        .map_err(unavailable)?;
    let q = query(req);
    Ok(view(
        ctx,
        StatusCode::OK,
        &settings,
        &Errors::default(),
        q.get("done"),
    ))
}

/// `POST /settings`: the settings replaced; the language of the pages follows.
#[handler]
pub(crate) async fn save(req: &Request, body: Body) -> poem::Result<Response> {
    let (mut ctx, reader, form) = match reader_post(req, body).await? {
        Ok(posted) => posted,
        Err(answer) => return Ok(answer),
    };
    let lang = ctx.lang;
    let channels = form
        .all("channel")
        .iter()
        .filter_map(|c| match *c {
            "email" => Some(Channel::Email),
            "sms" => Some(Channel::Sms),
            _ => None,
        })
        .collect();
    let language = Lang::from_tag(form.text("language")).unwrap_or(lang);
    let submitted = SettingsForm {
        email: Some(form.text("email").to_owned()),
        sms_number: Some(form.text("sms_number").to_owned()),
        channels,
        language: language.setting(),
        keep_reading_history: form.get("keep_reading_history").is_some(),
    };
    let mut errors = Errors::default();
    let current = ctx
        .services
        .reader_services
        .settings
        .settings(reader.patron)
        .await
        .map_err(unavailable)?;
    let status = match submitted.parse() {
        Err(violations) => {
            for code in violations.0 {
                let text = reason(lang, "settings", code);
                match code {
                    "email_invalid" => errors.email.push(text),
                    "sms_number_invalid" => errors.sms.push(text),
                    _ => errors.channels.push(text),
                }
            }
            StatusCode::UNPROCESSABLE_ENTITY
        }
        Ok(settings) => {
            let password = Some(form.text("current_password"))
                .filter(|p| !p.is_empty())
                .map(|p| Secret::new(p.to_owned()));
            match ctx
                .services
                .replace_settings(&reader.session, &settings, password.as_ref(), &ctx.source)
                .await
            {
                Ok(saved) => {
                    let lang = Lang::from_setting(saved.language);
                    ctx.set_lasting_cookie(LANG_COOKIE, lang.tag());
                    return Ok(ctx.redirect("/settings?done=settings-saved"));
                }
                Err(SettingsChangeError::PasswordRequired) => {
                    errors.password.push(lang.t("settings-password-required"));
                    StatusCode::UNPROCESSABLE_ENTITY
                }
                Err(SettingsChangeError::InvalidPassword) => {
                    errors.password.push(lang.t("password-current-wrong"));
                    StatusCode::UNPROCESSABLE_ENTITY
                }
                Err(SettingsChangeError::TooManyAttempts { retry_after }) => {
                    errors.general = Some(too_many_attempts(lang, retry_after));
                    StatusCode::TOO_MANY_REQUESTS
                }
                Err(SettingsChangeError::Forbidden) => return Ok(ctx.redirect("/sign-in")),
                Err(e) => return Err(unavailable(e)),
            }
        }
    };
    // Show what the reader typed, over what is stored.
    let mut shown = current;
    shown.email = library_reader_services::Email::parse(form.text("email").trim()).or(shown.email);
    shown.sms_number = library_reader_services::SmsNumber::parse(form.text("sms_number").trim())
        .or(shown.sms_number);
    Ok(view(ctx, status, &shown, &errors, None))
}

/// `POST /settings/pin`: a new PIN (needs the Password).
#[handler]
pub(crate) async fn change_pin(req: &Request, body: Body) -> poem::Result<Response> {
    let (ctx, reader, form) = match reader_post(req, body).await? {
        Ok(posted) => posted,
        Err(answer) => return Ok(answer),
    };
    let lang = ctx.lang;
    let result = ctx
        .services
        .credentials
        .change_pin(
            &reader.session,
            &Secret::new(form.text("password").to_owned()),
            &Secret::new(form.text("new_pin").to_owned()),
            &ctx.source,
        )
        .await;
    let mut errors = Errors::default();
    let status = match result {
        Ok(()) => return Ok(ctx.redirect("/settings?done=pin-changed")),
        Err(ChangePinError::Rejected(violations)) => {
            errors.pin = violations
                .iter()
                .map(|v| reason(lang, "pin-rule", v.code()))
                .collect();
            StatusCode::UNPROCESSABLE_ENTITY
        }
        Err(ChangePinError::InvalidCredentials) => {
            errors.pin_password.push(lang.t("password-current-wrong"));
            StatusCode::UNPROCESSABLE_ENTITY
        }
        Err(ChangePinError::TooManyAttempts { retry_after }) => {
            errors.general = Some(too_many_attempts(lang, retry_after));
            StatusCode::TOO_MANY_REQUESTS
        }
        Err(ChangePinError::PasswordChangeRequired) => return Ok(ctx.redirect("/password")),
        Err(ChangePinError::Forbidden) => return Ok(ctx.redirect("/sign-in")),
        Err(ChangePinError::Infrastructure(e)) => return Err(unavailable(e)),
    };
    let settings = ctx
        .services
        .reader_services
        .settings
        .settings(reader.patron)
        .await
        .map_err(unavailable)?;
    Ok(view(ctx, status, &settings, &errors, None))
}
