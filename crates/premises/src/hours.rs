//! Opening hours and sections (docs/premises.md, "Opening hours and sections"): when a
//! library is open, given its regular week, its special hours for date ranges and the
//! closed days of its calendar; which of its sections (adult, young adult, children, study
//! room, ...) are open; and whether its book drop and self-service station keep serving
//! while it is closed.
//!
//! Rules, from the libraries' reopening notice of 19 February 2021:
//! - A day's hours are zero or more half-open periods `[start, end)` of library-local
//!   time, at most [`MAX_PERIODS_PER_DAY`], each starting before it ends, in order, with a
//!   gap between two periods (`hours_invalid`, `hours_overlap`, `hours_too_many`). A
//!   library open 10:00–19:00 is closed at 19:00 exactly.
//! - A closed day of the calendar has no hours, whatever the week or special hours say.
//! - Special hours replace the regular week on every date of their range (both ends
//!   included): closed, the same periods every day, or a weekly pattern of their own. Where
//!   two special ranges overlap, the one declared later wins.
//! - A library with no regular week is open all day on each day the calendar has open
//!   (the behaviour before hours existed), except on the dates of its special hours.
//! - A section's record says "open (or closed) from a date, until a date or until further
//!   notice"; outside that range the section has the other status. An open section is open
//!   during its own hours if it has them, else during the library's; never on a closed day.

use std::fmt;

use time::{Date, Duration, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset, Weekday};

/// At most this many periods a day (two with a lunch break is usual).
pub const MAX_PERIODS_PER_DAY: usize = 4;

/// How many days ahead [`OpenStatus::opens_next`] looks for an opening.
pub const LOOK_AHEAD_DAYS: i64 = 366;

/// Minutes in a day: the end of a period that runs to midnight ("24:00").
const DAY_MINUTES: u16 = 24 * 60;

/// Why hours or a section are not valid. Codes are stable (`code`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum HoursError {
    /// A time that is not `HH:MM` (00:00 to 24:00), or a period that does not start before
    /// it ends.
    #[error("a period is not HH:MM to a later HH:MM")]
    Invalid,
    /// Two periods of one day overlap or touch, or are out of order.
    #[error("the periods of a day overlap or are out of order")]
    Overlap,
    /// More than [`MAX_PERIODS_PER_DAY`] periods in a day.
    #[error("too many periods in a day")]
    TooMany,
    /// A date range that ends before it starts.
    #[error("the range ends before it starts")]
    ToBeforeFrom,
    /// A section code that is not `[a-z0-9_]{1,32}`.
    #[error("a section code is not [a-z0-9_]{{1,32}}")]
    SectionInvalid,
}

impl HoursError {
    /// The stable violation code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Invalid => "hours_invalid",
            Self::Overlap => "hours_overlap",
            Self::TooMany => "hours_too_many",
            Self::ToBeforeFrom => "to_before_from",
            Self::SectionInvalid => "section_invalid",
        }
    }
}

/// A time of day in minutes from midnight, 00:00 to 24:00 (the end of a period that runs
/// to midnight).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimeOfDay(u16);

impl TimeOfDay {
    /// `HH:MM`, 00:00 to 24:00.
    pub fn parse(raw: &str) -> Result<Self, HoursError> {
        let b = raw.as_bytes();
        if b.len() != 5 || b[2] != b':' || ![0, 1, 3, 4].iter().all(|&i| b[i].is_ascii_digit()) {
            return Err(HoursError::Invalid);
        }
        let h = u16::from(b[0] - b'0') * 10 + u16::from(b[1] - b'0');
        let m = u16::from(b[3] - b'0') * 10 + u16::from(b[4] - b'0');
        Self::from_minutes(h * 60 + m)
            .filter(|_| m < 60)
            .ok_or(HoursError::Invalid)
    }

    /// From minutes after midnight, at most 24:00.
    pub fn from_minutes(minutes: u16) -> Option<Self> {
        (minutes <= DAY_MINUTES).then_some(Self(minutes))
    }

    /// Minutes after midnight.
    pub fn minutes(self) -> u16 {
        self.0
    }

    /// The local date-time of this time on `date` (24:00 is the next day's midnight).
    pub fn on(self, date: Date) -> PrimitiveDateTime {
        PrimitiveDateTime::new(date, Time::MIDNIGHT) + Duration::minutes(i64::from(self.0))
    }

    pub(crate) fn of(time: Time) -> Self {
        Self(u16::from(time.hour()) * 60 + u16::from(time.minute()))
    }
}

impl fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

/// One opening period of a day, `[start, end)`: open at `start`, closed at `end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Period {
    start: TimeOfDay,
    end: TimeOfDay,
}

impl Period {
    /// The period from `start` to `end`; [`HoursError::Invalid`] unless `start < end`.
    pub fn new(start: TimeOfDay, end: TimeOfDay) -> Result<Self, HoursError> {
        if start < end {
            Ok(Self { start, end })
        } else {
            Err(HoursError::Invalid)
        }
    }

    /// Parses `"HH:MM"` to `"HH:MM"`.
    pub fn parse(start: &str, end: &str) -> Result<Self, HoursError> {
        Self::new(TimeOfDay::parse(start)?, TimeOfDay::parse(end)?)
    }

    /// When it opens.
    pub fn start(self) -> TimeOfDay {
        self.start
    }

    /// When it closes (closed from this minute on).
    pub fn end(self) -> TimeOfDay {
        self.end
    }

    fn contains(self, at: TimeOfDay) -> bool {
        self.start <= at && at < self.end
    }
}

/// A day's opening periods, in order, with gaps between them; empty = closed all day.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct DayHours(Vec<Period>);

impl DayHours {
    /// Closed all day.
    pub fn closed() -> Self {
        Self(Vec::new())
    }

    /// Open all day (00:00 to 24:00).
    pub fn all_day() -> Self {
        Self(vec![Period {
            start: TimeOfDay(0),
            end: TimeOfDay(DAY_MINUTES),
        }])
    }

    /// The periods as given: in order, not overlapping or touching, at most
    /// [`MAX_PERIODS_PER_DAY`].
    pub fn new(periods: Vec<Period>) -> Result<Self, HoursError> {
        if periods.len() > MAX_PERIODS_PER_DAY {
            return Err(HoursError::TooMany);
        }
        if periods.windows(2).any(|w| w[1].start <= w[0].end) {
            return Err(HoursError::Overlap);
        }
        Ok(Self(periods))
    }

    /// The periods.
    pub fn periods(&self) -> &[Period] {
        &self.0
    }

    /// Whether it has no period.
    pub fn is_closed(&self) -> bool {
        self.0.is_empty()
    }

    fn period_at(&self, at: TimeOfDay) -> Option<Period> {
        self.0.iter().copied().find(|p| p.contains(at))
    }

    /// Stored form: `HH:MM-HH:MM` periods joined by `,` (empty when closed).
    pub fn to_text(&self) -> String {
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|p| format!("{}-{}", p.start, p.end))
            .collect();
        parts.join(",")
    }

    /// Reads [`DayHours::to_text`] back.
    pub fn from_text(text: &str) -> Result<Self, HoursError> {
        if text.is_empty() {
            return Ok(Self::closed());
        }
        let periods = text
            .split(',')
            .map(|p| {
                let (start, end) = p.split_once('-').ok_or(HoursError::Invalid)?;
                Period::parse(start, end)
            })
            .collect::<Result<Vec<_>, _>>()?;
        Self::new(periods)
    }
}

/// Hours for each weekday, Monday first.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct WeekHours([DayHours; 7]);

impl WeekHours {
    /// Hours of each weekday, Monday first.
    pub fn new(days: [DayHours; 7]) -> Self {
        Self(days)
    }

    /// The same hours every day.
    pub fn every_day(day: &DayHours) -> Self {
        Self(std::array::from_fn(|_| day.clone()))
    }

    /// The hours of `weekday`.
    pub fn on(&self, weekday: Weekday) -> &DayHours {
        &self.0[usize::from(weekday.number_days_from_monday())]
    }

    /// Stored form: the seven days' [`DayHours::to_text`] joined by `|`, Monday first.
    pub fn to_text(&self) -> String {
        let days: Vec<String> = self.0.iter().map(DayHours::to_text).collect();
        days.join("|")
    }

    /// Reads [`WeekHours::to_text`] back.
    pub fn from_text(text: &str) -> Result<Self, HoursError> {
        let days = text
            .split('|')
            .map(DayHours::from_text)
            .collect::<Result<Vec<_>, _>>()?;
        let days: [DayHours; 7] = days.try_into().map_err(|_| HoursError::Invalid)?;
        Ok(Self(days))
    }
}

/// What special hours say for each date of their range.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SpecialPattern {
    /// Closed every day of the range.
    Closed,
    /// The same periods every day.
    Daily(DayHours),
    /// A weekly pattern of their own.
    Weekly(WeekHours),
}

impl SpecialPattern {
    fn on(&self, date: Date) -> DayHours {
        match self {
            Self::Closed => DayHours::closed(),
            Self::Daily(day) => day.clone(),
            Self::Weekly(week) => week.on(date.weekday()).clone(),
        }
    }

    /// Stored form: `closed`, `daily:<day>` or `weekly:<week>`.
    pub fn to_text(&self) -> String {
        match self {
            Self::Closed => "closed".to_owned(),
            Self::Daily(day) => format!("daily:{}", day.to_text()),
            Self::Weekly(week) => format!("weekly:{}", week.to_text()),
        }
    }

    /// Reads [`SpecialPattern::to_text`] back.
    pub fn from_text(text: &str) -> Result<Self, HoursError> {
        if text == "closed" {
            Ok(Self::Closed)
        } else if let Some(day) = text.strip_prefix("daily:") {
            DayHours::from_text(day).map(Self::Daily)
        } else if let Some(week) = text.strip_prefix("weekly:") {
            WeekHours::from_text(week).map(Self::Weekly)
        } else {
            Err(HoursError::Invalid)
        }
    }
}

/// Special hours: a pattern for every date from `from` to `to`, both included.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SpecialHours {
    from: Date,
    to: Date,
    pattern: SpecialPattern,
}

impl SpecialHours {
    /// Special hours from `from` to `to` inclusive; [`HoursError::ToBeforeFrom`] if the
    /// range is empty.
    pub fn new(from: Date, to: Date, pattern: SpecialPattern) -> Result<Self, HoursError> {
        if to < from {
            return Err(HoursError::ToBeforeFrom);
        }
        Ok(Self { from, to, pattern })
    }

    /// First date.
    pub fn from(&self) -> Date {
        self.from
    }

    /// Last date (inclusive).
    pub fn to(&self) -> Date {
        self.to
    }

    /// What they say.
    pub fn pattern(&self) -> &SpecialPattern {
        &self.pattern
    }

    fn covers(&self, date: Date) -> bool {
        self.from <= date && date <= self.to
    }
}

/// A library's hours: the regular week (`None`: none configured, open all day on open
/// days) and its special hours in the order declared (a later one wins on overlap).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Hours {
    /// The regular week; `None` = open all day.
    pub regular: Option<WeekHours>,
    /// Special hours, oldest declaration first.
    pub special: Vec<SpecialHours>,
}

/// Which local dates the library's calendar has closed all day.
pub trait ClosedDays {
    /// Whether the library is closed all day on `date`.
    fn is_closed(&self, date: Date) -> bool;
}

impl<F: Fn(Date) -> bool> ClosedDays for F {
    fn is_closed(&self, date: Date) -> bool {
        self(date)
    }
}

/// The library's state at an instant, in its local time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenStatus {
    /// Open at the instant.
    pub open_now: bool,
    /// When the current period ends (local time today; 24:00 for midnight), if open.
    pub closes_at: Option<TimeOfDay>,
    /// The start of the next period after the instant (local), within
    /// [`LOOK_AHEAD_DAYS`]; `None` if there is none.
    pub opens_next: Option<PrimitiveDateTime>,
}

impl Hours {
    /// The hours in force on `date` (local): none on a closed day; else the latest
    /// declared special hours covering it, else the regular week, else all day.
    pub fn on(&self, date: Date, closed: &dyn ClosedDays) -> DayHours {
        if closed.is_closed(date) {
            return DayHours::closed();
        }
        if let Some(special) = self.special.iter().rev().find(|s| s.covers(date)) {
            return special.pattern.on(date);
        }
        match &self.regular {
            Some(week) => week.on(date.weekday()).clone(),
            None => DayHours::all_day(),
        }
    }

    /// Whether open at `now`, until when, and when it opens next, in the zone `offset`.
    pub fn status(
        &self,
        now: OffsetDateTime,
        offset: UtcOffset,
        closed: &dyn ClosedDays,
    ) -> OpenStatus {
        let local = now.to_offset(offset);
        let (today, at) = (local.date(), TimeOfDay::of(local.time()));
        let current = self.on(today, closed).period_at(at);
        OpenStatus {
            open_now: current.is_some(),
            closes_at: current.map(|p| p.end),
            opens_next: self.opens_after(today, at, closed),
        }
    }

    /// The start of the first period that starts after `at` on `today`, looking
    /// [`LOOK_AHEAD_DAYS`] ahead.
    fn opens_after(
        &self,
        today: Date,
        at: TimeOfDay,
        closed: &dyn ClosedDays,
    ) -> Option<PrimitiveDateTime> {
        let mut date = today;
        for _ in 0..=LOOK_AHEAD_DAYS {
            let day = self.on(date, closed);
            let start = day
                .periods()
                .iter()
                .map(|p| p.start)
                .find(|s| date != today || *s > at);
            if let Some(start) = start {
                return Some(start.on(date));
            }
            date = date.next_day()?;
        }
        None
    }

    /// The hours in force on each of `days` dates from `from`.
    pub fn days(&self, from: Date, days: u8, closed: &dyn ClosedDays) -> Vec<(Date, DayHours)> {
        let mut out = Vec::with_capacity(usize::from(days));
        let mut date = Some(from);
        for _ in 0..days {
            let Some(d) = date else { break };
            out.push((d, self.on(d, closed)));
            date = d.next_day();
        }
        out
    }
}

/// A section's code: `[a-z0-9_]{1,32}` (`adult`, `young_adult`, `children`, `study_room`,
/// `computer`, ...).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SectionCode(String);

impl SectionCode {
    /// Parses a section code ([`HoursError::SectionInvalid`]).
    pub fn parse(raw: &str) -> Result<Self, HoursError> {
        let ok = !raw.is_empty()
            && raw.len() <= 32
            && raw
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(HoursError::SectionInvalid)
        }
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SectionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Open or closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SectionStatus {
    /// Open (during its hours).
    Open,
    /// Closed.
    Closed,
}

impl SectionStatus {
    /// `open` or `closed`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Closed => "closed",
        }
    }

    /// Reads [`SectionStatus::as_str`] back.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "open" => Some(Self::Open),
            "closed" => Some(Self::Closed),
            _ => None,
        }
    }

    fn other(self) -> Self {
        match self {
            Self::Open => Self::Closed,
            Self::Closed => Self::Open,
        }
    }
}

/// A section of a library: its status from a date, until a date or further notice, and
/// optionally its own hours.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Section {
    code: SectionCode,
    status: SectionStatus,
    from: Date,
    until: Option<Date>,
    hours: Option<WeekHours>,
}

impl Section {
    /// Section `code` is `status` from `from` to `until` inclusive (`None`: until further
    /// notice), the other status outside; `hours` its own, if any.
    pub fn new(
        code: SectionCode,
        status: SectionStatus,
        from: Date,
        until: Option<Date>,
        hours: Option<WeekHours>,
    ) -> Result<Self, HoursError> {
        if until.is_some_and(|u| u < from) {
            return Err(HoursError::ToBeforeFrom);
        }
        Ok(Self {
            code,
            status,
            from,
            until,
            hours,
        })
    }

    /// Its code.
    pub fn code(&self) -> &SectionCode {
        &self.code
    }
    /// The status declared.
    pub fn status(&self) -> SectionStatus {
        self.status
    }
    /// From when the status holds.
    pub fn from(&self) -> Date {
        self.from
    }
    /// Until when (inclusive); `None`: until further notice.
    pub fn until(&self) -> Option<Date> {
        self.until
    }
    /// Its own hours, if any.
    pub fn hours(&self) -> Option<&WeekHours> {
        self.hours.as_ref()
    }

    /// Its status on `date`: the declared one within its range, the other outside.
    pub fn status_on(&self, date: Date) -> SectionStatus {
        if self.from <= date && self.until.is_none_or(|u| date <= u) {
            self.status
        } else {
            self.status.other()
        }
    }

    /// Whether it is open at `now`: open that day, not a closed day, and within its own
    /// hours, or the library's `hours` when it has none.
    pub fn open_at(
        &self,
        now: OffsetDateTime,
        offset: UtcOffset,
        library: &Hours,
        closed: &dyn ClosedDays,
    ) -> bool {
        let local = now.to_offset(offset);
        let today = local.date();
        if self.status_on(today) == SectionStatus::Closed || closed.is_closed(today) {
            return false;
        }
        let day = match &self.hours {
            Some(week) => week.on(today.weekday()).clone(),
            None => library.on(today, closed),
        };
        day.period_at(TimeOfDay::of(local.time())).is_some()
    }
}

/// The services that keep serving while a library is closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct DoorServices {
    /// The book drop takes returns while the library is closed.
    pub book_drop: bool,
    /// The self-service station lends and returns while the library is closed.
    pub self_service_station: bool,
}

#[cfg(test)]
mod tests;
