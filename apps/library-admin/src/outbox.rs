//! `outbox-preview`: how many reminders the scheduled job would queue on a day, per kind,
//! for the loans open now, and how many messages already wait (the computation behind
//! `GET /api/v1/notices/outbox/preview` too). Changes nothing.

use time::Date;

use crate::context::{Context, Failure};

/// Prints the preview of `date` (default tomorrow), as text or JSON.
pub async fn preview(ctx: &Context, date: Option<Date>, json: bool) -> Result<(), Failure> {
    let date = match date {
        Some(date) => date,
        None => ctx
            .today()
            .next_day()
            .ok_or_else(|| Failure::Usage("no day after today".into()))?,
    };
    let preview = ctx
        .services()
        .outbox_preview(date)
        .await
        .map_err(Failure::failed)?;
    if json {
        let reminders: Vec<_> = preview
            .reminders
            .iter()
            .map(|(kind, count)| serde_json::json!({"kind": kind.kind(), "count": count}))
            .collect();
        println!(
            "{}",
            serde_json::json!({
                "date": date.to_string(),
                "reminders": reminders,
                "waiting": preview.waiting,
                "total": preview.total(),
            })
        );
    } else {
        println!("messages on {date} (for the loans open now):");
        for (kind, count) in &preview.reminders {
            println!("  {:<22} {count}", kind.kind());
        }
        println!("  {:<22} {}", "waiting in the outbox", preview.waiting);
        println!("  {:<22} {}", "total", preview.total());
        println!("(nothing was changed)");
    }
    Ok(())
}
