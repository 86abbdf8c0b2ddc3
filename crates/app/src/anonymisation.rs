//! The scheduled job that anonymises the returned loans of readers who do not keep a
//! reading history ([`library_reader_services::AnonymisationPolicy`]; docs/circulation.md,
//! Reading history and anonymisation).

use async_trait::async_trait;
use library_credentials::PortError;
use library_reader_services::AnonymisationPolicy;
use time::OffsetDateTime;

use crate::services::{JobRunner, Services};

/// The anonymisation job: each run removes the reader from the returned loans the policy
/// anonymises at the run's time.
#[derive(Clone)]
pub struct Anonymisation {
    services: Services,
    policy: AnonymisationPolicy,
}

impl std::fmt::Debug for Anonymisation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Anonymisation")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl Anonymisation {
    /// The job over `services`, with `policy`.
    pub fn new(services: Services, policy: AnonymisationPolicy) -> Self {
        Self { services, policy }
    }
}

#[async_trait]
impl JobRunner for Anonymisation {
    async fn run_all(&self, now: OffsetDateTime) -> Result<(), PortError> {
        let anonymised = self
            .services
            .reader_services
            .settings
            .anonymise_returned_loans(&self.policy, now)
            .await
            .map_err(|e| PortError::Failed(format!("anonymise returned loans: {e}")))?;
        if anonymised > 0 {
            tracing::info!(anonymised, "returned loans anonymised");
        }
        Ok(())
    }
}
