//! The PIN policy (docs/credentials.md, PIN; the library's rule: docs/policy.md).
//!
//! A PIN is ASCII digits only, 4 to 12 of them, and is never normalised or parsed as a
//! number: `１２３４` (full-width), `١٢٣٤` (Arabic-Indic), `+1234` and ` 1234` are all
//! `not_digits`, and `0472` is not `472`. When a reader chooses a PIN, trivial ones are
//! refused: one repeated digit, a straight run up or down, the most common PINs, years
//! 1940–2030, and the last four digits of the phone or card or the birthday.

use std::fmt;

use crate::personal::PersonalInfo;
use crate::secret::Secret;

/// Fewest digits in a PIN.
pub const PIN_MIN_DIGITS: usize = 4;
/// Most digits in a PIN.
pub const PIN_MAX_DIGITS: usize = 12;

/// One reason a new PIN is refused. The wire codes are the HTTP API's
/// (docs/credentials.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PinViolation {
    /// Something other than ASCII digits, or empty.
    NotDigits,
    /// Fewer than 4 characters.
    TooShort,
    /// More than 12 characters.
    TooLong,
    /// Easy to guess (repeated digit, straight run, common PIN, year, personal digits).
    TrivialPin,
    /// The same as the current PIN.
    SameAsCurrent,
}

impl PinViolation {
    /// The wire code.
    pub const fn code(self) -> &'static str {
        match self {
            PinViolation::NotDigits => "not_digits",
            PinViolation::TooShort => "too_short",
            PinViolation::TooLong => "too_long",
            PinViolation::TrivialPin => "trivial_pin",
            PinViolation::SameAsCurrent => "same_as_current",
        }
    }
}

impl fmt::Display for PinViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// `true` when `pin` has the shape of a PIN (4 to 12 ASCII digits). A login with anything
/// else fails without hashing.
pub fn is_well_formed_pin(pin: &str) -> bool {
    (PIN_MIN_DIGITS..=PIN_MAX_DIGITS).contains(&pin.len())
        && pin.bytes().all(|b| b.is_ascii_digit())
}

/// The most common four-digit PINs (DataGenetics 2012, the top of the frequency table) and
/// keypad patterns. Years and runs are caught by rule, not listed.
const COMMON_PINS: &[&str] = &[
    "1234", "1111", "0000", "1212", "7777", "1004", "2000", "4444", "2222", "6969", "9999", "3333",
    "5555", "6666", "1122", "1313", "8888", "4321", "2001", "1010", "2580", "0852", "1357", "2468",
    "1230", "0123", "1123", "1112", "1233", "2112", "2323", "5683", "0007", "0101", "1000", "1100",
    "1200", "1221", "1414", "1515", "1984", "1986", "2121", "2525", "3434", "4545", "5150", "5252",
    "6789", "7890", "8520", "9876", "0987", "1478", "3698", "123456", "654321", "111111", "000000",
    "121212", "112233", "123123", "159753", "147258", "123321", "666666", "696969", "987654",
    "789456", "12345678", "87654321", "11111111",
];

/// Checks a PIN a reader chooses. Returns every violation at once. `same_as_current` is
/// not checked here (it needs the current hash); the application service adds it.
pub fn check_new_pin(candidate: &Secret, who: &PersonalInfo) -> Result<(), Vec<PinViolation>> {
    let pin = candidate.expose();
    let mut violations = Vec::new();
    if pin.is_empty() || !pin.bytes().all(|b| b.is_ascii_digit()) {
        violations.push(PinViolation::NotDigits);
    }
    // Length in characters, so `１２３` (three full-width digits, nine bytes) is too short
    // as well as not digits.
    let chars = pin.chars().count();
    if chars < PIN_MIN_DIGITS {
        violations.push(PinViolation::TooShort);
    }
    if chars > PIN_MAX_DIGITS {
        violations.push(PinViolation::TooLong);
    }
    if violations.is_empty() && is_trivial(pin, who) {
        violations.push(PinViolation::TrivialPin);
    }
    if violations.is_empty() {
        Ok(())
    } else {
        Err(violations)
    }
}

fn is_trivial(pin: &str, who: &PersonalInfo) -> bool {
    let d = pin.as_bytes();
    let same_digit = d.iter().all(|&b| b == d[0]);
    let run_up = d.windows(2).all(|w| w[1] == w[0] + 1);
    let run_down = d.windows(2).all(|w| w[0] == w[1] + 1);
    let year = pin.len() == 4 && pin.parse::<u16>().is_ok_and(|y| (1940..=2030).contains(&y));
    let common = COMMON_PINS.contains(&pin);
    let phone = who.phone_last4().is_some_and(|p| p == pin);
    let card = who.card_number.as_str();
    let card_last4 = card.len() >= 4 && card[card.len() - 4..] == *pin;
    let birthday = who.date_of_birth.is_some_and(|dob| {
        let (m, day) = (u8::from(dob.month()), dob.day());
        pin == format!("{m:02}{day:02}")
            || pin == format!("{day:02}{m:02}")
            || pin == format!("{day:02}{m:02}{:04}", dob.year())
            || pin == dob.year().to_string()
    });
    same_digit || run_up || run_down || year || common || phone || card_last4 || birthday
}

#[cfg(test)]
mod tests {
    use super::*;
    use PinViolation::*;
    use library_core::CardNumber;

    fn reader() -> PersonalInfo {
        PersonalInfo {
            card_number: CardNumber::parse("21000012348642").unwrap(),
            name: "Lee Siu Ming".into(),
            phone: "9876 5309".into(),
            email: None,
            date_of_birth: Some(time::macros::date!(1990 - 07 - 14)),
        }
    }

    fn check(pin: &str) -> Vec<PinViolation> {
        check_new_pin(&Secret::new(pin), &reader())
            .err()
            .unwrap_or_default()
    }

    #[test]
    fn only_ascii_digits_are_digits() {
        for pin in [
            "１２３４",
            "١٢٣٤",
            "+1234",
            " 1234",
            "1234 ",
            "12 34",
            "-123",
            "1e34",
            "0x1F",
            "½½½½",
            "²²²²",
            "",
            "abcd",
        ] {
            assert!(check(pin).contains(&NotDigits), "{pin:?}");
        }
        assert_eq!(check("١٢٣٤"), vec![NotDigits]);
        assert_eq!(check("１２３"), vec![NotDigits, TooShort]);
    }

    #[test]
    fn lengths() {
        assert_eq!(check("472"), vec![TooShort]);
        assert_eq!(check("4725"), Vec::<PinViolation>::new());
        assert_eq!(check("472583619047"), Vec::<PinViolation>::new());
        assert_eq!(check("4725836190471"), vec![TooLong]);
        assert_eq!(check(""), vec![NotDigits, TooShort]);
    }

    #[test]
    fn leading_zeros_are_kept() {
        assert_eq!(check("0472"), Vec::<PinViolation>::new());
        assert!(is_well_formed_pin("0472"));
        assert_ne!(Secret::new("0472"), Secret::new("472"));
    }

    #[test]
    fn trivial_pins() {
        for pin in [
            "0000", "1111", "999999", "1234", "4321", "0123", "3456789", "9876", "1212", "2580",
            "1984", "2030", "1940", "5309", "8642", "0714", "1407", "1990",
        ] {
            assert_eq!(check(pin), vec![TrivialPin], "{pin}");
        }
        for pin in ["0472", "1939", "2031", "7294", "80516", "13579"] {
            assert_eq!(check(pin), Vec::<PinViolation>::new(), "{pin}");
        }
    }

    #[test]
    fn codes_are_the_contract() {
        let codes: Vec<_> = [NotDigits, TooShort, TooLong, TrivialPin, SameAsCurrent]
            .iter()
            .map(|v| v.code())
            .collect();
        assert_eq!(
            codes,
            [
                "not_digits",
                "too_short",
                "too_long",
                "trivial_pin",
                "same_as_current"
            ]
        );
    }

    #[test]
    fn well_formed_for_login() {
        assert!(is_well_formed_pin("1234"));
        assert!(!is_well_formed_pin("１２３４"));
        assert!(!is_well_formed_pin("123"));
        assert!(!is_well_formed_pin("1234567890123"));
    }
}
