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

    /// The process's metrics in the Prometheus text format: HTTP requests by route
    /// template, method and status with their duration histogram, the database pools' use,
    /// the hashing queue and its refusals, the outbox's depth and send results, the
    /// scheduled jobs' runs, and the security events (`library_security_events_total{event}`,
    /// every event listed, zeros included; docs/credentials.md). Every series is described
    /// in docs/operations.md. Public like `/health`: no label holds personal data (routes
    /// are templates, never paths).
    #[oai(path = "/metrics", method = "get")]
    async fn metrics(&self) -> PlainText<String> {
        PlainText(self.state.metrics_text().await)
    }
}
