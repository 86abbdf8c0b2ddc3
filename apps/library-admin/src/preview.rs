//! `preview-fines`: the impact preview of a candidate fine-suspension period over the
//! open loans (`FineSuspensionStore::preview`, the computation behind
//! `POST /api/v1/fine-suspensions/preview` too). Changes nothing.

use library_core::{LibraryCode, LibraryKind};
use library_fines::{FineSuspensionPeriod, SuspensionScope};
use time::Date;

use crate::context::{Context, Failure};

/// The command's arguments.
#[derive(Debug)]
pub struct Request {
    pub starts_on: Date,
    pub resumes_on: Option<Date>,
    pub library_kinds: Vec<String>,
    pub library_codes: Vec<String>,
    pub as_of: Option<Date>,
    pub json: bool,
}

/// Runs the preview and prints the figures.
pub async fn preview(ctx: &Context, req: Request) -> Result<(), Failure> {
    let kinds = req
        .library_kinds
        .iter()
        .filter(|k| !k.trim().is_empty())
        .map(|k| {
            k.trim().parse::<LibraryKind>().map_err(|_| {
                Failure::Usage(format!(
                    "library kind {k:?}: one of central, major, district, small, mobile"
                ))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let codes = req
        .library_codes
        .iter()
        .filter(|c| !c.trim().is_empty())
        .map(|c| {
            LibraryCode::parse(c.trim())
                .map_err(|_| Failure::Usage(format!("library code {c:?}: not a library code")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let scope = SuspensionScope {
        library_codes: codes.into_iter().collect(),
        library_kinds: kinds.into_iter().collect(),
    };
    let candidate = FineSuspensionPeriod::new(req.starts_on, req.resumes_on, scope, "preview")
        .map_err(|e| Failure::Usage(e.to_string()))?;
    let as_of = req.as_of.unwrap_or_else(|| ctx.today());
    let got = ctx
        .services()
        .suspensions
        .preview(&candidate, as_of)
        .await
        .map_err(Failure::failed)?;
    if req.json {
        println!(
            "{}",
            serde_json::json!({
                "loans": got.loans,
                "patrons": got.patrons,
                "total_cents": got.total.cents(),
                "waived_cents": got.waived.cents(),
                "as_of": as_of.to_string(),
            })
        );
    } else {
        let resumes = req.resumes_on.map_or_else(
            || "until further notice".to_owned(),
            |d| format!("resuming on {d}"),
        );
        println!(
            "candidate: no fines from {} {resumes}; fines as of {as_of}",
            req.starts_on
        );
        println!("loans charged:   {}", got.loans);
        println!("readers charged: {}", got.patrons);
        println!(
            "total fines:     {} ({} cents)",
            got.total,
            got.total.cents()
        );
        println!(
            "waived:          {} ({} cents)",
            got.waived,
            got.waived.cents()
        );
        println!("(nothing was changed)");
    }
    Ok(())
}
