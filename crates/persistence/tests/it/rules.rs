//! The rule store's whole-set writes: the initial rules of a first start are stored once
//! however many processes start together, never over rules already stored; a replacement
//! is one transaction, and two at once leave exactly one of the two sets; a change at one
//! scope (rules set and rules removed) is seen whole or not at all.

use library_circulation::{ItemType, RuleScope, RuleSet, ScopedRules, hkpl_profile};
use library_core::LibraryCode;
use library_persistence::Database;

use crate::support::backends;

fn sorted(mut rules: Vec<ScopedRules>) -> Vec<ScopedRules> {
    let key = |s: &ScopedRules| {
        let text = |v: Option<&str>| v.unwrap_or_default().to_owned();
        (
            text(s.scope.library.as_ref().map(LibraryCode::as_str)),
            text(s.scope.category.as_ref().map(|c| c.as_str())),
            text(s.scope.item_type.as_ref().map(ItemType::as_str)),
        )
    };
    rules.sort_by_key(key);
    rules
}

async fn stored(db: &Database) -> Vec<ScopedRules> {
    sorted(db.rules().list().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_initial_rules_are_stored_once_and_never_over_stored_rules() {
    for t in backends().await {
        // Four processes start together on the empty database.
        let mut processes = Vec::new();
        for _ in 0..4 {
            processes.push(t.connect().await);
        }
        let profile = hkpl_profile();
        let tries = processes.iter().map(|db| {
            let (db, profile) = (db.clone(), profile.clone());
            tokio::spawn(async move { db.rules().store_if_empty(&profile).await })
        });
        let mut stored_by = 0;
        for attempt in tries.collect::<Vec<_>>() {
            if attempt.await.unwrap().unwrap() {
                stored_by += 1;
            }
        }
        assert_eq!(stored_by, 1, "{}: stored by exactly one process", t.name);
        assert_eq!(
            stored(&processes[0]).await,
            sorted(profile.clone()),
            "{}",
            t.name
        );

        // Staff change a rule; storing the initial rules again changes nothing.
        let first = &processes[0];
        first
            .rules()
            .put_rules(
                &RuleScope::any(),
                &RuleSet {
                    quota: Some(3),
                    ..RuleSet::default()
                },
            )
            .await
            .unwrap();
        let changed = stored(first).await;
        assert!(!first.rules().store_if_empty(&profile).await.unwrap());
        assert_eq!(stored(first).await, changed, "{}", t.name);

        // Staff remove every rule: an empty database again, but only a server's first
        // start stores (docs/policy.md); the store itself stores on an empty table.
        first.rules().replace_all(&[]).await.unwrap();
        assert!(
            !first.rules().store_if_empty(&[]).await.unwrap(),
            "nothing to store"
        );
        assert!(stored(first).await.is_empty());
        for db in processes {
            db.close().await.unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replacements_at_once_leave_one_of_the_two_sets() {
    for t in backends().await {
        let one = t.connect().await;
        let two = t.connect().await;
        let a = vec![
            ScopedRules {
                scope: RuleScope::any(),
                rules: RuleSet {
                    loan_days: Some(7),
                    quota: Some(2),
                    ..RuleSet::default()
                },
            },
            ScopedRules {
                scope: RuleScope {
                    item_type: Some(ItemType::parse("adult_av").unwrap()),
                    ..RuleScope::any()
                },
                rules: RuleSet {
                    loan_days: Some(3),
                    ..RuleSet::default()
                },
            },
        ];
        let b = hkpl_profile();
        for round in 0..10 {
            let (x, y) = (one.clone(), two.clone());
            let (a2, b2) = (a.clone(), b.clone());
            let first = tokio::spawn(async move { x.rules().replace_all(&a2).await });
            let second = tokio::spawn(async move { y.rules().replace_all(&b2).await });
            first.await.unwrap().unwrap();
            second.await.unwrap().unwrap();
            let now = stored(&one).await;
            assert!(
                now == sorted(a.clone()) || now == sorted(b.clone()),
                "{} round {round}: a mixture {now:#?}",
                t.name
            );
        }
        one.close().await.unwrap();
        two.close().await.unwrap();
    }
}

/// `PUT /circulation/rules` sets some rules and removes others at one scope. Two such
/// changes alternate while another process reads the rules: it sees one of the two states,
/// never the rules set by one and those removed by the other (before, the setting and each
/// removal were transactions of their own).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_of_the_rules_at_a_scope_is_seen_whole() {
    for t in backends().await {
        let writer = t.connect().await;
        let reader = t.connect().await;
        let scope = RuleScope::any();
        let short = RuleSet {
            loan_days: Some(7),
            ..RuleSet::default()
        };
        let long = RuleSet {
            loan_days: Some(21),
            quota: Some(5),
            ..RuleSet::default()
        };
        writer.rules().put_rules(&scope, &long).await.unwrap();
        let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let watcher = {
            let (done, reader) = (done.clone(), reader.clone());
            tokio::spawn(async move {
                let mut seen = Vec::new();
                while !done.load(std::sync::atomic::Ordering::Relaxed) {
                    let rules = reader.rules().list_uncached().await.unwrap();
                    let global = rules
                        .iter()
                        .find(|s| s.scope == RuleScope::any())
                        .map(|s| (s.rules.loan_days, s.rules.quota));
                    seen.push(global);
                }
                seen
            })
        };
        for _ in 0..40 {
            writer
                .rules()
                .change_rules(&scope, &short, &["quota"], None)
                .await
                .unwrap();
            writer
                .rules()
                .change_rules(&scope, &long, &[], None)
                .await
                .unwrap();
        }
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        let seen = watcher.await.unwrap();
        assert!(!seen.is_empty());
        for state in &seen {
            assert!(
                matches!(state, Some((Some(7), None)) | Some((Some(21), Some(5)))),
                "{}: half a change seen: {state:?}",
                t.name
            );
        }
        // An unknown name changes nothing.
        assert!(
            writer
                .rules()
                .change_rules(&scope, &short, &["no_such_rule"], None)
                .await
                .is_err()
        );
        assert_eq!(
            stored(&writer).await[0].rules.loan_days,
            Some(21),
            "{}",
            t.name
        );
    }
}
