//! Translations (Project Fluent, `locales/*.ftl`) and the formatting of dates and money
//! for each language.
//!
//! Every string a page shows comes from here. Both languages have the same keys (a test
//! fails otherwise); a key missing at run time shows as the key itself and is logged.

use std::sync::LazyLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use library_core::Money;
use library_reader_services::Language;
use time::{Date, OffsetDateTime, UtcOffset};

const EN: &str = include_str!("../locales/en.ftl");
const ZH_HANT: &str = include_str!("../locales/zh-Hant.ftl");

/// A language of the pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lang {
    /// English.
    En,
    /// Traditional Chinese.
    ZhHant,
}

struct Bundles {
    en: FluentBundle<FluentResource>,
    zh_hant: FluentBundle<FluentResource>,
}

fn bundle(tag: &str, source: &'static str) -> FluentBundle<FluentResource> {
    let lang: unic_langid::LanguageIdentifier = tag.parse().unwrap_or_default();
    let mut bundle = FluentBundle::new_concurrent(vec![lang]);
    // No Unicode isolation marks around values: the pages are left-to-right only.
    bundle.set_use_isolating(false);
    match FluentResource::try_new(source.to_owned()) {
        Ok(resource) => {
            if let Err(errors) = bundle.add_resource(resource) {
                tracing::error!(?errors, "translations {tag}: duplicate messages");
            }
        }
        Err((resource, errors)) => {
            tracing::error!(?errors, "translations {tag}: syntax errors");
            let _ = bundle.add_resource(resource);
        }
    }
    bundle
}

static BUNDLES: LazyLock<Bundles> = LazyLock::new(|| Bundles {
    en: bundle("en", EN),
    zh_hant: bundle("zh-Hant", ZH_HANT),
});

impl Lang {
    /// The language tag of `<html lang>` and of the switch (`en`, `zh-Hant`).
    pub(crate) fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::ZhHant => "zh-Hant",
        }
    }

    /// The language of a tag; `None` for anything else.
    pub(crate) fn from_tag(tag: &str) -> Option<Lang> {
        match tag {
            "en" => Some(Lang::En),
            "zh-Hant" => Some(Lang::ZhHant),
            _ => None,
        }
    }

    /// The other language (what the switch offers).
    pub(crate) fn other(self) -> Lang {
        match self {
            Lang::En => Lang::ZhHant,
            Lang::ZhHant => Lang::En,
        }
    }

    /// The language a reader's settings name.
    pub(crate) fn from_setting(language: Language) -> Lang {
        match language {
            Language::En => Lang::En,
            Language::ZhHant => Lang::ZhHant,
        }
    }

    /// The reader setting of this language.
    pub(crate) fn setting(self) -> Language {
        match self {
            Lang::En => Language::En,
            Lang::ZhHant => Language::ZhHant,
        }
    }

    /// The first language of an `Accept-Language` header we have (`zh-TW`, `zh-HK`,
    /// `zh-Hant` and plain `zh` are Traditional Chinese here); English otherwise.
    pub(crate) fn from_accept_language(header: &str) -> Lang {
        for part in header.split(',') {
            let tag = part
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            if tag.starts_with("zh") {
                return Lang::ZhHant;
            }
            if tag.starts_with("en") {
                return Lang::En;
            }
        }
        Lang::En
    }

    fn bundle(self) -> &'static FluentBundle<FluentResource> {
        match self {
            Lang::En => &BUNDLES.en,
            Lang::ZhHant => &BUNDLES.zh_hant,
        }
    }

    /// The message `key`.
    pub(crate) fn t(self, key: &str) -> String {
        self.format(key, None)
    }

    /// The message `key` with its variables.
    pub(crate) fn ta(self, key: &str, args: &[(&'static str, Arg)]) -> String {
        let mut fluent = FluentArgs::new();
        for (name, value) in args {
            match value {
                Arg::Text(s) => fluent.set(*name, FluentValue::from(s.clone())),
                Arg::Number(n) => fluent.set(*name, FluentValue::from(*n)),
            }
        }
        self.format(key, Some(&fluent))
    }

    /// The message `key`, or `None` if there is no such message (for codes that may be
    /// unknown, such as a refusal code of a newer server).
    pub(crate) fn t_opt(self, key: &str) -> Option<String> {
        self.bundle().has_message(key).then(|| self.t(key))
    }

    fn format(self, key: &str, args: Option<&FluentArgs<'_>>) -> String {
        let bundle = self.bundle();
        let Some(pattern) = bundle.get_message(key).and_then(|m| m.value()) else {
            tracing::error!(key, lang = self.tag(), "missing translation");
            return key.to_owned();
        };
        let mut errors = Vec::new();
        let text = bundle.format_pattern(pattern, args, &mut errors);
        if !errors.is_empty() {
            tracing::error!(key, ?errors, "translation errors");
        }
        text.into_owned()
    }

    /// A date as the language writes it: `5 March 2021`, `2021年3月5日`.
    pub(crate) fn date(self, date: Date) -> String {
        match self {
            Lang::En => format!("{} {} {}", date.day(), date.month(), date.year()),
            Lang::ZhHant => format!(
                "{}年{}月{}日",
                date.year(),
                u8::from(date.month()),
                date.day()
            ),
        }
    }

    /// A moment in the library's zone: `5 March 2021, 14:05`, `2021年3月5日 14:05`.
    pub(crate) fn date_time(self, at: OffsetDateTime, zone: UtcOffset) -> String {
        let local = at.to_offset(zone);
        let date = self.date(local.date());
        match self {
            Lang::En => format!("{date}, {:02}:{:02}", local.hour(), local.minute()),
            Lang::ZhHant => format!("{date} {:02}:{:02}", local.hour(), local.minute()),
        }
    }

    /// An amount in Hong Kong dollars: `HK$12.50`, `-HK$1.00`.
    pub(crate) fn money(self, amount: Money) -> String {
        money_text(amount.cents())
    }
}

/// `HK$` and the amount with two decimals, from minor units.
pub(crate) fn money_text(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    format!("{sign}HK${}.{:02}", abs / 100, abs % 100)
}

/// A variable of a message.
#[derive(Debug, Clone)]
pub(crate) enum Arg {
    /// Text.
    Text(String),
    /// A number (plural rules apply).
    Number(i64),
}

impl From<&str> for Arg {
    fn from(s: &str) -> Self {
        Arg::Text(s.to_owned())
    }
}

impl From<String> for Arg {
    fn from(s: String) -> Self {
        Arg::Text(s)
    }
}

impl From<i64> for Arg {
    fn from(n: i64) -> Self {
        Arg::Number(n)
    }
}

impl From<u32> for Arg {
    fn from(n: u32) -> Self {
        Arg::Number(i64::from(n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;
    use time::macros::{date, datetime, offset};

    /// The message ids of a file: the lines that start a message (`key = ...`).
    fn keys(source: &str) -> BTreeSet<String> {
        source
            .lines()
            .filter(|l| l.starts_with(|c: char| c.is_ascii_lowercase()))
            .filter_map(|l| l.split_once(" ="))
            .map(|(k, _)| k.trim().to_owned())
            .collect()
    }

    #[test]
    fn both_languages_have_the_same_keys() {
        let en = keys(EN);
        let zh = keys(ZH_HANT);
        let only_en: Vec<_> = en.difference(&zh).collect();
        let only_zh: Vec<_> = zh.difference(&en).collect();
        assert!(only_en.is_empty(), "only in English: {only_en:?}");
        assert!(
            only_zh.is_empty(),
            "only in Traditional Chinese: {only_zh:?}"
        );
        assert!(en.len() > 100, "{} keys", en.len());
    }

    #[test]
    fn both_files_parse_without_errors() {
        for (name, source) in [("en", EN), ("zh-Hant", ZH_HANT)] {
            assert!(
                FluentResource::try_new(source.to_owned()).is_ok(),
                "{name} has syntax errors"
            );
        }
    }

    #[test]
    fn dates_money_and_times_per_language() {
        assert_eq!(Lang::En.date(date!(2021 - 03 - 05)), "5 March 2021");
        assert_eq!(Lang::ZhHant.date(date!(2021 - 03 - 05)), "2021年3月5日");
        assert_eq!(Lang::En.date(date!(2024 - 02 - 29)), "29 February 2024");
        let at = datetime!(2021-03-05 15:59:59 UTC);
        assert_eq!(Lang::En.date_time(at, offset!(+8)), "5 March 2021, 23:59");
        assert_eq!(
            Lang::ZhHant.date_time(at, offset!(+8)),
            "2021年3月5日 23:59"
        );
        assert_eq!(money_text(0), "HK$0.00");
        assert_eq!(money_text(1250), "HK$12.50");
        assert_eq!(money_text(5), "HK$0.05");
        assert_eq!(money_text(-100), "-HK$1.00");
        assert_eq!(money_text(13_000), "HK$130.00");
    }

    #[test]
    fn messages_take_their_variables() {
        assert_eq!(
            Lang::En.ta("renewals-left", &[("count", 1u32.into())]),
            "1 renewal left"
        );
        assert_eq!(
            Lang::En.ta("renewals-left", &[("count", 3u32.into())]),
            "3 renewals left"
        );
        assert_eq!(
            Lang::ZhHant.ta("renewals-left", &[("count", 3u32.into())]),
            "尚可續借 3 次"
        );
        assert_eq!(Lang::En.t("no-such-key-anywhere"), "no-such-key-anywhere");
        assert!(Lang::En.t_opt("no-such-key-anywhere").is_none());
    }

    #[test]
    fn accept_language_picks_traditional_chinese_for_chinese() {
        assert_eq!(Lang::from_accept_language("zh-HK,zh;q=0.9"), Lang::ZhHant);
        assert_eq!(Lang::from_accept_language("en-GB,en;q=0.9"), Lang::En);
        assert_eq!(Lang::from_accept_language("fr-FR"), Lang::En);
        assert_eq!(Lang::from_accept_language(""), Lang::En);
    }
}
