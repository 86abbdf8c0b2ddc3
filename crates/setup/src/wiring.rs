//! The application layer wired over the database: what both apps build, the same way.
//! The server adds its listeners and the SIP2 connections a deleted station loses; the
//! admin tool calls the services like any other channel.

use std::sync::Arc;

use library_app::{
    BlockingHasher, CirculationDesk, DevControls, JobRunner, Services, StationConnections,
};
use library_core::{Clock, ManualClock};
use library_credentials::{CredentialConfig, CredentialPorts, CredentialService, OsRandom};
use library_persistence::Database;
use library_persistence::application::{
    DbAdmin, DbReaderDirectory, DbReadiness, DbSip2Stations, DbStaffDirectory, OutboxNotifier,
    ScheduledJobs, circulation, reader_services,
};

/// The credential service over `db`: Argon2 on the hashing threads ([`BlockingHasher`]),
/// notices to the outbox.
pub fn credential_service(db: &Database, clock: Arc<dyn Clock>) -> CredentialService {
    CredentialService::new(
        CredentialPorts {
            store: Arc::new(db.credentials()),
            sessions: Arc::new(db.sessions()),
            hasher: Arc::new(BlockingHasher::per_core()),
            staff: Arc::new(db.staff()),
            notifier: Arc::new(OutboxNotifier::new(db, clock.clone())),
            random: Arc::new(OsRandom),
            clock,
        },
        CredentialConfig::default(),
    )
}

/// The scheduled jobs over `db` (hold expiry, the purge of stale guessing counters).
pub fn scheduled_jobs(
    db: &Database,
    circulation: Arc<dyn CirculationDesk>,
    credentials: &CredentialService,
) -> Arc<dyn JobRunner> {
    Arc::new(ScheduledJobs::new(
        circulation,
        db.credentials(),
        credentials.config().guessing,
    ))
}

/// The application layer's services over `db`. `connections`: the SIP2 connections a
/// deleted station account loses (`None` where no SIP2 server runs in the process);
/// `dev`: the settable clock behind `clock`, when the development clock is on.
pub fn services(
    db: &Database,
    credentials: CredentialService,
    clock: Arc<dyn Clock>,
    connections: Option<Arc<dyn StationConnections>>,
    dev: Option<Arc<ManualClock>>,
) -> Services {
    let desk: Arc<dyn CirculationDesk> = Arc::new(circulation(db, clock.clone()));
    let dev = dev.map(|manual| DevControls {
        clock: manual,
        jobs: scheduled_jobs(db, desk.clone(), &credentials),
    });
    let admin = Arc::new(DbAdmin::new(db));
    Services {
        credentials,
        readers: Arc::new(DbReaderDirectory::new(db)),
        readiness: Arc::new(DbReadiness::new(db)),
        circulation: desk,
        libraries: admin.clone(),
        catalogue: admin.clone(),
        rules: admin.clone(),
        suspensions: admin.clone(),
        accounts: admin.clone(),
        audit: admin,
        sip2_stations: Arc::new(DbSip2Stations::new(db, connections)),
        staff: Arc::new(DbStaffDirectory::new(db)),
        reader_services: reader_services(db, clock.clone()),
        clock,
        random: Arc::new(OsRandom),
        dev,
    }
}
