//! The `sip2` crate (crates.io, KCLS/Evergreen) as the station: a client we did not write.
//! It is blocking, so it runs on the blocking pool while the server runs on the runtime.

use sip2::{Client, Connection, Message, ParamSet};

use crate::TestServer;
use crate::fake::*;

fn params() -> ParamSet {
    let mut p = ParamSet::new();
    p.set_sip_user(STATION)
        .set_sip_pass(STATION_PASSWORD)
        .set_institution(LIBRARY)
        .set_terminal_pwd("")
        .set_patron_id(READER)
        .set_patron_pwd(PIN);
    p
}

async fn with_client<T: Send + 'static>(
    server: &TestServer,
    f: impl FnOnce(&mut Client) -> T + Send + 'static,
) -> T {
    let addr = server.addr.to_string();
    tokio::task::spawn_blocking(move || {
        let mut client = Client::new(&addr).expect("connect");
        assert!(client.login(&params()).expect("login").ok(), "941");
        f(&mut client)
    })
    .await
    .expect("client thread")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_and_sc_status() {
    let server = TestServer::start().await;
    let resp = with_client(&server, |c| c.sc_status().expect("98")).await;
    assert!(resp.ok(), "online");
    assert_eq!(resp.msg().spec().code, "98");
    assert_eq!(resp.value("AO"), Some(LIBRARY));
    assert_eq!(resp.value("BX"), Some("YYYYYYYYYYYNNYYY"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_station_password_is_refused() {
    let server = TestServer::start().await;
    let addr = server.addr.to_string();
    let ok = tokio::task::spawn_blocking(move || {
        let mut client = Client::new(&addr).expect("connect");
        let mut p = params();
        p.set_sip_pass("wrong");
        client.login(&p).expect("940").ok()
    })
    .await
    .unwrap();
    assert!(!ok);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patron_status_with_right_and_wrong_pin() {
    let server = TestServer::start().await;
    let (right, wrong) = with_client(&server, |c| {
        let right = c.patron_status(&params()).expect("24");
        let mut p = params();
        p.set_patron_pwd("9999");
        let wrong = c.patron_status(&p).expect("24");
        (
            (
                right.ok(),
                right.value("CQ").map(str::to_owned),
                right.value("AE").map(str::to_owned),
            ),
            (
                wrong.ok(),
                wrong.value("CQ").map(str::to_owned),
                wrong.value("AE").map(str::to_owned),
            ),
        )
    })
    .await;
    assert_eq!(
        right,
        (true, Some("Y".into()), Some(READER_NAME.into())),
        "valid patron, valid PIN, name"
    );
    assert_eq!(wrong, (true, Some("N".into()), Some(String::new())));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patron_information_lists_charged_items() {
    let server = TestServer::start().await;
    let (ok, cq, charged) = with_client(&server, |c| {
        let mut p = params();
        p.set_summary(2);
        let r = c.patron_info(&p).expect("64");
        let charged: Vec<String> = r
            .msg()
            .fields()
            .iter()
            .filter(|f| f.code() == "AU")
            .map(|f| f.value().to_owned())
            .collect();
        (r.ok(), r.value("CQ").map(str::to_owned), charged)
    })
    .await;
    assert!(ok);
    assert_eq!(cq.as_deref(), Some("Y"));
    assert_eq!(charged, [LOANED_ITEM, MAXED_ITEM]);

    let wrong = with_client(&server, |c| {
        let mut p = params();
        p.set_patron_pwd("0000").set_summary(2);
        let r = c.patron_info(&p).expect("64");
        (r.value("CQ").map(str::to_owned), r.value("AU").is_none())
    })
    .await;
    assert_eq!(wrong, (Some("N".into()), true), "no list without the PIN");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checkout_checkin_and_refusals() {
    let server = TestServer::start().await;
    let (out, again, back) = with_client(&server, |c| {
        let mut p = params();
        p.set_item_id(FREE_ITEM);
        let out = c.checkout(&p).expect("12");
        let out = (
            out.ok(),
            out.value("AJ").map(str::to_owned),
            out.value("AH").map(str::to_owned),
        );
        let again = c.checkout(&p).expect("12");
        let again = (again.ok(), again.value("AF").map(str::to_owned));
        let back = c.checkin(&p).expect("10");
        let back = (back.ok(), back.value("AA").map(str::to_owned));
        (out, again, back)
    })
    .await;
    assert_eq!(
        out,
        (
            true,
            Some("The Old Man and the Sea".into()),
            Some("20250411    235959".into())
        )
    );
    assert_eq!(
        again,
        (false, Some("the item is not available for loan".into())),
        "the domain's reason in AF"
    );
    assert_eq!(back, (true, Some(READER.into())));
    assert_eq!(server.library.loan_of(FREE_ITEM), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renew_through_the_raw_connection() {
    let server = TestServer::start().await;
    let addr = server.addr.to_string();
    let (fixed, ah) = tokio::task::spawn_blocking(move || {
        let mut conn = Connection::new(&addr).expect("connect");
        let login = Message::from_values(
            "93",
            &["0", "0"],
            &[("CN", STATION), ("CO", STATION_PASSWORD)],
        )
        .unwrap();
        assert_eq!(
            conn.sendrecv(&login).unwrap().fixed_fields()[0].value(),
            "1"
        );
        let blank = " ".repeat(18);
        let renew = Message::from_values(
            "29",
            &["N", "N", crate::DATE, &blank],
            &[
                ("AO", LIBRARY),
                ("AA", READER),
                ("AD", PIN),
                ("AB", LOANED_ITEM),
            ],
        )
        .unwrap();
        let resp = conn.sendrecv(&renew).unwrap();
        let fixed: Vec<String> = resp
            .fixed_fields()
            .iter()
            .map(|f| f.value().to_owned())
            .collect();
        (fixed, resp.get_field_value("AH").map(str::to_owned))
    })
    .await
    .unwrap();
    assert_eq!(fixed[..4], ["1", "Y", "N", "N"]);
    assert_eq!(ah.as_deref(), Some("20250411    093000"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fee_paid() {
    let server = TestServer::start().await;
    let (accepted, too_much) = with_client(&server, |c| {
        let mut p = params();
        p.set_patron_id(OWING)
            .set_patron_pwd(OWING_PIN)
            .set_pay_amount("10.50")
            .set_transaction_id("T-77");
        let paid = c.fee_paid(&p).expect("38");
        let paid = (
            paid.msg().fixed_fields()[0].value().to_owned(),
            paid.value("BK").map(str::to_owned),
        );
        p.set_pay_amount("100.00");
        let refused = c.fee_paid(&p).expect("38");
        let refused = (
            refused.msg().fixed_fields()[0].value().to_owned(),
            refused.value("AF").is_some(),
        );
        (paid, refused)
    })
    .await;
    // The crate's `ok()` looks for "1"; payment accepted is `Y` (docs/sip2.md, The
    // third-party client).
    assert_eq!(accepted, ("Y".into(), Some("T-77".into())));
    assert_eq!(too_much, ("N".into(), true));
}
