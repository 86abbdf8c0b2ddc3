//! Library codes and kinds.

use std::fmt;
use std::str::FromStr;

use time::UtcOffset;

use crate::ids::ParseIdError;

/// The default time zone of a library: Hong Kong, UTC+8 all year (no daylight saving).
pub const DEFAULT_LIBRARY_OFFSET: UtcOffset = match UtcOffset::from_hms(8, 0, 0) {
    Ok(offset) => offset,
    Err(_) => UtcOffset::UTC,
};

/// A library's code: `[A-Za-z0-9_]{1,32}` (docs/http.md, Conventions).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LibraryCode(String);

impl LibraryCode {
    /// Parses a library code.
    pub fn parse(raw: &str) -> Result<Self, ParseIdError> {
        let ok = !raw.is_empty()
            && raw.len() <= 32
            && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(ParseIdError::LibraryCode)
        }
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for LibraryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for LibraryCode {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// The kind of a library (docs/circulation.md). Fine-suspension periods can be scoped by
/// kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LibraryKind {
    /// The central library.
    Central,
    /// A major library.
    Major,
    /// A district library.
    District,
    /// A small library.
    Small,
    /// A mobile library (bookmobile).
    Mobile,
}

impl LibraryKind {
    /// Every kind, in a fixed order.
    pub const ALL: [LibraryKind; 5] = [
        LibraryKind::Central,
        LibraryKind::Major,
        LibraryKind::District,
        LibraryKind::Small,
        LibraryKind::Mobile,
    ];

    /// The wire name: `central`, `major`, `district`, `small`, `mobile`.
    pub const fn as_str(self) -> &'static str {
        match self {
            LibraryKind::Central => "central",
            LibraryKind::Major => "major",
            LibraryKind::District => "district",
            LibraryKind::Small => "small",
            LibraryKind::Mobile => "mobile",
        }
    }
}

impl FromStr for LibraryKind {
    type Err = ParseIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        LibraryKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or(ParseIdError::LibraryKind)
    }
}

impl fmt::Display for LibraryKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn library_codes() {
        assert_eq!(LibraryCode::parse("HKCL").unwrap().as_str(), "HKCL");
        assert!(LibraryCode::parse("mobile_1").is_ok());
        assert!(LibraryCode::parse(&"A".repeat(32)).is_ok());
        assert!(LibraryCode::parse(&"A".repeat(33)).is_err());
        assert!(LibraryCode::parse("").is_err());
        assert!(LibraryCode::parse("HK CL").is_err());
        assert!(LibraryCode::parse("x'--").is_err());
        assert!(LibraryCode::parse("ＨＫ").is_err());
    }

    #[test]
    fn library_kinds_round_trip() {
        for kind in LibraryKind::ALL {
            assert_eq!(kind.as_str().parse::<LibraryKind>().unwrap(), kind);
        }
        assert!("Mobile".parse::<LibraryKind>().is_err());
        assert!("bookmobile".parse::<LibraryKind>().is_err());
    }

    #[test]
    fn default_offset_is_hong_kong() {
        assert_eq!(DEFAULT_LIBRARY_OFFSET.whole_hours(), 8);
    }
}
