//! Students' Study Room schemes, applications, ballots and cards
//! (`library_app::StudyRoomStore`).
//!
//! Each change is one write transaction that first locks the scheme's row
//! (`SELECT … FOR NO KEY UPDATE` on PostgreSQL; SQLite's `BEGIN IMMEDIATE` holds the write
//! lock), reads, lets `library_premises::study_room` decide and writes what it decided,
//! with the staff's audit entry. Two applications of one reader at once: the second waits
//! for the lock, then sees the first and is `already_applied`; the unique (scheme,
//! reader) index is the last line of defence and answers the same. A ballot is drawn and
//! its winners written in the transaction that records it, so it runs once.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use library_app::{
    Applicant, AuditRecord, BallotRecord, StudyRoomError, StudyRoomStore as StudyRoomPort,
};
use library_circulation::ports::InfrastructureError;
use library_core::{CardNumber, LibraryCode, PatronId, StaffId};
use library_premises::study_room::ballot::{Entrant, draw};
use library_premises::study_room::{
    Application, ApplicationId, ApplicationRefusal, Channel, Decision, ExtendedHours,
    HoursInterval, NewApplication, NewScheme, Scheme, SchemeId, StaffDecision,
};
use sea_orm::{ConnectionTrait, DbErr, QueryResult, SqlErr, Value};
use time::{Date, OffsetDateTime};
use tokio::sync::Semaphore;

use crate::application::audit_entry;
use crate::audit_store::insert_audit_entry;
use crate::error::StoreError;
use crate::instant;
use crate::pool::{Pool, Txn};
use crate::sql::{
    all, corrupt, count, exec, get, infra, insert_returning_id, lock_clause, one, to_u32,
};

const SCHEME_SELECT: &str = "SELECT s.id, s.name, s.name_zh, s.library_code, s.opens_on, \
     s.closes_on, s.valid_from, s.valid_to, s.extended_from, s.extended_to, \
     s.extended_hours, s.places, s.priority_percent, \
     (SELECT COUNT(*) FROM study_room_ballots b WHERE b.scheme_id = s.id) AS ballots \
     FROM study_room_schemes s";

const APPLICATION_SELECT: &str = "SELECT a.id, a.scheme_id, a.patron_id, a.channel, \
     a.counted_on, a.exam_candidate, a.exam, a.submitted_at, a.decision, a.reason, \
     a.revoked_at FROM study_room_applications a";

fn db(context: &'static str) -> impl FnOnce(DbErr) -> StudyRoomError {
    move |err| StudyRoomError::Infrastructure(infra(context)(err))
}

fn inf(err: InfrastructureError) -> StudyRoomError {
    StudyRoomError::Infrastructure(err)
}

fn store(err: StoreError) -> StudyRoomError {
    match err {
        StoreError::Infrastructure(e) => inf(e),
        other => inf(InfrastructureError::new(other.to_string())),
    }
}

fn scheme(row: &QueryResult) -> Result<Scheme, InfrastructureError> {
    const C: &str = "read study-room scheme";
    let library: Option<String> = get(row, "library_code").map_err(infra(C))?;
    let library = library
        .map(|code| LibraryCode::parse(&code).map_err(|e| corrupt(C, e)))
        .transpose()?;
    let hours_text: String = get(row, "extended_hours").map_err(infra(C))?;
    let hours = hours_text
        .split(',')
        .filter(|h| !h.is_empty())
        .map(|h| HoursInterval::parse(h).ok_or_else(|| corrupt(C, format_args!("hours {h:?}"))))
        .collect::<Result<Vec<_>, _>>()?;
    let from: Option<Date> = get(row, "extended_from").map_err(infra(C))?;
    let to: Option<Date> = get(row, "extended_to").map_err(infra(C))?;
    let extended = match (from, to) {
        (Some(from), Some(to)) => Some(ExtendedHours { from, to, hours }),
        _ => None,
    };
    let percent: i64 = get(row, "priority_percent").map_err(infra(C))?;
    let ballots: i64 = get(row, "ballots").map_err(infra(C))?;
    Ok(Scheme {
        id: SchemeId(get(row, "id").map_err(infra(C))?),
        details: NewScheme {
            name: get(row, "name").map_err(infra(C))?,
            name_zh: get(row, "name_zh").map_err(infra(C))?,
            library,
            opens_on: get(row, "opens_on").map_err(infra(C))?,
            closes_on: get(row, "closes_on").map_err(infra(C))?,
            valid_from: get(row, "valid_from").map_err(infra(C))?,
            valid_to: get(row, "valid_to").map_err(infra(C))?,
            extended,
            places: to_u32(C, get(row, "places").map_err(infra(C))?)?,
            priority_percent: u8::try_from(percent).map_err(|e| corrupt(C, e))?,
        },
        ballot_run: ballots > 0,
    })
}

fn application(row: &QueryResult) -> Result<Application, InfrastructureError> {
    const C: &str = "read study-room application";
    let channel: String = get(row, "channel").map_err(infra(C))?;
    let decision: String = get(row, "decision").map_err(infra(C))?;
    Ok(Application {
        id: ApplicationId(get(row, "id").map_err(infra(C))?),
        scheme: SchemeId(get(row, "scheme_id").map_err(infra(C))?),
        patron: PatronId(get(row, "patron_id").map_err(infra(C))?),
        details: NewApplication {
            channel: Channel::from_code(&channel)
                .ok_or_else(|| corrupt(C, format_args!("channel {channel:?}")))?,
            counted_on: get(row, "counted_on").map_err(infra(C))?,
            exam_candidate: get(row, "exam_candidate").map_err(infra(C))?,
            exam: get(row, "exam").map_err(infra(C))?,
        },
        submitted_at: get(row, "submitted_at").map_err(infra(C))?,
        decision: Decision::from_code(&decision)
            .ok_or_else(|| corrupt(C, format_args!("decision {decision:?}")))?,
        reason: get(row, "reason").map_err(infra(C))?,
        revoked_at: get(row, "revoked_at").map_err(infra(C))?,
    })
}

async fn read_scheme(conn: &impl ConnectionTrait, id: SchemeId) -> Result<Scheme, StudyRoomError> {
    let row = one(
        conn,
        &format!("{SCHEME_SELECT} WHERE s.id = ?"),
        vec![id.0.into()],
    )
    .await
    .map_err(db("read study-room scheme"))?
    .ok_or(StudyRoomError::NotFound)?;
    scheme(&row).map_err(inf)
}

/// Locks scheme `id`'s row, then reads it. Unknown: `NotFound`.
async fn lock_scheme(conn: &impl ConnectionTrait, id: SchemeId) -> Result<Scheme, StudyRoomError> {
    let sql = format!(
        "SELECT id FROM study_room_schemes WHERE id = ?{}",
        lock_clause(conn.get_database_backend())
    );
    one(conn, &sql, vec![id.0.into()])
        .await
        .map_err(db("lock study-room scheme"))?
        .ok_or(StudyRoomError::NotFound)?;
    read_scheme(conn, id).await
}

async fn read_application(
    conn: &impl ConnectionTrait,
    id: ApplicationId,
) -> Result<Option<Application>, StudyRoomError> {
    one(
        conn,
        &format!("{APPLICATION_SELECT} WHERE a.id = ?"),
        vec![id.0.into()],
    )
    .await
    .map_err(db("read study-room application"))?
    .map(|r| application(&r).map_err(inf))
    .transpose()
}

async fn application_of(
    conn: &impl ConnectionTrait,
    scheme: SchemeId,
    patron: PatronId,
) -> Result<Option<Application>, StudyRoomError> {
    one(
        conn,
        &format!("{APPLICATION_SELECT} WHERE a.scheme_id = ? AND a.patron_id = ?"),
        vec![scheme.0.into(), patron.get().into()],
    )
    .await
    .map_err(db("read study-room application"))?
    .map(|r| application(&r).map_err(inf))
    .transpose()
}

/// Locks the scheme of application `id`, then reads the application and its scheme.
async fn lock_application(
    conn: &impl ConnectionTrait,
    id: ApplicationId,
) -> Result<(Scheme, Application), StudyRoomError> {
    let row = one(
        conn,
        "SELECT scheme_id FROM study_room_applications WHERE id = ?",
        vec![id.0.into()],
    )
    .await
    .map_err(db("read study-room application"))?
    .ok_or(StudyRoomError::NotFound)?;
    let scheme_id = SchemeId(get(&row, "scheme_id").map_err(db("read study-room application"))?);
    let scheme = lock_scheme(conn, scheme_id).await?;
    let application = read_application(conn, id)
        .await?
        .ok_or(StudyRoomError::NotFound)?;
    Ok((scheme, application))
}

/// Writes `audit` (if any), reads application `id` back and commits: how every change
/// of an application ends.
async fn finish_application(
    txn: Txn,
    context: &'static str,
    id: ApplicationId,
    audit: Option<AuditRecord>,
) -> Result<Application, StudyRoomError> {
    if let Some(audit) = audit {
        insert_audit_entry(&txn, &audit_entry(audit))
            .await
            .map_err(db(context))?;
    }
    let stored = read_application(&txn, id)
        .await?
        .ok_or(StudyRoomError::NotFound)?;
    txn.commit().await.map_err(db(context))?;
    Ok(stored)
}

/// The study rooms in the database.
#[derive(Debug, Clone)]
pub struct DbStudyRooms {
    conn: Pool,
    gate: Arc<Semaphore>,
}

impl DbStudyRooms {
    pub(crate) fn new(conn: Pool, gate: Arc<Semaphore>) -> Self {
        Self { conn, gate }
    }

    async fn begin(&self, context: &'static str) -> Result<Txn, StudyRoomError> {
        self.conn.begin_gated(&self.gate).await.map_err(db(context))
    }
}

fn ids_text(ids: &[ApplicationId]) -> String {
    ids.iter()
        .map(|id| id.0.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

fn ballot(row: &QueryResult) -> Result<BallotRecord, InfrastructureError> {
    const C: &str = "read study-room ballot";
    let seed: String = get(row, "seed").map_err(infra(C))?;
    let winners: String = get(row, "winners").map_err(infra(C))?;
    Ok(BallotRecord {
        scheme: SchemeId(get(row, "scheme_id").map_err(infra(C))?),
        seed: seed.parse().map_err(|e| corrupt(C, e))?,
        run_at: get(row, "run_at").map_err(infra(C))?,
        run_by: get::<Option<i64>>(row, "run_by")
            .map_err(infra(C))?
            .map(StaffId),
        entrants: {
            let text: String = get(row, "entrants").map_err(infra(C))?;
            text.split(',')
                .filter(|e| !e.is_empty())
                .map(|e| {
                    let (id, candidate) = e
                        .split_once(':')
                        .ok_or_else(|| corrupt(C, format_args!("entrant {e:?}")))?;
                    Ok(Entrant {
                        application: ApplicationId(id.parse().map_err(|e| corrupt(C, e))?),
                        candidate: candidate == "1",
                    })
                })
                .collect::<Result<_, InfrastructureError>>()?
        },
        priority_places: to_u32(C, get(row, "priority_places").map_err(infra(C))?)?,
        winners: winners
            .split(',')
            .filter(|w| !w.is_empty())
            .map(|w| w.parse().map(ApplicationId).map_err(|e| corrupt(C, e)))
            .collect::<Result<_, _>>()?,
    })
}

#[async_trait]
impl StudyRoomPort for DbStudyRooms {
    async fn create_scheme(
        &self,
        new: &NewScheme,
        now: OffsetDateTime,
        audit: &(dyn Fn(SchemeId) -> AuditRecord + Send + Sync),
    ) -> Result<SchemeId, StudyRoomError> {
        const C: &str = "create study-room scheme";
        let txn = self.conn.begin_write().await.map_err(db(C))?;
        if let Some(library) = &new.library
            && !crate::activity_store::library_exists(&txn, library)
                .await
                .map_err(store)?
        {
            return Err(StudyRoomError::Invalid(vec!["unknown_library"]));
        }
        let backend = txn.get_database_backend();
        let (from, to, hours) = match &new.extended {
            Some(e) => (
                Some(e.from),
                Some(e.to),
                e.hours
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(","),
            ),
            None => (None, None, String::new()),
        };
        let id = insert_returning_id(
            &txn,
            "INSERT INTO study_room_schemes (name, name_zh, library_code, opens_on, closes_on, \
             valid_from, valid_to, extended_from, extended_to, extended_hours, places, \
             priority_percent, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
             RETURNING id",
            vec![
                new.name.as_str().into(),
                new.name_zh.as_str().into(),
                Value::String(new.library.as_ref().map(|l| l.as_str().to_owned())),
                Value::TimeDate(Some(new.opens_on)),
                Value::TimeDate(Some(new.closes_on)),
                Value::TimeDate(Some(new.valid_from)),
                Value::TimeDate(Some(new.valid_to)),
                Value::TimeDate(from),
                Value::TimeDate(to),
                hours.into(),
                i64::from(new.places).into(),
                i64::from(new.priority_percent).into(),
                instant::value(backend, now),
            ],
        )
        .await
        .map(SchemeId)
        .map_err(db(C))?;
        insert_audit_entry(&txn, &audit_entry(audit(id)))
            .await
            .map_err(db(C))?;
        txn.commit().await.map_err(db(C))?;
        Ok(id)
    }

    async fn schemes(&self, today: Date) -> Result<Vec<Scheme>, StudyRoomError> {
        all(
            &self.conn,
            &format!("{SCHEME_SELECT} WHERE s.valid_to >= ? ORDER BY s.opens_on, s.id"),
            vec![Value::TimeDate(Some(today))],
        )
        .await
        .map_err(db("list study-room schemes"))?
        .iter()
        .map(|r| scheme(r).map_err(inf))
        .collect()
    }

    async fn scheme(&self, id: SchemeId) -> Result<Scheme, StudyRoomError> {
        read_scheme(&self.conn, id).await
    }

    async fn apply(
        &self,
        scheme_id: SchemeId,
        patron: PatronId,
        new: &NewApplication,
        now: OffsetDateTime,
        audit: Option<&(dyn Fn(ApplicationId) -> AuditRecord + Send + Sync)>,
    ) -> Result<Application, StudyRoomError> {
        const C: &str = "apply for a study-room card";
        let txn = self.begin(C).await?;
        let scheme = lock_scheme(&txn, scheme_id).await?;
        let existing = application_of(&txn, scheme_id, patron).await?;
        if let Some(refusal) = scheme.details.application_refusal(
            new.counted_on,
            scheme.ballot_run,
            existing.is_some(),
        ) {
            return Err(StudyRoomError::ApplicationRefused(refusal));
        }
        let backend = txn.get_database_backend();
        let inserted = insert_returning_id(
            &txn,
            "INSERT INTO study_room_applications (scheme_id, patron_id, channel, counted_on, \
             exam_candidate, exam, submitted_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
            vec![
                scheme_id.0.into(),
                patron.get().into(),
                new.channel.code().into(),
                Value::TimeDate(Some(new.counted_on)),
                new.exam_candidate.into(),
                new.exam.as_str().into(),
                instant::value(backend, now),
            ],
        )
        .await;
        let id = match inserted {
            Ok(id) => ApplicationId(id),
            Err(err) if matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
                return Err(StudyRoomError::ApplicationRefused(
                    ApplicationRefusal::AlreadyApplied,
                ));
            }
            Err(err)
                if matches!(
                    err.sql_err(),
                    Some(SqlErr::ForeignKeyConstraintViolation(_))
                ) =>
            {
                return Err(StudyRoomError::NotFound);
            }
            Err(err) => return Err(db(C)(err)),
        };
        finish_application(txn, C, id, audit.map(|audit| audit(id))).await
    }

    async fn applications_of(
        &self,
        patron: PatronId,
    ) -> Result<Vec<(Scheme, Application)>, StudyRoomError> {
        let rows = all(
            &self.conn,
            &format!("{APPLICATION_SELECT} WHERE a.patron_id = ? ORDER BY a.scheme_id DESC"),
            vec![patron.get().into()],
        )
        .await
        .map_err(db("read a reader's study-room applications"))?;
        let schemes = all(
            &self.conn,
            &format!(
                "{SCHEME_SELECT} WHERE s.id IN \
                 (SELECT scheme_id FROM study_room_applications WHERE patron_id = ?)"
            ),
            vec![patron.get().into()],
        )
        .await
        .map_err(db("read study-room scheme"))?
        .iter()
        .map(|r| scheme(r).map(|s| (s.id, s)).map_err(inf))
        .collect::<Result<HashMap<_, _>, _>>()?;
        rows.iter()
            .map(|row| {
                let application = application(row).map_err(inf)?;
                let scheme = schemes
                    .get(&application.scheme)
                    .cloned()
                    .ok_or(StudyRoomError::NotFound)?;
                Ok((scheme, application))
            })
            .collect()
    }

    async fn applications(&self, scheme_id: SchemeId) -> Result<Vec<Applicant>, StudyRoomError> {
        const C: &str = "read study-room applications";
        read_scheme(&self.conn, scheme_id).await?;
        let rows = all(
            &self.conn,
            "SELECT a.id, a.scheme_id, a.patron_id, a.channel, a.counted_on, a.exam_candidate, \
             a.exam, a.submitted_at, a.decision, a.reason, a.revoked_at, p.card_number, p.name \
             FROM study_room_applications a JOIN patrons p ON p.id = a.patron_id \
             WHERE a.scheme_id = ? ORDER BY a.id",
            vec![scheme_id.0.into()],
        )
        .await
        .map_err(db(C))?;
        rows.iter()
            .map(|row| {
                let card: String = get(row, "card_number").map_err(infra(C))?;
                Ok(Applicant {
                    application: application(row)?,
                    card_number: CardNumber::parse(&card).map_err(|_| corrupt(C, "card number"))?,
                    name: get(row, "name").map_err(infra(C))?,
                })
            })
            .collect::<Result<_, InfrastructureError>>()
            .map_err(inf)
    }

    async fn run_ballot(
        &self,
        scheme_id: SchemeId,
        seed: u64,
        today: Date,
        now: OffsetDateTime,
        audit: AuditRecord,
    ) -> Result<BallotRecord, StudyRoomError> {
        const C: &str = "run study-room ballot";
        let txn = self.begin(C).await?;
        let scheme = lock_scheme(&txn, scheme_id).await?;
        if let Some(refusal) = scheme.details.ballot_refusal(today, scheme.ballot_run) {
            return Err(StudyRoomError::BallotRefused(refusal));
        }
        let entrants = all(
            &txn,
            "SELECT id, exam_candidate FROM study_room_applications \
             WHERE scheme_id = ? AND decision = ? ORDER BY id",
            vec![scheme_id.0.into(), Decision::Pending.code().into()],
        )
        .await
        .map_err(db(C))?
        .iter()
        .map(|r| {
            Ok(Entrant {
                application: ApplicationId(get(r, "id")?),
                candidate: get(r, "exam_candidate")?,
            })
        })
        .collect::<Result<Vec<_>, DbErr>>()
        .map_err(db(C))?;
        let drawn = draw(
            &entrants,
            scheme.details.places,
            scheme.details.priority_percent,
            seed,
        );
        let backend = txn.get_database_backend();
        for winner in &drawn.winners {
            exec(
                &txn,
                "UPDATE study_room_applications SET decision = ?, decided_at = ? WHERE id = ?",
                vec![
                    Decision::Approved.code().into(),
                    instant::value(backend, now),
                    winner.0.into(),
                ],
            )
            .await
            .map_err(db(C))?;
        }
        exec(
            &txn,
            "UPDATE study_room_applications SET decision = ?, decided_at = ? \
             WHERE scheme_id = ? AND decision = ?",
            vec![
                Decision::NotSelected.code().into(),
                instant::value(backend, now),
                scheme_id.0.into(),
                Decision::Pending.code().into(),
            ],
        )
        .await
        .map_err(db(C))?;
        let record = BallotRecord {
            scheme: scheme_id,
            seed,
            run_at: now,
            run_by: audit.staff,
            entrants,
            priority_places: drawn.priority_places,
            winners: drawn.winners,
        };
        exec(
            &txn,
            "INSERT INTO study_room_ballots (scheme_id, seed, run_at, run_by, entrants, \
             priority_places, winners) VALUES (?, ?, ?, ?, ?, ?, ?)",
            vec![
                scheme_id.0.into(),
                seed.to_string().into(),
                instant::value(backend, now),
                Value::BigInt(record.run_by.map(|s| s.get())),
                record
                    .entrants
                    .iter()
                    .map(|e| format!("{}:{}", e.application.0, u8::from(e.candidate)))
                    .collect::<Vec<_>>()
                    .join(",")
                    .into(),
                i64::from(record.priority_places).into(),
                ids_text(&record.winners).into(),
            ],
        )
        .await
        .map_err(db(C))?;
        insert_audit_entry(&txn, &audit_entry(audit))
            .await
            .map_err(db(C))?;
        txn.commit().await.map_err(db(C))?;
        Ok(record)
    }

    async fn ballot(&self, scheme_id: SchemeId) -> Result<Option<BallotRecord>, StudyRoomError> {
        read_scheme(&self.conn, scheme_id).await?;
        one(
            &self.conn,
            "SELECT scheme_id, seed, run_at, run_by, entrants, priority_places, winners \
             FROM study_room_ballots WHERE scheme_id = ?",
            vec![scheme_id.0.into()],
        )
        .await
        .map_err(db("read study-room ballot"))?
        .map(|r| ballot(&r).map_err(inf))
        .transpose()
    }

    async fn decide(
        &self,
        id: ApplicationId,
        decision: &StaffDecision,
        now: OffsetDateTime,
        audit: AuditRecord,
    ) -> Result<Application, StudyRoomError> {
        const C: &str = "decide a study-room application";
        let txn = self.begin(C).await?;
        let (scheme, current) = lock_application(&txn, id).await?;
        let approved = count(
            &txn,
            C,
            "SELECT COUNT(*) AS n FROM study_room_applications WHERE scheme_id = ? \
             AND decision = ? AND revoked_at IS NULL",
            vec![scheme.id.0.into(), Decision::Approved.code().into()],
        )
        .await
        .map_err(store)?;
        if let Some(refusal) = current.decision_refusal(
            decision,
            scheme.ballot_run,
            u32::try_from(approved).unwrap_or(u32::MAX),
            scheme.details.places,
        ) {
            return Err(StudyRoomError::DecisionRefused(refusal));
        }
        let (code, reason) = match decision {
            StaffDecision::Approve => (Decision::Approved.code(), None),
            StaffDecision::Reject { reason } => (Decision::Rejected.code(), Some(reason.clone())),
        };
        exec(
            &txn,
            "UPDATE study_room_applications SET decision = ?, reason = ?, decided_at = ? \
             WHERE id = ?",
            vec![
                code.into(),
                Value::String(reason),
                instant::value(txn.get_database_backend(), now),
                id.0.into(),
            ],
        )
        .await
        .map_err(db(C))?;
        finish_application(txn, C, id, Some(audit)).await
    }

    async fn revoke(
        &self,
        id: ApplicationId,
        reason: Option<&str>,
        now: OffsetDateTime,
        audit: AuditRecord,
    ) -> Result<Application, StudyRoomError> {
        const C: &str = "revoke a study-room card";
        let txn = self.begin(C).await?;
        let (_, current) = lock_application(&txn, id).await?;
        if let Some(refusal) = current.revocation_refusal() {
            return Err(StudyRoomError::RevocationRefused(refusal));
        }
        exec(
            &txn,
            "UPDATE study_room_applications SET revoked_at = ?, reason = ? WHERE id = ?",
            vec![
                instant::value(txn.get_database_backend(), now),
                Value::String(reason.map(str::to_owned)),
                id.0.into(),
            ],
        )
        .await
        .map_err(db(C))?;
        finish_application(txn, C, id, Some(audit)).await
    }

    async fn card(
        &self,
        scheme_id: SchemeId,
        patron: PatronId,
    ) -> Result<(Scheme, Option<Application>), StudyRoomError> {
        let scheme = read_scheme(&self.conn, scheme_id).await?;
        let application = application_of(&self.conn, scheme_id, patron).await?;
        Ok((scheme, application))
    }
}
