//! Property tests of the policies: what they accept always satisfies every rule.

use library_core::CardNumber;
use library_credentials::*;
use proptest::prelude::*;

fn reader() -> PersonalInfo {
    PersonalInfo {
        card_number: CardNumber::parse("21000012345678").unwrap(),
        name: "Chan Tai Man".into(),
        phone: "9123 4567".into(),
        email: Some("reader@example.com".into()),
        date_of_birth: None,
    }
}

/// Mostly ASCII letters and digits, with some Unicode (full-width, accents, CJK, emoji,
/// controls) mixed in.
fn candidate() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            8 => prop::char::range('0', 'z'),
            1 => prop::char::range('\u{FF10}', '\u{FF5A}'),
            1 => prop::sample::select(vec!['é', 'e', '\u{301}', 'ß', '中', '😀', '\u{0}', '\u{202E}', ' ', 'Ä', 'ﬁ', '²']),
        ],
        0..40,
    )
    .prop_map(|cs| cs.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn an_accepted_password_satisfies_every_rule(raw in candidate()) {
        if let Ok(normalized) = check_new_password(&Secret::new(raw.clone()), &reader()) {
            let text = normalized.expose();
            let n = text.chars().count();
            prop_assert!((PASSWORD_MIN_CHARS..=PASSWORD_MAX_CHARS).contains(&n));
            prop_assert!(text.chars().any(char::is_uppercase));
            prop_assert!(text.chars().any(char::is_lowercase));
            prop_assert!(text.chars().any(|c| c.is_ascii_digit()));
            prop_assert!(!text.chars().any(is_forbidden_char));
            prop_assert!(!is_common_password(text));
            prop_assert!(!text.contains("4567") && !text.to_lowercase().contains("chan"));
            // What is stored is already normalised: checking it again accepts it unchanged.
            let again = check_new_password(&normalized, &reader()).unwrap();
            prop_assert_eq!(again.expose(), text);
        }
    }

    #[test]
    fn normalisation_is_idempotent(raw in candidate()) {
        let once = Secret::new(raw).normalized_password().unwrap();
        let twice = once.normalized_password().unwrap();
        prop_assert_eq!(once.expose(), twice.expose());
    }

    #[test]
    fn an_accepted_pin_is_all_ascii_digits(raw in prop_oneof![
        "[0-9]{0,14}",
        "[0-9０-９٠-٩+ -]{0,14}",
        any::<String>(),
    ]) {
        if check_new_pin(&Secret::new(raw.clone()), &reader()).is_ok() {
            prop_assert!(raw.bytes().all(|b| b.is_ascii_digit()));
            prop_assert!((PIN_MIN_DIGITS..=PIN_MAX_DIGITS).contains(&raw.len()));
            prop_assert!(is_well_formed_pin(&raw));
        }
    }

    #[test]
    fn the_throttle_delays_never_shrink_as_failures_grow(
        a in 0u32..100,
        b in 0u32..100,
        sources in 0u32..8,
    ) {
        let p = GuessingPolicy::default();
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        prop_assert!(p.pair_delay.delay_after(lo) <= p.pair_delay.delay_after(hi));
        prop_assert!(p.pair_delay.delay_after(hi) <= p.pair_delay.max);
        prop_assert!(p.account_delay_after(lo, sources) <= p.account_delay_after(hi, sources));
        prop_assert!(p.account_delay_after(hi, sources) <= p.account_delay.max);
    }
}
