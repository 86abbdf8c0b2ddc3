//! The readers' web pages over real HTTP, as a browser without JavaScript uses them:
//! cookies, forms, redirects (Post/Redirect/Get), on every backend. The browser tests
//! (`web-tests/`, Chromium) cover the same flows with and without the script.

use std::collections::BTreeMap;

use reqwest::header::{HeaderMap, LOCATION, SET_COOKIE};
use reqwest::{StatusCode, redirect};
use serde_json::json;

use crate::support::{TestApp, on_every_backend};

/// A cookie jar and a client that does not follow redirects, so each step is seen.
struct Browser<'a> {
    app: &'a TestApp,
    client: reqwest::Client,
    cookies: BTreeMap<String, String>,
}

/// A page as the browser got it.
struct Page {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Page {
    fn location(&self) -> &str {
        self.headers
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    #[track_caller]
    fn contains(&self, text: &str) -> &Self {
        assert!(
            self.body.contains(text),
            "page ({}) lacks {text:?}:\n{}",
            self.status,
            self.body
        );
        self
    }
}

impl<'a> Browser<'a> {
    fn new(app: &'a TestApp) -> Self {
        Browser {
            app,
            client: reqwest::Client::builder()
                .redirect(redirect::Policy::none())
                .build()
                .expect("client"),
            cookies: BTreeMap::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep_cookies(&mut self, headers: &HeaderMap) {
        for value in headers.get_all(SET_COOKIE) {
            let text = value.to_str().expect("ascii cookie");
            let (pair, attributes) = text.split_once(';').unwrap_or((text, ""));
            let (name, value) = pair.split_once('=').expect("name=value");
            assert!(name.starts_with("__Host-"), "{text}");
            for attribute in ["Path=/", "Secure", "HttpOnly", "SameSite=Lax"] {
                assert!(attributes.contains(attribute), "{text} lacks {attribute}");
            }
            if value.is_empty() || attributes.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
    }

    async fn send(&mut self, req: reqwest::RequestBuilder) -> Page {
        let resp = req
            .header("cookie", self.cookie_header())
            .send()
            .await
            .expect("request sent");
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp.text().await.expect("body");
        self.keep_cookies(&headers);
        Page {
            status,
            headers,
            body,
        }
    }

    async fn get(&mut self, path: &str) -> Page {
        let req = self.client.get(self.app.url(path));
        self.send(req).await
    }

    /// Posts a form as the page would, with this browser's CSRF token first.
    async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let csrf = self.csrf();
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        self.post_raw(path, &all).await
    }

    async fn post_raw(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let body: String = form_body(fields);
        let req = self
            .client
            .post(self.app.url(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        self.send(req).await
    }

    fn csrf(&self) -> String {
        self.cookies
            .get("__Host-csrf")
            .cloned()
            .expect("a page was fetched first")
    }

    /// The API token of the session in the cookie (the same session).
    fn session(&self) -> Option<String> {
        self.cookies.get("__Host-session").cloned()
    }

    /// Signs in and changes the default Password: the browser ends on My Account.
    async fn first_sign_in(&mut self, card: &str, default: &str, new: &str) {
        self.get("/sign-in").await;
        let signed = self
            .post("/sign-in", &[("card_number", card), ("password", default)])
            .await;
        assert_eq!(signed.status, StatusCode::SEE_OTHER);
        assert_eq!(signed.location(), "/password");
        let changed = self
            .post(
                "/password",
                &[
                    ("current_password", default),
                    ("new_password", new),
                    ("confirm_password", new),
                ],
            )
            .await;
        assert_eq!(changed.status, StatusCode::SEE_OTHER, "{}", changed.body);
        assert_eq!(changed.location(), "/account?done=password-changed");
    }
}

fn form_body(fields: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (i, (k, v)) in fields.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(k);
        out.push('=');
        out.extend(url_escape(v));
    }
    out
}

fn url_escape(s: &str) -> impl Iterator<Item = char> + '_ {
    s.bytes().flat_map(|b| {
        let keep = b.is_ascii_alphanumeric() || b"-_.~".contains(&b);
        let text = if keep {
            (b as char).to_string()
        } else {
            format!("%{b:02X}")
        };
        text.chars().collect::<Vec<_>>()
    })
}

#[tokio::test]
async fn pages_carry_the_security_headers_and_a_visitor_is_sent_to_sign_in() {
    on_every_backend(false, async |app| {
        let mut browser = Browser::new(app);
        let home = browser.get("/").await;
        assert_eq!(home.status, StatusCode::SEE_OTHER);
        assert_eq!(home.location(), "/account");
        let account = browser.get("/account").await;
        assert_eq!(account.status, StatusCode::SEE_OTHER);
        assert_eq!(account.location(), "/sign-in?next=%2Faccount");
        let sign_in = browser.get("/sign-in?next=%2Faccount").await;
        assert_eq!(sign_in.status, StatusCode::OK);
        sign_in
            .contains("<html lang=\"en\">")
            .contains("name=\"card_number\"")
            .contains("href=\"/forgot-password\"");
        assert_eq!(sign_in.header("content-type"), "text/html; charset=utf-8");
        assert!(
            sign_in
                .header("content-security-policy")
                .contains("script-src 'self'")
        );
        assert!(
            !sign_in
                .header("content-security-policy")
                .contains("unsafe-inline")
        );
        assert_eq!(sign_in.header("referrer-policy"), "no-referrer");
        assert_eq!(sign_in.header("x-content-type-options"), "nosniff");
        assert_eq!(sign_in.header("cache-control"), "no-store");
        assert!(browser.cookies.contains_key("__Host-csrf"));
        // The language from the browser's Accept-Language until one is chosen.
        let zh = app.raw(reqwest::Method::GET, "/help", None, None).await;
        assert_eq!(zh.status, StatusCode::OK);
        let zh_page = reqwest::Client::new()
            .get(app.url("/help"))
            .header("accept-language", "zh-HK,zh;q=0.9,en;q=0.5")
            .send()
            .await
            .expect("sent")
            .text()
            .await
            .expect("text");
        assert!(zh_page.contains("<html lang=\"zh-Hant\">"), "{zh_page}");
        assert!(zh_page.contains("說明"));
        // Assets under hashed names, cached for a year; anything else is a 404 page.
        let css = sign_in
            .body
            .split("rel=\"stylesheet\" href=\"/static/")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("stylesheet link");
        let asset = browser.get(&format!("/static/{css}")).await;
        assert_eq!(asset.status, StatusCode::OK);
        assert_eq!(
            asset.header("cache-control"),
            "public, max-age=31536000, immutable"
        );
        assert!(asset.header("content-type").starts_with("text/css"));
        let missing = browser.get("/static/site.000000000000.css").await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND);
        let nowhere = browser.get("/no/such/page").await;
        assert_eq!(nowhere.status, StatusCode::NOT_FOUND);
        nowhere.contains("Page not found");
        // The API keeps its JSON answers.
        let api = app.get("/api/v1/no/such/route", None).await;
        assert_eq!(api.status, StatusCode::NOT_FOUND);
        assert_eq!(api.body["code"], "not_found");
        assert_eq!(app.get("/health", None).await.status, StatusCode::OK);
    })
    .await;
}

/// Tried as a new user would: `/login` is the first address typed; it leads to sign in.
#[tokio::test]
async fn the_address_login_leads_to_the_sign_in_page() {
    on_every_backend(false, async |app| {
        let mut browser = Browser::new(app);
        let login = browser.get("/login").await;
        assert_eq!(login.status, StatusCode::SEE_OTHER, "{}", app.db);
        assert_eq!(login.location(), "/sign-in");
        let sign_in = browser.get(login.location()).await;
        assert_eq!(sign_in.status, StatusCode::OK);
        sign_in.contains("name=\"card_number\"");
    })
    .await;
}

#[tokio::test]
async fn a_reader_signs_in_is_made_to_change_the_default_password_and_renews_with_reasons() {
    on_every_backend(true, async |app| {
        let staff = app.counter_on_1_june_2021().await;
        let first = app.title(&staff, "Harbour Lights").await;
        let second = app.title(&staff, "Typhoon Season").await;
        app.item(&staff, first, "W-1", "CEN").await;
        app.item(&staff, second, "W-2", "CEN").await;
        let card = app.reader(&staff, "9123 4567").await;
        let other = app.reader(&staff, "6188 2468").await;
        app.checkout(&staff, &card, "W-1", "CEN")
            .await
            .expect(201, "");
        app.checkout(&staff, &card, "W-2", "CEN")
            .await
            .expect(201, "");
        app.post(
            &format!("/api/v1/patrons/{other}/holds"),
            Some(&staff),
            json!({"title_id": second, "pickup_library": "CEN"}),
        )
        .await
        .expect(201, "");

        let mut browser = Browser::new(app);
        browser.get("/sign-in").await;
        let wrong = browser
            .post("/sign-in", &[("card_number", &card), ("password", "0000")])
            .await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
        wrong.contains("The card number or the Password is not right.");
        assert!(browser.session().is_none());

        let signed = browser
            .post("/sign-in", &[("card_number", &card), ("password", "4567")])
            .await;
        assert_eq!(signed.location(), "/password");
        // The default Password's session may do nothing but change it.
        let account = browser.get("/account").await;
        assert_eq!(account.location(), "/password");
        let page = browser.get("/password").await;
        page.contains("Please choose a new Password")
            .contains("data-rule=\"too_short\"");
        assert!(
            !page.body.contains("<nav"),
            "no navigation during the forced change"
        );
        let mismatch = browser
            .post(
                "/password",
                &[
                    ("current_password", "4567"),
                    ("new_password", "Harbour-View-7"),
                    ("confirm_password", "Harbour-View-8"),
                ],
            )
            .await;
        assert_eq!(mismatch.status, StatusCode::UNPROCESSABLE_ENTITY);
        mismatch.contains("The two new Passwords are not the same.");
        let common = browser
            .post(
                "/password",
                &[
                    ("current_password", "4567"),
                    ("new_password", "password"),
                    ("confirm_password", "password"),
                ],
            )
            .await;
        assert_eq!(common.status, StatusCode::UNPROCESSABLE_ENTITY);
        common
            .contains("The new Password must contain an upper-case letter (A–Z).")
            .contains("The new Password must contain a digit (0–9).")
            .contains("aria-describedby=\"password-rules new_password-errors\"");
        let before = browser.session().expect("session");
        let changed = browser
            .post(
                "/password",
                &[
                    ("current_password", "4567"),
                    ("new_password", "Harbour-View-7"),
                    ("confirm_password", "Harbour-View-7"),
                ],
            )
            .await;
        assert_eq!(changed.location(), "/account?done=password-changed");
        let after = browser.session().expect("a new session");
        assert_ne!(before, after);
        assert_eq!(app.get("/api/v1/me/loans", Some(&before)).await.status, 401);

        let account = browser.get("/account?done=password-changed").await;
        assert_eq!(account.status, StatusCode::OK);
        account
            .contains("Your Password has been changed.")
            .contains("Harbour Lights")
            .contains("Typhoon Season")
            .contains("15 June 2021")
            .contains("5 renewals left")
            .contains("id=\"outstanding-total\">HK$0.00<");

        let renewed = browser.post("/account/renew", &[("renew", "all")]).await;
        assert_eq!(renewed.status, StatusCode::SEE_OTHER);
        let to = renewed.location().to_owned();
        assert!(to.contains("refused="), "{to}");
        assert!(to.contains(".on_hold_for_another"), "{to}");
        let results = browser.get(&to).await;
        results
            .contains("data-outcome=\"renewed\"")
            .contains("Renewed: Harbour Lights.")
            .contains("Not renewed: Typhoon Season. Another reader has reserved this title.")
            .contains("4 renewals left");
        // The same loans through the API: one renewed, one not.
        let loans = app.get("/api/v1/me/loans", Some(&after)).await;
        let renewals: Vec<i64> = loans.body["loans"]
            .as_array()
            .expect("loans")
            .iter()
            .map(|l| l["renewals"].as_i64().expect("renewals"))
            .collect();
        assert_eq!(renewals.iter().sum::<i64>(), 1, "{}", loans.body);

        // Renew one selected loan; nothing ticked is said in words.
        let none = browser
            .post("/account/renew", &[("renew", "selected")])
            .await;
        assert_eq!(none.location(), "/account?done=nothing-selected");
        browser
            .get(none.location())
            .await
            .contains("Tick the loans you want to renew first.");
        let id = loans.body["loans"][0]["id"]
            .as_i64()
            .expect("id")
            .to_string();
        let one = browser
            .post("/account/renew", &[("loan", &id), ("renew", "selected")])
            .await;
        assert!(
            one.location().contains(&format!("renewed={id}")),
            "{}",
            one.location()
        );

        // Signing out ends the session the API sees too.
        let out = browser.post("/sign-out", &[]).await;
        assert_eq!(out.location(), "/sign-in?done=signed-out");
        assert!(browser.session().is_none());
        assert_eq!(app.get("/api/v1/me/loans", Some(&after)).await.status, 401);
    })
    .await;
}

#[tokio::test]
async fn a_form_without_this_browsers_token_changes_nothing() {
    on_every_backend(true, async |app| {
        let staff = app.counter_on_1_june_2021().await;
        let title = app.title(&staff, "Harbour Lights").await;
        app.item(&staff, title, "W-1", "CEN").await;
        let card = app.reader(&staff, "9123 4567").await;
        app.checkout(&staff, &card, "W-1", "CEN")
            .await
            .expect(201, "");
        let mut browser = Browser::new(app);
        browser.first_sign_in(&card, "4567", "Harbour-View-7").await;
        let token = browser.session().expect("session");

        for fields in [
            vec![("renew", "all")],
            vec![
                ("csrf", "forged-token-forged-token-forged-token-forg"),
                ("renew", "all"),
            ],
        ] {
            let refused = browser.post_raw("/account/renew", &fields).await;
            assert_eq!(refused.status, StatusCode::FORBIDDEN);
            refused.contains("nothing was changed");
        }
        let loans = app.get("/api/v1/me/loans", Some(&token)).await;
        assert_eq!(loans.body["loans"][0]["renewals"], 0);
        let out = browser.post_raw("/sign-out", &[("csrf", "x")]).await;
        assert_eq!(out.status, StatusCode::FORBIDDEN);
        assert_eq!(app.get("/api/v1/me/loans", Some(&token)).await.status, 200);
        // A sign-in posted from elsewhere (no token) signs nobody in.
        let mut stranger = Browser::new(app);
        let forged = stranger
            .post_raw(
                "/sign-in",
                &[("card_number", &card), ("password", "Harbour-View-7")],
            )
            .await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN);
        assert!(stranger.session().is_none());
    })
    .await;
}

#[tokio::test]
async fn the_language_chosen_is_kept_in_the_settings_and_comes_back_at_sign_in() {
    on_every_backend(true, async |app| {
        let staff = app.counter_on_1_june_2021().await;
        let card = app.reader(&staff, "9123 4567").await;
        let mut browser = Browser::new(app);
        browser.first_sign_in(&card, "4567", "Harbour-View-7").await;
        let switched = browser
            .post("/language", &[("lang", "zh-Hant"), ("back", "/account")])
            .await;
        assert_eq!(switched.location(), "/account");
        let page = browser.get("/account").await;
        page.contains("<html lang=\"zh-Hant\">")
            .contains("我的帳戶")
            .contains("HK$0.00");
        let token = browser.session().expect("session");
        let settings = app.get("/api/v1/me/settings", Some(&token)).await;
        assert_eq!(settings.body["language"], "zh_hant", "{}", settings.body);
        // A fresh browser: English until the reader signs in, then their language.
        let mut fresh = Browser::new(app);
        fresh.get("/sign-in").await.contains("<html lang=\"en\">");
        let signed = fresh
            .post(
                "/sign-in",
                &[("card_number", &card), ("password", "Harbour-View-7")],
            )
            .await;
        assert_eq!(signed.location(), "/account");
        assert_eq!(
            fresh.cookies.get("__Host-lang").map(String::as_str),
            Some("zh-Hant")
        );
        fresh
            .get("/account")
            .await
            .contains("<html lang=\"zh-Hant\">");
        // A language chosen before signing in is the one kept.
        let mut chooser = Browser::new(app);
        chooser.get("/sign-in").await;
        chooser
            .post("/language", &[("lang", "en"), ("back", "/sign-in")])
            .await;
        let signed = chooser
            .post(
                "/sign-in",
                &[("card_number", &card), ("password", "Harbour-View-7")],
            )
            .await;
        assert_eq!(signed.location(), "/account");
        chooser.get("/account").await.contains("<html lang=\"en\">");
        let token = chooser.session().expect("session");
        let settings = app.get("/api/v1/me/settings", Some(&token)).await;
        assert_eq!(settings.body["language"], "en", "{}", settings.body);
        // Not a language we have: refused, nothing changed.
        let bad = fresh.post("/language", &[("lang", "fr")]).await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST);
        bad.contains("<html lang=\"zh-Hant\">");
    })
    .await;
}

#[tokio::test]
async fn reserve_cancel_register_ask_and_settings_through_the_pages() {
    on_every_backend(true, async |app| {
        let staff = app.counter_on_1_june_2021().await;
        let title = app.title(&staff, "Harbour Lights").await;
        app.item(&staff, title, "W-1", "CEN").await;
        let card = app.reader(&staff, "9123 4567").await;
        let other = app.reader(&staff, "6188 2468").await;
        app.checkout(&staff, &other, "W-1", "CEN")
            .await
            .expect(201, "");
        let mut browser = Browser::new(app);
        browser.first_sign_in(&card, "4567", "Harbour-View-7").await;

        // Search, reserve, see the queue position, cancel.
        let found = browser.get("/catalogue?q=harbour").await;
        found
            .contains("1 title found.")
            .contains(&format!("data-title-id=\"{title}\""))
            .contains("0 of 1 copy available now");
        let at = browser.get("/catalogue?q=harbour&library=CEN").await;
        at.contains("Copies counted at CEN Library.")
            .contains("0 of 1 copy available now")
            .contains("<option value=\"CEN\" selected>");
        let nowhere = browser.get("/catalogue?q=harbour&library=ZZZ").await;
        assert_eq!(nowhere.status, StatusCode::UNPROCESSABLE_ENTITY);
        nowhere.contains("There is no such library.");
        let id = title.to_string();
        let reserved = browser
            .post(
                "/catalogue/reserve",
                &[
                    ("title_id", &id),
                    ("pickup_library", "CEN"),
                    ("q", "harbour"),
                ],
            )
            .await;
        assert_eq!(
            reserved.location(),
            "/account?done=hold-placed#holds-section"
        );
        let account = browser.get("/account?done=hold-placed").await;
        account
            .contains("Your reservation has been placed.")
            .contains("In the queue")
            .contains("data-label=\"Queue position\">1</td>");
        let again = browser
            .post(
                "/catalogue/reserve",
                &[
                    ("title_id", &id),
                    ("pickup_library", "CEN"),
                    ("q", "harbour"),
                ],
            )
            .await;
        assert_eq!(
            again.location(),
            "/catalogue?q=harbour&refused=already_on_hold"
        );
        browser
            .get(again.location())
            .await
            .contains("you have already reserved this title.");
        let hold = account
            .body
            .split("data-hold-id=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .expect("hold id")
            .to_owned();
        let cancelled = browser
            .post(&format!("/account/holds/{hold}/cancel"), &[])
            .await;
        assert_eq!(
            cancelled.location(),
            "/account?done=hold-cancelled#holds-section"
        );
        let twice = browser
            .post(&format!("/account/holds/{hold}/cancel"), &[])
            .await;
        assert_eq!(twice.location(), "/account?done=hold-ended#holds-section");
        let unknown = browser.post("/account/holds/abc/cancel", &[]).await;
        assert_eq!(unknown.status, StatusCode::BAD_REQUEST);

        // Ask a Librarian: a missing subject is said in words; then asked.
        let missing = browser
            .post(
                "/ask",
                &[
                    ("subject", " "),
                    ("message", "When do you open?"),
                    ("library", ""),
                ],
            )
            .await;
        assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
        missing
            .contains("Please give a subject.")
            .contains("When do you open?");
        let asked = browser
            .post(
                "/ask",
                &[
                    ("subject", "Opening hours"),
                    ("message", "When do you open?"),
                    ("library", "CEN"),
                ],
            )
            .await;
        assert_eq!(asked.location(), "/ask?done=enquiry-sent");
        browser
            .get("/ask")
            .await
            .contains("Opening hours")
            .contains("Waiting for an answer.");

        // Settings: an email change needs the Password; a trivial PIN is refused.
        let token = browser.session().expect("session");
        let no_password = browser
            .post(
                "/settings",
                &[
                    ("email", "reader@example.com"),
                    ("sms_number", ""),
                    ("channel", "email"),
                    ("language", "en"),
                    ("keep_reading_history", "on"),
                ],
            )
            .await;
        assert_eq!(no_password.status, StatusCode::UNPROCESSABLE_ENTITY);
        no_password.contains("Enter your Password to change your email.");
        let saved = browser
            .post(
                "/settings",
                &[
                    ("email", "reader@example.com"),
                    ("current_password", "Harbour-View-7"),
                    ("sms_number", "+852 9123 4567"),
                    ("channel", "email"),
                    ("channel", "sms"),
                    ("language", "en"),
                ],
            )
            .await;
        assert_eq!(saved.location(), "/settings?done=settings-saved");
        let settings = app.get("/api/v1/me/settings", Some(&token)).await;
        assert_eq!(settings.body["email"], "reader@example.com");
        assert_eq!(settings.body["keep_reading_history"], false);
        assert_eq!(
            settings.body["notification_channels"],
            json!(["email", "sms"])
        );
        let trivial = browser
            .post(
                "/settings/pin",
                &[("password", "Harbour-View-7"), ("new_pin", "1234")],
            )
            .await;
        assert_eq!(trivial.status, StatusCode::UNPROCESSABLE_ENTITY);
        trivial.contains("This PIN is too easy to guess.");
        let pin = browser
            .post(
                "/settings/pin",
                &[("password", "Harbour-View-7"), ("new_pin", "730591")],
            )
            .await;
        assert_eq!(pin.location(), "/settings?done=pin-changed");
        assert_eq!(app.pin_login(&card, "730591").await.status, 200);
    })
    .await;
}

#[tokio::test]
async fn a_reader_suspends_resumes_and_dates_a_hold_and_reads_staffs_reason() {
    on_every_backend(true, async |app| {
        let staff = app.counter_on_1_june_2021().await;
        let title = app.title(&staff, "Harbour Lights").await;
        app.item(&staff, title, "W-2", "CEN").await;
        let card = app.reader(&staff, "9123 4567").await;
        let other = app.reader(&staff, "6188 2468").await;
        app.checkout(&staff, &other, "W-2", "CEN")
            .await
            .expect(201, "");
        let placed = app
            .post(
                &format!("/api/v1/patrons/{card}/holds"),
                Some(&staff),
                json!({"title_id": title, "pickup_library": "CEN"}),
            )
            .await
            .expect(201, "");
        let hold = placed.body["id"].as_i64().unwrap();
        let mut browser = Browser::new(app);
        browser.first_sign_in(&card, "4567", "Harbour-View-7").await;
        let account = browser.get("/account").await;
        let options = format!("/account/holds/{hold}/options");
        account
            .contains(&format!("action=\"{options}\""))
            .contains("Suspend until")
            .contains("Not needed after");
        let back = |done: &str| format!("/account?done={done}#holds-section");

        // Suspended until 10 June: shown, with a way to resume.
        let suspended = browser
            .post(
                &options,
                &[("action", "suspend"), ("suspended_until", "2021-06-10")],
            )
            .await;
        assert_eq!(suspended.location(), back("hold-suspended"), "{}", app.db);
        browser
            .get("/account?done=hold-suspended")
            .await
            .contains("Your reservation is suspended until the date you chose.")
            .contains("data-label=\"Suspended until\">10 June 2021</td>")
            .contains("value=\"2021-06-10\"")
            .contains("value=\"resume\"");
        // Today, a date that is not one, and a waiting hold are refused in words.
        let today = browser
            .post(
                &options,
                &[("action", "suspend"), ("suspended_until", "2021-06-01")],
            )
            .await;
        assert_eq!(today.location(), back("suspended-until-not-after-today"));
        browser
            .get(today.location())
            .await
            .contains("The suspension must end after today.");
        let garbled = browser
            .post(
                &options,
                &[("action", "suspend"), ("suspended_until", "10/06/2021")],
            )
            .await;
        assert_eq!(garbled.location(), back("hold-date-invalid"));
        let resumed = browser.post(&options, &[("action", "resume")]).await;
        assert_eq!(resumed.location(), back("hold-resumed"));
        browser
            .get("/account")
            .await
            .contains("data-label=\"Suspended until\">—</td>");

        // Not needed after 30 June; an empty date clears it.
        let dated = browser
            .post(
                &options,
                &[
                    ("action", "not-needed-after"),
                    ("not_needed_after", "2021-06-30"),
                ],
            )
            .await;
        assert_eq!(dated.location(), back("hold-not-needed-saved"));
        browser
            .get("/account")
            .await
            .contains("data-label=\"Not needed after\">30 June 2021</td>");
        let past = browser
            .post(
                &options,
                &[
                    ("action", "not-needed-after"),
                    ("not_needed_after", "2021-05-31"),
                ],
            )
            .await;
        assert_eq!(past.location(), back("not-needed-after-in-past"));
        let token = browser.session().expect("session");
        let holds = app.get("/api/v1/me/holds", Some(&token)).await;
        assert_eq!(holds.body["holds"][0]["not_needed_after"], "2021-06-30");
        browser
            .post(
                &options,
                &[("action", "not-needed-after"), ("not_needed_after", "")],
            )
            .await;
        let holds = app.get("/api/v1/me/holds", Some(&token)).await;
        assert_eq!(holds.body["holds"][0]["not_needed_after"], json!(null));
        let unknown = browser
            .post("/account/holds/999999/options", &[("action", "resume")])
            .await;
        assert_eq!(unknown.location(), back("hold-not-found"));

        // Staff cancel with a reason: the page says who and why, in both languages.
        app.post(
            &format!("/api/v1/patrons/{card}/holds/{hold}/cancellation"),
            Some(&staff),
            json!({"reason": "The copy was withdrawn <from stock>"}),
        )
        .await
        .expect(200, "");
        let page = browser.get("/account").await;
        page.contains("Cancelled by the library")
            .contains("Reason: The copy was withdrawn &lt;from stock&gt;");
        assert!(!page.body.contains(&format!("action=\"{options}\"")));
        let ended = browser.post(&options, &[("action", "resume")]).await;
        assert_eq!(ended.location(), back("hold-ended"));
        browser
            .post("/language", &[("lang", "zh-Hant"), ("back", "/account")])
            .await;
        browser
            .get("/account")
            .await
            .contains("由圖書館取消")
            .contains("原因：The copy was withdrawn");
    })
    .await;
}

#[tokio::test]
async fn bad_input_is_answered_with_a_page_never_a_500() {
    on_every_backend(true, async |app| {
        let staff = app.counter_on_1_june_2021().await;
        let card = app.reader(&staff, "9123 4567").await;
        let mut browser = Browser::new(app);
        browser.first_sign_in(&card, "4567", "Harbour-View-7").await;
        let huge = "x".repeat(100 * 1024);
        let too_large = browser
            .post("/ask", &[("subject", "big"), ("message", &huge)])
            .await;
        assert_eq!(too_large.status, StatusCode::PAYLOAD_TOO_LARGE);
        too_large.contains("The form sent was too large.");
        let long_query = format!("/catalogue?q={}", "a".repeat(1000));
        let long = browser.get(&long_query).await;
        assert_eq!(long.status, StatusCode::UNPROCESSABLE_ENTITY);
        long.contains("The search is too long.");
        let page = browser.get("/catalogue?q=harbour&page=-3").await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        let reserve = browser
            .post(
                "/catalogue/reserve",
                &[("title_id", "99999999"), ("pickup_library", "??")],
            )
            .await;
        assert_eq!(reserve.location(), "/catalogue?q=&refused=unknown_library");
        let reserve = browser
            .post(
                "/catalogue/reserve",
                &[("title_id", "99999999"), ("pickup_library", "CEN")],
            )
            .await;
        assert_eq!(reserve.location(), "/catalogue?q=&refused=title_not_found");
        let control = browser
            .post("/ask", &[("subject", "bell\u{7}"), ("message", "hello")])
            .await;
        assert_eq!(control.status, StatusCode::UNPROCESSABLE_ENTITY);
        let register = browser.post("/info/activities/987654/register", &[]).await;
        assert_eq!(register.location(), "/info?refused=not_found");
        let wrong_method = browser.get("/account/renew").await;
        assert_eq!(wrong_method.status, StatusCode::METHOD_NOT_ALLOWED);
        let next = browser.get("/sign-in?next=//evil.example/").await;
        assert_eq!(next.location(), "/account");
        for path in [
            "/info",
            "/settings",
            "/ask",
            "/libraries",
            "/help",
            "/account/history",
            "/catalogue",
            "/forgot-password",
        ] {
            let page = browser.get(path).await;
            assert_eq!(page.status, StatusCode::OK, "{path}");
        }
    })
    .await;
}

#[tokio::test]
async fn a_reader_reports_a_loan_lost_after_being_told_what_it_costs() {
    on_every_backend(true, async |app| {
        let staff = app.counter_on_1_june_2021().await;
        let title = app.title(&staff, "Misplaced Atlas").await;
        app.post(
            "/api/v1/catalog/items",
            Some(&staff),
            json!({"title_id": title, "barcode": "LOST-1", "item_type": "adult_book",
                   "home_library": "CEN", "replacement_cost_cents": 20000}),
        )
        .await
        .expect(201, "");
        let card = app.reader(&staff, "9123 4567").await;
        let loan = app
            .checkout(&staff, &card, "LOST-1", "CEN")
            .await
            .expect(201, "")
            .body["loan_id"]
            .as_i64()
            .unwrap();
        let mut browser = Browser::new(app);
        browser.first_sign_in(&card, "4567", "Harbour-View-7").await;
        let ask = format!("/account/loans/{loan}/lost");
        browser
            .get("/account")
            .await
            .contains(&format!("href=\"{ask}\""))
            .contains("Report lost");
        // Asked first, with what it costs; nothing charged by looking.
        browser
            .get(&ask)
            .await
            .contains("Report a lost item")
            .contains("Misplaced Atlas (barcode LOST-1)")
            .contains("a processing fee of 20%")
            .contains(&format!("action=\"{ask}\""));
        let fines = app
            .get(&format!("/api/v1/patrons/{card}/fines"), Some(&staff))
            .await
            .expect(200, "");
        assert_eq!(fines.body["fines"], json!([]));
        let reported = browser.post(&ask, &[]).await;
        assert_eq!(
            reported.location(),
            "/account?done=loan-reported-lost",
            "{}",
            app.db
        );
        browser
            .get("/account?done=loan-reported-lost")
            .await
            .contains("The item is reported lost.")
            .contains("Replacement of a lost item (LOST-1)")
            .contains("Processing fee for a lost item (LOST-1)")
            .contains("HK$240.00");
        // Once only.
        let again = browser.post(&ask, &[]).await;
        assert_eq!(again.location(), "/account?done=loan-not-found");
        let gone = browser.get(&ask).await;
        assert_eq!(
            gone.location(),
            "/account?done=loan-not-found#loans-section"
        );
    })
    .await;
}
