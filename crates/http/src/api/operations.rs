//! Operations routes, at the root: health, readiness and metrics.

use poem_openapi::payload::{Json, PlainText};
use poem_openapi::{Object, OpenApi};

use super::ApiTags;
use crate::error::ApiError;
use library_app::Services;

/// A probe's answer.
#[derive(Debug, Object)]
struct StatusBody {
    /// `ok` or `ready`.
    status: String,
}

pub(crate) struct OperationsApi {
    state: Services,
}

impl OperationsApi {
    pub(crate) fn new(state: Services) -> Self {
        Self { state }
    }
}

#[OpenApi(tag = "ApiTags::Operations")]
impl OperationsApi {
    /// 200 while the process is up.
    #[oai(path = "/health", method = "get")]
    async fn health(&self) -> Json<StatusBody> {
        Json(StatusBody {
            status: "ok".into(),
        })
    }

    /// 200 when the database answers a read and accepts a write, else 503 with `reason`
    /// `database_read_failed` or `database_write_failed` (the database's own error is
    /// logged).
    #[oai(path = "/ready", method = "get")]
    async fn ready(&self) -> Result<Json<StatusBody>, ApiError> {
        match self.state.readiness.check().await {
            Ok(()) => Ok(Json(StatusBody {
                status: "ready".into(),
            })),
            Err(failure) => {
                tracing::warn!(cause = %failure.cause, reason = failure.reason.code(), "not ready");
                Err(ApiError::not_ready(failure.reason.code()))
            }
        }
    }

    /// The process's counters in the Prometheus text format:
    /// `library_security_events_total{event}` counts the security events since the process
    /// started (`source_limited`, `pair_delayed`, `account_delayed`, `pin_disabled`,
    /// `station_login_failed`, `sip2_connection_refused`; docs/credentials.md). Every event
    /// is listed, zeros included. Public like `/health`: it holds no personal data.
    #[oai(path = "/metrics", method = "get")]
    async fn metrics(&self) -> PlainText<String> {
        let mut text = String::from(
            "# HELP library_security_events_total Security events since the process started.\n\
             # TYPE library_security_events_total counter\n",
        );
        for (event, count) in self.state.security.counts() {
            text.push_str(&format!(
                "library_security_events_total{{event=\"{event}\"}} {count}\n"
            ));
        }
        PlainText(text)
    }
}
