//! The SIP2 TCP server (feature `server`): one task per station connection, the codec for
//! the bytes, a [`Sip2Backend`] for everything the library knows.
//!
//! # Decisions
//!
//! - **Port, not services.** The server speaks to one trait named by role with plain types
//!   ([`port`]); the composition root implements it over the credential and circulation
//!   services. Tests use an in-memory fake.
//! - **State machine apart from I/O** (`session.rs`): a line in, an action out; its table
//!   of states and answers is the module's documentation. Before a successful `93` only
//!   `93`, `99` and `97` are answered; anything else closes the connection unanswered. The
//!   third refused `93` on a connection is answered `940` and closes it.
//! - **One answer table** (`answers.rs`) maps requests to backend calls and outcomes to
//!   SIP2 fields: a refusal's message goes to `AF` with the ok flag cleared; an unknown
//!   card and an unverified PIN share one generic message and shape.
//! - **Robustness.** Lines are split at CR or LF with a hard limit (a longer one closes the
//!   connection before it is buffered); the whole next message must arrive within
//!   [`ServerConfig::read_timeout`]; a TLS ClientHello closes the connection; unreadable
//!   messages get `96` (ten in a row close). Each response is written with one
//!   `write_all`. Nothing a connection does touches another: each has its own task, and
//!   [`ServerConfig::max_connections`] bounds them.
//! - **Connections not logged in** (`gate.rs`) are capped per peer address
//!   ([`ServerConfig::max_unauthenticated_per_address`], an IPv6 peer by its /64) and in
//!   total ([`ServerConfig::max_unauthenticated`], well below `max_connections`), and must
//!   log in within [`ServerConfig::login_deadline`] of connecting whatever they send, so
//!   idle or half-open connections cannot lock stations out. Each connection closed for
//!   this is reported once to [`Sip2Backend::connection_refused`] (the backend reports a
//!   `93` from an address its station does not allow itself, once per `93`).
//! - **Reconnecting too fast.** A connection refused for a cap, or closed before logging in
//!   for what it sent, is held unread for [`ServerConfig::refusal_hold`] before it is
//!   closed (at most [`ServerConfig::max_held`] at once; it no longer counts under the
//!   caps meanwhile), so a client that reconnects as soon as it is closed costs the server
//!   a connection a second, not thousands.
//! - **Replays.** `97` resends the last response byte for byte; the previous line sent
//!   again with the same `AY` and `AZ` gets the last response without running it again (a
//!   station retrying a checkout or a payment must not do it twice).
//! - **Shutdown.** [`Sip2Server::serve`] stops accepting when its shutdown future
//!   completes; connections waiting for a line close at once, a request being answered is
//!   finished and written first (up to [`ServerConfig::shutdown_grace`]).

mod answers;
mod config;
mod connection;
mod gate;
mod line;
pub mod port;
mod registry;
mod session;

pub use config::ServerConfig;
pub use port::{
    BackendError, ConnectionRefusal, FineLine, HoldInfo, HoldLine, HoldTarget, ItemCirculation,
    ItemInfo, LoanInfo, LoanLine, Outcome, PatronInformation, PatronLookup, PatronStanding,
    PatronSummary, PaymentInfo, Refusal, RenewAllInfo, ReturnInfo, ReturnRouting, Sip2Backend,
    StationAccount, StationPermissions, StationSession,
};

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tracing::{debug, info, warn};

use connection::Connection;
use gate::Gate;
use registry::Registry;

/// The SIP2 server. Cheap to clone: clones share the backend and the open connections, so
/// one can [`serve`](Self::serve) while another [disconnects a
/// station](Self::disconnect_station).
#[derive(Debug)]
pub struct Sip2Server<B: ?Sized> {
    backend: Arc<B>,
    config: Arc<ServerConfig>,
    registry: Arc<Registry>,
    gate: Arc<Gate>,
}

impl<B: ?Sized> Clone for Sip2Server<B> {
    fn clone(&self) -> Self {
        Self {
            backend: self.backend.clone(),
            config: self.config.clone(),
            registry: self.registry.clone(),
            gate: self.gate.clone(),
        }
    }
}

impl<B: Sip2Backend + ?Sized + 'static> Sip2Server<B> {
    /// A server over `backend`.
    pub fn new(backend: Arc<B>, config: ServerConfig) -> Self {
        Self {
            backend,
            gate: Gate::new(
                config.max_unauthenticated_per_address,
                config.max_unauthenticated,
            ),
            config: Arc::new(config),
            registry: Arc::new(Registry::default()),
        }
    }

    /// The settings in force.
    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// Connections open now.
    pub fn connection_count(&self) -> usize {
        self.registry.len()
    }

    /// Closes every connection logged in as `station_id` (after the request it may be
    /// answering); how many there were. For an administrator deleting the station.
    pub fn disconnect_station(&self, station_id: &str) -> usize {
        self.registry.disconnect_station(station_id)
    }

    /// Accepts connections on `listener` until `shutdown` completes, then stops accepting,
    /// lets requests being answered finish (up to the grace period) and returns once every
    /// connection is closed.
    pub async fn serve(&self, listener: TcpListener, shutdown: impl Future<Output = ()> + Send) {
        let (stop_tx, stop_rx) = watch::channel(false);
        let permits = Arc::new(Semaphore::new(self.config.max_connections.max(1)));
        let held = Arc::new(Semaphore::new(self.config.max_held));
        let mut tasks = JoinSet::new();
        tokio::pin!(shutdown);
        if let Ok(addr) = listener.local_addr() {
            info!("sip2 listening on {addr}");
        }
        loop {
            while tasks.try_join_next().is_some() {}
            let accepted = tokio::select! {
                biased;
                () = &mut shutdown => break,
                accepted = listener.accept() => accepted,
            };
            let (stream, peer) = match accepted {
                Ok(pair) => pair,
                Err(error) => {
                    // Out of file descriptors and the like: wait, don't spin or stop.
                    warn!(%error, "SIP2 accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            // Not logged in yet: within the caps, or held a moment and closed.
            let Some(pass) = self.gate.admit(peer.ip()) else {
                debug!(%peer, "too many SIP2 connections not logged in; closing the new one");
                self.backend
                    .connection_refused(peer.ip(), ConnectionRefusal::UnauthenticatedLimit);
                self.hold_then_close(stream, &held, &stop_rx, &mut tasks);
                continue;
            };
            let Ok(permit) = permits.clone().try_acquire_owned() else {
                debug!(%peer, "too many SIP2 connections; closing the new one");
                self.hold_then_close(stream, &held, &stop_rx, &mut tasks);
                continue;
            };
            let (id, kick) = self.registry.register();
            let registry = self.registry.clone();
            let connection = Connection {
                stream,
                peer,
                id,
                backend: self.backend.clone(),
                config: self.config.clone(),
                registry: self.registry.clone(),
                kick,
                shutdown: stop_rx.clone(),
                gate: self.gate.clone(),
                pass: Some(pass),
                permit,
                held: held.clone(),
            };
            tasks.spawn(async move {
                // Dropped however the task ends (even by a panic in the backend).
                let _registered = registry::Registered { registry, id };
                debug!(%peer, "SIP2 connection opened");
                connection.run().await;
                debug!(%peer, "SIP2 connection closed");
            });
        }
        drop(listener);
        let _ = stop_tx.send(true);
        let drained = tokio::time::timeout(self.config.shutdown_grace, async {
            while tasks.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            warn!("SIP2 connections still busy after the grace period; dropping them");
            tasks.shutdown().await;
        }
        info!("sip2 stopped");
    }

    /// Closes a connection refused at accept, unread, after the refusal hold
    /// ([`connection::hold_before_closing`]).
    fn hold_then_close(
        &self,
        stream: TcpStream,
        held: &Arc<Semaphore>,
        stop: &watch::Receiver<bool>,
        tasks: &mut JoinSet<()>,
    ) {
        let (config, held, mut stop) = (self.config.clone(), held.clone(), stop.clone());
        tasks.spawn(async move {
            connection::hold_before_closing(&config, &held, &mut stop).await;
            drop(stream);
        });
    }
}
