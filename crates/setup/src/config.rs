//! Configuration: environment variables over an optional TOML file (`LIBRARY_CONFIG`) over
//! defaults, so that a bare `cargo run -p library-server` serves a working system.

use std::path::Path;

use serde::Deserialize;

use crate::policy::{Policy, PolicySection};

/// Default database: a SQLite file in the working directory, created on first start.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://library.db?mode=rwc";
/// Default listen address.
pub const DEFAULT_HTTP_ADDR: &str = "127.0.0.1:8080";
/// SIP2 listen address when `--sip2` is given without one and none is configured.
pub const DEFAULT_SIP2_ADDR: &str = "127.0.0.1:6001";

/// The server's settings.
#[derive(Clone, PartialEq, Eq)]
pub struct Config {
    /// `sqlite://…` or `postgres://…`.
    pub database_url: String,
    /// Listen address; a leading `:` means `127.0.0.1`, port 0 picks a free port.
    pub http_addr: String,
    /// SIP2 listen address (same forms); `None`: no SIP2 server.
    pub sip2_addr: Option<String>,
    /// The SIP2 server's limits on connections not logged in.
    pub sip2_limits: Sip2Limits,
    /// Password of the bootstrap `admin` staff user; random (logged once) when unset.
    pub admin_password: Option<String>,
    /// The settable clock and job trigger (tests only).
    pub dev_clock: bool,
    /// Load the demo data set on start when the database is empty (`--demo`,
    /// `LIBRARY_DEMO=1`; see `demo.rs`).
    pub demo: bool,
    /// Seconds between runs of the scheduled jobs (`LIBRARY_JOBS_EVERY_SECS`); `0` turns
    /// them off. Unset: `DEFAULT_JOBS_EVERY_SECS`, or off with the development clock,
    /// whose `POST /dev/jobs/run` runs them on demand ([`Config::jobs_every`]).
    pub jobs_every_secs: Option<u64>,
    /// The circulation rules stored on first start (`LIBRARY_POLICY`, or the `[policy]`
    /// section of the file): the "hkpl" profile unless configured (`policy.rs`).
    pub policy: Policy,
    /// The SMTP server mail goes through (`LIBRARY_SMTP_URL`: `smtp://[user:pass@]host:port`,
    /// `?tls=required` for STARTTLS, `smtps://…` for implicit TLS); `None`: mail is logged
    /// (without its body) instead of sent.
    pub smtp_url: Option<String>,
    /// The sender address of mail (`LIBRARY_MAIL_FROM`).
    pub mail_from: String,
    /// The HTTP gateway SMS go through (`LIBRARY_SMS_URL`, `http://` or `https://`: a
    /// form-encoded `POST` of `to`, `text` and `from`); `None`: SMS are logged (without their
    /// text) instead of sent.
    pub sms_url: Option<String>,
    /// The gateway's token, sent as `Authorization: Bearer …` (`LIBRARY_SMS_TOKEN`).
    pub sms_token: Option<String>,
    /// The sender name or number of SMS (`LIBRARY_SMS_FROM`); unset: the gateway's default.
    pub sms_from: Option<String>,
    /// The key secrets are sealed with while they wait in the database
    /// (`LIBRARY_SECRET_KEY`: base64 of 32 bytes); `None`: the key file beside the database
    /// (`wiring::secret_key_file`), created on first start.
    pub secret_key: Option<String>,
    /// Days after their return that the loans of readers who keep no reading history are
    /// anonymised (`LIBRARY_ANONYMISE_AFTER_DAYS`, `anonymise_after_days` in the file);
    /// 0, the default, at the next run of the scheduled jobs.
    pub anonymise_after_days: u32,
    /// Days visitor registrations are kept before the scheduled jobs purge them
    /// (`LIBRARY_VISITOR_RETENTION_DAYS`, `visitor_retention_days` in the file; 1 to 366,
    /// default 31; docs/premises.md).
    pub visitor_retention: library_premises::admission::Retention,
    /// Seconds an HTTP client has to send a request's headers (from the moment the
    /// connection waits for them) and then its body (`LIBRARY_HTTP_READ_TIMEOUT_SECS`,
    /// `http_read_timeout_secs` in the file; default 10, at least 1).
    pub http_read_timeout_secs: u64,
}

/// The default of [`Config::http_read_timeout_secs`].
pub const DEFAULT_HTTP_READ_TIMEOUT_SECS: u64 = 10;
/// The SIP2 server's limits on connections that have not logged in (docs/sip2.md,
/// Connection limits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sip2Limits {
    /// Seconds from the connection within which a station must log in
    /// (`LIBRARY_SIP2_LOGIN_DEADLINE_SECS`, 1 or more; default 10).
    pub login_deadline_secs: u64,
    /// Connections not logged in at once from one address, an IPv6 one by its /64
    /// (`LIBRARY_SIP2_UNAUTHENTICATED_PER_ADDRESS`, 1 or more; default 4).
    pub unauthenticated_per_address: usize,
    /// Connections not logged in at once in total
    /// (`LIBRARY_SIP2_UNAUTHENTICATED_TOTAL`, 1 or more; default 32).
    pub unauthenticated_total: usize,
    /// Milliseconds a connection refused for these limits, or closed before logging in for
    /// what it sent, is held before it is closed (`LIBRARY_SIP2_REFUSAL_HOLD_MS`, 0 to
    /// [`MAX_REFUSAL_HOLD_MS`]; default 1000; 0 closes at once).
    pub refusal_hold_ms: u64,
}

/// The default of [`Sip2Limits::refusal_hold_ms`]: a second.
pub const DEFAULT_SIP2_REFUSAL_HOLD_MS: u64 = 1000;
/// The longest [`Sip2Limits::refusal_hold_ms`]: a minute.
pub const MAX_REFUSAL_HOLD_MS: u64 = 60_000;

impl Default for Sip2Limits {
    fn default() -> Self {
        Self {
            login_deadline_secs: 10,
            unauthenticated_per_address: 4,
            unauthenticated_total: 32,
            refusal_hold_ms: DEFAULT_SIP2_REFUSAL_HOLD_MS,
        }
    }
}

/// A whole number, 1 or more, from the variable `name`.
fn positive<T: std::str::FromStr + PartialOrd + From<u8>>(
    name: &'static str,
    value: &str,
) -> Result<T, ConfigError> {
    match value.trim().parse::<T>() {
        Ok(n) if n >= T::from(1) => Ok(n),
        _ => Err(ConfigError::Positive {
            name,
            value: value.to_owned(),
        }),
    }
}

/// The sender address of mail when none is configured.
pub const DEFAULT_MAIL_FROM: &str = "library@localhost";

/// The default period of the scheduled jobs: five minutes, so a hold is expired and its
/// copy passed on within minutes of its last pickup day ending.
pub const DEFAULT_JOBS_EVERY_SECS: u64 = 300;

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("database_url", &self.database_url)
            .field("http_addr", &self.http_addr)
            .field("sip2_addr", &self.sip2_addr)
            .field("sip2_limits", &self.sip2_limits)
            .field("admin_password", &self.admin_password.as_ref().map(|_| "…"))
            .field("dev_clock", &self.dev_clock)
            .field("demo", &self.demo)
            .field("jobs_every_secs", &self.jobs_every_secs)
            .field("policy", &self.policy.describe())
            .field("smtp_url", &self.smtp_url.as_ref().map(|_| "…"))
            .field("mail_from", &self.mail_from)
            .field("sms_url", &self.sms_url.as_ref().map(|_| "…"))
            .field("sms_token", &self.sms_token.as_ref().map(|_| "…"))
            .field("sms_from", &self.sms_from)
            .field("secret_key", &self.secret_key.as_ref().map(|_| "…"))
            .field("anonymise_after_days", &self.anonymise_after_days)
            .field("visitor_retention", &self.visitor_retention)
            .field("http_read_timeout_secs", &self.http_read_timeout_secs)
            .finish()
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            database_url: DEFAULT_DATABASE_URL.to_owned(),
            http_addr: DEFAULT_HTTP_ADDR.to_owned(),
            sip2_addr: None,
            sip2_limits: Sip2Limits::default(),
            admin_password: None,
            dev_clock: false,
            demo: false,
            jobs_every_secs: None,
            policy: Policy::Hkpl,
            smtp_url: None,
            mail_from: DEFAULT_MAIL_FROM.to_owned(),
            sms_url: None,
            sms_token: None,
            sms_from: None,
            secret_key: None,
            anonymise_after_days: 0,
            visitor_retention: library_premises::admission::Retention::default(),
            http_read_timeout_secs: DEFAULT_HTTP_READ_TIMEOUT_SECS,
        }
    }
}

/// The TOML file: the same settings as the variables, and the policy section.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileConfig {
    database_url: Option<String>,
    http_addr: Option<String>,
    sip2_addr: Option<String>,
    admin_password: Option<String>,
    dev_clock: Option<bool>,
    demo: Option<bool>,
    jobs_every_secs: Option<u64>,
    smtp_url: Option<String>,
    mail_from: Option<String>,
    sms_url: Option<String>,
    sms_token: Option<String>,
    sms_from: Option<String>,
    secret_key: Option<String>,
    anonymise_after_days: Option<u32>,
    visitor_retention_days: Option<i64>,
    http_read_timeout_secs: Option<u64>,
    /// `[policy]`: the rules stored on first start (`policy.rs`).
    pub(crate) policy: Option<PolicySection>,
}

/// Why the configuration could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file named by `LIBRARY_CONFIG` could not be read.
    #[error("cannot read the configuration file {path}: {source}")]
    Read {
        /// The path.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML for these settings.
    #[error("invalid configuration file {path}: {message}")]
    Parse {
        /// The path.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// The file's `[policy]` section, or `LIBRARY_POLICY`, is not a policy.
    #[error("invalid policy in {source_name}: {message}")]
    Policy {
        /// The file's path, or the variable.
        source_name: String,
        /// What is wrong, naming the key and the scope.
        message: String,
    },
    /// A command-line argument we do not understand.
    #[error(
        "unknown argument {0:?}: the arguments are --demo and --sip2[=ADDR] \
         (everything else is configured by LIBRARY_* variables)"
    )]
    Argument(String),
    /// A variable has a value we do not understand.
    #[error("{name}: expected 1/0/true/false, got {value:?}")]
    Flag {
        /// The variable.
        name: &'static str,
        /// Its value.
        value: String,
    },
    /// A variable that takes a whole number of days has something else.
    #[error("{name}: expected a whole number of days (0 or more), got {value:?}")]
    Days {
        /// The variable.
        name: &'static str,
        /// Its value.
        value: String,
    },
    /// The retention of visitor registrations is not a whole number of days from 1 to 366.
    #[error("{name}: expected a whole number of days from 1 to 366, got {value:?}")]
    Retention {
        /// The variable or the file's key.
        name: &'static str,
        /// Its value.
        value: String,
    },
    /// A variable that takes a whole number of 1 or more has something else.
    #[error("{name}: expected a whole number, 1 or more, got {value:?}")]
    Positive {
        /// The variable.
        name: &'static str,
        /// Its value.
        value: String,
    },
    /// The SIP2 refusal hold is not a whole number of milliseconds within its range.
    #[error(
        "{name}: expected a whole number of milliseconds from 0 to {max}, got {value:?}",
        max = MAX_REFUSAL_HOLD_MS
    )]
    Millis {
        /// The variable.
        name: &'static str,
        /// Its value.
        value: String,
    },
    /// A variable that takes a whole number of seconds has something else.
    #[error("{name}: expected a whole number of seconds, got {value:?}")]
    Number {
        /// The variable.
        name: &'static str,
        /// Its value.
        value: String,
    },
}

fn parse_flag(name: &'static str, value: &str) -> Result<bool, ConfigError> {
    match value.trim() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" | "" => Ok(false),
        other => Err(ConfigError::Flag {
            name,
            value: other.to_owned(),
        }),
    }
}

impl Config {
    /// Reads the process environment (and the file it names).
    pub fn from_env() -> Result<Config, ConfigError> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// Reads settings through `var` (the environment, or a map in tests).
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let mut config = Config::default();
        if let Some(path) = var("LIBRARY_CONFIG").filter(|p| !p.is_empty()) {
            let file = read_file(Path::new(&path))?;
            if let Some(v) = file.database_url {
                config.database_url = v;
            }
            if let Some(v) = file.http_addr {
                config.http_addr = v;
            }
            if let Some(v) = file.sip2_addr.filter(|v| !v.is_empty()) {
                config.sip2_addr = Some(v);
            }
            if file.admin_password.is_some() {
                config.admin_password = file.admin_password;
            }
            if let Some(v) = file.dev_clock {
                config.dev_clock = v;
            }
            if let Some(v) = file.demo {
                config.demo = v;
            }
            if file.jobs_every_secs.is_some() {
                config.jobs_every_secs = file.jobs_every_secs;
            }
            if let Some(v) = file.smtp_url.filter(|v| !v.is_empty()) {
                config.smtp_url = Some(v);
            }
            if let Some(v) = file.mail_from.filter(|v| !v.is_empty()) {
                config.mail_from = v;
            }
            if let Some(v) = file.sms_url.filter(|v| !v.is_empty()) {
                config.sms_url = Some(v);
            }
            if let Some(v) = file.sms_token.filter(|v| !v.is_empty()) {
                config.sms_token = Some(v);
            }
            if let Some(v) = file.sms_from.filter(|v| !v.is_empty()) {
                config.sms_from = Some(v);
            }
            if let Some(v) = file.secret_key.filter(|v| !v.is_empty()) {
                config.secret_key = Some(v);
            }
            if let Some(v) = file.anonymise_after_days {
                config.anonymise_after_days = v;
            }
            if let Some(v) = file.visitor_retention_days {
                config.visitor_retention = library_premises::admission::Retention::days(v)
                    .map_err(|_| ConfigError::Retention {
                        name: "visitor_retention_days",
                        value: v.to_string(),
                    })?;
            }
            if let Some(v) = file.http_read_timeout_secs {
                config.http_read_timeout_secs = v.max(1);
            }
            if let Some(section) = file.policy {
                config.policy = section.into_policy().map_err(|e| ConfigError::Policy {
                    source_name: format!("the configuration file {path}"),
                    message: e.0,
                })?;
            }
        }
        if let Some(v) = var("LIBRARY_DATABASE_URL").filter(|v| !v.is_empty()) {
            config.database_url = v;
        }
        if let Some(v) = var("LIBRARY_HTTP_ADDR").filter(|v| !v.is_empty()) {
            config.http_addr = v;
        }
        if let Some(v) = var("LIBRARY_SIP2_ADDR").filter(|v| !v.is_empty()) {
            config.sip2_addr = Some(v);
        }
        let limits = &mut config.sip2_limits;
        for (name, slot) in [
            (
                "LIBRARY_SIP2_UNAUTHENTICATED_PER_ADDRESS",
                &mut limits.unauthenticated_per_address,
            ),
            (
                "LIBRARY_SIP2_UNAUTHENTICATED_TOTAL",
                &mut limits.unauthenticated_total,
            ),
        ] {
            if let Some(v) = var(name).filter(|v| !v.trim().is_empty()) {
                *slot = positive(name, &v)?;
            }
        }
        if let Some(v) = var("LIBRARY_SIP2_LOGIN_DEADLINE_SECS").filter(|v| !v.trim().is_empty()) {
            limits.login_deadline_secs = positive("LIBRARY_SIP2_LOGIN_DEADLINE_SECS", &v)?;
        }
        if let Some(v) = var("LIBRARY_SIP2_REFUSAL_HOLD_MS").filter(|v| !v.trim().is_empty()) {
            limits.refusal_hold_ms = match v.trim().parse::<u64>() {
                Ok(ms) if ms <= MAX_REFUSAL_HOLD_MS => ms,
                _ => {
                    return Err(ConfigError::Millis {
                        name: "LIBRARY_SIP2_REFUSAL_HOLD_MS",
                        value: v,
                    });
                }
            };
        }
        if let Some(v) = var("LIBRARY_ADMIN_PASSWORD").filter(|v| !v.is_empty()) {
            config.admin_password = Some(v);
        }
        if let Some(v) = var("LIBRARY_SMTP_URL").filter(|v| !v.is_empty()) {
            config.smtp_url = Some(v);
        }
        if let Some(v) = var("LIBRARY_MAIL_FROM").filter(|v| !v.is_empty()) {
            config.mail_from = v;
        }
        if let Some(v) = var("LIBRARY_SMS_URL").filter(|v| !v.is_empty()) {
            config.sms_url = Some(v);
        }
        if let Some(v) = var("LIBRARY_SMS_TOKEN").filter(|v| !v.is_empty()) {
            config.sms_token = Some(v);
        }
        if let Some(v) = var("LIBRARY_SMS_FROM").filter(|v| !v.is_empty()) {
            config.sms_from = Some(v);
        }
        if let Some(v) = var("LIBRARY_SECRET_KEY").filter(|v| !v.is_empty()) {
            config.secret_key = Some(v);
        }
        if let Some(v) = var("LIBRARY_DEV_CLOCK") {
            config.dev_clock = parse_flag("LIBRARY_DEV_CLOCK", &v)?;
        }
        if let Some(v) = var("LIBRARY_DEMO") {
            config.demo = parse_flag("LIBRARY_DEMO", &v)?;
        }
        if let Some(v) = var("LIBRARY_POLICY").filter(|v| !v.trim().is_empty()) {
            config.policy = Policy::named(&v).map_err(|e| ConfigError::Policy {
                source_name: "LIBRARY_POLICY".to_owned(),
                message: e.0,
            })?;
        }
        if let Some(v) = var("LIBRARY_JOBS_EVERY_SECS").filter(|v| !v.trim().is_empty()) {
            let secs = v.trim().parse().map_err(|_| ConfigError::Number {
                name: "LIBRARY_JOBS_EVERY_SECS",
                value: v.clone(),
            })?;
            config.jobs_every_secs = Some(secs);
        }
        if let Some(v) = var("LIBRARY_ANONYMISE_AFTER_DAYS").filter(|v| !v.trim().is_empty()) {
            config.anonymise_after_days = v.trim().parse().map_err(|_| ConfigError::Days {
                name: "LIBRARY_ANONYMISE_AFTER_DAYS",
                value: v.clone(),
            })?;
        }
        if let Some(v) = var("LIBRARY_VISITOR_RETENTION_DAYS").filter(|v| !v.trim().is_empty()) {
            config.visitor_retention = v
                .trim()
                .parse::<i64>()
                .ok()
                .and_then(|d| library_premises::admission::Retention::days(d).ok())
                .ok_or_else(|| ConfigError::Retention {
                    name: "LIBRARY_VISITOR_RETENTION_DAYS",
                    value: v.clone(),
                })?;
        }
        if let Some(v) = var("LIBRARY_HTTP_READ_TIMEOUT_SECS").filter(|v| !v.trim().is_empty()) {
            let secs: u64 = v.trim().parse().map_err(|_| ConfigError::Number {
                name: "LIBRARY_HTTP_READ_TIMEOUT_SECS",
                value: v.clone(),
            })?;
            config.http_read_timeout_secs = secs.max(1);
        }
        Ok(config)
    }

    /// How long an HTTP client has for a request's headers, and then for its body.
    pub fn http_read_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.http_read_timeout_secs.max(1))
    }

    /// How often the scheduled jobs run; `None`: never on their own.
    pub fn jobs_every(&self) -> Option<std::time::Duration> {
        match self.jobs_every_secs {
            Some(0) => None,
            Some(secs) => Some(std::time::Duration::from_secs(secs)),
            None if self.dev_clock => None,
            None => Some(std::time::Duration::from_secs(DEFAULT_JOBS_EVERY_SECS)),
        }
    }

    /// The address to bind: `:8080` → `127.0.0.1:8080`.
    pub fn bind_addr(&self) -> String {
        with_host(&self.http_addr)
    }

    /// The SIP2 address to bind, if SIP2 is on (`:6001` → `127.0.0.1:6001`).
    pub fn sip2_bind_addr(&self) -> Option<String> {
        self.sip2_addr.as_deref().map(with_host)
    }

    /// Applies the command-line arguments: `--demo`, and `--sip2[=ADDR]` (SIP2 on, at
    /// `ADDR`, else at the configured address, else at [`DEFAULT_SIP2_ADDR`]).
    pub fn apply_args(
        &mut self,
        args: impl IntoIterator<Item = String>,
    ) -> Result<(), ConfigError> {
        for arg in args {
            match arg.as_str() {
                "--demo" => self.demo = true,
                "--sip2" => {
                    if self.sip2_addr.is_none() {
                        self.sip2_addr = Some(DEFAULT_SIP2_ADDR.to_owned());
                    }
                }
                other => match other.strip_prefix("--sip2=") {
                    Some(addr) if !addr.is_empty() => self.sip2_addr = Some(addr.to_owned()),
                    _ => return Err(ConfigError::Argument(other.to_owned())),
                },
            }
        }
        Ok(())
    }
}

/// `:8080` → `127.0.0.1:8080`; anything else as it is.
fn with_host(addr: &str) -> String {
    if addr.starts_with(':') {
        format!("127.0.0.1{addr}")
    } else {
        addr.to_owned()
    }
}

fn read_file(path: &Path) -> Result<FileConfig, ConfigError> {
    let display = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: display.clone(),
        source,
    })?;
    toml::from_str(&text).map_err(|e| ConfigError::Parse {
        path: display,
        message: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Config::from_vars(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_serve_a_working_system() {
        let c = config(&[]).unwrap();
        assert_eq!(c, Config::default());
        assert_eq!(c.database_url, "sqlite://library.db?mode=rwc");
        assert_eq!(c.bind_addr(), "127.0.0.1:8080");
        assert!(!c.dev_clock);
    }

    #[test]
    fn variables_override_the_file() {
        let path = std::env::temp_dir().join(format!("library-config-{}.toml", std::process::id()));
        std::fs::write(
            &path,
            "database_url = \"sqlite://file.db\"\nhttp_addr = \":9000\"\ndev_clock = true\n",
        )
        .unwrap();
        let file = path.to_str().unwrap();
        let c = config(&[("LIBRARY_CONFIG", file)]).unwrap();
        assert_eq!(c.database_url, "sqlite://file.db");
        assert_eq!(c.bind_addr(), "127.0.0.1:9000");
        assert!(c.dev_clock);
        let c = config(&[
            ("LIBRARY_CONFIG", file),
            ("LIBRARY_DATABASE_URL", "postgres://x/y"),
            ("LIBRARY_DEV_CLOCK", "0"),
        ])
        .unwrap();
        assert_eq!(c.database_url, "postgres://x/y");
        assert!(!c.dev_clock);
        std::fs::write(&path, "databse_url = \"typo\"\n").unwrap();
        assert!(matches!(
            config(&[("LIBRARY_CONFIG", file)]),
            Err(ConfigError::Parse { .. })
        ));
        std::fs::remove_file(&path).unwrap();
        assert!(matches!(
            config(&[("LIBRARY_DEV_CLOCK", "maybe")]),
            Err(ConfigError::Flag { .. })
        ));
    }

    #[test]
    fn visitor_retention_from_the_file_or_the_variable() {
        assert_eq!(config(&[]).unwrap().visitor_retention.get(), 31);
        let path =
            std::env::temp_dir().join(format!("library-retention-{}.toml", std::process::id()));
        std::fs::write(&path, "visitor_retention_days = 14\n").unwrap();
        let file = path.to_str().unwrap();
        assert_eq!(
            config(&[("LIBRARY_CONFIG", file)])
                .unwrap()
                .visitor_retention
                .get(),
            14
        );
        let c = config(&[
            ("LIBRARY_CONFIG", file),
            ("LIBRARY_VISITOR_RETENTION_DAYS", "366"),
        ]);
        assert_eq!(c.unwrap().visitor_retention.get(), 366);
        std::fs::write(&path, "visitor_retention_days = 0\n").unwrap();
        assert!(matches!(
            config(&[("LIBRARY_CONFIG", file)]),
            Err(ConfigError::Retention { .. })
        ));
        std::fs::remove_file(&path).unwrap();
        for bad in ["0", "367", "-1", "thirty", "1.5"] {
            assert!(
                matches!(
                    config(&[("LIBRARY_VISITOR_RETENTION_DAYS", bad)]),
                    Err(ConfigError::Retention { .. })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn anonymisation_days_from_the_file_or_the_variable() {
        assert_eq!(config(&[]).unwrap().anonymise_after_days, 0);
        let path = std::env::temp_dir().join(format!("library-anon-{}.toml", std::process::id()));
        std::fs::write(&path, "anonymise_after_days = 30\n").unwrap();
        let file = path.to_str().unwrap();
        assert_eq!(
            config(&[("LIBRARY_CONFIG", file)])
                .unwrap()
                .anonymise_after_days,
            30
        );
        let c = config(&[
            ("LIBRARY_CONFIG", file),
            ("LIBRARY_ANONYMISE_AFTER_DAYS", "7"),
        ]);
        assert_eq!(c.unwrap().anonymise_after_days, 7);
        std::fs::remove_file(&path).unwrap();
        for bad in ["-1", "seven", "1.5"] {
            assert!(
                matches!(
                    config(&[("LIBRARY_ANONYMISE_AFTER_DAYS", bad)]),
                    Err(ConfigError::Days { .. })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn sip2_limits_default_to_10_seconds_4_per_address_32_in_all_held_1_second() {
        let c = config(&[]).unwrap();
        assert_eq!(
            c.sip2_limits,
            Sip2Limits {
                login_deadline_secs: 10,
                unauthenticated_per_address: 4,
                unauthenticated_total: 32,
                refusal_hold_ms: 1000,
            }
        );
        for (value, ms) in [("0", 0), (" 250 ", 250), ("60000", 60_000)] {
            let c = config(&[("LIBRARY_SIP2_REFUSAL_HOLD_MS", value)]).unwrap();
            assert_eq!(c.sip2_limits.refusal_hold_ms, ms, "{value:?}");
        }
        for bad in ["60001", "-1", "1s", "0.5"] {
            assert!(
                matches!(
                    config(&[("LIBRARY_SIP2_REFUSAL_HOLD_MS", bad)]),
                    Err(ConfigError::Millis { .. })
                ),
                "{bad}"
            );
        }
        let c = config(&[
            ("LIBRARY_SIP2_LOGIN_DEADLINE_SECS", "1"),
            ("LIBRARY_SIP2_UNAUTHENTICATED_PER_ADDRESS", " 2 "),
            ("LIBRARY_SIP2_UNAUTHENTICATED_TOTAL", "8"),
        ])
        .unwrap();
        assert_eq!(c.sip2_limits.login_deadline_secs, 1);
        assert_eq!(c.sip2_limits.unauthenticated_per_address, 2);
        assert_eq!(c.sip2_limits.unauthenticated_total, 8);
        for (name, bad) in [
            ("LIBRARY_SIP2_LOGIN_DEADLINE_SECS", "0"),
            ("LIBRARY_SIP2_LOGIN_DEADLINE_SECS", "-1"),
            ("LIBRARY_SIP2_UNAUTHENTICATED_PER_ADDRESS", "0"),
            ("LIBRARY_SIP2_UNAUTHENTICATED_TOTAL", "many"),
        ] {
            assert!(
                matches!(config(&[(name, bad)]), Err(ConfigError::Positive { .. })),
                "{name}={bad}"
            );
        }
    }

    #[test]
    fn sip2_is_off_unless_configured_or_asked_for() {
        let args = |config: &mut Config, args: &[&str]| {
            config.apply_args(args.iter().map(|a| (*a).to_owned()))
        };
        let mut c = config(&[]).unwrap();
        assert_eq!(c.sip2_bind_addr(), None);
        args(&mut c, &["--sip2"]).unwrap();
        assert_eq!(c.sip2_bind_addr().as_deref(), Some("127.0.0.1:6001"));

        let mut c = config(&[("LIBRARY_SIP2_ADDR", ":0")]).unwrap();
        assert_eq!(c.sip2_bind_addr().as_deref(), Some("127.0.0.1:0"));
        // The flag alone keeps the configured address; with a value it wins.
        args(&mut c, &["--sip2"]).unwrap();
        assert_eq!(c.sip2_bind_addr().as_deref(), Some("127.0.0.1:0"));
        args(&mut c, &["--demo", "--sip2=0.0.0.0:6100"]).unwrap();
        assert_eq!(c.sip2_bind_addr().as_deref(), Some("0.0.0.0:6100"));
        assert!(c.demo);
        for bad in ["--sip2=", "--sip", "--http=1"] {
            assert!(
                matches!(args(&mut c, &[bad]), Err(ConfigError::Argument(a)) if a == bad),
                "{bad}"
            );
        }

        let path = std::env::temp_dir().join(format!("library-sip2-{}.toml", std::process::id()));
        std::fs::write(&path, "sip2_addr = \"127.0.0.1:6010\"\n").unwrap();
        let file = path.to_str().unwrap();
        let c = config(&[("LIBRARY_CONFIG", file)]).unwrap();
        assert_eq!(c.sip2_bind_addr().as_deref(), Some("127.0.0.1:6010"));
        let c = config(&[("LIBRARY_CONFIG", file), ("LIBRARY_SIP2_ADDR", ":6020")]).unwrap();
        assert_eq!(c.sip2_bind_addr().as_deref(), Some("127.0.0.1:6020"));
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn the_scheduled_jobs_run_every_five_minutes_unless_configured() {
        use std::time::Duration;
        let every = |vars: &[(&str, &str)]| config(vars).unwrap().jobs_every();
        assert_eq!(every(&[]), Some(Duration::from_secs(300)));
        assert_eq!(
            every(&[("LIBRARY_JOBS_EVERY_SECS", " 60 ")]),
            Some(Duration::from_secs(60))
        );
        assert_eq!(every(&[("LIBRARY_JOBS_EVERY_SECS", "0")]), None);
        assert_eq!(
            every(&[("LIBRARY_JOBS_EVERY_SECS", "")]),
            Some(Duration::from_secs(300))
        );
        // The development clock runs them on demand, unless a period is set.
        assert_eq!(every(&[("LIBRARY_DEV_CLOCK", "1")]), None);
        assert_eq!(
            every(&[("LIBRARY_DEV_CLOCK", "1"), ("LIBRARY_JOBS_EVERY_SECS", "1")]),
            Some(Duration::from_secs(1))
        );
        for bad in ["-1", "5m", "1.5", "99999999999999999999"] {
            assert!(
                matches!(
                    config(&[("LIBRARY_JOBS_EVERY_SECS", bad)]),
                    Err(ConfigError::Number { .. })
                ),
                "{bad}"
            );
        }
        let path = std::env::temp_dir().join(format!("library-jobs-{}.toml", std::process::id()));
        std::fs::write(&path, "jobs_every_secs = 900\n").unwrap();
        let file = path.to_str().unwrap();
        assert_eq!(
            every(&[("LIBRARY_CONFIG", file)]),
            Some(Duration::from_secs(900))
        );
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn the_policy_is_hkpl_unless_the_file_or_the_variable_says_otherwise() {
        use library_circulation::{ItemType, hkpl_profile};
        assert_eq!(config(&[]).unwrap().policy, Policy::Hkpl);
        assert_eq!(
            config(&[("LIBRARY_POLICY", "none")]).unwrap().policy,
            Policy::Empty
        );
        assert!(matches!(
            config(&[("LIBRARY_POLICY", "generous")]),
            Err(ConfigError::Policy { source_name, message })
                if source_name == "LIBRARY_POLICY" && message.contains("\"generous\"")
        ));

        let path = std::env::temp_dir().join(format!("library-policy-{}.toml", std::process::id()));
        let file = path.to_str().unwrap();
        std::fs::write(
            &path,
            "http_addr = \":9000\"\n\n[[policy.scopes]]\n[policy.scopes.rules]\nquota = 4\n\n\
             [[policy.scopes]]\nscope = { item_type = \"adult_av\" }\n\
             [policy.scopes.rules]\nloan_days = 7\n",
        )
        .unwrap();
        let c = config(&[("LIBRARY_CONFIG", file)]).unwrap();
        let Policy::Scopes(scopes) = &c.policy else {
            panic!("{:?}", c.policy)
        };
        assert_eq!(scopes.len(), 2);
        assert_eq!(scopes[0].rules.quota, Some(4));
        assert_eq!(
            scopes[1].scope.item_type,
            Some(ItemType::parse("adult_av").unwrap())
        );
        // The variable wins over the file.
        let c = config(&[("LIBRARY_CONFIG", file), ("LIBRARY_POLICY", "hkpl")]).unwrap();
        assert_eq!(c.policy.scoped_rules(), hkpl_profile());

        // An invalid policy is refused, naming the file, the scope and the problem.
        std::fs::write(
            &path,
            "[[policy.scopes]]\n[policy.scopes.rules]\nrenewal_base = \"x\"\n",
        )
        .unwrap();
        let err = config(&[("LIBRARY_CONFIG", file)]).unwrap_err().to_string();
        assert!(
            err.contains(file) && err.contains("#1: rules.renewal_base \"x\""),
            "{err}"
        );
        std::fs::write(
            &path,
            "[[policy.scopes]]\n[policy.scopes.rules]\nqouta = 1\n",
        )
        .unwrap();
        let err = config(&[("LIBRARY_CONFIG", file)]).unwrap_err().to_string();
        assert!(
            err.contains(file) && err.contains("unknown field `qouta`"),
            "{err}"
        );
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn the_demo_is_off_unless_asked_for() {
        assert!(!config(&[]).unwrap().demo);
        assert!(config(&[("LIBRARY_DEMO", "1")]).unwrap().demo);
        assert!(!config(&[("LIBRARY_DEMO", "0")]).unwrap().demo);
        assert!(matches!(
            config(&[("LIBRARY_DEMO", "please")]),
            Err(ConfigError::Flag { .. })
        ));
    }
}
