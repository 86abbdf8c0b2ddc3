//! The impact preview of a candidate fine-suspension period (`POST
//! /fine-suspensions/preview`): open loans are read page by page, grouped by reader (a
//! reader's loans are never split across pages), each page goes through
//! [`library_fines::preview_impact`] with the rules resolved by library-circulation, and
//! the pages' figures are added up. Memory: one page, the libraries and the distinct
//! fine policies. Reads only.

use std::collections::HashMap;

use library_circulation::{EffectiveRules, ItemType, Library, ReaderCategory, ScopedRules};
use library_core::LibraryCode;
use library_fines::{FinePolicy, FineSuspensionPeriod, ImpactPreview, OpenLoan, preview_impact};
use time::Date;

use crate::error::ApiError;
use crate::state::AppState;

/// Readers per page.
const PAGE_PATRONS: u32 = 500;

type PolicyKey = (LibraryCode, ReaderCategory, ItemType);

/// Previews `candidate` over every open loan, fines as of `as_of`, with the stored periods
/// and rules.
pub(crate) async fn preview(
    state: &AppState,
    candidate: &FineSuspensionPeriod,
    as_of: Date,
) -> Result<ImpactPreview, ApiError> {
    let rules: Vec<ScopedRules> = state.rules.list().await?;
    let existing: Vec<FineSuspensionPeriod> = state
        .suspensions
        .list()
        .await?
        .into_iter()
        .map(|s| s.period)
        .collect();
    let mut libraries: HashMap<LibraryCode, Library> = HashMap::new();
    let mut policies: HashMap<PolicyKey, FinePolicy> = HashMap::new();
    let mut total = ImpactPreview::default();
    let mut after = None;
    loop {
        let page = state.accounts.open_loans_page(after, PAGE_PATRONS).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.patron);
        for row in &page {
            if !libraries.contains_key(&row.library) {
                let library = state
                    .libraries
                    .library(&row.library)
                    .await?
                    .ok_or_else(|| {
                        ApiError::internal(&format_args!(
                            "loan refers to missing library {}",
                            row.library
                        ))
                    })?;
                libraries.insert(row.library.clone(), library);
            }
            let key = (
                row.library.clone(),
                row.category.clone(),
                row.item_type.clone(),
            );
            policies.entry(key).or_insert_with(|| {
                EffectiveRules::resolve(
                    &rules,
                    Some(&row.library),
                    Some(&row.category),
                    Some(&row.item_type),
                )
                .fine_policy()
            });
        }
        let lending: HashMap<&LibraryCode, library_fines::LendingLibrary> =
            libraries.iter().map(|(c, l)| (c, l.lending())).collect();
        let mut loans = Vec::with_capacity(page.len());
        for row in &page {
            let key = (
                row.library.clone(),
                row.category.clone(),
                row.item_type.clone(),
            );
            let (Some(library), Some(lent), Some(policy)) = (
                libraries.get(&row.library),
                lending.get(&row.library),
                policies.get(&key),
            ) else {
                return Err(ApiError::internal(&"preview cache out of step"));
            };
            loans.push(OpenLoan {
                patron: row.patron,
                due_on: row.due_on,
                library: lent,
                policy,
                calendar: &library.calendar as &dyn library_fines::ClosedDays,
            });
        }
        let part = preview_impact(loans, &existing, candidate, as_of);
        total.loans += part.loans;
        total.patrons += part.patrons;
        total.total += part.total;
        total.waived += part.waived;
    }
    Ok(total)
}
