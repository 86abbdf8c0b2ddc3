//! Black-box tests of the SIP2 server on 127.0.0.1:0 over an in-memory library: the
//! third-party `sip2` crate as a station, hand-built messages for what it does not send,
//! the reference's acceptance vectors, and misbehaving clients.

mod fake;
mod hand_built;
mod permissions;
mod robustness;
mod third_party;
mod vectors;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use fake::FakeLibrary;
use library_sip2::server::{ServerConfig, Sip2Server};
use library_sip2::{FixedStr, ParsedResponse, Response};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A transaction date for hand-built messages.
pub const DATE: &str = "20250314    093000";
/// How long a test waits for an answer before failing.
pub const WAIT: Duration = Duration::from_secs(5);

pub fn config() -> ServerConfig {
    ServerConfig {
        institution_id: "MAIN".into(),
        library_name: Some("Main Library".into()),
        read_timeout: Duration::from_secs(5),
        // The acceptance vectors and the sip2 crate pay in USD.
        currency: FixedStr::new("USD").unwrap(),
        shutdown_grace: Duration::from_secs(5),
        ..ServerConfig::default()
    }
}

#[derive(Debug)]
pub struct TestServer {
    pub addr: SocketAddr,
    pub library: Arc<FakeLibrary>,
    pub server: Sip2Server<FakeLibrary>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(config()).await
    }

    pub async fn start_with(config: ServerConfig) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let library = Arc::new(FakeLibrary::new());
        let server = Sip2Server::new(library.clone(), config);
        let (stop, stopped) = oneshot::channel::<()>();
        let serving = server.clone();
        let task = tokio::spawn(async move {
            serving
                .serve(listener, async {
                    let _ = stopped.await;
                })
                .await;
        });
        Self {
            addr,
            library,
            server,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// Signals shutdown and waits for `serve` to return.
    pub async fn shut_down(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            tokio::time::timeout(Duration::from_secs(10), task)
                .await
                .expect("serve returns after shutdown")
                .unwrap();
        }
    }

    pub async fn connect(&self) -> Station {
        Station::connect(self.addr).await
    }

    /// A connection already logged in.
    pub async fn station(&self) -> Station {
        let mut station = self.connect().await;
        station.login().await;
        station
    }
}

/// A raw station connection.
#[derive(Debug)]
pub struct Station {
    pub stream: TcpStream,
    buf: Vec<u8>,
}

impl Station {
    /// Over a connection the test opened itself.
    pub fn from_stream(stream: TcpStream) -> Self {
        Self {
            stream,
            buf: Vec::new(),
        }
    }

    pub async fn connect(addr: SocketAddr) -> Self {
        Self {
            stream: TcpStream::connect(addr).await.unwrap(),
            buf: Vec::new(),
        }
    }

    pub async fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.unwrap();
    }

    /// The next response, CR included; `None` when the server closed the connection.
    pub async fn recv(&mut self) -> Option<Vec<u8>> {
        tokio::time::timeout(WAIT, async {
            loop {
                if let Some(end) = self.buf.iter().position(|&b| b == b'\r') {
                    return Some(self.buf.drain(..=end).collect());
                }
                let mut chunk = [0u8; 4096];
                match self.stream.read(&mut chunk).await {
                    Ok(0) | Err(_) => return None,
                    Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                }
            }
        })
        .await
        .expect("an answer or a close within the wait")
    }

    /// Sends `message` (CR added) and returns the answer as text.
    pub async fn exchange(&mut self, message: &str) -> String {
        let mut bytes = message.as_bytes().to_vec();
        if !message.ends_with('\r') {
            bytes.push(b'\r');
        }
        self.send(&bytes).await;
        let answer = self
            .recv()
            .await
            .unwrap_or_else(|| panic!("no answer to {message:?}"));
        String::from_utf8(answer).unwrap()
    }

    /// Sends `message` and expects the connection closed without an answer.
    pub async fn expect_closed_after(&mut self, message: &[u8]) {
        let _ = self.stream.write_all(message).await;
        self.expect_closed().await;
    }

    pub async fn expect_closed(&mut self) {
        assert_eq!(
            self.recv()
                .await
                .map(|b| String::from_utf8_lossy(&b).into_owned()),
            None,
            "the server closes the connection unanswered"
        );
    }

    pub async fn login(&mut self) {
        let answer = self.exchange("9300CNsc_user|COsc_pass|CPMAIN|").await;
        assert_eq!(answer, "941\r");
    }
}

/// Parses an answer with our own codec (which checks widths and the checksum).
pub fn parse(answer: &str) -> ParsedResponse {
    Response::parse(answer.as_bytes()).unwrap_or_else(|e| panic!("{answer:?}: {e}"))
}

/// The values of variable field `id` in an answer.
pub fn fields<'a>(answer: &'a str, id: &str) -> Vec<&'a str> {
    let fixed = match &answer[..2] {
        "24" => 37,
        "64" => 61,
        "12" | "30" | "10" => 24,
        "66" => 29,
        "16" => 22,
        "36" | "38" => 21,
        "98" => 36,
        "18" => 26,
        _ => 3,
    };
    answer
        .get(fixed..)
        .unwrap_or_default()
        .trim_end_matches('\r')
        .split('|')
        .filter_map(|f| f.strip_prefix(id))
        .collect()
}

/// The single value of `id`, if present.
pub fn field<'a>(answer: &'a str, id: &str) -> Option<&'a str> {
    fields(answer, id).first().copied()
}
