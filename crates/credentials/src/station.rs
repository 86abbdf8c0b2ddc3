//! SIP2 station accounts: the username and password rules (docs/http.md, SIP2 stations).
//!
//! A station (a self-charging terminal) logs in with `93` using a username (`CN`) and a
//! password (`CO`) an administrator created. The password is a machine credential typed
//! once into the station's configuration, so the rule is length, not composition: 12 to
//! 128 characters (NIST SP 800-63B rev 4 §3.1.1.2 asks at least 15 for a single-factor
//! password chosen by a person; 12 random characters are stronger than that and fit
//! stations with short fields). It travels inside a SIP2 field, so it may not contain
//! `|` (the field delimiter) or control characters, and it is compared exactly as sent
//! (never normalised).

use std::fmt;

use crate::password::is_forbidden_char;
use crate::secret::{MAX_SECRET_INPUT_BYTES, Secret};

/// Longest station username.
pub const STATION_USERNAME_MAX_LEN: usize = 32;
/// Fewest characters in a station password.
pub const STATION_PASSWORD_MIN_CHARS: usize = 12;
/// Most characters in a station password.
pub const STATION_PASSWORD_MAX_CHARS: usize = 128;

/// A station username: 1 to 32 of `a-z`, `0-9`, `_`, `.`, `-`. Lower case only, so the
/// name a station sends in `CN` is compared exactly, with no case folding.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StationUsername(String);

/// Why a station account's values are not acceptable. The wire codes are the 422
/// violations of `POST /sip2/stations`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StationViolation {
    /// Not 1 to 32 of `a-z 0-9 _ . -`.
    UsernameInvalid,
    /// Fewer than 12 characters.
    PasswordTooShort,
    /// More than 128 characters (or more than 1 KiB).
    PasswordTooLong,
    /// Contains `|` or a control or invisible formatting character.
    PasswordInvalid,
}

impl StationViolation {
    /// The wire code.
    pub const fn code(self) -> &'static str {
        match self {
            StationViolation::UsernameInvalid => "username_invalid",
            StationViolation::PasswordTooShort => "password_too_short",
            StationViolation::PasswordTooLong => "password_too_long",
            StationViolation::PasswordInvalid => "password_invalid",
        }
    }
}

impl fmt::Display for StationViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl StationUsername {
    /// Parses a username as typed by an administrator or sent by a station.
    pub fn parse(text: &str) -> Result<Self, StationViolation> {
        let ok = !text.is_empty()
            && text.len() <= STATION_USERNAME_MAX_LEN
            && text
                .bytes()
                .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' | b'-'));
        if ok {
            Ok(Self(text.to_owned()))
        } else {
            Err(StationViolation::UsernameInvalid)
        }
    }

    /// The username.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for StationUsername {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Checks a new station password; every rule it breaks, in a fixed order.
pub fn check_station_password(password: &Secret) -> Result<(), Vec<StationViolation>> {
    let text = password.expose();
    let mut violations = Vec::new();
    let chars = text.chars().count();
    if chars < STATION_PASSWORD_MIN_CHARS {
        violations.push(StationViolation::PasswordTooShort);
    }
    if chars > STATION_PASSWORD_MAX_CHARS || password.byte_len() > MAX_SECRET_INPUT_BYTES {
        violations.push(StationViolation::PasswordTooLong);
    }
    if text.chars().any(|c| c == '|' || is_forbidden_char(c)) {
        violations.push(StationViolation::PasswordInvalid);
    }
    if violations.is_empty() {
        Ok(())
    } else {
        Err(violations)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        for good in ["sc01", "kiosk.hkcl-2", "a", "x_y", &"a".repeat(32)] {
            assert_eq!(
                StationUsername::parse(good).map(|u| u.to_string()),
                Ok(good.to_owned())
            );
        }
        for bad in [
            "",
            "SC01",
            "sc 01",
            "sc|01",
            "sc01\r",
            "站",
            &"a".repeat(33),
        ] {
            assert_eq!(
                StationUsername::parse(bad),
                Err(StationViolation::UsernameInvalid),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn passwords() {
        let check = |p: &str| check_station_password(&Secret::new(p));
        assert_eq!(check("kiosk-pass-12"), Ok(()));
        assert_eq!(check(&"x".repeat(12)), Ok(()));
        assert_eq!(check(&"x".repeat(128)), Ok(()));
        assert_eq!(
            check("長長長長長長長長長長長長"),
            Ok(()),
            "12 characters, 36 bytes"
        );
        assert_eq!(
            check(&"x".repeat(11)),
            Err(vec![StationViolation::PasswordTooShort])
        );
        assert_eq!(
            check(&"x".repeat(129)),
            Err(vec![StationViolation::PasswordTooLong])
        );
        assert_eq!(
            check("short|pipe"),
            Err(vec![
                StationViolation::PasswordTooShort,
                StationViolation::PasswordInvalid
            ])
        );
        assert_eq!(
            check("a-long-password\r"),
            Err(vec![StationViolation::PasswordInvalid])
        );
        assert_eq!(
            StationViolation::PasswordTooShort.code(),
            "password_too_short"
        );
    }
}
