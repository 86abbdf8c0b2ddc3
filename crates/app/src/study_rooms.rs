//! Students' Study Room admission cards (docs/premises.md, Study-room admission cards):
//! the store's interface ([`StudyRoomStore`], implemented by `library-persistence`, each
//! operation one transaction applying `library_premises::study_room`'s decisions) and the
//! use cases every channel calls ([`StudyRooms`]): a reader's online application dated
//! by the local day, a postal application recorded by staff for a card number, the ballot
//! with a seed given or drawn and recorded, and the check of a card at the door.

use std::sync::Arc;

use async_trait::async_trait;
use library_circulation::ports::InfrastructureError;
use library_core::{CardNumber, Clock, DEFAULT_LIBRARY_OFFSET, PatronId, StaffId};
use library_credentials::{PortError, RandomSource};
use library_premises::study_room::ballot::Entrant;
use library_premises::study_room::{
    AdmissionRefusal, Application, ApplicationForm, ApplicationId, ApplicationRefusal,
    BallotRefusal, Channel, DecisionRefusal, NewApplication, NewScheme, RevocationRefusal, Scheme,
    SchemeId, StaffDecision, admission,
};
use time::{Date, OffsetDateTime};

use crate::ports::AuditRecord;
use crate::services::ReaderDirectory;

/// Why a study-room operation did not happen.
#[derive(Debug, thiserror::Error)]
pub enum StudyRoomError {
    /// No such scheme, application or reader (or another reader's application).
    #[error("not found")]
    NotFound,
    /// Input violations, as codes (`unknown_library`, `postmark_in_future`, ...).
    #[error("invalid: {0:?}")]
    Invalid(Vec<&'static str>),
    /// An application refused for a named reason.
    #[error("application refused: {0}")]
    ApplicationRefused(ApplicationRefusal),
    /// The ballot refused for a named reason.
    #[error("ballot refused: {0}")]
    BallotRefused(BallotRefusal),
    /// A staff decision refused for a named reason.
    #[error("decision refused: {0}")]
    DecisionRefused(DecisionRefusal),
    /// A revocation refused for a named reason.
    #[error("revocation refused: {0}")]
    RevocationRefused(RevocationRefusal),
    /// Infrastructure failure.
    #[error(transparent)]
    Infrastructure(#[from] InfrastructureError),
}

/// A recorded ballot: what anyone needs to draw it again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BallotRecord {
    /// The scheme.
    pub scheme: SchemeId,
    /// The seed the lots were drawn from.
    pub seed: u64,
    /// When it was run.
    pub run_at: OffsetDateTime,
    /// Who ran it (`None`: the admin tool or the system).
    pub run_by: Option<StaffId>,
    /// The applications that took part, in order of id, with whether each declared being
    /// an examination candidate.
    pub entrants: Vec<Entrant>,
    /// The places reserved for examination candidates.
    pub priority_places: u32,
    /// The winners, in the order drawn.
    pub winners: Vec<ApplicationId>,
}

/// An application as staff list it, with the reader's card and name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applicant {
    /// The application.
    pub application: Application,
    /// The reader's card.
    pub card_number: CardNumber,
    /// The reader's name.
    pub name: String,
}

/// The study-room schemes and applications in the database.
#[async_trait]
pub trait StudyRoomStore: Send + Sync {
    /// Stores a scheme (at `now`); its id. An unknown library:
    /// `Invalid(["unknown_library"])`. `audit` makes the audit record of the id, written in
    /// the scheme's transaction.
    async fn create_scheme(
        &self,
        scheme: &NewScheme,
        now: OffsetDateTime,
        audit: &(dyn Fn(SchemeId) -> AuditRecord + Send + Sync),
    ) -> Result<SchemeId, StudyRoomError>;
    /// The schemes whose cards have not expired on `today` (current and upcoming), by
    /// window then id.
    async fn schemes(&self, today: Date) -> Result<Vec<Scheme>, StudyRoomError>;
    /// One scheme. `NotFound`.
    async fn scheme(&self, id: SchemeId) -> Result<Scheme, StudyRoomError>;
    /// Stores reader `patron`'s application (at `now`) under the scheme's row lock, after
    /// [`NewScheme::application_refusal`]; the application. `audit` (a postal application
    /// recorded by staff) makes the audit record of the new application's id, written in
    /// the same transaction. Two applications of one
    /// reader at once: one is stored, the other is `already_applied`. `NotFound`
    /// (scheme), `ApplicationRefused`.
    async fn apply(
        &self,
        scheme: SchemeId,
        patron: PatronId,
        application: &NewApplication,
        now: OffsetDateTime,
        audit: Option<&(dyn Fn(ApplicationId) -> AuditRecord + Send + Sync)>,
    ) -> Result<Application, StudyRoomError>;
    /// A reader's applications with their schemes, newest scheme first.
    async fn applications_of(
        &self,
        patron: PatronId,
    ) -> Result<Vec<(Scheme, Application)>, StudyRoomError>;
    /// A scheme's applications, by id. `NotFound`.
    async fn applications(&self, scheme: SchemeId) -> Result<Vec<Applicant>, StudyRoomError>;
    /// Runs the scheme's ballot on `today` (at `now`) from `seed` among its pending
    /// applications: winners `approved`, the others `not_selected`, the ballot recorded,
    /// with `audit`, in one transaction. `NotFound`, `BallotRefused`.
    async fn run_ballot(
        &self,
        scheme: SchemeId,
        seed: u64,
        today: Date,
        now: OffsetDateTime,
        audit: AuditRecord,
    ) -> Result<BallotRecord, StudyRoomError>;
    /// The scheme's ballot, `None` before it is run. `NotFound` (scheme).
    async fn ballot(&self, scheme: SchemeId) -> Result<Option<BallotRecord>, StudyRoomError>;
    /// Applies a staff decision (at `now`) with `audit`, after
    /// [`Application::decision_refusal`]; the application as it is now. `NotFound`,
    /// `DecisionRefused`.
    async fn decide(
        &self,
        application: ApplicationId,
        decision: &StaffDecision,
        now: OffsetDateTime,
        audit: AuditRecord,
    ) -> Result<Application, StudyRoomError>;
    /// Revokes an approved card (at `now`) with an optional reason and `audit`; the
    /// application as it is now. `NotFound`, `RevocationRefused`.
    async fn revoke(
        &self,
        application: ApplicationId,
        reason: Option<&str>,
        now: OffsetDateTime,
        audit: AuditRecord,
    ) -> Result<Application, StudyRoomError>;
    /// The scheme and reader `patron`'s application to it, if any. `NotFound` (scheme).
    async fn card(
        &self,
        scheme: SchemeId,
        patron: PatronId,
    ) -> Result<(Scheme, Option<Application>), StudyRoomError>;
}

/// A seed drawn by the system: 53 random bits, so that it survives a JSON number in any
/// client (an IEEE double holds integers up to 2^53 exactly).
pub fn draw_seed(random: &dyn RandomSource) -> u64 {
    let mut bytes = [0u8; 8];
    random.fill(&mut bytes);
    u64::from_le_bytes(bytes) & ((1 << 53) - 1)
}

/// What the door answers: the reader admitted, or why not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DoorCheck {
    /// The scheme.
    pub scheme: Scheme,
    /// The reader.
    pub patron: PatronId,
    /// The day checked (library-local).
    pub on: Date,
    /// `Ok`: admitted.
    pub verdict: Result<(), AdmissionRefusal>,
}

/// The study-room use cases. Cheap to clone.
#[derive(Clone)]
pub struct StudyRooms {
    /// The store.
    pub store: Arc<dyn StudyRoomStore>,
    readers: Arc<dyn ReaderDirectory>,
    clock: Arc<dyn Clock>,
    random: Arc<dyn RandomSource>,
}

impl std::fmt::Debug for StudyRooms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StudyRooms").finish_non_exhaustive()
    }
}

impl StudyRooms {
    /// The use cases over `store`, finding readers in `readers`.
    pub fn new(
        store: Arc<dyn StudyRoomStore>,
        readers: Arc<dyn ReaderDirectory>,
        clock: Arc<dyn Clock>,
        random: Arc<dyn RandomSource>,
    ) -> Self {
        Self {
            store,
            readers,
            clock,
            random,
        }
    }

    fn today(&self) -> Date {
        self.clock.now().to_offset(DEFAULT_LIBRARY_OFFSET).date()
    }

    async fn reader(&self, card: &CardNumber) -> Result<PatronId, StudyRoomError> {
        self.readers
            .find_by_card(card)
            .await
            .map_err(|e| match e {
                PortError::Overloaded | PortError::Unavailable(_) => {
                    InfrastructureError::unavailable("find reader", e)
                }
                PortError::Failed(_) => InfrastructureError::with_source("find reader", e),
            })?
            .ok_or(StudyRoomError::NotFound)
    }

    /// A reader's own application online: the local date today counts.
    pub async fn apply_online(
        &self,
        scheme: SchemeId,
        patron: PatronId,
        exam_candidate: bool,
        exam: Option<String>,
    ) -> Result<Application, StudyRoomError> {
        let today = self.today();
        let application = ApplicationForm {
            channel: Channel::Web,
            counted_on: today,
            exam_candidate,
            exam,
        }
        .parse(today)
        .map_err(StudyRoomError::Invalid)?;
        self.store
            .apply(scheme, patron, &application, self.clock.now(), None)
            .await
    }

    /// A postal application recorded by staff for the reader with card `card`: the
    /// postmark's date counts (not after today). `NotFound` for an unknown card or
    /// scheme. `audit` makes the record of the application's id, written with it.
    pub async fn record_postal(
        &self,
        scheme: SchemeId,
        card: &CardNumber,
        postmarked_on: Date,
        exam_candidate: bool,
        exam: Option<String>,
        audit: &(dyn Fn(ApplicationId) -> AuditRecord + Send + Sync),
    ) -> Result<Application, StudyRoomError> {
        let application = ApplicationForm {
            channel: Channel::Post,
            counted_on: postmarked_on,
            exam_candidate,
            exam,
        }
        .parse(self.today())
        .map_err(StudyRoomError::Invalid)?;
        let patron = self.reader(card).await?;
        self.store
            .apply(scheme, patron, &application, self.clock.now(), Some(audit))
            .await
    }

    /// Runs the scheme's ballot today from `seed`, or from a seed drawn from the system's
    /// random source; `audit` makes the record of the seed used (so the audit log holds
    /// it too).
    pub async fn run_ballot(
        &self,
        scheme: SchemeId,
        seed: Option<u64>,
        audit: &(dyn Fn(u64) -> AuditRecord + Send + Sync),
    ) -> Result<BallotRecord, StudyRoomError> {
        let seed = seed.unwrap_or_else(|| draw_seed(self.random.as_ref()));
        self.store
            .run_ballot(scheme, seed, self.today(), self.clock.now(), audit(seed))
            .await
    }

    /// The check at the door today for the reader with card `card`. `NotFound` for an
    /// unknown card or scheme.
    pub async fn check_card(
        &self,
        scheme: SchemeId,
        card: &CardNumber,
    ) -> Result<DoorCheck, StudyRoomError> {
        let patron = self.reader(card).await?;
        let on = self.today();
        let (scheme, application) = self.store.card(scheme, patron).await?;
        let verdict = admission(&scheme.details, application.as_ref(), on);
        Ok(DoorCheck {
            scheme,
            patron,
            on,
            verdict,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed(u8);
    impl RandomSource for Fixed {
        fn fill(&self, buf: &mut [u8]) {
            buf.fill(self.0);
        }
    }

    #[test]
    fn drawn_seeds_fit_a_json_number() {
        assert_eq!(draw_seed(&Fixed(0xFF)), (1 << 53) - 1);
        assert_eq!(draw_seed(&Fixed(0)), 0);
        assert_eq!(
            draw_seed(&Fixed(1)),
            0x0001_0101_0101_0101 & ((1 << 53) - 1)
        );
    }
}
