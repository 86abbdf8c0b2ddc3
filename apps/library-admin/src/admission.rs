//! `purge` (visitor registrations past their retention, or with `--dry-run` what would go)
//! and `grant-contact-tracing` / `revoke-contact-tracing` (docs/premises.md).

use library_app::admission::StaffPermission;
use library_core::StaffId;

use crate::context::{Context, Failure};

/// Deletes the visitor registrations past the retention (`LIBRARY_VISITOR_RETENTION_DAYS`)
/// now, or with `dry_run` prints what would be deleted: counts per library and local
/// date of the visits, never a name or a phone, and changes nothing.
pub async fn purge(ctx: &Context, dry_run: bool) -> Result<(), Failure> {
    let admission = ctx.services().admission;
    let now = ctx.now();
    let retention = admission.retention().get();
    if dry_run {
        let lines = admission
            .purge_preview(now)
            .await
            .map_err(Failure::failed)?;
        let total: u64 = lines.iter().map(|l| l.count).sum();
        println!("retention {retention} days; a purge now would delete {total} registrations");
        for line in lines {
            println!("{}\t{}\t{}", line.library, line.date, line.count);
        }
        println!("(dry run: nothing deleted)");
        return Ok(());
    }
    let purged = admission.purge(now).await.map_err(Failure::failed)?;
    println!("retention {retention} days; deleted {purged} registrations");
    Ok(())
}

/// Grants or revokes `contact_tracing` for `username`, audited.
pub async fn contact_tracing(ctx: &Context, username: &str, granted: bool) -> Result<(), Failure> {
    let action = if granted {
        "staff.permission_grant"
    } else {
        "staff.permission_revoke"
    };
    let audit = |staff: StaffId| {
        ctx.audit_record(
            action,
            format!("staff:{}", staff.get()),
            serde_json::json!({"permission": "contact_tracing"}),
        )
    };
    ctx.services()
        .admission
        .set_permission(username, StaffPermission::ContactTracing, granted, &audit)
        .await
        .map_err(|e| match e {
            library_app::AdmissionError::NotFound => {
                Failure::failed(format!("no staff user {username:?}"))
            }
            other => Failure::failed(other),
        })?;
    let done = if granted { "granted" } else { "revoked" };
    println!("contact_tracing {done} for {username}");
    Ok(())
}
