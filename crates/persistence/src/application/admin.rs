//! The application layer's interfaces over the stores: the reader directory, the staff
//! directory, the readiness probe, the outbox notifier, the scheduled jobs, the circulation
//! services over the database, and libraries, catalogue, rules, fine suspensions, ledgers
//! and the audit log.

use std::sync::Arc;

use crate::{
    AuditLogStore, CalendarRule, CatalogueStore, Database, DbCirculationStore, DbCredentialStore,
    FineSuspensionStore, LedgerStore, LibraryRecord, LibraryStore, NewAuditEntry, NewItem,
    NewLibrary, NewNotification, NewPatron, NewStaffUser, OutboxStore, PatronStore, QueryStore,
    ReadyError, RuleStore, StaffStore, StoreError, TitleDetails,
};
use async_trait::async_trait;
use library_app::{
    Accounts, AdminError, AuditRecord, AuditTrail, CalendarEntryInfo, CatalogueAdmin,
    CirculationDesk, DeclaredClosure, FineSuspensionAdmin, JobRunner, LibraryAdmin, LibraryInfo,
    NewCopy, NewLibraryInfo, NewReader, NewStaffMember, NotReady, NotReadyReason, ReaderDirectory,
    ReaderProfile, Readiness, RegisterReaderError, RuleAdmin, SecretBox, StaffDirectory,
    StaffMember, StoredSuspension, TitleInfo, kind,
};
use library_circulation::closure_moves::{ClosureImpact, MoveTargets};
use library_circulation::ports::{CalendarRepository, RuleRepository};
use library_circulation::{
    Circulation, Closure, Hold, Item, ItemStatus, Library, ReaderCategory, RuleScope, RuleSet,
    ScopedRules,
};
use library_core::{
    Barcode, CardNumber, Clock, DEFAULT_LIBRARY_OFFSET, ItemId, LibraryCode, LoanId, Money,
    PatronId, TitleId,
};
use library_credentials::{
    CredentialNotice, CredentialStore, GuessingPolicy, Notifier, PortError, StoredCredentials,
};
use library_fines::{ChargeId, FineSuspensionPeriod, ImpactPreview, PatronLedger};
use time::{Date, OffsetDateTime};

/// Readers in the database: registration with the circulation profile, and the profile.
#[derive(Debug, Clone)]
pub struct DbReaderDirectory {
    patrons: PatronStore,
    credentials: DbCredentialStore,
    pool: crate::pool::Pool,
}

impl DbReaderDirectory {
    /// Over `db`.
    pub fn new(db: &Database) -> Self {
        Self {
            patrons: db.patrons(),
            credentials: db.credentials(),
            pool: db.pool().clone(),
        }
    }

    pub(crate) fn pool(&self) -> &crate::pool::Pool {
        &self.pool
    }
}

#[async_trait]
impl ReaderDirectory for DbReaderDirectory {
    async fn register(
        &self,
        reader: &NewReader,
        audit: Option<&(dyn Fn(PatronId) -> AuditRecord + Send + Sync)>,
    ) -> Result<PatronId, RegisterReaderError> {
        let card = &reader.card_number;
        if self.credentials.find_by_card(card).await?.is_some() {
            return Err(RegisterReaderError::CardNumberTaken);
        }
        let profile = crate::ReaderProfile {
            category: ReaderCategory::parse(&reader.category)
                .map_err(|e| PortError::Failed(format!("register reader: {e}")))?,
            home_library: LibraryCode::parse(&reader.home_library)
                .map_err(|e| PortError::Failed(format!("register reader: {e}")))?,
            card_expires_on: reader.card_expires_on,
        };
        let new = NewPatron {
            card_number: card.clone(),
            name: reader.name.clone(),
            phone: reader.phone.clone(),
            email: reader.email.clone(),
            date_of_birth: reader.date_of_birth,
            registered_at: reader.registered_at,
        };
        let entry = audit.map(|audit| move |id: PatronId| audit_entry(audit(id)));
        let entry = entry
            .as_ref()
            .map(|e| e as &(dyn Fn(PatronId) -> NewAuditEntry + Send + Sync));
        match self.patrons.register_reader(&new, &profile, entry).await {
            Ok(id) => Ok(id),
            // The store does not say why an insert failed: a card registered meanwhile is
            // the one failure the caller can recover from.
            Err(err) => match self.credentials.find_by_card(card).await {
                Ok(Some(_)) => Err(RegisterReaderError::CardNumberTaken),
                _ => Err(err.into()),
            },
        }
    }

    async fn profile(&self, patron: PatronId) -> Result<Option<ReaderProfile>, PortError> {
        let Some(creds) = self.credentials.find_by_patron(patron).await? else {
            return Ok(None);
        };
        let reader = match self.patrons.reader(patron).await {
            Ok(reader) => reader,
            Err(err) => {
                // A reader registered without a circulation profile.
                tracing::warn!(patron = patron.get(), %err, "reader without a circulation profile");
                None
            }
        };
        Ok(Some(ReaderProfile {
            card_number: creds.info.card_number,
            name: creds.info.name,
            email: creds.info.email,
            category: reader.as_ref().map(|r| r.category.as_str().to_owned()),
            home_library: reader.as_ref().map(|r| r.home_library.as_str().to_owned()),
            card_expires_on: reader.as_ref().map(|r| r.card_expires_on),
            suspended_until: reader.as_ref().and_then(|r| r.suspended_until),
            blocked: reader.is_some_and(|r| r.blocked),
        }))
    }

    async fn find_by_card(&self, card: &CardNumber) -> Result<Option<PatronId>, PortError> {
        Ok(self.credentials.find_by_card(card).await?.map(|c| c.patron))
    }

    async fn unblock(&self, card: &CardNumber, audit: AuditRecord) -> Result<bool, PortError> {
        self.patrons
            .unblock(card, Some(&audit_entry(audit)))
            .await
            .map_err(|e| e.into_port_error("unblock reader"))
    }

    async fn credentials_by_card(
        &self,
        card: &CardNumber,
    ) -> Result<Option<StoredCredentials>, PortError> {
        self.credentials.find_by_card(card).await
    }

    async fn block(
        &self,
        patron: PatronId,
        at: OffsetDateTime,
        reason: &str,
        audit: AuditRecord,
    ) -> Result<bool, PortError> {
        self.patrons
            .block(patron, at, reason, Some(&audit_entry(audit)))
            .await
            .map_err(|e| e.into_port_error("block reader"))
    }
}

/// Staff users in the database, for the HTTP routes (`POST` and `GET /staff/users`).
#[derive(Debug, Clone)]
pub struct DbStaffDirectory {
    staff: StaffStore,
}

impl DbStaffDirectory {
    /// Over `db`.
    pub fn new(db: &Database) -> Self {
        Self { staff: db.staff() }
    }
}

#[async_trait]
impl StaffDirectory for DbStaffDirectory {
    async fn create(
        &self,
        new: &NewStaffMember,
        audit: &(dyn for<'m> Fn(&'m StaffMember) -> AuditRecord + Send + Sync),
    ) -> Result<Option<StaffMember>, PortError> {
        let user = NewStaffUser {
            username: new.username.clone(),
            password_hash: new.password_hash.clone(),
            role: new.role,
            may_override: new.may_override,
            created_at: new.created_at,
        };
        let member = |id| StaffMember {
            id,
            // As stored.
            username: new.username.to_lowercase(),
            role: new.role,
            may_override: new.may_override,
        };
        let entry = |id| audit_entry(audit(&member(id)));
        Ok(self
            .staff
            .create_unless_taken(&user, Some(&entry))
            .await?
            .map(member))
    }

    async fn list(&self) -> Result<Vec<StaffMember>, PortError> {
        Ok(self
            .staff
            .list()
            .await?
            .into_iter()
            .map(|u| StaffMember {
                id: u.id,
                username: u.username,
                role: u.role,
                may_override: u.may_override,
            })
            .collect())
    }
}

/// Ready when the database answers a query.
#[derive(Debug, Clone)]
pub struct DbReadiness {
    db: Database,
}

impl DbReadiness {
    /// Over `db`.
    pub fn new(db: &Database) -> Self {
        Self { db: db.clone() }
    }
}

#[async_trait]
impl Readiness for DbReadiness {
    async fn check(&self) -> Result<(), NotReady> {
        self.db.check_ready().await.map_err(|err| NotReady {
            reason: match err {
                ReadyError::Read(_) => NotReadyReason::DatabaseReadFailed,
                ReadyError::Write(_) => NotReadyReason::DatabaseWriteFailed,
            },
            cause: err.to_string(),
        })
    }
}

/// The database pools' use, for the metrics.
#[derive(Debug, Clone)]
pub struct DbPools {
    db: Database,
}

impl DbPools {
    /// Over `db`.
    pub fn new(db: &Database) -> Self {
        Self { db: db.clone() }
    }
}

impl library_app::PoolGauges for DbPools {
    fn pools(&self) -> Vec<library_app::PoolUse> {
        self.db.pool_use()
    }
}

/// Notices to readers: queued in the outbox table for the mail sender, and noted in the
/// log. A temporary password is sealed ([`SecretBox`]) before it is written: neither the
/// log nor the table carries its text, and the sender opens it to mail it.
#[derive(Clone)]
pub struct OutboxNotifier {
    outbox: OutboxStore,
    secrets: SecretBox,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for OutboxNotifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutboxNotifier").finish_non_exhaustive()
    }
}

impl OutboxNotifier {
    /// Over `db`'s outbox, sealing secrets with `secrets`.
    pub fn new(db: &Database, secrets: SecretBox, clock: Arc<dyn Clock>) -> Self {
        Self {
            outbox: db.outbox(),
            secrets,
            clock,
        }
    }
}

#[async_trait]
impl Notifier for OutboxNotifier {
    async fn notify(&self, notice: CredentialNotice) -> Result<(), PortError> {
        let mut expires = None;
        let (kind, patron, payload) = match &notice {
            CredentialNotice::TemporaryPassword {
                patron,
                email,
                password,
                expires_at,
            } => (kind::TEMPORARY_PASSWORD, *patron, {
                expires = Some(*expires_at);
                serde_json::json!({
                "email": email,
                "sealed_password": self.secrets.seal(password.expose())?,
                "expires_at": expires_at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
                })
            }),
            CredentialNotice::PasswordResetByStaff { patron } => (
                kind::PASSWORD_RESET_BY_STAFF,
                *patron,
                serde_json::json!({}),
            ),
            CredentialNotice::PasswordChanged { patron } => {
                (kind::PASSWORD_CHANGED, *patron, serde_json::json!({}))
            }
            CredentialNotice::PinChanged { patron } => {
                (kind::PIN_CHANGED, *patron, serde_json::json!({}))
            }
        };
        self.outbox
            .append(&NewNotification {
                kind: kind.to_owned(),
                patron: Some(patron),
                payload: payload.to_string(),
                created_at: self.clock.now(),
                expires_at: expires,
            })
            .await
            .map_err(|e| e.into_port_error("queue notice"))?;
        tracing::info!(patron = patron.get(), kind, "notice queued");
        Ok(())
    }
}

/// The scheduled jobs: the expiry of waiting holds not collected in time (their copies go
/// to the next reader or back to the shelf), then the purge of guessing counters that no
/// longer say anything. The services read the shared clock, so the development clock
/// drives them too.
#[derive(Clone)]
pub struct ScheduledJobs {
    circulation: Arc<dyn CirculationDesk>,
    credentials: DbCredentialStore,
    guessing: GuessingPolicy,
}

impl std::fmt::Debug for ScheduledJobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScheduledJobs").finish_non_exhaustive()
    }
}

impl ScheduledJobs {
    /// The jobs over these services, the guessing counters read by `guessing`.
    pub fn new(
        circulation: Arc<dyn CirculationDesk>,
        credentials: DbCredentialStore,
        guessing: GuessingPolicy,
    ) -> Self {
        Self {
            circulation,
            credentials,
            guessing,
        }
    }
}

#[async_trait]
impl JobRunner for ScheduledJobs {
    async fn run_all(&self, now: OffsetDateTime) -> Result<(), PortError> {
        let report = self.circulation.expire_waiting_holds().await.map_err(|e| {
            let library_circulation::service::ExpireHoldsError::Infrastructure(e) = e;
            StoreError::Infrastructure(e).into_port_error("hold expiry")
        })?;
        let purged = self
            .credentials
            .purge_stale_attempts(now, &self.guessing)
            .await?;
        tracing::info!(
            %now,
            expired = report.expired.len(),
            no_longer_needed = report.no_longer_needed.len(),
            trapped = report.trapped.len(),
            purged,
            "scheduled jobs run"
        );
        Ok(())
    }
}

/// The server's clock as the circulation services take it.
#[derive(Clone)]
pub struct SharedClock(pub Arc<dyn Clock>);

impl std::fmt::Debug for SharedClock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedClock").finish_non_exhaustive()
    }
}

impl Clock for SharedClock {
    fn now(&self) -> OffsetDateTime {
        self.0.now()
    }
}

/// The circulation services over the database.
pub type DbCirculation =
    Circulation<DbCirculationStore, RuleStore, LibraryStore, FineSuspensionStore, SharedClock>;

/// Builds the circulation services over `db`.
pub fn circulation(db: &Database, clock: Arc<dyn Clock>) -> DbCirculation {
    Circulation::new(
        db.circulation(),
        db.rules(),
        db.libraries(),
        db.fine_suspensions(),
        SharedClock(clock),
    )
}

pub(crate) fn admin_err(err: StoreError) -> AdminError {
    match err {
        StoreError::NotFound(_) => AdminError::NotFound,
        StoreError::Conflict(_) => AdminError::AlreadyExists,
        StoreError::Invalid(what) => {
            tracing::warn!(%what, "store refused input");
            AdminError::Invalid(vec!["invalid"])
        }
        StoreError::Ledger(e) => AdminError::Ledger(e),
        StoreError::Period(e) => AdminError::Period(e),
        StoreError::Calendar(e) => AdminError::Calendar(e),
        StoreError::Infrastructure(e) => AdminError::Infrastructure(e),
    }
}

/// Libraries, the catalogue, rules, fine-suspension periods, ledgers, read models and the
/// audit log, over the persistence stores.
#[derive(Debug, Clone)]
pub struct DbAdmin {
    libraries: LibraryStore,
    catalogue: CatalogueStore,
    rules: RuleStore,
    suspensions: FineSuspensionStore,
    ledger: LedgerStore,
    queries: QueryStore,
    audit: AuditLogStore,
}

impl DbAdmin {
    /// Over `db`.
    pub fn new(db: &Database) -> Self {
        Self {
            libraries: db.libraries(),
            catalogue: db.catalogue(),
            rules: db.rules(),
            suspensions: db.fine_suspensions(),
            ledger: db.ledger(),
            queries: db.queries(),
            audit: db.audit_log(),
        }
    }
}

/// The stored library with its (cached) calendar; the default calendar if it has none.
pub(crate) async fn library_info(
    libraries: &LibraryStore,
    record: LibraryRecord,
) -> Result<LibraryInfo, AdminError> {
    let calendar = libraries
        .library_calendar(&record.code)
        .await?
        .map(|l| l.calendar)
        .unwrap_or_default();
    Ok(LibraryInfo {
        info: NewLibraryInfo {
            code: record.code,
            name: record.name,
            name_zh: record.name_zh,
            kind: record.kind,
        },
        calendar,
    })
}

/// Every library with its calendar, by code.
pub(crate) async fn library_infos(
    libraries: &LibraryStore,
) -> Result<Vec<LibraryInfo>, AdminError> {
    let mut out = Vec::new();
    for record in libraries.list().await.map_err(admin_err)? {
        out.push(library_info(libraries, record).await?);
    }
    Ok(out)
}

#[async_trait]
impl LibraryAdmin for DbAdmin {
    async fn create(&self, library: &NewLibraryInfo, audit: AuditRecord) -> Result<(), AdminError> {
        self.libraries
            .create(
                &NewLibrary {
                    code: library.code.clone(),
                    name: library.name.clone(),
                    name_zh: library.name_zh.clone(),
                    kind: library.kind,
                    utc_offset: DEFAULT_LIBRARY_OFFSET,
                },
                Some(&audit_entry(audit)),
            )
            .await
            .map_err(admin_err)
    }

    async fn list(&self) -> Result<Vec<LibraryInfo>, AdminError> {
        library_infos(&self.libraries).await
    }

    async fn library(&self, code: &LibraryCode) -> Result<Option<Library>, AdminError> {
        Ok(self.libraries.library_calendar(code).await?)
    }

    async fn add_calendar_entry(
        &self,
        code: &LibraryCode,
        rule: CalendarRule,
        reason: &str,
        audit: &(dyn Fn(i64) -> AuditRecord + Send + Sync),
    ) -> Result<i64, AdminError> {
        let entry = |id| audit_entry(audit(id));
        self.libraries
            .add_calendar_entry(code, rule, reason, Some(&entry))
            .await
            .map_err(admin_err)
    }

    async fn calendar_entries(
        &self,
        code: &LibraryCode,
    ) -> Result<Option<Vec<CalendarEntryInfo>>, AdminError> {
        if self.libraries.get(code).await.map_err(admin_err)?.is_none() {
            return Ok(None);
        }
        let entries = self
            .libraries
            .calendar_entries(code)
            .await
            .map_err(admin_err)?;
        Ok(Some(
            entries
                .into_iter()
                .map(|e| CalendarEntryInfo {
                    id: e.id,
                    rule: e.rule,
                    reason: e.description,
                })
                .collect(),
        ))
    }

    async fn remove_calendar_entry(
        &self,
        code: &LibraryCode,
        id: i64,
        audit: AuditRecord,
    ) -> Result<bool, AdminError> {
        self.libraries
            .remove_calendar_entry(code, id, Some(&audit_entry(audit)))
            .await
            .map_err(admin_err)
    }

    async fn closure_impact(
        &self,
        code: &LibraryCode,
        closure: Closure,
        targets: MoveTargets,
    ) -> Result<ClosureImpact, AdminError> {
        self.libraries
            .closure_impact(code, closure, targets)
            .await
            .map_err(admin_err)
    }

    async fn declare_closure(
        &self,
        code: &LibraryCode,
        closure: Closure,
        reason: &str,
        targets: MoveTargets,
        at: OffsetDateTime,
        audit: &(dyn for<'i> Fn(i64, &'i ClosureImpact) -> AuditRecord + Send + Sync),
    ) -> Result<DeclaredClosure, AdminError> {
        let entry: &crate::closure_moves::ClosureAudit<'_> =
            &|id, impact| audit_entry(audit(id, impact));
        let (id, impact) = self
            .libraries
            .declare_closure(code, closure, reason, targets, at, Some(entry))
            .await
            .map_err(admin_err)?;
        Ok(DeclaredClosure { id, impact })
    }
}

#[async_trait]
impl CatalogueAdmin for DbAdmin {
    async fn search(
        &self,
        query: &library_app::CatalogueQuery,
    ) -> Result<library_reader_services::Page<library_app::CatalogueHit>, AdminError> {
        self.catalogue.search(query).await.map_err(admin_err)
    }

    async fn create_title(
        &self,
        title: &TitleInfo,
        audit: &(dyn Fn(TitleId) -> AuditRecord + Send + Sync),
    ) -> Result<TitleId, AdminError> {
        let entry = |id| audit_entry(audit(id));
        self.catalogue
            .add_title(
                &TitleDetails {
                    name: title.name.clone(),
                    author: title.author.clone(),
                    isbn: title.isbn.clone(),
                    replacement_cost: title.replacement_cost,
                },
                Some(&entry),
            )
            .await
            .map_err(admin_err)
    }

    async fn title(&self, id: TitleId) -> Result<Option<TitleInfo>, AdminError> {
        Ok(self
            .catalogue
            .title_details(id)
            .await
            .map_err(admin_err)?
            .map(|t| TitleInfo {
                name: t.name,
                author: t.author,
                isbn: t.isbn,
                replacement_cost: t.replacement_cost,
            }))
    }

    async fn create_item(
        &self,
        item: &NewCopy,
        audit: &(dyn Fn(ItemId) -> AuditRecord + Send + Sync),
    ) -> Result<ItemId, AdminError> {
        let mut violations = Vec::new();
        if self
            .catalogue
            .title(item.title)
            .await
            .map_err(admin_err)?
            .is_none()
        {
            violations.push("title_id_unknown");
        }
        if self
            .libraries
            .get(&item.home_library)
            .await
            .map_err(admin_err)?
            .is_none()
        {
            violations.push("home_library_unknown");
        }
        if !violations.is_empty() {
            return Err(AdminError::Invalid(violations));
        }
        let entry = |id| audit_entry(audit(id));
        self.catalogue
            .create_item(
                &NewItem {
                    barcode: item.barcode.clone(),
                    title: item.title,
                    item_type: item.item_type.clone(),
                    home_library: item.home_library.clone(),
                    status: ItemStatus::Available,
                    replacement_cost: item.replacement_cost,
                },
                Some(&entry),
            )
            .await
            .map_err(admin_err)
    }

    async fn title_name(&self, title: TitleId) -> Result<Option<String>, AdminError> {
        Ok(self
            .catalogue
            .title(title)
            .await
            .map_err(admin_err)?
            .map(|t| t.name))
    }

    async fn title_names(
        &self,
        ids: &[TitleId],
    ) -> Result<std::collections::HashMap<TitleId, String>, AdminError> {
        self.catalogue.title_names(ids).await.map_err(admin_err)
    }

    async fn item(&self, id: ItemId) -> Result<Option<Item>, AdminError> {
        self.catalogue.item(id).await.map_err(admin_err)
    }

    async fn item_by_barcode(&self, barcode: &Barcode) -> Result<Option<Item>, AdminError> {
        self.catalogue
            .item_by_barcode(barcode)
            .await
            .map_err(admin_err)
    }
}

#[async_trait]
impl RuleAdmin for DbAdmin {
    async fn list(&self) -> Result<Vec<ScopedRules>, AdminError> {
        self.rules.list().await.map_err(admin_err)
    }

    async fn in_force(&self) -> Result<Vec<ScopedRules>, AdminError> {
        Ok(self.rules.scoped_rules().await?)
    }

    async fn update(
        &self,
        scope: &RuleScope,
        set: &RuleSet,
        remove: &[&'static str],
        audit: AuditRecord,
    ) -> Result<(), AdminError> {
        self.rules
            .change_rules(scope, set, remove, Some(&audit_entry(audit)))
            .await
            .map_err(admin_err)
    }

    async fn replace_all(
        &self,
        scoped: &[ScopedRules],
        audit: AuditRecord,
    ) -> Result<(), AdminError> {
        self.rules
            .replace_all_audited(scoped, Some(&audit_entry(audit)))
            .await
            .map_err(admin_err)
    }
}

#[async_trait]
impl FineSuspensionAdmin for DbAdmin {
    async fn create(
        &self,
        period: &FineSuspensionPeriod,
        audit: &(dyn Fn(i64) -> AuditRecord + Send + Sync),
    ) -> Result<i64, AdminError> {
        let entry = |id| audit_entry(audit(id));
        self.suspensions
            .create(period, Some(&entry))
            .await
            .map_err(admin_err)
    }

    async fn list(&self) -> Result<Vec<StoredSuspension>, AdminError> {
        Ok(self
            .suspensions
            .list()
            .await
            .map_err(admin_err)?
            .into_iter()
            .map(|s| StoredSuspension {
                id: s.id,
                period: s.period,
            })
            .collect())
    }

    async fn set_resume_date(
        &self,
        id: i64,
        resumes_on: Date,
        audit: AuditRecord,
    ) -> Result<FineSuspensionPeriod, AdminError> {
        self.suspensions
            .set_resume_date(id, resumes_on, Some(&audit_entry(audit)))
            .await
            .map_err(admin_err)
    }

    async fn preview(
        &self,
        candidate: &FineSuspensionPeriod,
        as_of: Date,
    ) -> Result<ImpactPreview, AdminError> {
        self.suspensions
            .preview(candidate, as_of)
            .await
            .map_err(admin_err)
    }
}

#[async_trait]
impl Accounts for DbAdmin {
    async fn ledger(&self, patron: PatronId) -> Result<PatronLedger, AdminError> {
        self.ledger.ledger(patron).await.map_err(admin_err)
    }

    async fn pay(
        &self,
        patron: PatronId,
        amount: Money,
        on: Date,
        audit: AuditRecord,
    ) -> Result<Money, AdminError> {
        Ok(self
            .ledger
            .pay(patron, amount, on, Some(&audit_entry(audit)))
            .await
            .map_err(admin_err)?
            .amount)
    }

    async fn charge_owner(&self, charge: ChargeId) -> Result<Option<PatronId>, AdminError> {
        self.queries.charge_owner(charge).await.map_err(admin_err)
    }

    async fn waive(
        &self,
        patron: PatronId,
        charge: ChargeId,
        reason: &str,
        on: Date,
        audit: &(dyn Fn(Money) -> AuditRecord + Send + Sync),
    ) -> Result<Money, AdminError> {
        let entry = |waived: Money| audit_entry(audit(waived));
        self.ledger
            .waive(patron, charge, reason, on, Some(&entry))
            .await
            .map_err(admin_err)
    }

    async fn loan_barcodes(&self, patron: PatronId) -> Result<Vec<(LoanId, Barcode)>, AdminError> {
        self.queries.loan_barcodes(patron).await.map_err(admin_err)
    }

    async fn holds_of(
        &self,
        patron: PatronId,
        ended_since: OffsetDateTime,
    ) -> Result<Vec<Hold>, AdminError> {
        self.queries
            .holds_of_patron(patron, ended_since)
            .await
            .map_err(admin_err)
    }
}

#[async_trait]
impl AuditTrail for DbAdmin {
    async fn record(&self, entry: AuditRecord) -> Result<(), AdminError> {
        self.audit
            .append(&audit_entry(entry))
            .await
            .map_err(admin_err)?;
        Ok(())
    }
}

/// The audit log row of an audit record of the application layer.
pub(crate) fn audit_entry(record: AuditRecord) -> NewAuditEntry {
    NewAuditEntry {
        staff: record.staff,
        action: record.action.to_owned(),
        subject: record.subject,
        details: record.details,
        at: record.at,
    }
}
