//! proptest strategies for every message.

use library_sip2::*;
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use time::{Date, Month, PrimitiveDateTime, Time};

/// A value that survives the wire: no `|`, no control characters, within the 255 limit.
pub fn text() -> impl Strategy<Value = String> {
    "[^|\\x00-\\x1F\\x7F-\\x9F]{0,12}"
}

pub fn opt_text() -> impl Strategy<Value = Option<String>> {
    option::of(text())
}

pub fn texts() -> impl Strategy<Value = Vec<String>> {
    vec(text(), 0..3)
}

pub fn fixed<const N: usize>() -> impl Strategy<Value = FixedStr<N>> {
    vec(0x20u8..=0x7E, N).prop_map(|b| FixedStr::new(std::str::from_utf8(&b).unwrap()).unwrap())
}

pub fn digits<const N: usize>() -> impl Strategy<Value = FixedStr<N>> {
    vec(b'0'..=b'9', N).prop_map(|b| FixedStr::new(std::str::from_utf8(&b).unwrap()).unwrap())
}

pub fn sip_date() -> impl Strategy<Value = SipDate> {
    let zone = prop_oneof![
        Just(SipZone::Local),
        Just(SipZone::Utc),
        (1i8..=12).prop_map(SipZone::Military),
        (-12i8..=-1).prop_map(SipZone::Military),
    ];
    (
        0i32..=9999,
        1u8..=12,
        1u8..=28,
        0u8..24,
        0u8..60,
        0u8..60,
        zone,
    )
        .prop_map(|(y, mo, d, h, mi, s, zone)| SipDate {
            datetime: PrimitiveDateTime::new(
                Date::from_calendar_date(y, Month::try_from(mo).unwrap(), d).unwrap(),
                Time::from_hms(h, mi, s).unwrap(),
            ),
            zone,
        })
}

pub fn opt_date() -> impl Strategy<Value = Option<SipDate>> {
    option::of(sip_date())
}

pub fn opt_flag() -> impl Strategy<Value = Option<bool>> {
    option::of(any::<bool>())
}

pub fn ynu() -> impl Strategy<Value = YesNoUnknown> {
    prop_oneof![
        Just(YesNoUnknown::Yes),
        Just(YesNoUnknown::No),
        Just(YesNoUnknown::Unknown)
    ]
}

pub fn patron_status() -> impl Strategy<Value = PatronStatus> {
    use PatronCondition::*;
    let all = [
        ChargePrivilegesDenied,
        RenewalPrivilegesDenied,
        RecallPrivilegesDenied,
        HoldPrivilegesDenied,
        CardReportedLost,
        TooManyItemsCharged,
        TooManyItemsOverdue,
        TooManyRenewals,
        TooManyClaimsOfItemsReturned,
        TooManyItemsLost,
        ExcessiveOutstandingFines,
        ExcessiveOutstandingFees,
        RecallOverdue,
        TooManyItemsBilled,
    ];
    vec(any::<bool>(), 14).prop_map(move |bits| {
        all.iter()
            .zip(bits)
            .filter(|(_, on)| *on)
            .fold(PatronStatus::GOOD_STANDING, |s, (c, _)| s.with(*c))
    })
}

pub fn summary() -> impl Strategy<Value = Option<SummaryItem>> {
    option::of(prop_oneof![
        Just(SummaryItem::HoldItems),
        Just(SummaryItem::OverdueItems),
        Just(SummaryItem::ChargedItems),
        Just(SummaryItem::FineItems),
        Just(SummaryItem::RecallItems),
        Just(SummaryItem::UnavailableHolds),
    ])
}

pub fn count() -> impl Strategy<Value = Option<u16>> {
    option::of(0u16..=9999)
}

pub fn login() -> impl Strategy<Value = Request> {
    (fixed(), fixed(), text(), text(), opt_text()).prop_map(|(u, p, cn, co, cp)| {
        Request::Login(LoginRequest {
            uid_algorithm: u,
            pwd_algorithm: p,
            login_user_id: cn,
            login_password: co,
            location_code: cp,
        })
    })
}

pub fn sc_status() -> impl Strategy<Value = Request> {
    // The last fixed field ends the message: digits, so it cannot look like a trailer.
    (fixed(), fixed(), digits()).prop_map(|(s, w, v)| {
        Request::ScStatus(ScStatusRequest {
            status_code: s,
            max_print_width: w,
            protocol_version: v,
        })
    })
}

pub fn patron_status_request() -> impl Strategy<Value = Request> {
    (fixed(), opt_date(), text(), text(), text(), text()).prop_map(|(l, d, ao, aa, ac, ad)| {
        Request::PatronStatus(PatronStatusRequest {
            language: l,
            transaction_date: d,
            institution_id: ao,
            patron_identifier: aa,
            terminal_password: ac,
            patron_password: ad,
        })
    })
}

pub fn patron_information_request() -> impl Strategy<Value = Request> {
    (
        fixed(),
        opt_date(),
        summary(),
        text(),
        text(),
        opt_text(),
        opt_text(),
        opt_text(),
        opt_text(),
    )
        .prop_map(|(l, d, s, ao, aa, ac, ad, bp, bq)| {
            Request::PatronInformation(PatronInformationRequest {
                language: l,
                transaction_date: d,
                summary: s,
                institution_id: ao,
                patron_identifier: aa,
                terminal_password: ac,
                patron_password: ad,
                start_item: bp,
                end_item: bq,
            })
        })
}

pub fn checkout_request() -> impl Strategy<Value = Request> {
    (
        (any::<bool>(), any::<bool>(), opt_date(), opt_date()),
        (text(), text(), text(), text()),
        (opt_text(), opt_text(), opt_flag(), opt_flag()),
    )
        .prop_map(|((r, nb, d, due), (ao, aa, ab, ac), (ch, ad, bo, bi))| {
            Request::Checkout(CheckoutRequest {
                sc_renewal_policy: r,
                no_block: nb,
                transaction_date: d,
                nb_due_date: due,
                institution_id: ao,
                patron_identifier: aa,
                item_identifier: ab,
                terminal_password: ac,
                item_properties: ch,
                patron_password: ad,
                fee_acknowledged: bo,
                cancel: bi,
            })
        })
}

pub fn checkin_request() -> impl Strategy<Value = Request> {
    (
        (any::<bool>(), opt_date(), opt_date()),
        (text(), text(), text(), text()),
        (opt_text(), opt_flag()),
    )
        .prop_map(|((nb, d, ret), (ap, ao, ab, ac), (ch, bi))| {
            Request::Checkin(CheckinRequest {
                no_block: nb,
                transaction_date: d,
                return_date: ret,
                current_location: ap,
                institution_id: ao,
                item_identifier: ab,
                terminal_password: ac,
                item_properties: ch,
                cancel: bi,
            })
        })
}

pub fn renew_request() -> impl Strategy<Value = Request> {
    (
        (any::<bool>(), any::<bool>(), opt_date(), opt_date()),
        (text(), text(), opt_text(), opt_text()),
        (opt_text(), opt_text(), opt_text(), opt_flag()),
    )
        .prop_map(|((tp, nb, d, due), (ao, aa, ad, ab), (aj, ac, ch, bo))| {
            Request::Renew(RenewRequest {
                third_party_allowed: tp,
                no_block: nb,
                transaction_date: d,
                nb_due_date: due,
                institution_id: ao,
                patron_identifier: aa,
                patron_password: ad,
                item_identifier: ab,
                title_identifier: aj,
                terminal_password: ac,
                item_properties: ch,
                fee_acknowledged: bo,
            })
        })
}

pub fn renew_all_request() -> impl Strategy<Value = Request> {
    (
        opt_date(),
        text(),
        text(),
        opt_text(),
        opt_text(),
        opt_flag(),
    )
        .prop_map(|(d, ao, aa, ad, ac, bo)| {
            Request::RenewAll(RenewAllRequest {
                transaction_date: d,
                institution_id: ao,
                patron_identifier: aa,
                patron_password: ad,
                terminal_password: ac,
                fee_acknowledged: bo,
            })
        })
}

pub fn hold_request() -> impl Strategy<Value = Request> {
    let mode = prop_oneof![
        Just(HoldMode::Add),
        Just(HoldMode::Delete),
        Just(HoldMode::Change)
    ];
    (
        (mode, opt_date(), opt_text(), opt_text(), opt_text()),
        (text(), text(), opt_text(), opt_text(), opt_text()),
        (opt_text(), opt_flag()),
    )
        .prop_map(|((m, d, bw, bs, by), (ao, aa, ad, ab, aj), (ac, bo))| {
            Request::Hold(HoldRequest {
                hold_mode: m,
                transaction_date: d,
                expiration_date: bw,
                pickup_location: bs,
                hold_type: by,
                institution_id: ao,
                patron_identifier: aa,
                patron_password: ad,
                item_identifier: ab,
                title_identifier: aj,
                terminal_password: ac,
                fee_acknowledged: bo,
            })
        })
}

pub fn end_patron_session_request() -> impl Strategy<Value = Request> {
    (opt_date(), text(), text(), opt_text(), opt_text()).prop_map(|(d, ao, aa, ac, ad)| {
        Request::EndPatronSession(EndPatronSessionRequest {
            transaction_date: d,
            institution_id: ao,
            patron_identifier: aa,
            terminal_password: ac,
            patron_password: ad,
        })
    })
}

pub fn fee_paid_request() -> impl Strategy<Value = Request> {
    (
        (opt_date(), digits(), digits(), fixed()),
        (text(), text(), text(), opt_text()),
        (opt_text(), opt_text(), opt_text()),
    )
        .prop_map(|((d, ft, pt, cur), (bv, ao, aa, ac), (ad, cg, bk))| {
            Request::FeePaid(FeePaidRequest {
                transaction_date: d,
                fee_type: ft,
                payment_type: pt,
                currency_type: cur,
                fee_amount: bv,
                institution_id: ao,
                patron_identifier: aa,
                terminal_password: ac,
                patron_password: ad,
                fee_identifier: cg,
                transaction_id: bk,
            })
        })
}

pub fn block_patron_request() -> impl Strategy<Value = Request> {
    (
        any::<bool>(),
        opt_date(),
        text(),
        text(),
        text(),
        text(),
        opt_text(),
    )
        .prop_map(|(cr, d, ao, al, aa, ac, ad)| {
            Request::BlockPatron(BlockPatronRequest {
                card_retained: cr,
                transaction_date: d,
                institution_id: ao,
                blocked_card_msg: al,
                patron_identifier: aa,
                terminal_password: ac,
                patron_password: ad,
            })
        })
}

pub fn item_information_request() -> impl Strategy<Value = Request> {
    (opt_date(), text(), text(), opt_text()).prop_map(|(d, ao, ab, ac)| {
        Request::ItemInformation(ItemInformationRequest {
            transaction_date: d,
            institution_id: ao,
            item_identifier: ab,
            terminal_password: ac,
        })
    })
}

pub fn login_response() -> impl Strategy<Value = Response> {
    any::<bool>().prop_map(|ok| Response::Login(LoginResponse { ok }))
}

pub fn acs_status_response() -> impl Strategy<Value = Response> {
    (
        vec(any::<bool>(), 6),
        (0u16..=999, 0u16..=999, sip_date(), fixed()),
        (text(), opt_text(), vec(any::<bool>(), 16), opt_text()),
        (texts(), texts()),
    )
        .prop_map(|(flags, (to, re, d, v), (ao, am, bx, an), (af, ag))| {
            let codes: Vec<&str> = SupportedMessages::ORDER
                .iter()
                .zip(bx)
                .filter(|(_, on)| *on)
                .map(|(c, _)| *c)
                .collect();
            Response::AcsStatus(AcsStatusResponse {
                online_status: flags[0],
                checkin_ok: flags[1],
                checkout_ok: flags[2],
                acs_renewal_policy: flags[3],
                status_update_ok: flags[4],
                offline_ok: flags[5],
                timeout_period: to,
                retries_allowed: re,
                date_time_sync: d,
                protocol_version: v,
                institution_id: ao,
                library_name: am,
                supported_messages: SupportedMessages::from_codes(&codes),
                terminal_location: an,
                screen_messages: af,
                print_lines: ag,
            })
        })
}

pub fn patron_status_response() -> impl Strategy<Value = Response> {
    (
        (patron_status(), fixed(), sip_date()),
        (text(), text(), text(), opt_flag(), opt_flag()),
        (opt_text(), opt_text(), texts(), texts()),
    )
        .prop_map(|((ps, l, d), (ao, aa, ae, bl, cq), (bh, bv, af, ag))| {
            Response::PatronStatus(PatronStatusResponse {
                patron_status: ps,
                language: l,
                transaction_date: d,
                institution_id: ao,
                patron_identifier: aa,
                personal_name: ae,
                valid_patron: bl,
                valid_patron_password: cq,
                currency_type: bh,
                fee_amount: bv,
                screen_messages: af,
                print_lines: ag,
            })
        })
}

pub fn patron_information_response() -> impl Strategy<Value = Response> {
    (
        (patron_status(), fixed(), sip_date()),
        (count(), count(), count(), count(), count(), count()),
        (text(), text(), text(), count(), count(), count()),
        (opt_flag(), opt_flag(), opt_text(), opt_text(), opt_text()),
        (texts(), texts(), texts(), texts(), texts(), texts()),
        (opt_text(), opt_text(), opt_text(), texts(), texts()),
    )
        .prop_map(
            |(
                (ps, l, d),
                (c1, c2, c3, c4, c5, c6),
                (ao, aa, ae, bz, ca, cb),
                (bl, cq, bh, bv, cc),
                (as_, at, au, av, bu, cd),
                (bd, be, bf, af, ag),
            )| {
                Response::PatronInformation(PatronInformationResponse {
                    patron_status: ps,
                    language: l,
                    transaction_date: d,
                    hold_items_count: c1,
                    overdue_items_count: c2,
                    charged_items_count: c3,
                    fine_items_count: c4,
                    recall_items_count: c5,
                    unavailable_holds_count: c6,
                    institution_id: ao,
                    patron_identifier: aa,
                    personal_name: ae,
                    hold_items_limit: bz,
                    overdue_items_limit: ca,
                    charged_items_limit: cb,
                    valid_patron: bl,
                    valid_patron_password: cq,
                    currency_type: bh,
                    fee_amount: bv,
                    fee_limit: cc,
                    hold_items: as_,
                    overdue_items: at,
                    charged_items: au,
                    fine_items: av,
                    recall_items: bu,
                    unavailable_hold_items: cd,
                    home_address: bd,
                    email_address: be,
                    home_phone_number: bf,
                    screen_messages: af,
                    print_lines: ag,
                })
            },
        )
}

fn checkout_shape() -> impl Strategy<Value = CheckoutResponse> {
    (
        (any::<bool>(), any::<bool>(), ynu(), ynu(), sip_date()),
        (text(), text(), text(), text(), text()),
        (opt_text(), opt_flag(), opt_text(), opt_text(), opt_text()),
        (opt_text(), opt_text(), opt_flag(), texts(), texts()),
    )
        .prop_map(
            |(
                (ok, ren, mm, de, d),
                (ao, aa, ab, aj, ah),
                (bt, ci, bh, bv, ck),
                (ch, bk, bl, af, ag),
            )| {
                CheckoutResponse {
                    ok,
                    renewal_ok: ren,
                    magnetic_media: mm,
                    desensitize: de,
                    transaction_date: d,
                    institution_id: ao,
                    patron_identifier: aa,
                    item_identifier: ab,
                    title_identifier: aj,
                    due_date: ah,
                    fee_type: bt,
                    security_inhibit: ci,
                    currency_type: bh,
                    fee_amount: bv,
                    media_type: ck,
                    item_properties: ch,
                    transaction_id: bk,
                    valid_patron: bl,
                    screen_messages: af,
                    print_lines: ag,
                }
            },
        )
}

pub fn checkout_response() -> impl Strategy<Value = Response> {
    checkout_shape().prop_map(Response::Checkout)
}

pub fn renew_response() -> impl Strategy<Value = Response> {
    checkout_shape().prop_map(Response::Renew)
}

pub fn checkin_response() -> impl Strategy<Value = Response> {
    (
        (
            any::<bool>(),
            any::<bool>(),
            ynu(),
            any::<bool>(),
            sip_date(),
        ),
        (text(), text(), text(), opt_text(), opt_text()),
        (opt_text(), opt_text(), opt_text(), texts(), texts()),
        (opt_text(), opt_text()),
    )
        .prop_map(
            |((ok, rs, mm, al, d), (ao, ab, aq, aj, cl), (aa, ck, ch, af, ag), (cv, ct))| {
                Response::Checkin(CheckinResponse {
                    ok,
                    resensitize: rs,
                    magnetic_media: mm,
                    alert: al,
                    transaction_date: d,
                    institution_id: ao,
                    item_identifier: ab,
                    permanent_location: aq,
                    title_identifier: aj,
                    sort_bin: cl,
                    patron_identifier: aa,
                    media_type: ck,
                    item_properties: ch,
                    alert_type: cv,
                    destination_location: ct,
                    screen_messages: af,
                    print_lines: ag,
                })
            },
        )
}

pub fn renew_all_response() -> impl Strategy<Value = Response> {
    (
        (any::<bool>(), 0u16..=9999, 0u16..=9999, sip_date()),
        (text(), texts(), texts(), texts(), texts()),
    )
        .prop_map(|((ok, r, u, d), (ao, bm, bn, af, ag))| {
            Response::RenewAll(RenewAllResponse {
                ok,
                renewed_count: r,
                unrenewed_count: u,
                transaction_date: d,
                institution_id: ao,
                renewed_items: bm,
                unrenewed_items: bn,
                screen_messages: af,
                print_lines: ag,
            })
        })
}

pub fn hold_response() -> impl Strategy<Value = Response> {
    (
        (any::<bool>(), any::<bool>(), sip_date()),
        (opt_text(), opt_text(), opt_text(), text(), text()),
        (opt_text(), opt_text(), texts(), texts()),
    )
        .prop_map(|((ok, av, d), (bw, br, bs, ao, aa), (ab, aj, af, ag))| {
            Response::Hold(HoldResponse {
                ok,
                available: av,
                transaction_date: d,
                expiration_date: bw,
                queue_position: br,
                pickup_location: bs,
                institution_id: ao,
                patron_identifier: aa,
                item_identifier: ab,
                title_identifier: aj,
                screen_messages: af,
                print_lines: ag,
            })
        })
}

pub fn end_session_response() -> impl Strategy<Value = Response> {
    (any::<bool>(), sip_date(), text(), text(), texts(), texts()).prop_map(
        |(end, d, ao, aa, af, ag)| {
            Response::EndSession(EndSessionResponse {
                end_session: end,
                transaction_date: d,
                institution_id: ao,
                patron_identifier: aa,
                screen_messages: af,
                print_lines: ag,
            })
        },
    )
}

pub fn fee_paid_response() -> impl Strategy<Value = Response> {
    (
        any::<bool>(),
        sip_date(),
        text(),
        text(),
        opt_text(),
        texts(),
        texts(),
    )
        .prop_map(|(acc, d, ao, aa, bk, af, ag)| {
            Response::FeePaid(FeePaidResponse {
                payment_accepted: acc,
                transaction_date: d,
                institution_id: ao,
                patron_identifier: aa,
                transaction_id: bk,
                screen_messages: af,
                print_lines: ag,
            })
        })
}

pub fn item_information_response() -> impl Strategy<Value = Response> {
    (
        (digits(), digits(), digits(), sip_date()),
        (
            opt_text(),
            opt_text(),
            opt_text(),
            opt_text(),
            text(),
            text(),
        ),
        (opt_text(), opt_text(), opt_text(), opt_text(), opt_text()),
        (opt_text(), opt_text(), texts(), texts()),
    )
        .prop_map(
            |(
                (cs, sm, ft, d),
                (cf, ah, cj, cm, ab, aj),
                (bg, bh, bv, ck, aq),
                (ap, ch, af, ag),
            )| {
                Response::ItemInformation(ItemInformationResponse {
                    circulation_status: cs,
                    security_marker: sm,
                    fee_type: ft,
                    transaction_date: d,
                    hold_queue_length: cf,
                    due_date: ah,
                    recall_date: cj,
                    hold_pickup_date: cm,
                    item_identifier: ab,
                    title_identifier: aj,
                    owner: bg,
                    currency_type: bh,
                    fee_amount: bv,
                    media_type: ck,
                    permanent_location: aq,
                    current_location: ap,
                    item_properties: ch,
                    screen_messages: af,
                    print_lines: ag,
                })
            },
        )
}

/// Any request.
pub fn any_request() -> impl Strategy<Value = Request> {
    prop_oneof![
        login(),
        sc_status(),
        Just(Request::RequestAcsResend),
        patron_status_request(),
        patron_information_request(),
        checkout_request(),
        checkin_request(),
        renew_request(),
        renew_all_request(),
        hold_request(),
        end_patron_session_request(),
        fee_paid_request(),
        block_patron_request(),
        item_information_request(),
    ]
}
