//! Codes the library chooses: reader categories and item types. Both are free strings
//! matching `[a-z0-9_]{1,32}` (docs/http.md, Conventions), parsed once at the edge.

use std::fmt;

/// Why a piece of text is not a valid category or item type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ParseCodeError {
    /// Not a reader category: 1 to 32 of `a-z`, `0-9`, `_`.
    #[error("a reader category is 1 to 32 of a-z, 0-9 or '_'")]
    ReaderCategory,
    /// Not an item type: 1 to 32 of `a-z`, `0-9`, `_`.
    #[error("an item type is 1 to 32 of a-z, 0-9 or '_'")]
    ItemType,
}

fn is_code(raw: &str) -> bool {
    !raw.is_empty()
        && raw.len() <= 32
        && raw
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

macro_rules! code {
    ($(#[$doc:meta])* $name:ident, $err:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(String);

        impl $name {
            /// Parses the code; no trimming or case folding (codes are exact).
            pub fn parse(raw: &str) -> Result<Self, ParseCodeError> {
                if is_code(raw) {
                    Ok(Self(raw.to_owned()))
                } else {
                    Err($err)
                }
            }

            /// The code as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

code!(
    /// A reader category (`adult`, `child`, `senior`, ...).
    ReaderCategory,
    ParseCodeError::ReaderCategory
);
code!(
    /// An item type (`adult_book`, `children_book`, ...).
    ItemType,
    ParseCodeError::ItemType
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_lower_case_ascii_words() {
        for ok in ["adult", "young_adult_book", "a", "x9", &"a".repeat(32)] {
            assert!(ReaderCategory::parse(ok).is_ok(), "{ok}");
            assert!(ItemType::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "Adult",
            "adult book",
            "adult-book",
            "ａ",
            &"a".repeat(33),
        ] {
            assert_eq!(
                ReaderCategory::parse(bad),
                Err(ParseCodeError::ReaderCategory)
            );
            assert_eq!(ItemType::parse(bad), Err(ParseCodeError::ItemType));
        }
    }
}
