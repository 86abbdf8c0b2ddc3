//! Capacity and admission at the door, visitor registration (by staff and on the public
//! form), the contact-tracing reads and the `contact_tracing` permission
//! (docs/premises.md, Capacity and visitor registration). The decisions are the
//! application layer's ([`library_app::Admission`]); this module translates.

use library_app::Services;
use library_app::admission::{DoorCount, RecordedBy, StaffPermission, VisitorQuery};
use library_core::{LibraryCode, StaffId};
use library_premises::admission::{Occupancy, VisitorForm};
use poem::Request;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use serde_json::json;
use time::{Date, OffsetDateTime};

use super::ApiTags;
use super::common::{audit_record, path_library};
use super::types::{Int, NoContent, Text, local};
use crate::auth::{StaffAuth, attempt_source};
use crate::error::ApiError;

/// `PUT /libraries/{code}/capacity`.
#[derive(Debug, Object)]
struct CapacityRequest {
    /// People allowed inside at once: null (or absent) = unlimited, 0 = closed to
    /// visitors, at most 100000.
    #[oai(nullable)]
    #[oai(validator(minimum(value = "0"), maximum(value = "100000")))]
    capacity: Option<Int>,
    /// A section code (`[a-z0-9_]{1,32}`); absent = the library's own door.
    #[oai(nullable)]
    #[oai(validator(pattern = "^[a-z0-9_]{1,32}$"))]
    section: Option<Text>,
}

/// A door: the library's own (`section` null) or a section's.
#[derive(Debug, Object)]
struct DoorBody {
    /// Null for the library's own door.
    #[oai(nullable)]
    section: Option<String>,
    /// People inside now.
    inside: u32,
    /// Null = unlimited; 0 = closed to visitors.
    #[oai(nullable)]
    capacity: Option<u32>,
}

fn door_body(section: Option<String>, o: Occupancy) -> DoorBody {
    DoorBody {
        section,
        inside: o.inside,
        capacity: o.capacity.limit(),
    }
}

impl From<DoorCount> for DoorBody {
    fn from(d: DoorCount) -> Self {
        door_body(d.section, d.occupancy)
    }
}

/// `GET /libraries/{code}/occupancy`.
#[derive(Debug, Object)]
struct OccupancyBody {
    /// The library.
    library: String,
    /// People inside the library (its own door's count).
    inside: u32,
    /// The library's capacity: null = unlimited, 0 = closed to visitors.
    #[oai(nullable)]
    capacity: Option<u32>,
    /// The sections with a capacity or a count, by code.
    sections: Vec<DoorBody>,
}

/// The body of an admission or a departure.
#[derive(Debug, Object)]
struct DoorRequest {
    /// A section code; absent = the library's own door.
    #[oai(nullable)]
    #[oai(validator(pattern = "^[a-z0-9_]{1,32}$"))]
    section: Option<Text>,
}

#[derive(ApiResponse)]
enum Admitted {
    /// Admitted: the count after it.
    #[oai(status = 201)]
    Created(Json<DoorBody>),
}

/// `POST /libraries/{code}/visitors` (staff at the door).
#[derive(Debug, Object)]
struct DoorVisitorRequest {
    /// 1 to 100 characters after trimming, no control characters.
    #[oai(validator(
        pattern = "^\\s*[^\\s\\u0000-\\u001F\\u007F-\\u009F]([^\\u0000-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F])?\\s*$",
        max_length = 100
    ))]
    name: Text,
    /// 8 to 15 digits once spaces, hyphens and a leading `+` are removed.
    #[oai(validator(pattern = "^\\s*\\+?[ -]*(?:[0-9][ -]*){8,15}\\s*$"))]
    phone: Text,
    /// The date and time of the visit; absent = now. At most a day ahead.
    #[oai(nullable)]
    visited_at: Option<OffsetDateTime>,
    /// A section code; absent = the library as a whole.
    #[oai(nullable)]
    #[oai(validator(pattern = "^[a-z0-9_]{1,32}$"))]
    section: Option<Text>,
    /// Also admit the visitor, in the same transaction: at capacity, 409
    /// `capacity_reached` and nothing is stored. Default false.
    #[oai(default)]
    admit: bool,
}

/// A registration recorded at the door.
#[derive(Debug, Object)]
struct DoorVisitorBody {
    /// The registration's id.
    id: i64,
    /// The count after the admission, when `admit` was asked for; else null.
    #[oai(nullable)]
    admitted: Option<DoorBody>,
}

#[derive(ApiResponse)]
enum DoorVisitorCreated {
    /// Recorded.
    #[oai(status = 201)]
    Created(Json<DoorVisitorBody>),
}

/// `POST /visitors` (the public form).
#[derive(Debug, Object)]
struct SelfVisitorRequest {
    /// The library visited.
    #[oai(validator(pattern = "^[A-Za-z0-9_]{1,32}$"))]
    library: Text,
    /// 1 to 100 characters after trimming, no control characters.
    #[oai(validator(
        pattern = "^\\s*[^\\s\\u0000-\\u001F\\u007F-\\u009F]([^\\u0000-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F])?\\s*$",
        max_length = 100
    ))]
    name: Text,
    /// 8 to 15 digits once spaces, hyphens and a leading `+` are removed.
    #[oai(validator(pattern = "^\\s*\\+?[ -]*(?:[0-9][ -]*){8,15}\\s*$"))]
    phone: Text,
    /// The date and time of the visit; absent = now. At most a day ahead.
    #[oai(nullable)]
    visited_at: Option<OffsetDateTime>,
    /// A section code; absent = the library as a whole.
    #[oai(nullable)]
    #[oai(validator(pattern = "^[a-z0-9_]{1,32}$"))]
    section: Option<Text>,
}

/// A self-registration recorded: neither the name nor the phone is echoed back.
#[derive(Debug, Object)]
struct SelfVisitorBody {
    /// The library.
    library: String,
    /// The visit as recorded, library time.
    visited_at: OffsetDateTime,
}

#[derive(ApiResponse)]
enum SelfVisitorCreated {
    /// Recorded.
    #[oai(status = 201)]
    Created(Json<SelfVisitorBody>),
}

/// A visitor registration, for contact tracing.
#[derive(Debug, Object)]
struct VisitorBody {
    id: i64,
    library: String,
    /// Null for the library as a whole.
    #[oai(nullable)]
    section: Option<String>,
    name: String,
    /// Digits only.
    phone: String,
    /// Library time.
    visited_at: OffsetDateTime,
    /// `staff:<id>` or `self`.
    recorded_by: String,
}

/// `GET /visitors`.
#[derive(Debug, Object)]
struct VisitorsBody {
    visitors: Vec<VisitorBody>,
}

pub(crate) struct AdmissionApi {
    state: Services,
}

impl AdmissionApi {
    pub(crate) fn new(state: Services) -> Self {
        Self { state }
    }
}

fn text(t: Option<Text>) -> Option<String> {
    t.map(Text::into_string)
}

fn staff_id(auth: &StaffAuth) -> Result<StaffId, ApiError> {
    auth.0
        .staff
        .as_ref()
        .map(|s| s.id)
        .ok_or_else(|| ApiError::internal(&"staff session without its staff user"))
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Libraries")]
impl AdmissionApi {
    /// Sets the capacity of a library or one of its sections (administrators): null =
    /// unlimited, 0 = closed to visitors. 200 with the library's occupancy; 404 unknown
    /// library; 422 `capacity_invalid`, `section_invalid`. Audited `admission.capacity`.
    #[oai(path = "/libraries/:code/capacity", method = "put")]
    async fn set_capacity(
        &self,
        auth: StaffAuth,
        code: Path<Text>,
        body: Json<CapacityRequest>,
    ) -> Result<Json<OccupancyBody>, ApiError> {
        let code = path_library(&code.0)?;
        let body = body.0;
        let section = text(body.section);
        let capacity = Int::get(body.capacity);
        let audit = audit_record(
            &self.state,
            &auth.0,
            "admission.capacity",
            format!("library:{code}"),
            &json!({"section": section, "capacity": capacity}),
        );
        self.state
            .admission
            .set_capacity(&code, section.as_deref(), capacity, audit)
            .await?;
        self.occupancy_of(&code).await.map(Json)
    }

    /// How many people are inside a library and each of its sections, and the
    /// capacities (public: no personal data). 404 unknown library.
    #[oai(path = "/libraries/:code/occupancy", method = "get")]
    async fn occupancy(&self, code: Path<Text>) -> Result<Json<OccupancyBody>, ApiError> {
        let code = path_library(&code.0)?;
        self.occupancy_of(&code).await.map(Json)
    }

    /// Admits one person (staff at the door). 201 with the door's count; 409
    /// `capacity_reached`; 404 unknown library; 422 `section_invalid`.
    #[oai(path = "/libraries/:code/admissions", method = "post")]
    async fn admit(
        &self,
        auth: StaffAuth,
        code: Path<Text>,
        body: Json<DoorRequest>,
    ) -> Result<Admitted, ApiError> {
        let code = path_library(&code.0)?;
        let section = text(body.0.section);
        let audit = audit_record(
            &self.state,
            &auth.0,
            "admission.admit",
            format!("library:{code}"),
            &json!({"section": section}),
        );
        let o = self
            .state
            .admission
            .admit(&code, section.as_deref(), audit)
            .await?;
        Ok(Admitted::Created(Json(door_body(section, o))))
    }

    /// One person leaves (staff at the door); the count never goes below zero. 200 with
    /// the door's count; 404 unknown library; 422 `section_invalid`.
    #[oai(path = "/libraries/:code/departures", method = "post")]
    async fn leave(
        &self,
        auth: StaffAuth,
        code: Path<Text>,
        body: Json<DoorRequest>,
    ) -> Result<Json<DoorBody>, ApiError> {
        let code = path_library(&code.0)?;
        let section = text(body.0.section);
        let audit = audit_record(
            &self.state,
            &auth.0,
            "admission.leave",
            format!("library:{code}"),
            &json!({"section": section}),
        );
        let o = self
            .state
            .admission
            .leave(&code, section.as_deref(), audit)
            .await?;
        Ok(Json(door_body(section, o)))
    }

    /// Registers a visitor at the door (staff), optionally admitting them in the same
    /// call. 201 `{id,admitted}`; 404 unknown library; 409 `capacity_reached` (with
    /// `admit`: nothing stored); 422 `name_invalid`, `phone_invalid`,
    /// `visited_at_invalid`, `section_invalid`. Audited `visitor.register` (the id only).
    #[oai(path = "/libraries/:code/visitors", method = "post")]
    async fn register_at_door(
        &self,
        auth: StaffAuth,
        code: Path<Text>,
        body: Json<DoorVisitorRequest>,
    ) -> Result<DoorVisitorCreated, ApiError> {
        let code = path_library(&code.0)?;
        let body = body.0;
        let section = text(body.section);
        let form = VisitorForm {
            name: body.name.into_string(),
            phone: body.phone.into_string(),
            visited_at: body.visited_at,
        };
        let by = RecordedBy::Staff(staff_id(&auth)?);
        let audit = |id: i64| {
            audit_record(
                &self.state,
                &auth.0,
                "visitor.register",
                format!("visitor:{id}"),
                &json!({"library": code.as_str(), "admit": body.admit}),
            )
        };
        let (id, admitted) = self
            .state
            .admission
            .register(
                &code,
                section.as_deref(),
                &form,
                by,
                body.admit,
                Some(&audit),
            )
            .await?;
        Ok(DoorVisitorCreated::Created(Json(DoorVisitorBody {
            id,
            admitted: admitted.map(|o| door_body(section, o)),
        })))
    }

    /// The public registration form (no session): name, phone, the visit's date and
    /// time. 201 without echoing the name or phone; 404 unknown library; 422 as at the
    /// door; 429 `too_many_attempts` past 20 registrations an hour from one source. It
    /// does not admit: admission is at the door.
    #[oai(path = "/visitors", method = "post")]
    async fn register_self(
        &self,
        req: &Request,
        body: Json<SelfVisitorRequest>,
    ) -> Result<SelfVisitorCreated, ApiError> {
        let body = body.0;
        let form = VisitorForm {
            name: body.name.into_string(),
            phone: body.phone.into_string(),
            visited_at: body.visited_at,
        };
        let section = text(body.section);
        let (_, visited_at) = self
            .state
            .admission
            .register_self(
                &attempt_source(req).0,
                &body.library.0,
                section.as_deref(),
                &form,
            )
            .await?;
        Ok(SelfVisitorCreated::Created(Json(SelfVisitorBody {
            library: body.library.0,
            visited_at: local(visited_at),
        })))
    }

    /// The visitor registrations of visits on the local dates `from` to `to` (inclusive;
    /// at most 367 days), at `library` or all (staff holding `contact_tracing`, whatever
    /// the role: 403 `contact_tracing_required` otherwise). Audited `visitors.read` with
    /// the library, the dates and the number of records. 404 unknown library; 422
    /// `to_before_from`, `range_too_long`.
    #[oai(path = "/visitors", method = "get")]
    async fn read(
        &self,
        auth: StaffAuth,
        library: Query<Option<Text>>,
        from: Query<Date>,
        to: Query<Date>,
    ) -> Result<Json<VisitorsBody>, ApiError> {
        let library = library
            .0
            .filter(|l| !l.is_empty())
            .map(|raw| path_library(&raw))
            .transpose()?;
        let query = VisitorQuery {
            library,
            from: from.0,
            to: to.0,
        };
        let audit = |records: usize| {
            audit_record(
                &self.state,
                &auth.0,
                "visitors.read",
                query
                    .library
                    .as_ref()
                    .map_or_else(|| "library:*".to_owned(), |l| format!("library:{l}")),
                &json!({"from": query.from.to_string(), "to": query.to.to_string(),
                        "records": records}),
            )
        };
        let records = self
            .state
            .admission
            .read_visitors(staff_id(&auth)?, &query, &audit)
            .await?;
        Ok(Json(VisitorsBody {
            visitors: records
                .into_iter()
                .map(|r| VisitorBody {
                    id: r.id,
                    library: r.library.as_str().to_owned(),
                    section: r.section,
                    name: r.name,
                    phone: r.phone,
                    visited_at: local(r.visited_at),
                    recorded_by: r.recorded_by,
                })
                .collect(),
        }))
    }

    /// Grants `contact_tracing` to a staff user (administrators). 204; 404 unknown user.
    /// Audited `staff.permission_grant`.
    #[oai(
        path = "/staff/users/:username/permissions/contact_tracing",
        method = "put",
        tag = "ApiTags::Staff"
    )]
    async fn grant(&self, auth: StaffAuth, username: Path<Text>) -> Result<NoContent, ApiError> {
        self.set_permission(&auth, &username.0, true).await
    }

    /// Revokes `contact_tracing` (administrators). 204 (also when it was not held); 404
    /// unknown user. Audited `staff.permission_revoke`.
    #[oai(
        path = "/staff/users/:username/permissions/contact_tracing",
        method = "delete",
        tag = "ApiTags::Staff"
    )]
    async fn revoke(&self, auth: StaffAuth, username: Path<Text>) -> Result<NoContent, ApiError> {
        self.set_permission(&auth, &username.0, false).await
    }
}

impl AdmissionApi {
    async fn occupancy_of(&self, code: &LibraryCode) -> Result<OccupancyBody, ApiError> {
        let doors = self.state.admission.occupancy(code).await?;
        let mut library = None;
        let mut sections = Vec::new();
        for d in doors {
            if d.section.is_none() {
                library = Some(d.occupancy);
            } else {
                sections.push(DoorBody::from(d));
            }
        }
        let library_door = library.unwrap_or(Occupancy::EMPTY);
        Ok(OccupancyBody {
            library: code.as_str().to_owned(),
            inside: library_door.inside,
            capacity: library_door.capacity.limit(),
            sections,
        })
    }

    async fn set_permission(
        &self,
        auth: &StaffAuth,
        username: &str,
        granted: bool,
    ) -> Result<NoContent, ApiError> {
        let action = if granted {
            "staff.permission_grant"
        } else {
            "staff.permission_revoke"
        };
        let audit = |staff: StaffId| {
            audit_record(
                &self.state,
                &auth.0,
                action,
                format!("staff:{}", staff.get()),
                &json!({"permission": StaffPermission::ContactTracing.code()}),
            )
        };
        self.state
            .admission
            .set_permission(username, StaffPermission::ContactTracing, granted, &audit)
            .await?;
        Ok(NoContent::NoContent)
    }
}
