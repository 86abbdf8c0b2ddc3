//! What every subcommand needs: the configuration, the open (and migrated) database, the
//! credential service wired as in the server, and the failure type.

use std::sync::Arc;

use library_app::{AuditRecord, Services};
use library_core::{Clock, DEFAULT_LIBRARY_OFFSET, SystemClock};
use library_credentials::CredentialService;
use library_persistence::{Backend, Database};
use library_setup::Config;
use library_setup::wiring::{credential_service, secret_box, services};
use time::{Date, OffsetDateTime};

/// Why a command did not succeed: a usage error (exit 2) or a failure (exit 1).
#[derive(Debug)]
pub enum Failure {
    /// The command line or its input is wrong in a way `--help` explains.
    Usage(String),
    /// The command failed (bad data, database, refused by a policy).
    Failed(String),
    /// The work belongs to another tool (a PostgreSQL backup is `pg_dump`'s): the message
    /// says what to run (exit 3).
    OtherTool(String),
}

impl Failure {
    /// A failure with this message.
    pub fn failed(message: impl std::fmt::Display) -> Self {
        Failure::Failed(message.to_string())
    }
}

/// The open database and the services over it.
pub struct Context {
    config: Config,
    db: Database,
    /// Built once: the credential service owns the hashing threads.
    services: Services,
    clock: Arc<dyn Clock>,
}

impl Context {
    /// Reads the configuration and opens the database (which runs the migrations).
    pub async fn open() -> Result<Context, Failure> {
        let config =
            Config::from_env().map_err(|e| Failure::failed(format!("configuration: {e}")))?;
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let db = Database::connect(&config.database_url)
            .await
            .map_err(|e| Failure::failed(format!("{}: {e}", shown_url(&config.database_url))))?
            .with_clock(clock.clone());
        let secrets =
            secret_box(&config, &db).map_err(|e| Failure::failed(format!("secret key: {e}")))?;
        let metrics = Arc::new(library_app::Metrics::new());
        let credentials = credential_service(&db, secrets, clock.clone(), &metrics);
        // This process serves no SIP2 connection: a station deleted here loses those of a
        // server at its next request, when its account is gone.
        let mut services = services(&db, credentials, clock.clone(), None, metrics);
        services.admission = services.admission.with_retention(config.visitor_retention);
        Ok(Context {
            config,
            db,
            services,
            clock,
        })
    }

    /// The database.
    pub fn db(&self) -> &Database {
        &self.db
    }

    /// The database URL without its password.
    pub fn shown_url(&self) -> String {
        shown_url(&self.config.database_url)
    }

    /// `SQLite` or `PostgreSQL`.
    pub fn backend(&self) -> &'static str {
        match self.db.backend() {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }

    /// Now.
    pub fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    /// Today in Hong Kong (the libraries' default zone).
    pub fn today(&self) -> Date {
        self.now().to_offset(DEFAULT_LIBRARY_OFFSET).date()
    }

    /// The credential service, wired as the server wires it (notices go to the outbox).
    pub fn credentials(&self) -> CredentialService {
        self.services.credentials.clone()
    }

    /// The application layer's services, wired as the server wires them.
    pub fn services(&self) -> Services {
        self.services.clone()
    }

    /// The audit record of an action of this tool (no staff user; channel
    /// `library-admin`), for the service that writes it in the change's transaction.
    pub fn audit_record(
        &self,
        action: &'static str,
        subject: String,
        mut details: serde_json::Value,
    ) -> AuditRecord {
        if let Some(map) = details.as_object_mut() {
            map.insert("channel".into(), "library-admin".into());
        }
        AuditRecord {
            staff: None,
            action,
            subject,
            details: details.to_string(),
            at: self.now(),
        }
    }

    /// Closes the pool.
    pub async fn close(self) {
        if let Err(err) = self.db.close().await {
            tracing::warn!(%err, "closing the database");
        }
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
pub(crate) fn shown_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((userinfo, host)) = rest.split_once('@') else {
        return url.to_owned();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::shown_url;

    #[test]
    fn passwords_are_not_shown() {
        assert_eq!(
            shown_url("postgres://lib:s3cret@db:5432/library"),
            "postgres://lib:***@db:5432/library"
        );
        assert_eq!(
            shown_url("postgres://postgres@127.0.0.1/x"),
            "postgres://postgres@127.0.0.1/x"
        );
        assert_eq!(
            shown_url("sqlite://library.db?mode=rwc"),
            "sqlite://library.db?mode=rwc"
        );
    }
}
