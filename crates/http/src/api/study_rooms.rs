//! Students' Study Room admission cards: administrators open schemes and run the ballot;
//! anyone lists the schemes and reads a ballot's seed and winners; readers apply online
//! and see their applications; librarians record postal applications, decide, revoke and
//! check cards at the door. The rules are `library_premises::study_room`'s, the use cases
//! `library_app::StudyRooms`'.

use library_app::{BallotRecord, Services};
use library_premises::study_room::{
    Application, ApplicationId, Scheme, SchemeForm, SchemeId, StaffDecision, parse_reason,
};
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};
use serde_json::json;
use time::{Date, OffsetDateTime};

use super::ApiTags;
use super::activities::reader;
use super::common::{IdBody, audit_record, card, shown, today};
use super::types::{Int, Text};
use crate::auth::{ReaderAuth, StaffAuth};
use crate::error::ApiError;

/// `POST /study-room-schemes`.
#[derive(Debug, Object)]
struct StudyRoomNewSchemeRequest {
    /// Name in English (at most 200 characters).
    #[oai(validator(
        pattern = "^\\s*[^\\s\\u0000-\\u001F\\u007F-\\u009F]([^\\u0000-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F])?\\s*$",
        max_length = 200
    ))]
    name: Text,
    /// Name in Traditional Chinese (at most 200 characters).
    #[oai(validator(
        pattern = "^\\s*[^\\s\\u0000-\\u001F\\u007F-\\u009F]([^\\u0000-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F])?\\s*$",
        max_length = 200
    ))]
    name_zh: Text,
    /// The study room's library; absent or null: the study rooms of every library.
    #[oai(nullable)]
    #[oai(validator(pattern = "^\\s*([A-Za-z0-9_]{1,32})?\\s*$"))]
    library_code: Option<Text>,
    /// First day applications count (inclusive).
    opens_on: Date,
    /// Last day applications count (inclusive; for post, the postmark's date).
    closes_on: Date,
    /// First day the cards admit (after `closes_on`).
    valid_from: Date,
    /// Last day the cards admit.
    valid_to: Date,
    /// First day of the extended opening hours (with `extended_to`).
    #[oai(nullable)]
    extended_from: Option<Date>,
    /// Last day of the extended opening hours.
    #[oai(nullable)]
    extended_to: Option<Date>,
    /// The extended hours of each of those days, `HH:MM-HH:MM` each (at most 4).
    #[oai(nullable)]
    #[oai(validator(pattern = "^([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-4]):[0-5][0-9]$"))]
    extended_hours: Option<Vec<Text>>,
    /// Places (cards): 1 to 100,000.
    #[oai(validator(minimum(value = "1"), maximum(value = "100000")))]
    places: Int,
    /// Percentage of places drawn first among examination candidates, 0 to 100
    /// (default 0); the places reserved are rounded down.
    #[oai(nullable)]
    #[oai(validator(minimum(value = "0"), maximum(value = "100")))]
    priority_percent: Option<Int>,
}

/// A scheme.
#[derive(Debug, Object)]
struct StudyRoomSchemeBody {
    id: i64,
    name: String,
    name_zh: String,
    /// Null: the study rooms of every library.
    #[oai(nullable)]
    library_code: Option<String>,
    opens_on: Date,
    closes_on: Date,
    valid_from: Date,
    valid_to: Date,
    /// Null when no extended hours were announced.
    #[oai(nullable)]
    extended_from: Option<Date>,
    /// Null when no extended hours were announced.
    #[oai(nullable)]
    extended_to: Option<Date>,
    /// `HH:MM-HH:MM` each; empty when none were given.
    extended_hours: Vec<String>,
    places: u32,
    priority_percent: u8,
    /// Places reserved for examination candidates: `floor(places × priority_percent / 100)`.
    priority_places: u32,
    /// Whether a reader could apply online today.
    window_open: bool,
    /// Whether the ballot has been run.
    ballot_run: bool,
}

fn scheme_body(s: Scheme, today: Date) -> StudyRoomSchemeBody {
    let d = s.details;
    StudyRoomSchemeBody {
        id: s.id.0,
        window_open: d.window_open(today),
        priority_places: library_premises::study_room::ballot::priority_places(
            d.places,
            d.priority_percent,
        ),
        name: d.name,
        name_zh: d.name_zh,
        library_code: d.library.map(|l| l.as_str().to_owned()),
        opens_on: d.opens_on,
        closes_on: d.closes_on,
        valid_from: d.valid_from,
        valid_to: d.valid_to,
        extended_from: d.extended.as_ref().map(|e| e.from),
        extended_to: d.extended.as_ref().map(|e| e.to),
        extended_hours: d
            .extended
            .map(|e| e.hours.iter().map(ToString::to_string).collect())
            .unwrap_or_default(),
        places: d.places,
        priority_percent: d.priority_percent,
        ballot_run: s.ballot_run,
    }
}

/// `GET /study-room-schemes`.
#[derive(Debug, Object)]
struct StudyRoomSchemesBody {
    schemes: Vec<StudyRoomSchemeBody>,
}

/// How an application reached the library.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
enum StudyRoomChannelDto {
    /// Online, by the reader.
    Web,
    /// By post, recorded by staff.
    Post,
}

/// Where an application stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
enum StudyRoomStatusDto {
    /// Waiting for the ballot.
    Pending,
    /// A card.
    Approved,
    /// Not drawn in the ballot.
    NotSelected,
    /// Rejected by staff (see `reason`).
    Rejected,
    /// The card was revoked.
    Revoked,
}

/// An application.
#[derive(Debug, Object)]
struct StudyRoomApplicationBody {
    id: i64,
    scheme_id: i64,
    channel: StudyRoomChannelDto,
    /// The date that counted: the day of an online application, a letter's postmark.
    counted_on: Date,
    exam_candidate: bool,
    /// Which examination (may be empty).
    exam: String,
    submitted_at: OffsetDateTime,
    status: StudyRoomStatusDto,
    /// The staff's reason (a rejection's or a revocation's); null when none was given.
    #[oai(nullable)]
    reason: Option<String>,
    /// When the card was revoked; null if it was not.
    #[oai(nullable)]
    revoked_at: Option<OffsetDateTime>,
}

fn application_body(a: Application) -> StudyRoomApplicationBody {
    use library_premises::study_room::{ApplicationStatus as S, Channel};
    let status = match a.status() {
        S::Pending => StudyRoomStatusDto::Pending,
        S::Approved => StudyRoomStatusDto::Approved,
        S::NotSelected => StudyRoomStatusDto::NotSelected,
        S::Rejected => StudyRoomStatusDto::Rejected,
        S::Revoked => StudyRoomStatusDto::Revoked,
    };
    StudyRoomApplicationBody {
        id: a.id.0,
        scheme_id: a.scheme.0,
        channel: match a.details.channel {
            Channel::Web => StudyRoomChannelDto::Web,
            Channel::Post => StudyRoomChannelDto::Post,
        },
        counted_on: a.details.counted_on,
        exam_candidate: a.details.exam_candidate,
        exam: a.details.exam,
        submitted_at: shown(a.submitted_at),
        status,
        reason: a.reason,
        revoked_at: a.revoked_at.map(shown),
    }
}

/// One of my applications, with its scheme.
#[derive(Debug, Object)]
struct StudyRoomMyApplicationBody {
    application: StudyRoomApplicationBody,
    scheme: StudyRoomSchemeBody,
}

/// `GET /me/study-room-applications`.
#[derive(Debug, Object)]
struct StudyRoomMyApplicationsBody {
    applications: Vec<StudyRoomMyApplicationBody>,
}

/// An application as staff list it.
#[derive(Debug, Object)]
struct StudyRoomStaffApplicationBody {
    application: StudyRoomApplicationBody,
    card_number: String,
    name: String,
}

/// `GET /study-room-schemes/{id}/applications`.
#[derive(Debug, Object)]
struct StudyRoomStaffApplicationsBody {
    applications: Vec<StudyRoomStaffApplicationBody>,
}

/// `POST /me/study-room-applications`.
#[derive(Debug, Object)]
struct StudyRoomApplyRequest {
    scheme_id: i64,
    /// Whether I am a public or professional examination candidate.
    exam_candidate: bool,
    /// Which examination (at most 200 characters).
    #[oai(nullable)]
    #[oai(validator(pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*$", max_length = 200))]
    exam: Option<Text>,
}

/// `POST /study-room-schemes/{id}/applications`.
#[derive(Debug, Object)]
struct StudyRoomPostalRequest {
    card_number: Text,
    /// The postmark's date (not after today).
    postmarked_on: Date,
    exam_candidate: bool,
    /// Which examination (at most 200 characters).
    #[oai(nullable)]
    #[oai(validator(pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*$", max_length = 200))]
    exam: Option<Text>,
}

/// `POST /study-room-schemes/{id}/ballot`.
#[derive(Debug, Object)]
struct StudyRoomBallotRequest {
    /// The seed to draw from; absent: one drawn by the system (below 2^53) and recorded.
    #[oai(nullable)]
    seed: Option<u64>,
}

/// An application in the ballot.
#[derive(Debug, Object)]
struct StudyRoomEntrantBody {
    application_id: i64,
    exam_candidate: bool,
}

/// A ballot: everything needed to draw it again.
#[derive(Debug, Object)]
struct StudyRoomBallotBody {
    scheme_id: i64,
    seed: u64,
    run_at: OffsetDateTime,
    /// The applications that took part, by id.
    entrants: Vec<StudyRoomEntrantBody>,
    places: u32,
    priority_percent: u8,
    priority_places: u32,
    /// The winning applications, in the order drawn.
    winners: Vec<i64>,
}

fn ballot_body(b: BallotRecord, scheme: &Scheme) -> StudyRoomBallotBody {
    StudyRoomBallotBody {
        scheme_id: b.scheme.0,
        seed: b.seed,
        run_at: shown(b.run_at),
        entrants: b
            .entrants
            .iter()
            .map(|e| StudyRoomEntrantBody {
                application_id: e.application.0,
                exam_candidate: e.candidate,
            })
            .collect(),
        places: scheme.details.places,
        priority_percent: scheme.details.priority_percent,
        priority_places: b.priority_places,
        winners: b.winners.iter().map(|w| w.0).collect(),
    }
}

/// approve or reject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
enum StudyRoomDecisionDto {
    /// Give a card.
    Approve,
    /// Refuse, with a reason the reader sees.
    Reject,
}

/// `POST /study-room-applications/{id}/decision`.
#[derive(Debug, Object)]
struct StudyRoomDecisionRequest {
    decision: StudyRoomDecisionDto,
    /// Required to reject (at most 500 characters); ignored when approving.
    #[oai(nullable)]
    #[oai(validator(pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*$", max_length = 500))]
    reason: Option<Text>,
}

/// `POST /study-room-applications/{id}/revocation`.
#[derive(Debug, Object)]
struct StudyRoomRevocationRequest {
    /// Shown to the reader (at most 500 characters).
    #[oai(nullable)]
    #[oai(validator(pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*$", max_length = 500))]
    reason: Option<Text>,
}

/// `POST /study-room-schemes/{id}/admissions`.
#[derive(Debug, Object)]
struct StudyRoomAdmissionRequest {
    card_number: Text,
}

/// The reader may enter.
#[derive(Debug, Object)]
struct StudyRoomAdmittedBody {
    /// Always true (a refusal is a 409).
    admitted: bool,
    scheme_id: i64,
    card_number: String,
    /// The day checked (library-local).
    on: Date,
    /// The card's last valid day.
    valid_to: Date,
}

#[derive(ApiResponse)]
enum Created {
    /// Created.
    #[oai(status = 201)]
    Created(Json<IdBody>),
}

#[derive(ApiResponse)]
enum Applied {
    /// Accepted: waiting for the ballot.
    #[oai(status = 201)]
    Created(Json<StudyRoomApplicationBody>),
}

#[derive(ApiResponse)]
enum Drawn {
    /// Drawn and recorded.
    #[oai(status = 201)]
    Created(Json<StudyRoomBallotBody>),
}

pub(crate) struct StudyRoomsApi {
    state: Services,
}

impl StudyRoomsApi {
    pub(crate) fn new(state: Services) -> Self {
        Self { state }
    }
}

fn optional_reason(raw: Option<Text>) -> Result<Option<String>, ApiError> {
    match raw.map(Text::into_string) {
        None => Ok(None),
        Some(r) if r.trim().is_empty() => Ok(None),
        Some(r) => parse_reason(&r)
            .map(Some)
            .map_err(|v| ApiError::validation_failed([v])),
    }
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::StudyRooms")]
impl StudyRoomsApi {
    /// Opens a scheme (administrators). 422 with violations: `name_missing`,
    /// `name_invalid`, `name_zh_missing`, `name_zh_invalid`, `library_code_invalid`,
    /// `unknown_library`, `window_invalid`, `validity_invalid`,
    /// `validity_before_window_closes`, `extended_hours_invalid`, `places_invalid`,
    /// `priority_share_invalid`.
    #[oai(path = "/study-room-schemes", method = "post")]
    async fn create(
        &self,
        auth: StaffAuth,
        body: Json<StudyRoomNewSchemeRequest>,
    ) -> Result<Created, ApiError> {
        let b = body.0;
        let scheme = SchemeForm {
            name: b.name.into_string(),
            name_zh: b.name_zh.into_string(),
            library_code: b.library_code.map(Text::into_string),
            opens_on: b.opens_on,
            closes_on: b.closes_on,
            valid_from: b.valid_from,
            valid_to: b.valid_to,
            extended_from: b.extended_from,
            extended_to: b.extended_to,
            extended_hours: b
                .extended_hours
                .unwrap_or_default()
                .into_iter()
                .map(Text::into_string)
                .collect(),
            places: b.places.0,
            priority_percent: Int::get(b.priority_percent),
        }
        .parse()
        .map_err(ApiError::validation_failed)?;
        let details = json!({"name": scheme.name, "places": scheme.places,
            "priority_percent": scheme.priority_percent,
            "library_code": scheme.library.as_ref().map(|l| l.as_str())});
        let audit = |id: SchemeId| {
            audit_record(
                &self.state,
                &auth.0,
                "study_room.scheme_create",
                format!("study_room_scheme:{}", id.0),
                &details,
            )
        };
        let id = self
            .state
            .study_rooms
            .store
            .create_scheme(&scheme, self.state.clock.now(), &audit)
            .await?;
        Ok(Created::Created(Json(IdBody { id: id.0 })))
    }

    /// The current and upcoming schemes (public): those whose cards have not expired,
    /// by application window.
    #[oai(path = "/study-room-schemes", method = "get")]
    async fn list(&self) -> Result<Json<StudyRoomSchemesBody>, ApiError> {
        let today = today(&self.state);
        let schemes = self.state.study_rooms.store.schemes(today).await?;
        Ok(Json(StudyRoomSchemesBody {
            schemes: schemes.into_iter().map(|s| scheme_body(s, today)).collect(),
        }))
    }

    /// One scheme (public), expired ones included. 404 for an unknown id.
    #[oai(path = "/study-room-schemes/:id", method = "get")]
    async fn get(&self, id: Path<i64>) -> Result<Json<StudyRoomSchemeBody>, ApiError> {
        let scheme = self.state.study_rooms.store.scheme(SchemeId(id.0)).await?;
        Ok(Json(scheme_body(scheme, today(&self.state))))
    }

    /// Applies for a card (Password session); today's local date counts. 404 for an
    /// unknown scheme; 422 `exam_invalid`; 409 `application_refused` with `reason`, in
    /// this order: `before_window`, `after_window`, `ballot_already_run`,
    /// `already_applied`.
    #[oai(
        path = "/me/study-room-applications",
        method = "post",
        tag = "ApiTags::Me"
    )]
    async fn apply(
        &self,
        auth: ReaderAuth,
        body: Json<StudyRoomApplyRequest>,
    ) -> Result<Applied, ApiError> {
        let patron = reader(&auth.0)?;
        let b = body.0;
        let application = self
            .state
            .study_rooms
            .apply_online(
                SchemeId(b.scheme_id),
                patron,
                b.exam_candidate,
                b.exam.map(Text::into_string),
            )
            .await?;
        Ok(Applied::Created(Json(application_body(application))))
    }

    /// My applications (Password session), newest scheme first, with status (`pending`,
    /// `approved`, `not_selected`, `rejected`, `revoked`) and the staff's reason.
    #[oai(
        path = "/me/study-room-applications",
        method = "get",
        tag = "ApiTags::Me"
    )]
    async fn mine(&self, auth: ReaderAuth) -> Result<Json<StudyRoomMyApplicationsBody>, ApiError> {
        let patron = reader(&auth.0)?;
        let today = today(&self.state);
        let found = self.state.study_rooms.store.applications_of(patron).await?;
        Ok(Json(StudyRoomMyApplicationsBody {
            applications: found
                .into_iter()
                .map(|(scheme, application)| StudyRoomMyApplicationBody {
                    application: application_body(application),
                    scheme: scheme_body(scheme, today),
                })
                .collect(),
        }))
    }

    /// Records a postal application (librarians): the postmark's date counts. 404 for an
    /// unknown scheme or card; 422 `postmark_in_future`, `exam_invalid`; 409
    /// `application_refused` as for an online application.
    #[oai(path = "/study-room-schemes/:id/applications", method = "post")]
    async fn record_postal(
        &self,
        auth: StaffAuth,
        id: Path<i64>,
        body: Json<StudyRoomPostalRequest>,
    ) -> Result<Applied, ApiError> {
        let b = body.0;
        let card = card(b.card_number.0.trim())?;
        let details = json!({"card_number": card.as_str(), "postmarked_on": b.postmarked_on.to_string(),
            "exam_candidate": b.exam_candidate});
        let audit = |id: ApplicationId| {
            audit_record(
                &self.state,
                &auth.0,
                "study_room.postal_application",
                format!("study_room_application:{}", id.0),
                &details,
            )
        };
        let application = self
            .state
            .study_rooms
            .record_postal(
                SchemeId(id.0),
                &card,
                b.postmarked_on,
                b.exam_candidate,
                b.exam.map(Text::into_string),
                &audit,
            )
            .await?;
        Ok(Applied::Created(Json(application_body(application))))
    }

    /// A scheme's applications (librarians), by id, with the reader's card and name. 404.
    #[oai(path = "/study-room-schemes/:id/applications", method = "get")]
    async fn applications(
        &self,
        _auth: StaffAuth,
        id: Path<i64>,
    ) -> Result<Json<StudyRoomStaffApplicationsBody>, ApiError> {
        let found = self
            .state
            .study_rooms
            .store
            .applications(SchemeId(id.0))
            .await?;
        Ok(Json(StudyRoomStaffApplicationsBody {
            applications: found
                .into_iter()
                .map(|a| StudyRoomStaffApplicationBody {
                    application: application_body(a.application),
                    card_number: a.card_number.as_str().to_owned(),
                    name: a.name,
                })
                .collect(),
        }))
    }

    /// Runs the ballot (administrators) among the pending applications, from `seed` or
    /// one drawn and recorded: the winners are `approved`, the others `not_selected`. 404;
    /// 409 `ballot_refused` with `reason` `ballot_already_run` or `window_still_open`
    /// (until the day after `closes_on`).
    #[oai(path = "/study-room-schemes/:id/ballot", method = "post")]
    async fn run_ballot(
        &self,
        auth: StaffAuth,
        id: Path<i64>,
        body: Json<StudyRoomBallotRequest>,
    ) -> Result<Drawn, ApiError> {
        let scheme = SchemeId(id.0);
        let audit = |seed: u64| {
            audit_record(
                &self.state,
                &auth.0,
                "study_room.ballot",
                format!("study_room_scheme:{}", id.0),
                &json!({"seed": seed.to_string()}),
            )
        };
        let record = self
            .state
            .study_rooms
            .run_ballot(scheme, body.0.seed, &audit)
            .await?;
        let scheme = self.state.study_rooms.store.scheme(scheme).await?;
        Ok(Drawn::Created(Json(ballot_body(record, &scheme))))
    }

    /// The ballot of a scheme (public): the seed, the entrants and the winners, so anyone
    /// can draw again. 404 for an unknown scheme or one whose ballot has not been run.
    #[oai(path = "/study-room-schemes/:id/ballot", method = "get")]
    async fn ballot(&self, id: Path<i64>) -> Result<Json<StudyRoomBallotBody>, ApiError> {
        let scheme = self.state.study_rooms.store.scheme(SchemeId(id.0)).await?;
        let record = self
            .state
            .study_rooms
            .store
            .ballot(scheme.id)
            .await?
            .ok_or_else(ApiError::not_found)?;
        Ok(Json(ballot_body(record, &scheme)))
    }

    /// Approves or rejects an application (librarians). 404; 422 `reason_missing`,
    /// `reason_invalid`; 409 `decision_refused` with `reason`, in this order:
    /// `card_revoked`, `ballot_not_run` (approving), `already_approved` /
    /// `already_rejected`, `no_place_left` (approving).
    #[oai(path = "/study-room-applications/:id/decision", method = "post")]
    async fn decide(
        &self,
        auth: StaffAuth,
        id: Path<i64>,
        body: Json<StudyRoomDecisionRequest>,
    ) -> Result<Json<StudyRoomApplicationBody>, ApiError> {
        let b = body.0;
        let decision = match b.decision {
            StudyRoomDecisionDto::Approve => StaffDecision::Approve,
            StudyRoomDecisionDto::Reject => StaffDecision::Reject {
                reason: parse_reason(b.reason.as_ref().map_or("", |r| r.0.as_str()))
                    .map_err(|v| ApiError::validation_failed([v]))?,
            },
        };
        let details = match &decision {
            StaffDecision::Approve => json!({"decision": "approve"}),
            StaffDecision::Reject { reason } => json!({"decision": "reject", "reason": reason}),
        };
        let audit = audit_record(
            &self.state,
            &auth.0,
            "study_room.decide",
            format!("study_room_application:{}", id.0),
            &details,
        );
        let application = self
            .state
            .study_rooms
            .store
            .decide(
                ApplicationId(id.0),
                &decision,
                self.state.clock.now(),
                audit,
            )
            .await?;
        Ok(Json(application_body(application)))
    }

    /// Revokes an approved card (librarians). 404; 422 `reason_invalid`; 409
    /// `revocation_refused` with `reason` `already_revoked` or `not_approved`.
    #[oai(path = "/study-room-applications/:id/revocation", method = "post")]
    async fn revoke(
        &self,
        auth: StaffAuth,
        id: Path<i64>,
        body: Json<StudyRoomRevocationRequest>,
    ) -> Result<Json<StudyRoomApplicationBody>, ApiError> {
        let reason = optional_reason(body.0.reason)?;
        let audit = audit_record(
            &self.state,
            &auth.0,
            "study_room.revoke",
            format!("study_room_application:{}", id.0),
            &json!({"reason": reason}),
        );
        let application = self
            .state
            .study_rooms
            .store
            .revoke(
                ApplicationId(id.0),
                reason.as_deref(),
                self.state.clock.now(),
                audit,
            )
            .await?;
        Ok(Json(application_body(application)))
    }

    /// Checks a reader's card at the study room's door today (librarians): 200 to admit;
    /// 409 `admission_refused` with `reason`, in this order: `no_card`,
    /// `card_not_yet_valid`, `card_expired`, `card_revoked`. 404 for an unknown scheme or
    /// card.
    #[oai(path = "/study-room-schemes/:id/admissions", method = "post")]
    async fn admit(
        &self,
        _auth: StaffAuth,
        id: Path<i64>,
        body: Json<StudyRoomAdmissionRequest>,
    ) -> Result<Json<StudyRoomAdmittedBody>, ApiError> {
        let card = card(body.0.card_number.0.trim())?;
        let check = self
            .state
            .study_rooms
            .check_card(SchemeId(id.0), &card)
            .await?;
        check
            .verdict
            .map_err(|r| ApiError::refused("admission_refused", r.code()))?;
        Ok(Json(StudyRoomAdmittedBody {
            admitted: true,
            scheme_id: check.scheme.id.0,
            card_number: card.as_str().to_owned(),
            on: check.on,
            valid_to: check.scheme.details.valid_to,
        }))
    }
}
