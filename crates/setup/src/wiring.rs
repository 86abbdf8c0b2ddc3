//! The application layer wired over the database: what both apps build, the same way.
//! The server adds its listeners and the SIP2 connections a deleted station loses; the
//! admin tool calls the services like any other channel.

use std::sync::Arc;

use library_app::{
    Anonymisation, BlockingHasher, CirculationDesk, DeliveryPolicy, JobRunner, Jobs, MailTransport,
    Metrics, Reminders, SecretBox, Sender, Services, SmsTransport, StationConnections, Timed,
    VisitorPurge,
};
use library_core::Clock;
use library_credentials::{CredentialConfig, CredentialPorts, CredentialService, OsRandom};
use library_mail::{HttpSms, LogMail, LogSms, SmtpMail};
pub use library_mail::{MailConfigError, SmsConfigError};
use library_persistence::Database;
use library_persistence::application::{
    DbAdmin, DbNotices, DbOutbox, DbPools, DbReaderDirectory, DbReadiness, DbSip2Stations,
    DbStaffDirectory, OutboxNotifier, ScheduledJobs, circulation, reader_services,
};
use library_reader_services::AnonymisationPolicy;

use crate::Config;

/// Why the secret key is unusable.
#[derive(Debug, thiserror::Error)]
pub enum SecretKeyError {
    /// `LIBRARY_SECRET_KEY` is not base64 of 32 bytes.
    #[error("LIBRARY_SECRET_KEY is not a key: base64 of 32 bytes expected")]
    Malformed,
    /// The key file holds no key.
    #[error("the key file {0} holds no key (base64 of 32 bytes)")]
    BadFile(String),
    /// The key file could not be read or created.
    #[error("the key file {path}: {source}")]
    File {
        /// The path.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// No randomness for a new key.
    #[error("{0}")]
    Random(String),
}

/// The key file used when no `LIBRARY_SECRET_KEY` is set: beside `db`'s SQLite file
/// (`library.db` → `library.db.key`); for PostgreSQL (or an in-memory SQLite database),
/// `library.key` in the working directory. Several processes on one PostgreSQL database
/// must share one key: set `LIBRARY_SECRET_KEY` for them.
pub fn secret_key_file(db: &Database) -> std::path::PathBuf {
    match db.sqlite_file() {
        Some(file) => {
            let mut name = file.as_os_str().to_owned();
            name.push(".key");
            name.into()
        }
        None => std::path::PathBuf::from("library.key"),
    }
}

/// The box secrets are sealed with: the key of `LIBRARY_SECRET_KEY`, or of the key file
/// ([`secret_key_file`]), which is created (mode 0600, logged as created, the key never
/// shown) when it does not exist.
pub fn secret_box(config: &Config, db: &Database) -> Result<SecretBox, SecretKeyError> {
    if let Some(text) = &config.secret_key {
        return SecretBox::parse_key(text)
            .map(SecretBox::new)
            .ok_or(SecretKeyError::Malformed);
    }
    let path = secret_key_file(db);
    let shown = path.display().to_string();
    let file_err = |source| SecretKeyError::File {
        path: shown.clone(),
        source,
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            return SecretBox::parse_key(&text)
                .map(SecretBox::new)
                .ok_or_else(|| SecretKeyError::BadFile(shown.clone()));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(file_err(e)),
    }
    let key = SecretBox::generate_key().map_err(|e| SecretKeyError::Random(e.to_string()))?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    match options.open(&path) {
        Ok(mut file) => {
            use std::io::Write as _;
            file.write_all(SecretBox::key_text(&key).as_bytes())
                .and_then(|()| file.sync_all())
                .map_err(file_err)?;
            tracing::warn!(
                path = %shown,
                "created the secret key file (mode 0600); back it up apart from the database: \
                 without it, queued temporary passwords cannot be sent"
            );
            Ok(SecretBox::new(key))
        }
        // Another process created it meanwhile: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let text = std::fs::read_to_string(&path).map_err(file_err)?;
            SecretBox::parse_key(&text)
                .map(SecretBox::new)
                .ok_or(SecretKeyError::BadFile(shown))
        }
        Err(e) => Err(file_err(e)),
    }
}

/// The credential service over `db`: Argon2 on the hashing threads ([`BlockingHasher`]),
/// notices to the outbox, secrets in them sealed with `secrets`; security events and the
/// hashing queue counted in `metrics`.
pub fn credential_service(
    db: &Database,
    secrets: SecretBox,
    clock: Arc<dyn Clock>,
    metrics: &Metrics,
) -> CredentialService {
    CredentialService::new(
        CredentialPorts {
            store: Arc::new(db.credentials()),
            sessions: Arc::new(db.sessions()),
            hasher: Arc::new(BlockingHasher::per_core().counted(metrics.hashing())),
            staff: Arc::new(db.staff()),
            notifier: Arc::new(OutboxNotifier::new(db, secrets, clock.clone())),
            random: Arc::new(OsRandom),
            clock,
            events: metrics.security(),
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

/// Where SMS go: the gateway of `config.sms_url`, or the log when none is set.
pub fn sms_transport(config: &Config) -> Result<Arc<dyn SmsTransport>, SmsConfigError> {
    Ok(match &config.sms_url {
        Some(url) => Arc::new(HttpSms::new(
            url,
            config.sms_token.as_deref(),
            config.sms_from.as_deref(),
        )?),
        None => Arc::new(LogSms),
    })
}

/// Where the outbox goes: mail and SMS.
#[derive(Clone)]
pub struct Transports {
    /// Mail.
    pub mail: Arc<dyn MailTransport>,
    /// SMS.
    pub sms: Arc<dyn SmsTransport>,
}

impl std::fmt::Debug for Transports {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transports").finish_non_exhaustive()
    }
}

/// Why the mail or SMS settings are unusable.
#[derive(Debug, thiserror::Error)]
pub enum TransportConfigError {
    /// The mail settings.
    #[error(transparent)]
    Mail(#[from] MailConfigError),
    /// The SMS settings.
    #[error(transparent)]
    Sms(#[from] SmsConfigError),
}

impl Transports {
    /// The transports `config` names (the log for each one it leaves unset).
    pub fn from_config(config: &Config) -> Result<Self, TransportConfigError> {
        Ok(Transports {
            mail: mail_transport(config)?,
            sms: sms_transport(config)?,
        })
    }
}

/// The scheduled work over `db`.
#[derive(Clone)]
pub struct ScheduledWork {
    /// Hold expiry, the reminders about due dates, the purge of stale guessing counters,
    /// the anonymisation of returned loans of readers who keep no reading history, and the
    /// purge of visitor registrations past their retention.
    pub housekeeping: Arc<dyn JobRunner>,
    /// The delivery of the outbox.
    pub delivery: Arc<dyn JobRunner>,
}

impl std::fmt::Debug for ScheduledWork {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScheduledWork").finish_non_exhaustive()
    }
}

impl ScheduledWork {
    /// Everything, in this order: housekeeping, then delivery (so a hold expiry's notices go
    /// out in the same run). What `POST /dev/jobs/run` runs.
    pub fn all(&self) -> Arc<dyn JobRunner> {
        Arc::new(Jobs(vec![self.housekeeping.clone(), self.delivery.clone()]))
    }
}

/// The scheduled work over `db`: housekeeping (hold expiry first, so its notices and the
/// reminders go out in the same run; then the anonymisation of returned loans after
/// `config.anonymise_after_days`, and the purge of visitor registrations past the
/// retention of `services.admission`), and the delivery of the outbox through `transports`.
/// Each job's runs are counted and timed under its name in `services.metrics`.
pub fn scheduled_work(
    db: &Database,
    services: &Services,
    config: &Config,
    transports: Transports,
    secrets: SecretBox,
) -> ScheduledWork {
    let timed = |name: &'static str, job: Arc<dyn JobRunner>| -> Arc<dyn JobRunner> {
        Arc::new(Timed::new(name, job, services.metrics.clone()))
    };
    let housekeeping = Arc::new(Jobs(vec![
        timed(
            "holds_and_guessing",
            Arc::new(ScheduledJobs::new(
                services.circulation.clone(),
                db.credentials(),
                services.credentials.config().guessing,
            )),
        ),
        timed("reminders", Arc::new(Reminders::new(services.clone()))),
        timed(
            "anonymisation",
            Arc::new(Anonymisation::new(
                services.clone(),
                AnonymisationPolicy {
                    after_days: config.anonymise_after_days,
                },
            )),
        ),
        timed(
            "visitor_purge",
            Arc::new(VisitorPurge(services.admission.clone())),
        ),
    ]));
    let delivery = timed(
        "outbox_delivery",
        Arc::new(Sender::new(
            services.clone(),
            Arc::new(DbOutbox::new(db)),
            transports.mail,
            transports.sms,
            secrets,
            DeliveryPolicy::default(),
        )),
    );
    ScheduledWork {
        housekeeping,
        delivery,
    }
}

/// The application layer's services over `db`, without development controls.
/// `connections`: the SIP2 connections a deleted station account loses (`None` where no
/// SIP2 server runs in the process). `metrics`: the registry the services record into
/// (the same the credential service was given).
pub fn services(
    db: &Database,
    credentials: CredentialService,
    clock: Arc<dyn Clock>,
    connections: Option<Arc<dyn StationConnections>>,
    metrics: Arc<Metrics>,
) -> Services {
    let desk: Arc<dyn CirculationDesk> = Arc::new(circulation(db, clock.clone()));
    let admin = Arc::new(DbAdmin::new(db));
    let notices = Arc::new(DbNotices::new(db));
    let readers = Arc::new(DbReaderDirectory::new(db));
    let random: Arc<dyn library_credentials::RandomSource> = Arc::new(OsRandom);
    Services {
        credentials,
        readers: readers.clone(),
        records: readers.clone(),
        readiness: Arc::new(DbReadiness::new(db)),
        circulation: desk,
        libraries: admin.clone(),
        premises: library_app::premises::Premises::new(Arc::new(db.premises()), clock.clone()),
        catalogue: admin.clone(),
        rules: admin.clone(),
        suspensions: admin.clone(),
        accounts: admin.clone(),
        audit: admin,
        sip2_stations: Arc::new(DbSip2Stations::new(db, connections)),
        staff: Arc::new(DbStaffDirectory::new(db)),
        reader_services: reader_services(db, clock.clone()),
        study_rooms: library_app::StudyRooms::new(
            Arc::new(db.study_rooms()),
            readers,
            clock.clone(),
            random.clone(),
        ),
        reminders: notices.clone(),
        notices,
        reports: Arc::new(db.reports()),
        admission: library_app::Admission::new(Arc::new(db.admission()), clock.clone()),
        clock,
        random,
        pools: Arc::new(DbPools::new(db)),
        metrics,
        dev: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_key_file_is_created_once_private_and_then_reused() {
        let dir = std::env::temp_dir().join(format!("library_key_{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let db = dir.join("library.db");
        let config = Config {
            database_url: format!("sqlite://{}?mode=rwc", db.display()),
            ..Config::default()
        };
        let database = Database::connect(&config.database_url).await.unwrap();
        let file = secret_key_file(&database);
        assert_eq!(file, dir.join("library.db.key"));
        let _ = std::fs::remove_file(&file);
        let first = secret_box(&config, &database).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let sealed = first.seal("Kite-Lamp-73xQ").unwrap();
        // A restart reads the same key.
        let again = secret_box(&config, &database).unwrap();
        assert_eq!(again.open(&sealed).as_deref(), Some("Kite-Lamp-73xQ"));
        // A configured key wins over the file; a malformed one stops start-up.
        let configured = Config {
            secret_key: Some(SecretBox::key_text(&[5u8; 32])),
            ..config.clone()
        };
        assert_eq!(
            secret_box(&configured, &database).unwrap().open(&sealed),
            None
        );
        let malformed = Config {
            secret_key: Some("short".into()),
            ..config.clone()
        };
        assert!(matches!(
            secret_box(&malformed, &database),
            Err(SecretKeyError::Malformed)
        ));
        // A file that holds no key is refused, never replaced.
        std::fs::write(&file, "garbage").unwrap();
        assert!(matches!(
            secret_box(&config, &database),
            Err(SecretKeyError::BadFile(_))
        ));
        database.close().await.unwrap();
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn postgres_and_memory_databases_use_the_working_directorys_key_file() {
        let mut urls = vec!["sqlite::memory:".to_owned()];
        if let Ok(url) = std::env::var("LIBRARY_TEST_POSTGRES_URL")
            && !url.is_empty()
        {
            urls.push(url);
        }
        for url in urls {
            let database = Database::connect(&url).await.unwrap();
            assert_eq!(
                secret_key_file(&database),
                std::path::PathBuf::from("library.key"),
                "{url}"
            );
            database.close().await.unwrap();
        }
    }
}
