//! One station's connection: read a line, let the session decide, write the answer in one
//! write. Timeouts, the login deadline, the line limit, shutdown and an administrator's
//! disconnect end it.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, watch};
use tokio::time::{Instant, timeout};
use tracing::debug;

use super::config::ServerConfig;
use super::gate::{Gate, Pass};
use super::line::{Line, LineReader};
use super::port::{ConnectionRefusal, Sip2Backend};
use super::registry::Registry;
use super::session::{Action, Session};

pub(crate) struct Connection<B: ?Sized> {
    pub stream: TcpStream,
    pub peer: SocketAddr,
    pub id: u64,
    pub backend: Arc<B>,
    pub config: Arc<ServerConfig>,
    pub registry: Arc<Registry>,
    pub kick: Arc<Notify>,
    pub shutdown: watch::Receiver<bool>,
    /// The connections not logged in, and this one's place among them while it is not.
    pub gate: Arc<Gate>,
    pub pass: Option<Pass>,
    /// This connection's place among the server's `max_connections`.
    pub permit: OwnedSemaphorePermit,
    /// The places for connections held before they are closed (`max_held`).
    pub held: Arc<Semaphore>,
}

impl<B: Sip2Backend + ?Sized> Connection<B> {
    /// Serves the connection until the station leaves, misbehaves, times out, is
    /// disconnected or the server shuts down. A request being answered is finished first.
    pub(crate) async fn run(self) {
        let Connection {
            stream,
            peer,
            id,
            backend,
            config,
            registry,
            kick,
            mut shutdown,
            gate,
            mut pass,
            permit,
            held,
        } = self;
        // Counted from the connection; only a successful login lifts it.
        let mut login_by = Instant::now() + config.login_deadline;
        let _ = stream.set_nodelay(true);
        let (read_half, mut write_half) = stream.into_split();
        let mut reader = LineReader::new(read_half, config.line_limit());
        let mut session = Session::new(backend.clone(), config.clone(), peer);
        // Whether the connection is closed for what it sent (rather than by the peer, a
        // timeout, an administrator or shutdown).
        let for_what_it_sent = loop {
            if *shutdown.borrow() {
                break false;
            }
            let logged_in = session.station_id().is_some();
            let wait = if logged_in {
                config.read_timeout
            } else {
                let left = login_by.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    debug!(%peer, "no login within the deadline; closing");
                    backend.connection_refused(peer.ip(), ConnectionRefusal::LoginDeadline);
                    break false;
                }
                left.min(config.read_timeout)
            };
            let line = tokio::select! {
                biased;
                _ = shutdown.changed() => break false,
                () = kick.notified() => {
                    debug!(%peer, "station disconnected by an administrator");
                    break false;
                }
                read = timeout(wait, reader.next_line()) => read,
            };
            let line = match line {
                Err(_elapsed) if !logged_in && Instant::now() >= login_by => {
                    debug!(%peer, "no login within the deadline; closing");
                    backend.connection_refused(peer.ip(), ConnectionRefusal::LoginDeadline);
                    break false;
                }
                Err(_elapsed) => {
                    debug!(%peer, "read timeout; closing");
                    break false;
                }
                Ok(Err(error)) => {
                    debug!(%peer, %error, "read failed; closing");
                    break false;
                }
                Ok(Ok(Line::Closed)) => break false,
                Ok(Ok(Line::TooLong)) => {
                    debug!(%peer, "line over the limit; closing");
                    break true;
                }
                Ok(Ok(Line::Complete(line))) => line,
            };
            let action = session.handle(&line).await;
            registry.set_station(id, session.station_id());
            // Logged in: no longer counted as waiting. Logged out again (a refused `93`):
            // counted again, within the caps, with a new deadline.
            let mut over_cap = false;
            if session.station_id().is_some() {
                pass = None;
            } else if pass.is_none() {
                pass = gate.admit(peer.ip());
                login_by = Instant::now() + config.login_deadline;
                if pass.is_none() {
                    debug!(%peer, "logged out and too many connections not logged in; closing");
                    backend.connection_refused(peer.ip(), ConnectionRefusal::UnauthenticatedLimit);
                    over_cap = true;
                }
            }
            let (bytes, close) = match action {
                Action::Nothing if over_cap => break true,
                Action::Nothing => continue,
                Action::Close => break true,
                Action::Reply(bytes) => (bytes, over_cap),
                Action::ReplyAndClose(bytes) => (bytes, true),
            };
            // One write per response: the sip2 crate parses whatever one read returns.
            match timeout(config.write_timeout, write_half.write_all(&bytes)).await {
                Ok(Ok(())) => {}
                Ok(Err(error)) => {
                    debug!(%peer, %error, "write failed; closing");
                    break false;
                }
                Err(_elapsed) => {
                    debug!(%peer, "write timeout; closing");
                    break false;
                }
            }
            if close {
                break true;
            }
        };
        if for_what_it_sent && session.station_id().is_none() {
            // Held as a connection refused at accept is; its places under the caps and among
            // the connections served go back first.
            drop(pass);
            drop(permit);
            hold_before_closing(&config, &held, &mut shutdown).await;
        }
        let _ = timeout(config.write_timeout, write_half.shutdown()).await;
    }
}

/// Waits out [`ServerConfig::refusal_hold`] before a connection not logged in is closed
/// (for a cap, or for what it sent), in one of the [`ServerConfig::max_held`] places `held`
/// counts; returns at once when the hold is zero, no place is free, or on shutdown.
pub(crate) async fn hold_before_closing(
    config: &ServerConfig,
    held: &Semaphore,
    shutdown: &mut watch::Receiver<bool>,
) {
    if config.refusal_hold.is_zero() || *shutdown.borrow() {
        return;
    }
    let Ok(_place) = held.try_acquire() else {
        return;
    };
    tokio::select! {
        () = tokio::time::sleep(config.refusal_hold) => {}
        _ = shutdown.changed() => {}
    }
}
