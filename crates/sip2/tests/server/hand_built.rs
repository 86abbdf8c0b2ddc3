//! Hand-built messages: what the `sip2` crate does not send, and the session rules.

use crate::fake::*;
use crate::{DATE, TestServer, config, field, fields, parse};
use library_sip2::{Response, checksum};

/// `message` + `AY<seq>AZ<checksum>`.
pub fn signed(message: &str, seq: u8) -> String {
    let prefix = format!("{message}AY{seq}AZ");
    format!("{prefix}{:04X}", checksum(prefix.as_bytes()))
}

#[tokio::test]
async fn renew_all_renews_what_it_can() {
    let server = TestServer::start().await;
    let mut s = server.station().await;
    let answer = s
        .exchange(&format!("65{DATE}AO{LIBRARY}|AA{READER}|AD{PIN}|"))
        .await;
    assert!(
        answer.starts_with("6610001000120250314    093000"),
        "{answer}"
    );
    assert_eq!(fields(&answer, "BM"), [LOANED_ITEM]);
    assert_eq!(fields(&answer, "BN"), [MAXED_ITEM]);
    assert_eq!(
        fields(&answer, "AF"),
        [format!(
            "{MAXED_ITEM}: the loan has been renewed as often as the rules allow"
        )]
    );
    parse(&answer);
}

#[tokio::test]
async fn hold_place_and_cancel() {
    let server = TestServer::start().await;
    let mut s = server.station().await;
    let placed = s
        .exchange(&format!(
            "15+{DATE}BSMAIN|BY2|AO{LIBRARY}|AA{READER}|AD{PIN}|AB{FREE_ITEM}|"
        ))
        .await;
    assert!(placed.starts_with("161N"), "{placed}");
    assert_eq!(field(&placed, "BR"), Some("1"));
    assert_eq!(field(&placed, "BS"), Some("MAIN"));
    let cancelled = s
        .exchange(&format!(
            "15-{DATE}AO{LIBRARY}|AA{READER}|AD{PIN}|AB{FREE_ITEM}|"
        ))
        .await;
    assert!(cancelled.starts_with("161N"), "{cancelled}");
    let again = s
        .exchange(&format!(
            "15-{DATE}AO{LIBRARY}|AA{READER}|AD{PIN}|AB{FREE_ITEM}|"
        ))
        .await;
    assert!(again.starts_with("160N"), "{again}");
    assert_eq!(field(&again, "AF"), Some("No such hold"));
    let changed = s
        .exchange(&format!("15*{DATE}AO{LIBRARY}|AA{READER}|AB{FREE_ITEM}|"))
        .await;
    assert!(changed.starts_with("160N"), "{changed}");
}

#[tokio::test]
async fn end_session_checks_a_supplied_pin() {
    let server = TestServer::start().await;
    let mut s = server.station().await;
    let ok = s
        .exchange(&format!("35{DATE}AO{LIBRARY}|AA{READER}|AD{PIN}|"))
        .await;
    assert!(ok.starts_with("36Y"), "{ok}");
    let no_pin = s
        .exchange(&format!("35{DATE}AO{LIBRARY}|AA{READER}|AD|"))
        .await;
    assert!(no_pin.starts_with("36Y"), "{no_pin}");
    let bad = s
        .exchange(&format!("35{DATE}AO{LIBRARY}|AA{READER}|AD0000|"))
        .await;
    assert!(bad.starts_with("36N"), "{bad}");
}

#[tokio::test]
async fn resend_repeats_the_last_response_byte_for_byte() {
    let server = TestServer::start().await;
    let mut s = server.connect().await;
    assert_eq!(
        s.exchange("97AZFEF5").await,
        "96AZFEF6\r",
        "nothing sent yet"
    );
    s.login().await;
    let status = s.exchange(&signed("9900802.00", 4)).await;
    assert!(status.starts_with("98") && status.contains("AY4AZ"));
    assert_eq!(s.exchange("97AZFEF5").await, status);
    assert_eq!(s.exchange("97").await, status);
}

#[tokio::test]
async fn bad_checksums_ask_for_a_resend_and_keep_the_connection() {
    let server = TestServer::start().await;
    let mut s = server.connect().await;
    assert_eq!(
        s.exchange("9300CNsc_user|COsc_pass|AY0AZ0000").await,
        "96AZFEF6\r"
    );
    assert_eq!(
        server
            .library
            .logins
            .load(std::sync::atomic::Ordering::SeqCst),
        0
    );
    s.login().await;
    let good = signed(&format!("23001{DATE}AO{LIBRARY}|AA{READER}|AC|AD{PIN}|"), 2);
    let bad = format!("{}0000", &good[..good.len() - 4]);
    assert_eq!(s.exchange(&bad).await, "96AZFEF6\r");
    let answer = s.exchange(&good).await;
    assert!(answer.starts_with("24"), "{answer}");
    assert!(answer.contains("AY2AZ"), "{answer}");
    parse(&answer);
}

#[tokio::test]
async fn messages_before_login_close_the_connection_unanswered() {
    let server = TestServer::start().await;
    for message in [
        format!("23001{DATE}AO{LIBRARY}|AA{READER}|AC|AD{PIN}|\r"),
        format!(
            "11YN{DATE}{}AO{LIBRARY}|AA{READER}|AB{FREE_ITEM}|AC|\r",
            " ".repeat(18)
        ),
        format!("35{DATE}AO{LIBRARY}|AA{READER}|\r"),
    ] {
        let mut s = server.connect().await;
        s.expect_closed_after(message.as_bytes()).await;
    }
    assert_eq!(server.library.writes(), 0, "nothing ran");
    assert_eq!(server.library.loan_of(FREE_ITEM), None);

    // 99 and 97 are answered before login.
    let mut s = server.connect().await;
    let status = s.exchange("9900802.00").await;
    assert!(status.starts_with("98YYYYNN"), "{status}");
    assert_eq!(field(&status, "AO"), Some("MAIN"));
    assert_eq!(s.exchange("97").await, status);
}

#[tokio::test]
async fn three_failed_logins_answer_940_and_close() {
    let server = TestServer::start().await;
    let mut s = server.connect().await;
    assert_eq!(s.exchange("9300CNsc_user|COwrong|").await, "940\r");
    assert_eq!(s.exchange("9300CNnobody|COsc_pass|").await, "940\r");
    let third = signed("9300CNsc_user|COnope|", 3);
    s.send(format!("{third}\r").as_bytes()).await;
    let answer = String::from_utf8(s.recv().await.expect("the third 940")).unwrap();
    assert!(answer.starts_with("940AY3AZ"), "{answer}");
    s.expect_closed().await;

    // Two failures, then success: the connection is the station's.
    let mut s = server.connect().await;
    assert_eq!(s.exchange("9300CNsc_user|COwrong|").await, "940\r");
    assert_eq!(
        s.exchange("9310CNsc_user|COsc_pass|").await,
        "940\r",
        "only plain text"
    );
    s.login().await;
    let answer = s
        .exchange(&format!("23001{DATE}AO{LIBRARY}|AA{READER}|AC|AD{PIN}|"))
        .await;
    assert!(answer.starts_with("24"), "{answer}");
}

#[tokio::test]
async fn a_backend_failure_at_login_is_refused_but_not_counted() {
    let server = TestServer::start().await;
    let mut s = server.connect().await;
    for _ in 0..3 {
        assert_eq!(s.exchange("9300CNbroken|COx|").await, "940\r");
    }
    s.login().await;
}

#[tokio::test]
async fn a_failed_login_logs_the_connection_out() {
    let server = TestServer::start().await;
    let mut s = server.station().await;
    assert_eq!(s.exchange("9300CNsc_user|COwrong|").await, "940\r");
    s.expect_closed_after(format!("35{DATE}AO{LIBRARY}|AA{READER}|\r").as_bytes())
        .await;
}

#[tokio::test]
async fn unknown_card_and_wrong_pin_have_the_same_shape() {
    let server = TestServer::start().await;
    let mut s = server.station().await;
    let unknown = s
        .exchange(&format!("23001{DATE}AO{LIBRARY}|AA29999999|AC|AD{PIN}|"))
        .await;
    let wrong = s
        .exchange(&format!("23001{DATE}AO{LIBRARY}|AA{READER}|AC|AD9999|"))
        .await;
    let shape = |a: &str| {
        let p = parse(a);
        let Response::PatronStatus(m) = p.response else {
            panic!("{a}")
        };
        (
            m.patron_status,
            m.personal_name,
            m.valid_patron_password,
            m.screen_messages,
            m.fee_amount,
        )
    };
    assert_eq!(shape(&unknown), shape(&wrong));
    assert_eq!(field(&unknown, "BL"), Some("N"));
    assert_eq!(field(&wrong, "BL"), Some("Y"));

    // The same for a checkout.
    let blank = " ".repeat(18);
    let unknown = s
        .exchange(&format!(
            "11YN{DATE}{blank}AO{LIBRARY}|AA29999999|AB{FREE_ITEM}|AC|AD{PIN}|"
        ))
        .await;
    let wrong = s
        .exchange(&format!(
            "11YN{DATE}{blank}AO{LIBRARY}|AA{READER}|AB{FREE_ITEM}|AC|AD9999|"
        ))
        .await;
    assert!(unknown.starts_with("120NUN") && wrong.starts_with("120NUN"));
    assert_eq!(field(&unknown, "AF"), field(&wrong, "AF"));
    assert_eq!(server.library.loan_of(FREE_ITEM), None);
}

#[tokio::test]
async fn item_information() {
    let server = TestServer::start().await;
    let mut s = server.station().await;
    let on_loan = s
        .exchange(&format!("17{DATE}AO{LIBRARY}|AB{LOANED_ITEM}|AC|"))
        .await;
    assert!(on_loan.starts_with("180400"), "{on_loan}");
    assert_eq!(field(&on_loan, "AJ"), Some("Piège à cœur"));
    assert_eq!(field(&on_loan, "AH"), Some("20250320    235959"));
    let unknown = s.exchange(&format!("17{DATE}AO{LIBRARY}|ABnope|AC|")).await;
    assert!(unknown.starts_with("180100"), "{unknown}");
    assert_eq!(field(&unknown, "AJ"), Some(""));
}

#[tokio::test]
async fn fee_paid_in_another_currency_or_a_bad_amount_is_refused() {
    let server = TestServer::start_with(library_sip2::server::ServerConfig {
        currency: library_sip2::FixedStr::new("HKD").unwrap(),
        ..config()
    })
    .await;
    let mut s = server.station().await;
    let usd = s
        .exchange(&format!("37{DATE}0100USDBV1.00|AO{LIBRARY}|AA{OWING}|"))
        .await;
    assert!(usd.starts_with("38N"), "{usd}");
    assert_eq!(field(&usd, "AF"), Some("Payments are taken in HKD."));
    let bad = s
        .exchange(&format!("37{DATE}0100HKDBV-1.00|AO{LIBRARY}|AA{OWING}|"))
        .await;
    assert!(bad.starts_with("38N"), "{bad}");
    let ok = s
        .exchange(&format!("37{DATE}0100HKDBV.5|AO{LIBRARY}|AA{OWING}|"))
        .await;
    assert!(ok.starts_with("38Y"), "{ok}");
    assert_eq!(field(&ok, "AF"), Some("Still outstanding: 59.50"));
    assert_eq!(server.library.writes(), 1);
}

#[tokio::test]
async fn required_error_detection_refuses_unsigned_messages() {
    let server = TestServer::start_with(library_sip2::server::ServerConfig {
        require_error_detection: true,
        ..config()
    })
    .await;
    let mut s = server.connect().await;
    assert_eq!(s.exchange("9300CNsc_user|COsc_pass|").await, "96AZFEF6\r");
    let answer = s.exchange(&signed("9300CNsc_user|COsc_pass|", 0)).await;
    assert_eq!(answer, "941AY0AZFDFD\r");
}

#[tokio::test]
async fn crlf_and_lf_terminators_are_accepted() {
    let server = TestServer::start().await;
    let mut s = server.connect().await;
    s.send(b"9300CNsc_user|COsc_pass|\r\n9900802.00\n").await;
    assert_eq!(s.recv().await.unwrap(), b"941\r");
    let status = s.recv().await.unwrap();
    assert!(status.starts_with(b"98"));
}
