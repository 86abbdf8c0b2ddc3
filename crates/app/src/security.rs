//! The server's sink for security events: each event is one structured log line (target
//! `security`, the event's name and its fields, never a secret) and one count, read by the
//! metrics.

use std::sync::atomic::{AtomicU64, Ordering};

use library_credentials::{SecurityEvent, SecurityEvents};

/// Logs and counts security events.
#[derive(Debug, Default)]
pub struct SecurityLog {
    counts: [AtomicU64; SecurityEvent::NAMES.len()],
}

impl SecurityLog {
    /// A log with every count at zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many events of each name were recorded since the process started, in the
    /// order of [`SecurityEvent::NAMES`].
    pub fn counts(&self) -> Vec<(&'static str, u64)> {
        SecurityEvent::NAMES
            .iter()
            .zip(&self.counts)
            .map(|(name, count)| (*name, count.load(Ordering::Relaxed)))
            .collect()
    }

    /// How many events named `name` were recorded (0 for an unknown name).
    pub fn count(&self, name: &str) -> u64 {
        self.counts()
            .into_iter()
            .find(|(n, _)| *n == name)
            .map_or(0, |(_, c)| c)
    }
}

impl SecurityEvents for SecurityLog {
    fn record(&self, event: SecurityEvent) {
        let name = event.name();
        if let Some(i) = SecurityEvent::NAMES.iter().position(|n| *n == name) {
            self.counts[i].fetch_add(1, Ordering::Relaxed);
        }
        match &event {
            SecurityEvent::SourceLimited { source, until } => {
                tracing::warn!(target: "security", event = name, source = %source, until = %until);
            }
            SecurityEvent::PairDelayed {
                account,
                kind,
                source,
                until,
            } => {
                tracing::warn!(target: "security", event = name, account = %account, kind = kind.as_str(), source = %source, until = %until);
            }
            SecurityEvent::AccountDelayed {
                account,
                kind,
                until,
            } => {
                tracing::warn!(target: "security", event = name, account = %account, kind = kind.as_str(), until = %until);
            }
            SecurityEvent::PinDisabled { account } => {
                tracing::warn!(target: "security", event = name, account = %account);
            }
            SecurityEvent::StationLoginFailed { station, source } => {
                tracing::warn!(target: "security", event = name, station = %station, source = %source);
            }
            SecurityEvent::Sip2ConnectionRefused { address, reason } => {
                tracing::warn!(target: "security", event = name, address = %address, reason = *reason);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn each_event_is_counted_under_its_name() {
        let log = SecurityLog::new();
        log.record(SecurityEvent::PinDisabled {
            account: "card:21000012345678".into(),
        });
        log.record(SecurityEvent::SourceLimited {
            source: "ip:203.0.113.7".into(),
            until: datetime!(2021-03-05 10:10 UTC),
        });
        log.record(SecurityEvent::PinDisabled {
            account: "card:21000012345679".into(),
        });
        assert_eq!(log.count("pin_disabled"), 2);
        assert_eq!(log.count("source_limited"), 1);
        assert_eq!(log.count("account_delayed"), 0);
        assert_eq!(log.counts().len(), SecurityEvent::NAMES.len());
    }
}
