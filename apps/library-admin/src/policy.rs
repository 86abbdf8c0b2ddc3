//! `policy show | apply`: the circulation rules as the `[policy]` section of the
//! configuration file (`library_setup::policy_toml`, `parse_policy_document`).
//!
//! `show` prints every stored scope with its rules; `apply FILE` replaces every stored rule
//! with the file's policy in one transaction (`RuleStore::replace_all`), so `show`'s output
//! applied again changes nothing. Running servers pick the change up without a restart:
//! on PostgreSQL when the change's notification reaches them (milliseconds), on SQLite at
//! their next read of the configuration's version (within about a second;
//! docs/persistence.md, "Configuration cache").

use std::path::Path;

use library_persistence::NewAuditEntry;
use library_setup::{parse_policy_document, policy_toml};

use crate::context::{Context, Failure};

/// Prints the stored rules as a `[policy]` section.
pub async fn show(ctx: &Context) -> Result<(), Failure> {
    let scoped = ctx
        .db()
        .rules()
        .list()
        .await
        .map_err(|e| Failure::failed(format!("cannot read the circulation rules: {e}")))?;
    print!("{}", policy_toml(&scoped));
    Ok(())
}

/// Replaces every stored rule with the policy of `file`.
pub async fn apply(ctx: &Context, file: &Path) -> Result<(), Failure> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| Failure::failed(format!("cannot read {}: {e}", file.display())))?;
    let policy = parse_policy_document(&text)
        .map_err(|e| Failure::failed(format!("invalid policy in {}: {e}", file.display())))?;
    let scoped = policy.scoped_rules();
    let rules = ctx.db().rules();
    let before = rules
        .list()
        .await
        .map_err(|e| Failure::failed(format!("cannot read the circulation rules: {e}")))?;
    rules
        .replace_all(&scoped)
        .await
        .map_err(|e| Failure::failed(format!("cannot replace the circulation rules: {e}")))?;
    let entry = NewAuditEntry {
        staff: None,
        action: "rules.replace".to_owned(),
        subject: "rules".to_owned(),
        details: serde_json::json!({
            "channel": "library-admin",
            "file": file.display().to_string(),
            "scopes_before": before.len(),
            "scopes": scoped.len(),
        })
        .to_string(),
        at: ctx.now(),
    };
    if let Err(err) = ctx.db().audit_log().append(&entry).await {
        tracing::warn!(%err, "cannot write the audit log");
    }
    println!(
        "replaced the circulation rules with {}: {} scope(s) (were {})",
        policy.describe(),
        scoped.len(),
        before.len()
    );
    Ok(())
}
