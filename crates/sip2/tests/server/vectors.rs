//! The acceptance vectors of `docs/sip2.md` (Acceptance vectors) that concern the server,
//! in its numbering. Patron `P` is READER (PIN 1234), item `I` FREE_ITEM or LOANED_ITEM.

use crate::fake::*;
use crate::hand_built::signed;
use crate::{DATE, TestServer, field, fields, parse};
use library_sip2::{PatronStatus, Response, checksum};

fn blank() -> String {
    " ".repeat(18)
}

/// Checks the trailer of an answer: `AY<seq>AZ` and a valid checksum.
fn assert_signed(answer: &str, seq: u8) {
    let body = answer.trim_end_matches('\r');
    let (prefix, sum) = body.split_at(body.len() - 4);
    assert!(prefix.ends_with(&format!("AY{seq}AZ")), "{answer}");
    assert_eq!(
        u16::from_str_radix(sum, 16).unwrap(),
        checksum(prefix.as_bytes()),
        "{answer}"
    );
}

#[tokio::test]
async fn v01_login() {
    let server = TestServer::start().await;
    let mut s = server.connect().await;
    let answer = s.exchange("9300CNsc_user|COsc_pass|CPMAIN|AY0AZF3A0").await;
    assert_eq!(answer, "941AY0AZFDFD\r");
    let mut s = server.connect().await;
    assert_eq!(s.exchange("9300CNsc_user|COwrong|CPMAIN|").await, "940\r");
}

#[tokio::test]
async fn v02_sc_status() {
    let server = TestServer::start().await;
    let mut s = server.station().await;
    let answer = s.exchange("9900802.00AY1AZFCA0").await;
    let fixed = &answer[..36];
    assert!(
        fixed[2..8].bytes().all(|b| b == b'Y' || b == b'N'),
        "{answer}"
    );
    assert!(fixed[8..14].bytes().all(|b| b.is_ascii_digit()), "{answer}");
    assert_eq!(&fixed[14..36], "20250314    0930002.00");
    assert_eq!(field(&answer, "AO"), Some(LIBRARY));
    assert_eq!(field(&answer, "BX").map(str::len), Some(16));
    assert_signed(&answer, 1);
    parse(&answer);
}

#[tokio::test]
async fn v03_corrupted_checksum_and_non_sip_frame() {
    let server = TestServer::start().await;
    let mut s = server.station().await;
    assert_eq!(s.exchange("9900802.00AY1AZFCA1").await, "96AZFEF6\r");
    assert_eq!(s.exchange("hello, is this SIP?").await, "96AZFEF6\r");
    assert!(s.exchange("9900802.00").await.starts_with("98"), "survives");
}

#[tokio::test]
async fn v04_resend() {
    let server = TestServer::start().await;
    let mut s = server.connect().await;
    assert_eq!(s.exchange("97AZFEF5").await, "96AZFEF6\r");
    let login = s.exchange("9300CNsc_user|COsc_pass|CPMAIN|AY0AZF3A0").await;
    assert_eq!(s.exchange("97AZFEF5").await, login);
}

#[tokio::test]
async fn v05_patron_status() {
    let server = TestServer::start().await;
    let mut s = server.station().await;
    let answer = s
        .exchange(&format!("23001{DATE}AO{LIBRARY}|AA{READER}|AC|AD{PIN}|"))
        .await;
    assert!(
        answer.starts_with(&format!("24{}", " ".repeat(14))),
        "{answer}"
    );
    assert_eq!(field(&answer, "AE"), Some(READER_NAME));
    assert_eq!(field(&answer, "BL"), Some("Y"));
    assert_eq!(field(&answer, "CQ"), Some("Y"));
}

#[tokio::test]
async fn v06_wrong_and_empty_pin() {
    let server = TestServer::start().await;
    let mut s = server.station().await;
    let wrong = s
        .exchange(&format!("23001{DATE}AO{LIBRARY}|AA{READER}|AC|ADwrong|"))
        .await;
    assert_eq!(field(&wrong, "CQ"), Some("N"));
    assert_eq!(field(&wrong, "BL"), Some("Y"));
    assert!(!fields(&wrong, "AF").is_empty());
    let empty = s
        .exchange(&format!("23001{DATE}AO{LIBRARY}|AA{READER}|AC|AD|"))
        .await;
    assert_eq!(
        field(&empty, "CQ"),
        Some("N"),
        "an empty AD is never a match"
    );
    assert_eq!(field(&empty, "BL"), Some("Y"));
}

#[tokio::test]
async fn v07_unknown_patron() {
    let server = TestServer::start().await;
    let mut s = server.station().await;
    let answer = s
        .exchange(&format!("23001{DATE}AO{LIBRARY}|AA29999999|AC|AD{PIN}|"))
        .await;
    let Response::PatronStatus(m) = parse(&answer).response else {
        panic!("{answer}")
    };
    assert_eq!(
        m.patron_status,
        PatronStatus::PRIVILEGES_DENIED,
        "24Y[ Y]{{13}}"
    );
    assert_eq!(m.personal_name, "");
    assert_eq!(m.valid_patron, Some(false));
    assert!(!m.screen_messages.is_empty());
    assert_eq!(m.patron_identifier, "29999999");
}

#[tokio::test]
async fn v08_patron_information_every_summary_variant() {
    let server = TestServer::start().await;
    let mut s = server.station().await;
    for i in 0..=10 {
        let mut summary = [b' '; 10];
        if i < 10 {
            summary[i] = b'Y';
        }
        let summary = String::from_utf8(summary.to_vec()).unwrap();
        let answer = s
            .exchange(&format!(
                "63001{DATE}{summary}AO{LIBRARY}|AA{READER}|AD{PIN}|"
            ))
            .await;
        assert!(answer.starts_with("64"), "{answer}");
        let Response::PatronInformation(m) = parse(&answer).response else {
            panic!("{answer}")
        };
        assert_eq!(m.valid_patron, Some(true));
        assert_eq!(m.valid_patron_password, Some(true));
        assert_eq!(m.charged_items_count, Some(2));
        assert_eq!(m.overdue_items_count, Some(1));
        if i == 2 {
            assert_eq!(m.charged_items, [LOANED_ITEM, MAXED_ITEM]);
        }
        if i == 1 {
            assert_eq!(m.overdue_items, [MAXED_ITEM]);
        }
    }
    // BP/BQ: a 1-based inclusive range.
    let answer = s
        .exchange(&format!(
            "63001{DATE}  Y       AO{LIBRARY}|AA{READER}|AD{PIN}|BP2|BQ2|"
        ))
        .await;
    assert_eq!(fields(&answer, "AU"), [MAXED_ITEM]);
}

#[tokio::test]
async fn v09_checkout() {
    let server = TestServer::start().await;
    let mut s = server.station().await;
    let answer = s
        .exchange(&format!(
            "11YN{DATE}{}AO{LIBRARY}|AA{READER}|AB{FREE_ITEM}|AC|",
            blank()
        ))
        .await;
    assert!(answer.starts_with(&format!("121NNY{DATE}")), "{answer}");
    assert_eq!(field(&answer, "AJ"), Some("The Old Man and the Sea"));
    assert_eq!(field(&answer, "AH"), Some("20250411    235959"));
    assert_eq!(server.library.loan_of(FREE_ITEM).as_deref(), Some(READER));
}

#[tokio::test]
async fn v10_unknown_item_and_unknown_patron() {
    let server = TestServer::start().await;
    let mut s = server.station().await;
    let item = s
        .exchange(&format!(
            "11YN{DATE}{}AO{LIBRARY}|AA{READER}|AB39999999|AC|",
            blank()
        ))
        .await;
    assert!(item.starts_with("120NUN"), "{item}");
    assert_eq!(field(&item, "AJ"), Some(""));
    assert_eq!(field(&item, "AH"), Some(""));
    assert_eq!(field(&item, "BL"), Some("Y"));
    let patron = s
        .exchange(&format!(
            "11YN{DATE}{}AO{LIBRARY}|AA29999999|AB{FREE_ITEM}|AC|",
            blank()
        ))
        .await;
    assert!(patron.starts_with("120NUN"), "{patron}");
    assert_eq!(field(&patron, "BL"), Some("N"));
}

#[tokio::test]
async fn v11_blocked_patron_checkout_gives_the_reason() {
    let server = TestServer::start().await;
    let mut s = server.station().await;
    let answer = s
        .exchange(&format!(
            "11YN{DATE}{}AO{LIBRARY}|AA{OWING}|AB{FREE_ITEM}|AC|AD{OWING_PIN}|",
            blank()
        ))
        .await;
    assert!(answer.starts_with("120NUN"), "{answer}");
    assert_eq!(
        field(&answer, "AF"),
        Some("outstanding charges are at or over the limit")
    );
}

#[tokio::test]
async fn v12_checkin() {
    let server = TestServer::start().await;
    let mut s = server.station().await;
    let charged = s
        .exchange(&format!(
            "09N{DATE}{DATE}APx|AO{LIBRARY}|AB{LOANED_ITEM}|AC|"
        ))
        .await;
    assert!(charged.starts_with(&format!("101YNN{DATE}")), "{charged}");
    assert_eq!(field(&charged, "AQ"), Some(LIBRARY));
    assert_eq!(field(&charged, "AA"), Some(READER));
    let again = s
        .exchange(&format!(
            "09N{DATE}{DATE}APx|AO{LIBRARY}|AB{LOANED_ITEM}|AC|"
        ))
        .await;
    assert!(again.starts_with("100YUY"), "{again}");
    assert_eq!(field(&again, "AF"), Some("Item not checked out"));
    let unknown = s
        .exchange(&format!("09N{DATE}{DATE}APx|AO{LIBRARY}|AB39999999|AC|"))
        .await;
    assert!(unknown.starts_with("100YUY"), "{unknown}");
}

#[tokio::test]
async fn v13_renew() {
    let server = TestServer::start().await;
    let mut s = server.station().await;
    let renewed = s
        .exchange(&format!(
            "29NN{DATE}{}AO{LIBRARY}|AA{READER}|AB{LOANED_ITEM}|",
            blank()
        ))
        .await;
    assert!(renewed.starts_with("301YNN"), "{renewed}");
    assert_eq!(field(&renewed, "AH"), Some("20250411    093000"));
    for (item, reason) in [
        (
            MAXED_ITEM,
            "the loan has been renewed as often as the rules allow",
        ),
        (FREE_ITEM, "Item not on loan to you"),
        ("39999999", "Item not on loan to you"),
    ] {
        let refused = s
            .exchange(&format!(
                "29NN{DATE}{}AO{LIBRARY}|AA{READER}|AB{item}|",
                blank()
            ))
            .await;
        assert!(refused.starts_with("300NUN"), "{refused}");
        assert_eq!(field(&refused, "AH"), Some(""));
        assert_eq!(field(&refused, "AF"), Some(reason));
    }
}

#[tokio::test]
async fn v14_renew_all() {
    let server = TestServer::start().await;
    let mut s = server.station().await;
    // MAXED_ITEM returned first, so exactly one loan is left.
    s.exchange(&format!(
        "09N{DATE}{DATE}APx|AO{LIBRARY}|AB{MAXED_ITEM}|AC|"
    ))
    .await;
    let answer = s
        .exchange(&format!("65{DATE}AO{LIBRARY}|AA{READER}|"))
        .await;
    assert!(
        answer.starts_with(&format!("66100010000{DATE}")),
        "{answer}"
    );
    assert_eq!(fields(&answer, "BM"), [LOANED_ITEM]);
    let bad_pin = s
        .exchange(&format!("65{DATE}AO{LIBRARY}|AA{READER}|AD0000|"))
        .await;
    assert!(bad_pin.starts_with("66000000000"), "{bad_pin}");
    let unknown = s
        .exchange(&format!("65{DATE}AO{LIBRARY}|AA29999999|"))
        .await;
    assert!(unknown.starts_with("66000000000"), "{unknown}");
}

#[tokio::test]
async fn v15_hold() {
    let server = TestServer::start().await;
    let mut s = server.station().await;
    let placed = s
        .exchange(&format!(
            "15+{DATE}BW{DATE}|BSMAIN|BY2|AO{LIBRARY}|AA{READER}|AB{FREE_ITEM}|"
        ))
        .await;
    assert!(placed.starts_with("161N"), "{placed}");
    let unknown_patron = s
        .exchange(&format!(
            "15+{DATE}BY2|AO{LIBRARY}|AA29999999|AB{FREE_ITEM}|"
        ))
        .await;
    assert!(unknown_patron.starts_with("160N"), "{unknown_patron}");
    let unknown_item = s
        .exchange(&format!("15+{DATE}BY2|AO{LIBRARY}|AA{READER}|AB39999999|"))
        .await;
    assert!(unknown_item.starts_with("160N"), "{unknown_item}");
}

#[tokio::test]
async fn v16_fee_paid() {
    let server = TestServer::start().await;
    let mut s = server.station().await;
    let paid = s
        .exchange(&format!("37{DATE}0100USDBV2.50|AO{LIBRARY}|AA{OWING}|"))
        .await;
    assert!(paid.starts_with("38Y"), "{paid}");
    let over = s
        .exchange(&format!("37{DATE}0100USDBV999.00|AO{LIBRARY}|AA{OWING}|"))
        .await;
    assert!(over.starts_with("38N"), "{over}");
    assert_eq!(
        field(&over, "AF"),
        Some("Paid amount (HK$999.00) is more than the amount owed (HK$57.50)")
    );
}

#[tokio::test]
async fn v17_end_session() {
    let server = TestServer::start().await;
    let mut s = server.station().await;
    let ok = s
        .exchange(&format!("35{DATE}AO{LIBRARY}|AA{READER}|AD{PIN}|"))
        .await;
    assert!(ok.starts_with("36Y"), "{ok}");
    let bad = s
        .exchange(&format!("35{DATE}AO{LIBRARY}|AA{READER}|ADbad|"))
        .await;
    assert!(bad.starts_with("36N"), "{bad}");
}

#[tokio::test]
async fn v18_block_patron() {
    let server = TestServer::start().await;
    let mut s = server.station().await;
    let answer = s
        .exchange(&format!(
            "01N{DATE}AO{LIBRARY}|ALcard retained|AA{READER}|AC|"
        ))
        .await;
    assert!(answer.starts_with("24Y"), "{answer}");
    let checkout = s
        .exchange(&format!(
            "11YN{DATE}{}AO{LIBRARY}|AA{READER}|AB{FREE_ITEM}|AC|",
            blank()
        ))
        .await;
    assert!(checkout.starts_with("120"), "{checkout}");
}

#[tokio::test]
async fn v19_a_repeated_request_is_answered_again_not_run_again() {
    let server = TestServer::start().await;
    let mut s = server.station().await;
    let checkout = signed(
        &format!(
            "11YN{DATE}{}AO{LIBRARY}|AA{READER}|AB{FREE_ITEM}|AC|",
            blank()
        ),
        5,
    );
    let first = s.exchange(&checkout).await;
    assert!(first.starts_with("121"), "{first}");
    let second = s.exchange(&checkout).await;
    assert_eq!(first, second, "identical response");
    assert_eq!(server.library.writes(), 1, "executed once");
    // The same message with the next sequence number is a new request (and refused).
    let next = signed(
        &format!(
            "11YN{DATE}{}AO{LIBRARY}|AA{READER}|AB{FREE_ITEM}|AC|",
            blank()
        ),
        6,
    );
    assert!(s.exchange(&next).await.starts_with("120"));
    assert_eq!(server.library.writes(), 1);
}
