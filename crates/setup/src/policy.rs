//! The circulation policy a server stores on its first start, and its TOML form: the
//! `[policy]` section of the configuration file (`LIBRARY_CONFIG`), which
//! `library-admin policy show` prints and `library-admin policy apply` reads.
//!
//! The section mirrors `PUT /api/v1/circulation/rules` (docs/http.md, Rules): a list of
//! scopes, each with an optional `scope` (`library_code`, `category`, `item_type`; absent
//! = any) and its `rules` by their HTTP names. Or it names a built-in profile:
//!
//! ```toml
//! [policy]
//! profile = "hkpl"      # the default; "none" = no rules at all
//! ```
//!
//! ```toml
//! [[policy.scopes]]
//! scope = {}
//! [policy.scopes.rules]
//! loan_days = 14
//! quota = 10
//! fine_per_day_cents = 150
//!
//! [[policy.scopes]]
//! scope = { item_type = "children_book" }
//! [policy.scopes.rules]
//! fine_per_day_cents = 50
//! ```
//!
//! Parsing checks everything the HTTP route checks (codes, whole numbers, no negative
//! amounts, `renewal_base`), and refuses unknown keys, a scope that sets no rule and a
//! scope given twice, naming the problem and the scope. No rule is decided here: the
//! values are the domain's [`ScopedRules`].

use std::collections::HashMap;
use std::fmt::Write as _;

use library_circulation::{
    ItemType, ReaderCategory, RenewalBase, RuleScope, RuleSet, ScopedRules, hkpl_profile,
};
use library_core::{LibraryCode, Money};
use serde::Deserialize;

/// The rules a server stores on its first start (docs/policy.md, "Where the profile is
/// stored").
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Policy {
    /// The "hkpl" profile (`hkpl_profile()`): the default.
    #[default]
    Hkpl,
    /// No rules (`profile = "none"`, `LIBRARY_POLICY=none`): nothing is stored, and every
    /// checkout is refused `no_policy` until staff set rules.
    Empty,
    /// The scopes of a `[policy]` section (never empty: an empty list is [`Policy::Empty`]).
    Scopes(Vec<ScopedRules>),
}

impl Policy {
    /// The built-in profile called `name`: `hkpl` or `none`.
    pub fn named(name: &str) -> Result<Policy, PolicyError> {
        match name.trim() {
            "hkpl" => Ok(Policy::Hkpl),
            "none" => Ok(Policy::Empty),
            other => Err(PolicyError(format!(
                "unknown profile {other:?}; the profiles are \"hkpl\" (the default) and \"none\""
            ))),
        }
    }

    /// The scopes with their rules.
    pub fn scoped_rules(&self) -> Vec<ScopedRules> {
        match self {
            Policy::Hkpl => hkpl_profile(),
            Policy::Empty => Vec::new(),
            Policy::Scopes(scopes) => scopes.clone(),
        }
    }

    /// For logs: `the "hkpl" profile`, `no rules`, `3 scopes from the configuration file`.
    pub fn describe(&self) -> String {
        match self {
            Policy::Hkpl => "the \"hkpl\" profile".to_owned(),
            Policy::Empty => "no rules (profile \"none\")".to_owned(),
            Policy::Scopes(s) => format!("{} scope(s) of the [policy] section", s.len()),
        }
    }
}

/// What is wrong with a policy, in words that name the key and the scope.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PolicyError(pub String);

/// The `[policy]` section as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PolicySection {
    profile: Option<String>,
    scopes: Option<Vec<ScopeSection>>,
}

/// One `[[policy.scopes]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScopeSection {
    #[serde(default)]
    scope: ScopeKeys,
    rules: RulesSection,
}

/// `scope = { library_code, category, item_type }`, each absent = any.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScopeKeys {
    library_code: Option<String>,
    category: Option<String>,
    item_type: Option<String>,
}

/// `[policy.scopes.rules]`: the rules of `PUT /circulation/rules`, by the same names.
/// Counts are whole numbers from 0 to 4294967295; amounts whole cents, not negative.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesSection {
    loan_days: Option<u32>,
    renewals_allowed: Option<u32>,
    renewal_base: Option<String>,
    renew_before_days: Option<u32>,
    quota: Option<u32>,
    holds_allowed: Option<u32>,
    pickup_days: Option<u32>,
    fine_per_day_cents: Option<u64>,
    grace_days: Option<u32>,
    max_fine_cents: Option<u64>,
    block_threshold_cents: Option<u64>,
    suspension_days_per_day: Option<u32>,
    max_suspension_days: Option<u32>,
    count_closed_days: Option<bool>,
    hold_fee_cents: Option<u64>,
    replacement_cost_cents: Option<u64>,
    floating: Option<bool>,
}

impl PolicySection {
    /// The policy this section describes, checked.
    pub(crate) fn into_policy(self) -> Result<Policy, PolicyError> {
        match (self.profile, self.scopes) {
            (Some(_), Some(_)) => Err(PolicyError(
                "[policy] has both `profile` and `scopes`: give one of them".to_owned(),
            )),
            (None, None) => Err(PolicyError(
                "[policy] is empty: give `profile = \"hkpl\"`, `profile = \"none\"` or a list \
                 of [[policy.scopes]]"
                    .to_owned(),
            )),
            (Some(name), None) => {
                Policy::named(&name).map_err(|e| PolicyError(format!("policy.profile: {e}")))
            }
            (None, Some(scopes)) => {
                let mut seen: HashMap<RuleScope, usize> = HashMap::new();
                let mut out = Vec::with_capacity(scopes.len());
                for (n, section) in scopes.into_iter().enumerate() {
                    let number = n + 1;
                    let at =
                        |what: String| PolicyError(format!("[[policy.scopes]] #{number}: {what}"));
                    let scoped = section.into_scoped().map_err(at)?;
                    if let Some(first) = seen.insert(scoped.scope.clone(), number) {
                        return Err(at(format!(
                            "the scope {} is given twice (also #{first})",
                            scope_inline(&scoped.scope)
                        )));
                    }
                    out.push(scoped);
                }
                Ok(if out.is_empty() {
                    Policy::Empty
                } else {
                    Policy::Scopes(out)
                })
            }
        }
    }
}

impl ScopeSection {
    fn into_scoped(self) -> Result<ScopedRules, String> {
        let ScopeKeys {
            library_code,
            category,
            item_type,
        } = self.scope;
        let scope = RuleScope {
            library: library_code
                .map(|c| {
                    LibraryCode::parse(&c).map_err(|_| {
                        format!(
                            "scope.library_code {c:?} is not a library code \
                             (1 to 32 of A-Z, a-z, 0-9 or '_')"
                        )
                    })
                })
                .transpose()?,
            category: category
                .map(|c| {
                    ReaderCategory::parse(&c).map_err(|e| format!("scope.category {c:?}: {e}"))
                })
                .transpose()?,
            item_type: item_type
                .map(|c| ItemType::parse(&c).map_err(|e| format!("scope.item_type {c:?}: {e}")))
                .transpose()?,
        };
        let rules = self.rules.into_rule_set()?;
        if rules == RuleSet::default() {
            return Err("sets no rule: give at least one under [policy.scopes.rules]".to_owned());
        }
        Ok(ScopedRules { scope, rules })
    }
}

impl RulesSection {
    fn into_rule_set(self) -> Result<RuleSet, String> {
        let cents = |v: Option<u64>, name: &str| {
            v.map(|c| {
                i64::try_from(c)
                    .map(Money::from_cents)
                    .map_err(|_| format!("rules.{name}: {c} is too large"))
            })
            .transpose()
        };
        Ok(RuleSet {
            loan_days: self.loan_days,
            renewals_allowed: self.renewals_allowed,
            renewal_base: self
                .renewal_base
                .map(|b| {
                    b.parse::<RenewalBase>()
                        .map_err(|e| format!("rules.renewal_base {b:?}: {e}"))
                })
                .transpose()?,
            renew_before_days: self.renew_before_days,
            quota: self.quota,
            holds_allowed: self.holds_allowed,
            pickup_days: self.pickup_days,
            fine_per_day: cents(self.fine_per_day_cents, "fine_per_day_cents")?,
            grace_days: self.grace_days,
            max_fine: cents(self.max_fine_cents, "max_fine_cents")?,
            block_threshold: cents(self.block_threshold_cents, "block_threshold_cents")?,
            suspension_days_per_day: self.suspension_days_per_day,
            max_suspension_days: self.max_suspension_days,
            count_closed_days: self.count_closed_days,
            hold_fee: cents(self.hold_fee_cents, "hold_fee_cents")?,
            replacement_cost: cents(self.replacement_cost_cents, "replacement_cost_cents")?,
            floating: self.floating,
        })
    }
}

/// A policy document: a TOML text whose only key is `policy` (what `policy show` prints),
/// or a whole configuration file with a `[policy]` section. Used by `library-admin
/// policy apply`; the server reads its section through the configuration
/// ([`crate::Config::from_env`]).
pub fn parse_policy_document(text: &str) -> Result<Policy, PolicyError> {
    let file: crate::config::FileConfig =
        toml::from_str(text).map_err(|e| PolicyError(e.to_string()))?;
    file.policy
        .ok_or_else(|| PolicyError("the file has no [policy] section".to_owned()))?
        .into_policy()
}

/// `{ library_code = "HKCL", item_type = "adult_av" }`; `{}` for the global scope.
fn scope_inline(scope: &RuleScope) -> String {
    let keys: Vec<String> = [
        (
            "library_code",
            scope.library.as_ref().map(LibraryCode::as_str),
        ),
        (
            "category",
            scope.category.as_ref().map(ReaderCategory::as_str),
        ),
        ("item_type", scope.item_type.as_ref().map(ItemType::as_str)),
    ]
    .into_iter()
    .filter_map(|(key, value)| value.map(|v| format!("{key} = {}", quoted(v))))
    .collect();
    if keys.is_empty() {
        "{}".to_owned()
    } else {
        format!("{{ {} }}", keys.join(", "))
    }
}

/// A TOML basic string. Codes are `[A-Za-z0-9_]`, so nothing needs escaping; the escape is
/// there for any other text.
fn quoted(text: &str) -> String {
    toml::Value::String(text.to_owned()).to_string()
}

/// The rules of `set` by their names, in the order of `PUT /circulation/rules`.
fn rule_lines(set: &RuleSet) -> Vec<(&'static str, String)> {
    let n = |v: Option<u32>| v.map(|v| v.to_string());
    let m = |v: Option<Money>| v.map(|v| v.cents().to_string());
    [
        ("loan_days", n(set.loan_days)),
        ("renewals_allowed", n(set.renewals_allowed)),
        ("renewal_base", set.renewal_base.map(|b| quoted(b.as_str()))),
        ("renew_before_days", n(set.renew_before_days)),
        ("quota", n(set.quota)),
        ("holds_allowed", n(set.holds_allowed)),
        ("pickup_days", n(set.pickup_days)),
        ("fine_per_day_cents", m(set.fine_per_day)),
        ("grace_days", n(set.grace_days)),
        ("max_fine_cents", m(set.max_fine)),
        ("block_threshold_cents", m(set.block_threshold)),
        ("suspension_days_per_day", n(set.suspension_days_per_day)),
        ("max_suspension_days", n(set.max_suspension_days)),
        (
            "count_closed_days",
            set.count_closed_days.map(|b| b.to_string()),
        ),
        ("hold_fee_cents", m(set.hold_fee)),
        ("replacement_cost_cents", m(set.replacement_cost)),
        ("floating", set.floating.map(|b| b.to_string())),
    ]
    .into_iter()
    .filter_map(|(name, value)| value.map(|v| (name, v)))
    .collect()
}

/// `scoped` as a `[policy]` section that [`parse_policy_document`] reads back to the same
/// scopes (`library-admin policy show`). No rules: `profile = "none"`.
pub fn policy_toml(scoped: &[ScopedRules]) -> String {
    let mut out = String::new();
    if scoped.is_empty() {
        out.push_str("[policy]\n# No circulation rules: every checkout is refused `no_policy`.\n");
        out.push_str("profile = \"none\"\n");
        return out;
    }
    for (n, s) in scoped.iter().enumerate() {
        if n > 0 {
            out.push('\n');
        }
        let _ = writeln!(out, "[[policy.scopes]]");
        let _ = writeln!(out, "scope = {}", scope_inline(&s.scope));
        let _ = writeln!(out, "[policy.scopes.rules]");
        for (name, value) in rule_lines(&s.rules) {
            let _ = writeln!(out, "{name} = {value}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Policy, PolicyError> {
        parse_policy_document(text)
    }

    fn error(text: &str) -> String {
        parse(text).expect_err("refused").0
    }

    #[test]
    fn the_profiles_by_name() {
        assert_eq!(parse("[policy]\nprofile = \"hkpl\"\n"), Ok(Policy::Hkpl));
        assert_eq!(parse("[policy]\nprofile = \"none\"\n"), Ok(Policy::Empty));
        assert_eq!(parse("[policy]\nscopes = []\n"), Ok(Policy::Empty));
        assert!(error("[policy]\nprofile = \"koha\"\n").contains("unknown profile \"koha\""));
        assert_eq!(Policy::default().scoped_rules(), hkpl_profile());
    }

    #[test]
    fn the_hkpl_profile_round_trips() {
        let profile = hkpl_profile();
        let text = policy_toml(&profile);
        assert_eq!(parse(&text), Ok(Policy::Scopes(profile)), "{text}");
        assert!(text.starts_with("[[policy.scopes]]\nscope = {}\n[policy.scopes.rules]\n"));
        assert!(text.contains("scope = { item_type = \"children_book\" }\n"));
        assert!(text.contains("renewal_base = \"renewal_date\"\n"));
        assert_eq!(parse(&policy_toml(&[])), Ok(Policy::Empty));
    }

    #[test]
    fn every_rule_and_scope_key_round_trips() {
        let scoped = vec![ScopedRules {
            scope: RuleScope {
                library: Some(LibraryCode::parse("KLNPL").unwrap()),
                category: Some(ReaderCategory::parse("child").unwrap()),
                item_type: Some(ItemType::parse("adult_av").unwrap()),
            },
            rules: RuleSet {
                loan_days: Some(7),
                renewals_allowed: Some(1),
                renewal_base: Some(RenewalBase::DueDate),
                renew_before_days: Some(3),
                quota: Some(2),
                holds_allowed: Some(0),
                pickup_days: Some(5),
                fine_per_day: Some(Money::from_cents(200)),
                grace_days: Some(1),
                max_fine: Some(Money::from_cents(13_000)),
                block_threshold: Some(Money::ZERO),
                suspension_days_per_day: Some(2),
                max_suspension_days: Some(30),
                count_closed_days: Some(false),
                hold_fee: Some(Money::from_cents(330)),
                replacement_cost: None,
                floating: Some(true),
            },
        }];
        let text = policy_toml(&scoped);
        assert_eq!(parse(&text), Ok(Policy::Scopes(scoped)), "{text}");
    }

    #[test]
    fn a_scope_may_leave_out_its_keys() {
        let text = "[[policy.scopes]]\n[policy.scopes.rules]\nquota = 3\n";
        let Ok(Policy::Scopes(scopes)) = parse(text) else {
            panic!("parsed")
        };
        assert_eq!(scopes[0].scope, RuleScope::any());
        assert_eq!(scopes[0].rules.quota, Some(3));
    }

    #[test]
    fn mistakes_are_named() {
        let scope = |body: &str| format!("[[policy.scopes]]\n{body}");
        let cases = [
            (
                scope("[policy.scopes.rules]\nquta = 10\n"),
                "unknown field `quta`",
            ),
            (scope("[policy.scopes.rules]\nquota = -1\n"), "quota"),
            (scope("[policy.scopes.rules]\nquota = \"10\"\n"), "quota"),
            (
                scope("[policy.scopes.rules]\nloan_days = 1.5\n"),
                "loan_days",
            ),
            (
                scope("[policy.scopes.rules]\nfine_per_day_cents = -150\n"),
                "fine_per_day_cents",
            ),
            (
                scope("[policy.scopes.rules]\nrenewal_base = \"now\"\n"),
                "#1: rules.renewal_base \"now\": renewal_base is renewal_date or due_date",
            ),
            (
                scope("[policy.scopes.rules]\ncount_closed_days = 1\n"),
                "count_closed_days",
            ),
            (
                scope("scope = { item_type = \"Adult Book\" }\n[policy.scopes.rules]\nquota = 1\n"),
                "#1: scope.item_type \"Adult Book\": an item type is 1 to 32 of a-z",
            ),
            (
                scope("scope = { category = \"\" }\n[policy.scopes.rules]\nquota = 1\n"),
                "#1: scope.category \"\"",
            ),
            (
                scope("scope = { library_code = \"K L N\" }\n[policy.scopes.rules]\nquota = 1\n"),
                "#1: scope.library_code \"K L N\" is not a library code",
            ),
            (
                scope("scope = { library = \"KLN\" }\n[policy.scopes.rules]\nquota = 1\n"),
                "unknown field `library`",
            ),
            (scope("[policy.scopes.rules]\n"), "#1: sets no rule"),
            (scope("scope = {}\n"), "missing field `rules`"),
            (
                format!(
                    "{}\n{}",
                    scope("[policy.scopes.rules]\nquota = 1\n"),
                    scope("scope = {}\n[policy.scopes.rules]\nloan_days = 1\n")
                ),
                "#2: the scope {} is given twice (also #1)",
            ),
            (
                "[policy]\nprofile = \"hkpl\"\nscopes = []\n".to_owned(),
                "both `profile` and `scopes`",
            ),
            ("[policy]\n".to_owned(), "[policy] is empty"),
            ("[policy]\nrules = 1\n".to_owned(), "unknown field `rules`"),
            ("database_url = \"x\"\n".to_owned(), "no [policy] section"),
        ];
        for (text, expected) in cases {
            let message = error(&text);
            assert!(
                message.contains(expected),
                "{text}\n→ {message}\n(expected {expected:?})"
            );
        }
    }
}
