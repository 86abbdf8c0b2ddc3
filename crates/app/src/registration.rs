//! Registering readers, for every channel: the counter (`POST /api/v1/patrons`), the admin
//! tool's CSV import and the demo data. The form's checks, the card number, the card's
//! expiry and the default credentials live here once (docs/http.md, Reader registration;
//! docs/credentials.md, Defaults).

use library_core::{
    CardNumber, DEFAULT_LIBRARY_OFFSET, LibraryCode, MAX_NAME_CHARS, PatronId, fits,
};
use library_credentials::{
    Argon2Hasher, PortError, RandomSource, RegisterCredentialsError, Secret, SecretHash,
    default_secret,
};
use time::{Date, OffsetDateTime};

use crate::ports::AuditRecord;
use crate::services::{NewReader, RegisterReaderError, Services};

/// Every card number we issue starts with these digits (14 digits in all).
pub const CARD_NUMBER_PREFIX: &str = "21";
const CARD_NUMBER_RANDOM_DIGITS: u32 = 12;
const CARD_NUMBER_ATTEMPTS: usize = 8;
/// A card is valid this many years from registration (ours: the library publishes no
/// figure; docs/policy.md).
pub const CARD_EXPIRY_YEARS: i32 = 5;

/// The longest phone number accepted, in characters.
pub const MAX_PHONE_CHARS: usize = 32;

/// A registration form as received from any channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrationForm {
    /// The reader's name.
    pub name: String,
    /// The phone (its last four digits are the default Password and PIN).
    pub phone: String,
    /// Email, if any.
    pub email: Option<String>,
    /// Reader category (`adult`, `child`, ...).
    pub category: String,
    /// Date of birth, if given.
    pub date_of_birth: Option<Date>,
    /// Home library code.
    pub home_library: String,
}

/// Why a reader was not registered.
#[derive(Debug, thiserror::Error)]
pub enum RegistrationError {
    /// The form breaks these rules (codes, every one at once, in the form's order).
    #[error("invalid: {0:?}")]
    Invalid(Vec<&'static str>),
    /// Every card number drawn was taken.
    #[error("card number already registered")]
    CardNumberTaken,
    /// Infrastructure failure.
    #[error(transparent)]
    Infrastructure(#[from] PortError),
}

impl From<RegisterCredentialsError> for RegistrationError {
    fn from(err: RegisterCredentialsError) -> Self {
        match err {
            // The form's checks refuse such a phone before anything is stored.
            RegisterCredentialsError::PhoneTooShort(_) => Self::Invalid(vec!["phone_too_short"]),
            RegisterCredentialsError::Infrastructure(e) => Self::Infrastructure(e),
        }
    }
}

impl From<RegisterReaderError> for RegistrationError {
    fn from(err: RegisterReaderError) -> Self {
        match err {
            RegisterReaderError::CardNumberTaken => Self::CardNumberTaken,
            RegisterReaderError::Infrastructure(e) => Self::Infrastructure(e),
        }
    }
}

/// Makes the audit record of a registration from the new reader's id and card number.
pub type RegistrationAudit<'a> = dyn Fn(PatronId, &CardNumber) -> AuditRecord + Send + Sync + 'a;

/// A random card number: the prefix and 12 random digits.
pub fn draw_card_number(random: &dyn RandomSource) -> CardNumber {
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

/// The last day a card registered on `today` is valid: the same day [`CARD_EXPIRY_YEARS`]
/// later (a card registered on 29 February expires on 28 February).
pub fn card_expiry(today: Date) -> Date {
    let year = today.year() + CARD_EXPIRY_YEARS;
    today
        .replace_year(year)
        .or_else(|_| today.replace_day(28).and_then(|d| d.replace_year(year)))
        // Only past the calendar's last year (9999), which no clock reaches.
        .unwrap_or(Date::MAX)
}

fn is_identifier(s: &str) -> bool {
    (1..=32).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// The rules `form` breaks on `today`, as codes in the form's order (empty: none):
/// `name_missing`, `name_invalid`, `phone_invalid`, `phone_too_short`, `email_invalid`,
/// `category_invalid`, `home_library_invalid`, `date_of_birth_in_future`.
pub fn violations(form: &RegistrationForm, today: Date) -> Vec<&'static str> {
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
    violations
}

impl Services {
    /// Registers a reader with a fresh card number and the default credentials (last four
    /// phone digits for both Password and PIN); the card number and the reader's id.
    /// `audit`, when given, makes the audit record of the reader's id and card number; it
    /// is written in the transaction that stores the reader (the decisive write: the
    /// default credentials follow in their own).
    pub async fn register_reader(
        &self,
        form: RegistrationForm,
        audit: Option<&RegistrationAudit<'_>>,
    ) -> Result<(CardNumber, PatronId), RegistrationError> {
        let now: OffsetDateTime = self.clock.now();
        let today = now.to_offset(DEFAULT_LIBRARY_OFFSET).date();
        let violations = violations(&form, today);
        if !violations.is_empty() {
            return Err(RegistrationError::Invalid(violations));
        }
        let mut reader = NewReader {
            card_number: draw_card_number(self.random.as_ref()),
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
            card_expires_on: card_expiry(today),
            registered_at: now,
        };
        let mut attempts = 0;
        let patron = loop {
            let card = reader.card_number.clone();
            let entry = audit.map(|audit| move |id: PatronId| audit(id, &card));
            let entry = entry
                .as_ref()
                .map(|e| e as &(dyn Fn(PatronId) -> AuditRecord + Send + Sync));
            match self.readers.register(&reader, entry).await {
                Ok(id) => break id,
                Err(RegisterReaderError::CardNumberTaken)
                    if attempts + 1 < CARD_NUMBER_ATTEMPTS =>
                {
                    attempts += 1;
                    reader.card_number = draw_card_number(self.random.as_ref());
                }
                Err(e) => return Err(e.into()),
            }
        };
        self.credentials
            .set_default_credentials(patron, &reader.phone)
            .await?;
        Ok((reader.card_number, patron))
    }
}

/// The hashes of the default Password and PIN (both the last four digits of the phone,
/// docs/policy.md) for each phone, computed like
/// `CredentialService::set_default_credentials` (Argon2id, OWASP parameters, two salts) but
/// on every core at once, off the async runtime. For bulk registration (the demo data,
/// `library-admin import-readers`).
pub async fn default_credential_hashes(
    phones: Vec<String>,
) -> Result<Vec<(SecretHash, SecretHash)>, PortError> {
    if phones.is_empty() {
        return Ok(Vec::new());
    }
    let (reply, answer) = tokio::sync::oneshot::channel();
    let spawned = std::thread::Builder::new()
        .name("argon2-bulk".into())
        .spawn(move || {
            let _ = reply.send(hash_defaults(&phones));
        });
    spawned.map_err(|e| PortError::Failed(format!("hashing thread: {e}")))?;
    answer
        .await
        .map_err(|_| PortError::Failed("the bulk hashing thread stopped".into()))?
}

fn hash_defaults(phones: &[String]) -> Result<Vec<(SecretHash, SecretHash)>, PortError> {
    let hasher = Argon2Hasher::owasp_minimum();
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .clamp(1, phones.len());
    let chunk = phones.len().div_ceil(threads);
    let hash_one = |phone: &String| -> Result<(SecretHash, SecretHash), PortError> {
        let secret =
            Secret::new(default_secret(phone).map_err(|e| PortError::Failed(e.to_string()))?);
        Ok((hasher.hash_sync(&secret)?, hasher.hash_sync(&secret)?))
    };
    std::thread::scope(|scope| {
        let workers: Vec<_> = phones
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || part.iter().map(hash_one).collect::<Result<Vec<_>, _>>())
            })
            .collect();
        let mut out = Vec::with_capacity(phones.len());
        for worker in workers {
            let part = worker
                .join()
                .map_err(|_| PortError::Failed("a hashing thread panicked".into()))??;
            out.extend(part);
        }
        Ok(out)
    })
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

    fn violations_on_5_march_2021(f: &RegistrationForm) -> Vec<&'static str> {
        violations(f, time::macros::date!(2021 - 03 - 05))
    }

    #[test]
    fn the_form_is_checked() {
        assert!(violations_on_5_march_2021(&form()).is_empty());
        let short = RegistrationForm {
            phone: "1-234".into(),
            ..form()
        };
        assert!(
            violations_on_5_march_2021(&short).is_empty(),
            "four digits are enough"
        );
        let bad = RegistrationForm {
            name: "  ".into(),
            phone: "123".into(),
            email: Some("nobody".into()),
            category: "Adult!".into(),
            date_of_birth: Some(time::macros::date!(2030 - 01 - 01)),
            home_library: "central library".into(),
        };
        assert_eq!(
            violations_on_5_march_2021(&bad),
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

    #[test]
    fn a_card_runs_five_years_and_29_february_falls_back_to_the_28th() {
        use time::macros::date;
        assert_eq!(card_expiry(date!(2021 - 03 - 05)), date!(2026 - 03 - 05));
        assert_eq!(card_expiry(date!(2024 - 02 - 29)), date!(2029 - 02 - 28));
        // Five years on from a leap day can be a leap year only at a century step: never
        // here, but the 28 February rule still holds across 2096 → 2101.
        assert_eq!(card_expiry(date!(2096 - 02 - 29)), date!(2101 - 02 - 28));
        assert_eq!(card_expiry(date!(2023 - 12 - 31)), date!(2028 - 12 - 31));
    }

    #[tokio::test]
    async fn default_hashes_verify_against_the_last_four_digits() {
        let hashes = default_credential_hashes(vec!["9123 4567".into(), "2-345".into()])
            .await
            .unwrap();
        assert_eq!(hashes.len(), 2);
        let hasher = Argon2Hasher::owasp_minimum();
        let (password, pin) = &hashes[0];
        assert!(hasher.verify_sync(&Secret::new("4567"), Some(password)));
        assert!(hasher.verify_sync(&Secret::new("4567"), Some(pin)));
        assert_ne!(password, pin, "two salts");
        assert!(hasher.verify_sync(&Secret::new("2345"), Some(&hashes[1].0)));
        assert!(default_credential_hashes(vec![]).await.unwrap().is_empty());
    }
}
