//! The Password policy (docs/credentials.md, Password; the library's rule: docs/policy.md).
//!
//! A Password is checked after NFKC normalisation and counted in code points: 8 to 128 of
//! them, at least one upper-case letter, one lower-case letter and one ASCII digit, no
//! control or bidirectional-format characters, not on the common-password blocklist, and
//! not containing the reader's card number, four or more consecutive digits of the phone,
//! a name part of three or more letters, or the email's local part, and not containing a
//! context word: the library's own names ([`CONTEXT_WORDS`], NIST SP 800-63B rev 3
//! §5.1.1.2: "context-specific words, such as the name of the service"). Leading and trailing
//! spaces are kept as typed, at set and at verify alike (ASVS 5.0 6.2.8: verify exactly as
//! received). The composition rule is the library's and a documented deviation from NIST
//! SP 800-63B rev 4, which is why the blocklist is there too.

use std::fmt;

use crate::blocklist::is_common_password;
use crate::personal::PersonalInfo;
use crate::secret::Secret;

/// Fewest code points in a Password.
pub const PASSWORD_MIN_CHARS: usize = 8;
/// Most code points in a Password.
pub const PASSWORD_MAX_CHARS: usize = 128;

/// The library's own names, which a Password may not contain (compared on its letters only,
/// lower-cased: `HongKong-Library9`, `hkpl2021Ab` and `L.C.S.D.xy7Q` all contain one). The
/// system has no product name of its own; the library codes are not known to this rule.
pub const CONTEXT_WORDS: [&str; 4] = ["library", "hkpl", "hongkong", "lcsd"];

/// One reason a new Password is refused. The wire codes are the HTTP API's
/// (docs/credentials.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PasswordViolation {
    /// Fewer than 8 code points.
    TooShort,
    /// More than 128 code points, or more than 1 KiB as typed.
    TooLong,
    /// No upper-case letter.
    MissingUppercase,
    /// No lower-case letter.
    MissingLowercase,
    /// No ASCII digit (after NFKC, so full-width digits count).
    MissingDigit,
    /// On the common-password blocklist.
    CommonPassword,
    /// Contains the card number, phone digits, a name part or the email's local part.
    ContainsPersonalInfo,
    /// Contains one of the library's own names ([`CONTEXT_WORDS`]).
    ContextWord,
    /// The same as the current Password.
    SameAsCurrent,
    /// Contains a control or bidirectional-format character.
    ControlCharacter,
}

impl PasswordViolation {
    /// The wire code.
    pub const fn code(self) -> &'static str {
        match self {
            PasswordViolation::TooShort => "too_short",
            PasswordViolation::TooLong => "too_long",
            PasswordViolation::MissingUppercase => "missing_uppercase",
            PasswordViolation::MissingLowercase => "missing_lowercase",
            PasswordViolation::MissingDigit => "missing_digit",
            PasswordViolation::CommonPassword => "common_password",
            PasswordViolation::ContainsPersonalInfo => "contains_personal_info",
            PasswordViolation::ContextWord => "context_word",
            PasswordViolation::SameAsCurrent => "same_as_current",
            PasswordViolation::ControlCharacter => "control_character",
        }
    }
}

impl fmt::Display for PasswordViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// `true` for characters a Password may not contain: C0/C1 controls and the invisible
/// format characters that reorder or hide text (U+202E RIGHT-TO-LEFT OVERRIDE and friends).
pub fn is_forbidden_char(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{00AD}' | '\u{061C}' | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206F}'
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}')
}

/// Checks a new Password. On success returns the normalised form, which is what gets
/// hashed. On failure returns every violation at once, in the order of
/// [`PasswordViolation`]. `same_as_current` is not checked here (it needs the current
/// hash); the application service adds it.
pub fn check_new_password(
    candidate: &Secret,
    who: &PersonalInfo,
) -> Result<Secret, Vec<PasswordViolation>> {
    check_rules(candidate, |text| contains_personal_info(text, who))
}

/// Checks a new staff Password: the same rules, with the username as the personal
/// information it may not contain.
pub fn check_new_staff_password(
    candidate: &Secret,
    username: &str,
) -> Result<Secret, Vec<PasswordViolation>> {
    let name = username.to_lowercase();
    check_rules(candidate, |text| {
        name.chars().count() >= 3 && text.to_lowercase().contains(&name)
    })
}

fn check_rules(
    candidate: &Secret,
    personal: impl Fn(&str) -> bool,
) -> Result<Secret, Vec<PasswordViolation>> {
    let Some(normalized) = candidate.normalized_password() else {
        return Err(vec![PasswordViolation::TooLong]);
    };
    let text = normalized.expose();
    let mut violations = Vec::new();
    let chars = text.chars().count();
    if chars < PASSWORD_MIN_CHARS {
        violations.push(PasswordViolation::TooShort);
    }
    if chars > PASSWORD_MAX_CHARS {
        violations.push(PasswordViolation::TooLong);
    }
    if !text.chars().any(char::is_uppercase) {
        violations.push(PasswordViolation::MissingUppercase);
    }
    if !text.chars().any(char::is_lowercase) {
        violations.push(PasswordViolation::MissingLowercase);
    }
    if !text.chars().any(|c| c.is_ascii_digit()) {
        violations.push(PasswordViolation::MissingDigit);
    }
    if is_common_password(text) {
        violations.push(PasswordViolation::CommonPassword);
    }
    if personal(text) {
        violations.push(PasswordViolation::ContainsPersonalInfo);
    }
    if contains_context_word(text) {
        violations.push(PasswordViolation::ContextWord);
    }
    if text.chars().any(is_forbidden_char) {
        violations.push(PasswordViolation::ControlCharacter);
    }
    if violations.is_empty() {
        Ok(normalized)
    } else {
        Err(violations)
    }
}

/// `text` lower-cased with only what `keep` keeps: spaces, punctuation and symbols go (and
/// digits too for the letters-only form), so `Hong Kong-Library` reads `hongkonglibrary`.
fn projected(text: &str, keep: impl Fn(char) -> bool) -> String {
    text.chars()
        .filter(|&c| keep(c))
        .flat_map(char::to_lowercase)
        .collect()
}

/// Whether the Password's letters, lower-cased, contain one of [`CONTEXT_WORDS`].
fn contains_context_word(text: &str) -> bool {
    let letters = projected(text, char::is_alphabetic);
    CONTEXT_WORDS.iter().any(|word| letters.contains(word))
}

fn contains_personal_info(text: &str, who: &PersonalInfo) -> bool {
    let lower = text.to_lowercase();
    // Without spaces and punctuation: `2100-0012-3456-78`, `9123 4567`, `Chan.Tai`.
    let compact = projected(text, char::is_alphanumeric);
    let letters = projected(text, char::is_alphabetic);
    let card = who.card_number.as_str().to_lowercase();
    if lower.contains(&card) || compact.contains(&card) {
        return true;
    }
    let phone = who.phone_digits();
    if phone.len() >= 4
        && (0..=phone.len() - 4)
            .any(|i| text.contains(&phone[i..i + 4]) || compact.contains(&phone[i..i + 4]))
    {
        return true;
    }
    if who
        .name_parts()
        .iter()
        .any(|part| lower.contains(part.as_str()) || letters.contains(part.as_str()))
    {
        return true;
    }
    who.email_local_part().is_some_and(|local| {
        lower.contains(&local) || compact.contains(&projected(&local, char::is_alphanumeric))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use PasswordViolation::*;
    use library_core::CardNumber;

    fn reader() -> PersonalInfo {
        PersonalInfo {
            card_number: CardNumber::parse("21000012345678").unwrap(),
            name: "Chan Tai Man".into(),
            phone: "9123 4567".into(),
            email: Some("kowloonreader@example.com".into()),
            date_of_birth: None,
        }
    }

    fn check(pw: &str) -> Result<String, Vec<PasswordViolation>> {
        check_new_password(&Secret::new(pw), &reader()).map(|s| s.expose().to_owned())
    }

    #[test]
    fn every_violation_code_with_an_example() {
        let cases: &[(&str, &[PasswordViolation])] = &[
            ("Abcde1x", &[TooShort]),
            ("Abcdef1x", &[]),
            (&format!("Ab1{}", "x".repeat(125)), &[]),
            (&format!("Ab1{}", "x".repeat(126)), &[TooLong]),
            ("qmzkvtbw5", &[MissingUppercase]),
            ("QMZKVTBW5", &[MissingLowercase]),
            ("Qmzkvtbwx", &[MissingDigit]),
            ("Password1", &[CommonPassword]),
            ("Passw0rd", &[CommonPassword]),
            ("Summer2025", &[CommonPassword]),
            ("Xy21000012345678", &[ContainsPersonalInfo]),
            ("Zq4567!xYw", &[ContainsPersonalInfo]),
            ("Zq2345rty", &[ContainsPersonalInfo]),
            ("Qp9ChAnXXw", &[ContainsPersonalInfo]),
            ("Kowloonreader7", &[ContainsPersonalInfo]),
            ("HongKongLibrary9", &[ContextWord]),
            ("hkpl2021Ab", &[ContextWord]),
            ("Xq7 Hong Kong zz", &[ContextWord]),
            ("Lib-rary7Qz", &[ContextWord]),
            ("L.C.S.D.xy7Q", &[ContextWord]),
            ("ｈｋｐｌ７Ａｂｃｄ", &[ContextWord]),
            ("Hkp1Zebra9", &[]),
            ("Librar9Zq", &[]),
            ("Zq9-1234-567x", &[ContainsPersonalInfo]),
            ("C.h.a.n-Zq9x", &[ContainsPersonalInfo]),
            ("Abc\u{0}defg1", &[ControlCharacter]),
            ("Abc\u{202E}defg1", &[ControlCharacter]),
            ("Abc\tdefg1", &[ControlCharacter]),
            (
                "",
                &[TooShort, MissingUppercase, MissingLowercase, MissingDigit],
            ),
            ("short", &[TooShort, MissingUppercase, MissingDigit]),
        ];
        for (pw, want) in cases {
            let got = check(pw).err().unwrap_or_default();
            assert_eq!(&got, want, "{pw:?}");
        }
    }

    #[test]
    fn length_is_counted_in_code_points_not_bytes() {
        // 8 code points in 24 bytes: accepted.
        assert!(check("Ab1中文字符串").is_ok());
        assert_eq!("Ab1中文字符串".len(), 18);
        // 7 emoji + aA1 = 10 code points, 31 bytes.
        assert!(check("😀😀😀😀😀😀😀aA1").is_ok());
        // 7 code points of 4 bytes each: too short although 28 bytes.
        assert_eq!(check("😀😀😀😀aA1").unwrap_err(), vec![TooShort]);
    }

    #[test]
    fn nfkc_is_applied_before_every_rule() {
        // Full-width: NFKC → Password1 → blocklisted.
        assert_eq!(
            check("Ｐａｓｓｗｏｒｄ１").unwrap_err(),
            vec![CommonPassword]
        );
        // Full-width digit counts as a digit after NFKC.
        assert_eq!(check("Zebracorn１").unwrap(), "Zebracorn1");
        // Decomposed é composes.
        assert_eq!(check("Cafe\u{301}12Abq").unwrap(), "Café12Abq");
    }

    #[test]
    fn over_one_kib_is_refused_before_normalisation() {
        assert_eq!(check(&"Aa1".repeat(400)).unwrap_err(), vec![TooLong]);
        let megabyte = format!("Aa1{}", "x".repeat(1 << 20));
        assert_eq!(check(&megabyte).unwrap_err(), vec![TooLong]);
    }

    #[test]
    fn spaces_are_kept_as_typed() {
        assert_eq!(check(" Zebracorn9 ").unwrap(), " Zebracorn9 ");
    }

    #[test]
    fn short_name_parts_and_short_phone_do_not_count() {
        let mut who = reader();
        who.name = "Ng Yu".into();
        who.phone = "999".into();
        who.email = None;
        assert!(check_new_password(&Secret::new("NgYu999Zebra"), &who).is_ok());
    }

    #[test]
    fn staff_passwords_follow_the_same_rules_without_the_username() {
        let check = |pw: &str| {
            check_new_staff_password(&Secret::new(pw), "counter01")
                .err()
                .unwrap_or_default()
        };
        assert_eq!(check("Zebracorn9"), Vec::<PasswordViolation>::new());
        assert_eq!(check("Counter01xyZ"), vec![ContainsPersonalInfo]);
        assert_eq!(check("Password1"), vec![CommonPassword]);
        assert_eq!(check("short1A"), vec![TooShort]);
        assert_eq!(check("HKPL-counter9x"), vec![ContextWord]);
    }

    proptest::proptest! {
        /// A Password that passes stays refused with `context_word` once a context word is
        /// put anywhere in it, in any case, with spaces or punctuation between its letters.
        #[test]
        fn a_context_word_anywhere_is_refused(
            at in 0usize..12,
            word in 0usize..CONTEXT_WORDS.len(),
            upper in proptest::collection::vec(proptest::bool::ANY, 8),
            separator in proptest::sample::select(vec!["", " ", "-", ".", "_"]),
        ) {
            let base: Vec<char> = "Zebracorn9Qx".chars().collect();
            proptest::prop_assume!(check(&base.iter().collect::<String>()).is_ok());
            let word: Vec<String> = CONTEXT_WORDS[word]
                .chars()
                .zip(upper.iter().cycle())
                .map(|(c, &up)| if up { c.to_ascii_uppercase() } else { c }.to_string())
                .collect();
            let word = word.join(separator);
            let (head, tail) = base.split_at(at.min(base.len()));
            let pw: String = head.iter().collect::<String>() + &word + &tail.iter().collect::<String>();
            let got = check(&pw).err().unwrap_or_default();
            proptest::prop_assert!(got.contains(&ContextWord), "{pw:?}: {got:?}");
        }
    }

    #[test]
    fn codes_are_the_contract() {
        let all = [
            TooShort,
            TooLong,
            MissingUppercase,
            MissingLowercase,
            MissingDigit,
            CommonPassword,
            ContainsPersonalInfo,
            ContextWord,
            SameAsCurrent,
            ControlCharacter,
        ];
        let codes: Vec<_> = all.iter().map(|v| v.code()).collect();
        assert_eq!(
            codes,
            [
                "too_short",
                "too_long",
                "missing_uppercase",
                "missing_lowercase",
                "missing_digit",
                "common_password",
                "contains_personal_info",
                "context_word",
                "same_as_current",
                "control_character"
            ]
        );
    }
}
