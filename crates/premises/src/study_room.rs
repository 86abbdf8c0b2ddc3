//! Students' Study Room admission cards (docs/premises.md, Study-room admission cards):
//! a scheme opens an application window; registered readers apply once, on the web or by
//! post (the postmark date counts); if there are more applications than places, lots are
//! drawn ([`ballot`]), with a share of the places for public or professional examination
//! candidates; the winners hold an admission card, checked at the study room's door.
//!
//! Refusals, each with a stable code, checked in the order listed:
//! - an application ([`ApplicationRefusal`]): `before_window`, `after_window`,
//!   `ballot_already_run`, `already_applied`;
//! - the ballot ([`BallotRefusal`]): `ballot_already_run`, `window_still_open`;
//! - a staff decision ([`DecisionRefusal`]): `card_revoked`, `ballot_not_run` (approving
//!   only), `already_approved` / `already_rejected`, `no_place_left` (approving only);
//! - a revocation ([`RevocationRefusal`]): `already_revoked`, `not_approved`;
//! - the card at the door ([`AdmissionRefusal`]): `no_card`, `card_not_yet_valid`,
//!   `card_expired`, `card_revoked`.

pub mod ballot;

use crate::hours::{MAX_PERIODS_PER_DAY, Period, TimeOfDay};
use library_core::{LibraryCode, MAX_NAME_CHARS, PatronId, fits};
use time::{Date, OffsetDateTime, Time};

/// The most places a scheme may offer.
pub const MAX_PLACES: u32 = 100_000;
/// The examination a candidate names: at most this many characters.
pub const MAX_EXAM_CHARS: usize = 200;
/// A reason given to the reader (rejection, revocation): at most this many characters.
pub const MAX_REASON_CHARS: usize = 500;

/// A scheme's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SchemeId(pub i64);

/// An application's id (the ballot's stable order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ApplicationId(pub i64);

/// One opening interval of the extended hours, local time: opens before it closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HoursInterval {
    /// Opening time.
    pub opens: Time,
    /// Closing time (after `opens`).
    pub closes: Time,
}

impl HoursInterval {
    /// Parses `HH:MM-HH:MM` (an en dash `–` also separates), the day's hours' period
    /// ([`Period::parse`]) but never to 24:00; `None` if malformed or if it does not close
    /// after it opens.
    pub fn parse(raw: &str) -> Option<Self> {
        let (a, b) = raw.trim().split_once(['-', '–'])?;
        let period = Period::parse(a.trim(), b.trim()).ok()?;
        let time = |t: TimeOfDay| {
            let (h, m) = (t.minutes() / 60, t.minutes() % 60);
            Time::from_hms(u8::try_from(h).ok()?, u8::try_from(m).ok()?, 0).ok()
        };
        Some(Self {
            opens: time(period.start())?,
            closes: time(period.end())?,
        })
    }
}

impl std::fmt::Display for HoursInterval {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}-{}",
            TimeOfDay::of(self.opens),
            TimeOfDay::of(self.closes)
        )
    }
}

/// The study room's extended opening hours during the examination period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtendedHours {
    /// First day (inclusive).
    pub from: Date,
    /// Last day (inclusive).
    pub to: Date,
    /// The opening intervals of each of those days (may be empty: the period only).
    pub hours: Vec<HoursInterval>,
}

/// A scheme as an administrator submits it, before any check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemeForm {
    /// Name in English.
    pub name: String,
    /// Name in Traditional Chinese.
    pub name_zh: String,
    /// The study room's library; `None`: the study rooms of every library.
    pub library_code: Option<String>,
    /// First day applications count (inclusive).
    pub opens_on: Date,
    /// Last day applications count (inclusive; for post, the postmark's date).
    pub closes_on: Date,
    /// First day the cards admit.
    pub valid_from: Date,
    /// Last day the cards admit.
    pub valid_to: Date,
    /// First day of the extended hours, if any.
    pub extended_from: Option<Date>,
    /// Last day of the extended hours, if any.
    pub extended_to: Option<Date>,
    /// The extended hours' intervals, `HH:MM-HH:MM` each.
    pub extended_hours: Vec<String>,
    /// Places (cards to give).
    pub places: i64,
    /// Percentage of places for examination candidates (0 to 100; `None`: 0).
    pub priority_percent: Option<i64>,
}

/// A valid scheme, not yet stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewScheme {
    /// Name in English.
    pub name: String,
    /// Name in Traditional Chinese.
    pub name_zh: String,
    /// The study room's library; `None`: every library's.
    pub library: Option<LibraryCode>,
    /// The application window's first day.
    pub opens_on: Date,
    /// The application window's last day.
    pub closes_on: Date,
    /// The cards' first valid day (after the window closes).
    pub valid_from: Date,
    /// The cards' last valid day.
    pub valid_to: Date,
    /// The extended hours, if announced.
    pub extended: Option<ExtendedHours>,
    /// Places: 1 to [`MAX_PLACES`].
    pub places: u32,
    /// Percentage of places for examination candidates: 0 to 100.
    pub priority_percent: u8,
}

/// `raw` trimmed: `missing` if blank, `invalid` if over `max` characters or with control
/// characters.
fn text(
    raw: &str,
    max: usize,
    missing: &'static str,
    invalid: &'static str,
) -> Result<String, &'static str> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        Err(missing)
    } else if !fits(trimmed, max) {
        Err(invalid)
    } else {
        Ok(trimmed.to_owned())
    }
}

impl SchemeForm {
    /// Checks every field; the scheme, or every violation: `name_missing`,
    /// `name_invalid`, `name_zh_missing`, `name_zh_invalid`, `library_code_invalid`,
    /// `window_invalid` (opens after it closes), `validity_invalid` (valid from after
    /// valid to), `validity_before_window_closes` (cards valid on a day applications still
    /// count), `extended_hours_invalid` (one date without the other, the first after the
    /// last, intervals without dates, more than [`MAX_PERIODS_PER_DAY`], or one not
    /// `HH:MM-HH:MM` closing after it opens), `places_invalid`, `priority_share_invalid`.
    pub fn parse(self) -> Result<NewScheme, Vec<&'static str>> {
        let mut violations = Vec::new();
        let v = &mut violations;
        let name = take(
            v,
            text(&self.name, MAX_NAME_CHARS, "name_missing", "name_invalid"),
        );
        let name_zh = take(
            v,
            text(
                &self.name_zh,
                MAX_NAME_CHARS,
                "name_zh_missing",
                "name_zh_invalid",
            ),
        );
        let library = match self.library_code.as_deref().map(str::trim) {
            None | Some("") => Some(None),
            Some(code) => take(
                v,
                LibraryCode::parse(code)
                    .map(Some)
                    .map_err(|_| "library_code_invalid"),
            ),
        };
        let places = take(
            v,
            u32::try_from(self.places)
                .ok()
                .filter(|p| (1..=MAX_PLACES).contains(p))
                .ok_or("places_invalid"),
        );
        let priority_percent = take(
            v,
            u8::try_from(self.priority_percent.unwrap_or(0))
                .ok()
                .filter(|p| *p <= 100)
                .ok_or("priority_share_invalid"),
        );
        let extended = take(
            v,
            extended_hours(self.extended_from, self.extended_to, &self.extended_hours),
        );
        if self.opens_on > self.closes_on {
            violations.push("window_invalid");
        }
        if self.valid_from > self.valid_to {
            violations.push("validity_invalid");
        }
        if self.valid_from <= self.closes_on {
            violations.push("validity_before_window_closes");
        }
        match (name, name_zh, library, places, priority_percent, extended) {
            (
                Some(name),
                Some(name_zh),
                Some(library),
                Some(places),
                Some(priority_percent),
                Some(extended),
            ) if violations.is_empty() => Ok(NewScheme {
                name,
                name_zh,
                library,
                opens_on: self.opens_on,
                closes_on: self.closes_on,
                valid_from: self.valid_from,
                valid_to: self.valid_to,
                extended,
                places,
                priority_percent,
            }),
            _ => Err(violations),
        }
    }
}

fn take<T>(violations: &mut Vec<&'static str>, r: Result<T, &'static str>) -> Option<T> {
    r.map_err(|v| violations.push(v)).ok()
}

fn extended_hours(
    from: Option<Date>,
    to: Option<Date>,
    hours: &[String],
) -> Result<Option<ExtendedHours>, &'static str> {
    const BAD: &str = "extended_hours_invalid";
    match (from, to) {
        (None, None) if hours.is_empty() => Ok(None),
        (Some(from), Some(to)) if from <= to && hours.len() <= MAX_PERIODS_PER_DAY => {
            let hours = hours
                .iter()
                .map(|h| HoursInterval::parse(h))
                .collect::<Option<Vec<_>>>()
                .ok_or(BAD)?;
            Ok(Some(ExtendedHours { from, to, hours }))
        }
        _ => Err(BAD),
    }
}

/// A stored scheme.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scheme {
    /// Its id.
    pub id: SchemeId,
    /// What it offers and when.
    pub details: NewScheme,
    /// Whether its ballot has been run.
    pub ballot_run: bool,
}

/// How an application reached the library.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// Online, by the reader: the local date of submission counts.
    Web,
    /// By post, recorded by staff: the postmark's date counts.
    Post,
}

impl Channel {
    /// The channel's code (`web`, `post`).
    pub fn code(self) -> &'static str {
        match self {
            Channel::Web => "web",
            Channel::Post => "post",
        }
    }

    /// The channel of a code.
    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "web" => Some(Channel::Web),
            "post" => Some(Channel::Post),
            _ => None,
        }
    }
}

/// Why an application is not accepted (a 409 `application_refused` with this `reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ApplicationRefusal {
    /// The date that counts is before the window opens.
    #[error("the application window has not opened")]
    BeforeWindow,
    /// The date that counts is after the window closes.
    #[error("the application window has closed")]
    AfterWindow,
    /// The lots have been drawn: no application can join any more.
    #[error("the ballot has been run")]
    BallotAlreadyRun,
    /// One application per reader per scheme.
    #[error("already applied")]
    AlreadyApplied,
}

impl ApplicationRefusal {
    /// The reason's code.
    pub fn code(self) -> &'static str {
        match self {
            ApplicationRefusal::BeforeWindow => "before_window",
            ApplicationRefusal::AfterWindow => "after_window",
            ApplicationRefusal::BallotAlreadyRun => "ballot_already_run",
            ApplicationRefusal::AlreadyApplied => "already_applied",
        }
    }
}

/// Why the ballot may not be run (a 409 `ballot_refused` with this `reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BallotRefusal {
    /// It has been run; it is never run twice.
    #[error("the ballot has been run")]
    AlreadyRun,
    /// Applications still count today.
    #[error("the application window is still open")]
    WindowStillOpen,
}

impl BallotRefusal {
    /// The reason's code.
    pub fn code(self) -> &'static str {
        match self {
            BallotRefusal::AlreadyRun => "ballot_already_run",
            BallotRefusal::WindowStillOpen => "window_still_open",
        }
    }
}

impl NewScheme {
    /// Why an application counted on `counted_on` is refused, the ballot having been run
    /// or not and the reader having applied already or not; `None` if it is accepted.
    pub fn application_refusal(
        &self,
        counted_on: Date,
        ballot_run: bool,
        already_applied: bool,
    ) -> Option<ApplicationRefusal> {
        if counted_on < self.opens_on {
            Some(ApplicationRefusal::BeforeWindow)
        } else if counted_on > self.closes_on {
            Some(ApplicationRefusal::AfterWindow)
        } else if ballot_run {
            Some(ApplicationRefusal::BallotAlreadyRun)
        } else if already_applied {
            Some(ApplicationRefusal::AlreadyApplied)
        } else {
            None
        }
    }

    /// Why the ballot may not be run on `today`; `None` if it may (from the day after
    /// the window closes).
    pub fn ballot_refusal(&self, today: Date, ballot_run: bool) -> Option<BallotRefusal> {
        if ballot_run {
            Some(BallotRefusal::AlreadyRun)
        } else if today <= self.closes_on {
            Some(BallotRefusal::WindowStillOpen)
        } else {
            None
        }
    }

    /// Whether a reader could apply online on `today`.
    pub fn window_open(&self, today: Date) -> bool {
        (self.opens_on..=self.closes_on).contains(&today)
    }
}

/// What a reader declares when applying.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplicationForm {
    /// How it reached the library.
    pub channel: Channel,
    /// The date that counts: the local date of submission (web) or the postmark (post).
    pub counted_on: Date,
    /// Whether the reader is a public or professional examination candidate.
    pub exam_candidate: bool,
    /// Which examination (free text, optional).
    pub exam: Option<String>,
}

/// A checked application, not yet stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApplication {
    /// How it reached the library.
    pub channel: Channel,
    /// The date that counts.
    pub counted_on: Date,
    /// Whether the reader declared being an examination candidate.
    pub exam_candidate: bool,
    /// Which examination (may be empty).
    pub exam: String,
}

impl ApplicationForm {
    /// Checks the form on `today`: `postmark_in_future` (a postmark after today),
    /// `exam_invalid` (over [`MAX_EXAM_CHARS`] or with control characters).
    pub fn parse(self, today: Date) -> Result<NewApplication, Vec<&'static str>> {
        let mut violations = Vec::new();
        if self.counted_on > today {
            violations.push("postmark_in_future");
        }
        let exam = self.exam.as_deref().unwrap_or("").trim().to_owned();
        if !fits(&exam, MAX_EXAM_CHARS) {
            violations.push("exam_invalid");
        }
        if violations.is_empty() {
            Ok(NewApplication {
                channel: self.channel,
                counted_on: self.counted_on,
                exam_candidate: self.exam_candidate,
                exam,
            })
        } else {
            Err(violations)
        }
    }
}

/// Where an application stands as decided (a revocation is recorded apart).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Waiting for the ballot.
    Pending,
    /// A card: drawn in the ballot or approved by staff.
    Approved,
    /// Not drawn.
    NotSelected,
    /// Rejected by staff, with a reason the reader sees.
    Rejected,
}

impl Decision {
    /// The decision's code.
    pub fn code(self) -> &'static str {
        match self {
            Decision::Pending => "pending",
            Decision::Approved => "approved",
            Decision::NotSelected => "not_selected",
            Decision::Rejected => "rejected",
        }
    }

    /// The decision of a code.
    pub fn from_code(code: &str) -> Option<Self> {
        [
            Decision::Pending,
            Decision::Approved,
            Decision::NotSelected,
            Decision::Rejected,
        ]
        .into_iter()
        .find(|d| d.code() == code)
    }
}

/// A stored application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Application {
    /// Its id.
    pub id: ApplicationId,
    /// The scheme.
    pub scheme: SchemeId,
    /// The reader.
    pub patron: PatronId,
    /// What was declared.
    pub details: NewApplication,
    /// When it was submitted or recorded.
    pub submitted_at: OffsetDateTime,
    /// The decision.
    pub decision: Decision,
    /// The staff's reason (a rejection's; a revocation's), shown to the reader.
    pub reason: Option<String>,
    /// When the card was revoked, if it was.
    pub revoked_at: Option<OffsetDateTime>,
}

/// An application's status as the reader and staff see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApplicationStatus {
    /// Waiting for the ballot.
    Pending,
    /// A card.
    Approved,
    /// Not drawn.
    NotSelected,
    /// Rejected by staff.
    Rejected,
    /// The card was revoked.
    Revoked,
}

impl ApplicationStatus {
    /// The status's code.
    pub fn code(self) -> &'static str {
        match self {
            ApplicationStatus::Pending => "pending",
            ApplicationStatus::Approved => "approved",
            ApplicationStatus::NotSelected => "not_selected",
            ApplicationStatus::Rejected => "rejected",
            ApplicationStatus::Revoked => "revoked",
        }
    }
}

/// What staff decide about one application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StaffDecision {
    /// Give a card (after the ballot, within the places).
    Approve,
    /// Refuse, with a reason the reader sees.
    Reject {
        /// The reason (non-empty).
        reason: String,
    },
}

/// Why a staff decision is refused (a 409 `decision_refused` with this `reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DecisionRefusal {
    /// The card was revoked; that is final.
    #[error("the card was revoked")]
    CardRevoked,
    /// Cards are given by the ballot first.
    #[error("the ballot has not been run")]
    BallotNotRun,
    /// Approved already.
    #[error("already approved")]
    AlreadyApproved,
    /// Rejected already.
    #[error("already rejected")]
    AlreadyRejected,
    /// Every place has a card.
    #[error("no place left")]
    NoPlaceLeft,
}

impl DecisionRefusal {
    /// The reason's code.
    pub fn code(self) -> &'static str {
        match self {
            DecisionRefusal::CardRevoked => "card_revoked",
            DecisionRefusal::BallotNotRun => "ballot_not_run",
            DecisionRefusal::AlreadyApproved => "already_approved",
            DecisionRefusal::AlreadyRejected => "already_rejected",
            DecisionRefusal::NoPlaceLeft => "no_place_left",
        }
    }
}

/// Why a revocation is refused (a 409 `revocation_refused` with this `reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RevocationRefusal {
    /// Revoked already.
    #[error("already revoked")]
    AlreadyRevoked,
    /// There is no card to revoke.
    #[error("the application is not approved")]
    NotApproved,
}

impl RevocationRefusal {
    /// The reason's code.
    pub fn code(self) -> &'static str {
        match self {
            RevocationRefusal::AlreadyRevoked => "already_revoked",
            RevocationRefusal::NotApproved => "not_approved",
        }
    }
}

/// Why a reader is not admitted at the study room's door (a 409 `admission_refused` with
/// this `reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AdmissionRefusal {
    /// No approved application for this scheme.
    #[error("no admission card")]
    NoCard,
    /// Before the card's first valid day.
    #[error("the card is not yet valid")]
    NotYetValid,
    /// After the card's last valid day.
    #[error("the card has expired")]
    Expired,
    /// The card was revoked.
    #[error("the card was revoked")]
    Revoked,
}

impl AdmissionRefusal {
    /// The reason's code.
    pub fn code(self) -> &'static str {
        match self {
            AdmissionRefusal::NoCard => "no_card",
            AdmissionRefusal::NotYetValid => "card_not_yet_valid",
            AdmissionRefusal::Expired => "card_expired",
            AdmissionRefusal::Revoked => "card_revoked",
        }
    }
}

/// A reason typed by staff: `reason_missing` if blank, `reason_invalid` if over
/// [`MAX_REASON_CHARS`] or with control characters.
pub fn parse_reason(raw: &str) -> Result<String, &'static str> {
    text(raw, MAX_REASON_CHARS, "reason_missing", "reason_invalid")
}

impl Application {
    /// The status shown: a revocation first, then the decision.
    pub fn status(&self) -> ApplicationStatus {
        if self.revoked_at.is_some() {
            return ApplicationStatus::Revoked;
        }
        match self.decision {
            Decision::Pending => ApplicationStatus::Pending,
            Decision::Approved => ApplicationStatus::Approved,
            Decision::NotSelected => ApplicationStatus::NotSelected,
            Decision::Rejected => ApplicationStatus::Rejected,
        }
    }

    /// Why `decision` is refused, given whether the ballot has run and how many cards the
    /// scheme's `places` already have (`approved`); `None` if it may be made. Rejecting
    /// is possible before the ballot (the application then takes no part in it) and after
    /// it (an approved card's place is freed); approving only after the ballot and within
    /// the places.
    pub fn decision_refusal(
        &self,
        decision: &StaffDecision,
        ballot_run: bool,
        approved: u32,
        places: u32,
    ) -> Option<DecisionRefusal> {
        if self.revoked_at.is_some() {
            return Some(DecisionRefusal::CardRevoked);
        }
        match decision {
            StaffDecision::Approve if !ballot_run => Some(DecisionRefusal::BallotNotRun),
            StaffDecision::Approve if self.decision == Decision::Approved => {
                Some(DecisionRefusal::AlreadyApproved)
            }
            StaffDecision::Approve if approved >= places => Some(DecisionRefusal::NoPlaceLeft),
            StaffDecision::Reject { .. } if self.decision == Decision::Rejected => {
                Some(DecisionRefusal::AlreadyRejected)
            }
            _ => None,
        }
    }

    /// Why the card may not be revoked; `None` if it may.
    pub fn revocation_refusal(&self) -> Option<RevocationRefusal> {
        if self.revoked_at.is_some() {
            Some(RevocationRefusal::AlreadyRevoked)
        } else if self.decision != Decision::Approved {
            Some(RevocationRefusal::NotApproved)
        } else {
            None
        }
    }
}

/// The check at the study room's door on library-local date `on`, for the reader's
/// application to the scheme (`None`: they have none): `Ok` to admit, or the first
/// refusal in the order of the module documentation.
pub fn admission(
    scheme: &NewScheme,
    application: Option<&Application>,
    on: Date,
) -> Result<(), AdmissionRefusal> {
    let Some(card) = application.filter(|a| a.decision == Decision::Approved) else {
        return Err(AdmissionRefusal::NoCard);
    };
    if on < scheme.valid_from {
        Err(AdmissionRefusal::NotYetValid)
    } else if on > scheme.valid_to {
        Err(AdmissionRefusal::Expired)
    } else if card.revoked_at.is_some() {
        Err(AdmissionRefusal::Revoked)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests;
