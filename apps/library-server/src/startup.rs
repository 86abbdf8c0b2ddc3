//! Building the application from a [`Config`] and running it: the HTTP listener, and the
//! SIP2 listener when configured. Both stop on the same shutdown signal.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use library_app::{DevControls, StationConnections};
use library_core::{Clock, ManualClock, SystemClock};
use library_persistence::application::DbSip2Stations;
use library_persistence::{Database, DatabaseError};
use library_sip2::server::ServerConfig;
use poem::EndpointExt;
use poem::endpoint::BoxEndpoint;
use time::OffsetDateTime;
use tokio::sync::watch;

use crate::http_server::{HttpLimits, serve};
use crate::scheduler::Scheduler;
use library_setup::wiring::{Transports, credential_service, scheduled_work, secret_box, services};
use library_setup::{BootstrapError, Config, bootstrap};
use library_sip2::library::{LibrarySip2Server, Sip2Connections, Sip2Library};

/// The longest wait between two deliveries of the outbox.
const DELIVERY_EVERY: Duration = Duration::from_secs(10);

/// How long a graceful shutdown waits for requests in flight (a service manager's stop
/// timeout must be longer: deploy/library-server.service).
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// The database could not be opened or migrated.
    #[error(transparent)]
    Database(#[from] DatabaseError),
    /// The bootstrap admin user could not be created.
    #[error(transparent)]
    Bootstrap(#[from] BootstrapError),
    /// The mail or SMS settings are unusable.
    #[error(transparent)]
    Transport(#[from] library_setup::wiring::TransportConfigError),
    /// The secret key is unusable.
    #[error(transparent)]
    SecretKey(#[from] library_setup::wiring::SecretKeyError),
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: String,
        /// Why.
        source: std::io::Error,
    },
}

/// The SIP2 listener, bound, with its server.
struct Sip2Listener {
    listener: tokio::net::TcpListener,
    addr: SocketAddr,
    server: LibrarySip2Server,
}

/// A built server: database open and migrated, listeners bound, not yet serving.
pub struct Application {
    listener: tokio::net::TcpListener,
    limits: HttpLimits,
    addr: SocketAddr,
    sip2: Option<Sip2Listener>,
    app: BoxEndpoint<'static>,
    schedulers: Vec<Scheduler>,
    db: Database,
    metrics: Arc<library_app::Metrics>,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("addr", &self.addr)
            .field("sip2_addr", &self.sip2_addr())
            .finish_non_exhaustive()
    }
}

/// Binds the SIP2 listener and builds its server over the library's services.
async fn bind_sip2(
    addr: String,
    limits: library_setup::Sip2Limits,
    library: Sip2Library,
) -> Result<Sip2Listener, StartupError> {
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .map_err(|source| StartupError::Bind {
            addr: addr.clone(),
            source,
        })?;
    let addr = listener
        .local_addr()
        .map_err(|source| StartupError::Bind { addr, source })?;
    let config = ServerConfig {
        login_deadline: Duration::from_secs(limits.login_deadline_secs),
        max_unauthenticated_per_address: limits.unauthenticated_per_address,
        max_unauthenticated: limits.unauthenticated_total,
        refusal_hold: Duration::from_millis(limits.refusal_hold_ms),
        ..ServerConfig::default()
    };
    let server = LibrarySip2Server::new(Arc::new(library), config);
    Ok(Sip2Listener {
        listener,
        addr,
        server,
    })
}

impl Application {
    /// Opens the database, wires the services, on first start stores the policy and
    /// creates the bootstrap admin (`bootstrap.rs`), and binds the listener.
    pub async fn build(config: &Config) -> Result<Application, StartupError> {
        let manual = config
            .dev_clock
            .then(|| Arc::new(ManualClock::new(OffsetDateTime::now_utc())));
        let clock: Arc<dyn Clock> = match &manual {
            Some(manual) => manual.clone(),
            None => Arc::new(SystemClock),
        };
        let db = Database::connect(&config.database_url)
            .await?
            .with_clock(clock.clone());
        let secrets = secret_box(config, &db)?;
        let metrics = Arc::new(library_app::Metrics::new());
        let credentials = credential_service(&db, secrets.clone(), clock.clone(), &metrics);
        bootstrap(&db, &credentials, config, clock.now()).await?;
        if manual.is_some() {
            tracing::warn!("LIBRARY_DEV_CLOCK is on: the clock is settable through the API");
        }
        let mut state = services(&db, credentials, clock, None, metrics.clone());
        state.admission = state.admission.with_retention(config.visitor_retention);
        let work = scheduled_work(
            &db,
            &state,
            config,
            Transports::from_config(config)?,
            secrets,
        );
        state.dev = manual.map(|clock| DevControls {
            clock,
            jobs: work.all(),
        });
        let sip2 = match config.sip2_bind_addr() {
            Some(addr) => {
                Some(bind_sip2(addr, config.sip2_limits, Sip2Library::new(state.clone())).await?)
            }
            None => None,
        };
        // The station accounts as HTTP manages them: deleting one also closes its open
        // SIP2 connections (the SIP2 side only looks accounts up).
        if let Some(sip2) = &sip2 {
            let connections: Arc<dyn StationConnections> =
                Arc::new(Sip2Connections(sip2.server.clone()));
            state.sip2_stations = Arc::new(DbSip2Stations::new(&db, Some(connections)));
        }
        // The jobs read readers and titles through the services; the station accounts do
        // not matter to them.
        // Housekeeping every period; mail every `DELIVERY_EVERY` at most, so a reader who
        // asks for a temporary password gets it within seconds, not minutes.
        let schedulers = config.jobs_every().map_or_else(Vec::new, |every| {
            vec![
                Scheduler {
                    name: "scheduled_jobs",
                    jobs: work.housekeeping.clone(),
                    leases: db.job_leases(),
                    clock: state.clock.clone(),
                    every,
                },
                Scheduler {
                    name: "outbox_delivery",
                    jobs: work.delivery.clone(),
                    leases: db.job_leases(),
                    clock: state.clock.clone(),
                    every: every.min(DELIVERY_EVERY),
                },
            ]
        });
        let bind = config.bind_addr();
        let listener = tokio::net::TcpListener::bind(&bind)
            .await
            .map_err(|source| StartupError::Bind {
                addr: bind.clone(),
                source,
            })?;
        let addr = listener
            .local_addr()
            .map_err(|source| StartupError::Bind { addr: bind, source })?;
        Ok(Application {
            listener,
            limits: HttpLimits {
                read_timeout: config.http_read_timeout(),
                grace: SHUTDOWN_GRACE,
            },
            addr,
            sip2,
            app: library_web::site(state.clone(), library_http::app(state)).boxed(),
            schedulers,
            db,
            metrics,
        })
    }

    /// The security events counted since the server started (what its log lines say).
    pub fn security(&self) -> Arc<library_app::security::SecurityLog> {
        self.metrics.security()
    }

    /// The address the listener is bound to (the chosen port when configured with 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The address the SIP2 listener is bound to, when SIP2 is on.
    pub fn sip2_addr(&self) -> Option<SocketAddr> {
        self.sip2.as_ref().map(|s| s.addr)
    }

    /// Serves until `shutdown` completes, then finishes the requests in flight (at most
    /// 10 s on each listener) and closes the database. The SIP2 server logs its own
    /// `sip2 listening on ADDR` line when it starts accepting.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        // One signal for both listeners; also sent when HTTP stops on its own.
        let (stop, stopped) = watch::channel(false);
        let stop = Arc::new(stop);
        let stop_http = stop.clone();
        let http_shutdown = async move {
            shutdown.await;
            let _ = stop_http.send(true);
        };
        let sip2 = self.sip2.map(|sip2| {
            let mut stopped = stopped.clone();
            tokio::spawn(async move {
                sip2.server
                    .serve(sip2.listener, async move {
                        let _ = stopped.wait_for(|stop| *stop).await;
                    })
                    .await;
            })
        });
        let schedulers: Vec<_> = self
            .schedulers
            .into_iter()
            .map(|scheduler| scheduler.spawn(stopped.clone()))
            .collect();
        tracing::info!("listening on http://{}", self.addr);
        tracing::info!(
            "readers' pages at http://{}/, the API's page at /docs",
            self.addr
        );
        let served = serve(
            self.listener,
            self.app,
            self.limits,
            self.metrics,
            http_shutdown,
        )
        .await;
        let _ = stop.send(true);
        if let Some(sip2) = sip2
            && let Err(err) = sip2.await
        {
            tracing::error!(%err, "the SIP2 server task failed");
        }
        for scheduler in schedulers {
            if let Err(err) = scheduler.await {
                tracing::error!(%err, "a scheduled jobs' task failed");
            }
        }
        if let Err(err) = self.db.close().await {
            tracing::warn!(%err, "closing the database");
        }
        served?;
        tracing::info!("stopped");
        Ok(())
    }
}
