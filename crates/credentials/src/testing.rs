//! In-memory fakes of the ports, for tests here and in other crates (feature `testing`).
//! They apply the same pure policies as a real adapter, under one lock.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use async_trait::async_trait;
use library_core::{CardNumber, PatronId, StaffId};
use time::OffsetDateTime;

use crate::guessing::{
    AttemptDecision, AttemptState, CredentialKind, GuessState, GuessingPolicy, PairState,
    Reservation, SourceState,
};
use crate::ports::{
    AttemptKey, AttemptSource, CredentialNotice, CredentialStore, Notifier, PortError,
    RandomSource, ResetCounter, SecretHash, SecretHasher, SessionStore, StaffCredentialStore,
    StoredCredentials, StoredStaff, StoredTemporaryPassword,
};
use crate::reset_limits::{RequestLimit, RequestWindow};
use crate::secret::Secret;
use crate::session::{Scope, Session, Subject, TokenHash};

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[derive(Debug, Default)]
struct StoreState {
    readers: HashMap<PatronId, StoredCredentials>,
    attempts: HashMap<(AttemptKey, CredentialKind), AttemptState>,
    pairs: HashMap<(AttemptKey, CredentialKind, AttemptSource), PairState>,
    sources: HashMap<AttemptSource, SourceState>,
    resets: HashMap<ResetCounter, RequestWindow>,
}

/// Credentials and counters in memory.
#[derive(Debug, Default)]
pub struct InMemoryCredentialStore {
    state: Mutex<StoreState>,
}

impl InMemoryCredentialStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds or replaces a reader.
    pub fn insert(&self, creds: StoredCredentials) {
        lock(&self.state).readers.insert(creds.patron, creds);
    }

    /// A reader's stored credentials.
    pub fn get(&self, patron: PatronId) -> Option<StoredCredentials> {
        lock(&self.state).readers.get(&patron).cloned()
    }

    /// The account-wide (card, kind) counter.
    pub fn attempts(&self, card: &CardNumber, kind: CredentialKind) -> AttemptState {
        self.account(&AttemptKey::card(card), kind)
    }

    /// The account-wide (key, kind) counter.
    pub fn account(&self, key: &AttemptKey, kind: CredentialKind) -> AttemptState {
        lock(&self.state)
            .attempts
            .get(&(key.clone(), kind))
            .copied()
            .unwrap_or_default()
    }

    /// The (key, kind, source) pair.
    pub fn pair(
        &self,
        key: &AttemptKey,
        kind: CredentialKind,
        source: &AttemptSource,
    ) -> PairState {
        lock(&self.state)
            .pairs
            .get(&(key.clone(), kind, source.clone()))
            .copied()
            .unwrap_or_default()
    }

    /// The source's window.
    pub fn source_window(&self, source: &AttemptSource) -> Option<SourceState> {
        lock(&self.state).sources.get(source).copied()
    }

    /// A "forgot Password" window.
    pub fn reset_window(&self, counter: &ResetCounter) -> Option<RequestWindow> {
        lock(&self.state).resets.get(counter).copied()
    }

    fn update<R>(
        &self,
        patron: PatronId,
        f: impl FnOnce(&mut StoredCredentials) -> R,
    ) -> Result<R, PortError> {
        lock(&self.state)
            .readers
            .get_mut(&patron)
            .map(f)
            .ok_or_else(|| PortError::Failed(format!("no reader {patron}")))
    }
}

#[async_trait]
impl CredentialStore for InMemoryCredentialStore {
    async fn find_by_card(
        &self,
        card: &CardNumber,
    ) -> Result<Option<StoredCredentials>, PortError> {
        Ok(lock(&self.state)
            .readers
            .values()
            .find(|c| &c.info.card_number == card)
            .cloned())
    }

    async fn find_by_patron(
        &self,
        patron: PatronId,
    ) -> Result<Option<StoredCredentials>, PortError> {
        Ok(self.get(patron))
    }

    async fn find_by_email(&self, email: &str) -> Result<Vec<StoredCredentials>, PortError> {
        let state = lock(&self.state);
        let mut found: Vec<_> = state
            .readers
            .values()
            .filter(|c| {
                c.info
                    .email
                    .as_deref()
                    .is_some_and(|e| e.eq_ignore_ascii_case(email))
            })
            .cloned()
            .collect();
        found.sort_by_key(|c| c.patron);
        Ok(found)
    }

    async fn reserve_guess(
        &self,
        source: &AttemptSource,
        key: &AttemptKey,
        kind: CredentialKind,
        now: OffsetDateTime,
        policy: &GuessingPolicy,
    ) -> Result<Reservation, PortError> {
        let mut state = lock(&self.state);
        let pair_key = (key.clone(), kind, source.clone());
        let other_failing_sources = state
            .pairs
            .iter()
            .filter(|((k, c, s), p)| k == key && *c == kind && s != source && p.failures > 0)
            .count();
        let current = GuessState {
            source: state.sources.get(source).copied(),
            pair: state.pairs.get(&pair_key).copied().unwrap_or_default(),
            account: state
                .attempts
                .get(&(key.clone(), kind))
                .copied()
                .unwrap_or_default(),
            other_failing_sources: u32::try_from(other_failing_sources).unwrap_or(u32::MAX),
        };
        let (decision, reserved) = policy.reserve(kind, &current, now);
        let Some(r) = reserved else {
            return Ok(Reservation::refused(decision));
        };
        state.sources.insert(source.clone(), r.source);
        state.pairs.insert(pair_key, r.pair);
        state.attempts.insert((key.clone(), kind), r.account);
        Ok(Reservation {
            decision: AttemptDecision::Granted,
            tripped: r.tripped,
        })
    }

    async fn settle_success(
        &self,
        key: &AttemptKey,
        kind: CredentialKind,
        source: &AttemptSource,
        now: OffsetDateTime,
        policy: &GuessingPolicy,
    ) -> Result<(), PortError> {
        let mut state = lock(&self.state);
        state.pairs.insert(
            (key.clone(), kind, source.clone()),
            policy.pair_after_success(now),
        );
        state.attempts.remove(&(key.clone(), kind));
        if let Some(s) = state.sources.get_mut(source) {
            *s = policy.release_source(*s, now);
        }
        Ok(())
    }

    async fn give_back(
        &self,
        key: &AttemptKey,
        kind: CredentialKind,
        source: &AttemptSource,
        now: OffsetDateTime,
        policy: &GuessingPolicy,
    ) -> Result<(), PortError> {
        let mut state = lock(&self.state);
        if let Some(p) = state.pairs.get_mut(&(key.clone(), kind, source.clone())) {
            *p = policy.release_pair(*p);
        }
        if let Some(a) = state.attempts.get_mut(&(key.clone(), kind)) {
            *a = policy.release_account(*a);
        }
        if let Some(s) = state.sources.get_mut(source) {
            *s = policy.release_source(*s, now);
        }
        Ok(())
    }

    async fn clear_attempts(
        &self,
        key: &AttemptKey,
        kind: CredentialKind,
    ) -> Result<(), PortError> {
        let mut state = lock(&self.state);
        state.attempts.remove(&(key.clone(), kind));
        for ((k, c, _), p) in state.pairs.iter_mut() {
            if k == key && *c == kind {
                p.failures = 0;
                p.throttled_until = None;
            }
        }
        Ok(())
    }

    async fn account_attempts(
        &self,
        key: &AttemptKey,
        kind: CredentialKind,
    ) -> Result<AttemptState, PortError> {
        Ok(self.account(key, kind))
    }

    async fn reserve_reset_request(
        &self,
        counter: &ResetCounter,
        now: OffsetDateTime,
        limit: &RequestLimit,
    ) -> Result<AttemptDecision, PortError> {
        let mut state = lock(&self.state);
        let current = state.resets.get(counter).copied();
        let (decision, next) = limit.reserve(current, now);
        if let Some(next) = next {
            state.resets.insert(counter.clone(), next);
        }
        Ok(decision)
    }

    async fn set_password(
        &self,
        patron: PatronId,
        hash: &SecretHash,
        is_default: bool,
    ) -> Result<(), PortError> {
        self.update(patron, |c| {
            c.password_hash = hash.clone();
            c.password_is_default = is_default;
            c.epoch += 1;
        })
    }

    async fn set_pin(&self, patron: PatronId, hash: &SecretHash) -> Result<(), PortError> {
        self.update(patron, |c| {
            c.pin_hash = hash.clone();
            c.epoch += 1;
        })
    }

    async fn put_temporary_password(
        &self,
        patron: PatronId,
        hash: &SecretHash,
        expires_at: OffsetDateTime,
    ) -> Result<(), PortError> {
        self.update(patron, |c| {
            c.temporary = Some(StoredTemporaryPassword {
                hash: hash.clone(),
                expires_at,
                used_at: None,
                failures: 0,
            })
        })
    }

    async fn reset_password(
        &self,
        patron: PatronId,
        temporary: &SecretHash,
        expires_at: OffsetDateTime,
    ) -> Result<(), PortError> {
        self.update(patron, |c| {
            c.password_hash = SecretHash(String::new());
            c.password_is_default = false;
            c.temporary = Some(StoredTemporaryPassword {
                hash: temporary.clone(),
                expires_at,
                used_at: None,
                failures: 0,
            });
            c.epoch += 1;
        })
    }

    async fn use_temporary_password(
        &self,
        patron: PatronId,
        hash: &SecretHash,
        now: OffsetDateTime,
        max_failures: u32,
    ) -> Result<bool, PortError> {
        self.update(patron, |c| match &mut c.temporary {
            Some(t)
                if &t.hash == hash
                    && t.used_at.is_none()
                    && t.expires_at > now
                    && t.failures < max_failures =>
            {
                t.used_at = Some(now);
                true
            }
            _ => false,
        })
    }

    async fn count_temporary_failure(
        &self,
        patron: PatronId,
        hash: &SecretHash,
    ) -> Result<(), PortError> {
        self.update(patron, |c| {
            if let Some(t) = &mut c.temporary
                && &t.hash == hash
                && t.used_at.is_none()
            {
                t.failures += 1;
            }
        })
    }

    async fn clear_temporary_password(&self, patron: PatronId) -> Result<(), PortError> {
        self.update(patron, |c| c.temporary = None)
    }
}

/// Sessions in memory. Revoked sessions are removed.
#[derive(Debug, Default)]
pub struct InMemorySessionStore {
    sessions: Mutex<HashMap<TokenHash, Session>>,
}

impl InMemorySessionStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Live sessions of a reader.
    pub fn count_for(&self, patron: PatronId) -> usize {
        lock(&self.sessions)
            .values()
            .filter(|s| s.subject == Subject::Patron(patron))
            .count()
    }
}

#[async_trait]
impl SessionStore for InMemorySessionStore {
    async fn create(&self, session: &Session) -> Result<(), PortError> {
        lock(&self.sessions).insert(session.token_hash, session.clone());
        Ok(())
    }

    async fn find(&self, token_hash: &TokenHash) -> Result<Option<Session>, PortError> {
        Ok(lock(&self.sessions).get(token_hash).cloned())
    }

    async fn revoke(&self, token_hash: &TokenHash) -> Result<(), PortError> {
        lock(&self.sessions).remove(token_hash);
        Ok(())
    }

    async fn revoke_patron_sessions(
        &self,
        patron: PatronId,
        scope: Option<Scope>,
    ) -> Result<(), PortError> {
        lock(&self.sessions).retain(|_, s| {
            !(s.subject == Subject::Patron(patron) && scope.is_none_or(|k| s.scope == k))
        });
        Ok(())
    }
}

/// A fast, transparent stand-in for Argon2 (`plain$<secret>`), counting its work so tests
/// can prove that refused attempts compute no hash. Never for production.
#[derive(Debug, Default)]
pub struct CountingHasher {
    hashes: AtomicUsize,
    verifies: AtomicUsize,
    busy: AtomicBool,
}

impl CountingHasher {
    /// A fresh hasher.
    pub fn new() -> Self {
        Self::default()
    }

    /// Hashes and verifications computed so far.
    pub fn work(&self) -> usize {
        self.hashes.load(Ordering::SeqCst) + self.verifies.load(Ordering::SeqCst)
    }

    /// While `busy`, every hash and verification answers [`PortError::Overloaded`], as a
    /// hasher whose queue is full does, and computes nothing.
    pub fn set_busy(&self, busy: bool) {
        self.busy.store(busy, Ordering::SeqCst);
    }

    fn check_busy(&self) -> Result<(), PortError> {
        if self.busy.load(Ordering::SeqCst) {
            Err(PortError::Overloaded)
        } else {
            Ok(())
        }
    }

    /// The stored form of `secret`.
    pub fn hash_of(secret: &str) -> SecretHash {
        SecretHash(format!("plain${secret}"))
    }
}

#[async_trait]
impl SecretHasher for CountingHasher {
    async fn hash(&self, secret: &Secret) -> Result<SecretHash, PortError> {
        self.check_busy()?;
        self.hashes.fetch_add(1, Ordering::SeqCst);
        Ok(Self::hash_of(secret.expose()))
    }

    async fn verify<'a>(
        &self,
        secret: &Secret,
        hash: Option<&'a SecretHash>,
    ) -> Result<bool, PortError> {
        self.check_busy()?;
        self.verifies.fetch_add(1, Ordering::SeqCst);
        Ok(hash.is_some_and(|h| h.0 == format!("plain${}", secret.expose())))
    }

    async fn hash_alongside(
        &self,
        secret: &Secret,
        _companion: &SecretHash,
    ) -> Result<SecretHash, PortError> {
        self.hash(secret).await
    }

    /// One verification, whatever `hashes` holds.
    async fn verify_any(
        &self,
        secret: &Secret,
        hashes: &[SecretHash],
    ) -> Result<Option<usize>, PortError> {
        self.check_busy()?;
        self.verifies.fetch_add(1, Ordering::SeqCst);
        let wanted = format!("plain${}", secret.expose());
        Ok(hashes.iter().position(|h| h.0 == wanted))
    }
}

/// Collects notices.
#[derive(Debug, Default)]
pub struct RecordingNotifier {
    sent: Mutex<Vec<CredentialNotice>>,
}

impl RecordingNotifier {
    /// A fresh notifier.
    pub fn new() -> Self {
        Self::default()
    }

    /// Everything sent so far.
    pub fn sent(&self) -> Vec<CredentialNotice> {
        lock(&self.sent).clone()
    }
}

#[async_trait]
impl Notifier for RecordingNotifier {
    async fn notify(&self, notice: CredentialNotice) -> Result<(), PortError> {
        lock(&self.sent).push(notice);
        Ok(())
    }
}

/// Deterministic "random" bytes (a 64-bit LCG), so tests are repeatable.
#[derive(Debug)]
pub struct SeededRandom(AtomicU64);

impl SeededRandom {
    /// A generator from `seed`.
    pub fn new(seed: u64) -> Self {
        Self(AtomicU64::new(seed))
    }
}

impl RandomSource for SeededRandom {
    fn fill(&self, buf: &mut [u8]) {
        for b in buf {
            let s = self
                .0
                .fetch_add(1, Ordering::Relaxed)
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            *b = s.to_be_bytes()[0] ^ s.to_be_bytes()[3];
        }
    }
}

/// Staff users in memory.
#[derive(Debug, Default)]
pub struct InMemoryStaffStore {
    staff: Mutex<Vec<StoredStaff>>,
}

impl InMemoryStaffStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a staff user.
    pub fn insert(&self, staff: StoredStaff) {
        lock(&self.staff).push(staff);
    }
}

#[async_trait]
impl StaffCredentialStore for InMemoryStaffStore {
    async fn find_staff_by_username(
        &self,
        username: &str,
    ) -> Result<Option<StoredStaff>, PortError> {
        Ok(lock(&self.staff)
            .iter()
            .find(|s| s.username.eq_ignore_ascii_case(username))
            .cloned())
    }

    async fn find_staff(&self, id: StaffId) -> Result<Option<StoredStaff>, PortError> {
        Ok(lock(&self.staff).iter().find(|s| s.id == id).cloned())
    }
}

/// Keeps every security event recorded, for assertions.
#[derive(Debug, Default)]
pub struct RecordingEvents {
    events: Mutex<Vec<crate::events::SecurityEvent>>,
}

impl RecordingEvents {
    /// An empty recorder.
    pub fn new() -> Self {
        Self::default()
    }

    /// The events recorded so far, oldest first.
    pub fn events(&self) -> Vec<crate::events::SecurityEvent> {
        self.events
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The names of the events recorded so far, oldest first.
    pub fn names(&self) -> Vec<&'static str> {
        self.events().iter().map(|e| e.name()).collect()
    }
}

impl crate::events::SecurityEvents for RecordingEvents {
    fn record(&self, event: crate::events::SecurityEvent) {
        self.events
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(event);
    }
}
