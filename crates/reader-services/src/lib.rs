//! Reader services beyond circulation (docs/ARCHITECTURE.md, What the system is for): the
//! extension activities a reader registers for and the library notices they read ("My
//! Info"), their settings ("My Setting"), and their enquiries with the staff's answers
//! ("Ask a Librarian").
//!
//! What lives here is every rule of those services as plain data and pure functions: what
//! a valid activity, notice, setting or enquiry is (each form parses into a value or names
//! every violation by its code), when a registration is refused and why, in which order
//! (see [`Activity::registration_refusal`]), which notices are current, and what keeping
//! or not keeping the reading history shows, and when a returned loan of a reader who does
//! not keep it loses its link to them ([`AnonymisationPolicy`]).
//!
//! Invariants:
//! - No I/O, no async runtime, no database, no HTTP. Stores apply these decisions inside
//!   their own transactions (for capacity: under the activity's row lock), never
//!   re-implementing them in SQL.
//! - Violation and refusal codes are `snake_case` and stable: clients see them.
//! - Text is trimmed and limited in characters, never bytes; control characters are refused
//!   (line breaks and tabs are allowed in multi-line text).

mod activity;
mod anonymisation;
mod enquiry;
mod notice;
mod settings;
mod text;

pub use activity::{
    Activity, ActivityForm, ActivityId, ActivityListing, ActivityQuery, ActivityType,
    CancellationRefusal, MAX_ACTIVITY_CAPACITY, NewActivity, ReaderRegistration, Registrant,
    RegistrationRefusal, RegistrationStatus,
};
pub use anonymisation::{AnonymisationPolicy, ReturnedLoanFacts};
pub use enquiry::{
    Answer, Enquiry, EnquiryForm, EnquiryId, EnquiryStatus, NewEnquiry, StaffEnquiry, parse_answer,
};
pub use notice::{NewNotice, Notice, NoticeForm, NoticeId, NoticeListing};
pub use settings::{
    Channel, Email, EmailChange, Language, ReaderSettings, ReadingHistory, ReturnedLoan,
    SettingsForm, SmsNumber,
};
pub use text::Violations;

/// One page of a listing: the items asked for and how many there are in all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// The items of this page, in the listing's order.
    pub items: Vec<T>,
    /// How many items match, over all pages.
    pub total: u64,
}
