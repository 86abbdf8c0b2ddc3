//! Opening hours, sections and the reopening of libraries (docs/premises.md): the port
//! the database implements ([`PremisesStore`]) and the use cases every channel calls
//! ([`Premises`]): each library's state now (open, closes at, opens next) from the rules
//! of `library_premises::hours`, the changes staff make, and the reopening of several
//! libraries in one act with its notice in English and Traditional Chinese.

use std::sync::Arc;

use async_trait::async_trait;
use library_core::{Clock, LibraryCode};
use library_premises::hours::{
    DayHours, DoorServices, Hours, OpenStatus, Section, SectionCode, SectionStatus, SpecialHours,
    WeekHours,
};
use library_reader_services::{NewNotice, NoticeId};
use time::{Date, OffsetDateTime};

use crate::ports::{AdminError, AuditRecord, LibraryInfo};

/// How many days of hours a library's page shows, today first.
pub const WEEK_SHOWN: u8 = 7;

/// Special hours as stored: their id (to remove them) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecialEntry {
    /// Its id; a later declaration has a higher id and wins on overlap.
    pub id: i64,
    /// The range and pattern.
    pub hours: SpecialHours,
    /// Why (shown to readers), may be empty.
    pub reason: String,
}

/// A library with everything about its opening: calendar, week, special hours, sections
/// and door services.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LibraryPremises {
    /// Code, names, kind and the calendar of closed days.
    pub library: LibraryInfo,
    /// The regular week; `None` = none configured (open all day on open days).
    pub regular: Option<WeekHours>,
    /// Special hours, oldest declaration first.
    pub special: Vec<SpecialEntry>,
    /// Its sections, by code.
    pub sections: Vec<Section>,
    /// Book drop and self-service station.
    pub doors: DoorServices,
}

impl LibraryPremises {
    /// The hours as the domain reads them.
    pub fn hours(&self) -> Hours {
        Hours {
            regular: self.regular.clone(),
            special: self.special.iter().map(|s| s.hours.clone()).collect(),
        }
    }
}

/// A section's state today.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionNow {
    /// The section as declared.
    pub section: Section,
    /// Its status on today's local date.
    pub status_today: SectionStatus,
    /// Whether it is open at this instant.
    pub open_now: bool,
}

/// A library's state at an instant, as a page or the API shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LibraryNow {
    /// The library.
    pub premises: LibraryPremises,
    /// Open now, closes at, opens next.
    pub status: OpenStatus,
    /// Today's local date.
    pub today: Date,
    /// The hours in force on each of the [`WEEK_SHOWN`] days from today.
    pub days: Vec<(Date, DayHours)>,
    /// Every section with its state now.
    pub sections: Vec<SectionNow>,
}

/// A library's names, as a reopening notice names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LibraryNames {
    /// Its code.
    pub code: LibraryCode,
    /// English name.
    pub name: String,
    /// Traditional Chinese name (may be empty).
    pub name_zh: String,
}

/// A reopening's notice as staff write it, before the libraries are named in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReopeningNotice {
    /// English title.
    pub title: String,
    /// English text.
    pub body: String,
    /// Traditional Chinese title.
    pub title_zh: String,
    /// Traditional Chinese text.
    pub body_zh: String,
}

/// One act that reopens several libraries: their sections from a date, optional special
/// hours, and a notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reopening {
    /// The libraries, each once, in the order given.
    pub libraries: Vec<LibraryCode>,
    /// The date the sections open (and the others close).
    pub from: Date,
    /// Sections open from `from`, until further notice.
    pub open_sections: Vec<SectionCode>,
    /// Sections closed from `from`, until further notice.
    pub closed_sections: Vec<SectionCode>,
    /// Special hours for every library, if any, with their reason.
    pub special: Option<(SpecialHours, String)>,
    /// The notice (the libraries' names are added to it).
    pub notice: ReopeningNotice,
}

impl Reopening {
    /// The sections this act declares, each with its status from `from`.
    pub fn sections(&self) -> Vec<Section> {
        let declare = |code: &SectionCode, status| {
            Section::new(code.clone(), status, self.from, None, None)
                .expect("an open-ended range is never empty")
        };
        self.open_sections
            .iter()
            .map(|c| declare(c, SectionStatus::Open))
            .chain(
                self.closed_sections
                    .iter()
                    .map(|c| declare(c, SectionStatus::Closed)),
            )
            .collect()
    }

    /// The notice published with it, naming `libraries` (in the act's order) in each
    /// language, for every library's readers, shown from `today` until withdrawn.
    pub fn notice(&self, libraries: &[LibraryNames], today: Date) -> NewNotice {
        let en: Vec<&str> = libraries.iter().map(|l| l.name.as_str()).collect();
        let zh: Vec<&str> = libraries
            .iter()
            .map(|l| {
                if l.name_zh.is_empty() {
                    l.name.as_str()
                } else {
                    l.name_zh.as_str()
                }
            })
            .collect();
        let n = &self.notice;
        NewNotice {
            library: None,
            title: n.title.clone(),
            body: format!("{}\n\nLibraries reopening: {}.", n.body, en.join(", ")),
            title_zh: Some(n.title_zh.clone()),
            body_zh: Some(format!(
                "{}\n\n重開的圖書館：{}。",
                n.body_zh,
                zh.join("、")
            )),
            published_on: today,
            expires_on: None,
        }
    }
}

/// Opening hours, sections and door services in the database. Every change takes the
/// audit record of the staff action and writes it in the change's transaction. An
/// unknown library is [`AdminError::NotFound`].
#[async_trait]
pub trait PremisesStore: Send + Sync {
    /// Every library with its premises, by code.
    async fn all(&self) -> Result<Vec<LibraryPremises>, AdminError>;
    /// One library's premises; `None` if there is no such library.
    async fn premises(&self, code: &LibraryCode) -> Result<Option<LibraryPremises>, AdminError>;
    /// Replaces the regular week (`None`: none configured).
    async fn set_regular_hours(
        &self,
        code: &LibraryCode,
        week: Option<&WeekHours>,
        audit: AuditRecord,
    ) -> Result<(), AdminError>;
    /// Declares special hours; their id. `audit` makes the record of the id.
    async fn add_special_hours(
        &self,
        code: &LibraryCode,
        hours: &SpecialHours,
        reason: &str,
        at: OffsetDateTime,
        audit: &(dyn Fn(i64) -> AuditRecord + Send + Sync),
    ) -> Result<i64, AdminError>;
    /// Removes the library's special hours `id`; `false` if it has none such (nothing
    /// audited then).
    async fn remove_special_hours(
        &self,
        code: &LibraryCode,
        id: i64,
        audit: AuditRecord,
    ) -> Result<bool, AdminError>;
    /// Sets a section's status (replacing what was declared for it).
    async fn set_section(
        &self,
        code: &LibraryCode,
        section: &Section,
        audit: AuditRecord,
    ) -> Result<(), AdminError>;
    /// Sets the door services.
    async fn set_door_services(
        &self,
        code: &LibraryCode,
        doors: DoorServices,
        audit: AuditRecord,
    ) -> Result<(), AdminError>;
    /// Applies `reopening` to every one of its libraries and publishes the notice that
    /// `notice` makes from their names, all in one transaction with the audit record
    /// `audit` makes of the notice's id. Unknown libraries:
    /// [`AdminError::Invalid`]`(["unknown_library"])`, nothing changed.
    async fn reopen(
        &self,
        reopening: &Reopening,
        at: OffsetDateTime,
        notice: &(dyn for<'n> Fn(&'n [LibraryNames]) -> NewNotice + Send + Sync),
        audit: &(dyn Fn(NoticeId) -> AuditRecord + Send + Sync),
    ) -> Result<NoticeId, AdminError>;
}

/// The opening-hours use cases, over a [`PremisesStore`] and the clock.
#[derive(Clone)]
pub struct Premises {
    store: Arc<dyn PremisesStore>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Premises {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Premises").finish_non_exhaustive()
    }
}

impl Premises {
    /// Over `store`, reading the time from `clock`.
    pub fn new(store: Arc<dyn PremisesStore>, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock }
    }

    /// The store, for the changes that are one store call each.
    pub fn store(&self) -> &dyn PremisesStore {
        self.store.as_ref()
    }

    /// Every library's state now, by code.
    pub async fn all_now(&self) -> Result<Vec<LibraryNow>, AdminError> {
        let now = self.clock.now();
        Ok(self
            .store
            .all()
            .await?
            .into_iter()
            .map(|p| state_at(p, now))
            .collect())
    }

    /// One library's state now; `None` for an unknown library.
    pub async fn now(&self, code: &LibraryCode) -> Result<Option<LibraryNow>, AdminError> {
        let now = self.clock.now();
        Ok(self.store.premises(code).await?.map(|p| state_at(p, now)))
    }

    /// Reopens the libraries of `reopening` in one act; the notice's id. A section both
    /// opened and closed is [`AdminError::Invalid`]`(["section_twice"])`; no library,
    /// `libraries_missing`; a library named twice counts once.
    pub async fn reopen(
        &self,
        mut reopening: Reopening,
        audit: &(dyn Fn(NoticeId) -> AuditRecord + Send + Sync),
    ) -> Result<NoticeId, AdminError> {
        let mut violations = Vec::new();
        dedupe(&mut reopening.libraries);
        dedupe(&mut reopening.open_sections);
        dedupe(&mut reopening.closed_sections);
        if reopening.libraries.is_empty() {
            violations.push("libraries_missing");
        }
        if reopening
            .open_sections
            .iter()
            .any(|s| reopening.closed_sections.contains(s))
        {
            violations.push("section_twice");
        }
        if !violations.is_empty() {
            return Err(AdminError::Invalid(violations));
        }
        let now = self.clock.now();
        let today = now.to_offset(library_core::DEFAULT_LIBRARY_OFFSET).date();
        let notice = |names: &[LibraryNames]| reopening.notice(names, today);
        self.store.reopen(&reopening, now, &notice, audit).await
    }
}

fn dedupe<T: PartialEq>(items: &mut Vec<T>) {
    let mut seen: Vec<T> = Vec::with_capacity(items.len());
    for item in items.drain(..) {
        if !seen.contains(&item) {
            seen.push(item);
        }
    }
    *items = seen;
}

/// The state of `premises` at `now`, in the library's zone.
pub fn state_at(premises: LibraryPremises, now: OffsetDateTime) -> LibraryNow {
    let calendar = &premises.library.calendar;
    let offset = calendar.offset();
    let closed = |d: Date| !calendar.is_open(d);
    let hours = premises.hours();
    let today = now.to_offset(offset).date();
    let status = hours.status(now, offset, &closed);
    let days = hours.days(today, WEEK_SHOWN, &closed);
    let sections = premises
        .sections
        .iter()
        .map(|s| SectionNow {
            section: s.clone(),
            status_today: s.status_on(today),
            open_now: s.open_at(now, offset, &hours, &closed),
        })
        .collect();
    LibraryNow {
        premises,
        status,
        today,
        days,
        sections,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use library_circulation::{Calendar, Closure};
    use library_core::{DEFAULT_LIBRARY_OFFSET, LibraryKind};
    use library_premises::hours::{Period, SpecialPattern};
    use time::macros::{date, datetime};

    use crate::ports::NewLibraryInfo;

    fn names(code: &str, name: &str, name_zh: &str) -> LibraryNames {
        LibraryNames {
            code: LibraryCode::parse(code).unwrap(),
            name: name.into(),
            name_zh: name_zh.into(),
        }
    }

    fn reopening() -> Reopening {
        Reopening {
            libraries: vec![],
            from: date!(2021 - 02 - 19),
            open_sections: vec![SectionCode::parse("adult").unwrap()],
            closed_sections: vec![SectionCode::parse("study_room").unwrap()],
            special: None,
            notice: ReopeningNotice {
                title: "Libraries reopen".into(),
                body: "Lending resumes.".into(),
                title_zh: "圖書館重開".into(),
                body_zh: "恢復借還服務。".into(),
            },
        }
    }

    #[test]
    fn the_notice_names_the_libraries_in_both_languages() {
        let notice = reopening().notice(
            &[
                names("HKCL", "Hong Kong Central Library", "香港中央圖書館"),
                names("TMPL", "Tuen Mun Public Library", ""),
            ],
            date!(2021 - 02 - 18),
        );
        assert_eq!(
            notice.body,
            "Lending resumes.\n\nLibraries reopening: Hong Kong Central Library, Tuen Mun \
             Public Library."
        );
        assert_eq!(
            notice.body_zh.as_deref(),
            Some("恢復借還服務。\n\n重開的圖書館：香港中央圖書館、Tuen Mun Public Library。")
        );
        assert_eq!(notice.library, None);
        assert_eq!(notice.published_on, date!(2021 - 02 - 18));
        let sections = reopening().sections();
        assert_eq!(sections[0].status(), SectionStatus::Open);
        assert_eq!(sections[1].status(), SectionStatus::Closed);
        assert_eq!(sections[1].until(), None);
    }

    #[test]
    fn the_state_reads_calendar_and_hours_in_the_library_zone() {
        let calendar = Calendar::always_open(DEFAULT_LIBRARY_OFFSET)
            .with_closure(Closure::new(date!(2021 - 02 - 12), date!(2021 - 02 - 18)).unwrap());
        let daily = DayHours::new(vec![Period::parse("10:00", "18:00").unwrap()]).unwrap();
        let premises = LibraryPremises {
            library: LibraryInfo {
                info: NewLibraryInfo {
                    code: LibraryCode::parse("HKCL").unwrap(),
                    name: "Central".into(),
                    name_zh: String::new(),
                    kind: LibraryKind::Central,
                },
                calendar,
            },
            regular: None,
            special: vec![SpecialEntry {
                id: 1,
                hours: SpecialHours::new(
                    date!(2021 - 02 - 19),
                    date!(2021 - 03 - 31),
                    SpecialPattern::Daily(daily),
                )
                .unwrap(),
                reason: String::new(),
            }],
            sections: reopening().sections(),
            doors: DoorServices::default(),
        };
        // 01:59 UTC = 09:59 local on the reopening day.
        let at = state_at(premises.clone(), datetime!(2021-02-19 01:59 UTC));
        assert!(!at.status.open_now);
        assert_eq!(at.status.opens_next, Some(datetime!(2021-02-19 10:00)));
        assert_eq!(at.today, date!(2021 - 02 - 19));
        assert_eq!(at.days.len(), 7);
        let at = state_at(premises.clone(), datetime!(2021-02-19 02:00 UTC));
        assert!(at.status.open_now);
        assert!(at.sections[0].open_now);
        assert!(!at.sections[1].open_now);
        // The day before, closed by the calendar: all day, though no week is configured.
        let at = state_at(premises, datetime!(2021-02-18 04:00 UTC));
        assert!(!at.status.open_now);
        assert_eq!(at.sections[1].status_today, SectionStatus::Open);
        assert!(!at.sections[1].open_now);
    }
}
