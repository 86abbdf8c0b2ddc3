//! The `SecretHasher` port for the running system (server and admin tool alike): Argon2id on dedicated hashing threads, one per
//! core, at a lower CPU priority than the request threads, with a bounded wait for a slot.
//!
//! Argon2id costs tens of milliseconds of CPU and 19 MiB of memory per hash. Computed on the
//! async runtime it would stall every other request; computed without a bound a burst of
//! logins would exhaust memory. So at most one hash per core runs at a time (one thread per
//! core), at most one more per core waits ready in the queue, and a request that cannot get
//! one of those slots within [`HASH_QUEUE_WAIT`] gets [`PortError::Overloaded`] (HTTP answers 503
//! with `Retry-After`).
//!
//! The hashing threads run at nice [`HASHING_NICENESS`] (Linux; elsewhere at normal
//! priority). With every core hashing during a login burst, a loan list or a checkout still
//! gets the CPU when it wakes, so the burst costs other requests little latency; with
//! nothing else to do, the hashing threads still have every core, so logins lose no
//! throughput. The threads are the server's own: a thread's priority can be lowered but not
//! raised back without privileges, so tokio's blocking pool, which runs other work, is not
//! used.

use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use library_credentials::{Argon2Hasher, PortError, Secret, SecretHash, SecretHasher};
use tokio::sync::{Semaphore, oneshot};

use crate::metrics::HashingStats;

/// How long a request waits for a hashing slot before answering 503.
pub const HASH_QUEUE_WAIT: Duration = Duration::from_secs(2);

/// The nice value of the hashing threads, the lowest priority short of `SCHED_IDLE`: a
/// request thread (nice 0) that wakes up gets a core almost at once. (`SCHED_IDLE` measured no
/// better, and would starve logins completely on a busy server.)
pub const HASHING_NICENESS: i32 = 19;

/// Jobs admitted per hashing thread: the one it runs and one ready in the queue, so a
/// thread that finishes a hash starts the next at once instead of idling while the next
/// request is woken to hand its job over. Hashes running at once stay one per thread
/// (and their memory with them); a waiting job holds no Argon2 memory.
const SLOTS_PER_THREAD: usize = 2;

type Job = Box<dyn FnOnce(&Argon2Hasher) + Send>;

/// Argon2id off the async runtime, bounded, at a lower priority.
#[derive(Debug, Clone)]
pub struct BlockingHasher {
    jobs: Sender<Job>,
    slots: Arc<Semaphore>,
    wait: Duration,
    stats: Arc<HashingStats>,
}

impl BlockingHasher {
    /// `threads` hashing threads (the number of cores), each request waiting at most `wait`
    /// for one.
    pub fn new(inner: Argon2Hasher, threads: usize, wait: Duration) -> Self {
        let threads = threads.max(1);
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        let inner = Arc::new(inner);
        for n in 0..threads {
            let queue = Arc::clone(&queue);
            let inner = Arc::clone(&inner);
            let spawned = std::thread::Builder::new()
                .name(format!("argon2-{n}"))
                .spawn(move || hashing_thread(&queue, &inner));
            if let Err(e) = spawned {
                tracing::error!(error = %e, "could not start a hashing thread");
            }
        }
        Self {
            jobs,
            slots: Arc::new(Semaphore::new(threads * SLOTS_PER_THREAD)),
            wait,
            stats: Arc::default(),
        }
    }

    /// The same hasher, its queue and refusals counted in `stats` (the metrics').
    #[must_use]
    pub fn counted(self, stats: Arc<HashingStats>) -> Self {
        Self { stats, ..self }
    }

    /// One thread per available core, [`HASH_QUEUE_WAIT`], OWASP parameters.
    pub fn per_core() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        Self::new(Argon2Hasher::owasp_minimum(), cores, HASH_QUEUE_WAIT)
    }

    async fn run<T, F>(&self, work: F) -> Result<T, PortError>
    where
        T: Send + 'static,
        F: FnOnce(&Argon2Hasher) -> T + Send + 'static,
    {
        let waiting = self.stats.wait();
        let acquired = tokio::time::timeout(self.wait, self.slots.clone().acquire_owned()).await;
        drop(waiting);
        let Ok(Ok(permit)) = acquired else {
            self.stats.refuse();
            return Err(PortError::Overloaded);
        };
        let admitted = self.stats.admit();
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(move |hasher| {
            let _permit = permit;
            let done = work(hasher);
            // Counted out before the answer, so whoever reads the answer sees it gone.
            drop(admitted);
            let _ = reply.send(done);
        });
        self.jobs
            .send(job)
            .map_err(|_| PortError::Failed("the hashing threads stopped".into()))?;
        answer
            .await
            .map_err(|_| PortError::Failed("a hashing job was dropped".into()))
    }
}

/// Lowers this thread's priority, then runs jobs until every sender is gone.
fn hashing_thread(queue: &Mutex<Receiver<Job>>, hasher: &Argon2Hasher) {
    lower_priority();
    loop {
        let job = match queue.lock() {
            Ok(queue) => queue.recv(),
            Err(_) => return,
        };
        match job {
            Ok(job) => job(hasher),
            Err(_) => return,
        }
    }
}

#[cfg(target_os = "linux")]
fn lower_priority() {
    let tid = rustix::thread::gettid();
    if let Err(e) = rustix::process::setpriority_process(Some(tid), HASHING_NICENESS) {
        tracing::warn!(error = %e, "could not lower the priority of a hashing thread");
    }
}

#[cfg(not(target_os = "linux"))]
fn lower_priority() {}

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

    async fn hash_alongside(
        &self,
        secret: &Secret,
        companion: &SecretHash,
    ) -> Result<SecretHash, PortError> {
        let secret = secret.clone();
        let companion = companion.clone();
        self.run(move |h| h.hash_alongside_sync(&secret, &companion))
            .await?
    }

    async fn verify_any(
        &self,
        secret: &Secret,
        hashes: &[SecretHash],
    ) -> Result<Option<usize>, PortError> {
        let secret = secret.clone();
        let hashes = hashes.to_vec();
        self.run(move |h| h.verify_any_sync(&secret, &hashes)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_full_queue_answers_overloaded_and_work_runs_when_a_slot_is_free() {
        let stats = Arc::new(HashingStats::default());
        let hasher =
            BlockingHasher::new(Argon2Hasher::owasp_minimum(), 1, Duration::from_millis(200))
                .counted(stats.clone());
        let busy = hasher
            .slots
            .clone()
            .acquire_many_owned(u32::try_from(SLOTS_PER_THREAD).unwrap())
            .await
            .unwrap();
        let secret = Secret::new("Lantern-Harbour-42");
        assert_eq!(hasher.hash(&secret).await, Err(PortError::Overloaded));
        assert_eq!(
            hasher.verify(&secret, None).await,
            Err(PortError::Overloaded)
        );
        assert_eq!(stats.refused(), 2);
        // A request waiting for a slot shows in the queue's depth, then leaves it.
        let waiting = tokio::spawn({
            let hasher = hasher.clone();
            let secret = secret.clone();
            async move { hasher.hash(&secret).await }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(stats.waiting(), 1);
        assert_eq!(waiting.await.unwrap(), Err(PortError::Overloaded));
        assert_eq!((stats.waiting(), stats.refused()), (0, 3));
        drop(busy);
        let hash = hasher.hash(&secret).await.unwrap();
        assert_eq!(hasher.verify(&secret, Some(&hash)).await, Ok(true));
        assert_eq!(hasher.verify(&secret, None).await, Ok(false));
        assert_eq!(
            (stats.waiting(), stats.admitted(), stats.refused()),
            (0, 0, 3)
        );
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn hashing_threads_run_below_the_request_threads_priority() {
        let hasher = BlockingHasher::new(Argon2Hasher::owasp_minimum(), 2, HASH_QUEUE_WAIT);
        let niceness = hasher
            .run(|_| rustix::process::getpriority_process(Some(rustix::thread::gettid())))
            .await
            .unwrap()
            .unwrap();
        let ours = rustix::process::getpriority_process(Some(rustix::thread::gettid())).unwrap();
        assert_eq!(niceness, HASHING_NICENESS.max(ours));
    }
}
