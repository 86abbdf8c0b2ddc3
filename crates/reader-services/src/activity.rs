//! Extension activities ("My Info"; docs/http.md, Reader services): talks, workshops, story
//! times held at a library, with a fixed number of places that readers register for.
//!
//! Registration is refused with one named reason, checked in this order:
//! `cancelled` (the library cancelled the activity), `already_registered`, `started` (the
//! activity has begun), `closed` (registration has closed), `full` (no place left). A
//! reader who cancels frees their place; cancelling is refused once the activity has
//! started (`started`) or when the library has cancelled it (`cancelled`).

use library_core::{CardNumber, LibraryCode, PatronId};
use time::OffsetDateTime;

use crate::text::{Checks, TextField, Violations, is_identifier};

/// The most places an activity may offer (ours: a lecture theatre's worth, with margin).
pub const MAX_ACTIVITY_CAPACITY: u32 = 10_000;

const TITLE: TextField = TextField {
    missing: "title_missing",
    too_long: "title_too_long",
    invalid: "title_invalid",
    max_chars: 200,
    multi_line: false,
};
const VENUE: TextField = TextField {
    missing: "venue_missing",
    too_long: "venue_too_long",
    invalid: "venue_invalid",
    max_chars: 200,
    multi_line: false,
};
const DESCRIPTION: TextField = TextField {
    missing: "description_missing",
    too_long: "description_too_long",
    invalid: "description_invalid",
    max_chars: 2_000,
    multi_line: true,
};

/// An activity's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ActivityId(pub i64);

impl ActivityId {
    /// The number.
    pub fn get(self) -> i64 {
        self.0
    }
}

/// The kind of activity, chosen by the library (`talk`, `workshop`, `story_time`, ...):
/// `[a-z0-9_]{1,32}`, like item types.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ActivityType(String);

impl ActivityType {
    /// Parses a type; `None` if it is not `[a-z0-9_]{1,32}`.
    pub fn parse(raw: &str) -> Option<Self> {
        is_identifier(raw).then(|| Self(raw.to_owned()))
    }

    /// The type as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An activity as staff submit it, before any check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityForm {
    /// Where it is held (a library code).
    pub library_code: String,
    /// Event title.
    pub title: String,
    /// Its type (`talk`, `workshop`, ...).
    pub activity_type: String,
    /// The room or place inside the library.
    pub venue: String,
    /// What it is about (optional).
    pub description: Option<String>,
    /// When it begins.
    pub starts_at: OffsetDateTime,
    /// When it ends.
    pub ends_at: OffsetDateTime,
    /// Places.
    pub capacity: i64,
    /// When registration closes (default: when it begins).
    pub registration_closes_at: Option<OffsetDateTime>,
}

/// A valid activity, not yet stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewActivity {
    /// Where it is held.
    pub library: LibraryCode,
    /// Event title.
    pub title: String,
    /// Its type.
    pub activity_type: ActivityType,
    /// The room or place inside the library.
    pub venue: String,
    /// What it is about (may be empty).
    pub description: String,
    /// When it begins.
    pub starts_at: OffsetDateTime,
    /// When it ends (after it begins).
    pub ends_at: OffsetDateTime,
    /// Places (1 to [`MAX_ACTIVITY_CAPACITY`]).
    pub capacity: u32,
    /// When registration closes (not after it begins).
    pub registration_closes_at: OffsetDateTime,
}

impl ActivityForm {
    /// Checks every field as of `now`; the activity, or every violation: `unknown_library`
    /// (not a library code), `title_*`, `type_invalid`, `venue_*`, `description_too_long` /
    /// `description_invalid`, `capacity_invalid`, `ends_at_not_after_starts_at`,
    /// `starts_at_in_past`, `registration_closes_after_start`,
    /// `registration_closes_in_past`.
    pub fn parse(self, now: OffsetDateTime) -> Result<NewActivity, Violations> {
        let mut checks = Checks::default();
        let library = checks
            .take(LibraryCode::parse(self.library_code.trim()).map_err(|_| "unknown_library"));
        let title = checks.take(TITLE.parse(&self.title));
        let activity_type =
            checks.take(ActivityType::parse(self.activity_type.trim()).ok_or("type_invalid"));
        let venue = checks.take(VENUE.parse(&self.venue));
        let description = checks.take(DESCRIPTION.parse_optional(self.description.as_deref()));
        let capacity = checks.take(
            u32::try_from(self.capacity)
                .ok()
                .filter(|c| (1..=MAX_ACTIVITY_CAPACITY).contains(c))
                .ok_or("capacity_invalid"),
        );
        let closes_at = self.registration_closes_at.unwrap_or(self.starts_at);
        checks.check(
            self.ends_at <= self.starts_at,
            "ends_at_not_after_starts_at",
        );
        checks.check(self.starts_at <= now, "starts_at_in_past");
        checks.check(
            closes_at > self.starts_at,
            "registration_closes_after_start",
        );
        checks.check(
            closes_at <= now && self.starts_at > now,
            "registration_closes_in_past",
        );
        let activity = match (library, title, activity_type, venue, description, capacity) {
            (
                Some(library),
                Some(title),
                Some(activity_type),
                Some(venue),
                Some(description),
                Some(capacity),
            ) => Some(NewActivity {
                library,
                title,
                activity_type,
                venue,
                description,
                starts_at: self.starts_at,
                ends_at: self.ends_at,
                capacity,
                registration_closes_at: closes_at,
            }),
            _ => None,
        };
        checks.finish(activity)
    }
}

/// A stored activity and how many readers are registered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activity {
    /// Its id.
    pub id: ActivityId,
    /// What, where, when, how many places.
    pub details: NewActivity,
    /// Readers registered now (cancelled registrations do not count).
    pub registered: u32,
    /// When the library cancelled it, if it did.
    pub cancelled_at: Option<OffsetDateTime>,
}

/// Why a registration is refused (a 409 `registration_refused` with this `reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RegistrationRefusal {
    /// The library cancelled the activity.
    #[error("the activity was cancelled")]
    Cancelled,
    /// The reader is registered already.
    #[error("already registered")]
    AlreadyRegistered,
    /// The activity has begun.
    #[error("the activity has started")]
    Started,
    /// Registration has closed.
    #[error("registration has closed")]
    Closed,
    /// Every place is taken.
    #[error("no place left")]
    Full,
}

impl RegistrationRefusal {
    /// The reason's code.
    pub fn code(self) -> &'static str {
        match self {
            RegistrationRefusal::Cancelled => "cancelled",
            RegistrationRefusal::AlreadyRegistered => "already_registered",
            RegistrationRefusal::Started => "started",
            RegistrationRefusal::Closed => "closed",
            RegistrationRefusal::Full => "full",
        }
    }
}

/// Why a reader may not cancel their registration (a 409 `cancellation_refused`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CancellationRefusal {
    /// The library cancelled the activity; there is nothing left to cancel.
    #[error("the activity was cancelled")]
    Cancelled,
    /// The activity has begun.
    #[error("the activity has started")]
    Started,
}

impl CancellationRefusal {
    /// The reason's code.
    pub fn code(self) -> &'static str {
        match self {
            CancellationRefusal::Cancelled => "cancelled",
            CancellationRefusal::Started => "started",
        }
    }
}

impl Activity {
    /// Places not yet taken.
    pub fn places_left(&self) -> u32 {
        self.details.capacity.saturating_sub(self.registered)
    }

    /// Whether the activity has begun at `now`.
    pub fn has_started(&self, now: OffsetDateTime) -> bool {
        now >= self.details.starts_at
    }

    /// Whether the activity is over at `now`.
    pub fn has_ended(&self, now: OffsetDateTime) -> bool {
        now >= self.details.ends_at
    }

    /// Why a reader (already registered or not) may not register at `now`; `None` if they
    /// may. The reasons are checked in the order of the module documentation.
    pub fn registration_refusal(
        &self,
        now: OffsetDateTime,
        already_registered: bool,
    ) -> Option<RegistrationRefusal> {
        if self.cancelled_at.is_some() {
            Some(RegistrationRefusal::Cancelled)
        } else if already_registered {
            Some(RegistrationRefusal::AlreadyRegistered)
        } else if self.has_started(now) {
            Some(RegistrationRefusal::Started)
        } else if now >= self.details.registration_closes_at {
            Some(RegistrationRefusal::Closed)
        } else if self.places_left() == 0 {
            Some(RegistrationRefusal::Full)
        } else {
            None
        }
    }

    /// Whether a reader not yet registered could register at `now`.
    pub fn registration_open(&self, now: OffsetDateTime) -> bool {
        self.registration_refusal(now, false).is_none()
    }

    /// Why a registered reader may not cancel at `now`; `None` if they may.
    pub fn cancellation_refusal(&self, now: OffsetDateTime) -> Option<CancellationRefusal> {
        if self.cancelled_at.is_some() {
            Some(CancellationRefusal::Cancelled)
        } else if self.has_started(now) {
            Some(CancellationRefusal::Started)
        } else {
            None
        }
    }
}

/// An activity with the name of its library, as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityListing {
    /// The activity.
    pub activity: Activity,
    /// The library's English name.
    pub library_name: String,
    /// The library's Traditional Chinese name (may be empty).
    pub library_name_zh: String,
}

/// What a listing of activities asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityQuery {
    /// Only activities held at this library.
    pub library: Option<LibraryCode>,
    /// Only activities beginning at or after this instant.
    pub starting_from: OffsetDateTime,
    /// Whether cancelled activities are listed (staff) or not (readers).
    pub include_cancelled: bool,
    /// At most this many.
    pub limit: u32,
    /// After skipping this many (in order of start, then id).
    pub offset: u64,
}

/// A reader's registration for an activity, as the reader's list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReaderRegistration {
    /// The activity (with its library's names).
    pub listing: ActivityListing,
    /// The reader.
    pub patron: PatronId,
    /// When they (last) registered.
    pub registered_at: OffsetDateTime,
    /// When they cancelled, if they did (and have not registered again since).
    pub cancelled_at: Option<OffsetDateTime>,
}

/// A reader registered for an activity, as staff see the list (to call or admit them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registrant {
    /// The reader.
    pub patron: PatronId,
    /// Their card.
    pub card_number: CardNumber,
    /// Their name.
    pub name: String,
    /// Their phone number, as typed.
    pub phone: String,
    /// When they (last) registered.
    pub registered_at: OffsetDateTime,
    /// When they cancelled, if they did (and have not registered again since).
    pub cancelled_at: Option<OffsetDateTime>,
}

/// Where a reader's registration stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistrationStatus {
    /// Registered, and the activity is not over.
    Registered,
    /// Registered, and the activity is over.
    Ended,
    /// The reader cancelled.
    Cancelled,
    /// The library cancelled the activity.
    ActivityCancelled,
}

impl RegistrationStatus {
    /// The status's code.
    pub fn code(self) -> &'static str {
        match self {
            RegistrationStatus::Registered => "registered",
            RegistrationStatus::Ended => "ended",
            RegistrationStatus::Cancelled => "cancelled",
            RegistrationStatus::ActivityCancelled => "activity_cancelled",
        }
    }
}

impl ReaderRegistration {
    /// The status at `now`: the reader's own cancellation first, then the library's, then
    /// whether the activity is over.
    pub fn status(&self, now: OffsetDateTime) -> RegistrationStatus {
        let activity = &self.listing.activity;
        if self.cancelled_at.is_some() {
            RegistrationStatus::Cancelled
        } else if activity.cancelled_at.is_some() {
            RegistrationStatus::ActivityCancelled
        } else if activity.has_ended(now) {
            RegistrationStatus::Ended
        } else {
            RegistrationStatus::Registered
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-12-01 10:00 +08:00);

    fn form() -> ActivityForm {
        ActivityForm {
            library_code: "HKCL".into(),
            title: "  Storytelling in Cantonese ".into(),
            activity_type: "story_time".into(),
            venue: "Children's Library, 2/F".into(),
            description: None,
            starts_at: datetime!(2026-12-12 15:00 +08:00),
            ends_at: datetime!(2026-12-12 16:00 +08:00),
            capacity: 2,
            registration_closes_at: Some(datetime!(2026-12-11 17:00 +08:00)),
        }
    }

    fn violations(form: ActivityForm) -> Vec<&'static str> {
        form.parse(NOW).err().map(|v| v.0).unwrap_or_default()
    }

    #[test]
    fn a_valid_form_parses_trimmed() {
        let a = form().parse(NOW).unwrap();
        assert_eq!(a.title, "Storytelling in Cantonese");
        assert_eq!(a.description, "");
        assert_eq!(a.capacity, 2);
        let no_close = ActivityForm {
            registration_closes_at: None,
            ..form()
        };
        let a = no_close.parse(NOW).unwrap();
        assert_eq!(a.registration_closes_at, datetime!(2026-12-12 15:00 +08:00));
    }

    #[test]
    fn every_violation_is_named() {
        let bad = ActivityForm {
            library_code: "central library".into(),
            title: " ".into(),
            activity_type: "Talk".into(),
            venue: "x".repeat(201),
            description: Some("a\u{0}b".into()),
            starts_at: datetime!(2026-11-30 15:00 +08:00),
            ends_at: datetime!(2026-11-30 15:00 +08:00),
            capacity: 0,
            registration_closes_at: Some(datetime!(2026-11-30 16:00 +08:00)),
        };
        assert_eq!(
            violations(bad),
            [
                "unknown_library",
                "title_missing",
                "type_invalid",
                "venue_too_long",
                "description_invalid",
                "capacity_invalid",
                "ends_at_not_after_starts_at",
                "starts_at_in_past",
                "registration_closes_after_start",
            ]
        );
        let closed_already = ActivityForm {
            registration_closes_at: Some(datetime!(2026-12-01 09:00 +08:00)),
            ..form()
        };
        assert_eq!(violations(closed_already), ["registration_closes_in_past"]);
        for capacity in [-1, 10_001, i64::MAX] {
            let f = ActivityForm { capacity, ..form() };
            assert_eq!(violations(f), ["capacity_invalid"], "{capacity}");
        }
        let max = ActivityForm {
            capacity: 10_000,
            ..form()
        };
        assert!(violations(max).is_empty());
    }

    fn activity(registered: u32, cancelled: bool) -> Activity {
        Activity {
            id: ActivityId(1),
            details: form().parse(NOW).unwrap(),
            registered,
            cancelled_at: cancelled.then_some(NOW),
        }
    }

    #[test]
    fn registration_refusals_in_order() {
        let before_close = datetime!(2026-12-11 16:59:59 +08:00);
        let at_close = datetime!(2026-12-11 17:00 +08:00);
        let at_start = datetime!(2026-12-12 15:00 +08:00);
        use RegistrationRefusal as R;
        let table: &[(u32, bool, bool, OffsetDateTime, Option<R>)] = &[
            (0, false, false, before_close, None),
            (1, false, false, before_close, None),
            (2, false, false, before_close, Some(R::Full)),
            (0, false, false, at_close, Some(R::Closed)),
            (2, false, false, at_close, Some(R::Closed)),
            (0, false, false, at_start, Some(R::Started)),
            (1, false, true, at_start, Some(R::AlreadyRegistered)),
            (1, false, true, before_close, Some(R::AlreadyRegistered)),
            (2, true, true, before_close, Some(R::Cancelled)),
            (0, true, false, NOW, Some(R::Cancelled)),
        ];
        for &(registered, cancelled, already, now, expected) in table {
            let a = activity(registered, cancelled);
            assert_eq!(
                a.registration_refusal(now, already),
                expected,
                "{registered} {cancelled} {already} {now}"
            );
        }
        assert_eq!(R::Full.code(), "full");
        assert_eq!(activity(1, false).places_left(), 1);
        assert_eq!(activity(3, false).places_left(), 0);
    }

    #[test]
    fn cancelling_a_registration() {
        let a = activity(1, false);
        assert_eq!(a.cancellation_refusal(NOW), None);
        assert_eq!(
            a.cancellation_refusal(datetime!(2026-12-12 15:00 +08:00)),
            Some(CancellationRefusal::Started)
        );
        assert_eq!(
            activity(1, true).cancellation_refusal(NOW),
            Some(CancellationRefusal::Cancelled)
        );
    }

    #[test]
    fn registration_status() {
        let reg = |cancelled: bool, activity_cancelled: bool| ReaderRegistration {
            listing: ActivityListing {
                activity: activity(1, activity_cancelled),
                library_name: "Hong Kong Central Library".into(),
                library_name_zh: String::new(),
            },
            patron: PatronId(7),
            registered_at: NOW,
            cancelled_at: cancelled.then_some(NOW),
        };
        let after = datetime!(2026-12-12 16:00 +08:00);
        assert_eq!(
            reg(false, false).status(NOW),
            RegistrationStatus::Registered
        );
        assert_eq!(reg(false, false).status(after), RegistrationStatus::Ended);
        assert_eq!(reg(true, false).status(NOW), RegistrationStatus::Cancelled);
        assert_eq!(reg(true, true).status(NOW), RegistrationStatus::Cancelled);
        assert_eq!(
            reg(false, true).status(after),
            RegistrationStatus::ActivityCancelled
        );
    }
}
