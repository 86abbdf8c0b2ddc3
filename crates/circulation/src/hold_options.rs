//! A hold's options: suspended until a date, not needed after a date, and the reason staff
//! give when they cancel one.
//!
//! - **Suspended until D** (Koha "suspend until", `reserves.suspend_until`): a queued hold
//!   keeps its place in the queue but is passed over when a copy comes free, up to the day
//!   before D; on D (the pickup library's local date) it is active again. D must be after
//!   today and at most [`MAX_SUSPENSION_DAYS`] days ahead. Only a queued hold can be
//!   suspended: a waiting one already has its copy. FOLIO has no suspension of a request.
//! - **Not needed after D** (Koha `expirationdate`, FOLIO "request expiration date"): a
//!   queued hold is expired by the hold-expiry job once the pickup library's today is
//!   after D. D may be today (still needed today) and at most
//!   [`MAX_NOT_NEEDED_AFTER_DAYS`] days ahead. A waiting hold keeps its pickup-by date.
//! - **Cancel reason**: staff cancelling a hold say why, and the reader sees it: trimmed,
//!   1 to [`MAX_CANCEL_REASON_CHARS`] characters, no control characters.

use time::{Date, Duration};

/// The furthest a suspension may reach: one year after today.
pub const MAX_SUSPENSION_DAYS: i64 = 365;

/// The furthest a "not needed after" date may be: two years after today.
pub const MAX_NOT_NEEDED_AFTER_DAYS: i64 = 730;

/// The longest cancel reason, in characters.
pub const MAX_CANCEL_REASON_CHARS: usize = 500;

/// Why a hold's options or a cancel reason are not accepted (422 `validation_failed`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum HoldOptionViolation {
    /// `suspended_until` is today or earlier.
    #[error("the suspension must end after today")]
    SuspendedUntilNotAfterToday,
    /// `suspended_until` is more than [`MAX_SUSPENSION_DAYS`] days ahead.
    #[error("the suspension reaches too far")]
    SuspendedUntilTooFar,
    /// `not_needed_after` is before today.
    #[error("the last date of interest has passed")]
    NotNeededAfterInPast,
    /// `not_needed_after` is more than [`MAX_NOT_NEEDED_AFTER_DAYS`] days ahead.
    #[error("the last date of interest is too far ahead")]
    NotNeededAfterTooFar,
    /// A hold that is not queued (a waiting one) cannot be suspended.
    #[error("only a queued hold can be suspended")]
    HoldNotQueued,
    /// The cancel reason is empty.
    #[error("a reason is required")]
    ReasonMissing,
    /// The cancel reason is longer than [`MAX_CANCEL_REASON_CHARS`].
    #[error("the reason is too long")]
    ReasonTooLong,
    /// The cancel reason holds a control character (a line break included).
    #[error("the reason holds a control character")]
    ReasonInvalid,
}

impl HoldOptionViolation {
    /// The wire code (docs/http.md).
    pub const fn code(self) -> &'static str {
        match self {
            HoldOptionViolation::SuspendedUntilNotAfterToday => "suspended_until_not_after_today",
            HoldOptionViolation::SuspendedUntilTooFar => "suspended_until_too_far",
            HoldOptionViolation::NotNeededAfterInPast => "not_needed_after_in_past",
            HoldOptionViolation::NotNeededAfterTooFar => "not_needed_after_too_far",
            HoldOptionViolation::HoldNotQueued => "hold_not_queued",
            HoldOptionViolation::ReasonMissing => "reason_missing",
            HoldOptionViolation::ReasonTooLong => "reason_too_long",
            HoldOptionViolation::ReasonInvalid => "reason_invalid",
        }
    }
}

fn days_after(today: Date, days: i64) -> Date {
    today.checked_add(Duration::days(days)).unwrap_or(Date::MAX)
}

/// Checks a suspension's end `until` against `today` (the pickup library's local date).
///
/// # Errors
/// [`HoldOptionViolation::SuspendedUntilNotAfterToday`] or
/// [`HoldOptionViolation::SuspendedUntilTooFar`].
pub fn check_suspended_until(until: Date, today: Date) -> Result<(), HoldOptionViolation> {
    if until <= today {
        Err(HoldOptionViolation::SuspendedUntilNotAfterToday)
    } else if until > days_after(today, MAX_SUSPENSION_DAYS) {
        Err(HoldOptionViolation::SuspendedUntilTooFar)
    } else {
        Ok(())
    }
}

/// Checks a last date of interest `date` against `today` (the pickup library's local date).
///
/// # Errors
/// [`HoldOptionViolation::NotNeededAfterInPast`] or
/// [`HoldOptionViolation::NotNeededAfterTooFar`].
pub fn check_not_needed_after(date: Date, today: Date) -> Result<(), HoldOptionViolation> {
    if date < today {
        Err(HoldOptionViolation::NotNeededAfterInPast)
    } else if date > days_after(today, MAX_NOT_NEEDED_AFTER_DAYS) {
        Err(HoldOptionViolation::NotNeededAfterTooFar)
    } else {
        Ok(())
    }
}

/// Who cancelled a hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CancelledBy {
    /// The reader (online, by telephone or at a self-service station).
    Reader,
    /// Staff at the counter.
    Staff,
}

impl CancelledBy {
    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            CancelledBy::Reader => "reader",
            CancelledBy::Staff => "staff",
        }
    }
}

/// Why staff cancelled a hold, as the reader reads it: trimmed, 1 to
/// [`MAX_CANCEL_REASON_CHARS`] characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CancelReason(String);

impl CancelReason {
    /// Parses a reason.
    ///
    /// # Errors
    /// [`HoldOptionViolation::ReasonMissing`], [`HoldOptionViolation::ReasonTooLong`] or
    /// [`HoldOptionViolation::ReasonInvalid`].
    pub fn parse(text: &str) -> Result<Self, HoldOptionViolation> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            Err(HoldOptionViolation::ReasonMissing)
        } else if trimmed.chars().any(char::is_control) {
            Err(HoldOptionViolation::ReasonInvalid)
        } else if trimmed.chars().count() > MAX_CANCEL_REASON_CHARS {
            Err(HoldOptionViolation::ReasonTooLong)
        } else {
            Ok(Self(trimmed.to_owned()))
        }
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for CancelReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn a_suspension_ends_after_today_and_within_a_year() {
        let today = date!(2021 - 03 - 05);
        let cases = [
            (
                date!(2021 - 03 - 04),
                Err(HoldOptionViolation::SuspendedUntilNotAfterToday),
            ),
            (
                date!(2021 - 03 - 05),
                Err(HoldOptionViolation::SuspendedUntilNotAfterToday),
            ),
            (date!(2021 - 03 - 06), Ok(())),
            (date!(2022 - 03 - 05), Ok(())),
            (
                date!(2022 - 03 - 06),
                Err(HoldOptionViolation::SuspendedUntilTooFar),
            ),
        ];
        for (until, expected) in cases {
            assert_eq!(check_suspended_until(until, today), expected, "{until}");
        }
        assert_eq!(
            check_suspended_until(Date::MAX, Date::MAX),
            Err(HoldOptionViolation::SuspendedUntilNotAfterToday)
        );
    }

    #[test]
    fn not_needed_after_is_today_or_later_within_two_years() {
        let today = date!(2021 - 03 - 05);
        let cases = [
            (
                date!(2021 - 03 - 04),
                Err(HoldOptionViolation::NotNeededAfterInPast),
            ),
            (date!(2021 - 03 - 05), Ok(())),
            (date!(2023 - 03 - 05), Ok(())),
            (
                date!(2023 - 03 - 06),
                Err(HoldOptionViolation::NotNeededAfterTooFar),
            ),
        ];
        for (date, expected) in cases {
            assert_eq!(check_not_needed_after(date, today), expected, "{date}");
        }
    }

    #[test]
    fn a_cancel_reason_is_trimmed_and_limited() {
        assert_eq!(
            CancelReason::parse("  Copy lost in transit ")
                .unwrap()
                .as_str(),
            "Copy lost in transit"
        );
        assert_eq!(
            CancelReason::parse(" \t "),
            Err(HoldOptionViolation::ReasonMissing)
        );
        assert_eq!(
            CancelReason::parse(""),
            Err(HoldOptionViolation::ReasonMissing)
        );
        assert_eq!(
            CancelReason::parse("two\nlines"),
            Err(HoldOptionViolation::ReasonInvalid)
        );
        assert_eq!(
            CancelReason::parse("bell\u{7}"),
            Err(HoldOptionViolation::ReasonInvalid)
        );
        assert!(CancelReason::parse(&"書".repeat(500)).is_ok());
        assert_eq!(
            CancelReason::parse(&"書".repeat(501)),
            Err(HoldOptionViolation::ReasonTooLong)
        );
    }
}
