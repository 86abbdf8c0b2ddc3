//! How many people may be inside a library (or one of its sections), the decision at the
//! door, and the visitor registrations kept for contact tracing with their retention
//! (docs/premises.md, Capacity and visitor registration).
//!
//! The seed (early 2021): libraries "limit the number of people entering the library and
//! ... users are required to scan the 'LeaveHomeSafe' QR code or register their names,
//! contact number and the date and time of the visit before admission, for necessary
//! contact tracing if a confirmed case is found". The records are personal data kept only
//! for the retention period ([`Retention`], 31 days unless configured) and then purged.
//!
//! Rules:
//! - A capacity is set per library and, optionally, per section of it; the library's door
//!   and a section's door count separately. No capacity = unlimited; capacity 0 = closed
//!   to visitors (every admission is refused).
//! - Admission is refused with `capacity_reached` when the people inside are at least the
//!   capacity (a capacity lowered below the people inside refuses until enough leave).
//! - A departure never takes the count below zero.

use library_core::{DEFAULT_LIBRARY_OFFSET, fits};
use time::{Date, Duration, OffsetDateTime, Time};

/// The largest capacity accepted: no library holds more people than this.
pub const MAX_CAPACITY: u32 = 100_000;

/// A section of a library: the one code of [`crate::hours`], whose format only is checked
/// here (which sections a library has is the hours module's).
pub use crate::hours::SectionCode;

/// How many people may be inside: `None` unlimited, `Some(0)` closed to visitors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capacity(Option<u32>);

/// A capacity above [`MAX_CAPACITY`] (or negative on the wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a capacity is 0 to {MAX_CAPACITY}, or none")]
pub struct CapacityInvalid;

impl CapacityInvalid {
    /// The violation's code.
    pub const fn code(self) -> &'static str {
        "capacity_invalid"
    }
}

impl Capacity {
    /// No limit.
    pub const UNLIMITED: Capacity = Capacity(None);

    /// A capacity from the wire: `None` unlimited, else 0 to [`MAX_CAPACITY`].
    pub fn parse(raw: Option<i64>) -> Result<Capacity, CapacityInvalid> {
        match raw {
            None => Ok(Capacity(None)),
            Some(n) => u32::try_from(n)
                .ok()
                .filter(|n| *n <= MAX_CAPACITY)
                .map(|n| Capacity(Some(n)))
                .ok_or(CapacityInvalid),
        }
    }

    /// The limit, `None` when unlimited.
    pub const fn limit(self) -> Option<u32> {
        self.0
    }
}

/// The people inside one door's area, and its capacity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Occupancy {
    /// People inside now.
    pub inside: u32,
    /// The capacity.
    pub capacity: Capacity,
}

/// Why an admission was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AdmissionRefusal {
    /// As many people are inside as the capacity allows (capacity 0: closed to visitors).
    #[error("capacity reached: {inside} inside of {capacity}")]
    CapacityReached {
        /// The capacity.
        capacity: u32,
        /// People inside.
        inside: u32,
    },
}

impl AdmissionRefusal {
    /// The refusal's stable code.
    pub const fn code(self) -> &'static str {
        match self {
            AdmissionRefusal::CapacityReached { .. } => "capacity_reached",
        }
    }
}

impl Occupancy {
    /// Nobody inside, no limit.
    pub const EMPTY: Occupancy = Occupancy {
        inside: 0,
        capacity: Capacity::UNLIMITED,
    };

    /// One more person at the door: the occupancy after admitting them, or the refusal.
    pub fn admit(self) -> Result<Occupancy, AdmissionRefusal> {
        if let Some(capacity) = self.capacity.limit()
            && self.inside >= capacity
        {
            return Err(AdmissionRefusal::CapacityReached {
                capacity,
                inside: self.inside,
            });
        }
        Ok(Occupancy {
            inside: self.inside.saturating_add(1),
            ..self
        })
    }

    /// One person leaves: never below zero (a departure not counted in, e.g. after a
    /// restart of the count, is ignored).
    pub fn leave(self) -> Occupancy {
        Occupancy {
            inside: self.inside.saturating_sub(1),
            ..self
        }
    }
}

/// How long visitor registrations are kept, in days (1 to 366; 31 by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention(u16);

/// A retention outside 1 to 366 days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the retention of visitor registrations is 1 to 366 days")]
pub struct RetentionInvalid;

impl Default for Retention {
    fn default() -> Self {
        Retention(Self::DEFAULT_DAYS)
    }
}

impl Retention {
    /// The default: 31 days.
    pub const DEFAULT_DAYS: u16 = 31;
    /// The longest: a year (leap years included).
    pub const MAX_DAYS: u16 = 366;

    /// A retention of `days`, 1 to 366.
    pub fn days(days: i64) -> Result<Retention, RetentionInvalid> {
        u16::try_from(days)
            .ok()
            .filter(|d| (1..=Self::MAX_DAYS).contains(d))
            .map(Retention)
            .ok_or(RetentionInvalid)
    }

    /// The number of days.
    pub const fn get(self) -> u16 {
        self.0
    }

    /// The convention: a record of a visit on local date V is kept while the local date
    /// of now is at most V + days, and purged from the local date V + days + 1. With 31
    /// days, a visit on 2021-02-19 is kept through 2021-03-22 and gone on 2021-03-23.
    pub fn is_expired(self, visited_at: OffsetDateTime, now: OffsetDateTime) -> bool {
        visited_at < self.purge_before(now)
    }

    /// The cut-off instant at `now`: every record of a visit strictly before it is
    /// purged. It is the start (local midnight) of the local date `today - days`, since
    /// the visits of that date are the oldest still kept.
    pub fn purge_before(self, now: OffsetDateTime) -> OffsetDateTime {
        let today = local_date(now);
        let oldest_kept = today
            .checked_sub(Duration::days(i64::from(self.0)))
            .unwrap_or(Date::MIN);
        local_midnight(oldest_kept)
    }
}

/// The library-local date of an instant.
pub fn local_date(at: OffsetDateTime) -> Date {
    at.to_offset(DEFAULT_LIBRARY_OFFSET).date()
}

/// The instant (UTC) a library-local date starts.
pub fn local_midnight(date: Date) -> OffsetDateTime {
    date.with_time(Time::MIDNIGHT)
        .assume_offset(DEFAULT_LIBRARY_OFFSET)
        .to_offset(time::UtcOffset::UTC)
}

/// The longest a name may be, in characters after trimming.
pub const MAX_NAME_CHARS: usize = 100;

/// The registration form as typed, at the door or on the public page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitorForm {
    /// The visitor's name.
    pub name: String,
    /// A contact phone number.
    pub phone: String,
    /// The date and time of the visit; `None` = now.
    pub visited_at: Option<OffsetDateTime>,
}

/// A visitor registration that passed the checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Visitor {
    /// The name, trimmed.
    pub name: String,
    /// The phone: its digits only (spaces, hyphens and a leading `+` removed).
    pub phone: String,
    /// When the visit was, UTC.
    pub visited_at: OffsetDateTime,
}

/// What is wrong with a registration form, in the order checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum VisitorViolation {
    /// The name is empty after trimming, longer than 100 characters, or holds a control
    /// character.
    #[error("name invalid")]
    NameInvalid,
    /// The phone is not 8 to 15 digits once spaces, hyphens and a leading `+` are removed.
    #[error("phone invalid")]
    PhoneInvalid,
    /// The visit is more than a day ahead of now, or so long ago that its record would
    /// already be purged.
    #[error("visited_at invalid")]
    VisitedAtInvalid,
}

impl VisitorViolation {
    /// The violation's stable code.
    pub const fn code(self) -> &'static str {
        match self {
            VisitorViolation::NameInvalid => "name_invalid",
            VisitorViolation::PhoneInvalid => "phone_invalid",
            VisitorViolation::VisitedAtInvalid => "visited_at_invalid",
        }
    }
}

/// How far ahead a visit may be registered (a clock a little fast, a visit booked for
/// tomorrow morning): one day.
pub const MAX_AHEAD: Duration = Duration::DAY;

/// Checks a registration form at `now` under `retention`: the registration, or every
/// violation at once, in the order name, phone, visit time.
pub fn check_visitor(
    form: &VisitorForm,
    now: OffsetDateTime,
    retention: Retention,
) -> Result<Visitor, Vec<VisitorViolation>> {
    let mut violations = Vec::new();
    let name = form.name.trim();
    if name.is_empty() || !fits(name, MAX_NAME_CHARS) {
        violations.push(VisitorViolation::NameInvalid);
    }
    let phone = normalise_phone(&form.phone);
    if phone.is_none() {
        violations.push(VisitorViolation::PhoneInvalid);
    }
    let visited_at = form.visited_at.unwrap_or(now);
    if visited_at > now + MAX_AHEAD || retention.is_expired(visited_at, now) {
        violations.push(VisitorViolation::VisitedAtInvalid);
    }
    match phone {
        Some(phone) if violations.is_empty() => Ok(Visitor {
            name: name.to_owned(),
            phone,
            visited_at: visited_at.to_offset(time::UtcOffset::UTC),
        }),
        _ => Err(violations),
    }
}

/// The digits of a phone number: spaces and hyphens removed anywhere, one `+` at the
/// start; `None` unless 8 to 15 ASCII digits remain.
pub fn normalise_phone(raw: &str) -> Option<String> {
    let trimmed = raw.trim();
    let rest = trimmed.strip_prefix('+').unwrap_or(trimmed);
    let digits: String = rest.chars().filter(|c| *c != ' ' && *c != '-').collect();
    ((8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()))
        .then_some(digits)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::datetime;

    #[test]
    fn section_codes() {
        for ok in [
            "adult",
            "children",
            "study_room",
            "a",
            "x9_",
            &"a".repeat(32),
        ] {
            assert_eq!(SectionCode::parse(ok).unwrap().as_str(), ok);
        }
        for bad in [
            "",
            "Adult",
            "study-room",
            "study room",
            "é",
            &"a".repeat(33),
        ] {
            assert_eq!(
                SectionCode::parse(bad),
                Err(crate::hours::HoursError::SectionInvalid),
                "{bad:?}"
            );
        }
        assert_eq!(
            crate::hours::HoursError::SectionInvalid.code(),
            "section_invalid"
        );
    }

    #[test]
    fn capacities() {
        type Parsed = Result<Option<u32>, CapacityInvalid>;
        let cases: [(Option<i64>, Parsed); 7] = [
            (None, Ok(None)),
            (Some(0), Ok(Some(0))),
            (Some(1), Ok(Some(1))),
            (Some(100_000), Ok(Some(100_000))),
            (Some(100_001), Err(CapacityInvalid)),
            (Some(-1), Err(CapacityInvalid)),
            (Some(i64::MAX), Err(CapacityInvalid)),
        ];
        for (raw, expected) in cases {
            assert_eq!(
                Capacity::parse(raw).map(Capacity::limit),
                expected,
                "{raw:?}"
            );
        }
    }

    #[test]
    fn the_door() {
        let at = |inside, capacity| Occupancy {
            inside,
            capacity: Capacity::parse(capacity).unwrap(),
        };
        // (inside, capacity, admitted to)
        let cases: [(u32, Option<i64>, Result<u32, AdmissionRefusal>); 7] = [
            (0, None, Ok(1)),
            (5_000, None, Ok(5_001)),
            (0, Some(2), Ok(1)),
            (1, Some(2), Ok(2)),
            (
                2,
                Some(2),
                Err(AdmissionRefusal::CapacityReached {
                    capacity: 2,
                    inside: 2,
                }),
            ),
            // Capacity lowered below the people inside.
            (
                7,
                Some(5),
                Err(AdmissionRefusal::CapacityReached {
                    capacity: 5,
                    inside: 7,
                }),
            ),
            // Closed to visitors.
            (
                0,
                Some(0),
                Err(AdmissionRefusal::CapacityReached {
                    capacity: 0,
                    inside: 0,
                }),
            ),
        ];
        for (inside, capacity, expected) in cases {
            assert_eq!(
                at(inside, capacity).admit().map(|o| o.inside),
                expected,
                "{inside} of {capacity:?}"
            );
        }
        assert_eq!(
            at(2, Some(2)).admit().unwrap_err().code(),
            "capacity_reached"
        );
        assert_eq!(at(1, Some(2)).leave().inside, 0);
        assert_eq!(at(0, Some(2)).leave().inside, 0);
        assert_eq!(at(0, None).leave(), Occupancy::EMPTY);
    }

    #[test]
    fn retention_days() {
        assert_eq!(Retention::default().get(), 31);
        assert_eq!(Retention::days(1).unwrap().get(), 1);
        assert_eq!(Retention::days(366).unwrap().get(), 366);
        for bad in [0, -1, 367, 100_000] {
            assert_eq!(Retention::days(bad), Err(RetentionInvalid), "{bad}");
        }
    }

    #[test]
    fn a_visit_is_kept_through_day_31_and_purged_on_day_32() {
        let r = Retention::default();
        let visit = datetime!(2021-02-19 10:00 +08:00);
        // (now, purged)
        let cases = [
            (datetime!(2021-02-19 10:00 +08:00), false),
            (datetime!(2021-03-22 00:00 +08:00), false),
            // Day 31, its last instant.
            (datetime!(2021-03-22 23:59:59.999999 +08:00), false),
            // Day 32, its first instant.
            (datetime!(2021-03-23 00:00 +08:00), true),
            (datetime!(2021-03-23 09:00 +08:00), true),
            // The same instant seen in UTC: 2021-03-22 16:00 UTC is 2021-03-23 local.
            (datetime!(2021-03-22 16:00 UTC), true),
            (datetime!(2021-03-22 15:59:59 UTC), false),
        ];
        for (now, purged) in cases {
            assert_eq!(r.is_expired(visit, now), purged, "{now}");
        }
        // A visit at the very start or end of its local day is purged on the same day.
        for visit in [
            datetime!(2021-02-19 00:00 +08:00),
            datetime!(2021-02-19 23:59:59 +08:00),
        ] {
            assert!(!r.is_expired(visit, datetime!(2021-03-22 23:00 +08:00)));
            assert!(r.is_expired(visit, datetime!(2021-03-23 00:00 +08:00)));
        }
        assert_eq!(
            r.purge_before(datetime!(2021-03-23 09:00 +08:00)),
            datetime!(2021-02-20 00:00 +08:00)
        );
        // A retention of one day: yesterday's visits kept, the day before's gone.
        let one = Retention::days(1).unwrap();
        assert!(!one.is_expired(visit, datetime!(2021-02-20 23:00 +08:00)));
        assert!(one.is_expired(visit, datetime!(2021-02-21 00:00 +08:00)));
    }

    fn form(name: &str, phone: &str, visited_at: Option<OffsetDateTime>) -> VisitorForm {
        VisitorForm {
            name: name.into(),
            phone: phone.into(),
            visited_at,
        }
    }

    #[test]
    fn registration_forms() {
        use VisitorViolation::*;
        let now = datetime!(2021-02-19 10:00 +08:00);
        let r = Retention::default();
        let ok = check_visitor(&form("  Chan Tai Man ", "+852 9123-4567", None), now, r).unwrap();
        assert_eq!(ok.name, "Chan Tai Man");
        assert_eq!(ok.phone, "85291234567");
        assert_eq!(ok.visited_at, datetime!(2021-02-19 02:00 UTC));
        let long = "陳".repeat(100);
        let cases: [(VisitorForm, Vec<VisitorViolation>); 14] = [
            (form(&long, "91234567", None), vec![]),
            (
                form(&format!("{long}x"), "91234567", None),
                vec![NameInvalid],
            ),
            (form("   ", "91234567", None), vec![NameInvalid]),
            (form("Chan\u{7}", "91234567", None), vec![NameInvalid]),
            (form("Chan\nTai", "91234567", None), vec![NameInvalid]),
            (form("Chan", "1234567", None), vec![PhoneInvalid]),
            (form("Chan", "12345678", None), vec![]),
            (form("Chan", "123456789012345", None), vec![]),
            (form("Chan", "1234567890123456", None), vec![PhoneInvalid]),
            (form("Chan", "9123 45x7", None), vec![PhoneInvalid]),
            (form("Chan", "++85291234567", None), vec![PhoneInvalid]),
            (form("Chan", "９１２３４５６７", None), vec![PhoneInvalid]),
            (
                form("", "", Some(datetime!(2021-02-20 10:00:01 +08:00))),
                vec![NameInvalid, PhoneInvalid, VisitedAtInvalid],
            ),
            (
                form("Chan", "91234567", Some(datetime!(2021-02-20 10:00 +08:00))),
                vec![],
            ),
        ];
        for (form, expected) in cases {
            let got = check_visitor(&form, now, r).err().unwrap_or_default();
            assert_eq!(got, expected, "{form:?}");
        }
        // The oldest visit still kept (the local date 31 days back) may be registered;
        // a day older would be purged at once.
        let edge = |at| check_visitor(&form("Chan", "91234567", Some(at)), now, r);
        assert!(edge(datetime!(2021-01-19 00:00 +08:00)).is_ok());
        assert_eq!(
            edge(datetime!(2021-01-18 23:59:59 +08:00)),
            Err(vec![VisitedAtInvalid])
        );
        assert_eq!(NameInvalid.code(), "name_invalid");
        assert_eq!(PhoneInvalid.code(), "phone_invalid");
        assert_eq!(VisitedAtInvalid.code(), "visited_at_invalid");
    }

    proptest! {
        /// Through any sequence of admissions and departures, the count is never
        /// negative (it is unsigned and never wraps) and never passes the capacity, and
        /// every refusal is at capacity.
        #[test]
        fn occupancy_stays_within_zero_and_the_capacity(
            capacity in proptest::option::of(0u32..20),
            steps in proptest::collection::vec(any::<bool>(), 0..200),
        ) {
            let mut o = Occupancy { inside: 0, capacity: Capacity(capacity) };
            let mut admitted = 0u64;
            let mut left = 0u64;
            for admit in steps {
                if admit {
                    match o.admit() {
                        Ok(next) => { prop_assert_eq!(next.inside, o.inside + 1); o = next; admitted += 1; }
                        Err(AdmissionRefusal::CapacityReached { capacity: c, inside }) => {
                            prop_assert_eq!(Some(c), capacity);
                            prop_assert!(inside >= c);
                        }
                    }
                } else {
                    if o.inside > 0 { left += 1; }
                    o = o.leave();
                }
                if let Some(c) = capacity { prop_assert!(o.inside <= c); }
                prop_assert_eq!(u64::from(o.inside), admitted - left);
            }
        }

        /// A record is purged exactly when the local dates are more than the retention
        /// apart, whatever the times of day.
        #[test]
        fn purge_is_by_local_dates(
            visit_secs in 1_600_000_000i64..1_700_000_000,
            later_secs in 0i64..(400 * 86_400),
            days in 1i64..=366,
        ) {
            let visit = OffsetDateTime::from_unix_timestamp(visit_secs).unwrap();
            let now = visit + Duration::seconds(later_secs);
            let r = Retention::days(days).unwrap();
            let apart = (local_date(now) - local_date(visit)).whole_days();
            prop_assert_eq!(r.is_expired(visit, now), apart > days);
        }
    }
}
