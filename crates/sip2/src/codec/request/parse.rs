//! Reading each request from its body: fixed fields in order, then variable fields by
//! identifier.

use super::*;
use crate::codec::fields::Vars;

pub(super) type Parsed = Result<(Request, Vars), CodecError>;

pub(super) fn parse_login(b: &Body<'_>) -> Parsed {
    let mut f = b.fixed("93", 2)?;
    let uid_algorithm = f.text("UID algorithm")?;
    let pwd_algorithm = f.text("PWD algorithm")?;
    let mut v = b.vars(&f)?;
    let m = LoginRequest {
        uid_algorithm,
        pwd_algorithm,
        login_user_id: v.required("CN"),
        login_password: v.required("CO"),
        location_code: v.optional("CP"),
    };
    Ok((Request::Login(m), v))
}

pub(super) fn parse_sc_status(b: &Body<'_>) -> Parsed {
    let mut f = b.fixed("99", 8)?;
    let m = ScStatusRequest {
        status_code: f.text("status code")?,
        max_print_width: f.text("max print width")?,
        protocol_version: f.text("protocol version")?,
    };
    Ok((Request::ScStatus(m), b.vars(&f)?))
}

pub(super) fn parse_patron_status(b: &Body<'_>) -> Parsed {
    let mut f = b.fixed("23", 21)?;
    let language = f.text("language")?;
    let transaction_date = f.date("transaction date")?;
    let mut v = b.vars(&f)?;
    let m = PatronStatusRequest {
        language,
        transaction_date,
        institution_id: v.required("AO"),
        patron_identifier: v.required("AA"),
        terminal_password: v.required("AC"),
        patron_password: v.required("AD"),
    };
    Ok((Request::PatronStatus(m), v))
}

pub(super) fn parse_patron_information(b: &Body<'_>) -> Parsed {
    let mut f = b.fixed("63", 31)?;
    let language = f.text("language")?;
    let transaction_date = f.date("transaction date")?;
    let summary = f.summary();
    let mut v = b.vars(&f)?;
    let m = PatronInformationRequest {
        language,
        transaction_date,
        summary,
        institution_id: v.required("AO"),
        patron_identifier: v.required("AA"),
        terminal_password: v.optional("AC"),
        patron_password: v.optional("AD"),
        start_item: v.optional("BP"),
        end_item: v.optional("BQ"),
    };
    Ok((Request::PatronInformation(m), v))
}

pub(super) fn parse_checkout(b: &Body<'_>) -> Parsed {
    let mut f = b.fixed("11", 38)?;
    let sc_renewal_policy = f.yes_no("SC renewal policy")?;
    let no_block = f.yes_no("no block")?;
    let transaction_date = f.date("transaction date")?;
    let nb_due_date = f.date("nb due date")?;
    let mut v = b.vars(&f)?;
    let m = CheckoutRequest {
        sc_renewal_policy,
        no_block,
        transaction_date,
        nb_due_date,
        institution_id: v.required("AO"),
        patron_identifier: v.required("AA"),
        item_identifier: v.required("AB"),
        terminal_password: v.required("AC"),
        item_properties: v.optional("CH"),
        patron_password: v.optional("AD"),
        fee_acknowledged: v.flag("BO"),
        cancel: v.flag("BI"),
    };
    Ok((Request::Checkout(m), v))
}

pub(super) fn parse_checkin(b: &Body<'_>) -> Parsed {
    let mut f = b.fixed("09", 37)?;
    let no_block = f.yes_no("no block")?;
    let transaction_date = f.date("transaction date")?;
    let return_date = f.date("return date")?;
    let mut v = b.vars(&f)?;
    let m = CheckinRequest {
        no_block,
        transaction_date,
        return_date,
        current_location: v.required("AP"),
        institution_id: v.required("AO"),
        item_identifier: v.required("AB"),
        terminal_password: v.required("AC"),
        item_properties: v.optional("CH"),
        cancel: v.flag("BI"),
    };
    Ok((Request::Checkin(m), v))
}

pub(super) fn parse_renew(b: &Body<'_>) -> Parsed {
    let mut f = b.fixed("29", 38)?;
    let third_party_allowed = f.yes_no("third party allowed")?;
    let no_block = f.yes_no("no block")?;
    let transaction_date = f.date("transaction date")?;
    let nb_due_date = f.date("nb due date")?;
    let mut v = b.vars(&f)?;
    let m = RenewRequest {
        third_party_allowed,
        no_block,
        transaction_date,
        nb_due_date,
        institution_id: v.required("AO"),
        patron_identifier: v.required("AA"),
        patron_password: v.optional("AD"),
        item_identifier: v.optional("AB"),
        title_identifier: v.optional("AJ"),
        terminal_password: v.optional("AC"),
        item_properties: v.optional("CH"),
        fee_acknowledged: v.flag("BO"),
    };
    Ok((Request::Renew(m), v))
}

pub(super) fn parse_renew_all(b: &Body<'_>) -> Parsed {
    // The Python Sip2 client omits the date: a field identifier right after the code.
    let dateless = b
        .bytes
        .get(2..4)
        .is_some_and(|id| id.iter().all(u8::is_ascii_uppercase));
    let mut f = b.fixed("65", if dateless { 0 } else { 18 })?;
    let transaction_date = if dateless {
        None
    } else {
        f.date("transaction date")?
    };
    let mut v = b.vars(&f)?;
    let m = RenewAllRequest {
        transaction_date,
        institution_id: v.required("AO"),
        patron_identifier: v.required("AA"),
        patron_password: v.optional("AD"),
        terminal_password: v.optional("AC"),
        fee_acknowledged: v.flag("BO"),
    };
    Ok((Request::RenewAll(m), v))
}

pub(super) fn parse_hold(b: &Body<'_>) -> Parsed {
    let mut f = b.fixed("15", 19)?;
    let hold_mode = match f.peek(1) {
        Some(b"+") => HoldMode::Add,
        Some(b"-") => HoldMode::Delete,
        Some(b"*") => HoldMode::Change,
        other => {
            return Err(CodecError::BadFixedField {
                command: "15",
                field: "hold mode",
                found: String::from_utf8_lossy(other.unwrap_or_default()).into_owned(),
            });
        }
    };
    f.skip(1);
    let transaction_date = f.date("transaction date")?;
    let mut v = b.vars(&f)?;
    let m = HoldRequest {
        hold_mode,
        transaction_date,
        expiration_date: v.optional("BW"),
        pickup_location: v.optional("BS"),
        hold_type: v.optional("BY"),
        institution_id: v.required("AO"),
        patron_identifier: v.required("AA"),
        patron_password: v.optional("AD"),
        item_identifier: v.optional("AB"),
        title_identifier: v.optional("AJ"),
        terminal_password: v.optional("AC"),
        fee_acknowledged: v.flag("BO"),
    };
    Ok((Request::Hold(m), v))
}

pub(super) fn parse_end_patron_session(b: &Body<'_>) -> Parsed {
    let mut f = b.fixed("35", 18)?;
    let transaction_date = f.date("transaction date")?;
    let mut v = b.vars(&f)?;
    let m = EndPatronSessionRequest {
        transaction_date,
        institution_id: v.required("AO"),
        patron_identifier: v.required("AA"),
        terminal_password: v.optional("AC"),
        patron_password: v.optional("AD"),
    };
    Ok((Request::EndPatronSession(m), v))
}

pub(super) fn parse_fee_paid(b: &Body<'_>) -> Parsed {
    let mut f = b.fixed("37", 25)?;
    let transaction_date = f.date("transaction date")?;
    let fee_type = f.text("fee type")?;
    let payment_type = f.text("payment type")?;
    let currency_type = f.text("currency type")?;
    let mut v = b.vars(&f)?;
    let m = FeePaidRequest {
        transaction_date,
        fee_type,
        payment_type,
        currency_type,
        fee_amount: v.required("BV"),
        institution_id: v.required("AO"),
        patron_identifier: v.required("AA"),
        terminal_password: v.optional("AC"),
        patron_password: v.optional("AD"),
        fee_identifier: v.optional("CG"),
        transaction_id: v.optional("BK"),
    };
    Ok((Request::FeePaid(m), v))
}

pub(super) fn parse_block_patron(b: &Body<'_>) -> Parsed {
    let mut f = b.fixed("01", 19)?;
    let card_retained = f.yes_no("card retained")?;
    let transaction_date = f.date("transaction date")?;
    let mut v = b.vars(&f)?;
    let m = BlockPatronRequest {
        card_retained,
        transaction_date,
        institution_id: v.required("AO"),
        blocked_card_msg: v.required("AL"),
        patron_identifier: v.required("AA"),
        terminal_password: v.required("AC"),
        patron_password: v.optional("AD"),
    };
    Ok((Request::BlockPatron(m), v))
}

pub(super) fn parse_item_information(b: &Body<'_>) -> Parsed {
    // Koha's emulator sends a language (3 digits) before the date.
    let stray_language = b
        .bytes
        .get(2..5)
        .is_some_and(|l| l.iter().all(u8::is_ascii_digit))
        && b.bytes
            .get(2..20)
            .is_none_or(|d| SipDate::parse(d).is_err())
        && b.bytes
            .get(5..23)
            .is_some_and(|d| matches!(SipDate::parse(d), Ok(Some(_))));
    let mut f = b.fixed("17", if stray_language { 21 } else { 18 })?;
    if stray_language {
        f.skip(3);
    }
    let transaction_date = f.date("transaction date")?;
    let mut v = b.vars(&f)?;
    let m = ItemInformationRequest {
        transaction_date,
        institution_id: v.required("AO"),
        item_identifier: v.required("AB"),
        terminal_password: v.optional("AC"),
    };
    Ok((Request::ItemInformation(m), v))
}
