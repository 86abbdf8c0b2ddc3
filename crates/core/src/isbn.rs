//! International Standard Book Numbers.

use std::fmt;

/// An ISBN-10 or ISBN-13 with a correct check digit, kept as its digits (hyphens and
/// spaces dropped; an ISBN-10's `X` check digit upper-case), as a library writes it down
/// from a book in any of its printed forms.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Isbn(String);

/// Not an ISBN-10 or ISBN-13, or its check digit is wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a valid ISBN-10 or ISBN-13")]
pub struct InvalidIsbn;

impl Isbn {
    /// Parses `raw`: 10 or 13 digits once hyphens and spaces are dropped (`X` or `x` as an
    /// ISBN-10's check digit), check digit verified.
    ///
    /// # Errors
    /// [`InvalidIsbn`] otherwise.
    pub fn parse(raw: &str) -> Result<Isbn, InvalidIsbn> {
        if raw.len() > 64 {
            return Err(InvalidIsbn);
        }
        let s: String = raw
            .chars()
            .filter(|c| !matches!(c, '-' | ' '))
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let digits: Vec<u32> = s
            .chars()
            .enumerate()
            .map(|(i, c)| match c {
                'X' if i == 9 && s.len() == 10 => Some(10),
                c => c.to_digit(10),
            })
            .collect::<Option<_>>()
            .ok_or(InvalidIsbn)?;
        let valid = match digits.len() {
            10 => {
                digits
                    .iter()
                    .zip((1..=10).rev())
                    .map(|(d, w)| d * w)
                    .sum::<u32>()
                    % 11
                    == 0
            }
            13 => {
                digits
                    .iter()
                    .enumerate()
                    .map(|(i, d)| if i % 2 == 0 { *d } else { d * 3 })
                    .sum::<u32>()
                    % 10
                    == 0
            }
            _ => false,
        };
        if valid { Ok(Isbn(s)) } else { Err(InvalidIsbn) }
    }

    /// The digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Isbn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printed_forms_parse_to_their_digits() {
        assert_eq!(
            Isbn::parse("978-0-306-40615-7").unwrap().as_str(),
            "9780306406157"
        );
        assert_eq!(Isbn::parse("0 306 40615 2").unwrap().as_str(), "0306406152");
        // An ISBN-10 whose check digit is ten.
        assert_eq!(Isbn::parse("0-8044-2957-x").unwrap().as_str(), "080442957X");
    }

    #[test]
    fn wrong_check_digits_lengths_and_characters_are_refused() {
        for raw in [
            "978-0-306-40615-8",
            "978-962-04-1234-3",
            "12345",
            "0306406153",
            "030640615",
            "97803064061570",
            "X306406152",
            "978030640615X",
            "",
            "ISBN 9780306406157",
            &"9".repeat(100),
        ] {
            assert_eq!(Isbn::parse(raw), Err(InvalidIsbn), "{raw:?}");
        }
    }
}
