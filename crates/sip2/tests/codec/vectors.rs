//! The acceptance vectors of `docs/sip2.md` (Acceptance vectors), as far as they concern
//! parsing and formatting (what the server decides is tested with the server). Numbers are
//! the vector numbers there.

use library_sip2::*;

use crate::{DATE, date, request, response, text};

fn blank() -> String {
    " ".repeat(18)
}

fn trailer_ok(bytes: &[u8], seq: char) {
    let s = text(bytes);
    let at = s.rfind(&format!("AY{seq}AZ")).expect("AY/AZ trailer");
    assert_eq!(s.len() - at, 9 + 1, "{s:?}");
    let parsed = response(bytes);
    assert_eq!(
        parsed.sequence,
        u8::try_from(seq.to_digit(10).unwrap()).ok()
    );
    assert!(parsed.checksum.is_some());
}

fn patron_status_response(valid: bool, pin: Option<bool>) -> PatronStatusResponse {
    PatronStatusResponse {
        patron_status: PatronStatus::GOOD_STANDING,
        language: FixedStr::LANGUAGE_ENGLISH,
        transaction_date: date(),
        institution_id: "LIB".into(),
        patron_identifier: "P".into(),
        personal_name: "Chan Tai Man".into(),
        valid_patron: Some(valid),
        valid_patron_password: pin,
        currency_type: None,
        fee_amount: None,
        screen_messages: vec![],
        print_lines: vec![],
    }
}

fn checkout_response(ok: bool) -> CheckoutResponse {
    CheckoutResponse {
        ok,
        renewal_ok: false,
        magnetic_media: if ok {
            YesNoUnknown::No
        } else {
            YesNoUnknown::Unknown
        },
        desensitize: if ok {
            YesNoUnknown::Yes
        } else {
            YesNoUnknown::No
        },
        transaction_date: date(),
        institution_id: "LIB".into(),
        patron_identifier: "P".into(),
        item_identifier: "I".into(),
        title_identifier: if ok { "A Title".into() } else { String::new() },
        due_date: if ok {
            "20250328    235900".into()
        } else {
            String::new()
        },
        fee_type: None,
        security_inhibit: None,
        currency_type: None,
        fee_amount: None,
        media_type: None,
        item_properties: None,
        transaction_id: None,
        valid_patron: Some(true),
        screen_messages: vec![],
        print_lines: vec![],
    }
}

#[test]
fn v01_login() {
    let p = request("9300CNsc_user|COsc_pass|CPMAIN|AY0AZF3A0\r");
    assert_eq!(
        p.request,
        Request::Login(LoginRequest {
            uid_algorithm: FixedStr::new("0").unwrap(),
            pwd_algorithm: FixedStr::new("0").unwrap(),
            login_user_id: "sc_user".into(),
            login_password: "sc_pass".into(),
            location_code: Some("MAIN".into()),
        })
    );
    assert_eq!((p.sequence, p.checksum), (Some(0), Some(0xF3A0)));
    let ok = Response::Login(LoginResponse { ok: true });
    assert_eq!(ok.format(p.sequence, true), b"941AY0AZFDFD\r");
    assert_eq!(
        Response::Login(LoginResponse { ok: false }).format(None, false),
        b"940\r"
    );
}

#[test]
fn v02_sc_status_and_acs_status() {
    let p = request("9900802.00AY1AZFCA0\r");
    let Request::ScStatus(m) = &p.request else {
        panic!("{p:?}")
    };
    assert_eq!(
        (m.status_code.as_str(), m.max_print_width.as_str()),
        ("0", "080")
    );
    assert_eq!(m.protocol_version, FixedStr::PROTOCOL_2_00);
    assert_eq!(p.sequence, Some(1));

    let ours = [
        "93", "99", "97", "23", "63", "11", "09", "29", "65", "15", "17", "35", "37", "01",
    ];
    let r = Response::AcsStatus(AcsStatusResponse {
        online_status: true,
        checkin_ok: true,
        checkout_ok: true,
        acs_renewal_policy: true,
        status_update_ok: false,
        offline_ok: false,
        timeout_period: 100,
        retries_allowed: 3,
        date_time_sync: date(),
        protocol_version: FixedStr::PROTOCOL_2_00,
        institution_id: "LIB".into(),
        library_name: Some("Central".into()),
        supported_messages: SupportedMessages::from_codes(&ours),
        terminal_location: None,
        screen_messages: vec![],
        print_lines: vec![],
    });
    let bytes = r.format(p.sequence, true);
    let s = text(&bytes);
    // 98 + 6 × Y/N + 6 digits + date + 2.00: a 36-character fixed part.
    assert_eq!(&s[..36], format!("98YYYYNN100003{DATE}2.00"));
    assert!(s[2..8].bytes().all(|b| b == b'Y' || b == b'N'));
    assert!(s[8..14].bytes().all(|b| b.is_ascii_digit()));
    assert!(
        s[36..].starts_with("AOLIB|AMCentral|BXYYYYYYYYYYYNNYYY|"),
        "{s}"
    );
    assert!(
        ours.iter()
            .all(|c| SupportedMessages::parse("YYYYYYYYYYYNNYYY").supports(c))
    );
    assert!(!SupportedMessages::parse("YYYYYYYYYYYNNYYY").supports("19"));
    trailer_ok(&bytes, '1');
}

#[test]
fn v03_corrupted_checksum_and_the_96_answer() {
    assert_eq!(
        Request::parse(b"9300CNsc_user|COsc_pass|CPMAIN|AY0AZF3A1\r"),
        Err(CodecError::BadChecksum {
            expected: 0xF3A0,
            found: 0xF3A1
        })
    );
    // One byte changed in the body, checksum kept.
    assert!(matches!(
        Request::parse(b"9300CNsc_user|COsc_pasS|CPMAIN|AY0AZF3A0\r"),
        Err(CodecError::BadChecksum { .. })
    ));
    assert_eq!(Response::RequestScResend.format(None, true), b"96AZFEF6\r");
    // 96 never echoes AY.
    assert_eq!(
        Response::RequestScResend.format(Some(4), true),
        b"96AZFEF6\r"
    );
    // A non-SIP frame: an error, not a panic.
    assert!(Request::parse(b"GET / HTTP/1.1\r").is_err());
}

#[test]
fn v04_resend() {
    let p = request("97AZFEF5\r");
    assert_eq!(p.request, Request::RequestAcsResend);
    assert_eq!((p.sequence, p.checksum), (None, Some(0xFEF5)));
    assert_eq!(
        Request::RequestAcsResend.format(Some(2), true),
        b"97AZFEF5\r"
    );
    assert_eq!(request("97\r").request, Request::RequestAcsResend);
}

#[test]
fn v05_v06_v07_patron_status() {
    for (pin, expected) in [("AD1234|", "1234"), ("ADwrong|", "wrong"), ("AD|", "")] {
        let p = request(&format!("23001{DATE}AOLIB|AAP|AC|{pin}\r"));
        let Request::PatronStatus(m) = p.request else {
            panic!()
        };
        assert_eq!(m.language, FixedStr::LANGUAGE_ENGLISH);
        assert_eq!(m.transaction_date, Some(date()));
        assert_eq!(
            (m.institution_id.as_str(), m.patron_identifier.as_str()),
            ("LIB", "P")
        );
        assert_eq!(
            (m.terminal_password.as_str(), m.patron_password.as_str()),
            ("", expected)
        );
    }

    let ok = Response::PatronStatus(patron_status_response(true, Some(true))).format(None, false);
    assert_eq!(
        text(&ok),
        format!(
            "24{}001{DATE}AOLIB|AAP|AEChan Tai Man|BLY|CQY|\r",
            " ".repeat(14)
        )
    );

    let mut wrong = patron_status_response(true, Some(false));
    wrong.screen_messages = vec!["Invalid PIN".into()];
    let s = text(&Response::PatronStatus(wrong).format(None, false));
    assert!(s.contains("|BLY|CQN|AFInvalid PIN|"), "{s}");

    let mut unknown = patron_status_response(false, Some(false));
    unknown.patron_status = PatronStatus::PRIVILEGES_DENIED;
    unknown.personal_name = String::new();
    unknown.patron_identifier = "nobody".into();
    unknown.screen_messages = vec!["Invalid card number or PIN".into()];
    let s = text(&Response::PatronStatus(unknown).format(Some(5), true));
    assert!(s.starts_with("24YYYY          001"), "{s}");
    assert!(s.contains("AAnobody|AE|BLN|CQN|AF"), "{s}");
}

#[test]
fn v08_patron_information_and_all_summary_variants() {
    let p = request(&format!("63001{DATE}Y         AOLIB|AAP|AD1234|\r"));
    let Request::PatronInformation(m) = p.request else {
        panic!()
    };
    assert_eq!(m.summary, Some(SummaryItem::HoldItems));
    assert_eq!(m.patron_password.as_deref(), Some("1234"));
    assert_eq!(m.terminal_password, None);

    // Koha's Message.t sends all 11 variants: blank, and Y at each of the 10 positions.
    let expected = [
        Some(SummaryItem::HoldItems),
        Some(SummaryItem::OverdueItems),
        Some(SummaryItem::ChargedItems),
        Some(SummaryItem::FineItems),
        Some(SummaryItem::RecallItems),
        Some(SummaryItem::UnavailableHolds),
        None,
        None,
        None,
        None,
    ];
    let mut variants = vec![(" ".repeat(10), None)];
    for (i, want) in expected.into_iter().enumerate() {
        variants.push((format!("{}Y{}", " ".repeat(i), " ".repeat(9 - i)), want));
    }
    for (summary, want) in variants {
        let p = request(&format!("63001{DATE}{summary}AOLIB|AAP|BP1|BQ5|\r"));
        let Request::PatronInformation(m) = p.request else {
            panic!()
        };
        assert_eq!(m.summary, want, "{summary:?}");
        assert_eq!(
            (m.start_item.as_deref(), m.end_item.as_deref()),
            (Some("1"), Some("5"))
        );
    }

    let r = Response::PatronInformation(PatronInformationResponse {
        patron_status: PatronStatus::GOOD_STANDING,
        language: FixedStr::LANGUAGE_ENGLISH,
        transaction_date: date(),
        hold_items_count: Some(2),
        overdue_items_count: Some(0),
        charged_items_count: Some(3),
        fine_items_count: Some(0),
        recall_items_count: None,
        unavailable_holds_count: Some(1),
        institution_id: "LIB".into(),
        patron_identifier: "P".into(),
        personal_name: "Chan Tai Man".into(),
        hold_items_limit: Some(10),
        overdue_items_limit: None,
        charged_items_limit: Some(20),
        valid_patron: Some(true),
        valid_patron_password: Some(true),
        currency_type: Some("HKD".into()),
        fee_amount: Some("0.00".into()),
        fee_limit: None,
        hold_items: vec!["31000001".into(), "31000002".into()],
        overdue_items: vec![],
        charged_items: vec![],
        fine_items: vec![],
        recall_items: vec![],
        unavailable_hold_items: vec![],
        home_address: None,
        email_address: Some("p@example.org".into()),
        home_phone_number: None,
        screen_messages: vec![],
        print_lines: vec![],
    });
    let s = text(&r.format(None, false));
    assert_eq!(s.find("AO"), Some(61), "61-character fixed part: {s}");
    assert_eq!(&s[37..61], "0002000000030000    0001", "{s}");
    assert!(
        s.contains("|BZ0010|CB0020|BLY|CQY|BHHKD|BV0.00|AS31000001|AS31000002|BEp@example.org|"),
        "{s}"
    );
}

#[test]
fn v09_v10_v11_checkout() {
    let p = request(&format!("11YN{DATE}{}AOLIB|AAP|ABI|AC|\r", blank()));
    let Request::Checkout(m) = p.request else {
        panic!()
    };
    assert!(m.sc_renewal_policy && !m.no_block);
    assert_eq!((m.transaction_date, m.nb_due_date), (Some(date()), None));
    assert_eq!(
        (m.patron_identifier.as_str(), m.item_identifier.as_str()),
        ("P", "I")
    );
    assert_eq!(m.terminal_password, "");

    let s = text(&Response::Checkout(checkout_response(true)).format(None, false));
    assert!(
        s.starts_with(&format!(
            "121NNY{DATE}AOLIB|AAP|ABI|AJA Title|AH20250328    235900|"
        )),
        "{s}"
    );

    let s = text(&Response::Checkout(checkout_response(false)).format(None, false));
    assert!(
        s.starts_with(&format!("120NUN{DATE}AOLIB|AAP|ABI|AJ|AH|BLY|")),
        "{s}"
    );

    let mut blocked = checkout_response(false);
    blocked.valid_patron = Some(false);
    blocked.screen_messages = vec!["Patron has outstanding fines".into()];
    let s = text(&Response::Checkout(blocked).format(None, false));
    assert!(
        s.starts_with("120NUN") && s.ends_with("|BLN|AFPatron has outstanding fines|\r"),
        "{s}"
    );
}

#[test]
fn v12_checkin() {
    let p = request(&format!("09N{DATE}{DATE}APx|AOLIB|ABI|AC|\r"));
    let Request::Checkin(m) = p.request else {
        panic!()
    };
    assert!(!m.no_block);
    assert_eq!(m.return_date, Some(date()));
    assert_eq!(
        (m.current_location.as_str(), m.item_identifier.as_str()),
        ("x", "I")
    );

    let mut r = CheckinResponse {
        ok: true,
        resensitize: true,
        magnetic_media: YesNoUnknown::No,
        alert: false,
        transaction_date: date(),
        institution_id: "LIB".into(),
        item_identifier: "I".into(),
        permanent_location: "Central".into(),
        title_identifier: Some("A Title".into()),
        sort_bin: None,
        patron_identifier: Some("P".into()),
        media_type: None,
        item_properties: None,
        alert_type: None,
        destination_location: None,
        screen_messages: vec![],
        print_lines: vec![],
    };
    let s = text(&Response::Checkin(r.clone()).format(None, false));
    assert_eq!(
        s,
        format!("101YNN{DATE}AOLIB|ABI|AQCentral|AJA Title|AAP|\r")
    );
    // Sent on to another library (3M extensions, as Koha sends them): `CV` 04 and `CT`
    // the destination, with the alert flag; parsed back the same.
    let mut transit = r.clone();
    transit.alert = true;
    transit.sort_bin = Some("STLB".into());
    transit.alert_type = Some("04".into());
    transit.destination_location = Some("STLB".into());
    let bytes = Response::Checkin(transit.clone()).format(None, false);
    assert_eq!(
        text(&bytes),
        format!("101YNY{DATE}AOLIB|ABI|AQCentral|AJA Title|CLSTLB|AAP|CV04|CTSTLB|\r")
    );
    assert_eq!(
        Response::parse(&bytes).unwrap().response,
        Response::Checkin(transit)
    );
    r.ok = false;
    r.alert = true;
    r.patron_identifier = None;
    r.screen_messages = vec!["Item not checked out".into()];
    let s = text(&Response::Checkin(r).format(None, false));
    assert!(
        s.starts_with("100YNY") && s.contains("|AFItem not checked out|"),
        "{s}"
    );
}

#[test]
fn v13_renew() {
    let p = request(&format!("29NN{DATE}{}AOLIB|AAP|ABI|\r", blank()));
    let Request::Renew(m) = p.request else {
        panic!()
    };
    assert!(!m.third_party_allowed && !m.no_block);
    assert_eq!(m.nb_due_date, None);
    assert_eq!(m.item_identifier.as_deref(), Some("I"));
    assert_eq!((m.patron_password, m.title_identifier), (None, None));

    let mut ok = checkout_response(true);
    ok.renewal_ok = true;
    let s = text(&Response::Renew(ok).format(None, false));
    assert!(
        s.starts_with("301YNY") && s.contains("|AH20250328    235900|"),
        "{s}"
    );
    let mut refused = checkout_response(false);
    refused.screen_messages = vec!["Item has reached maximum renewals".into()];
    let s = text(&Response::Renew(refused).format(None, false));
    assert!(
        s.starts_with("300NUN") && s.contains("|AH|") && s.contains("|AFItem has reached"),
        "{s}"
    );
}

#[test]
fn v14_renew_all() {
    for msg in [
        format!("65{DATE}AOLIB|AAP|AD1234|\r"),
        // The Python Sip2 client leaves the date out.
        "65AOLIB|AAP|AD1234|\r".to_owned(),
    ] {
        let p = request(&msg);
        let Request::RenewAll(m) = p.request else {
            panic!()
        };
        assert_eq!(
            (m.institution_id.as_str(), m.patron_identifier.as_str()),
            ("LIB", "P")
        );
        assert_eq!(m.patron_password.as_deref(), Some("1234"));
    }
    let mut r = RenewAllResponse {
        ok: true,
        renewed_count: 1,
        unrenewed_count: 0,
        transaction_date: date(),
        institution_id: "LIB".into(),
        renewed_items: vec!["I".into()],
        unrenewed_items: vec![],
        screen_messages: vec![],
        print_lines: vec![],
    };
    let s = text(&Response::RenewAll(r.clone()).format(None, false));
    assert_eq!(s, format!("66100010000{DATE}AOLIB|BMI|\r"));
    r.ok = false;
    r.renewed_count = 0;
    r.renewed_items.clear();
    let s = text(&Response::RenewAll(r).format(None, false));
    assert_eq!(s, format!("66000000000{DATE}AOLIB|\r"));
}

#[test]
fn v15_hold() {
    let p = request(&format!("15+{DATE}BW{DATE}|BSx|BY2|AOLIB|AAP|ABI|\r"));
    let Request::Hold(m) = p.request else {
        panic!()
    };
    assert_eq!(m.hold_mode, HoldMode::Add);
    assert_eq!(m.expiration_date.as_deref(), Some(DATE));
    assert_eq!(
        SipDate::parse(m.expiration_date.unwrap().as_bytes()),
        Ok(Some(date()))
    );
    assert_eq!(
        (m.pickup_location.as_deref(), m.hold_type.as_deref()),
        (Some("x"), Some("2"))
    );
    assert_eq!(m.item_identifier.as_deref(), Some("I"));

    let mut r = HoldResponse {
        ok: true,
        available: false,
        transaction_date: date(),
        expiration_date: None,
        queue_position: Some("1".into()),
        pickup_location: Some("x".into()),
        institution_id: "LIB".into(),
        patron_identifier: "P".into(),
        item_identifier: Some("I".into()),
        title_identifier: None,
        screen_messages: vec![],
        print_lines: vec![],
    };
    let s = text(&Response::Hold(r.clone()).format(None, false));
    assert_eq!(s, format!("161N{DATE}BR1|BSx|AOLIB|AAP|ABI|\r"));
    r.ok = false;
    assert!(text(&Response::Hold(r).format(None, false)).starts_with("160N"));
}

#[test]
fn v16_fee_paid() {
    let p = request(&format!("37{DATE}0100USDBV2.50|AOLIB|AAP|\r"));
    let Request::FeePaid(m) = p.request else {
        panic!()
    };
    assert_eq!((m.fee_type.as_str(), m.payment_type.as_str()), ("01", "00"));
    assert_eq!(
        (m.currency_type.as_str(), m.fee_amount.as_str()),
        ("USD", "2.50")
    );

    let mut r = FeePaidResponse {
        payment_accepted: true,
        transaction_date: date(),
        institution_id: "LIB".into(),
        patron_identifier: "P".into(),
        transaction_id: None,
        screen_messages: vec![],
        print_lines: vec![],
    };
    assert_eq!(
        text(&Response::FeePaid(r.clone()).format(None, false)),
        format!("38Y{DATE}AOLIB|AAP|\r")
    );
    r.payment_accepted = false;
    r.screen_messages = vec!["Paid amount is more than amount owed".into()];
    let s = text(&Response::FeePaid(r).format(None, false));
    assert!(s.starts_with("38N") && s.contains("|AFPaid amount"), "{s}");
}

#[test]
fn v17_end_session() {
    let p = request(&format!("35{DATE}AOLIB|AAP|AD1234|\r"));
    let Request::EndPatronSession(m) = p.request else {
        panic!()
    };
    assert_eq!(m.patron_password.as_deref(), Some("1234"));
    let mut r = EndSessionResponse {
        end_session: true,
        transaction_date: date(),
        institution_id: "LIB".into(),
        patron_identifier: "P".into(),
        screen_messages: vec![],
        print_lines: vec![],
    };
    assert_eq!(
        text(&Response::EndSession(r.clone()).format(None, false)),
        format!("36Y{DATE}AOLIB|AAP|\r")
    );
    r.end_session = false;
    assert!(text(&Response::EndSession(r).format(None, false)).starts_with("36N"));
}

#[test]
fn v18_block_patron() {
    let p = request(&format!("01N{DATE}AOLIB|ALmsg|AAP|AC|\r"));
    let Request::BlockPatron(m) = p.request else {
        panic!()
    };
    assert!(!m.card_retained);
    assert_eq!(
        (m.blocked_card_msg.as_str(), m.patron_identifier.as_str()),
        ("msg", "P")
    );
    assert_eq!(m.patron_password, None);
    // A station that needs PINs adds `AD` (not in 2.00 for 01; read when sent).
    let p = request(&format!("01N{DATE}AOLIB|ALmsg|AAP|AC|AD1234|\r"));
    let Request::BlockPatron(m) = p.request else {
        panic!()
    };
    assert_eq!(m.patron_password.as_deref(), Some("1234"));
    let mut r = patron_status_response(true, None);
    r.patron_status = PatronStatus::PRIVILEGES_DENIED;
    assert!(text(&Response::PatronStatus(r).format(None, false)).starts_with("24YYYY          "));
}

#[test]
fn v19_a_repeated_request_is_recognisable() {
    let msg = RenewAllRequest {
        transaction_date: Some(date()),
        institution_id: "LIB".into(),
        patron_identifier: "P".into(),
        patron_password: None,
        terminal_password: None,
        fee_acknowledged: None,
    };
    let bytes = Request::RenewAll(msg).format(Some(6), true);
    let (a, b) = (
        Request::parse(&bytes).unwrap(),
        Request::parse(&bytes).unwrap(),
    );
    assert_eq!((a.sequence, a.checksum), (b.sequence, b.checksum));
    assert!(a.checksum.is_some());
    // The next request of the station has another AY, so another key.
    let next = Request::parse(&Request::RequestAcsResend.format(Some(7), true)).unwrap();
    assert_ne!((a.sequence, a.checksum), (next.sequence, next.checksum));
}
