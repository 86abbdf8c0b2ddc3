//! The one rule for free text typed at the counter, in a CSV import or by a reader: a name,
//! a reason, a title, an author. Short enough, and without control characters (which would
//! break logs, CSV exports and receipts).

/// A person's or a library's name, a calendar entry's or a waiver's reason: at most this
/// many characters.
pub const MAX_NAME_CHARS: usize = 200;

/// A title or an author as catalogued: at most this many characters (a title with its
/// subtitle and statement of responsibility can run long).
pub const MAX_CATALOGUE_TEXT_CHARS: usize = 1000;

/// Whether `text` has at most `max` characters and no control characters.
pub fn fits(text: &str, max: usize) -> bool {
    text.chars().count() <= max && !text.chars().any(char::is_control)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_counts_characters_not_bytes_and_refuses_control_characters() {
        assert!(fits("", MAX_NAME_CHARS));
        assert!(fits(&"陳".repeat(200), MAX_NAME_CHARS));
        assert!(!fits(&"陳".repeat(201), MAX_NAME_CHARS));
        assert!(fits(&"a".repeat(1000), MAX_CATALOGUE_TEXT_CHARS));
        assert!(!fits(&"a".repeat(1001), MAX_CATALOGUE_TEXT_CHARS));
        for bad in ["tab\there", "new\nline", "nul\0", "del\u{7f}", "c1\u{85}"] {
            assert!(!fits(bad, MAX_NAME_CHARS), "{bad:?}");
        }
    }
}
