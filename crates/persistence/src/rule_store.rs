//! Circulation rules: one row per (scope, rule name), "" in a scope column meaning "any".
//! Staff put and remove named rules at a scope; the `RuleRepository` port lists every scope
//! with the rules set there (resolution is the domain's).

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use library_circulation::ports::{InfrastructureError, RuleRepository};
use library_circulation::{ItemType, ReaderCategory, RenewalBase, RuleScope, RuleSet, ScopedRules};
use library_core::Money;

use crate::audit_store::{NewAuditEntry, insert_audit_entry};
use crate::circulation::rows::code;
use crate::config_cache::ConfigCache;
use crate::error::StoreError;
use crate::pool::Pool;
use crate::sql::{all, corrupt, exec, get, infra, one, store_err};

/// The rule names (docs/http.md, Rules), in [`RuleSet`] field order.
pub const RULE_NAMES: [&str; 17] = [
    "loan_days",
    "renewals_allowed",
    "renewal_base",
    "renew_before_days",
    "quota",
    "holds_allowed",
    "pickup_days",
    "fine_per_day_cents",
    "grace_days",
    "max_fine_cents",
    "block_threshold_cents",
    "suspension_days_per_day",
    "max_suspension_days",
    "count_closed_days",
    "hold_fee_cents",
    "replacement_cost_cents",
    "floating",
];

/// The rules set in `rules`, as (name, stored text).
fn named_values(rules: &RuleSet) -> Vec<(&'static str, String)> {
    let n = |v: Option<u32>| v.map(|v| v.to_string());
    let m = |v: Option<Money>| v.map(|v| v.cents().to_string());
    let values = [
        n(rules.loan_days),
        n(rules.renewals_allowed),
        rules.renewal_base.map(|b| b.as_str().to_owned()),
        n(rules.renew_before_days),
        n(rules.quota),
        n(rules.holds_allowed),
        n(rules.pickup_days),
        m(rules.fine_per_day),
        n(rules.grace_days),
        m(rules.max_fine),
        m(rules.block_threshold),
        n(rules.suspension_days_per_day),
        n(rules.max_suspension_days),
        rules.count_closed_days.map(|b| b.to_string()),
        m(rules.hold_fee),
        m(rules.replacement_cost),
        rules.floating.map(|b| b.to_string()),
    ];
    RULE_NAMES
        .into_iter()
        .zip(values)
        .filter_map(|(name, v)| v.map(|v| (name, v)))
        .collect()
}

/// Sets rule `name` from its stored text in `rules`.
fn set_named(rules: &mut RuleSet, name: &str, value: &str) -> Result<(), String> {
    let n = || value.parse::<u32>().map_err(|e| format!("{name}: {e}"));
    let m = || {
        value
            .parse::<i64>()
            .map(Money::from_cents)
            .map_err(|e| format!("{name}: {e}"))
    };
    match name {
        "loan_days" => rules.loan_days = Some(n()?),
        "renewals_allowed" => rules.renewals_allowed = Some(n()?),
        "renewal_base" => {
            rules.renewal_base = Some(value.parse::<RenewalBase>().map_err(|e| e.to_string())?);
        }
        "renew_before_days" => rules.renew_before_days = Some(n()?),
        "quota" => rules.quota = Some(n()?),
        "holds_allowed" => rules.holds_allowed = Some(n()?),
        "pickup_days" => rules.pickup_days = Some(n()?),
        "fine_per_day_cents" => rules.fine_per_day = Some(m()?),
        "grace_days" => rules.grace_days = Some(n()?),
        "max_fine_cents" => rules.max_fine = Some(m()?),
        "block_threshold_cents" => rules.block_threshold = Some(m()?),
        "suspension_days_per_day" => rules.suspension_days_per_day = Some(n()?),
        "max_suspension_days" => rules.max_suspension_days = Some(n()?),
        "count_closed_days" => {
            rules.count_closed_days = Some(value.parse::<bool>().map_err(|e| e.to_string())?);
        }
        "hold_fee_cents" => rules.hold_fee = Some(m()?),
        "replacement_cost_cents" => rules.replacement_cost = Some(m()?),
        "floating" => {
            rules.floating = Some(value.parse::<bool>().map_err(|e| e.to_string())?);
        }
        other => return Err(format!("unknown rule {other:?}")),
    }
    Ok(())
}

fn scope_values(scope: &RuleScope) -> [String; 3] {
    [
        scope.library.as_ref().map(|c| c.as_str().to_owned()),
        scope.category.as_ref().map(|c| c.as_str().to_owned()),
        scope.item_type.as_ref().map(|c| c.as_str().to_owned()),
    ]
    .map(Option::unwrap_or_default)
}

/// Circulation rules in the database.
#[derive(Debug, Clone)]
pub struct RuleStore {
    conn: Pool,
    cache: Arc<ConfigCache>,
}

impl RuleStore {
    pub(crate) fn new(conn: Pool, cache: Arc<ConfigCache>) -> Self {
        Self { conn, cache }
    }

    /// Sets every rule that `rules` sets at `scope` (others at the scope are kept).
    pub async fn put_rules(&self, scope: &RuleScope, rules: &RuleSet) -> Result<(), StoreError> {
        self.change_rules(scope, rules, &[], None).await
    }

    /// One change of the rules at `scope` (`PUT /circulation/rules`): sets every rule that
    /// `set` sets and removes the rules named in `remove` (inherited from wider scopes
    /// again), in one transaction, so no reader of the rules sees half of it. An unknown
    /// name in `remove` is [`StoreError::Invalid`] and nothing changes. `audit`, when given,
    /// is written in the same transaction: the entry exists exactly when the change does.
    pub async fn change_rules(
        &self,
        scope: &RuleScope,
        set: &RuleSet,
        remove: &[&str],
        audit: Option<&NewAuditEntry>,
    ) -> Result<(), StoreError> {
        const C: &str = "change rules";
        if let Some(unknown) = remove.iter().find(|n| !RULE_NAMES.contains(n)) {
            return Err(StoreError::Invalid(format!("unknown rule {unknown:?}")));
        }
        let txn = self.conn.begin_write().await.map_err(store_err(C))?;
        Self::insert_rules(&txn, scope, set)
            .await
            .map_err(store_err(C))?;
        for name in remove {
            Self::delete_rule(&txn, scope, name)
                .await
                .map_err(store_err(C))?;
        }
        if let Some(entry) = audit {
            insert_audit_entry(&txn, entry)
                .await
                .map_err(store_err(C))?;
        }
        self.cache.commit_change(txn).await.map_err(store_err(C))?;
        Ok(())
    }

    /// Deletes rule `name` at `scope` inside `txn`; the rows deleted (0 or 1).
    async fn delete_rule(
        txn: &crate::pool::Txn,
        scope: &RuleScope,
        name: &str,
    ) -> Result<u64, sea_orm::DbErr> {
        let [library, category, item_type] = scope_values(scope);
        exec(
            txn,
            "DELETE FROM circulation_rules WHERE library = ? AND category = ? \
             AND item_type = ? AND name = ?",
            vec![
                library.into(),
                category.into(),
                item_type.into(),
                name.into(),
            ],
        )
        .await
    }

    /// Sets every rule `rules` sets at `scope`, inside `txn`.
    async fn insert_rules(
        txn: &crate::pool::Txn,
        scope: &RuleScope,
        rules: &RuleSet,
    ) -> Result<(), sea_orm::DbErr> {
        let [library, category, item_type] = scope_values(scope);
        for (name, value) in named_values(rules) {
            exec(
                txn,
                "INSERT INTO circulation_rules (library, category, item_type, name, value) \
                 VALUES (?, ?, ?, ?, ?) ON CONFLICT (library, category, item_type, name) \
                 DO UPDATE SET value = excluded.value",
                vec![
                    library.as_str().into(),
                    category.as_str().into(),
                    item_type.as_str().into(),
                    name.into(),
                    value.into(),
                ],
            )
            .await?;
        }
        Ok(())
    }

    /// Removes rule `name` at `scope` (it is inherited from wider scopes again); `false` if
    /// it was not set there. An unknown name is [`StoreError::Invalid`].
    pub async fn remove_rule(&self, scope: &RuleScope, name: &str) -> Result<bool, StoreError> {
        if !RULE_NAMES.contains(&name) {
            return Err(StoreError::Invalid(format!("unknown rule {name:?}")));
        }
        const C: &str = "remove rule";
        let txn = self.conn.begin_write().await.map_err(store_err(C))?;
        let n = Self::delete_rule(&txn, scope, name)
            .await
            .map_err(store_err(C))?;
        self.cache.commit_change(txn).await.map_err(store_err(C))?;
        Ok(n == 1)
    }

    /// Takes the rules' table for this transaction, against every other writer of rules:
    /// on PostgreSQL a table lock (plain reads go on; writers wait for the commit), so what
    /// the transaction reads next is everything committed before it, and nothing is
    /// committed after that read until it ends. On SQLite the write transaction already
    /// holds the database's write lock from its `BEGIN`.
    async fn lock_rules(txn: &crate::pool::Txn) -> Result<(), sea_orm::DbErr> {
        use sea_orm::ConnectionTrait;
        if txn.get_database_backend() == sea_orm::DbBackend::Postgres {
            txn.execute_unprepared("LOCK TABLE circulation_rules IN EXCLUSIVE MODE")
                .await?;
        }
        Ok(())
    }

    /// Replaces every stored rule with `scoped`, in one transaction (`library-admin policy
    /// apply`). Two replacements at the same moment run one after the other, and the
    /// rules stored afterwards are exactly one of the two sets, never a mixture.
    pub async fn replace_all(&self, scoped: &[ScopedRules]) -> Result<(), StoreError> {
        self.replace_all_audited(scoped, None).await
    }

    /// [`Self::replace_all`], with `audit` (when given) written in the same transaction.
    pub async fn replace_all_audited(
        &self,
        scoped: &[ScopedRules],
        audit: Option<&NewAuditEntry>,
    ) -> Result<(), StoreError> {
        const C: &str = "replace rules";
        let txn = self.conn.begin_write().await.map_err(store_err(C))?;
        Self::lock_rules(&txn).await.map_err(store_err(C))?;
        exec(&txn, "DELETE FROM circulation_rules", vec![])
            .await
            .map_err(store_err(C))?;
        for s in scoped {
            Self::insert_rules(&txn, &s.scope, &s.rules)
                .await
                .map_err(store_err(C))?;
        }
        if let Some(entry) = audit {
            insert_audit_entry(&txn, entry)
                .await
                .map_err(store_err(C))?;
        }
        self.cache.commit_change(txn).await.map_err(store_err(C))?;
        Ok(())
    }

    /// Stores `scoped` if and only if no rule is stored, in one transaction; `true` if it
    /// stored them (a server's first start). The emptiness is read under the rules' lock,
    /// so of several processes starting together on an empty database exactly one stores
    /// them, and rules stored or changed before are never overwritten. A `scoped` that sets
    /// no rule stores nothing and answers `false`.
    pub async fn store_if_empty(&self, scoped: &[ScopedRules]) -> Result<bool, StoreError> {
        const C: &str = "store the initial rules";
        if scoped.iter().all(|s| named_values(&s.rules).is_empty()) {
            return Ok(false);
        }
        let txn = self.conn.begin_write().await.map_err(store_err(C))?;
        Self::lock_rules(&txn).await.map_err(store_err(C))?;
        let stored = one(
            &txn,
            "SELECT 1 AS one FROM circulation_rules LIMIT 1",
            vec![],
        )
        .await
        .map_err(store_err(C))?;
        if stored.is_some() {
            txn.commit().await.map_err(store_err(C))?;
            return Ok(false);
        }
        for s in scoped {
            Self::insert_rules(&txn, &s.scope, &s.rules)
                .await
                .map_err(store_err(C))?;
        }
        self.cache.commit_change(txn).await.map_err(store_err(C))?;
        Ok(true)
    }

    /// Every scope with its rules (the port, as a plain method).
    pub async fn list(&self) -> Result<Vec<ScopedRules>, StoreError> {
        Ok(self.scoped_rules().await?)
    }

    /// Every scope with its rules as committed in the database now, bypassing this
    /// process's cache (what another process has just written).
    pub async fn list_uncached(&self) -> Result<Vec<ScopedRules>, StoreError> {
        Ok(self.read_rules().await?)
    }
}

#[async_trait]
impl RuleRepository for RuleStore {
    async fn scoped_rules(&self) -> Result<Vec<ScopedRules>, InfrastructureError> {
        let rules = self.cache.rules(|| self.read_rules()).await?;
        Ok(rules.as_ref().clone())
    }
}

impl RuleStore {
    /// Every scope with its rules, from the database.
    async fn read_rules(&self) -> Result<Vec<ScopedRules>, InfrastructureError> {
        const C: &str = "read circulation rules";
        let rows = all(
            &self.conn,
            "SELECT library, category, item_type, name, value FROM circulation_rules \
             ORDER BY library, category, item_type, name",
            vec![],
        )
        .await
        .map_err(infra(C))?;
        let mut scopes: BTreeMap<[String; 3], RuleSet> = BTreeMap::new();
        for row in &rows {
            let key = [
                get::<String>(row, "library").map_err(infra(C))?,
                get::<String>(row, "category").map_err(infra(C))?,
                get::<String>(row, "item_type").map_err(infra(C))?,
            ];
            let name: String = get(row, "name").map_err(infra(C))?;
            let value: String = get(row, "value").map_err(infra(C))?;
            set_named(scopes.entry(key).or_default(), &name, &value).map_err(|e| corrupt(C, e))?;
        }
        scopes
            .into_iter()
            .map(|([library, category, item_type], rules)| {
                let opt = |s: String| (!s.is_empty()).then_some(s);
                Ok(ScopedRules {
                    scope: RuleScope {
                        library: opt(library).map(|c| code(C, &c)).transpose()?,
                        category: opt(category)
                            .map(|c| ReaderCategory::parse(&c).map_err(|e| corrupt(C, e)))
                            .transpose()?,
                        item_type: opt(item_type)
                            .map(|c| ItemType::parse(&c).map_err(|e| corrupt(C, e)))
                            .transpose()?,
                    },
                    rules,
                })
            })
            .collect()
    }
}
