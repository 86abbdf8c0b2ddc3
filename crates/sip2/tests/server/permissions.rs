//! Connection limits before login, and what a station's account lets it do (docs/sip2.md,
//! Connection limits and Station settings).

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::Ordering;
use std::time::Duration;

use library_sip2::server::{ConnectionRefusal, ServerConfig};
use tokio::io::AsyncReadExt;
use tokio::net::TcpSocket;
use tokio::time::Instant;

use crate::fake::*;
use crate::{DATE, Station, TestServer, config, fields};

/// A connection from `from` (any 127.0.0.0/8 address reaches the loopback listener).
async fn connect_from(from: &str, to: SocketAddr) -> Station {
    let socket = TcpSocket::new_v4().unwrap();
    socket
        .bind(SocketAddr::new(from.parse().unwrap(), 0))
        .unwrap();
    Station::from_stream(socket.connect(to).await.unwrap())
}

fn refusals(server: &TestServer) -> Vec<(IpAddr, ConnectionRefusal)> {
    server.library.refused.lock().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fifth_idle_connection_from_one_address_is_closed_at_once() {
    let server = TestServer::start().await;
    let mut idle = Vec::new();
    for _ in 0..4 {
        idle.push(connect_from("127.0.0.2", server.addr).await);
    }
    // Each of the four is answered (still within the deadline).
    for s in &mut idle {
        assert!(s.exchange("9900802.00").await.starts_with("98"));
    }
    let mut fifth = connect_from("127.0.0.2", server.addr).await;
    fifth.expect_closed().await;
    assert_eq!(
        refusals(&server),
        [(
            "127.0.0.2".parse().unwrap(),
            ConnectionRefusal::UnauthenticatedLimit
        )]
    );
    // Another address has room, and logs in; a station logged in frees its place.
    let mut station = connect_from("127.0.0.3", server.addr).await;
    station.login().await;
    idle[0].login().await;
    let mut again = connect_from("127.0.0.2", server.addr).await;
    assert!(again.exchange("9900802.00").await.starts_with("98"));
}

/// How long until the server closes `station`'s connection unanswered, from now.
async fn closed_within(station: &mut Station) -> Duration {
    let started = Instant::now();
    station.expect_closed().await;
    started.elapsed()
}

/// True when nothing arrives on `station`'s connection, not even its close, for `wait`.
async fn still_open_after(station: &mut Station, wait: Duration) -> bool {
    let mut byte = [0u8; 1];
    tokio::time::timeout(wait, station.stream.read(&mut byte))
        .await
        .is_err()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_refused_or_misbehaving_before_login_is_held_before_it_is_closed() {
    let hold = Duration::from_millis(400);
    let server = TestServer::start_with(ServerConfig {
        refusal_hold: hold,
        ..config()
    })
    .await;
    // Over the cap of its address: held, then closed.
    let mut idle = Vec::new();
    for _ in 0..4 {
        let mut s = connect_from("127.0.0.2", server.addr).await;
        assert!(s.exchange("9900802.00").await.starts_with("98"));
        idle.push(s);
    }
    let mut fifth = connect_from("127.0.0.2", server.addr).await;
    let waited = closed_within(&mut fifth).await;
    assert!(waited >= hold - Duration::from_millis(20), "{waited:?}");

    // A message other than `93`/`99` before logging in: held, then closed, unanswered.
    let mut early = connect_from("127.0.0.3", server.addr).await;
    let started = Instant::now();
    early
        .expect_closed_after(format!("23001{DATE}AOMAIN|AA{READER}|AC|\r").as_bytes())
        .await;
    let waited = started.elapsed();
    assert!(waited >= hold - Duration::from_millis(20), "{waited:?}");

    // A line over the limit before logging in: the same.
    let mut long = connect_from("127.0.0.4", server.addr).await;
    let started = Instant::now();
    long.expect_closed_after(&vec![b'A'; 32 * 1024]).await;
    let waited = started.elapsed();
    assert!(waited >= hold - Duration::from_millis(20), "{waited:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_connection_leaves_its_address_room() {
    let server = TestServer::start_with(ServerConfig {
        refusal_hold: Duration::from_secs(60),
        max_unauthenticated_per_address: 1,
        ..config()
    })
    .await;
    // A message before login: held (not closed within the wait)...
    let mut rude = connect_from("127.0.0.2", server.addr).await;
    rude.send(format!("23001{DATE}AOMAIN|AA{READER}|AC|\r").as_bytes())
        .await;
    assert!(still_open_after(&mut rude, Duration::from_millis(300)).await);
    // ...but no longer counted: the one place of its address is free for a station.
    let mut next = connect_from("127.0.0.2", server.addr).await;
    assert!(next.exchange("9900802.00").await.starts_with("98"));
    next.login().await;
    assert_eq!(refusals(&server), []);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_station_logged_in_is_closed_at_once_and_the_held_are_bounded() {
    // A hold far longer than the test waits: what is closed within the wait was not held.
    let server = TestServer::start_with(ServerConfig {
        refusal_hold: Duration::from_secs(60),
        max_held: 1,
        max_unauthenticated_per_address: 1,
        ..config()
    })
    .await;
    // Logged in, a line over the limit closes the connection at once.
    let mut station = server.station().await;
    station.expect_closed_after(&vec![b'A'; 32 * 1024]).await;

    // The first refused connection is held; with `max_held` 1, the next is closed at once.
    let mut idle = connect_from("127.0.0.2", server.addr).await;
    assert!(idle.exchange("9900802.00").await.starts_with("98"));
    let mut second = connect_from("127.0.0.2", server.addr).await;
    assert!(still_open_after(&mut second, Duration::from_millis(500)).await);
    let mut third = connect_from("127.0.0.2", server.addr).await;
    third.expect_closed().await;
    assert_eq!(
        refusals(&server),
        [(
            "127.0.0.2".parse().unwrap(),
            ConnectionRefusal::UnauthenticatedLimit
        ); 2]
    );

    // On shutdown the held connection is closed at once, and `serve` returns.
    let mut server = server;
    let started = Instant::now();
    server.shut_down().await;
    second.expect_closed().await;
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_total_of_idle_connections_is_capped_below_max_connections() {
    let server = TestServer::start_with(ServerConfig {
        max_unauthenticated: 6,
        ..config()
    })
    .await;
    let mut idle = Vec::new();
    for i in 0..6 {
        let mut s = connect_from(&format!("127.0.1.{}", i + 1), server.addr).await;
        assert!(s.exchange("9900802.00").await.starts_with("98"));
        idle.push(s);
    }
    let mut seventh = connect_from("127.0.1.100", server.addr).await;
    seventh.expect_closed().await;
    assert_eq!(refusals(&server).len(), 1);
    // Logged-in stations are not counted: the seventh logs in once one of them has.
    idle[0].login().await;
    let mut later = connect_from("127.0.1.100", server.addr).await;
    later.login().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_must_log_in_within_the_deadline_and_99_does_not_extend_it() {
    let server = TestServer::start_with(ServerConfig {
        login_deadline: Duration::from_millis(800),
        ..config()
    })
    .await;
    let started = tokio::time::Instant::now();
    let mut chatty = server.connect().await;
    let mut silent = server.connect().await;
    let mut station = server.connect().await;
    station.login().await;
    // 99 every 200 ms keeps nothing alive past the deadline.
    loop {
        chatty.send(b"9900802.00\r").await;
        match chatty.recv().await {
            Some(answer) => assert!(answer.starts_with(b"98")),
            None => break,
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "closed by the deadline"
        );
    }
    assert!(started.elapsed() >= Duration::from_millis(800));
    silent.expect_closed().await;
    let refused = refusals(&server);
    assert_eq!(refused.len(), 2, "{refused:?}");
    assert!(
        refused
            .iter()
            .all(|(_, r)| *r == ConnectionRefusal::LoginDeadline)
    );
    // The station logged in in time stays.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(station.exchange("9900802.00").await.starts_with("98"));
}

/// Logged in as the station whose account needs PINs and may not block.
async fn strict(server: &TestServer) -> Station {
    let mut s = server.connect().await;
    assert_eq!(
        s.exchange(&format!(
            "9300CN{STRICT_STATION}|CO{STATION_PASSWORD}|CPMAIN|"
        ))
        .await,
        "941\r"
    );
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_station_that_needs_pins_refuses_every_reader_message_without_one() {
    let server = TestServer::start().await;
    let mut s = strict(&server).await;
    let no_pin = [
        format!("23001{DATE}AO{LIBRARY}|AA{READER}|AC|AD|"),
        format!("63001{DATE}Y         AO{LIBRARY}|AA{READER}|"),
        format!("11YN{DATE}{DATE}AO{LIBRARY}|AA{READER}|AB{FREE_ITEM}|AC|"),
        format!("29NN{DATE}{DATE}AO{LIBRARY}|AA{READER}|AB{LOANED_ITEM}|"),
        format!("65{DATE}AO{LIBRARY}|AA{READER}|"),
        format!("15+{DATE}AO{LIBRARY}|AA{READER}|AB{FREE_ITEM}|"),
        format!("37{DATE}0100USDBV1.00|AO{LIBRARY}|AA{OWING}|"),
        format!("35{DATE}AO{LIBRARY}|AA{READER}|"),
        format!("01N{DATE}AO{LIBRARY}|ALkept|AA{READER}|AC|"),
    ];
    for message in &no_pin {
        let answer = s.exchange(message).await;
        let ok_flag = match &answer[..2] {
            "24" | "64" => None,
            "12" | "30" | "16" | "36" | "38" | "66" => Some(answer.as_bytes()[2]),
            other => panic!("{other}: {answer}"),
        };
        if let Some(flag) = ok_flag {
            assert!(flag == b'0' || flag == b'N', "refused: {answer}");
        }
        assert_eq!(fields(&answer, "BL"), Vec::<&str>::new(), "no BL: {answer}");
        assert!(!answer.contains("CQY"), "{answer}");
        assert!(!answer.contains(READER_NAME), "{answer}");
        assert!(!answer.contains("reader@example.org"), "{answer}");
        assert!(
            fields(&answer, "AF")
                .iter()
                .any(|m| m.contains("PIN") || m.contains("may not block")),
            "{answer}"
        );
    }
    assert_eq!(
        server.library.writes.load(Ordering::SeqCst),
        0,
        "nothing done"
    );
    // With the PIN, the same station lends.
    let answer = s
        .exchange(&format!(
            "11YN{DATE}{DATE}AO{LIBRARY}|AA{READER}|AB{FREE_ITEM}|AC|AD{PIN}|"
        ))
        .await;
    assert!(answer.starts_with("121"), "{answer}");
    // A wrong PIN is the backend's refusal, as before.
    let answer = s
        .exchange(&format!("23001{DATE}AO{LIBRARY}|AA{READER}|AC|AD0000|"))
        .await;
    assert_eq!(fields(&answer, "BL"), ["Y"]);
    assert_eq!(fields(&answer, "CQ"), ["N"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_station_that_may_not_block_writes_no_block_even_with_the_pin() {
    let server = TestServer::start().await;
    let mut s = strict(&server).await;
    let answer = s
        .exchange(&format!(
            "01N{DATE}AO{LIBRARY}|ALkept|AA{READER}|AC|AD{PIN}|"
        ))
        .await;
    assert!(answer.starts_with("24"), "{answer}");
    assert_eq!(
        fields(&answer, "AF"),
        ["This station may not block cards. Please ask staff."]
    );
    assert_eq!(server.library.writes.load(Ordering::SeqCst), 0);
    // The station that may block does, and a wrong PIN sent with it blocks nothing.
    let mut s = server.station().await;
    let answer = s
        .exchange(&format!(
            "01N{DATE}AO{LIBRARY}|ALkept|AA{READER}|AC|AD0000|"
        ))
        .await;
    assert_eq!(fields(&answer, "BL"), ["Y"], "{answer}");
    assert_eq!(server.library.writes.load(Ordering::SeqCst), 0);
    let answer = s
        .exchange(&format!("01N{DATE}AO{LIBRARY}|ALkept|AA{READER}|AC|"))
        .await;
    assert!(answer.starts_with("24Y"), "{answer}");
    assert_eq!(server.library.writes.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn email_and_phone_go_out_only_with_a_pin_verified_in_that_message() {
    let server = TestServer::start().await;
    // The station that may act without PINs: the reader's details, but no email.
    let mut s = server.station().await;
    let without = s
        .exchange(&format!("63001{DATE}          AO{LIBRARY}|AA{READER}|"))
        .await;
    assert_eq!(fields(&without, "AE"), [READER_NAME], "{without}");
    assert_eq!(fields(&without, "BE"), Vec::<&str>::new(), "{without}");
    let with = s
        .exchange(&format!(
            "63001{DATE}          AO{LIBRARY}|AA{READER}|AD{PIN}|"
        ))
        .await;
    assert_eq!(fields(&with, "CQ"), ["Y"]);
    assert_eq!(fields(&with, "BE"), ["reader@example.org"], "{with}");
}
