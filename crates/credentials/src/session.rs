//! Sessions and their tokens. A token is 256 random bits, given to the client once and
//! stored only as its SHA-256 (ASVS 5.0 7.2.3; a plain hash suffices for a secret of that
//! strength). Scopes say what a session may do (docs/http.md, Conventions).

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use library_core::{PatronId, StaffId};
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

use crate::ports::RandomSource;
use crate::secret::Secret;

/// What a session may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Password login: everything a reader may do.
    Full,
    /// Default or temporary Password login: only change the Password (and log out).
    ChangePasswordOnly,
    /// PIN login (telephone, terminals): only list loans and renew.
    Pin,
    /// Staff login.
    Staff,
}

impl Scope {
    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Scope::Full => "full",
            Scope::ChangePasswordOnly => "change_password_only",
            Scope::Pin => "pin",
            Scope::Staff => "staff",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<Scope> {
        [
            Scope::Full,
            Scope::ChangePasswordOnly,
            Scope::Pin,
            Scope::Staff,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who a session belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Subject {
    /// A reader.
    Patron(PatronId),
    /// A staff user.
    Staff(StaffId),
}

/// A bearer token as given to the client. Shown once; never stored or logged.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionToken(Secret);

impl SessionToken {
    /// Bytes of randomness in a token.
    pub const BYTES: usize = 32;
    /// Longest text accepted as a token before it is even hashed.
    pub const MAX_TEXT_LEN: usize = 128;

    /// A fresh token from `random`.
    pub fn generate(random: &dyn RandomSource) -> Self {
        let mut bytes = zeroize::Zeroizing::new([0u8; Self::BYTES]);
        random.fill(bytes.as_mut());
        Self(Secret::new(URL_SAFE_NO_PAD.encode(bytes.as_ref())))
    }

    /// Wraps a token a client presented.
    pub fn from_presented(text: &str) -> Self {
        Self(Secret::new(text))
    }

    /// The token text, to hand to the client.
    pub fn expose(&self) -> &str {
        self.0.expose()
    }

    /// The hash under which the token is stored.
    pub fn hash(&self) -> TokenHash {
        TokenHash(Sha256::digest(self.0.expose().as_bytes()).into())
    }
}

impl fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionToken(***)")
    }
}

/// SHA-256 of a token: what the session store keeps and looks up.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenHash(pub [u8; 32]);

impl TokenHash {
    /// Lower-case hex, 64 characters.
    pub fn to_hex(&self) -> String {
        use std::fmt::Write as _;
        self.0.iter().fold(String::with_capacity(64), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
    }

    /// Parses 64 hex characters.
    pub fn from_hex(hex: &str) -> Option<Self> {
        if hex.len() != 64 || !hex.is_ascii() {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok()?;
        }
        Some(Self(out))
    }
}

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenHash({}…)", &self.to_hex()[..8])
    }
}

/// A stored session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The token's hash.
    pub token_hash: TokenHash,
    /// Whose session it is.
    pub subject: Subject,
    /// What it may do.
    pub scope: Scope,
    /// When it was issued.
    pub created_at: OffsetDateTime,
    /// When it stops working.
    pub expires_at: OffsetDateTime,
}

impl Session {
    /// The reader this session belongs to, if it is a reader's.
    pub fn patron(&self) -> Option<PatronId> {
        match self.subject {
            Subject::Patron(id) => Some(id),
            Subject::Staff(_) => None,
        }
    }
}

/// A session just issued: the token to hand over once, and what it is.
#[derive(Debug, Clone)]
pub struct IssuedSession {
    /// The bearer token (shown once).
    pub token: SessionToken,
    /// Its scope.
    pub scope: Scope,
    /// When it expires.
    pub expires_at: OffsetDateTime,
}

/// How long sessions last, per scope. Absolute lifetimes; no idle extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    /// A Password session (ASVS: re-authenticate at least every 30 days; we choose a day).
    pub full: Duration,
    /// A PIN session: one telephone call or one visit to a terminal.
    pub pin: Duration,
    /// A session that may only change the Password.
    pub change_password_only: Duration,
    /// A staff session: one working day.
    pub staff: Duration,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self {
            full: Duration::hours(24),
            pin: Duration::minutes(15),
            change_password_only: Duration::minutes(15),
            staff: Duration::hours(12),
        }
    }
}

impl SessionPolicy {
    /// The lifetime of a session of `scope`.
    pub fn lifetime(&self, scope: Scope) -> Duration {
        match scope {
            Scope::Full => self.full,
            Scope::Pin => self.pin,
            Scope::ChangePasswordOnly => self.change_password_only,
            Scope::Staff => self.staff,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Counter(std::sync::atomic::AtomicU8);
    impl RandomSource for Counter {
        fn fill(&self, buf: &mut [u8]) {
            for b in buf {
                *b = self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        }
    }

    #[test]
    fn tokens_are_256_bits_base64url_and_stored_as_sha256() {
        let token = SessionToken::generate(&Counter(0.into()));
        assert_eq!(token.expose().len(), 43);
        assert!(
            token
                .expose()
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        let presented = SessionToken::from_presented(token.expose());
        assert_eq!(presented.hash(), token.hash());
        let hex = token.hash().to_hex();
        assert_eq!(hex.len(), 64);
        assert_eq!(TokenHash::from_hex(&hex), Some(token.hash()));
        assert_eq!(TokenHash::from_hex("zz"), None);
        assert_eq!(format!("{token:?}"), "SessionToken(***)");
    }

    #[test]
    fn scopes_round_trip() {
        for s in [
            Scope::Full,
            Scope::ChangePasswordOnly,
            Scope::Pin,
            Scope::Staff,
        ] {
            assert_eq!(Scope::parse(s.as_str()), Some(s));
        }
        assert_eq!(Scope::parse("admin"), None);
    }
}
