//! A reader's settings ("My Setting"; docs/http.md, Reader services): email, an SMS number,
//! the channels notices go through, the language, and whether the reading history is kept.
//!
//! Decisions:
//! - The email is the reader's one email: the one registered, shown by `GET /me` and
//!   matched by "forgot Password". Changing it here changes it everywhere.
//! - So changing it (another address, a first one, or none) needs the reader's Password
//!   ([`EmailChange`]): "forgot Password" sends a temporary password to it, and a stolen
//!   session must not be able to redirect that. The old address is told of the change.
//! - A channel needs its address: `email` needs an email, `sms` an SMS number
//!   (`no_channel_address`). No channel at all is allowed (no notices are sent; a temporary
//!   Password still goes to the email, which is how the reader asked for it).
//! - A reader who never saved settings has the defaults: English, history kept, no SMS
//!   number, and the `email` channel when they have an email (none otherwise), so the
//!   defaults always satisfy the rule above.
//! - Not keeping the reading history hides returned loans from the history; the loans
//!   themselves stay, since fines, the audit and the statistics refer to them, but lose
//!   their link to the reader ([`crate::AnonymisationPolicy`]). Turning it back on starts a
//!   new history from that moment: what was returned meanwhile was not kept and is never
//!   shown ([`ReadingHistory`]).

use std::collections::BTreeSet;

use library_core::{Barcode, LibraryCode, LoanId};
use time::OffsetDateTime;

use crate::text::{Checks, Violations};

const MAX_EMAIL_LEN: usize = 254;
const MAX_SMS_NUMBER_CHARS: usize = 32;
const SMS_DIGITS: std::ops::RangeInclusive<usize> = 8..=15;

/// An email address: one `@` with text on both sides, no spaces or control characters, at
/// most 254 bytes (registration checks emails with it too).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// Parses an email (trimmed); `None` if it is not one.
    pub fn parse(raw: &str) -> Option<Email> {
        let email = raw.trim();
        let valid = email.len() <= MAX_EMAIL_LEN
            && email.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty() && !domain.is_empty() && !domain.contains('@')
            })
            && !email.chars().any(|c| c.is_whitespace() || c.is_control());
        valid.then(|| Email(email.to_owned()))
    }

    /// An email as stored (it was checked when it was written, possibly by older rules).
    pub fn stored(text: String) -> Email {
        Email(text)
    }

    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A mobile number for SMS: 8 to 15 digits, optionally a leading `+`, spaces and hyphens
/// between; kept as typed (trimmed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsNumber(String);

impl SmsNumber {
    /// Parses a number; `None` if it is not one.
    pub fn parse(raw: &str) -> Option<SmsNumber> {
        let number = raw.trim();
        let rest = number.strip_prefix('+').unwrap_or(number);
        let digits = rest.chars().filter(char::is_ascii_digit).count();
        let valid = number.chars().count() <= MAX_SMS_NUMBER_CHARS
            && rest
                .chars()
                .all(|c| c.is_ascii_digit() || c == ' ' || c == '-')
            && rest.starts_with(|c: char| c.is_ascii_digit())
            && SMS_DIGITS.contains(&digits);
        valid.then(|| SmsNumber(number.to_owned()))
    }

    /// A number as stored.
    pub fn stored(text: String) -> SmsNumber {
        SmsNumber(text)
    }

    /// The number.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The language of the reader's pages and notices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Language {
    /// English.
    En,
    /// Traditional Chinese.
    ZhHant,
}

impl Language {
    /// The code (`en`, `zh_hant`).
    pub fn code(self) -> &'static str {
        match self {
            Language::En => "en",
            Language::ZhHant => "zh_hant",
        }
    }

    /// The language of a code; `None` for anything else.
    pub fn from_code(code: &str) -> Option<Language> {
        match code {
            "en" => Some(Language::En),
            "zh_hant" => Some(Language::ZhHant),
            _ => None,
        }
    }
}

/// A way notices reach the reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Channel {
    /// By email.
    Email,
    /// By SMS.
    Sms,
}

/// A reader's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReaderSettings {
    /// The reader's email (also for "forgot Password").
    pub email: Option<Email>,
    /// The mobile number SMS notices go to.
    pub sms_number: Option<SmsNumber>,
    /// The channels notices go through (each has its address).
    pub channels: BTreeSet<Channel>,
    /// The language.
    pub language: Language,
    /// Whether returned loans are kept in the reading history.
    pub keep_reading_history: bool,
}

/// Whether a replacement of a reader's settings may change their email.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailChange {
    /// The reader has not confirmed with their Password: a replacement that would change
    /// the email is refused, and nothing is stored.
    Unconfirmed,
    /// The reader confirmed with their Password: the email may change.
    Confirmed,
}

impl ReaderSettings {
    /// Whether replacing these settings with `new` changes the email: another address,
    /// a first one, or none any more. The address is compared exactly as stored.
    pub fn changes_email(&self, new: &ReaderSettings) -> bool {
        self.email != new.email
    }

    /// The settings of a reader who never saved any, given their email.
    pub fn defaults(email: Option<Email>) -> ReaderSettings {
        let channels = if email.is_some() {
            BTreeSet::from([Channel::Email])
        } else {
            BTreeSet::new()
        };
        ReaderSettings {
            email,
            sms_number: None,
            channels,
            language: Language::En,
            keep_reading_history: true,
        }
    }
}

/// Settings as the reader submits them (a full replacement).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsForm {
    /// The email; `None` or blank = no email.
    pub email: Option<String>,
    /// The SMS number; `None` or blank = none.
    pub sms_number: Option<String>,
    /// The channels (repeats are ignored).
    pub channels: Vec<Channel>,
    /// The language.
    pub language: Language,
    /// Whether to keep the reading history.
    pub keep_reading_history: bool,
}

impl SettingsForm {
    /// Checks the form; the settings or every violation: `email_invalid`,
    /// `sms_number_invalid`, `no_channel_address` (a channel chosen without its address).
    pub fn parse(self) -> Result<ReaderSettings, Violations> {
        let mut checks = Checks::default();
        let email = checks.take(match self.email.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(raw) => Email::parse(raw).map(Some).ok_or("email_invalid"),
        });
        let sms_number = checks.take(match self.sms_number.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(raw) => SmsNumber::parse(raw).map(Some).ok_or("sms_number_invalid"),
        });
        let channels: BTreeSet<Channel> = self.channels.into_iter().collect();
        // Only when the address was not itself invalid: one problem, one code.
        let email_missing = channels.contains(&Channel::Email) && matches!(email, Some(None));
        let sms_missing = channels.contains(&Channel::Sms) && matches!(sms_number, Some(None));
        checks.check(email_missing || sms_missing, "no_channel_address");
        let settings = match (email, sms_number) {
            (Some(email), Some(sms_number)) => Some(ReaderSettings {
                email,
                sms_number,
                channels,
                language: self.language,
                keep_reading_history: self.keep_reading_history,
            }),
            _ => None,
        };
        checks.finish(settings)
    }
}

/// Which returned loans the reading history shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadingHistory {
    /// Whether the history is kept now.
    pub keep: bool,
    /// Since when it has been kept without a break; `None` = from the start.
    pub kept_since: Option<OffsetDateTime>,
}

impl ReadingHistory {
    /// A new reader's: kept from the start.
    pub const FROM_THE_START: ReadingHistory = ReadingHistory {
        keep: true,
        kept_since: None,
    };

    /// The history after the reader sets `keep` at `now`: turning it on after it was off
    /// starts a new history at `now`; anything else keeps the start.
    pub fn set(self, keep: bool, now: OffsetDateTime) -> ReadingHistory {
        match (self.keep, keep) {
            (false, true) => ReadingHistory {
                keep: true,
                kept_since: Some(now),
            },
            _ => ReadingHistory { keep, ..self },
        }
    }

    /// Whether a loan returned at `returned_at` is shown.
    pub fn shows(&self, returned_at: OffsetDateTime) -> bool {
        self.keep && self.kept_since.is_none_or(|since| returned_at >= since)
    }
}

/// A returned loan, as the reading history lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnedLoan {
    /// The loan.
    pub loan: LoanId,
    /// The copy's barcode.
    pub item_barcode: Barcode,
    /// The title borrowed.
    pub title: String,
    /// The lending library.
    pub library: LibraryCode,
    /// When it was borrowed.
    pub borrowed_at: OffsetDateTime,
    /// When it was returned.
    pub returned_at: OffsetDateTime,
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn form() -> SettingsForm {
        SettingsForm {
            email: Some(" tm@example.com ".into()),
            sms_number: Some("+852 9123 4567".into()),
            channels: vec![Channel::Sms, Channel::Email, Channel::Sms],
            language: Language::ZhHant,
            keep_reading_history: false,
        }
    }

    fn violations(f: SettingsForm) -> Vec<&'static str> {
        f.parse().err().map(|v| v.0).unwrap_or_default()
    }

    #[test]
    fn a_valid_form() {
        let s = form().parse().unwrap();
        assert_eq!(s.email.as_ref().map(Email::as_str), Some("tm@example.com"));
        assert_eq!(
            s.sms_number.as_ref().map(SmsNumber::as_str),
            Some("+852 9123 4567")
        );
        assert_eq!(s.channels, BTreeSet::from([Channel::Email, Channel::Sms]));
        let none = SettingsForm {
            email: Some("  ".into()),
            sms_number: None,
            channels: vec![],
            ..form()
        };
        let s = none.parse().unwrap();
        assert_eq!((s.email, s.sms_number), (None, None));
    }

    #[test]
    fn only_another_address_a_first_one_or_none_changes_the_email() {
        let current = form().parse().unwrap();
        let with = |email: Option<&str>| ReaderSettings {
            email: email.map(|e| Email::parse(e).unwrap()),
            sms_number: None,
            channels: BTreeSet::new(),
            language: Language::En,
            keep_reading_history: true,
        };
        // Everything else may change without changing the email; trimming is not a change.
        assert!(!current.changes_email(&with(Some(" tm@example.com"))));
        assert!(current.changes_email(&with(Some("new@example.com"))));
        assert!(current.changes_email(&with(Some("TM@example.com"))));
        assert!(current.changes_email(&with(None)));
        assert!(with(None).changes_email(&current));
        assert!(!with(None).changes_email(&with(None)));
    }

    #[test]
    fn violations_are_named() {
        /// Email, SMS number, channels, and the violations expected.
        type Case<'a> = (
            Option<&'a str>,
            Option<&'a str>,
            &'a [Channel],
            &'a [&'a str],
        );
        let table: &[Case] = &[
            (Some("nobody"), None, &[], &["email_invalid"]),
            (Some("a@b@c"), None, &[], &["email_invalid"]),
            (Some("a b@c"), None, &[], &["email_invalid"]),
            (None, Some("12345"), &[], &["sms_number_invalid"]),
            (None, Some("9123 456x"), &[], &["sms_number_invalid"]),
            (None, Some("+ 91234567"), &[], &["sms_number_invalid"]),
            (None, Some("1234567890123456"), &[], &["sms_number_invalid"]),
            (None, None, &[Channel::Sms], &["no_channel_address"]),
            (None, None, &[Channel::Email], &["no_channel_address"]),
            (
                Some("a@b"),
                None,
                &[Channel::Email, Channel::Sms],
                &["no_channel_address"],
            ),
            (Some("bad"), None, &[Channel::Email], &["email_invalid"]),
            (None, Some("91234567"), &[Channel::Sms], &[]),
            (None, Some("9123-4567"), &[Channel::Sms], &[]),
        ];
        for &(email, sms, channels, expected) in table {
            let f = SettingsForm {
                email: email.map(str::to_owned),
                sms_number: sms.map(str::to_owned),
                channels: channels.to_vec(),
                ..form()
            };
            assert_eq!(violations(f), expected, "{email:?} {sms:?} {channels:?}");
        }
    }

    #[test]
    fn defaults_satisfy_the_channel_rule() {
        let with = ReaderSettings::defaults(Email::parse("tm@example.com"));
        assert_eq!(with.channels, BTreeSet::from([Channel::Email]));
        assert_eq!(with.language, Language::En);
        assert!(with.keep_reading_history);
        let without = ReaderSettings::defaults(None);
        assert!(without.channels.is_empty());
    }

    #[test]
    fn languages_by_code() {
        for l in [Language::En, Language::ZhHant] {
            assert_eq!(Language::from_code(l.code()), Some(l));
        }
        assert_eq!(Language::from_code("zh"), None);
    }

    #[test]
    fn the_reading_history_after_turning_it_off_and_on() {
        let t1 = datetime!(2026-12-01 10:00 +08:00);
        let t2 = datetime!(2026-12-05 10:00 +08:00);
        let before = datetime!(2026-11-01 10:00 +08:00);
        let h = ReadingHistory::FROM_THE_START;
        assert!(h.shows(before));
        let off = h.set(false, t1);
        assert!(!off.shows(before) && !off.shows(t2));
        assert_eq!(off.set(false, t2), off);
        let on = off.set(true, t2);
        assert_eq!(on.kept_since, Some(t2));
        assert!(!on.shows(before));
        assert!(!on.shows(t1));
        assert!(on.shows(t2));
        assert_eq!(
            on.set(true, t2 + time::Duration::days(1)),
            on,
            "on stays on"
        );
    }
}
