//! The `SecretHasher` port for the server: Argon2id on tokio's blocking pool, at most one
//! hash per core at a time, and a bounded wait for a slot. Argon2id costs ~50 ms of CPU and
//! 19 MiB of memory; computed on the async runtime it would stall every other request, and
//! computed without a bound a burst of logins would exhaust memory. A request that cannot
//! get a slot within [`HASH_QUEUE_WAIT`] gets [`PortError::Overloaded`] (HTTP 503 with
//! `Retry-After`).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use library_credentials::{Argon2Hasher, PortError, Secret, SecretHash, SecretHasher};
use tokio::sync::Semaphore;

/// How long a request waits for a hashing slot before answering 503.
pub const HASH_QUEUE_WAIT: Duration = Duration::from_secs(2);

/// Argon2id off the async runtime, bounded.
#[derive(Debug, Clone)]
pub struct BlockingHasher {
    inner: Arc<Argon2Hasher>,
    slots: Arc<Semaphore>,
    wait: Duration,
}

impl BlockingHasher {
    /// `slots` hashes at once (the number of cores), waiting at most `wait` for one.
    pub fn new(inner: Argon2Hasher, slots: usize, wait: Duration) -> Self {
        Self {
            inner: Arc::new(inner),
            slots: Arc::new(Semaphore::new(slots.max(1))),
            wait,
        }
    }

    /// One slot per available core, [`HASH_QUEUE_WAIT`], OWASP parameters.
    pub fn per_core() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        Self::new(Argon2Hasher::owasp_minimum(), cores, HASH_QUEUE_WAIT)
    }

    async fn run<T, F>(&self, work: F) -> Result<T, PortError>
    where
        T: Send + 'static,
        F: FnOnce(&Argon2Hasher) -> T + Send + 'static,
    {
        let permit = tokio::time::timeout(self.wait, self.slots.clone().acquire_owned())
            .await
            .map_err(|_| PortError::Overloaded)?
            .map_err(|_| PortError::Overloaded)?;
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            work(&inner)
        })
        .await
        .map_err(|e| PortError::Failed(format!("hashing task: {e}")))
    }
}

#[async_trait]
impl SecretHasher for BlockingHasher {
    async fn hash(&self, secret: &Secret) -> Result<SecretHash, PortError> {
        let secret = secret.clone();
        self.run(move |h| h.hash_sync(&secret)).await?
    }

    async fn verify<'a>(
        &self,
        secret: &Secret,
        hash: Option<&'a SecretHash>,
    ) -> Result<bool, PortError> {
        let secret = secret.clone();
        let hash = hash.cloned();
        self.run(move |h| h.verify_sync(&secret, hash.as_ref()))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_full_queue_answers_overloaded_and_work_runs_when_a_slot_is_free() {
        let hasher =
            BlockingHasher::new(Argon2Hasher::owasp_minimum(), 1, Duration::from_millis(20));
        let busy = hasher.slots.clone().acquire_owned().await.unwrap();
        let secret = Secret::new("Lantern-Harbour-42");
        assert_eq!(hasher.hash(&secret).await, Err(PortError::Overloaded));
        assert_eq!(
            hasher.verify(&secret, None).await,
            Err(PortError::Overloaded)
        );
        drop(busy);
        let hash = hasher.hash(&secret).await.unwrap();
        assert_eq!(hasher.verify(&secret, Some(&hash)).await, Ok(true));
        assert_eq!(hasher.verify(&secret, None).await, Ok(false));
    }
}
