//! The HTTP connection loop: HTTP/1.1 and HTTP/2 (prior knowledge) over TCP, with the
//! deadlines that keep slow and idle clients from holding connections, the request log,
//! and a graceful drain on shutdown.
//!
//! - **Header deadline**: a request's headers must arrive within `read_timeout` of the
//!   moment the connection starts waiting for them (a new connection, or the end of the
//!   previous response on a kept-alive one); otherwise the connection is closed. This is
//!   also the idle limit of a kept-alive connection.
//! - **Body deadline**: the whole body must arrive within `read_timeout` of its headers;
//!   otherwise the request is answered 408 `request_timeout` (the body reader sees a
//!   `TimedOut` error) and nothing is done.
//! - **Request log**: one line per request with the method, the path **without its query
//!   string** (a query may carry something secret), the status and the time taken.
//! - **Request metrics**: each request is counted and timed in the metrics under its
//!   route template, the answer's [`PathPattern`] set by the API or the pages
//!   (`unmatched` when none matched: never the path, which may name a card).
//! - **Request id**: every request runs in a span `request{id}`, so every log line written
//!   while it is served carries the id; the id is the client's `x-request-id` when it is 1
//!   to 64 visible ASCII characters, else one we make (16 hex digits), and the answer
//!   carries it back in `x-request-id`.
//! - **Drain**: on shutdown the listener stops accepting, kept-alive connections are asked
//!   to close after their current request, and the requests in flight get `grace` to
//!   finish.

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use library_app::Metrics;
use poem::PathPattern;
use poem::endpoint::BoxEndpoint;
use poem::web::{LocalAddr, RemoteAddr};
use tokio::net::TcpListener;
use tokio::time::Sleep;
use tracing::Instrument;

/// The deadlines of the connection loop.
#[derive(Debug, Clone, Copy)]
pub struct HttpLimits {
    /// Headers within this of waiting for them; the body within this of its headers.
    pub read_timeout: Duration,
    /// How long the drain waits for requests in flight.
    pub grace: Duration,
}

/// Serves `app` on `listener` until `shutdown` completes, then drains.
pub(crate) async fn serve(
    listener: TcpListener,
    app: BoxEndpoint<'static>,
    limits: HttpLimits,
    metrics: Arc<Metrics>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let app = Arc::new(app);
    let local = listener.local_addr()?;
    let graceful = GracefulShutdown::new();
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.read_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(Some(limits.read_timeout))
        .keep_alive_timeout(limits.read_timeout);
    let builder = Arc::new(builder);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(err) => {
                    // Out of descriptors and the like: wait a little, keep serving.
                    tracing::warn!(%err, "accepting an HTTP connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let service = RequestService {
            app: app.clone(),
            local,
            peer,
            read_timeout: limits.read_timeout,
            metrics: metrics.clone(),
        };
        let conn = builder
            .serve_connection(
                TokioIo::new(stream),
                hyper::service::service_fn(move |req| service.clone().call(req)),
            )
            .into_owned();
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(err) = conn.await {
                tracing::debug!(%peer, error = %err, "HTTP connection ended with an error");
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(limits.grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            grace_secs = limits.grace.as_secs(),
            "requests still in flight after the grace period were dropped"
        );
    }
    Ok(())
}

#[derive(Clone)]
struct RequestService {
    app: Arc<BoxEndpoint<'static>>,
    local: SocketAddr,
    peer: SocketAddr,
    read_timeout: Duration,
    metrics: Arc<Metrics>,
}

impl RequestService {
    async fn call(
        self,
        req: hyper::Request<Incoming>,
    ) -> Result<hyper::Response<BoxBody<Bytes, io::Error>>, Infallible> {
        let started = Instant::now();
        let method = req.method().clone();
        let path = req.uri().path().to_owned();
        let id = req
            .headers()
            .get(REQUEST_ID)
            .and_then(|v| v.to_str().ok())
            .filter(|v| is_request_id(v))
            .map_or_else(new_request_id, str::to_owned);
        let span = tracing::info_span!("request", id = %id);
        let mut req = poem::Request::from((
            req,
            LocalAddr(poem::Addr::SocketAddr(self.local)),
            RemoteAddr(poem::Addr::SocketAddr(self.peer)),
            poem::http::uri::Scheme::HTTP,
        ));
        let body: BoxBody<Bytes, io::Error> = req.take_body().into();
        req.set_body(poem::Body::from(BoxBody::new(DeadlineBody::new(
            body,
            self.read_timeout,
        ))));
        let mut resp = async {
            let resp = poem::Endpoint::get_response(self.app.as_ref(), req).await;
            let status = resp.status();
            let took = started.elapsed();
            let route = resp
                .data::<PathPattern>()
                .map_or(library_app::metrics::UNMATCHED, |p| &p.0);
            self.metrics
                .record_request(route, method.as_str(), status.as_u16(), took);
            let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
            if status.is_server_error() {
                tracing::warn!(target: "http", %method, path, status = status.as_u16(), micros, "request");
            } else {
                tracing::info!(target: "http", %method, path, status = status.as_u16(), micros, "request");
            }
            resp
        }
        .instrument(span)
        .await;
        if let Ok(value) = poem::http::HeaderValue::from_str(&id) {
            resp.headers_mut().insert(REQUEST_ID, value);
        }
        Ok(resp.into())
    }
}

/// The request id header, read and answered.
const REQUEST_ID: &str = "x-request-id";

/// Whether a client's request id is one we keep: 1 to 64 visible ASCII characters.
fn is_request_id(id: &str) -> bool {
    (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_graphic())
}

/// A new request id: 16 hex digits from the operating system's random source.
fn new_request_id() -> String {
    use library_credentials::RandomSource;
    let mut bytes = [0u8; 8];
    library_credentials::OsRandom.fill(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A request body that fails with `TimedOut` when it is not complete by its deadline.
struct DeadlineBody {
    inner: BoxBody<Bytes, io::Error>,
    deadline: Pin<Box<Sleep>>,
}

impl DeadlineBody {
    fn new(inner: BoxBody<Bytes, io::Error>, within: Duration) -> Self {
        Self {
            inner,
            deadline: Box::pin(tokio::time::sleep(within)),
        }
    }
}

impl Body for DeadlineBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        if let Poll::Ready(frame) = Pin::new(&mut self.inner).poll_frame(cx) {
            return Poll::Ready(frame);
        }
        match self.deadline.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the request body did not arrive in time",
            )))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl std::fmt::Debug for DeadlineBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DeadlineBody")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    #[test]
    fn a_clients_request_id_is_kept_only_when_short_and_visible() {
        assert!(is_request_id("abc-123_XYZ.7"));
        assert!(is_request_id(&"a".repeat(64)));
        assert!(!is_request_id(&"a".repeat(65)));
        assert!(!is_request_id(""));
        assert!(!is_request_id("two words"));
        assert!(!is_request_id("caf\u{e9}"));
        let made = new_request_id();
        assert_eq!(made.len(), 16);
        assert!(made.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(made, new_request_id());
    }

    #[tokio::test]
    async fn a_body_not_complete_by_its_deadline_fails_with_timed_out() {
        let (mut tx, rx) = channel_body();
        let body = DeadlineBody::new(rx, Duration::from_millis(100));
        tx.send(Bytes::from_static(b"{\"a\":")).await;
        let read = tokio::spawn(async move { body.collect().await });
        tokio::time::sleep(Duration::from_millis(300)).await;
        let err = read.await.unwrap().unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        drop(tx);
    }

    #[tokio::test]
    async fn a_body_complete_in_time_is_read_whole() {
        let (mut tx, rx) = channel_body();
        let body = DeadlineBody::new(rx, Duration::from_secs(10));
        tx.send(Bytes::from_static(b"{\"a\":")).await;
        tokio::time::sleep(Duration::from_millis(50)).await;
        tx.send(Bytes::from_static(b"1}")).await;
        drop(tx);
        let bytes = body.collect().await.unwrap().to_bytes();
        assert_eq!(&bytes[..], b"{\"a\":1}");
    }

    /// A body fed by a channel, one frame per message; it ends when the sender is dropped.
    struct ChannelBody(tokio::sync::mpsc::Receiver<Bytes>);

    impl Body for ChannelBody {
        type Data = Bytes;
        type Error = io::Error;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
            self.0.poll_recv(cx).map(|b| b.map(|b| Ok(Frame::data(b))))
        }
    }

    struct Sender(tokio::sync::mpsc::Sender<Bytes>);

    impl Sender {
        async fn send(&mut self, bytes: Bytes) {
            self.0.send(bytes).await.unwrap();
        }
    }

    fn channel_body() -> (Sender, BoxBody<Bytes, io::Error>) {
        let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(4);
        (Sender(tx), BoxBody::new(ChannelBody(rx)))
    }
}
