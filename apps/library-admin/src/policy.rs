//! `policy show | apply`: the circulation rules as the `[policy]` section of the
//! configuration file (`library_setup::policy_toml`, `parse_policy_document`).
//!
//! `show` prints every stored scope with its rules; `apply FILE` replaces every stored rule
//! with the file's policy in one transaction with its audit entry (`RuleAdmin::replace_all`
//! of the application layer), so `show`'s output
//! applied again changes nothing. Running servers pick the change up without a restart:
//! on PostgreSQL when the change's notification reaches them (milliseconds), on SQLite at
//! their next read of the configuration's version (within about a second;
//! docs/persistence.md, "Configuration cache").

use std::path::Path;

use library_setup::{parse_policy_document, policy_toml};

use crate::context::{Context, Failure};

/// Prints the stored rules as a `[policy]` section.
pub async fn show(ctx: &Context) -> Result<(), Failure> {
    let scoped = ctx
        .services()
        .rules
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
    let rules = ctx.services().rules;
    let before = rules
        .list()
        .await
        .map_err(|e| Failure::failed(format!("cannot read the circulation rules: {e}")))?;
    let audit = ctx.audit_record(
        "rules.replace",
        "rules".to_owned(),
        serde_json::json!({
            "file": file.display().to_string(),
            "scopes_before": before.len(),
            "scopes": scoped.len(),
        }),
    );
    rules
        .replace_all(&scoped, audit)
        .await
        .map_err(|e| Failure::failed(format!("cannot replace the circulation rules: {e}")))?;
    println!(
        "replaced the circulation rules with {}: {} scope(s) (were {})",
        policy.describe(),
        scoped.len(),
        before.len()
    );
    Ok(())
}
