//! Reading each response from its body: fixed fields in order, then variable fields by
//! identifier.

use super::*;
use crate::codec::fields::Vars;

pub(super) type Parsed = Result<(Response, Vars), CodecError>;

pub(super) fn parse_login(b: &Body<'_>) -> Parsed {
    let mut f = b.fixed("94", 1)?;
    let m = LoginResponse { ok: f.ok("ok")? };
    Ok((Response::Login(m), b.vars(&f)?))
}

pub(super) fn parse_acs_status(b: &Body<'_>) -> Parsed {
    let mut f = b.fixed("98", 34)?;
    let online_status = f.yes_no("on-line status")?;
    let checkin_ok = f.yes_no("checkin ok")?;
    let checkout_ok = f.yes_no("checkout ok")?;
    let acs_renewal_policy = f.yes_no("ACS renewal policy")?;
    let status_update_ok = f.yes_no("status update ok")?;
    let offline_ok = f.yes_no("off-line ok")?;
    let timeout_period = f.number(3, "timeout period")?;
    let retries_allowed = f.number(3, "retries allowed")?;
    let date_time_sync = f.required_date("date / time sync")?;
    let protocol_version = f.text("protocol version")?;
    let mut v = b.vars(&f)?;
    let m = AcsStatusResponse {
        online_status,
        checkin_ok,
        checkout_ok,
        acs_renewal_policy,
        status_update_ok,
        offline_ok,
        timeout_period,
        retries_allowed,
        date_time_sync,
        protocol_version,
        institution_id: v.required("AO"),
        library_name: v.optional("AM"),
        supported_messages: SupportedMessages::parse(&v.required("BX")),
        terminal_location: v.optional("AN"),
        screen_messages: v.repeated("AF"),
        print_lines: v.repeated("AG"),
    };
    Ok((Response::AcsStatus(m), v))
}

pub(super) fn parse_patron_status(b: &Body<'_>) -> Parsed {
    let mut f = b.fixed("24", 35)?;
    let patron_status = f.patron_status()?;
    let language = f.text("language")?;
    let transaction_date = f.required_date("transaction date")?;
    let mut v = b.vars(&f)?;
    let m = PatronStatusResponse {
        patron_status,
        language,
        transaction_date,
        institution_id: v.required("AO"),
        patron_identifier: v.required("AA"),
        personal_name: v.required("AE"),
        valid_patron: v.flag("BL"),
        valid_patron_password: v.flag("CQ"),
        currency_type: v.optional("BH"),
        fee_amount: v.optional("BV"),
        screen_messages: v.repeated("AF"),
        print_lines: v.repeated("AG"),
    };
    Ok((Response::PatronStatus(m), v))
}

pub(super) fn parse_patron_information(b: &Body<'_>) -> Parsed {
    let mut f = b.fixed("64", 59)?;
    let patron_status = f.patron_status()?;
    let language = f.text("language")?;
    let transaction_date = f.required_date("transaction date")?;
    let hold_items_count = f.count("hold items count")?;
    let overdue_items_count = f.count("overdue items count")?;
    let charged_items_count = f.count("charged items count")?;
    let fine_items_count = f.count("fine items count")?;
    let recall_items_count = f.count("recall items count")?;
    let unavailable_holds_count = f.count("unavailable holds count")?;
    let mut v = b.vars(&f)?;
    let m = PatronInformationResponse {
        patron_status,
        language,
        transaction_date,
        hold_items_count,
        overdue_items_count,
        charged_items_count,
        fine_items_count,
        recall_items_count,
        unavailable_holds_count,
        institution_id: v.required("AO"),
        patron_identifier: v.required("AA"),
        personal_name: v.required("AE"),
        hold_items_limit: v.number("BZ"),
        overdue_items_limit: v.number("CA"),
        charged_items_limit: v.number("CB"),
        valid_patron: v.flag("BL"),
        valid_patron_password: v.flag("CQ"),
        currency_type: v.optional("BH"),
        fee_amount: v.optional("BV"),
        fee_limit: v.optional("CC"),
        hold_items: v.repeated("AS"),
        overdue_items: v.repeated("AT"),
        charged_items: v.repeated("AU"),
        fine_items: v.repeated("AV"),
        recall_items: v.repeated("BU"),
        unavailable_hold_items: v.repeated("CD"),
        home_address: v.optional("BD"),
        email_address: v.optional("BE"),
        home_phone_number: v.optional("BF"),
        screen_messages: v.repeated("AF"),
        print_lines: v.repeated("AG"),
    };
    Ok((Response::PatronInformation(m), v))
}

pub(super) fn parse_checkout(
    b: &Body<'_>,
    code: &'static str,
) -> Result<(CheckoutResponse, Vars), CodecError> {
    let mut f = b.fixed(code, 22)?;
    let ok = f.ok("ok")?;
    let renewal_ok = f.yes_no("renewal ok")?;
    let magnetic_media = f.yes_no_unknown("magnetic media")?;
    let desensitize = f.yes_no_unknown("desensitize")?;
    let transaction_date = f.required_date("transaction date")?;
    let mut v = b.vars(&f)?;
    let m = CheckoutResponse {
        ok,
        renewal_ok,
        magnetic_media,
        desensitize,
        transaction_date,
        institution_id: v.required("AO"),
        patron_identifier: v.required("AA"),
        item_identifier: v.required("AB"),
        title_identifier: v.required("AJ"),
        due_date: v.required("AH"),
        fee_type: v.optional("BT"),
        security_inhibit: v.flag("CI"),
        currency_type: v.optional("BH"),
        fee_amount: v.optional("BV"),
        media_type: v.optional("CK"),
        item_properties: v.optional("CH"),
        transaction_id: v.optional("BK"),
        valid_patron: v.flag("BL"),
        screen_messages: v.repeated("AF"),
        print_lines: v.repeated("AG"),
    };
    Ok((m, v))
}

pub(super) fn parse_checkin(b: &Body<'_>) -> Parsed {
    let mut f = b.fixed("10", 22)?;
    let ok = f.ok("ok")?;
    let resensitize = f.yes_no("resensitize")?;
    let magnetic_media = f.yes_no_unknown("magnetic media")?;
    let alert = f.yes_no("alert")?;
    let transaction_date = f.required_date("transaction date")?;
    let mut v = b.vars(&f)?;
    let m = CheckinResponse {
        ok,
        resensitize,
        magnetic_media,
        alert,
        transaction_date,
        institution_id: v.required("AO"),
        item_identifier: v.required("AB"),
        permanent_location: v.required("AQ"),
        title_identifier: v.optional("AJ"),
        sort_bin: v.optional("CL"),
        patron_identifier: v.optional("AA"),
        media_type: v.optional("CK"),
        item_properties: v.optional("CH"),
        alert_type: v.optional("CV"),
        destination_location: v.optional("CT"),
        screen_messages: v.repeated("AF"),
        print_lines: v.repeated("AG"),
    };
    Ok((Response::Checkin(m), v))
}

pub(super) fn parse_renew_all(b: &Body<'_>) -> Parsed {
    let mut f = b.fixed("66", 27)?;
    let ok = f.ok("ok")?;
    let renewed_count = f.number(4, "renewed count")?;
    let unrenewed_count = f.number(4, "unrenewed count")?;
    let transaction_date = f.required_date("transaction date")?;
    let mut v = b.vars(&f)?;
    let m = RenewAllResponse {
        ok,
        renewed_count,
        unrenewed_count,
        transaction_date,
        institution_id: v.required("AO"),
        renewed_items: v.repeated("BM"),
        unrenewed_items: v.repeated("BN"),
        screen_messages: v.repeated("AF"),
        print_lines: v.repeated("AG"),
    };
    Ok((Response::RenewAll(m), v))
}

pub(super) fn parse_hold(b: &Body<'_>) -> Parsed {
    let mut f = b.fixed("16", 20)?;
    let ok = f.ok("ok")?;
    let available = f.yes_no("available")?;
    let transaction_date = f.required_date("transaction date")?;
    let mut v = b.vars(&f)?;
    let m = HoldResponse {
        ok,
        available,
        transaction_date,
        expiration_date: v.optional("BW"),
        queue_position: v.optional("BR"),
        pickup_location: v.optional("BS"),
        institution_id: v.required("AO"),
        patron_identifier: v.required("AA"),
        item_identifier: v.optional("AB"),
        title_identifier: v.optional("AJ"),
        screen_messages: v.repeated("AF"),
        print_lines: v.repeated("AG"),
    };
    Ok((Response::Hold(m), v))
}

pub(super) fn parse_end_session(b: &Body<'_>) -> Parsed {
    let mut f = b.fixed("36", 19)?;
    let end_session = f.yes_no("end session")?;
    let transaction_date = f.required_date("transaction date")?;
    let mut v = b.vars(&f)?;
    let m = EndSessionResponse {
        end_session,
        transaction_date,
        institution_id: v.required("AO"),
        patron_identifier: v.required("AA"),
        screen_messages: v.repeated("AF"),
        print_lines: v.repeated("AG"),
    };
    Ok((Response::EndSession(m), v))
}

pub(super) fn parse_fee_paid(b: &Body<'_>) -> Parsed {
    let mut f = b.fixed("38", 19)?;
    let payment_accepted = f.yes_no("payment accepted")?;
    let transaction_date = f.required_date("transaction date")?;
    let mut v = b.vars(&f)?;
    let m = FeePaidResponse {
        payment_accepted,
        transaction_date,
        institution_id: v.required("AO"),
        patron_identifier: v.required("AA"),
        transaction_id: v.optional("BK"),
        screen_messages: v.repeated("AF"),
        print_lines: v.repeated("AG"),
    };
    Ok((Response::FeePaid(m), v))
}

pub(super) fn parse_item_information(b: &Body<'_>) -> Parsed {
    let mut f = b.fixed("18", 24)?;
    let circulation_status = f.text("circulation status")?;
    let security_marker = f.text("security marker")?;
    let fee_type = f.text("fee type")?;
    let transaction_date = f.required_date("transaction date")?;
    let mut v = b.vars(&f)?;
    let m = ItemInformationResponse {
        circulation_status,
        security_marker,
        fee_type,
        transaction_date,
        hold_queue_length: v.optional("CF"),
        due_date: v.optional("AH"),
        recall_date: v.optional("CJ"),
        hold_pickup_date: v.optional("CM"),
        item_identifier: v.required("AB"),
        title_identifier: v.required("AJ"),
        owner: v.optional("BG"),
        currency_type: v.optional("BH"),
        fee_amount: v.optional("BV"),
        media_type: v.optional("CK"),
        permanent_location: v.optional("AQ"),
        current_location: v.optional("AP"),
        item_properties: v.optional("CH"),
        screen_messages: v.repeated("AF"),
        print_lines: v.repeated("AG"),
    };
    Ok((Response::ItemInformation(m), v))
}
