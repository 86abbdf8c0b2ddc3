//! Registering a reader at the counter: validating the form, drawing a card number, and
//! setting the default credentials (docs/http.md, Reader registration; docs/credentials.md,
//! Defaults).

use library_core::{
    CardNumber, DEFAULT_LIBRARY_OFFSET, LibraryCode, MAX_NAME_CHARS, PatronId, fits,
};
use library_credentials::{RandomSource, default_secret};
use time::{Date, OffsetDateTime};

use crate::error::ApiError;
use crate::state::{AppState, NewReader, RegisterReaderError};

/// Every card number we issue starts with these digits (14 digits in all).
pub const CARD_NUMBER_PREFIX: &str = "21";
const CARD_NUMBER_RANDOM_DIGITS: u32 = 12;
const CARD_NUMBER_ATTEMPTS: usize = 8;
/// A card is valid this many years from registration (ours: the library publishes no
/// figure; docs/policy.md).
pub const CARD_EXPIRY_YEARS: i32 = 5;

const MAX_PHONE_CHARS: usize = 32;

/// The registration form as received.
#[derive(Debug, Clone)]
pub(crate) struct RegistrationForm {
    pub(crate) name: String,
    pub(crate) phone: String,
    pub(crate) email: Option<String>,
    pub(crate) category: String,
    pub(crate) date_of_birth: Option<Date>,
    pub(crate) home_library: String,
}

/// A random card number: the prefix and 12 random digits.
pub(crate) fn draw_card_number(random: &dyn RandomSource) -> CardNumber {
    const RANGE: u64 = 10u64.pow(CARD_NUMBER_RANDOM_DIGITS);
    // Rejection sampling keeps the digits uniform.
    let limit = u64::MAX - u64::MAX % RANGE;
    let n = loop {
        let mut buf = [0u8; 8];
        random.fill(&mut buf);
        let n = u64::from_le_bytes(buf);
        if n < limit {
            break n % RANGE;
        }
    };
    let text = format!("{CARD_NUMBER_PREFIX}{n:012}");
    CardNumber::parse(&text).unwrap_or_else(|_| unreachable!("14 ASCII digits always parse"))
}

fn is_identifier(s: &str) -> bool {
    (1..=32).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Checks the form; all violations at once.
fn validate(form: &RegistrationForm, today: Date) -> Result<(), ApiError> {
    let mut violations = Vec::new();
    let name = form.name.trim();
    if name.is_empty() {
        violations.push("name_missing");
    } else if !fits(name, MAX_NAME_CHARS) {
        violations.push("name_invalid");
    }
    let phone_ok_chars = form
        .phone
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '+' | '-' | '(' | ')'));
    if form.phone.chars().count() > MAX_PHONE_CHARS || !phone_ok_chars {
        violations.push("phone_invalid");
    } else if default_secret(&form.phone).is_err() {
        violations.push("phone_too_short");
    }
    if form
        .email
        .as_deref()
        .is_some_and(|email| library_reader_services::Email::parse(email).is_none())
    {
        violations.push("email_invalid");
    }
    if !is_identifier(&form.category) {
        violations.push("category_invalid");
    }
    if LibraryCode::parse(&form.home_library).is_err() {
        violations.push("home_library_invalid");
    }
    if form.date_of_birth.is_some_and(|d| d > today) {
        violations.push("date_of_birth_in_future");
    }
    if violations.is_empty() {
        Ok(())
    } else {
        Err(ApiError::validation_failed(violations))
    }
}

/// Registers a reader with a fresh card number and the default credentials (last four
/// phone digits for both Password and PIN).
pub(crate) async fn register(
    state: &AppState,
    form: RegistrationForm,
) -> Result<(CardNumber, PatronId), ApiError> {
    let now: OffsetDateTime = state.clock.now();
    let today = now.to_offset(DEFAULT_LIBRARY_OFFSET).date();
    validate(&form, today)?;
    let card_expires_on = today
        .replace_year(today.year() + CARD_EXPIRY_YEARS)
        .or_else(|_| {
            // 29 February → 28 February.
            today
                .replace_day(28)
                .and_then(|d| d.replace_year(today.year() + CARD_EXPIRY_YEARS))
        })
        .map_err(|e| ApiError::internal(&e))?;
    let mut reader = NewReader {
        card_number: draw_card_number(state.random.as_ref()),
        name: form.name.trim().to_owned(),
        phone: form.phone.trim().to_owned(),
        email: form
            .email
            .map(|e| e.trim().to_owned())
            .filter(|e| !e.is_empty()),
        date_of_birth: form.date_of_birth,
        category: form.category,
        home_library: LibraryCode::parse(&form.home_library)
            .map(|c| c.as_str().to_owned())
            .unwrap_or(form.home_library),
        card_expires_on,
        registered_at: now,
    };
    let mut attempts = 0;
    let patron = loop {
        match state.readers.register(&reader).await {
            Ok(id) => break id,
            Err(RegisterReaderError::CardNumberTaken) if attempts + 1 < CARD_NUMBER_ATTEMPTS => {
                attempts += 1;
                reader.card_number = draw_card_number(state.random.as_ref());
            }
            Err(e) => return Err(e.into()),
        }
    };
    state
        .credentials
        .set_default_credentials(patron, &reader.phone)
        .await?;
    Ok((reader.card_number, patron))
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Counter(std::sync::atomic::AtomicU8);
    impl RandomSource for Counter {
        fn fill(&self, buf: &mut [u8]) {
            let b = self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            buf.fill(b);
        }
    }

    #[test]
    fn card_numbers_are_14_digits_starting_21() {
        let random = Counter(std::sync::atomic::AtomicU8::new(0));
        for _ in 0..50 {
            let card = draw_card_number(&random);
            assert_eq!(card.as_str().len(), 14);
            assert!(card.as_str().starts_with("21"));
            assert!(card.as_str().bytes().all(|b| b.is_ascii_digit()));
        }
    }

    fn form() -> RegistrationForm {
        RegistrationForm {
            name: "Chan Tai Man".into(),
            phone: "9123 4567".into(),
            email: Some("tm@example.com".into()),
            category: "adult".into(),
            date_of_birth: None,
            home_library: "CEN".into(),
        }
    }

    fn violations(f: &RegistrationForm) -> Vec<String> {
        let today = time::macros::date!(2021 - 03 - 05);
        match validate(f, today) {
            Ok(()) => vec![],
            Err(e) => e.violations().unwrap_or_default().to_vec(),
        }
    }

    #[test]
    fn the_form_is_checked() {
        assert!(violations(&form()).is_empty());
        let short = RegistrationForm {
            phone: "1-234".into(),
            ..form()
        };
        assert!(violations(&short).is_empty(), "four digits are enough");
        let bad = RegistrationForm {
            name: "  ".into(),
            phone: "123".into(),
            email: Some("nobody".into()),
            category: "Adult!".into(),
            date_of_birth: Some(time::macros::date!(2030 - 01 - 01)),
            home_library: "central library".into(),
        };
        assert_eq!(
            violations(&bad),
            [
                "name_missing",
                "phone_too_short",
                "email_invalid",
                "category_invalid",
                "home_library_invalid",
                "date_of_birth_in_future"
            ]
        );
    }
}
