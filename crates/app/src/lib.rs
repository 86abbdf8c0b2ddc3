//! The application layer: every use case of every channel, in one place.
//!
//! The inbound adapters (the HTTP API, the SIP2 server, the admin tool, the readers' web
//! pages) hold a [`Services`] and call it; they know no database. The outbound adapter
//! (`library-persistence`) implements the interfaces of [`ports`], [`reader_services`] and
//! [`services`] over SQLite or PostgreSQL, and the apps wire the two together.
//!
//! What lives here and nowhere else:
//! - the service interfaces every channel calls ([`ports`], [`reader_services`],
//!   [`ReaderDirectory`], [`Readiness`], [`JobRunner`]), so no channel defines ports of its
//!   own;
//! - reader registration: the form's checks, the card number, the card's expiry and the
//!   default credentials ([`registration`]), for the counter, the admin tool's CSV import
//!   and the demo data alike;
//! - a reader's standing at a library and the messages every channel shows about it
//!   ([`standing`]);
//! - delivering the outbox: the messages rendered in the reader's language and sent by
//!   mail, with a lease, retries and backoff ([`delivery`]);
//! - secrets sealed while they wait in the database ([`secrets`]);
//! - saving a reader's settings, where a change of the email needs the Password
//!   ([`settings`]), and the job anonymising the returned loans of readers who keep no
//!   reading history ([`anonymisation`]);
//! - staff roles: which role may do which kind of staff work ([`roles`]);
//! - the staff reports: circulation counts and fines per library and local day, the
//!   overdue loans with their fines ([`reports`]);
//! - a library closure that moves the due dates and pickup-by dates inside it, and its
//!   preview ([`closures`]);
//! - capacity and admission at the door, visitor registration for contact tracing with
//!   the `contact_tracing` permission, and the purge of registrations past their
//!   retention ([`admission`]);
//! - the Students' Study Room admission cards: applications online and by post, the
//!   ballot with its recorded seed, the card checked at the door ([`study_rooms`]);
//! - Argon2 hashing off the async runtime, bounded ([`BlockingHasher`]);
//! - the process's metrics and their Prometheus text ([`metrics`]).
//!
//! Invariants: no HTTP, no SIP2 wire format, no SQL. Errors are the domain's and this
//! crate's enums; each channel maps them once.

pub mod account;
pub mod admission;
pub mod anonymisation;
pub mod catalogue;
pub mod closures;
pub mod delivery;
pub mod hasher;
pub mod metrics;
pub mod notices;
pub mod ports;
pub mod premises;
pub mod reader_services;
pub mod readers;
pub mod registration;
pub mod reports;
pub mod returns;
pub mod roles;
pub mod secrets;
pub mod security;
pub mod services;
pub mod settings;
pub mod standing;
pub mod study_rooms;
pub mod templates;

pub use account::{HOLD_HISTORY_DAYS, HoldLine, LoanLine, Renewal, RenewalResult, reader_channel};
pub use admission::{Admission, AdmissionError, AdmissionStore, VisitorPurge};
pub use anonymisation::Anonymisation;
pub use catalogue::{CatalogueHit, CatalogueQuery, SearchError, SearchWord};
pub use closures::{ClosurePreview, MoveLine, PREVIEW_SAMPLE};
pub use delivery::{
    DeliveryError, DeliveryPolicy, DeliveryReport, Failure, Jobs, MailTransport, Outbox,
    OutgoingMail, OutgoingSms, QueuedMessage, Recipient, Sender, SmsTransport,
};
pub use hasher::{BlockingHasher, HASH_QUEUE_WAIT, HASHING_NICENESS};
pub use metrics::{Metrics, PoolGauges, PoolUse, Timed};
pub use notices::{
    DueLoan, NoticeLog, NoticeRecord, NoticeStatus, OutboxPreview, ReminderKind, ReminderReport,
    ReminderStore, Reminders, kind,
};
pub use ports::{
    Accounts, AdminError, AuditRecord, AuditTrail, CalendarEntryInfo, CatalogueAdmin,
    CirculationDesk, DeclaredClosure, FineSuspensionAdmin, LibraryAdmin, LibraryInfo, NewCopy,
    NewLibraryInfo, NewStaffMember, NewStation, RuleAdmin, Sip2Stations, StaffDirectory,
    StaffMember, StationConnections, StationInfo, StationLogin, StoredSuspension, TitleInfo,
};
pub use reader_services::{
    ActivityBoard, EnquiryDesk, NoticeBoard, ReaderServices, ServiceError, SettingsDesk,
};
pub use readers::{
    ClaimReturned, Deactivation, ReaderDetails, ReaderEdit, ReaderQuery, ReaderRecord,
    ReaderRecordError, ReaderRecords, ReaderSearchForm,
};
pub use registration::{
    CARD_EXPIRY_YEARS, CARD_NUMBER_PREFIX, RegistrationAudit, RegistrationError, RegistrationForm,
    card_expiry, draw_card_number,
};
pub use reports::{
    CirculationDay, FinesDay, MAX_REPORT_DAYS, OverdueLine, OverdueQuery, OverdueRow, ReportError,
    ReportPeriod, ReportStore,
};
pub use returns::Return;
pub use roles::{StaffWork, may};
pub use secrets::SecretBox;
pub use services::{
    DevControls, JobRunner, NewReader, NotReady, NotReadyReason, ReaderDirectory, ReaderProfile,
    Readiness, RegisterReaderError, Services,
};
pub use settings::SettingsChangeError;
pub use standing::{Standing, standing_messages};
pub use study_rooms::{
    Applicant, BallotRecord, DoorCheck, StudyRoomError, StudyRoomStore, StudyRooms, draw_seed,
};
