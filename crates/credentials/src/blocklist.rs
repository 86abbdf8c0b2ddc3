//! The common-password blocklist shipped in the repository (CI is offline): passwords that
//! pass the composition rule yet are among the first an attacker tries (`Password1`,
//! `Passw0rd`, `Summer2025`). NIST SP 800-63B §5.1.1.2 requires such a check.

use std::collections::HashSet;
use std::sync::OnceLock;

static RAW: &str = include_str!("../data/common-passwords.txt");

fn set() -> &'static HashSet<&'static str> {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| {
        RAW.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect()
    })
}

/// `true` when `normalized` (an NFKC-normalised password) is on the list, compared
/// case-insensitively.
pub fn is_common_password(normalized: &str) -> bool {
    set().contains(normalized.to_lowercase().as_str())
}

/// How many entries the shipped list has.
pub fn common_password_count() -> usize {
    set().len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_known_passwords_are_listed_in_any_case() {
        for pw in [
            "Password1",
            "Passw0rd",
            "Summer2025",
            "PASSWORD123",
            "Welcome1",
            "Qwerty123",
            "Abcd1234",
        ] {
            assert!(is_common_password(pw), "{pw}");
        }
    }

    #[test]
    fn a_random_password_is_not_listed() {
        assert!(!is_common_password("Tq7mVx2kLp9w"));
    }

    #[test]
    fn the_list_has_thousands_of_entries_that_pass_the_composition_rule() {
        assert!(common_password_count() > 5_000);
        for entry in set() {
            assert!(entry.chars().count() >= 8, "{entry}");
            assert!(entry.chars().any(|c| c.is_ascii_digit()), "{entry}");
            assert!(entry.chars().any(|c| c.is_alphabetic()), "{entry}");
        }
    }
}
