//! The pages, one module per part of the site, and the route table.

mod account;
mod auth;
mod catalogue;
mod info;
mod public;
mod settings;
mod study_rooms;
mod visitors;

use maud::{Markup, html};
use poem::http::StatusCode;
use poem::{Body, Request, Response, Route, get, post};

use crate::assets;
use crate::ctx::{Ctx, FormData, Reader};
use crate::i18n::Lang;

/// Every page and form target.
pub(crate) fn routes() -> Route {
    Route::new()
        .at("/", get(auth::home))
        .at("/sign-in", get(auth::sign_in_page).post(auth::sign_in))
        .at("/login", get(auth::login_address))
        .at("/sign-out", post(auth::sign_out))
        .at("/language", post(auth::language))
        .at(
            "/password",
            get(auth::password_page).post(auth::change_password),
        )
        .at(
            "/forgot-password",
            get(auth::forgot_page).post(auth::forgot),
        )
        .at("/account", get(account::account))
        .at("/account/renew", post(account::renew))
        .at(
            "/account/loans/:id/lost",
            get(account::lost_page).post(account::report_lost),
        )
        .at("/account/holds/:id/cancel", post(account::cancel_hold))
        .at("/account/holds/:id/options", post(account::hold_options))
        .at("/account/history", get(account::history))
        .at("/catalogue", get(catalogue::search))
        .at("/catalogue/reserve", post(catalogue::reserve))
        .at("/info", get(info::info))
        .at("/info/activities/:id/register", post(info::register))
        .at("/info/activities/:id/cancel", post(info::cancel))
        .at(
            "/settings",
            get(settings::settings_page).post(settings::save),
        )
        .at("/settings/pin", post(settings::change_pin))
        .at("/ask", get(info::ask_page).post(info::ask))
        .at("/study-rooms", get(study_rooms::study_rooms))
        .at("/study-rooms/:id/apply", post(study_rooms::apply))
        .at("/libraries", get(public::libraries))
        .at("/libraries/:code", get(public::library))
        .at("/help", get(public::help))
        .at(
            "/visitors",
            get(visitors::visitors_page).post(visitors::register),
        )
        .at("/static/:name", get(assets::serve))
}

/// A form posted without this browser's CSRF token (an old page, or another site): the
/// form again is not shown; the reader is asked to reload.
pub(crate) fn expired_form(ctx: Ctx) -> Response {
    let lang = ctx.lang;
    let title = lang.t("form-expired-title");
    let main = html! {
        h1 { (title) }
        p role="alert" { (lang.t("form-expired")) }
        p { a href=(ctx.here.clone()) { (lang.t("form-expired-back")) } }
    };
    crate::layout::page(ctx, StatusCode::FORBIDDEN, &title, main)
}

/// The start of every page only a signed-in reader sees: the context and the reader; or
/// the redirect to take instead (to sign in, or to the forced Password change).
pub(crate) async fn reader_page(req: &Request) -> poem::Result<Result<(Ctx, Reader), Response>> {
    let ctx = Ctx::load(req).await?;
    match ctx.reader() {
        Ok(reader) => Ok(Ok((ctx, reader))),
        Err(to) => Ok(Err(ctx.redirect(&to))),
    }
}

/// The start of every form a signed-in reader posts: the context, the signed-in reader
/// and the form, its CSRF token checked; or the answer to give instead (to sign in, to the
/// forced Password change, or the expired-form page).
pub(crate) async fn reader_post(
    req: &Request,
    body: Body,
) -> poem::Result<Result<(Ctx, Reader, FormData), Response>> {
    let form = FormData::read(body).await?;
    let (ctx, reader) = match reader_page(req).await? {
        Ok(opened) => opened,
        Err(answer) => return Ok(Err(answer)),
    };
    if !ctx.csrf_ok(&form) {
        return Ok(Err(expired_form(ctx)));
    }
    Ok(Ok((ctx, reader, form)))
}

/// The words for a code of the API (`<prefix>-<code>`), or the general words when the
/// code is one these pages do not know.
pub(crate) fn reason(lang: Lang, prefix: &str, code: &str) -> String {
    lang.t_opt(&format!("{prefix}-{}", code.replace('_', "-")))
        .unwrap_or_else(|| lang.ta("reason-unknown", &[("code", code.into())]))
}

/// The errors of one field: an `id` the input names in `aria-describedby`.
pub(crate) fn field_errors(id: &str, errors: &[String]) -> Markup {
    html! {
        @if !errors.is_empty() {
            div .field-errors id=(id) role="alert" {
                @for e in errors { p { (e) } }
            }
        }
    }
}

/// A column of a [`table`]: its heading's message key; a `Hidden` heading is read by
/// assistive technology only (a checkbox, an action).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Col {
    /// A heading shown.
    Shown(&'static str),
    /// A heading for screen readers only.
    Hidden(&'static str),
}

/// A table of the pages: `id`, a caption for screen readers (message `caption`), the
/// column headings and the rows; on a phone each row becomes a card (site.css), each cell
/// labelled by its `data-label`.
pub(crate) fn table(lang: Lang, id: &str, caption: &str, cols: &[Col], rows: Markup) -> Markup {
    html! {
        div .table-wrap {
            table id=(id) {
                caption .visually-hidden { (lang.t(caption)) }
                thead { tr {
                    @for col in cols {
                        th scope="col" {
                            @match col {
                                Col::Shown(key) => (lang.t(key)),
                                Col::Hidden(key) => span .visually-hidden { (lang.t(key)) },
                            }
                        }
                    }
                } }
                tbody { (rows) }
            }
        }
    }
}

/// "Too many attempts" with the minutes to wait.
pub(crate) fn too_many_attempts(lang: Lang, wait: time::Duration) -> String {
    lang.ta("too-many-attempts", &[("minutes", minutes(wait).into())])
}

/// `Some(id)` when there are errors: the value of the input's `aria-describedby`.
pub(crate) fn described_by(id: &str, errors: &[String]) -> Option<String> {
    (!errors.is_empty()).then(|| id.to_owned())
}

/// A service failure the reader cannot mend: the unavailable page.
pub(crate) fn unavailable(err: impl std::fmt::Display) -> poem::Error {
    tracing::error!(error = %err, "web: a service failed");
    poem::Error::from_status(StatusCode::SERVICE_UNAVAILABLE)
}

/// Minutes to wait, rounded up (at least 1).
pub(crate) fn minutes(wait: time::Duration) -> i64 {
    ((wait.whole_seconds() + 59) / 60).max(1)
}

/// Every library's name in the page's language, by code, in code order.
pub(crate) async fn library_names(ctx: &Ctx) -> poem::Result<Vec<(String, String)>> {
    let libraries = ctx.services.libraries.list().await.map_err(unavailable)?;
    Ok(libraries
        .into_iter()
        .map(|l| {
            let name = local_name(ctx.lang, &l.info.name, &l.info.name_zh).to_owned();
            (l.info.code.as_str().to_owned(), name)
        })
        .collect())
}

/// A library's name in the page's language: the Chinese name, when it has one, on a
/// Chinese page; else the English one.
pub(crate) fn local_name<'a>(lang: Lang, name: &'a str, name_zh: &'a str) -> &'a str {
    match lang {
        Lang::ZhHant if !name_zh.is_empty() => name_zh,
        _ => name,
    }
}

/// The name of library `code` in `names`, or the code.
pub(crate) fn name_of<'a>(names: &'a [(String, String)], code: &'a str) -> &'a str {
    names
        .iter()
        .find(|(c, _)| c == code)
        .map_or(code, |(_, n)| n.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use library_circulation::{HoldRefusal, RenewalRefusal};
    use library_credentials::{PasswordViolation, PinViolation};

    /// Every message key the code names, found in its source: `t("…")`, `ta("…"`,
    /// `t_opt("…")` and the keys of the tables (`"nav-…"`, `"hold-status-…"`, …).
    fn keys_in_code() -> Vec<String> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
        let mut files = vec![std::path::PathBuf::from(dir)];
        let mut keys = Vec::new();
        while let Some(path) = files.pop() {
            if path.is_dir() {
                for entry in std::fs::read_dir(&path).expect("source dir") {
                    files.push(entry.expect("entry").path());
                }
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("source");
            for (i, _) in text.match_indices('"') {
                let rest = &text[i + 1..];
                let Some(end) = rest.find('"') else { continue };
                let literal = &rest[..end];
                let before = &text[..i];
                // A table's caption (its third argument) and columns are keys; its id is not.
                let caption = before
                    .rsplit_once("table(lang, \"")
                    .is_some_and(|(_, rest)| {
                        rest.ends_with("\", ") && !rest[..rest.len() - 3].contains('"')
                    });
                let table_id = before.ends_with("table(lang, ");
                let called = before.ends_with(".t(")
                    || before.ends_with(".ta(")
                    || before.ends_with(".t_opt(")
                    || before.ends_with("Shown(")
                    || before.ends_with("Hidden(")
                    || caption;
                let table = [
                    "nav-",
                    "hold-status-",
                    "library-kind-",
                    "charge-",
                    "error-",
                    "help-topic-",
                ]
                .iter()
                .any(|p| literal.starts_with(p) && !literal.ends_with('-'));
                if (called || table)
                    && !table_id
                    && !literal.is_empty()
                    && literal
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                {
                    keys.push(literal.to_owned());
                }
            }
        }
        keys
    }

    #[test]
    fn every_key_the_code_names_is_translated() {
        let keys = keys_in_code();
        assert!(keys.len() > 150, "{} keys found", keys.len());
        for key in keys {
            if key == "no-such-key-anywhere" {
                continue;
            }
            for lang in [Lang::En, Lang::ZhHant] {
                assert!(
                    lang.t_opt(&key).is_some(),
                    "{key} missing in {}",
                    lang.tag()
                );
            }
        }
    }

    #[test]
    fn every_refusal_and_violation_code_has_words() {
        use PasswordViolation as P;
        use PinViolation as N;
        let password = [
            P::TooShort,
            P::TooLong,
            P::MissingUppercase,
            P::MissingLowercase,
            P::MissingDigit,
            P::CommonPassword,
            P::ContainsPersonalInfo,
            P::ContextWord,
            P::SameAsCurrent,
            P::ControlCharacter,
        ];
        let pin = [
            N::NotDigits,
            N::TooShort,
            N::TooLong,
            N::TrivialPin,
            N::SameAsCurrent,
        ];
        let renewal = [
            RenewalRefusal::TooManyRenewals,
            RenewalRefusal::OnHoldForAnother,
            RenewalRefusal::PatronSuspended,
            RenewalRefusal::FinesOverLimit,
            RenewalRefusal::CardExpired,
            RenewalRefusal::TooSoon {
                earliest: time::macros::date!(2021 - 03 - 05),
            },
        ];
        let hold = [
            HoldRefusal::AlreadyOnLoan,
            HoldRefusal::AlreadyOnHold,
            HoldRefusal::QuotaReached,
            HoldRefusal::FinesOverLimit,
            HoldRefusal::PatronSuspended,
        ];
        let mut codes: Vec<(&str, &str)> = Vec::new();
        codes.extend(password.iter().map(|v| ("password-rule", v.code())));
        codes.extend(pin.iter().map(|v| ("pin-rule", v.code())));
        codes.extend(renewal.iter().map(|v| ("renewal-refused", v.code())));
        codes.extend(hold.iter().map(|v| ("hold-refused", v.code())));
        for (prefix, code) in codes {
            for lang in [Lang::En, Lang::ZhHant] {
                let words = reason(lang, prefix, code);
                assert!(
                    !words.contains(code) && !words.is_empty(),
                    "{prefix} {code} in {}: {words}",
                    lang.tag()
                );
            }
        }
        assert_eq!(
            reason(Lang::En, "renewal-refused", "on_hold_for_another"),
            "Another reader has reserved this title."
        );
        assert_eq!(
            reason(Lang::En, "renewal-refused", "a_new_code"),
            "The request was refused (a_new_code)."
        );
    }
}
