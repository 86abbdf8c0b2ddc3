//! Format, then parse: the same message back, for every message type, with and without the
//! error-detection trailer.

use library_sip2::{Charset, Request, Response};
use proptest::prelude::*;

use crate::strategies::*;

fn trailer() -> impl Strategy<Value = (Option<u8>, bool)> {
    (proptest::option::of(0u8..=9), any::<bool>())
}

fn request_round_trip(
    msg: &Request,
    seq: Option<u8>,
    with_checksum: bool,
) -> Result<(), TestCaseError> {
    let bytes = msg.format(seq, with_checksum);
    prop_assert_eq!(bytes.last(), Some(&b'\r'));
    prop_assert_eq!(bytes.iter().filter(|&&b| b == b'\r').count(), 1);
    let parsed = Request::parse(&bytes)
        .map_err(|e| TestCaseError::fail(format!("{e}: {:?}", String::from_utf8_lossy(&bytes))))?;
    prop_assert_eq!(&parsed.request, msg);
    let expected_seq = if matches!(msg, Request::RequestAcsResend) {
        None
    } else {
        seq
    };
    prop_assert_eq!(parsed.sequence, expected_seq);
    prop_assert_eq!(parsed.checksum.is_some(), with_checksum);
    prop_assert!(parsed.extra_fields.is_empty(), "{:?}", parsed.extra_fields);
    Ok(())
}

fn response_round_trip(
    msg: &Response,
    seq: Option<u8>,
    with_checksum: bool,
) -> Result<(), TestCaseError> {
    let bytes = msg.format(seq, with_checksum);
    prop_assert_eq!(bytes.last(), Some(&b'\r'));
    prop_assert_eq!(bytes.iter().filter(|&&b| b == b'\r').count(), 1);
    let parsed = Response::parse(&bytes)
        .map_err(|e| TestCaseError::fail(format!("{e}: {:?}", String::from_utf8_lossy(&bytes))))?;
    prop_assert_eq!(&parsed.response, msg);
    let expected_seq = if matches!(msg, Response::RequestScResend) {
        None
    } else {
        seq
    };
    prop_assert_eq!(parsed.sequence, expected_seq);
    prop_assert_eq!(parsed.checksum.is_some(), with_checksum);
    prop_assert!(parsed.extra_fields.is_empty(), "{:?}", parsed.extra_fields);
    Ok(())
}

macro_rules! round_trips {
    ($check:ident: $($name:ident => $strategy:expr,)*) => {
        proptest! {
            $(
                #[test]
                fn $name(msg in $strategy, (seq, sum) in trailer()) {
                    $check(&msg, seq, sum)?;
                }
            )*
        }
    };
}

round_trips! { request_round_trip:
    login_93 => login(),
    sc_status_99 => sc_status(),
    request_acs_resend_97 => Just(Request::RequestAcsResend),
    patron_status_23 => patron_status_request(),
    patron_information_63 => patron_information_request(),
    checkout_11 => checkout_request(),
    checkin_09 => checkin_request(),
    renew_29 => renew_request(),
    renew_all_65 => renew_all_request(),
    hold_15 => hold_request(),
    end_patron_session_35 => end_patron_session_request(),
    fee_paid_37 => fee_paid_request(),
    block_patron_01 => block_patron_request(),
    item_information_17 => item_information_request(),
}

round_trips! { response_round_trip:
    login_response_94 => login_response(),
    acs_status_98 => acs_status_response(),
    request_sc_resend_96 => Just(Response::RequestScResend),
    patron_status_response_24 => patron_status_response(),
    patron_information_response_64 => patron_information_response(),
    checkout_response_12 => checkout_response(),
    checkin_response_10 => checkin_response(),
    renew_response_30 => renew_response(),
    renew_all_response_66 => renew_all_response(),
    hold_response_16 => hold_response(),
    end_session_response_36 => end_session_response(),
    fee_paid_response_38 => fee_paid_response(),
    item_information_response_18 => item_information_response(),
}

proptest! {
    /// Latin-1 stations: the same message back when every character fits Latin-1.
    #[test]
    fn latin1_round_trip(
        name in "[ -{}~\u{A0}-\u{FF}]{0,20}",
        (seq, sum) in trailer(),
    ) {
        let msg = Response::EndSession(library_sip2::EndSessionResponse {
            end_session: true,
            transaction_date: crate::date(),
            institution_id: "LIB".into(),
            patron_identifier: name.clone(),
            screen_messages: vec![name.clone()],
            print_lines: vec![],
        });
        let bytes = msg.format_with(seq, sum, Charset::Latin1);
        prop_assert_eq!(bytes.iter().filter(|&&b| b >= 0x80).count(), name.chars().filter(|&c| c >= '\u{80}').count() * 2);
        let parsed = Response::parse_with(&bytes, Charset::Latin1).unwrap();
        prop_assert_eq!(parsed.response, msg);
    }

    /// Whatever a response holds, the formatted message keeps its framing: one CR, at the
    /// end, and required fields present.
    #[test]
    fn hostile_values_never_break_framing(value in "\\PC*|[|\r\n\t\x00]{0,5}", extra in ".{0,300}") {
        let v = format!("{value}|{extra}\r\n");
        let msg = Response::PatronStatus(library_sip2::PatronStatusResponse {
            patron_status: library_sip2::PatronStatus::GOOD_STANDING,
            language: library_sip2::FixedStr::LANGUAGE_ENGLISH,
            transaction_date: crate::date(),
            institution_id: v.clone(),
            patron_identifier: v.clone(),
            personal_name: v.clone(),
            valid_patron: Some(true),
            valid_patron_password: None,
            currency_type: None,
            fee_amount: None,
            screen_messages: vec![v.clone()],
            print_lines: vec![],
        });
        let bytes = msg.format(Some(1), true);
        prop_assert_eq!(bytes.iter().filter(|&&b| b == b'\r').count(), 1);
        let parsed = Response::parse(&bytes).unwrap();
        let Response::PatronStatus(back) = parsed.response else { panic!() };
        prop_assert!(back.personal_name.chars().count() <= library_sip2::MAX_FIELD_CHARS);
        prop_assert!(!back.personal_name.contains('|'));
        prop_assert_eq!(back.screen_messages.len(), 1);
        prop_assert_eq!(parsed.sequence, Some(1));
    }

    /// Any bytes at all: an answer, never a panic.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = Request::parse(&bytes);
        let _ = Response::parse(&bytes);
        let _ = Request::parse_with(&bytes, Charset::Latin1);
    }

    /// Valid requests with bytes changed, cut or inserted: an answer, never a panic; a
    /// checksummed request with any single byte changed is refused.
    #[test]
    fn mutated_requests_never_panic(
        msg in any_request(),
        at in any::<prop::sample::Index>(),
        byte in any::<u8>(),
        cut in any::<prop::sample::Index>(),
    ) {
        let bytes = msg.format(Some(3), true);
        let i = at.index(bytes.len() - 1);
        let mut changed = bytes.clone();
        changed[i] = byte;
        let result = Request::parse(&changed);
        // Everything before the trailer is covered by the checksum.
        let trailer_len = if matches!(msg, Request::RequestAcsResend) { 6 } else { 9 };
        let covered = bytes.len() - 1 - trailer_len;
        if byte != bytes[i] && i < covered {
            prop_assert!(result.is_err(), "{:?}", String::from_utf8_lossy(&changed));
        }
        let _ = Request::parse(&bytes[..cut.index(bytes.len())]);
        let mut inserted = bytes.clone();
        inserted.insert(i, byte);
        let _ = Request::parse(&inserted);
    }
}
