//! The application layer wired over the database: what both apps build, the same way.
//! The server adds its listeners and the SIP2 connections a deleted station loses; the
//! admin tool calls the services like any other channel.

use std::sync::Arc;

use library_app::{
    BlockingHasher, CirculationDesk, DeliveryPolicy, DevControls, JobRunner, Jobs, MailTransport,
    Sender, Services, StationConnections,
};
use library_core::{Clock, ManualClock};
use library_credentials::{CredentialConfig, CredentialPorts, CredentialService, OsRandom};
pub use library_mail::MailConfigError;
use library_mail::{LogMail, SmtpMail};
use library_persistence::Database;
use library_persistence::application::{
    DbAdmin, DbOutbox, DbReaderDirectory, DbReadiness, DbSip2Stations, DbStaffDirectory,
    OutboxNotifier, ScheduledJobs, circulation, reader_services,
};

use crate::Config;

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

/// Where mail goes: the SMTP server of `config.smtp_url`, or the log when none is set.
pub fn mail_transport(config: &Config) -> Result<Arc<dyn MailTransport>, MailConfigError> {
    Ok(match &config.smtp_url {
        Some(url) => Arc::new(SmtpMail::new(url, &config.mail_from)?),
        None => Arc::new(LogMail),
    })
}

/// The scheduled jobs over `db`, in this order: hold expiry and the purge of stale guessing
/// counters, then the delivery of the outbox through `mail` (so a hold expiry's notices go
/// out in the same run).
pub fn scheduled_jobs(
    db: &Database,
    services: &Services,
    mail: Arc<dyn MailTransport>,
) -> Arc<dyn JobRunner> {
    let housekeeping = Arc::new(ScheduledJobs::new(
        services.circulation.clone(),
        db.credentials(),
        services.credentials.config().guessing,
    ));
    let sender = Arc::new(Sender::new(
        services.clone(),
        Arc::new(DbOutbox::new(db)),
        mail,
        DeliveryPolicy::default(),
    ));
    Arc::new(Jobs(vec![housekeeping, sender]))
}

/// The development controls: the settable clock behind the services' clock and the job
/// trigger.
pub fn dev_controls(clock: Arc<ManualClock>, jobs: Arc<dyn JobRunner>) -> DevControls {
    DevControls { clock, jobs }
}

/// The application layer's services over `db`, without development controls.
/// `connections`: the SIP2 connections a deleted station account loses (`None` where no
/// SIP2 server runs in the process).
pub fn services(
    db: &Database,
    credentials: CredentialService,
    clock: Arc<dyn Clock>,
    connections: Option<Arc<dyn StationConnections>>,
) -> Services {
    let desk: Arc<dyn CirculationDesk> = Arc::new(circulation(db, clock.clone()));
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
        dev: None,
    }
}
