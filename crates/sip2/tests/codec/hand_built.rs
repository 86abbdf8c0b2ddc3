//! Hand-built messages: what real clients send that the vectors do not cover, and broken
//! input of every kind.

use library_sip2::*;

use crate::{DATE, date, request, text};

fn with_checksum(prefix: &str) -> String {
    format!("{prefix}{:04X}\r", checksum(prefix.as_bytes()))
}

#[test]
fn renew_all_with_every_field_and_trailer() {
    let p = request(&with_checksum(&format!(
        "65{DATE}AOLIB|AAP|AD1234|ACterm|BOY|AY4AZ"
    )));
    assert_eq!(
        p.request,
        Request::RenewAll(RenewAllRequest {
            transaction_date: Some(date()),
            institution_id: "LIB".into(),
            patron_identifier: "P".into(),
            patron_password: Some("1234".into()),
            terminal_password: Some("term".into()),
            fee_acknowledged: Some(true),
        })
    );
    assert_eq!(p.sequence, Some(4));
}

#[test]
fn hold_delete_and_change_modes() {
    for (mode, want) in [("-", HoldMode::Delete), ("*", HoldMode::Change)] {
        let p = request(&format!("15{mode}{DATE}AOLIB|AAP|AJSome title|BOn|\r"));
        let Request::Hold(m) = p.request else {
            panic!()
        };
        assert_eq!(m.hold_mode, want);
        assert_eq!(m.title_identifier.as_deref(), Some("Some title"));
        assert_eq!(m.fee_acknowledged, Some(false));
    }
    assert!(matches!(
        Request::parse(format!("15?{DATE}AOLIB|AAP|\r").as_bytes()),
        Err(CodecError::BadFixedField {
            command: "15",
            field: "hold mode",
            ..
        })
    ));
}

#[test]
fn end_session_without_optional_fields() {
    let p = request(&format!("35{DATE}AOLIB|AAP|"));
    let Request::EndPatronSession(m) = p.request else {
        panic!()
    };
    assert_eq!((m.terminal_password, m.patron_password), (None, None));
    assert_eq!((p.sequence, p.checksum), (None, None));
}

#[test]
fn resend_variants() {
    assert_eq!(request("97").request, Request::RequestAcsResend);
    let p = request(&with_checksum("97AY3AZ"));
    assert_eq!(
        (p.request, p.sequence),
        (Request::RequestAcsResend, Some(3))
    );
    assert_eq!(
        request("97azfef5").checksum,
        None,
        "lower-case AZ is not a trailer"
    );
    assert_eq!(request("97AZfef5\r\n").checksum, Some(0xFEF5));
}

#[test]
fn terminators_and_surrounding_noise() {
    let base = format!("23001{DATE}AOLIB|AAP|AC|AD1234|");
    let want = request(&base).request;
    for variant in [
        format!("{base}\r"),
        format!("{base}\r\n"),
        format!("{base}\n"),
        format!("\n{base}\r"),
        format!("{base}\0\0"),
        format!("{base}|||\r"),
    ] {
        assert_eq!(request(&variant).request, want, "{variant:?}");
    }
    // A last field without its `|`.
    assert_eq!(
        request(&format!("23001{DATE}AOLIB|AAP|AC|AD1234\r")).request,
        want
    );
}

#[test]
fn sip2_crate_quirks() {
    // Fields sorted alphabetically, no AO, 99 with width 999, checkin without AP.
    let p = request(&format!("23000{DATE}AA21000001|AC|AD1234|\r"));
    let Request::PatronStatus(m) = p.request else {
        panic!()
    };
    assert_eq!(
        (m.institution_id.as_str(), m.patron_identifier.as_str()),
        ("", "21000001")
    );
    let Request::ScStatus(m) = request("9909992.00\r").request else {
        panic!()
    };
    assert_eq!(m.max_print_width.as_str(), "999");
    let Request::Checkin(m) = request(&format!("09N{DATE}{DATE}ABI|AC|AOLIB|\r")).request else {
        panic!()
    };
    assert_eq!(
        (m.current_location.as_str(), m.item_identifier.as_str()),
        ("", "I")
    );
}

#[test]
fn python_sip2_quirks() {
    let blank = " ".repeat(18);
    let p = request(&with_checksum(&format!(
        "11NN{DATE}{blank}AOLIB|AAP|ABI|AC|ADpin|BON|BIN|AY2AZ"
    )));
    let Request::Checkout(m) = p.request else {
        panic!()
    };
    assert_eq!((m.fee_acknowledged, m.cancel), (Some(false), Some(false)));
    assert_eq!(m.patron_password.as_deref(), Some("pin"));
    // `%X` without zero padding: checksums below 0x1000 have fewer digits.
    let mut long = format!("63001{DATE}          AOLIB|AAP|AF");
    long.push_str(&"~".repeat(700));
    let mut prefix = format!("{long}|AY1AZ");
    while checksum(prefix.as_bytes()) >= 0x1000 {
        long.push('~');
        prefix = format!("{long}|AY1AZ");
    }
    let msg = format!("{prefix}{:X}\r", checksum(prefix.as_bytes()));
    let p = request(&msg);
    assert_eq!(p.sequence, Some(1));
    assert_eq!(p.extra_fields.len(), 1, "AF is not a field of 63");
}

#[test]
fn koha_item_information_with_a_stray_language() {
    for msg in [
        format!("17001{DATE}AOLIB|ABI|AC|\r"),
        format!("17{DATE}AOLIB|ABI|AC|\r"),
    ] {
        let Request::ItemInformation(m) = request(&msg).request else {
            panic!()
        };
        assert_eq!(m.transaction_date, Some(date()), "{msg:?}");
        assert_eq!(m.item_identifier, "I");
    }
}

#[test]
fn unknown_and_repeated_fields_are_kept() {
    let p = request(&format!(
        "23001{DATE}AOLIB|CVvendor|AAP|AAsecond|AC|AD|zz9|\r"
    ));
    let Request::PatronStatus(m) = &p.request else {
        panic!()
    };
    assert_eq!(m.patron_identifier, "P");
    let extras: Vec<_> = p
        .extra_fields
        .iter()
        .map(|f| (f.id.as_str(), f.value.as_str()))
        .collect();
    assert_eq!(extras, [("CV", "vendor"), ("AA", "second"), ("zz", "9")]);
    // A flag that is not Y/N is not lost either.
    let p = request(&format!("11NN{DATE}{DATE}AOLIB|AAP|ABI|AC|BOmaybe|\r"));
    let Request::Checkout(m) = &p.request else {
        panic!()
    };
    assert_eq!(m.fee_acknowledged, None);
    assert_eq!(p.extra_fields[0].value, "maybe");
}

#[test]
fn blank_dates_are_accepted_everywhere_in_requests() {
    let blank = " ".repeat(18);
    let Request::Checkin(m) = request(&format!("09N{blank}{blank}APx|AOLIB|ABI|AC|")).request
    else {
        panic!()
    };
    assert_eq!((m.transaction_date, m.return_date), (None, None));
    let Request::FeePaid(m) = request(&format!("37{blank}0100USDBV1|AOLIB|AAP|")).request else {
        panic!()
    };
    assert_eq!(m.transaction_date, None);
}

#[test]
fn utf8_titles_are_checksummed_over_their_bytes() {
    let item = |title: &str| {
        Response::ItemInformation(ItemInformationResponse {
            circulation_status: FixedStr::new("04").unwrap(),
            security_marker: FixedStr::new("02").unwrap(),
            fee_type: FixedStr::new("01").unwrap(),
            transaction_date: date(),
            hold_queue_length: None,
            due_date: Some("2025-03-28 23:59:59".into()),
            recall_date: None,
            hold_pickup_date: None,
            item_identifier: "31000001".into(),
            title_identifier: title.into(),
            owner: Some("MAIN".into()),
            currency_type: None,
            fee_amount: None,
            media_type: Some("001".into()),
            permanent_location: Some("MAIN".into()),
            current_location: None,
            item_properties: None,
            screen_messages: vec![],
            print_lines: vec![],
        })
    };
    let r = item("Le Piège de Bogotá — 中文");
    let bytes = r.format(Some(7), true);
    let sum = bytes[..bytes.len() - 5]
        .iter()
        .fold(0u16, |s, &b| s.wrapping_add(u16::from(b)));
    let az = u16::from_str_radix(&text(&bytes[bytes.len() - 5..bytes.len() - 1]), 16).unwrap();
    assert_eq!(sum.wrapping_add(az), 0);
    let parsed = Response::parse(&bytes).unwrap();
    assert_eq!(parsed.response, r);
    // The same bytes read as Latin-1 still pass the checksum but give other characters,
    // here C1 controls (the dash is E2 80 94 in UTF-8), which are refused.
    assert!(matches!(
        Response::parse_with(&bytes, Charset::Latin1),
        Err(CodecError::ControlCharacter { .. })
    ));
    let r = item("Le Piège de Bogotá");
    let latin = Response::parse_with(&r.format(Some(7), true), Charset::Latin1).unwrap();
    assert_ne!(latin.response, r);
    // An unknown field in a response (Evergreen's CS call number) is kept.
    let extra =
        with_checksum(&format!("180402010{DATE}AB1|AJt|CSPB LP|AY6AZ").replacen("0", "", 1));
    let p = Response::parse(extra.as_bytes()).unwrap();
    assert_eq!(p.extra_fields[0].id, "CS");
}

#[test]
fn bad_checksums() {
    let good = with_checksum(&format!("35{DATE}AOLIB|AAP|AY1AZ"));
    assert!(Request::parse(good.as_bytes()).is_ok());
    let mut wrong_digit = good.clone().into_bytes();
    let last = wrong_digit.len() - 2;
    wrong_digit[last] = if wrong_digit[last] == b'0' {
        b'1'
    } else {
        b'0'
    };
    assert!(matches!(
        Request::parse(&wrong_digit),
        Err(CodecError::BadChecksum { .. })
    ));
    // Checksum of a different message.
    assert!(matches!(
        Request::parse(format!("35{DATE}AOLIB|AAP|AY1AZFEF6\r").as_bytes()),
        Err(CodecError::BadChecksum { found: 0xFEF6, .. })
    ));
    assert!(matches!(
        Request::parse(b"96AZFEF5"),
        Err(CodecError::BadChecksum { .. })
    ));
    // A trailer with AZ but garbage after it is not a trailer: it is read as a field.
    let p = request(&format!("35{DATE}AOLIB|AAP|AY1AZXYZW\r"));
    assert_eq!(p.checksum, None);
    assert_eq!(p.extra_fields[0].id, "AY");
}

#[test]
fn wrong_lengths() {
    assert!(matches!(
        Request::parse(b"9300"),
        Ok(ParsedRequest {
            request: Request::Login(_),
            ..
        })
    ));
    assert_eq!(
        Request::parse(b"930"),
        Err(CodecError::TooShort {
            command: "93",
            expected: 4,
            actual: 3
        })
    );
    assert_eq!(
        Request::parse(b"99008"),
        Err(CodecError::TooShort {
            command: "99",
            expected: 10,
            actual: 5
        })
    );
    assert_eq!(
        Request::parse(format!("23001{}", &DATE[..17]).as_bytes()),
        Err(CodecError::TooShort {
            command: "23",
            expected: 23,
            actual: 22
        })
    );
    assert_eq!(
        Request::parse(b"11YN20250314"),
        Err(CodecError::TooShort {
            command: "11",
            expected: 40,
            actual: 12
        })
    );
    assert!(matches!(
        Request::parse(b"9"),
        Err(CodecError::UnknownCommand { .. })
    ));
    assert_eq!(Request::parse(b""), Err(CodecError::Empty));
    assert_eq!(Request::parse(b"\r\n"), Err(CodecError::Empty));
    // Date shifted by one character.
    assert!(matches!(
        Request::parse(format!("2301{DATE}AOLIB|AAP|").as_bytes()),
        Err(CodecError::BadDate { command: "23", .. })
    ));
}

#[test]
fn bad_fixed_fields_and_dates() {
    assert_eq!(
        Request::parse(format!("11XN{DATE}{DATE}AOLIB|").as_bytes()),
        Err(CodecError::BadFixedField {
            command: "11",
            field: "SC renewal policy",
            found: "X".into()
        })
    );
    assert!(matches!(
        Request::parse(format!("23001{}AOLIB|", DATE.replace("0314", "0230")).as_bytes()),
        Err(CodecError::BadDate {
            field: "transaction date",
            ..
        })
    ));
    assert!(matches!(
        Request::parse("2300é20250314    093000AOLIB|".as_bytes()),
        Err(CodecError::BadFixedField {
            field: "language",
            ..
        })
    ));
    assert!(matches!(
        Response::parse(
            format!("24{}001{}AOLIB|AAP|AE|", " ".repeat(14), " ".repeat(18)).as_bytes()
        ),
        Err(CodecError::BadDate { command: "24", .. })
    ));
}

#[test]
fn garbage_bytes() {
    assert_eq!(
        Request::parse(b"hello"),
        Err(CodecError::UnknownCommand { code: "he".into() })
    );
    assert_eq!(
        Request::parse(b"42xyz"),
        Err(CodecError::UnknownCommand { code: "42".into() })
    );
    assert_eq!(
        Request::parse(b"23\x01bad"),
        Err(CodecError::InvalidCharacter { offset: 2, byte: 1 })
    );
    assert_eq!(
        Request::parse(format!("23001{DATE}AOLIB|AA\x7fP|").as_bytes()),
        Err(CodecError::InvalidCharacter {
            offset: 31,
            byte: 0x7F
        })
    );
    let mut bad_utf8 = format!("23001{DATE}AOLIB|AA").into_bytes();
    bad_utf8.extend_from_slice(b"\xff\xfe|");
    assert_eq!(
        Request::parse(&bad_utf8),
        Err(CodecError::InvalidUtf8 { offset: 31 })
    );
    // The same bytes are valid Latin-1.
    let Request::PatronStatus(m) = Request::parse_with(&bad_utf8, Charset::Latin1)
        .unwrap()
        .request
    else {
        panic!()
    };
    assert_eq!(m.patron_identifier, "ÿþ");
    assert!(matches!(
        Request::parse(format!("23001{DATE}AOLIB|A|").as_bytes()),
        Err(CodecError::MalformedField { offset: 29 })
    ));
    // A C1 control character is valid UTF-8 and valid Latin-1, and refused in both.
    assert_eq!(
        Request::parse(format!("23001{DATE}AOLIB|AAé\u{85}P|").as_bytes()),
        Err(CodecError::ControlCharacter {
            offset: 33,
            character: '\u{85}'
        })
    );
    let mut c1 = format!("23001{DATE}AOLIB|AA").into_bytes();
    c1.extend_from_slice(b"\xe9\x9fP|");
    assert_eq!(
        Request::parse_with(&c1, Charset::Latin1),
        Err(CodecError::ControlCharacter {
            offset: 32,
            character: '\u{9f}'
        })
    );
    // In any field, known or not; the characters around them pass.
    assert!(matches!(
        Request::parse(format!("23001{DATE}AOLIB|AA1|ZZx\u{80}|").as_bytes()),
        Err(CodecError::ControlCharacter { .. })
    ));
    assert!(Request::parse(format!("23001{DATE}AOLIB|AA\u{a0}陳\u{7e}|").as_bytes()).is_ok());
    assert!(matches!(
        Request::parse(format!("23001{DATE}AOLIB|#!x|").as_bytes()),
        Err(CodecError::MalformedField { .. })
    ));
    for noise in [
        &b"\xff\xff\xff\xff"[..],
        b"||||",
        b"AZ",
        b"AY1",
        b"AY1AZ0000",
        b"\0\0\0",
    ] {
        assert!(Request::parse(noise).is_err(), "{noise:?}");
    }
}

#[test]
fn tls_client_hello_sent_to_a_plain_port() {
    // The first bytes of a TLS 1.2/1.3 ClientHello: record type 0x16, version 3.1, length,
    // handshake type 1, ... then 32 random bytes that, here, contain a CR, as the Python
    // Sip2 client's hello did.
    let mut hello = vec![
        0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03, 0x5a, 0x0d, 0x9e, 0x41,
        0x5a, 0x32, 0x7c, 0x0d, 0x44, 0x59, 0x31, 0x41, 0x5a, 0x30, 0x30, 0x30, 0x30,
    ];
    hello.extend_from_slice(&[0x20; 32]);
    hello.extend_from_slice(&[0x13, 0x01, 0x13, 0x02, 0x13, 0x03, 0xc0, 0x2b, 0x00, 0x00]);
    assert_eq!(
        Request::parse(&hello),
        Err(CodecError::InvalidCharacter {
            offset: 0,
            byte: 0x16
        })
    );
    // As a CR-splitting reader would hand it over, piece by piece.
    for piece in hello.split(|&b| b == b'\r') {
        assert!(Request::parse(piece).is_err(), "{piece:?}");
        assert!(Response::parse(piece).is_err(), "{piece:?}");
    }
}

#[test]
fn over_long_lines_are_refused_before_any_work() {
    let max = format!("23001{DATE}AOLIB|AA{}|", "9".repeat(MAX_MESSAGE_LEN - 32));
    assert_eq!(max.len(), MAX_MESSAGE_LEN);
    assert!(Request::parse(max.as_bytes()).is_ok());
    let over = format!("{max}\r");
    assert_eq!(
        Request::parse(over.as_bytes()),
        Err(CodecError::LineTooLong {
            len: MAX_MESSAGE_LEN + 1,
            max: MAX_MESSAGE_LEN
        })
    );
    let megabyte = vec![b'A'; 1 << 20];
    assert_eq!(
        Request::parse(&megabyte),
        Err(CodecError::LineTooLong {
            len: 1 << 20,
            max: MAX_MESSAGE_LEN
        })
    );
}

#[test]
fn long_values_are_cut_on_output() {
    let r = Response::EndSession(EndSessionResponse {
        end_session: true,
        transaction_date: date(),
        institution_id: "LIB".into(),
        patron_identifier: "é".repeat(300),
        screen_messages: vec!["a|b\rc\nd".into()],
        print_lines: vec![],
    });
    let Response::EndSession(back) = Response::parse(&r.format(None, true)).unwrap().response
    else {
        panic!()
    };
    assert_eq!(back.patron_identifier, "é".repeat(MAX_FIELD_CHARS));
    assert_eq!(back.screen_messages, ["a b c d"]);
}

#[test]
fn numbers_are_clamped_to_their_width() {
    let r = Response::RenewAll(RenewAllResponse {
        ok: true,
        renewed_count: 12_345,
        unrenewed_count: 0,
        transaction_date: date(),
        institution_id: String::new(),
        renewed_items: vec![],
        unrenewed_items: vec![],
        screen_messages: vec![],
        print_lines: vec![],
    });
    assert_eq!(
        text(&r.format(None, false)),
        format!("66199990000{DATE}AO|\r")
    );
}

#[test]
fn command_codes_are_listed() {
    assert_eq!(Request::CODES.len(), 14);
    assert!(
        Request::CODES
            .iter()
            .all(|c| SupportedMessages::ORDER.contains(c))
    );
    assert_eq!(Response::RequestScResend.code(), "96");
}
