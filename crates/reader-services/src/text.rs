//! Text fields: trimmed, limited in characters, free of control characters.

/// The violated rules of a form, as codes (`title_missing`, `capacity_invalid`, ...), in
/// the order of the form's fields. Never empty when returned as an error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not acceptable: {}", .0.join(", "))]
pub struct Violations(pub Vec<&'static str>);

/// The three codes of one text field.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TextField {
    /// Empty after trimming.
    pub(crate) missing: &'static str,
    /// Longer than the limit.
    pub(crate) too_long: &'static str,
    /// Contains a character that is not allowed.
    pub(crate) invalid: &'static str,
    /// Longest allowed, in characters.
    pub(crate) max_chars: usize,
    /// Whether line breaks and tabs are allowed.
    pub(crate) multi_line: bool,
}

impl TextField {
    /// The trimmed text, or the code of what is wrong with it.
    pub(crate) fn parse(&self, raw: &str) -> Result<String, &'static str> {
        let text = raw.trim();
        if text.is_empty() {
            return Err(self.missing);
        }
        if text.chars().count() > self.max_chars {
            return Err(self.too_long);
        }
        let allowed = |c: char| self.multi_line && matches!(c, '\n' | '\r' | '\t');
        if text.chars().any(|c| c.is_control() && !allowed(c)) {
            return Err(self.invalid);
        }
        Ok(text.to_owned())
    }

    /// Like [`parse`](Self::parse), but an empty text is allowed (and is empty).
    pub(crate) fn parse_optional(&self, raw: Option<&str>) -> Result<String, &'static str> {
        match raw.map(str::trim) {
            None | Some("") => Ok(String::new()),
            Some(text) => self.parse(text),
        }
    }
}

/// Collects the violations of a form field by field.
#[derive(Debug, Default)]
pub(crate) struct Checks(Vec<&'static str>);

impl Checks {
    /// The value, or `None` after noting its violation.
    pub(crate) fn take<T>(&mut self, result: Result<T, &'static str>) -> Option<T> {
        result.map_err(|code| self.0.push(code)).ok()
    }

    /// Notes `code` when `violated`.
    pub(crate) fn check(&mut self, violated: bool, code: &'static str) {
        if violated {
            self.0.push(code);
        }
    }

    /// `Ok(value)` when nothing was violated (the value is then always `Some`).
    pub(crate) fn finish<T>(self, value: Option<T>) -> Result<T, Violations> {
        match value {
            Some(value) if self.0.is_empty() => Ok(value),
            _ => Err(Violations(self.0)),
        }
    }
}

/// `[a-z0-9_]{1,32}`: the identifiers a library chooses (item types, activity types).
pub(crate) fn is_identifier(s: &str) -> bool {
    (1..=32).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIELD: TextField = TextField {
        missing: "x_missing",
        too_long: "x_too_long",
        invalid: "x_invalid",
        max_chars: 5,
        multi_line: false,
    };

    #[test]
    fn text_is_trimmed_and_limited_in_characters() {
        let table: &[(&str, Result<&str, &str>)] = &[
            ("  abc ", Ok("abc")),
            ("   ", Err("x_missing")),
            ("", Err("x_missing")),
            ("香港中央圖", Ok("香港中央圖")),
            ("香港中央圖書", Err("x_too_long")),
            ("a\u{7}b", Err("x_invalid")),
            ("a\nb", Err("x_invalid")),
        ];
        for (raw, expected) in table {
            assert_eq!(FIELD.parse(raw).as_deref(), expected.as_deref(), "{raw:?}");
        }
        let multi = TextField {
            multi_line: true,
            ..FIELD
        };
        assert_eq!(multi.parse("a\r\nb").as_deref(), Ok("a\r\nb"));
        assert_eq!(multi.parse("a\u{0}b"), Err("x_invalid"));
        assert_eq!(FIELD.parse_optional(None).as_deref(), Ok(""));
        assert_eq!(FIELD.parse_optional(Some("  ")).as_deref(), Ok(""));
        assert_eq!(FIELD.parse_optional(Some("abcdef")), Err("x_too_long"));
    }

    #[test]
    fn identifiers() {
        assert!(is_identifier("talk"));
        assert!(is_identifier("story_time_2"));
        assert!(!is_identifier(""));
        assert!(!is_identifier("Talk"));
        assert!(!is_identifier("story time"));
        assert!(!is_identifier(&"a".repeat(33)));
    }
}
