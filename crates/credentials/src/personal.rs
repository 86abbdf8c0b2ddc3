//! What the credential rules know about a reader: the context words a Password must not
//! contain and a PIN must not be, and the default credentials derived from the phone.

use library_core::CardNumber;
use time::Date;

/// A reader's personal details as far as the credential rules are concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonalInfo {
    /// The card number.
    pub card_number: CardNumber,
    /// The reader's name as registered.
    pub name: String,
    /// The registered phone number, as typed (only its digits matter).
    pub phone: String,
    /// The registered email, if any.
    pub email: Option<String>,
    /// The date of birth, if known.
    pub date_of_birth: Option<Date>,
}

impl PersonalInfo {
    /// The ASCII digits of the phone number, in order.
    pub fn phone_digits(&self) -> String {
        phone_digits(&self.phone)
    }

    /// The last four digits of the phone number, when it has at least four.
    pub fn phone_last4(&self) -> Option<String> {
        last4(&self.phone_digits())
    }

    /// Name parts of three or more letters, lower-cased (`"Chan Tai Man"` → `chan`, `tai`,
    /// `man`).
    pub fn name_parts(&self) -> Vec<String> {
        self.name
            .split(|c: char| !c.is_alphabetic())
            .filter(|p| p.chars().count() >= 3)
            .map(str::to_lowercase)
            .collect()
    }

    /// The email's local part, lower-cased, when it has three or more characters.
    pub fn email_local_part(&self) -> Option<String> {
        let local = self.email.as_deref()?.split('@').next()?.to_lowercase();
        (local.chars().count() >= 3).then_some(local)
    }
}

fn phone_digits(phone: &str) -> String {
    phone.chars().filter(char::is_ascii_digit).collect()
}

fn last4(digits: &str) -> Option<String> {
    (digits.len() >= 4).then(|| digits[digits.len() - 4..].to_owned())
}

/// Why no default credentials can be derived from a phone number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the phone number must have at least 4 digits")]
pub struct PhoneTooShort;

/// A new reader's default Password and PIN: both the last four digits of the registered
/// phone number (the library's rule, docs/policy.md). A phone with fewer than four digits
/// is refused at registration.
pub fn default_secret(phone: &str) -> Result<String, PhoneTooShort> {
    last4(&phone_digits(phone)).ok_or(PhoneTooShort)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info() -> PersonalInfo {
        PersonalInfo {
            card_number: CardNumber::parse("21000012345678").unwrap(),
            name: "Chan Tai-man, Peter".into(),
            phone: "+852 9123 4567".into(),
            email: Some("Peter.Chan@example.com".into()),
            date_of_birth: None,
        }
    }

    #[test]
    fn default_is_last_four_phone_digits() {
        assert_eq!(default_secret("+852 9123 4567").unwrap(), "4567");
        assert_eq!(default_secret("0472").unwrap(), "0472");
        assert_eq!(default_secret("(852) 2-3-4-0-0").unwrap(), "3400");
        assert_eq!(default_secret("123"), Err(PhoneTooShort));
        assert_eq!(default_secret("no digits"), Err(PhoneTooShort));
        assert_eq!(
            default_secret("１２３４５"),
            Err(PhoneTooShort),
            "full-width digits are not phone digits"
        );
    }

    #[test]
    fn context_words() {
        let i = info();
        assert_eq!(i.phone_digits(), "85291234567");
        assert_eq!(i.phone_last4().as_deref(), Some("4567"));
        assert_eq!(i.name_parts(), ["chan", "tai", "man", "peter"]);
        assert_eq!(i.email_local_part().as_deref(), Some("peter.chan"));
    }
}
