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
use std::net::IpAddr;

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

/// Most address ranges in one station's allow-list.
pub const STATION_MAX_ALLOWED_ADDRESSES: usize = 32;

/// One entry of a station's address allow-list: an IP address (`192.0.2.7`, `2001:db8::1`)
/// or a CIDR range (`192.0.2.0/24`, `2001:db8:1::/48`). Stored and shown in its canonical
/// form: the network address (host bits cleared) and the prefix, `/32` and `/128` left
/// out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AddressRange {
    network: IpAddr,
    prefix: u8,
}

impl AddressRange {
    /// Parses an address or a CIDR range; `None` when it is neither (a prefix longer than
    /// the address, a host name, blanks inside).
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        let (addr, prefix) = match text.split_once('/') {
            Some((addr, prefix)) => {
                if prefix.is_empty() || !prefix.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                (addr, Some(prefix.parse::<u8>().ok()?))
            }
            None => (text, None),
        };
        let addr: IpAddr = addr.parse().ok()?;
        let max = match addr {
            IpAddr::V4(_) => 32,
            IpAddr::V6(_) => 128,
        };
        let prefix = prefix.unwrap_or(max);
        if prefix > max {
            return None;
        }
        Some(Self {
            network: mask(addr, prefix),
            prefix,
        })
    }

    /// Whether `peer` is in the range. An IPv4 address mapped into IPv6 (`::ffff:a.b.c.d`,
    /// as a dual-stack listener reports IPv4 peers) is compared as the IPv4 address.
    pub fn contains(&self, peer: IpAddr) -> bool {
        let peer = peer.to_canonical();
        match (self.network, peer) {
            (IpAddr::V4(_), IpAddr::V4(_)) | (IpAddr::V6(_), IpAddr::V6(_)) => {
                mask(peer, self.prefix) == self.network
            }
            _ => false,
        }
    }
}

/// `addr` with every bit after the first `prefix` cleared.
fn mask(addr: IpAddr, prefix: u8) -> IpAddr {
    match addr {
        IpAddr::V4(v4) => {
            let bits = u32::from(v4);
            let kept = if prefix == 0 {
                0
            } else {
                bits & (u32::MAX << (32 - u32::from(prefix)))
            };
            IpAddr::V4(kept.into())
        }
        IpAddr::V6(v6) => {
            let bits = u128::from(v6);
            let kept = if prefix == 0 {
                0
            } else {
                bits & (u128::MAX << (128 - u32::from(prefix)))
            };
            IpAddr::V6(kept.into())
        }
    }
}

impl fmt::Display for AddressRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let max = if self.network.is_ipv4() { 32 } else { 128 };
        if self.prefix == max {
            write!(f, "{}", self.network)
        } else {
            write!(f, "{}/{}", self.network, self.prefix)
        }
    }
}

/// What a station may do, set per station account (docs/credentials.md, SIP2 stations).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StationSettings {
    /// Every message that acts for or shows a reader needs the reader's PIN (`AD`).
    pub pin_required: bool,
    /// The station may block a reader's card (`01`).
    pub may_block: bool,
    /// Where the station may log in from; empty: anywhere.
    pub allowed_addresses: Vec<AddressRange>,
}

impl Default for StationSettings {
    /// PIN required, no blocking, any address.
    fn default() -> Self {
        Self {
            pin_required: true,
            may_block: false,
            allowed_addresses: Vec::new(),
        }
    }
}

impl StationSettings {
    /// Whether a station with these settings may log in from `peer`.
    pub fn allows_address(&self, peer: IpAddr) -> bool {
        self.allowed_addresses.is_empty() || self.allowed_addresses.iter().any(|r| r.contains(peer))
    }

    /// Parses an allow-list as typed: each entry an address or a CIDR range; duplicates
    /// dropped, order kept. `Err` with the first entry that is not one, or when there are
    /// more than [`STATION_MAX_ALLOWED_ADDRESSES`].
    pub fn parse_addresses<'a>(
        entries: impl IntoIterator<Item = &'a str>,
    ) -> Result<Vec<AddressRange>, String> {
        let mut ranges: Vec<AddressRange> = Vec::new();
        for entry in entries {
            let range = AddressRange::parse(entry).ok_or_else(|| entry.to_owned())?;
            if !ranges.contains(&range) {
                ranges.push(range);
            }
        }
        if ranges.len() > STATION_MAX_ALLOWED_ADDRESSES {
            return Err(format!("more than {STATION_MAX_ALLOWED_ADDRESSES} entries"));
        }
        Ok(ranges)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_ranges_parse_to_their_canonical_form() {
        let shown = |t: &str| AddressRange::parse(t).map(|r| r.to_string());
        assert_eq!(shown("192.0.2.7").as_deref(), Some("192.0.2.7"));
        assert_eq!(shown("192.0.2.7/32").as_deref(), Some("192.0.2.7"));
        assert_eq!(shown("192.0.2.77/24").as_deref(), Some("192.0.2.0/24"));
        assert_eq!(shown(" 10.1.2.3/8 ").as_deref(), Some("10.0.0.0/8"));
        assert_eq!(shown("0.0.0.0/0").as_deref(), Some("0.0.0.0/0"));
        assert_eq!(shown("2001:db8::1").as_deref(), Some("2001:db8::1"));
        assert_eq!(
            shown("2001:db8:1:2::5/64").as_deref(),
            Some("2001:db8:1:2::/64")
        );
        for bad in [
            "",
            "/24",
            "192.0.2.7/",
            "192.0.2.7/33",
            "2001:db8::/129",
            "192.0.2.7/+8",
            "192.0.2.7/-1",
            "library.example",
            "192.0.2",
            "192.0.2.7 /24",
            "192.0.2.7/2 4",
            "192.0.2.7/999999999999",
        ] {
            assert_eq!(AddressRange::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn an_address_range_contains_exactly_its_addresses() {
        let range = |t: &str| AddressRange::parse(t).unwrap();
        let ip = |t: &str| t.parse::<IpAddr>().unwrap();
        let net = range("192.0.2.0/25");
        assert!(net.contains(ip("192.0.2.0")));
        assert!(net.contains(ip("192.0.2.127")));
        assert!(!net.contains(ip("192.0.2.128")));
        assert!(!net.contains(ip("192.0.3.1")));
        assert!(net.contains(ip("::ffff:192.0.2.5")), "IPv4-mapped IPv6");
        assert!(!net.contains(ip("2001:db8::1")));
        assert!(range("127.0.0.3").contains(ip("127.0.0.3")));
        assert!(!range("127.0.0.3").contains(ip("127.0.0.2")));
        assert!(range("0.0.0.0/0").contains(ip("203.0.113.9")));
        let v6 = range("2001:db8:1:2::/64");
        assert!(v6.contains(ip("2001:db8:1:2:ffff::1")));
        assert!(!v6.contains(ip("2001:db8:1:3::1")));
        assert!(!v6.contains(ip("192.0.2.1")));
    }

    #[test]
    fn station_settings_default_to_pin_required_no_blocking_any_address() {
        let s = StationSettings::default();
        assert!(s.pin_required);
        assert!(!s.may_block);
        assert!(s.allows_address("203.0.113.9".parse().unwrap()));
        let only = StationSettings {
            allowed_addresses: StationSettings::parse_addresses(["127.0.0.3", "10.0.0.0/8"])
                .unwrap(),
            ..StationSettings::default()
        };
        assert!(only.allows_address("127.0.0.3".parse().unwrap()));
        assert!(only.allows_address("10.9.9.9".parse().unwrap()));
        assert!(!only.allows_address("127.0.0.2".parse().unwrap()));
        assert_eq!(
            StationSettings::parse_addresses(["10.0.0.1", "10.0.0.1/32", "bad"]),
            Err("bad".to_owned())
        );
        assert_eq!(
            StationSettings::parse_addresses(["10.0.0.1", "10.0.0.1/32"]).map(|v| v.len()),
            Ok(1)
        );
        let many: Vec<String> = (0..=32).map(|i| format!("10.0.0.{i}")).collect();
        assert!(StationSettings::parse_addresses(many.iter().map(String::as_str)).is_err());
        let most: Vec<String> = (0..32).map(|i| format!("10.0.0.{i}")).collect();
        assert!(StationSettings::parse_addresses(most.iter().map(String::as_str)).is_ok());
    }

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
