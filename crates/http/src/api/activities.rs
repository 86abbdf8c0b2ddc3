//! Extension activities ("My Info"): staff create, list and cancel them; anyone lists the
//! open ones; readers register, cancel and list their registrations.

use library_core::{DEFAULT_LIBRARY_OFFSET, LibraryCode, PatronId};
use library_reader_services::{
    ActivityForm, ActivityId, ActivityListing, ActivityQuery, RegistrationStatus,
};
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};
use serde_json::json;
use time::{Date, OffsetDateTime};

use super::ApiTags;
use super::common::{IdBody, audit_record, shown, today};
use super::types::{Int, NoContent, Text};
use crate::auth::{Principal, ReaderAuth, StaffAuth};
use crate::error::ApiError;
use library_app::Services;

/// How long ended activities stay in `GET /me/activities` (like ended holds).
const REGISTRATION_HISTORY_DAYS: i64 = 90;
/// Page size when none is asked for, and the largest allowed.
const DEFAULT_LIMIT: u32 = 20;
const MAX_LIMIT: u32 = 100;

/// The reader of a reader session.
pub(super) fn reader(principal: &Principal) -> Result<PatronId, ApiError> {
    principal.session.patron().ok_or_else(ApiError::forbidden)
}

/// `limit` (1–100, default 20) and `offset` (0 or more, default 0): 422 `limit_invalid`,
/// `offset_invalid`.
pub(super) fn paging(limit: Option<i64>, offset: Option<i64>) -> Result<(u32, u64), ApiError> {
    let mut violations = Vec::new();
    let limit = match limit {
        None => Some(DEFAULT_LIMIT),
        Some(n) => u32::try_from(n)
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n)),
    };
    if limit.is_none() {
        violations.push("limit_invalid");
    }
    let offset = u64::try_from(offset.unwrap_or(0)).ok();
    if offset.is_none() {
        violations.push("offset_invalid");
    }
    match (limit, offset) {
        (Some(limit), Some(offset)) => Ok((limit, offset)),
        _ => Err(ApiError::validation_failed(violations)),
    }
}

/// `POST /activities`.
#[derive(Debug, Object)]
struct NewActivityRequest {
    /// The library holding it.
    #[oai(validator(pattern = "^[A-Za-z0-9_]{1,32}$"))]
    library_code: Text,
    /// Event title (at most 200 characters).
    #[oai(validator(
        pattern = "^\\s*[^\\s\\u0000-\\u001F\\u007F-\\u009F]([^\\u0000-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F])?\\s*$",
        max_length = 200
    ))]
    title: Text,
    /// The kind of activity, chosen by the library: `[a-z0-9_]{1,32}` (`talk`,
    /// `workshop`, `story_time`, ...).
    #[oai(rename = "type")]
    #[oai(validator(pattern = "^[a-z0-9_]{1,32}$"))]
    activity_type: Text,
    /// The room or place (at most 200 characters).
    #[oai(validator(
        pattern = "^\\s*[^\\s\\u0000-\\u001F\\u007F-\\u009F]([^\\u0000-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F])?\\s*$",
        max_length = 200
    ))]
    venue: Text,
    /// What it is about (at most 2,000 characters; line breaks allowed).
    #[oai(nullable)]
    #[oai(validator(max_length = 2000))]
    description: Option<Text>,
    starts_at: OffsetDateTime,
    /// After `starts_at`.
    ends_at: OffsetDateTime,
    /// Places: 1 to 10,000.
    #[oai(validator(minimum(value = "1"), maximum(value = "10000")))]
    capacity: Int,
    /// When registration closes: not after `starts_at` (default: `starts_at`).
    #[oai(nullable)]
    registration_closes_at: Option<OffsetDateTime>,
}

/// An activity.
#[derive(Debug, Object)]
struct ActivityBody {
    id: i64,
    library_code: String,
    library_name: String,
    library_name_zh: String,
    title: String,
    #[oai(rename = "type")]
    activity_type: String,
    venue: String,
    /// May be empty.
    description: String,
    starts_at: OffsetDateTime,
    ends_at: OffsetDateTime,
    capacity: u32,
    /// Places not yet taken.
    places_left: u32,
    registration_closes_at: OffsetDateTime,
    /// Whether a reader could register now (not cancelled, not started, not closed, not
    /// full).
    registration_open: bool,
    /// Set when the library cancelled it.
    #[oai(nullable, skip_serializing_if_is_none)]
    cancelled_at: Option<OffsetDateTime>,
}

fn activity_body(l: ActivityListing, now: OffsetDateTime) -> ActivityBody {
    let a = &l.activity;
    ActivityBody {
        id: a.id.get(),
        library_code: a.details.library.as_str().to_owned(),
        title: a.details.title.clone(),
        activity_type: a.details.activity_type.as_str().to_owned(),
        venue: a.details.venue.clone(),
        description: a.details.description.clone(),
        starts_at: shown(a.details.starts_at),
        ends_at: shown(a.details.ends_at),
        capacity: a.details.capacity,
        places_left: a.places_left(),
        registration_closes_at: shown(a.details.registration_closes_at),
        registration_open: a.registration_open(now),
        cancelled_at: a.cancelled_at.map(shown),
        library_name: l.library_name,
        library_name_zh: l.library_name_zh,
    }
}

/// A page of activities.
#[derive(Debug, Object)]
struct ActivitiesBody {
    activities: Vec<ActivityBody>,
    /// How many match, over all pages.
    total: u64,
}

/// A registration made.
#[derive(Debug, Object)]
struct RegistrationMadeBody {
    activity_id: i64,
    /// `registered`.
    status: RegistrationStatusDto,
    registered_at: OffsetDateTime,
    /// Places left after this registration.
    places_left: u32,
}

/// A reader registered for an activity, as staff see the list.
#[derive(Debug, Object)]
struct RegistrantBody {
    card_number: String,
    name: String,
    phone: String,
    /// `registered` or `cancelled` (by the reader).
    status: RegistrationStatusDto,
    registered_at: OffsetDateTime,
    #[oai(nullable, skip_serializing_if_is_none)]
    cancelled_at: Option<OffsetDateTime>,
}

/// `GET /activities/{id}/registrations`.
#[derive(Debug, Object)]
struct RegistrantsBody {
    registrations: Vec<RegistrantBody>,
}

/// Where a reader's registration stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
enum RegistrationStatusDto {
    /// Registered; the activity is not over.
    Registered,
    /// Registered; the activity is over.
    Ended,
    /// The reader cancelled.
    Cancelled,
    /// The library cancelled the activity.
    ActivityCancelled,
}

impl From<RegistrationStatus> for RegistrationStatusDto {
    fn from(s: RegistrationStatus) -> Self {
        match s {
            RegistrationStatus::Registered => RegistrationStatusDto::Registered,
            RegistrationStatus::Ended => RegistrationStatusDto::Ended,
            RegistrationStatus::Cancelled => RegistrationStatusDto::Cancelled,
            RegistrationStatus::ActivityCancelled => RegistrationStatusDto::ActivityCancelled,
        }
    }
}

/// One of my registrations.
#[derive(Debug, Object)]
struct MyActivityBody {
    /// The activity's id.
    id: i64,
    title: String,
    #[oai(rename = "type")]
    activity_type: String,
    library_code: String,
    library_name: String,
    library_name_zh: String,
    venue: String,
    starts_at: OffsetDateTime,
    ends_at: OffsetDateTime,
    status: RegistrationStatusDto,
    /// When I (last) registered.
    registered_at: OffsetDateTime,
}

/// `GET /me/activities`.
#[derive(Debug, Object)]
struct MyActivitiesBody {
    activities: Vec<MyActivityBody>,
}

#[derive(ApiResponse)]
enum Created {
    /// Created.
    #[oai(status = 201)]
    Created(Json<IdBody>),
}

#[derive(ApiResponse)]
enum Registered {
    /// Registered: a place is mine.
    #[oai(status = 201)]
    Created(Json<RegistrationMadeBody>),
}

pub(crate) struct ActivitiesApi {
    state: Services,
}

impl ActivitiesApi {
    pub(crate) fn new(state: Services) -> Self {
        Self { state }
    }

    fn query(
        &self,
        library_code: Option<String>,
        from: Option<Date>,
        limit: Option<i64>,
        offset: Option<i64>,
        include_cancelled: bool,
    ) -> Result<ActivityQuery, ApiError> {
        let library = match library_code {
            None => None,
            Some(code) => Some(
                LibraryCode::parse(&code)
                    .map_err(|_| ApiError::validation_failed(["library_code_invalid"]))?,
            ),
        };
        let (limit, offset) = paging(limit, offset)?;
        let from = from.unwrap_or_else(|| today(&self.state));
        Ok(ActivityQuery {
            library,
            starting_from: from.midnight().assume_offset(DEFAULT_LIBRARY_OFFSET),
            include_cancelled,
            limit,
            offset,
        })
    }

    async fn page(&self, query: ActivityQuery) -> Result<Json<ActivitiesBody>, ApiError> {
        let page = self.state.reader_services.activities.list(&query).await?;
        let now = self.state.clock.now();
        Ok(Json(ActivitiesBody {
            activities: page
                .items
                .into_iter()
                .map(|l| activity_body(l, now))
                .collect(),
            total: page.total,
        }))
    }
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Activities")]
impl ActivitiesApi {
    /// Creates an activity (staff). 422 with violations: `unknown_library`,
    /// `title_missing`, `title_too_long`, `title_invalid`, `type_invalid`,
    /// `venue_missing`, `venue_too_long`, `venue_invalid`, `description_too_long`,
    /// `description_invalid`, `capacity_invalid`, `ends_at_not_after_starts_at`,
    /// `starts_at_in_past`, `registration_closes_after_start`,
    /// `registration_closes_in_past`.
    #[oai(path = "/activities", method = "post")]
    async fn create(
        &self,
        auth: StaffAuth,
        body: Json<NewActivityRequest>,
    ) -> Result<Created, ApiError> {
        let body = body.0;
        let now = self.state.clock.now();
        let activity = ActivityForm {
            library_code: body.library_code.into_string(),
            title: body.title.into_string(),
            activity_type: body.activity_type.into_string(),
            venue: body.venue.into_string(),
            description: body.description.map(Text::into_string),
            starts_at: body.starts_at,
            ends_at: body.ends_at,
            capacity: body.capacity.0,
            registration_closes_at: body.registration_closes_at,
        }
        .parse(now)?;
        let details = json!({"library_code": activity.library.as_str(), "title": activity.title,
                             "capacity": activity.capacity});
        let audit = |id: ActivityId| {
            audit_record(
                &self.state,
                &auth.0,
                "activity.create",
                format!("activity:{}", id.get()),
                &details,
            )
        };
        let id = self
            .state
            .reader_services
            .activities
            .create(&activity, now, &audit)
            .await?;
        Ok(Created::Created(Json(IdBody { id: id.get() })))
    }

    /// Activities open to readers (public): not cancelled, starting on or after `from` (a
    /// library-local date, default today), at `library_code` if given; by start time.
    /// Paged with `limit` (1–100, default 20) and `offset`; 422 `limit_invalid`,
    /// `offset_invalid`, `library_code_invalid`.
    #[oai(path = "/activities", method = "get")]
    async fn list(
        &self,
        #[oai(validator(pattern = "^[A-Za-z0-9_]{1,32}$"))] library_code: Query<Option<Text>>,
        from: Query<Option<Date>>,
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))] limit: Query<Option<Int>>,
        #[oai(validator(minimum(value = "0")))] offset: Query<Option<Int>>,
    ) -> Result<Json<ActivitiesBody>, ApiError> {
        let query = self.query(
            library_code.0.map(Text::into_string),
            from.0,
            Int::get(limit.0),
            Int::get(offset.0),
            false,
        )?;
        self.page(query).await
    }

    /// One activity (public), cancelled ones included. 404 for an unknown id.
    #[oai(path = "/activities/:id", method = "get")]
    async fn get(&self, id: Path<i64>) -> Result<Json<ActivityBody>, ApiError> {
        let listing = self
            .state
            .reader_services
            .activities
            .get(ActivityId(id.0))
            .await?;
        Ok(Json(activity_body(listing, self.state.clock.now())))
    }

    /// Cancels an activity (staff): it stays listed for its registered readers with
    /// status `activity_cancelled`, and each of them is sent a notice. 404; 409
    /// `activity_cancelled` if it was cancelled already.
    #[oai(path = "/activities/:id", method = "delete")]
    async fn cancel(&self, auth: StaffAuth, id: Path<i64>) -> Result<NoContent, ApiError> {
        let audit = audit_record(
            &self.state,
            &auth.0,
            "activity.cancel",
            format!("activity:{}", id.0),
            &json!({}),
        );
        self.state
            .reader_services
            .activities
            .cancel(ActivityId(id.0), self.state.clock.now(), audit)
            .await?;
        Ok(NoContent::NoContent)
    }

    /// Every activity (staff), cancelled ones included, starting on or after `from`
    /// (default today); filters and paging as the public list.
    #[oai(path = "/staff/activities", method = "get")]
    async fn staff_list(
        &self,
        _auth: StaffAuth,
        #[oai(validator(pattern = "^[A-Za-z0-9_]{1,32}$"))] library_code: Query<Option<Text>>,
        from: Query<Option<Date>>,
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))] limit: Query<Option<Int>>,
        #[oai(validator(minimum(value = "0")))] offset: Query<Option<Int>>,
    ) -> Result<Json<ActivitiesBody>, ApiError> {
        let query = self.query(
            library_code.0.map(Text::into_string),
            from.0,
            Int::get(limit.0),
            Int::get(offset.0),
            true,
        )?;
        self.page(query).await
    }

    /// Registers me for an activity (Password session). 404 for an unknown activity; 409
    /// `registration_refused` with `reason`, checked in this order: `cancelled`,
    /// `already_registered`, `started`, `closed`, `full`.
    #[oai(path = "/activities/:id/registrations", method = "post")]
    async fn register(&self, auth: ReaderAuth, id: Path<i64>) -> Result<Registered, ApiError> {
        let patron = reader(&auth.0)?;
        let now = self.state.clock.now();
        let activity = self
            .state
            .reader_services
            .activities
            .register(ActivityId(id.0), patron, now)
            .await?;
        Ok(Registered::Created(Json(RegistrationMadeBody {
            activity_id: activity.id.get(),
            status: RegistrationStatusDto::Registered,
            registered_at: shown(now),
            places_left: activity.places_left(),
        })))
    }

    /// Everyone registered for an activity (staff): card, name and phone, to call or admit
    /// them, by registration time, cancelled registrations included. 404 for an unknown
    /// activity.
    #[oai(path = "/activities/:id/registrations", method = "get")]
    async fn registrants(
        &self,
        _auth: StaffAuth,
        id: Path<i64>,
    ) -> Result<Json<RegistrantsBody>, ApiError> {
        let registrants = self
            .state
            .reader_services
            .activities
            .registrants(ActivityId(id.0))
            .await?;
        Ok(Json(RegistrantsBody {
            registrations: registrants
                .into_iter()
                .map(|r| RegistrantBody {
                    card_number: r.card_number.as_str().to_owned(),
                    name: r.name,
                    phone: r.phone,
                    status: if r.cancelled_at.is_some() {
                        RegistrationStatusDto::Cancelled
                    } else {
                        RegistrationStatusDto::Registered
                    },
                    registered_at: shown(r.registered_at),
                    cancelled_at: r.cancelled_at.map(shown),
                })
                .collect(),
        }))
    }

    /// My registrations (Password session): for activities not yet over and those that
    /// ended in the last 90 days, cancelled ones included, by start time.
    #[oai(path = "/me/activities", method = "get", tag = "ApiTags::Me")]
    async fn mine(&self, auth: ReaderAuth) -> Result<Json<MyActivitiesBody>, ApiError> {
        let patron = reader(&auth.0)?;
        let now = self.state.clock.now();
        let since = now - time::Duration::days(REGISTRATION_HISTORY_DAYS);
        let registrations = self
            .state
            .reader_services
            .activities
            .registrations_of(patron, since)
            .await?;
        let activities = registrations
            .into_iter()
            .map(|r| {
                let status = r.status(now).into();
                let a = r.listing.activity;
                MyActivityBody {
                    id: a.id.get(),
                    title: a.details.title,
                    activity_type: a.details.activity_type.as_str().to_owned(),
                    library_code: a.details.library.as_str().to_owned(),
                    library_name: r.listing.library_name,
                    library_name_zh: r.listing.library_name_zh,
                    venue: a.details.venue,
                    starts_at: shown(a.details.starts_at),
                    ends_at: shown(a.details.ends_at),
                    status,
                    registered_at: shown(r.registered_at),
                }
            })
            .collect();
        Ok(Json(MyActivitiesBody { activities }))
    }

    /// Cancels my registration for activity `id` (Password session), freeing the place.
    /// 404 if I am not registered for it; 409 `cancellation_refused` with `reason`
    /// `cancelled` (the library cancelled it) or `started`.
    #[oai(path = "/me/activities/:id", method = "delete", tag = "ApiTags::Me")]
    async fn cancel_mine(&self, auth: ReaderAuth, id: Path<i64>) -> Result<NoContent, ApiError> {
        let patron = reader(&auth.0)?;
        self.state
            .reader_services
            .activities
            .cancel_registration(ActivityId(id.0), patron, self.state.clock.now())
            .await?;
        Ok(NoContent::NoContent)
    }
}
