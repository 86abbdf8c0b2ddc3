//! Secrets in memory: zeroised on drop, never printed.

use std::fmt;

use unicode_normalization::UnicodeNormalization;
use zeroize::Zeroizing;

/// Raw input longer than this is refused before any normalisation or hashing: NFKC of a
/// megabyte costs ~100 ms (measured; docs/credentials.md, Sources).
pub const MAX_SECRET_INPUT_BYTES: usize = 1024;

/// A secret as text (a password, a PIN, a temporary password). Zeroised when dropped;
/// `Debug` shows nothing of it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    /// Wraps `text` as it is.
    pub fn new(text: impl Into<String>) -> Self {
        Self(Zeroizing::new(text.into()))
    }

    /// The secret text. Handle with care: do not log it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Length in bytes.
    pub fn byte_len(&self) -> usize {
        self.0.len()
    }

    /// The NFKC form of a password, as it is hashed and compared (docs/credentials.md:
    /// "Unicode NFKC, at set and at verify"). `None` when the raw input is over
    /// [`MAX_SECRET_INPUT_BYTES`]; such input is never normalised.
    pub fn normalized_password(&self) -> Option<Secret> {
        if self.byte_len() > MAX_SECRET_INPUT_BYTES {
            return None;
        }
        Some(Secret::new(self.0.nfkc().collect::<String>()))
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Secret::new(s)
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Secret::new(s)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_secret() {
        assert_eq!(format!("{:?}", Secret::new("Hunter22")), "Secret(***)");
    }

    #[test]
    fn nfkc_folds_compatibility_forms_and_composes() {
        let full_width = Secret::new("Ｐａｓｓｗｏｒｄ１");
        assert_eq!(
            full_width.normalized_password().unwrap().expose(),
            "Password1"
        );
        let decomposed = Secret::new("Cafe\u{301}12Ab");
        assert_eq!(
            decomposed.normalized_password().unwrap().expose(),
            "Café12Ab"
        );
    }

    #[test]
    fn over_long_input_is_not_normalised() {
        assert!(
            Secret::new("a".repeat(1025))
                .normalized_password()
                .is_none()
        );
        assert!(
            Secret::new("a".repeat(1024))
                .normalized_password()
                .is_some()
        );
    }
}
