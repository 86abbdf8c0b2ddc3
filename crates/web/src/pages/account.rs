//! My Account: loans (renew selected or all), holds (cancel, suspend until a date or
//! resume, "not needed after"), charges and the total owed, and the reading history.

use library_app::RenewalResult;
use library_circulation::ports::CirculationChannel;
use library_circulation::service::{
    CancelHoldError, CancelHoldRequest, ChangeHoldError, ChangeHoldRequest, DeclareLostError,
    DeclareLostRequest,
};
use library_circulation::{CancelledBy, HoldStatus};
use library_core::{HoldId, LoanId};
use library_fines::{ChargeKind, ChargeStatus};
use maud::html;
use poem::web::Path;
use poem::{Body, Request, Response, handler};

use super::{
    Col::{Hidden, Shown},
    library_names, name_of, reader_page, reader_post, reason, table, unavailable,
};
use crate::ctx::{FormData, query};
use crate::i18n::{Lang, money_text};
use crate::layout::{csrf_field, flash, ok};

fn hold_status_key(status: HoldStatus) -> &'static str {
    match status {
        HoldStatus::Queued => "hold-status-queued",
        HoldStatus::Waiting => "hold-status-waiting",
        HoldStatus::Collected => "hold-status-collected",
        HoldStatus::Expired => "hold-status-expired",
        HoldStatus::Cancelled => "hold-status-cancelled",
    }
}

/// The renewal results carried by the redirect: `renewed=1,2&refused=3.on_hold_for_another`.
fn renewal_results(q: &FormData) -> Vec<(i64, Result<(), String>)> {
    let mut out = Vec::new();
    for id in q.text("renewed").split(',').filter_map(|s| s.parse().ok()) {
        out.push((id, Ok(())));
    }
    for pair in q.text("refused").split(',') {
        if let Some((id, code)) = pair.split_once('.')
            && let Ok(id) = id.parse()
            && code.len() <= 40
            && code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
        {
            out.push((id, Err(code.to_owned())));
        }
    }
    out
}

/// `GET /account`.
#[handler]
pub(crate) async fn account(req: &Request) -> poem::Result<Response> {
    let (ctx, reader) = match reader_page(req).await? {
        Ok(opened) => opened,
        Err(answer) => return Ok(answer),
    };
    let lang = ctx.lang;
    let services = &ctx.services;
    let profile = services
        .readers
        .profile(reader.patron)
        .await
        .map_err(unavailable)?;
    let loans = services
        .loans_of(reader.patron)
        .await
        .map_err(unavailable)?;
    let holds = services
        .holds_of(reader.patron)
        .await
        .map_err(unavailable)?;
    let outstanding = services
        .circulation
        .account(reader.patron)
        .await
        .map_err(unavailable)?
        .map_or(0, |a| a.outstanding.cents());
    let ledger = services
        .accounts
        .ledger(reader.patron)
        .await
        .map_err(unavailable)?;
    let barcodes = services
        .accounts
        .loan_barcodes(reader.patron)
        .await
        .map_err(unavailable)?;
    let names = library_names(&ctx).await?;
    let q = query(req);
    let results = renewal_results(&q);
    let title_of = |id: i64| {
        loans
            .iter()
            .find(|l| l.status.loan.id.get() == id)
            .map_or_else(String::new, |l| l.title.clone())
    };
    let zone = library_core::DEFAULT_LIBRARY_OFFSET;
    let main = html! {
        h1 { (lang.t("account-title")) }
        (flash(&ctx, q.get("done")))
        @if let Some(p) = &profile {
            p .who {
                (lang.ta("account-greeting", &[("name", p.name.clone().into())]))
                " · " (lang.t("field-card-number")) " " (p.card_number.as_str())
                @if let Some(exp) = p.card_expires_on {
                    " · " (lang.ta("account-card-expires", &[("date", lang.date(exp).into())]))
                }
            }
            @if let Some(until) = p.suspended_until {
                p .notice role="status" {
                    (lang.ta("account-suspended", &[("date", lang.date(until).into())]))
                }
            }
        }
        @if !results.is_empty() {
            section #renewal-results aria-labelledby="renewal-results-title" {
                h2 #renewal-results-title { (lang.t("renew-results-title")) }
                ul {
                    @for (id, result) in &results {
                        @match result {
                            Ok(()) => li data-loan-id=(id) data-outcome="renewed" .ok {
                                (lang.ta("renew-done", &[("title", title_of(*id).into())]))
                            },
                            Err(code) => li data-loan-id=(id) data-outcome="refused" .refused {
                                (lang.ta("renew-refused", &[("title", title_of(*id).into()), ("reason", reason(lang, "renewal-refused", code).into())]))
                            },
                        }
                    }
                }
            }
        }
        section #loans-section aria-labelledby="loans-title" {
            h2 #loans-title { (lang.t("loans-title")) }
            @if loans.is_empty() {
                p { (lang.t("loans-none")) }
            } @else {
                form #renew method="post" action="/account/renew" {
                    (csrf_field(&ctx))
                    (table(lang, "loans", "loans-title", &[Hidden("loans-select"), Shown("col-title"), Shown("col-due"), Shown("col-renewals-left"), Shown("col-fine"), Shown("col-library")], html! {
                        @for line in &loans {
                            @let s = &line.status;
                            @let id = s.loan.id.get();
                            tr data-loan-id=(id) .overdue[s.accrued.overdue_days > 0] {
                                td {
                                    input type="checkbox" name="loan" value=(id)
                                        id={"loan-" (id)}
                                        aria-label=(lang.ta("loans-select-one", &[("title", line.title.clone().into())]));
                                }
                                td data-label=(lang.t("col-title")) {
                                    label for={"loan-" (id)} { (line.title) } br;
                                    small .muted { (s.item.barcode.as_str()) }
                                    " · "
                                    small { a .report-lost href={"/account/loans/" (id) "/lost"} { (lang.t("loan-report-lost")) } }
                                }
                                td .due .nowrap data-label=(lang.t("col-due")) { (lang.date(s.loan.due.on)) }
                                td .renewals-left data-label=(lang.t("col-renewals-left")) { (lang.ta("renewals-left", &[("count", s.renewals_left.into())])) }
                                td .fine data-label=(lang.t("col-fine")) {
                                    @if s.accrued.overdue_days > 0 {
                                        (lang.ta("loan-overdue", &[("days", s.accrued.overdue_days.into()), ("amount", lang.money(s.accrued.fine).into())]))
                                    } @else { "—" }
                                }
                                td data-label=(lang.t("col-library")) { (name_of(&names, s.loan.library.as_str())) }
                            }
                        }
                    }))
                    div .actions {
                        button type="submit" name="renew" value="selected" { (lang.t("renew-selected")) }
                        button type="submit" name="renew" value="all" { (lang.t("renew-all")) }
                    }
                }
            }
        }
        section #holds-section aria-labelledby="holds-title" {
            h2 #holds-title { (lang.t("holds-title")) }
            @if holds.is_empty() {
                p { (lang.t("holds-none")) " " a href="/catalogue" { (lang.t("holds-find")) } }
            } @else {
                (table(lang, "holds", "holds-title", &[Shown("col-title"), Shown("col-status"), Shown("col-position"), Shown("col-pickup"), Shown("col-pickup-by"), Shown("col-suspended-until"), Shown("col-not-needed-after"), Hidden("col-action")], html! {
                    @for line in &holds {
                        @let h = &line.hold;
                        @let status = h.status();
                        @let id = h.id.get();
                        tr data-hold-id=(id) data-status=(hold_status_key(status)) {
                            td data-label=(lang.t("col-title")) { (line.title) }
                            td data-label=(lang.t("col-status")) {
                                (lang.t(hold_status_key(status)))
                                @if let Some((by, reason)) = h.cancellation() {
                                    br;
                                    small .cancelled-by { (lang.t(match by {
                                        CancelledBy::Reader => "hold-cancelled-by-reader",
                                        CancelledBy::Staff => "hold-cancelled-by-staff",
                                    })) }
                                    @if let Some(reason) = reason {
                                        br;
                                        small .cancel-reason { (lang.ta("hold-cancel-reason", &[("reason", reason.as_str().to_owned().into())])) }
                                    }
                                }
                            }
                            td .position data-label=(lang.t("col-position")) { @if let Some(p) = h.position() { (p) } @else { "—" } }
                            td data-label=(lang.t("col-pickup")) { (name_of(&names, h.pickup_library.as_str())) }
                            td .nowrap data-label=(lang.t("col-pickup-by")) { @if let Some(d) = h.pickup_by() { (lang.date(d)) } @else { "—" } }
                            td .nowrap .suspended-until data-label=(lang.t("col-suspended-until")) { @if let Some(d) = h.suspended_until { (lang.date(d)) } @else { "—" } }
                            td .nowrap .not-needed-after data-label=(lang.t("col-not-needed-after")) { @if let Some(d) = h.not_needed_after { (lang.date(d)) } @else { "—" } }
                            td {
                                @if status == HoldStatus::Queued {
                                    form .hold-options method="post" action={"/account/holds/" (id) "/options"} {
                                        (csrf_field(&ctx))
                                        div .hold-option {
                                            label for={"suspend-" (id)} { (lang.t("hold-suspend-until")) }
                                            input type="date" name="suspended_until" id={"suspend-" (id)}
                                                value=(h.suspended_until.map(|d| d.to_string()).unwrap_or_default());
                                            button type="submit" name="action" value="suspend" .secondary
                                                aria-label=(lang.ta("hold-suspend-one", &[("title", line.title.clone().into())])) {
                                                (lang.t("hold-suspend"))
                                            }
                                            @if h.suspended_until.is_some() {
                                                button type="submit" name="action" value="resume" .secondary
                                                    aria-label=(lang.ta("hold-resume-one", &[("title", line.title.clone().into())])) {
                                                    (lang.t("hold-resume"))
                                                }
                                            }
                                        }
                                        div .hold-option {
                                            label for={"not-needed-" (id)} { (lang.t("hold-not-needed-after")) }
                                            input type="date" name="not_needed_after" id={"not-needed-" (id)}
                                                value=(h.not_needed_after.map(|d| d.to_string()).unwrap_or_default());
                                            button type="submit" name="action" value="not-needed-after" .secondary
                                                aria-label=(lang.ta("hold-not-needed-save-one", &[("title", line.title.clone().into())])) {
                                                (lang.t("hold-not-needed-save"))
                                            }
                                        }
                                    }
                                }
                                @if matches!(status, HoldStatus::Queued | HoldStatus::Waiting) {
                                    form .cancel-hold method="post" action={"/account/holds/" (h.id.get()) "/cancel"} {
                                        (csrf_field(&ctx))
                                        button type="submit" .secondary
                                            aria-label=(lang.ta("hold-cancel-one", &[("title", line.title.clone().into())])) {
                                            (lang.t("hold-cancel"))
                                        }
                                    }
                                }
                            }
                        }
                    }
                }))
            }
        }
        section #charges aria-labelledby="charges-title" {
            h2 #charges-title { (lang.t("charges-title")) }
            p .total { (lang.t("charges-outstanding")) " " strong #outstanding-total { (money_text(outstanding)) } }
            p .hint { (lang.t("charges-hint")) }
            @if !ledger.charges().is_empty() {
                (table(lang, "charge-lines", "charges-title", &[Shown("col-date"), Shown("col-reason"), Shown("col-amount"), Shown("col-outstanding"), Shown("col-status")], html! {
                    @for c in ledger.charges() {
                        tr data-charge-id=(c.id.0) {
                            td .nowrap data-label=(lang.t("col-date")) { (lang.date(c.charged_on)) }
                            td data-label=(lang.t("col-reason")) { (charge_reason(lang, &c.kind, &barcodes)) }
                            td data-label=(lang.t("col-amount")) { (lang.money(c.amount)) }
                            td data-label=(lang.t("col-outstanding")) { (lang.money(c.outstanding())) }
                            td data-label=(lang.t("col-status")) { (lang.t(match c.status() {
                                ChargeStatus::Outstanding => "charge-outstanding",
                                ChargeStatus::Paid => "charge-paid",
                                ChargeStatus::Waived => "charge-waived",
                            })) }
                        }
                    }
                }))
            }
        }
        p { a href="/account/history" { (lang.t("history-link")) } }
        p .muted { (lang.ta("account-as-of", &[("at", lang.date_time(ctx.services.clock.now(), zone).into())])) }
    };
    let title = lang.t("account-title");
    Ok(ok(ctx, &title, main))
}

fn charge_reason(
    lang: Lang,
    kind: &ChargeKind,
    barcodes: &[(LoanId, library_core::Barcode)],
) -> String {
    match kind {
        ChargeKind::OverdueFine {
            loan,
            chargeable_days,
        } => {
            let item = barcodes
                .iter()
                .find(|(id, _)| id == loan)
                .map_or_else(String::new, |(_, b)| b.as_str().to_owned());
            lang.ta(
                "charge-overdue",
                &[("days", (*chargeable_days).into()), ("item", item.into())],
            )
        }
        ChargeKind::HoldFee { .. } => lang.t("charge-hold-fee"),
        ChargeKind::LostItem { loan } | ChargeKind::LostProcessing { loan } => {
            let item = barcodes
                .iter()
                .find(|(id, _)| id == loan)
                .map_or_else(String::new, |(_, b)| b.as_str().to_owned());
            let key = if matches!(kind, ChargeKind::LostItem { .. }) {
                "charge-lost-item"
            } else {
                "charge-lost-processing"
            };
            lang.ta(key, &[("item", item.into())])
        }
        ChargeKind::Other { description } => description.clone(),
    }
}

/// `POST /account/renew`: the loans ticked (`renew=selected`) or all (`renew=all`), each
/// its own renewal; back to the account with each result.
#[handler]
pub(crate) async fn renew(req: &Request, body: Body) -> poem::Result<Response> {
    let (ctx, reader, form) = match reader_post(req, body).await? {
        Ok(posted) => posted,
        Err(answer) => return Ok(answer),
    };
    let ids: Vec<LoanId> = form
        .all("loan")
        .iter()
        .filter_map(|s| s.parse().ok())
        .map(LoanId)
        .collect();
    let which = if form.get("renew") == Some("all") {
        None
    } else if ids.is_empty() {
        return Ok(ctx.redirect("/account?done=nothing-selected"));
    } else {
        Some(ids.as_slice())
    };
    let results = ctx
        .services
        .renew_loans(reader.patron, which, CirculationChannel::Online)
        .await
        .map_err(unavailable)?;
    let mut renewed = Vec::new();
    let mut refused = Vec::new();
    for done in results {
        let id = done.loan.get();
        match done.result {
            RenewalResult::Renewed(_) => renewed.push(id.to_string()),
            RenewalResult::Refused(why) => refused.push(format!("{id}.{}", why.code())),
            RenewalResult::NotFound => refused.push(format!("{id}.not_found")),
        }
    }
    if renewed.is_empty() && refused.is_empty() {
        return Ok(ctx.redirect("/account?done=nothing-to-renew"));
    }
    Ok(ctx.redirect(&format!(
        "/account?renewed={}&refused={}#renewal-results",
        renewed.join(","),
        refused.join(",")
    )))
}

/// `POST /account/holds/{id}/cancel`.
#[handler]
pub(crate) async fn cancel_hold(
    req: &Request,
    Path(id): Path<i64>,
    body: Body,
) -> poem::Result<Response> {
    let (ctx, reader, _form) = match reader_post(req, body).await? {
        Ok(posted) => posted,
        Err(answer) => return Ok(answer),
    };
    let result = ctx
        .services
        .circulation
        .cancel_hold(
            CancelHoldRequest {
                hold: HoldId(id),
                patron: Some(reader.patron),
                reason: None,
            },
            None,
        )
        .await;
    let done = match result {
        Ok(_) => "hold-cancelled",
        Err(CancelHoldError::Infrastructure(e)) => return Err(unavailable(e)),
        Err(CancelHoldError::HoldNotFound) => "hold-not-found",
        Err(CancelHoldError::NotActive) => "hold-ended",
    };
    Ok(ctx.redirect(&format!("/account?done={done}#holds-section")))
}

/// A date from a form's date field (`YYYY-MM-DD`); `None` if it is not one.
fn form_date(text: &str) -> Option<time::Date> {
    let mut parts = text.trim().splitn(3, '-');
    let year = parts.next()?.parse().ok()?;
    let month: u8 = parts.next()?.parse().ok()?;
    let day = parts.next()?.parse().ok()?;
    time::Date::from_calendar_date(year, time::Month::try_from(month).ok()?, day).ok()
}

/// `POST /account/holds/{id}/options`: `action=suspend` with `suspended_until`,
/// `action=resume`, or `action=not-needed-after` with `not_needed_after` (empty clears it);
/// back to the account with what happened, or why not.
#[handler]
pub(crate) async fn hold_options(
    req: &Request,
    Path(id): Path<i64>,
    body: Body,
) -> poem::Result<Response> {
    let (ctx, reader, form) = match reader_post(req, body).await? {
        Ok(posted) => posted,
        Err(answer) => return Ok(answer),
    };
    let back = |done: &str| format!("/account?done={done}#holds-section");
    let (suspended_until, not_needed_after, done) = match form.get("action") {
        Some("suspend") => match form_date(form.text("suspended_until")) {
            Some(date) => (Some(Some(date)), None, "hold-suspended"),
            None => return Ok(ctx.redirect(&back("hold-date-invalid"))),
        },
        Some("resume") => (Some(None), None, "hold-resumed"),
        Some("not-needed-after") => match form.text("not_needed_after").trim() {
            "" => (None, Some(None), "hold-not-needed-saved"),
            text => match form_date(text) {
                Some(date) => (None, Some(Some(date)), "hold-not-needed-saved"),
                None => return Ok(ctx.redirect(&back("hold-date-invalid"))),
            },
        },
        _ => return Ok(ctx.redirect(&back("hold-date-invalid"))),
    };
    let result = ctx
        .services
        .circulation
        .change_hold(
            ChangeHoldRequest {
                hold: HoldId(id),
                patron: Some(reader.patron),
                suspended_until,
                not_needed_after,
            },
            None,
        )
        .await;
    let done = match result {
        Ok(_) => done.to_owned(),
        Err(ChangeHoldError::Infrastructure(e)) => return Err(unavailable(e)),
        Err(ChangeHoldError::HoldNotFound) => "hold-not-found".to_owned(),
        Err(ChangeHoldError::NotActive) => "hold-ended".to_owned(),
        Err(ChangeHoldError::Invalid(v)) => v.first().map_or("hold-date-invalid".to_owned(), |v| {
            v.code().replace('_', "-")
        }),
    };
    Ok(ctx.redirect(&back(&done)))
}

/// `GET /account/history`: the reading history (returned loans, while it is kept).
#[handler]
pub(crate) async fn history(req: &Request) -> poem::Result<Response> {
    let (ctx, reader) = match reader_page(req).await? {
        Ok(opened) => opened,
        Err(answer) => return Ok(answer),
    };
    let lang = ctx.lang;
    let (kept, loans) = ctx
        .services
        .reader_services
        .settings
        .reading_history(reader.patron)
        .await
        .map_err(unavailable)?;
    let names = library_names(&ctx).await?;
    let zone = library_core::DEFAULT_LIBRARY_OFFSET;
    let main = html! {
        h1 { (lang.t("history-title")) }
        @if !kept.keep {
            p .notice role="status" { (lang.t("history-off")) " " a href="/settings" { (lang.t("nav-settings")) } }
        } @else if let Some(since) = kept.kept_since {
            p .muted { (lang.ta("history-since", &[("date", lang.date(since.to_offset(zone).date()).into())])) }
        }
        @if loans.is_empty() {
            p { (lang.t("history-none")) }
        } @else {
            (table(lang, "history", "history-title", &[Shown("col-title"), Shown("col-borrowed"), Shown("col-returned"), Shown("col-library")], html! {
                @for l in &loans {
                    tr data-loan-id=(l.loan.get()) {
                        td data-label=(lang.t("col-title")) { (l.title) br; small .muted { (l.item_barcode.as_str()) } }
                        td .nowrap data-label=(lang.t("col-borrowed")) { (lang.date(l.borrowed_at.to_offset(zone).date())) }
                        td .nowrap data-label=(lang.t("col-returned")) { (lang.date(l.returned_at.to_offset(zone).date())) }
                        td data-label=(lang.t("col-library")) { (name_of(&names, l.library.as_str())) }
                    }
                }
            }))
        }
        p { a href="/account" { (lang.t("back-to-account")) } }
    };
    let title = lang.t("history-title");
    Ok(ok(ctx, &title, main))
}

/// `GET /account/loans/{id}/lost`: what reporting a loan lost means, asked before it is
/// done (it charges the reader).
#[handler]
pub(crate) async fn lost_page(req: &Request, Path(id): Path<i64>) -> poem::Result<Response> {
    let (ctx, reader) = match reader_page(req).await? {
        Ok(opened) => opened,
        Err(answer) => return Ok(answer),
    };
    let lang = ctx.lang;
    let loans = ctx
        .services
        .loans_of(reader.patron)
        .await
        .map_err(unavailable)?;
    let Some(line) = loans.into_iter().find(|l| l.status.loan.id.get() == id) else {
        return Ok(ctx.redirect("/account?done=loan-not-found#loans-section"));
    };
    let main = html! {
        h1 { (lang.t("lost-title")) }
        p { (lang.ta("lost-item", &[("title", line.title.clone().into()), ("barcode", line.status.item.barcode.as_str().to_owned().into())])) }
        p #lost-explained { (lang.t("lost-explained")) }
        form #report-lost method="post" action={"/account/loans/" (id) "/lost"} {
            (csrf_field(&ctx))
            div .actions {
                button type="submit" { (lang.t("lost-confirm")) }
                " "
                a href="/account#loans-section" { (lang.t("lost-cancel")) }
            }
        }
    };
    let title = lang.t("lost-title");
    Ok(ok(ctx, &title, main))
}

/// `POST /account/loans/{id}/lost`: the reader's report of a loss (the application
/// layer's declaration, as at the counter); back to the account with what it charged.
#[handler]
pub(crate) async fn report_lost(
    req: &Request,
    Path(id): Path<i64>,
    body: Body,
) -> poem::Result<Response> {
    let (ctx, reader, _form) = match reader_post(req, body).await? {
        Ok(posted) => posted,
        Err(answer) => return Ok(answer),
    };
    let result = ctx
        .services
        .circulation
        .declare_lost(
            DeclareLostRequest {
                loan: LoanId(id),
                patron: Some(reader.patron),
            },
            None,
        )
        .await;
    let done = match result {
        Ok(_) => "loan-reported-lost",
        Err(DeclareLostError::LoanNotFound) => "loan-not-found",
        Err(DeclareLostError::Infrastructure(e)) => return Err(unavailable(e)),
    };
    Ok(ctx.redirect(&format!("/account?done={done}")))
}
