//! Identifiers: the ones readers and staff type (card numbers, barcodes) are parsed into
//! canonical form here; the numeric ones are opaque database ids.

use std::fmt;

/// Why a piece of text is not a valid identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ParseIdError {
    /// Not a card number: 4 to 20 ASCII letters or digits (spaces and hyphens ignored).
    #[error("a card number is 4 to 20 letters or digits")]
    CardNumber,
    /// Not a barcode: 1 to 32 ASCII letters, digits, `-` or `_`.
    #[error("a barcode is 1 to 32 letters, digits, '-' or '_'")]
    Barcode,
    /// Not a library code: 1 to 32 ASCII letters, digits or `_`.
    #[error("a library code is 1 to 32 letters, digits or '_'")]
    LibraryCode,
    /// Not one of `central`, `major`, `district`, `small`, `mobile`.
    #[error("a library kind is one of central, major, district, small, mobile")]
    LibraryKind,
}

/// A reader's library card number, canonical: ASCII upper-case letters and digits, 4 to 20
/// of them. Spaces and hyphens a reader types (`"2100 0012-3456"`) are dropped and letters
/// upper-cased, so the same card is always the same string and two spellings of one card
/// never count as two cards.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CardNumber(String);

impl CardNumber {
    /// Longest raw input looked at; anything longer is refused without further work.
    const MAX_RAW_LEN: usize = 64;

    /// Parses and canonicalises a card number.
    pub fn parse(raw: &str) -> Result<Self, ParseIdError> {
        if raw.len() > Self::MAX_RAW_LEN {
            return Err(ParseIdError::CardNumber);
        }
        let mut canonical = String::with_capacity(raw.len());
        for c in raw.trim().chars() {
            match c {
                ' ' | '-' => {}
                c if c.is_ascii_alphanumeric() => canonical.push(c.to_ascii_uppercase()),
                _ => return Err(ParseIdError::CardNumber),
            }
        }
        if (4..=20).contains(&canonical.len()) {
            Ok(Self(canonical))
        } else {
            Err(ParseIdError::CardNumber)
        }
    }

    /// The canonical text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CardNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for CardNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CardNumber({})", self.0)
    }
}

impl AsRef<str> for CardNumber {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// An item's barcode: 1 to 32 ASCII letters, digits, `-` or `_`, surrounding whitespace
/// trimmed (scanners often append a newline). Case is kept.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Barcode(String);

impl Barcode {
    /// Parses a barcode.
    pub fn parse(raw: &str) -> Result<Self, ParseIdError> {
        let trimmed = raw.trim();
        let ok = !trimmed.is_empty()
            && trimmed.len() <= 32
            && trimmed
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if ok {
            Ok(Self(trimmed.to_owned()))
        } else {
            Err(ParseIdError::Barcode)
        }
    }

    /// The barcode text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Barcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Barcode {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

macro_rules! numeric_id {
    ($(#[$doc:meta] $name:ident),* $(,)?) => {$(
        #[$doc]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub i64);

        impl $name {
            /// The raw number.
            pub const fn get(self) -> i64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }
    )*};
}

numeric_id! {
    /// A reader (patron) record.
    PatronId,
    /// A copy of a title.
    ItemId,
    /// A bibliographic record.
    TitleId,
    /// A loan.
    LoanId,
    /// A hold (reservation).
    HoldId,
    /// A staff user.
    StaffId,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn card_numbers_are_canonicalised() {
        let cases = [
            ("21000012345678", Some("21000012345678")),
            ("2100 0012-3456", Some("210000123456")),
            ("  ab12cd  ", Some("AB12CD")),
            ("1234", Some("1234")),
            ("123", None),
            ("123456789012345678901", None),
            ("12%4", None),
            ("12_4", None),
            ("1234'--", None),
            ("１２３４", None),
            ("", None),
        ];
        for (raw, want) in cases {
            assert_eq!(
                CardNumber::parse(raw).ok().as_ref().map(CardNumber::as_str),
                want,
                "{raw:?}"
            );
        }
        assert!(CardNumber::parse(&"1".repeat(1 << 20)).is_err());
    }

    #[test]
    fn barcodes() {
        assert_eq!(
            Barcode::parse("31234000123456\n").unwrap().as_str(),
            "31234000123456"
        );
        assert!(Barcode::parse("CH-0001_a").is_ok());
        assert!(Barcode::parse("").is_err());
        assert!(Barcode::parse("   ").is_err());
        assert!(Barcode::parse("a b").is_err());
        assert!(Barcode::parse(&"9".repeat(33)).is_err());
    }

    #[test]
    fn numeric_ids_display_as_numbers() {
        assert_eq!(LoanId(42).to_string(), "42");
        assert_eq!(PatronId(7).get(), 7);
    }
}
