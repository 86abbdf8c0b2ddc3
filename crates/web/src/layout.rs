//! The frame of every page: the language attribute, the skip link, the header with the
//! navigation, the language switch and signing out, the flash message, the footer.

use maud::{DOCTYPE, Markup, html};
use poem::Response;
use poem::http::{StatusCode, header};

use crate::assets::{css_url, js_url};
use crate::ctx::Ctx;

/// The pages of the navigation: path and message key.
const NAV: &[(&str, &str)] = &[
    ("/account", "nav-account"),
    ("/catalogue", "nav-catalogue"),
    ("/info", "nav-info"),
    ("/study-rooms", "nav-study-rooms"),
    ("/settings", "nav-settings"),
    ("/ask", "nav-ask"),
    ("/libraries", "nav-libraries"),
    ("/help", "nav-help"),
];

/// A hidden field with the CSRF token: the first thing of every form.
pub(crate) fn csrf_field(ctx: &Ctx) -> Markup {
    html! { input type="hidden" name="csrf" value=(ctx.csrf); }
}

/// The flash message of a redirect (`?done=<code>`), when the code is one we know.
pub(crate) fn flash(ctx: &Ctx, done: Option<&str>) -> Markup {
    let text = done
        .filter(|c| c.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'))
        .and_then(|code| ctx.lang.t_opt(&format!("done-{code}")));
    html! {
        @if let Some(text) = text {
            p #flash .flash role="status" { (text) }
        }
    }
}

/// A whole page with `status`: the frame around `main`.
pub(crate) fn page(ctx: Ctx, status: StatusCode, title: &str, main: Markup) -> Response {
    let lang = ctx.lang;
    let current = ctx.here.split('?').next().unwrap_or("/").to_owned();
    let signed_in = ctx.signed_in();
    // During the forced Password change every page leads back to it: no navigation.
    let forced = ctx
        .session
        .as_ref()
        .is_some_and(|s| s.scope == library_credentials::Scope::ChangePasswordOnly);
    let site = lang.t("site-name");
    let body = html! {
        (DOCTYPE)
        html lang=(lang.tag()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · " (site) }
                link rel="icon" href=(crate::assets::icon_url()) type="image/svg+xml";
                link rel="stylesheet" href=(css_url());
                script src=(js_url()) defer {}
            }
            body {
                a .skip href="#main" { (lang.t("skip-to-content")) }
                header .site {
                    div .bar {
                        a .brand href="/" { (site) }
                        div .tools {
                            form #language method="post" action="/language" {
                                (csrf_field(&ctx))
                                input type="hidden" name="back" value=(ctx.here);
                                button type="submit" name="lang" value=(lang.other().tag())
                                    lang=(lang.other().tag()) {
                                    (lang.t("switch-language"))
                                }
                            }
                            @if signed_in {
                                form #sign-out method="post" action="/sign-out" {
                                    (csrf_field(&ctx))
                                    button type="submit" { (lang.t("sign-out")) }
                                }
                            } @else {
                                a .sign-in href="/sign-in" { (lang.t("sign-in")) }
                            }
                        }
                    }
                    @if !forced { nav aria-label=(lang.t("nav-label")) {
                        ul {
                            @for (path, key) in NAV {
                                li {
                                    @if current == *path {
                                        a href=(path) aria-current="page" { (lang.t(key)) }
                                    } @else {
                                        a href=(path) { (lang.t(key)) }
                                    }
                                }
                            }
                        }
                    } }
                }
                main #main tabindex="-1" { (main) }
                footer .site {
                    p { (lang.t("footer-text")) }
                }
            }
        }
    };
    let resp = Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
        .body(body.into_string());
    ctx.finish(resp)
}

/// A page answered 200.
pub(crate) fn ok(ctx: Ctx, title: &str, main: Markup) -> Response {
    page(ctx, StatusCode::OK, title, main)
}
