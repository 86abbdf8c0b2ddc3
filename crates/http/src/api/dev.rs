//! Development controls (`LIBRARY_DEV_CLOCK=1` only; 404 otherwise): the settable clock
//! and the job trigger. Neither needs a token.

use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};
use time::OffsetDateTime;

use super::ApiTags;
use super::types::NoContent;
use crate::error::ApiError;
use library_app::{DevControls, Services};

/// The years (UTC) the development clock may be set to.
pub const DEV_CLOCK_YEARS: std::ops::RangeInclusive<i32> = 1970..=9000;

/// `PUT /dev/clock`.
#[derive(Debug, Object)]
struct SetClockRequest {
    /// The instant every part of the server sees from now on (RFC 3339).
    now: OffsetDateTime,
}

pub(crate) struct DevApi {
    state: Services,
}

impl DevApi {
    pub(crate) fn new(state: Services) -> Self {
        Self { state }
    }

    fn controls(&self) -> Result<&DevControls, ApiError> {
        self.state.dev.as_ref().ok_or_else(ApiError::not_found)
    }
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Dev")]
impl DevApi {
    /// Sets the clock (frozen at that instant until set again; may move backwards). 422
    /// `now_out_of_range` outside the years 1970 to 9000 (UTC): every period the server
    /// adds to the time (sessions, guessing windows, loans, notices) stays a date then.
    #[oai(path = "/dev/clock", method = "put")]
    async fn set_clock(&self, body: Json<SetClockRequest>) -> Result<NoContent, ApiError> {
        let controls = self.controls()?;
        if !DEV_CLOCK_YEARS.contains(&body.0.now.to_offset(time::UtcOffset::UTC).year()) {
            return Err(ApiError::validation_failed(["now_out_of_range"]));
        }
        controls.clock.set(body.0.now);
        tracing::info!(now = %body.0.now, "dev clock set");
        Ok(NoContent::NoContent)
    }

    /// Runs every scheduled job once, now.
    #[oai(path = "/dev/jobs/run", method = "post")]
    async fn run_jobs(&self) -> Result<NoContent, ApiError> {
        let controls = self.controls()?;
        controls.jobs.run_all(self.state.clock.now()).await?;
        Ok(NoContent::NoContent)
    }
}
