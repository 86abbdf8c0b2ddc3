//! Misbehaving clients, limits, timeouts and shutdown: none of them disturbs another
//! connection.

use std::time::Duration;

use tokio::io::AsyncWriteExt;

use crate::fake::*;
use crate::{DATE, Station, TestServer, config};
use library_sip2::MAX_MESSAGE_LEN;
use library_sip2::server::ServerConfig;

/// A logged-in neighbour that must keep working.
async fn neighbour_still_works(s: &mut Station) {
    let answer = s
        .exchange(&format!("23001{DATE}AO{LIBRARY}|AA{READER}|AC|AD{PIN}|"))
        .await;
    assert!(answer.starts_with("24"), "{answer}");
}

/// The first bytes of a TLS 1.2 ClientHello (it contains 0x0D; docs/sip2.md, Leniency).
const CLIENT_HELLO: &[u8] = &[
    0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03, 0x0d, 0x0a, 0x5e, 0x12, 0x00,
    0xff, 0x13, 0x01, 0x13, 0x02, 0xc0, 0x2b, 0x0d, 0x00, 0x00, 0x0b, 0x00, 0x09,
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_client_hello_on_the_plain_port_is_closed() {
    let server = TestServer::start().await;
    let mut neighbour = server.station().await;
    let mut s = server.connect().await;
    s.expect_closed_after(CLIENT_HELLO).await;
    neighbour_still_works(&mut neighbour).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_bytes_get_96_and_the_connection_survives() {
    let server = TestServer::start().await;
    let mut neighbour = server.station().await;
    let mut s = server.station().await;
    s.send(b"\x00\x01\x02\xff\xfe garbage\r").await;
    assert_eq!(s.recv().await.unwrap(), b"96AZFEF6\r");
    s.send("XX\u{1F600}\r".as_bytes()).await;
    assert_eq!(s.recv().await.unwrap(), b"96AZFEF6\r");
    neighbour_still_works(&mut s).await;
    neighbour_still_works(&mut neighbour).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_characters_in_a_field_get_96_and_run_nothing() {
    let server = TestServer::start().await;
    let mut s = server.station().await;
    let blank = " ".repeat(18);
    for bad in ["\u{0}", "\u{7}", "\u{7f}", "\u{85}", "\u{9f}"] {
        let checkout = format!("11YN{DATE}{blank}AO{LIBRARY}|AA{READER}|AB{FREE_ITEM}|AC|ZZ{bad}|");
        s.send(format!("{checkout}\r").as_bytes()).await;
        assert_eq!(s.recv().await.unwrap(), b"96AZFEF6\r", "{bad:?}");
        let checkout = format!("11YN{DATE}{blank}AO{LIBRARY}|AA{READER}{bad}|AB{FREE_ITEM}|AC|");
        s.send(format!("{checkout}\r").as_bytes()).await;
        assert_eq!(s.recv().await.unwrap(), b"96AZFEF6\r", "{bad:?}");
        // The connection stays, as after any unreadable message.
        neighbour_still_works(&mut s).await;
    }
    assert_eq!(server.library.loan_of(FREE_ITEM), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_unreadable_messages_in_a_row_close_the_connection() {
    let server = TestServer::start().await;
    let mut s = server.connect().await;
    for _ in 0..9 {
        assert_eq!(s.exchange("garbage").await, "96AZFEF6\r");
    }
    s.expect_closed_after(b"garbage\r").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_over_long_line_closes_the_connection() {
    let server = TestServer::start().await;
    let mut neighbour = server.station().await;
    let mut s = server.station().await;
    // A 1 MB line: refused once the limit is passed, without reading the rest.
    let line = vec![b'A'; 1 << 20];
    let _ = s.stream.write_all(&line).await;
    s.expect_closed().await;

    // Just over the limit, with its terminator.
    let mut s = server.station().await;
    let mut line = format!("23001{DATE}AO{LIBRARY}|AA{READER}|AE").into_bytes();
    line.resize(MAX_MESSAGE_LEN, b'x');
    line.push(b'\r');
    s.expect_closed_after(&line).await;
    neighbour_still_works(&mut neighbour).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_socket_closed_mid_message_runs_nothing() {
    let server = TestServer::start().await;
    let mut neighbour = server.station().await;
    let mut s = server.station().await;
    let blank = " ".repeat(18);
    let half = format!("11YN{DATE}{blank}AO{LIBRARY}|AA{READER}|AB{FREE_ITEM}");
    s.send(half.as_bytes()).await;
    drop(s);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(server.library.loan_of(FREE_ITEM), None);
    neighbour_still_works(&mut neighbour).await;
    assert_eq!(server.server.connection_count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_byte_by_byte_client_is_served() {
    let server = TestServer::start().await;
    let mut neighbour = server.station().await;
    let mut s = server.connect().await;
    let slow = async {
        for &b in b"9300CNsc_user|COsc_pass|CPMAIN|AY0AZF3A0\r" {
            s.send(&[b]).await;
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        s.recv().await
    };
    let (answer, ()) = tokio::join!(slow, async {
        // Meanwhile the neighbour is served as usual.
        for _ in 0..3 {
            neighbour_still_works(&mut neighbour).await;
        }
    });
    assert_eq!(answer.unwrap(), b"941AY0AZFDFD\r");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_or_too_slow_connection_times_out() {
    let server = TestServer::start_with(ServerConfig {
        read_timeout: Duration::from_millis(300),
        ..config()
    })
    .await;
    let mut idle = server.station().await;
    let mut slow = server.station().await;
    slow.send(b"9900").await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    slow.send(b"8").await;
    // The whole message had 300 ms; both are gone after that.
    idle.expect_closed().await;
    slow.expect_closed().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_misbehaving_connection_does_not_disturb_a_concurrent_one() {
    let server = TestServer::start().await;
    let mut good = server.station().await;
    let addr = server.addr;
    let bad = tokio::spawn(async move {
        for round in 0..20u8 {
            let mut s = Station::connect(addr).await;
            match round % 4 {
                0 => s.expect_closed_after(CLIENT_HELLO).await,
                1 => {
                    let _ = s.stream.write_all(&vec![b'Z'; 8192]).await;
                    s.expect_closed().await;
                }
                2 => {
                    s.send(b"23001").await;
                    drop(s);
                }
                _ => {
                    s.expect_closed_after(format!("35{DATE}AO{LIBRARY}|AA{READER}|\r").as_bytes())
                        .await
                }
            }
        }
    });
    // Answered all along (the misbehaving connections are held a moment before they are
    // closed, so this lasts seconds; each answer renews the station's read timeout).
    let mut answered = 0;
    while answered < 20 || !bad.is_finished() {
        neighbour_still_works(&mut good).await;
        answered += 1;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    bad.await.unwrap();
    neighbour_still_works(&mut good).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_over_the_limit_are_closed_at_once() {
    let server = TestServer::start_with(ServerConfig {
        max_connections: 2,
        ..config()
    })
    .await;
    let mut first = server.station().await;
    let _second = server.station().await;
    let mut third = server.connect().await;
    third.expect_closed_after(b"9900802.00\r").await;
    neighbour_still_works(&mut first).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disconnecting_a_station_closes_its_connections() {
    let server = TestServer::start().await;
    let mut a = server.station().await;
    let mut b = server.station().await;
    let mut anonymous = server.connect().await;
    assert_eq!(server.server.disconnect_station(STATION), 2);
    a.expect_closed().await;
    b.expect_closed().await;
    assert!(anonymous.exchange("9900802.00").await.starts_with("98"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_finishes_the_request_in_flight_and_closes_the_rest() {
    let mut server = TestServer::start().await;
    let mut busy = server.station().await;
    let mut idle = server.station().await;
    *server.library.delay.lock().unwrap() = Duration::from_millis(300);
    let blank = " ".repeat(18);
    busy.send(format!("11YN{DATE}{blank}AO{LIBRARY}|AA{READER}|AB{FREE_ITEM}|AC|\r").as_bytes())
        .await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    server.shut_down().await;
    let answer = busy.recv().await.expect("the checkout's answer");
    assert!(
        answer.starts_with(b"121"),
        "{:?}",
        String::from_utf8_lossy(&answer)
    );
    busy.expect_closed().await;
    idle.expect_closed().await;
    assert!(
        tokio::net::TcpStream::connect(server.addr).await.is_err(),
        "the listener is closed"
    );
}
