//! Sessions a PostgreSQL server process has looked up, kept so a request with the same
//! token does not read it again; exact across processes.
//!
//! Every authenticated request reads its session (joined to its staff user). Sessions
//! change only by being revoked (logout, a credential change, a staff reset), and a staff
//! user is never changed once created, so a found session stays as it was until revoked.
//!
//! # Staying exact
//! - A revocation sends `pg_notify('library_sessions', token_hash)` for every session it
//!   revokes, in the same statement (delivered on commit), and forgets those sessions in
//!   this process once it returns.
//! - Each process listens on `library_sessions` on the configuration listener's connection
//!   (`config_cache.rs`) and forgets a session when its notification arrives. While it does
//!   not listen (at start, and whenever that connection is lost, until it listens again)
//!   nothing is kept and every lookup reads the database.
//! - Forgetting bumps a generation; a session read from the database is kept only if
//!   nothing was forgotten while it was being read, so a read racing a revocation never
//!   keeps the revoked session.
//! - Expiry is checked by the service on every use, from the kept `expires_at`.
//! - On SQLite nothing is kept: the admin tool revokes sessions from another process
//!   (`reset-password`) and SQLite has no notifications to tell the server.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use library_credentials::{Session, StoredStaff};

/// The PostgreSQL notification channel of revoked sessions (the payload: the token hash).
pub(crate) const CHANNEL: &str = "library_sessions";

/// At most this many sessions are kept; when full, everything is forgotten and the cache
/// fills again with the sessions in use.
const CAPACITY: usize = 10_000;

/// A session with its staff user, as the session store finds it.
pub(crate) type Found = (Session, Option<StoredStaff>);

#[derive(Debug, Default)]
struct Kept {
    generation: u64,
    sessions: HashMap<String, Found>,
}

/// The process's session cache (shared by every store of one [`crate::Database`]).
#[derive(Debug, Default)]
pub(crate) struct SessionCache {
    /// `true` only while revocations by other processes are heard (PostgreSQL, listening).
    live: AtomicBool,
    kept: Mutex<Kept>,
}

impl SessionCache {
    fn lock(&self) -> MutexGuard<'_, Kept> {
        self.kept.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The session kept for `token_hash` (lower-case hex), if any.
    pub(crate) fn get(&self, token_hash: &str) -> Option<Found> {
        if !self.live.load(Ordering::Acquire) {
            return None;
        }
        self.lock().sessions.get(token_hash).cloned()
    }

    /// The generation to tag a database read with; `None` when nothing may be kept.
    pub(crate) fn generation(&self) -> Option<u64> {
        self.live
            .load(Ordering::Acquire)
            .then(|| self.lock().generation)
    }

    /// Keeps `found`, read from the database at `generation`, unless something was
    /// forgotten since.
    pub(crate) fn keep(&self, generation: u64, token_hash: String, found: Found) {
        let mut kept = self.lock();
        if kept.generation != generation || !self.live.load(Ordering::Acquire) {
            return;
        }
        if kept.sessions.len() >= CAPACITY {
            kept.sessions.clear();
        }
        kept.sessions.insert(token_hash, found);
    }

    /// Forgets the session of `token_hash` (revoked).
    pub(crate) fn forget(&self, token_hash: &str) {
        let mut kept = self.lock();
        kept.generation = kept.generation.wrapping_add(1);
        kept.sessions.remove(token_hash);
    }

    /// Forgets every session.
    pub(crate) fn forget_all(&self) {
        let mut kept = self.lock();
        kept.generation = kept.generation.wrapping_add(1);
        kept.sessions.clear();
    }

    /// Turns keeping on (listening) or off (not listening); forgets everything either way.
    pub(crate) fn set_live(&self, live: bool) {
        self.forget_all();
        self.live.store(live, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use library_core::PatronId;
    use library_credentials::{Scope, Subject, TokenHash};
    use time::macros::datetime;

    use super::*;

    fn found() -> Found {
        (
            Session {
                token_hash: TokenHash::from_hex(&"ab".repeat(32)).unwrap(),
                subject: Subject::Patron(PatronId(1)),
                scope: Scope::Full,
                created_at: datetime!(2026-12-02 10:00 UTC),
                expires_at: datetime!(2026-12-02 18:00 UTC),
            },
            None,
        )
    }

    #[test]
    fn nothing_is_kept_until_live() {
        let cache = SessionCache::default();
        assert_eq!(cache.generation(), None);
        cache.keep(0, "t".into(), found());
        assert_eq!(cache.get("t"), None);
        cache.set_live(true);
        let generation = cache.generation().unwrap();
        cache.keep(generation, "t".into(), found());
        assert_eq!(cache.get("t"), Some(found()));
        cache.set_live(false);
        assert_eq!(cache.get("t"), None);
    }

    #[test]
    fn a_read_racing_a_revocation_is_not_kept() {
        let cache = SessionCache::default();
        cache.set_live(true);
        let generation = cache.generation().unwrap();
        // Another session's revocation arrives while "t" is being read.
        cache.forget("other");
        cache.keep(generation, "t".into(), found());
        assert_eq!(cache.get("t"), None);
    }

    #[test]
    fn a_revoked_session_is_forgotten_and_a_full_cache_starts_again() {
        let cache = SessionCache::default();
        cache.set_live(true);
        let generation = cache.generation().unwrap();
        cache.keep(generation, "t".into(), found());
        cache.forget("t");
        assert_eq!(cache.get("t"), None);
        let generation = cache.generation().unwrap();
        for n in 0..CAPACITY {
            cache.keep(generation, n.to_string(), found());
        }
        assert_eq!(cache.lock().sessions.len(), CAPACITY);
        cache.keep(generation, "last".into(), found());
        assert_eq!(cache.lock().sessions.len(), 1);
        assert_eq!(cache.get("last"), Some(found()));
    }
}
