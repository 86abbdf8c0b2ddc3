//! The configuration the services read on every request — circulation rules, fine-suspension
//! periods, libraries with their calendars — cached in the process, exactly.
//!
//! Every checkout, checkin, renewal and loan list reads them; they change a few times a
//! year. Without the cache they were four of the twenty statements of a checkout.
//!
//! # Staying exact
//! - Every write of rules, periods, libraries or calendar entries runs in a transaction that
//!   also sends `NOTIFY library_config` (PostgreSQL delivers it on commit, never for a
//!   rolled-back write), and invalidates this process's cache once committed.
//! - On PostgreSQL each process listens on `library_config` on a connection of its own and
//!   invalidates its cache on every notification. Until it listens (at start, and whenever
//!   the listening connection is lost, until it listens again) the cache is off: every read
//!   goes to the database. So a change made by one server process reaches the others when
//!   its notification arrives, a few milliseconds after the commit.
//! - Invalidation bumps a generation; a value read from the database is kept only if no
//!   invalidation happened while it was being read, so a read racing a change never leaves
//!   the old value behind.
//! - On SQLite every such write also advances the one-row `config_version` table, and each
//!   process reads that version every [`SQLITE_POLL_EVERY`] on a task of its own, dropping
//!   its cache when the version moved. A process's own writes invalidate at once; a change
//!   made by another process (`library-admin policy apply`) reaches a server within about
//!   a second. SQLite has no notifications between processes, and a version read on every
//!   request would cost a statement per checkout.
//!
//! The same listener hears revoked sessions for the session cache (`session_cache.rs`),
//! which is live exactly when this cache is, and only on PostgreSQL.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use library_circulation::{Library, ScopedRules};
use library_core::LibraryCode;
use library_fines::FineSuspensionPeriod;
use sea_orm::{ConnectionTrait, DbBackend, DbErr};
use tokio::sync::oneshot;

use crate::pool::Pool;
use crate::session_cache::{self, SessionCache};

/// The PostgreSQL notification channel of configuration changes.
pub(crate) const CHANNEL: &str = "library_config";

/// How long the listener waits before connecting again after losing its connection.
const RECONNECT_DELAY: Duration = Duration::from_secs(1);

/// How often a SQLite process reads the configuration's version (`config_version`).
pub const SQLITE_POLL_EVERY: Duration = Duration::from_secs(1);

/// Advances the configuration's version (SQLite), in the transaction of a change.
const BUMP_VERSION: &str = "INSERT INTO config_version (id, version) VALUES (1, 1) \
     ON CONFLICT (id) DO UPDATE SET version = config_version.version + 1";

#[derive(Debug, Default)]
struct Cached {
    generation: u64,
    rules: Option<Arc<Vec<ScopedRules>>>,
    periods: Option<Arc<Vec<FineSuspensionPeriod>>>,
    libraries: HashMap<LibraryCode, Library>,
}

/// The process's configuration cache (shared by every store of one [`crate::Database`]).
#[derive(Debug)]
pub(crate) struct ConfigCache {
    backend: DbBackend,
    /// `false` while changes from other processes could go unnoticed.
    live: AtomicBool,
    cached: Mutex<Cached>,
    /// Sessions looked up (PostgreSQL only; off on SQLite).
    pub(crate) sessions: SessionCache,
    /// Dropped with the cache: stops the listener task.
    _stop: Option<oneshot::Sender<()>>,
}

impl ConfigCache {
    /// A cache for a SQLite database: live at once. Changes by other processes are not
    /// seen (see [`ConfigCache::sqlite_watching`]).
    #[cfg(test)]
    pub(crate) fn sqlite() -> Arc<ConfigCache> {
        Arc::new(ConfigCache {
            backend: DbBackend::Sqlite,
            live: AtomicBool::new(true),
            cached: Mutex::new(Cached::default()),
            sessions: SessionCache::default(),
            _stop: None,
        })
    }

    /// A cache for the SQLite database behind `pool`, live at once, with the task that
    /// reads the configuration's version every [`SQLITE_POLL_EVERY`] and drops what is
    /// cached when another process changed it.
    pub(crate) fn sqlite_watching(pool: Pool) -> Arc<ConfigCache> {
        let (stop, stopped) = oneshot::channel();
        let cache = Arc::new(ConfigCache {
            backend: DbBackend::Sqlite,
            live: AtomicBool::new(true),
            cached: Mutex::new(Cached::default()),
            sessions: SessionCache::default(),
            _stop: Some(stop),
        });
        tokio::spawn(watch_version(pool, Arc::downgrade(&cache), stopped));
        cache
    }

    /// A cache for the PostgreSQL database at `url`, with its listener task: off until the
    /// listener listens.
    pub(crate) fn postgres(url: &str) -> Arc<ConfigCache> {
        let (stop, stopped) = oneshot::channel();
        let cache = Arc::new(ConfigCache {
            backend: DbBackend::Postgres,
            live: AtomicBool::new(false),
            cached: Mutex::new(Cached::default()),
            sessions: SessionCache::default(),
            _stop: Some(stop),
        });
        tokio::spawn(listen(url.to_owned(), Arc::downgrade(&cache), stopped));
        cache
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Cached> {
        self.cached.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The generation to tag a database read with; `None` when the cache is off.
    fn generation(&self) -> Option<u64> {
        self.live
            .load(Ordering::Acquire)
            .then(|| self.lock().generation)
    }

    /// Whether reads are served from the cache (on PostgreSQL: while listening).
    pub(crate) fn is_live(&self) -> bool {
        self.live.load(Ordering::Acquire)
    }

    /// Forgets everything cached.
    pub(crate) fn invalidate(&self) {
        let mut cached = self.lock();
        let generation = cached.generation.wrapping_add(1);
        *cached = Cached {
            generation,
            ..Cached::default()
        };
    }

    fn set_live(&self, live: bool) {
        self.invalidate();
        self.live.store(live, Ordering::Release);
        if self.backend == DbBackend::Postgres {
            self.sessions.set_live(live);
        }
    }

    /// Commits a transaction that changed configuration: it tells the other processes
    /// (delivered on commit), then this process forgets what it cached.
    pub(crate) async fn commit_change(&self, txn: crate::pool::Txn) -> Result<(), DbErr> {
        if self.backend == DbBackend::Postgres {
            txn.execute_unprepared(&format!("NOTIFY {CHANNEL}")).await?;
        } else {
            txn.execute_unprepared(BUMP_VERSION).await?;
        }
        txn.commit().await?;
        self.invalidate();
        Ok(())
    }

    /// The rules, cached or read by `load`.
    pub(crate) async fn rules<E, Fut>(
        &self,
        load: impl FnOnce() -> Fut,
    ) -> Result<Arc<Vec<ScopedRules>>, E>
    where
        Fut: Future<Output = Result<Vec<ScopedRules>, E>>,
    {
        self.cached(|c| &mut c.rules, load).await
    }

    /// The fine-suspension periods, cached or read by `load`.
    pub(crate) async fn periods<E, Fut>(
        &self,
        load: impl FnOnce() -> Fut,
    ) -> Result<Arc<Vec<FineSuspensionPeriod>>, E>
    where
        Fut: Future<Output = Result<Vec<FineSuspensionPeriod>, E>>,
    {
        self.cached(|c| &mut c.periods, load).await
    }

    /// The value in `slot`, or read by `load` and kept if no invalidation happened
    /// meanwhile.
    async fn cached<T, E, Fut>(
        &self,
        slot: fn(&mut Cached) -> &mut Option<Arc<T>>,
        load: impl FnOnce() -> Fut,
    ) -> Result<Arc<T>, E>
    where
        Fut: Future<Output = Result<T, E>>,
    {
        if self.live.load(Ordering::Acquire)
            && let Some(value) = slot(&mut self.lock()).clone()
        {
            return Ok(value);
        }
        let generation = self.generation();
        let value = Arc::new(load().await?);
        if let Some(generation) = generation {
            let mut cached = self.lock();
            if cached.generation == generation {
                *slot(&mut cached) = Some(Arc::clone(&value));
            }
        }
        Ok(value)
    }

    /// The library `code` with its calendar, cached or read by `load`. An unknown code is
    /// not remembered (a library created by another process is found at once).
    pub(crate) async fn library<E, Fut>(
        &self,
        code: &LibraryCode,
        load: impl FnOnce() -> Fut,
    ) -> Result<Option<Library>, E>
    where
        Fut: Future<Output = Result<Option<Library>, E>>,
    {
        if self.live.load(Ordering::Acquire)
            && let Some(library) = self.lock().libraries.get(code).cloned()
        {
            return Ok(Some(library));
        }
        let generation = self.generation();
        let library = load().await?;
        if let (Some(generation), Some(library)) = (generation, &library) {
            let mut cached = self.lock();
            if cached.generation == generation {
                cached.libraries.insert(code.clone(), library.clone());
            }
        }
        Ok(library)
    }
}

/// The configuration's version as stored (0 before the first change).
async fn stored_version(pool: &Pool) -> Result<i64, DbErr> {
    let row = crate::sql::one(
        pool,
        "SELECT version FROM config_version WHERE id = 1",
        vec![],
    )
    .await?;
    row.map_or(Ok(0), |row| crate::sql::get::<i64>(&row, "version"))
}

/// SQLite: reads the configuration's version every [`SQLITE_POLL_EVERY`] and invalidates
/// the cache whenever it is not the one read before. The first read invalidates too: a
/// value cached before it may predate a change made meanwhile by another process.
async fn watch_version(pool: Pool, cache: Weak<ConfigCache>, mut stopped: oneshot::Receiver<()>) {
    let mut seen = None;
    loop {
        match stored_version(&pool).await {
            Ok(version) if seen != Some(version) => {
                let Some(cache) = cache.upgrade() else { return };
                cache.invalidate();
                seen = Some(version);
            }
            Ok(_) => {}
            // A database that cannot answer now (a held lock, a closed pool): try again.
            Err(e) => tracing::debug!(error = %e, "cannot read the configuration's version"),
        }
        tokio::select! {
            _ = &mut stopped => return,
            () = tokio::time::sleep(SQLITE_POLL_EVERY) => {}
        }
    }
}

/// The PostgreSQL listener: the cache is live only while it listens.
async fn listen(url: String, cache: Weak<ConfigCache>, mut stopped: oneshot::Receiver<()>) {
    use sea_orm::sqlx::postgres::PgListener;
    loop {
        let listening = async {
            let mut listener = PgListener::connect(&url).await?;
            listener
                .listen_all([CHANNEL, session_cache::CHANNEL])
                .await?;
            Ok::<_, sea_orm::sqlx::Error>(listener)
        };
        let listener = tokio::select! {
            _ = &mut stopped => return,
            listener = listening => listener,
        };
        match listener {
            Ok(mut listener) => {
                let Some(live) = cache.upgrade() else { return };
                live.set_live(true);
                drop(live);
                loop {
                    let next = tokio::select! {
                        _ = &mut stopped => return,
                        next = listener.try_recv() => next,
                    };
                    let Some(cache) = cache.upgrade() else { return };
                    match next {
                        Ok(Some(n)) if n.channel() == session_cache::CHANNEL => {
                            cache.sessions.forget(n.payload());
                        }
                        Ok(Some(_)) => cache.invalidate(),
                        // The connection was lost: off until listening again.
                        Ok(None) | Err(_) => {
                            cache.set_live(false);
                            break;
                        }
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "configuration listener could not listen"),
        }
        tokio::select! {
            _ = &mut stopped => return,
            () = tokio::time::sleep(RECONNECT_DELAY) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use library_circulation::RuleScope;

    fn scoped() -> Vec<ScopedRules> {
        vec![ScopedRules {
            scope: RuleScope::default(),
            rules: Default::default(),
        }]
    }

    #[tokio::test]
    async fn a_read_is_cached_until_invalidated() {
        let cache = ConfigCache::sqlite();
        let mut reads = 0;
        for _ in 0..3 {
            cache
                .rules(|| {
                    reads += 1;
                    async { Ok::<_, ()>(scoped()) }
                })
                .await
                .unwrap();
        }
        assert_eq!(reads, 1);
        cache.invalidate();
        cache
            .rules(|| {
                reads += 1;
                async { Ok::<_, ()>(scoped()) }
            })
            .await
            .unwrap();
        assert_eq!(reads, 2);
    }

    #[tokio::test]
    async fn a_read_racing_an_invalidation_is_not_kept() {
        let cache = ConfigCache::sqlite();
        cache
            .rules(|| {
                // The change commits while the old value is being read.
                cache.invalidate();
                async { Ok::<_, ()>(scoped()) }
            })
            .await
            .unwrap();
        assert!(cache.lock().rules.is_none(), "the racing read was dropped");
    }

    #[tokio::test]
    async fn an_off_cache_always_reads_and_an_unknown_library_is_not_remembered() {
        let cache = ConfigCache::sqlite();
        cache.set_live(false);
        let mut reads = 0;
        for _ in 0..2 {
            cache
                .periods(|| {
                    reads += 1;
                    async { Ok::<_, ()>(Vec::new()) }
                })
                .await
                .unwrap();
        }
        assert_eq!(reads, 2);
        cache.set_live(true);
        let code = LibraryCode::parse("HKCL").unwrap();
        for _ in 0..2 {
            let found = cache
                .library(&code, || {
                    reads += 1;
                    async { Ok::<_, ()>(None) }
                })
                .await
                .unwrap();
            assert!(found.is_none());
        }
        assert_eq!(reads, 4);
    }
}
