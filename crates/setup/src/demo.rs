//! The demo data set (`library-server --demo`, `LIBRARY_DEMO=1`): on an empty database
//! (no libraries), six Hong Kong-like libraries with calendars, the "hkpl" rule profile,
//! about a thousand titles with their copies, and four readers with default credentials,
//! so that a newcomer can try every flow at once. The demo readers' card numbers and
//! default Password/PIN are logged once, with a hint for the `admin` staff user.
//!
//! Decisions:
//! - "Empty" means "no libraries": nothing can be lent without one, so a database without
//!   libraries holds no circulation data worth protecting. On any other database the demo
//!   does nothing and says so. Two servers starting with `--demo` on one empty database
//!   at once: the second one's first library insert conflicts, and it skips.
//! - Generated, not downloaded: titles combine fixed word lists, so every run produces
//!   the same catalogue (same titles, barcodes and homes).
//! - Written in bulk: the catalogue in one transaction, the readers (with their hashed
//!   default credentials) in another; a load takes about a second on SQLite.
//! - Calendars are demo approximations: a weekly closed day per library (none for the
//!   central library) and the Hong Kong general holidays of 2026 and 2027 as dated
//!   closures. The library's 2021 fine-suspension periods (docs/policy.md) are included
//!   so that the impact preview has something to compare with.
//! - "My Info" has something to show: four extension activities in the coming two weeks
//!   (dated from the load, at four libraries, with a few places each) and three notices
//!   (one for every library, two for single libraries), all current on the day of the load.

use library_app::registration::{card_expiry, default_credential_hashes};
use library_circulation::{Closure, ItemStatus, ItemType, ReaderCategory, hkpl_profile};
use library_core::{CardNumber, DEFAULT_LIBRARY_OFFSET, LibraryCode, LibraryKind, PatronId};
use library_credentials::{PortError, default_secret};
use library_fines::{FineSuspensionPeriod, SuspensionScope};
use library_persistence::{
    CalendarRule, Database, DatabaseError, ImportedItem, ImportedReader, ImportedTitle, NewLibrary,
    NewPatron, ReaderProfile, StoreError, TitleDetails,
};
use library_reader_services::{ActivityForm, NoticeForm};
use time::macros::date;
use time::{Date, OffsetDateTime, Weekday};

use crate::bootstrap::ADMIN_USERNAME;
use crate::config::Config;

/// Why the demo data set could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// The database could not be opened.
    #[error(transparent)]
    Database(#[from] DatabaseError),
    /// A store refused or failed.
    #[error("cannot load the demo data: {0}")]
    Store(#[from] StoreError),
    /// Hashing the default credentials failed.
    #[error("cannot hash the demo readers' credentials: {0}")]
    Credentials(#[from] PortError),
    /// A built-in value did not parse (a bug in this module).
    #[error("demo data: {0}")]
    Data(String),
}

fn data_err(what: impl std::fmt::Display) -> DemoError {
    DemoError::Data(what.to_string())
}

/// A demo reader as logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoReader {
    /// The card number.
    pub card_number: String,
    /// The name.
    pub name: String,
    /// The reader category.
    pub category: String,
    /// The home library code.
    pub home_library: String,
    /// The email, if any (the "forgot Password" flow needs one).
    pub email: Option<String>,
    /// The default Password and PIN (the last four digits of the phone).
    pub default_secret: String,
}

/// What a load did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DemoOutcome {
    /// The demo data set was loaded.
    Loaded(DemoSummary),
    /// The database was not empty: nothing was written.
    Skipped {
        /// Libraries found.
        libraries: usize,
    },
}

/// What was loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoSummary {
    /// Library codes.
    pub libraries: Vec<String>,
    /// Calendar entries over all libraries.
    pub calendar_entries: usize,
    /// Rule scopes stored (0 when rules existed already and were kept).
    pub rule_scopes: usize,
    /// Titles.
    pub titles: usize,
    /// Items (copies).
    pub items: usize,
    /// The readers with their default credentials.
    pub readers: Vec<DemoReader>,
    /// Extension activities.
    pub activities: usize,
    /// Library notices (the reopening's included).
    pub notices: usize,
    /// Students' Study Room schemes.
    pub study_room_schemes: usize,
}

/// A demo library.
#[derive(Debug)]
pub struct LibrarySpec {
    /// Its code.
    pub code: &'static str,
    /// English name.
    pub name: &'static str,
    /// Chinese name.
    pub name_zh: &'static str,
    /// Its kind.
    pub kind: LibraryKind,
    /// Its weekly closed days.
    pub closed: &'static [Weekday],
}

/// The demo libraries: one of every kind.
pub const LIBRARIES: [LibrarySpec; 6] = [
    LibrarySpec {
        code: "HKCL",
        name: "Hong Kong Central Library",
        name_zh: "香港中央圖書館",
        kind: LibraryKind::Central,
        closed: &[],
    },
    LibrarySpec {
        code: "KLNPL",
        name: "Kowloon Public Library",
        name_zh: "九龍公共圖書館",
        kind: LibraryKind::Major,
        closed: &[Weekday::Wednesday],
    },
    LibrarySpec {
        code: "STPL",
        name: "Sha Tin Public Library",
        name_zh: "沙田公共圖書館",
        kind: LibraryKind::District,
        closed: &[Weekday::Thursday],
    },
    LibrarySpec {
        code: "TMPL",
        name: "Tuen Mun Public Library",
        name_zh: "屯門公共圖書館",
        kind: LibraryKind::District,
        closed: &[Weekday::Wednesday],
    },
    LibrarySpec {
        code: "LCKPL",
        name: "Lai Chi Kok Public Library",
        name_zh: "荔枝角公共圖書館",
        kind: LibraryKind::Small,
        closed: &[Weekday::Monday],
    },
    LibrarySpec {
        code: "MOB1",
        name: "Mobile Library No. 1",
        name_zh: "流動圖書館一號",
        kind: LibraryKind::Mobile,
        closed: &[Weekday::Sunday, Weekday::Monday],
    },
];

/// Hong Kong general holidays 2026–2027 (demo approximation), closed at every library.
pub const HOLIDAYS: [(Date, &str); 34] = [
    (date!(2026 - 01 - 01), "The first day of January"),
    (date!(2026 - 02 - 17), "Lunar New Year's Day"),
    (date!(2026 - 02 - 18), "The second day of Lunar New Year"),
    (date!(2026 - 02 - 19), "The third day of Lunar New Year"),
    (date!(2026 - 04 - 03), "Good Friday"),
    (date!(2026 - 04 - 04), "The day following Good Friday"),
    (
        date!(2026 - 04 - 06),
        "The day following Ching Ming Festival",
    ),
    (date!(2026 - 04 - 07), "The day following Easter Monday"),
    (date!(2026 - 05 - 01), "Labour Day"),
    (
        date!(2026 - 05 - 25),
        "The day following the Birthday of the Buddha",
    ),
    (date!(2026 - 06 - 19), "Tuen Ng Festival"),
    (date!(2026 - 07 - 01), "HKSAR Establishment Day"),
    (
        date!(2026 - 09 - 26),
        "The day following Chinese Mid-Autumn Festival",
    ),
    (date!(2026 - 10 - 01), "National Day"),
    (
        date!(2026 - 10 - 19),
        "The day following Chung Yeung Festival",
    ),
    (date!(2026 - 12 - 25), "Christmas Day"),
    (
        date!(2026 - 12 - 26),
        "The first weekday after Christmas Day",
    ),
    (date!(2027 - 01 - 01), "The first day of January"),
    (date!(2027 - 02 - 06), "Lunar New Year's Day"),
    (date!(2027 - 02 - 08), "The third day of Lunar New Year"),
    (date!(2027 - 02 - 09), "The fourth day of Lunar New Year"),
    (date!(2027 - 03 - 26), "Good Friday"),
    (date!(2027 - 03 - 27), "The day following Good Friday"),
    (date!(2027 - 03 - 29), "Easter Monday"),
    (date!(2027 - 04 - 05), "Ching Ming Festival"),
    (date!(2027 - 05 - 01), "Labour Day"),
    (date!(2027 - 05 - 13), "The Birthday of the Buddha"),
    (date!(2027 - 06 - 09), "Tuen Ng Festival"),
    (date!(2027 - 07 - 01), "HKSAR Establishment Day"),
    (
        date!(2027 - 09 - 16),
        "The day following Chinese Mid-Autumn Festival",
    ),
    (date!(2027 - 10 - 01), "National Day"),
    (date!(2027 - 10 - 08), "Chung Yeung Festival"),
    (date!(2027 - 12 - 25), "Christmas Day"),
    (
        date!(2027 - 12 - 27),
        "The first weekday after Christmas Day",
    ),
];

/// A demo reader.
#[derive(Debug)]
pub struct ReaderSpec {
    /// The card number.
    pub card: &'static str,
    /// Name.
    pub name: &'static str,
    /// Phone (its last four digits are the default Password and PIN).
    pub phone: &'static str,
    /// Email.
    pub email: Option<&'static str>,
    /// Category.
    pub category: &'static str,
    /// Date of birth.
    pub date_of_birth: Date,
    /// Home library code.
    pub home: &'static str,
}

/// The demo readers. Fixed card numbers (prefix `21` like every card we issue), so the
/// README can name them; distinct phones, so every default Password differs.
pub const READERS: [ReaderSpec; 4] = [
    ReaderSpec {
        card: "21000000000017",
        name: "Chan Tai Man",
        phone: "9123 4567",
        email: Some("tai.man.chan@example.com"),
        category: "adult",
        date_of_birth: date!(1985 - 03 - 14),
        home: "HKCL",
    },
    ReaderSpec {
        card: "21000000000025",
        name: "Ho Wing Sze",
        phone: "6188 2468",
        email: None,
        category: "adult",
        date_of_birth: date!(1992 - 11 - 02),
        home: "KLNPL",
    },
    ReaderSpec {
        card: "21000000000033",
        name: "Wong Siu Ming",
        phone: "5234 1357",
        email: None,
        category: "child",
        date_of_birth: date!(2016 - 05 - 04),
        home: "STPL",
    },
    ReaderSpec {
        card: "21000000000041",
        name: "Lee Mei Ling",
        phone: "2345 9753",
        email: Some("meiling.lee@example.com"),
        category: "senior",
        date_of_birth: date!(1952 - 08 - 21),
        home: "TMPL",
    },
];

/// Called at start-up when `config.demo` is set: opens the database, loads the demo data
/// set if the database is empty and logs what it did (the readers' credentials once).
pub async fn load_on_start(config: &Config) -> Result<DemoOutcome, DemoError> {
    let db = Database::connect(&config.database_url).await?;
    let outcome = load(&db, OffsetDateTime::now_utc()).await;
    if let Err(err) = db.close().await {
        tracing::warn!(%err, "closing the demo loader's database connection");
    }
    let outcome = outcome?;
    log_outcome(&outcome, config.admin_password.is_some());
    Ok(outcome)
}

/// Logs what a load did: the libraries, counts, every demo reader's card and default
/// Password/PIN, and how to log in as staff.
pub fn log_outcome(outcome: &DemoOutcome, admin_password_configured: bool) {
    match outcome {
        DemoOutcome::Skipped { libraries } => tracing::info!(
            libraries,
            "demo: the database already holds libraries; no demo data loaded"
        ),
        DemoOutcome::Loaded(summary) => {
            tracing::info!(
                libraries = summary.libraries.join(" "),
                calendar_entries = summary.calendar_entries,
                rule_scopes = summary.rule_scopes,
                titles = summary.titles,
                items = summary.items,
                readers = summary.readers.len(),
                activities = summary.activities,
                notices = summary.notices,
                "demo: data set loaded"
            );
            for r in &summary.readers {
                tracing::warn!(
                    "demo reader: card {} {} ({}, home {}{}): default Password {} and PIN {} \
                     (the first Password login must change it)",
                    r.card_number,
                    r.name,
                    r.category,
                    r.home_library,
                    r.email
                        .as_deref()
                        .map(|e| format!(", email {e}"))
                        .unwrap_or_default(),
                    r.default_secret,
                    r.default_secret,
                );
            }
            let password = if admin_password_configured {
                "LIBRARY_ADMIN_PASSWORD"
            } else {
                "the random password logged at its creation (set LIBRARY_ADMIN_PASSWORD to choose it)"
            };
            tracing::warn!(
                "demo staff: log in as `{ADMIN_USERNAME}` with {password}: \
                 POST /api/v1/staff/login; readers: sign in on the web pages (`/` of the \
                 address the server listens on) or POST /api/v1/auth/login with a card above"
            );
        }
    }
}

/// Loads the demo data set into `db` if it holds no library; `now` dates the readers'
/// registration and card expiry.
pub async fn load(db: &Database, now: OffsetDateTime) -> Result<DemoOutcome, DemoError> {
    let existing = db.libraries().list().await?;
    if !existing.is_empty() {
        return Ok(DemoOutcome::Skipped {
            libraries: existing.len(),
        });
    }
    let libraries = db.libraries();
    let mut codes = Vec::new();
    for (i, spec) in LIBRARIES.iter().enumerate() {
        let code = LibraryCode::parse(spec.code).map_err(data_err)?;
        let created = libraries
            .create(
                &NewLibrary {
                    code: code.clone(),
                    name: spec.name.to_owned(),
                    name_zh: spec.name_zh.to_owned(),
                    kind: spec.kind,
                    utc_offset: DEFAULT_LIBRARY_OFFSET,
                },
                None,
            )
            .await;
        match created {
            Ok(()) => {}
            // Another process loading the demo into the same database got there first.
            Err(StoreError::Conflict(_)) if i == 0 => {
                let libraries = db.libraries().list().await?.len();
                return Ok(DemoOutcome::Skipped { libraries });
            }
            Err(err) => return Err(err.into()),
        }
        codes.push(code);
    }
    let mut calendar_entries = 0;
    for (spec, code) in LIBRARIES.iter().zip(&codes) {
        for &weekday in spec.closed {
            libraries
                .add_calendar_entry(
                    code,
                    CalendarRule::ClosedWeekday(weekday),
                    &format!("closed on {weekday}s"),
                    None,
                )
                .await?;
            calendar_entries += 1;
        }
        for (day, name) in HOLIDAYS {
            let closure = Closure::new(day, day).map_err(data_err)?;
            libraries
                .add_calendar_entry(code, CalendarRule::Closure(closure), name, None)
                .await?;
            calendar_entries += 1;
        }
    }

    let rules = db.rules();
    let rule_scopes = if rules.list().await?.is_empty() {
        let profile = hkpl_profile();
        rules.replace_all(&profile).await?;
        profile.len()
    } else {
        0
    };

    let suspensions = db.fine_suspensions();
    if suspensions.list().await?.is_empty() {
        for period in seed_periods()? {
            suspensions.create(&period, None).await?;
        }
    }

    let catalogue = catalogue(&codes)?;
    let titles = catalogue.len();
    let items = catalogue.iter().map(|t| t.items.len()).sum();
    db.catalogue().import(&catalogue).await?;

    let readers = register_readers(db, now).await?;
    let (activities, notices) = my_info(db, now).await?;
    let study_room_schemes = premises(db, now, &codes).await?;
    Ok(DemoOutcome::Loaded(DemoSummary {
        libraries: codes.iter().map(|c| c.as_str().to_owned()).collect(),
        calendar_entries,
        rule_scopes,
        titles,
        items,
        readers,
        activities,
        notices: notices + 1,
        study_room_schemes,
    }))
}

struct ActivitySpec {
    library: &'static str,
    title: &'static str,
    activity_type: &'static str,
    venue: &'static str,
    description: &'static str,
    /// Days after the load's local date.
    in_days: i64,
    /// Local start time: hour and minute.
    at: (u8, u8),
    minutes: i64,
    capacity: i64,
}

const ACTIVITIES: [ActivitySpec; 4] = [
    ActivitySpec {
        library: "HKCL",
        title: "Storytelling in Cantonese: Tales of the Harbour",
        activity_type: "story_time",
        venue: "Toy Library, 2/F",
        description: "Picture-book stories for children aged 4 to 8 and their parents.",
        in_days: 3,
        at: (15, 0),
        minutes: 60,
        capacity: 30,
    },
    ActivitySpec {
        library: "KLNPL",
        title: "Meet the Author: Writing Hong Kong",
        activity_type: "talk",
        venue: "Lecture Room, 3/F",
        description: "A novelist on writing the city's streets, in Cantonese.",
        in_days: 7,
        at: (19, 0),
        minutes: 90,
        capacity: 80,
    },
    ActivitySpec {
        library: "STPL",
        title: "Getting Started with E-books",
        activity_type: "workshop",
        venue: "Computer Room, 1/F",
        description: "Borrow and read e-books on your phone. Bring your library card.",
        in_days: 10,
        at: (10, 30),
        minutes: 90,
        capacity: 12,
    },
    ActivitySpec {
        library: "TMPL",
        title: "Chinese Calligraphy for Beginners",
        activity_type: "workshop",
        venue: "Activity Room, G/F",
        description: "Brushes and paper provided.",
        in_days: 14,
        at: (14, 30),
        minutes: 120,
        capacity: 15,
    },
];

struct NoticeSpec {
    library: Option<&'static str>,
    title: &'static str,
    body: &'static str,
    /// Shown for this many days from the load (`None`: until withdrawn).
    for_days: Option<i64>,
}

const NOTICES: [NoticeSpec; 3] = [
    NoticeSpec {
        library: None,
        title: "Renew online with your Password",
        body: "Loans can be renewed on the web and in the app with your Password, and by \
               telephone or at self-service stations with your PIN.",
        for_days: None,
    },
    NoticeSpec {
        library: Some("HKCL"),
        title: "Extended opening hours of the Students' Study Room",
        body: "During the examination period the Students' Study Room opens until 11 pm.\n\
               Admission cards are checked at the entrance.",
        for_days: Some(60),
    },
    NoticeSpec {
        library: Some("KLNPL"),
        title: "Lift maintenance",
        body: "The lift is under maintenance for two weeks. Please ask staff for help \
               with reaching the upper floors.",
        for_days: Some(14),
    },
];

/// The extension activities and notices of "My Info", dated from `now`; how many of each.
async fn my_info(db: &Database, now: OffsetDateTime) -> Result<(usize, usize), DemoError> {
    let local = now.to_offset(DEFAULT_LIBRARY_OFFSET);
    let today = local.date();
    for spec in &ACTIVITIES {
        let day = today + time::Duration::days(spec.in_days);
        let time = time::Time::from_hms(spec.at.0, spec.at.1, 0).map_err(data_err)?;
        let starts_at = day.with_time(time).assume_offset(DEFAULT_LIBRARY_OFFSET);
        let activity = ActivityForm {
            library_code: spec.library.to_owned(),
            title: spec.title.to_owned(),
            activity_type: spec.activity_type.to_owned(),
            venue: spec.venue.to_owned(),
            description: Some(spec.description.to_owned()),
            starts_at,
            ends_at: starts_at + time::Duration::minutes(spec.minutes),
            capacity: spec.capacity,
            registration_closes_at: Some(starts_at - time::Duration::days(1)),
        }
        .parse(now)
        .map_err(data_err)?;
        db.activities().create(&activity, now, None).await?;
    }
    for spec in &NOTICES {
        let notice = NoticeForm {
            library_code: spec.library.map(str::to_owned),
            title: spec.title.to_owned(),
            body: spec.body.to_owned(),
            title_zh: None,
            body_zh: None,
            published_on: Some(today),
            expires_on: spec.for_days.map(|d| today + time::Duration::days(d)),
        }
        .parse(today)
        .map_err(data_err)?;
        db.notices().publish(&notice, now, None).await?;
    }
    Ok((ACTIVITIES.len(), NOTICES.len()))
}

/// The libraries whose adult, young adult and children's libraries the demo reopens, as
/// the seed's notice of 19 February 2021 did: every library but the small one and the
/// mobile library, which stay as they are.
const REOPENED: [&str; 4] = ["HKCL", "KLNPL", "STPL", "TMPL"];

/// The seed's library services replayed from the load's local date (docs/premises.md):
/// - regular hours (the central library 10:00–21:00, the others 09:30–20:00, the mobile
///   library none: open all day on its open days); book drops at every library but the
///   mobile one, self-service stations at the central and Sha Tin libraries;
/// - the partial reopening from today of [`REOPENED`]: adult, young adult and children's
///   libraries open, computers closed until further notice, special hours 10:00–18:00 for
///   six weeks, and its notice in English and Traditional Chinese naming the libraries;
/// - the central library's study room open with extended hours 08:00–22:00 for three
///   months, and a Students' Study Room scheme taking applications from three days ago for
///   two weeks, its cards valid from the third to the twelfth week;
/// - capacities: 500 at the central library (60 in its study room), 200 elsewhere.
///
/// Returns the number of study-room schemes.
async fn premises(
    db: &Database,
    now: OffsetDateTime,
    codes: &[LibraryCode],
) -> Result<usize, DemoError> {
    use library_app::AuditRecord;
    use library_app::admission::AdmissionStore;
    use library_app::premises::{Premises, PremisesStore, Reopening, ReopeningNotice};
    use library_app::study_rooms::StudyRoomStore;
    use library_premises::hours::{
        DayHours, DoorServices, Period, Section, SectionCode, SectionStatus, SpecialHours,
        SpecialPattern, WeekHours,
    };
    use library_premises::study_room::SchemeForm;

    let today = now.to_offset(DEFAULT_LIBRARY_OFFSET).date();
    let days = |n: i64| today + time::Duration::days(n);
    let audit = |subject: String| AuditRecord {
        staff: None,
        action: "demo.load",
        subject,
        details: "{}".to_owned(),
        at: now,
    };
    let daily = |start: &str, end: &str| -> Result<DayHours, DemoError> {
        DayHours::new(vec![Period::parse(start, end).map_err(data_err)?]).map_err(data_err)
    };
    let section_code = |code: &str| SectionCode::parse(code).map_err(data_err);

    let store = db.premises();
    for code in codes {
        let (hours, book_drop, station) = match code.as_str() {
            "HKCL" => (Some(daily("10:00", "21:00")?), true, true),
            "STPL" => (Some(daily("09:30", "20:00")?), true, true),
            "MOB1" => (None, false, false),
            _ => (Some(daily("09:30", "20:00")?), true, false),
        };
        let subject = format!("library:{code}");
        if let Some(day) = hours {
            store
                .set_regular_hours(
                    code,
                    Some(&WeekHours::every_day(&day)),
                    audit(subject.clone()),
                )
                .await
                .map_err(data_err)?;
        }
        store
            .set_door_services(
                code,
                DoorServices {
                    book_drop,
                    self_service_station: station,
                },
                audit(subject),
            )
            .await
            .map_err(data_err)?;
    }

    let reopened = REOPENED
        .iter()
        .map(|c| LibraryCode::parse(c).map_err(data_err))
        .collect::<Result<Vec<_>, _>>()?;
    let special = SpecialHours::new(
        today,
        days(41),
        SpecialPattern::Daily(daily("10:00", "18:00")?),
    )
    .map_err(data_err)?;
    let reopening = Reopening {
        libraries: reopened,
        from: today,
        open_sections: vec![
            section_code("adult")?,
            section_code("young_adult")?,
            section_code("children")?,
        ],
        closed_sections: vec![section_code("computer")?],
        special: Some((special, "Special opening hours".to_owned())),
        notice: ReopeningNotice {
            title: "Some public libraries partially reopen".to_owned(),
            body: "The adult library, young adult library and children's library reopen for \
                   lending, returning and the collection of reserved items, with special \
                   opening hours (10:00–18:00) and a limit on the number of people inside. \
                   Please scan the code or register your name, contact number and the time \
                   of your visit at the entrance. Other facilities remain closed until \
                   further notice; book drops and self-service library stations keep serving."
                .to_owned(),
            title_zh: "部分公共圖書館局部重開".to_owned(),
            body_zh: "成人圖書館、青少年圖書館及兒童圖書館重開，提供借還圖書館資料及領取預約\
                      圖書館資料服務，實施特別開放時間（上午十時至下午六時）及限制入館人數。\
                      入館前請掃描二維碼或登記姓名、聯絡電話及到訪日期和時間。其他設施暫停\
                      開放直至另行通知；還書箱及自助圖書站繼續提供服務。"
                .to_owned(),
        },
    };
    let clock = std::sync::Arc::new(library_core::ManualClock::new(now));
    Premises::new(std::sync::Arc::new(store.clone()), clock)
        .reopen(reopening, &|id| audit(format!("notice:{}", id.0)))
        .await
        .map_err(data_err)?;

    let hkcl = LibraryCode::parse("HKCL").map_err(data_err)?;
    let study_room = Section::new(
        section_code("study_room")?,
        SectionStatus::Open,
        today,
        Some(days(91)),
        Some(WeekHours::every_day(&daily("08:00", "22:00")?)),
    )
    .map_err(data_err)?;
    store
        .set_section(&hkcl, &study_room, audit("library:HKCL".to_owned()))
        .await
        .map_err(data_err)?;

    let admission = db.admission();
    for code in codes {
        let capacity = if code.as_str() == "HKCL" { 500 } else { 200 };
        admission
            .set_capacity(
                code,
                None,
                library_premises::admission::Capacity::parse(Some(capacity)).map_err(data_err)?,
                audit(format!("library:{code}")),
            )
            .await
            .map_err(data_err)?;
    }
    admission
        .set_capacity(
            &hkcl,
            Some(&section_code("study_room")?),
            library_premises::admission::Capacity::parse(Some(60)).map_err(data_err)?,
            audit("library:HKCL".to_owned()),
        )
        .await
        .map_err(data_err)?;

    let scheme = SchemeForm {
        name: "Students' Study Room admission cards, examination period".to_owned(),
        name_zh: "自修室考試期間入場證".to_owned(),
        library_code: Some("HKCL".to_owned()),
        opens_on: days(-3),
        closes_on: days(11),
        valid_from: days(21),
        valid_to: days(84),
        extended_from: Some(today),
        extended_to: Some(days(91)),
        extended_hours: vec!["08:00-22:00".to_owned()],
        places: 120,
        priority_percent: Some(95),
    }
    .parse()
    .map_err(|codes| data_err(codes.join(", ")))?;
    db.study_rooms()
        .create_scheme(&scheme, now, &|id| {
            audit(format!("study_room_scheme:{}", id.0))
        })
        .await
        .map_err(data_err)?;
    Ok(1)
}

/// The library's 2021 closure (docs/policy.md): no fines until 5 March 2021 for every
/// library; mobile libraries until 3 May 2021.
fn seed_periods() -> Result<Vec<FineSuspensionPeriod>, DemoError> {
    Ok(vec![
        FineSuspensionPeriod::new(
            date!(2020 - 12 - 02),
            Some(date!(2021 - 03 - 05)),
            SuspensionScope::all_libraries(),
            "2021 closure: fines resume on 5 March 2021",
        )
        .map_err(data_err)?,
        FineSuspensionPeriod::new(
            date!(2020 - 12 - 02),
            Some(date!(2021 - 05 - 03)),
            SuspensionScope::kinds([LibraryKind::Mobile]),
            "2021 closure: mobile libraries resume on 3 May 2021",
        )
        .map_err(data_err)?,
    ])
}

async fn register_readers(
    db: &Database,
    now: OffsetDateTime,
) -> Result<Vec<DemoReader>, DemoError> {
    let today = now.to_offset(DEFAULT_LIBRARY_OFFSET).date();
    let expires = card_expiry(today);
    let phones: Vec<String> = READERS.iter().map(|r| r.phone.to_owned()).collect();
    let hashes = default_credential_hashes(phones).await?;
    let mut imported = Vec::new();
    let mut shown = Vec::new();
    for (spec, (password_hash, pin_hash)) in READERS.iter().zip(hashes) {
        imported.push(ImportedReader {
            patron: NewPatron {
                card_number: CardNumber::parse(spec.card).map_err(data_err)?,
                name: spec.name.to_owned(),
                phone: spec.phone.to_owned(),
                email: spec.email.map(str::to_owned),
                date_of_birth: Some(spec.date_of_birth),
                registered_at: now,
            },
            profile: ReaderProfile {
                category: ReaderCategory::parse(spec.category).map_err(data_err)?,
                home_library: LibraryCode::parse(spec.home).map_err(data_err)?,
                card_expires_on: expires,
            },
            password_hash,
            password_is_default: true,
            pin_hash,
        });
        shown.push(DemoReader {
            card_number: spec.card.to_owned(),
            name: spec.name.to_owned(),
            category: spec.category.to_owned(),
            home_library: spec.home.to_owned(),
            email: spec.email.map(str::to_owned),
            default_secret: default_secret(spec.phone).map_err(data_err)?,
        });
    }
    let _ids: Vec<PatronId> = db.patrons().import_readers(&imported).await?;
    Ok(shown)
}

// ---------------------------------------------------------------------------------------
// The generated catalogue.

const ADJECTIVES: [&str; 20] = [
    "Silent",
    "Golden",
    "Hidden",
    "Distant",
    "Forgotten",
    "Northern",
    "Crimson",
    "Quiet",
    "Endless",
    "Paper",
    "Iron",
    "Jade",
    "Midnight",
    "Morning",
    "Winter",
    "Summer",
    "Wandering",
    "Last",
    "Floating",
    "Salt",
];
const NOUNS: [&str; 20] = [
    "River",
    "Lantern",
    "Garden",
    "Island",
    "Typhoon",
    "Tram",
    "Market",
    "Temple",
    "Mountain",
    "Letters",
    "Kitchen",
    "Archive",
    "Ferry",
    "Orchard",
    "Compass",
    "Bridge",
    "Teahouse",
    "Festival",
    "Harbour",
    "Lighthouse",
];
const TOPICS: [&str; 15] = [
    "Cantonese Cooking",
    "Hong Kong History",
    "Urban Gardening",
    "Personal Finance",
    "Photography",
    "Hiking Trails",
    "Chinese Calligraphy",
    "Programming in Rust",
    "Marine Biology",
    "Architecture",
    "Traditional Medicine",
    "Typhoon Science",
    "Chinese Opera",
    "Tea Culture",
    "Public Libraries",
];
const FORMS: [&str; 12] = [
    "A Beginner's Guide to",
    "Essays on",
    "The Story of",
    "Understanding",
    "A Field Guide to",
    "Fifty Years of",
    "The Art of",
    "Lectures on",
    "A Short History of",
    "Rethinking",
    "Notes on",
    "The Practice of",
];
const ZH_ADJECTIVES: [&str; 5] = ["寧靜的", "金色的", "遙遠的", "隱藏的", "最後的"];
const ZH_NOUNS: [&str; 6] = ["海港", "花園", "燈塔", "山城", "街市", "渡輪"];
const ANIMALS: [&str; 12] = [
    "Panda", "Dolphin", "Tiger", "Rabbit", "Owl", "Turtle", "Monkey", "Penguin", "Fox", "Frog",
    "Elephant", "Kitten",
];
const ADVENTURES: [&str; 12] = [
    "Goes to the Beach",
    "Learns to Swim",
    "Visits the Library",
    "Finds a Star",
    "Rides the Tram",
    "Plants a Tree",
    "Bakes a Cake",
    "Meets a Dragon",
    "Climbs Lion Rock",
    "Loses a Tooth",
    "Flies a Kite",
    "Counts to Ten",
];
const YA_NAMES: [&str; 10] = [
    "Mei", "Kit", "Ada", "Leo", "Sam", "Yan", "Noor", "Ming", "Zoe", "Hugo",
];
const YA_THINGS: [&str; 10] = [
    "Clockwork Sky",
    "Secret Archive",
    "Last Summer",
    "Broken Code",
    "Night Market",
    "Silver Ferry",
    "Paper Dragons",
    "Rooftop Club",
    "Lost Signal",
    "Glass Island",
];
const COMPOSERS: [&str; 10] = [
    "Bach",
    "Beethoven",
    "Chopin",
    "Debussy",
    "Mozart",
    "Schubert",
    "Brahms",
    "Dvořák",
    "Tchaikovsky",
    "Ravel",
];
const AV_FORMS: [&str; 5] = [
    "Piano Works",
    "Symphonies",
    "Chamber Music",
    "Selected Songs",
    "Concertos",
];
const PERIODICALS: [&str; 10] = [
    "Harbour Review",
    "Asian Science Monthly",
    "The Reading Room",
    "City Planning Quarterly",
    "Hong Kong Naturalist",
    "Design Today",
    "World Affairs Digest",
    "Library Journal HK",
    "Pocket Chemistry",
    "Travel Asia",
];

/// One generated title: its name and item type.
fn generated_titles() -> Vec<(String, &'static str)> {
    let mut out: Vec<(String, &'static str)> = Vec::with_capacity(1000);
    // Adult fiction: 400.
    for noun in NOUNS {
        for adj in ADJECTIVES {
            out.push((format!("The {adj} {noun}"), "adult_book"));
        }
    }
    // Adult non-fiction: 180.
    for topic in TOPICS {
        for form in FORMS {
            out.push((format!("{form} {topic}"), "adult_book"));
        }
    }
    // Chinese titles: 30.
    for noun in ZH_NOUNS {
        for adj in ZH_ADJECTIVES {
            out.push((format!("{adj}{noun}"), "adult_book"));
        }
    }
    // Adult audio-visual: 50; periodicals: 10 titles × 4 issues.
    for composer in COMPOSERS {
        for form in AV_FORMS {
            out.push((format!("{composer}: {form}"), "adult_av"));
        }
    }
    for name in PERIODICALS {
        for issue in ["January", "April", "July", "October"] {
            out.push((format!("{name} ({issue} 2026)"), "adult_periodical"));
        }
    }
    // Children's books: 144, children's audio-visual: 24.
    for adventure in ADVENTURES {
        for animal in ANIMALS {
            out.push((format!("Little {animal} {adventure}"), "children_book"));
        }
    }
    for animal in ANIMALS {
        for form in ["Songs", "Stories Read Aloud"] {
            out.push((format!("{animal} {form}"), "children_av"));
        }
    }
    // Young adult: 100 books; fill up to 1000 with young-adult periodicals.
    for thing in YA_THINGS {
        for name in YA_NAMES {
            out.push((format!("{name} and the {thing}"), "young_adult_book"));
        }
    }
    let mut issue = 1;
    while out.len() < 1000 {
        out.push((
            format!("Teen Voices, issue {issue}"),
            "young_adult_periodical",
        ));
        issue += 1;
    }
    out
}

/// The catalogue: every generated title with one copy, every third with a second copy,
/// spread over the libraries (the mobile library gets fewer). Barcodes `3400…`, 14 digits.
fn catalogue(codes: &[LibraryCode]) -> Result<Vec<ImportedTitle>, DemoError> {
    // Homes by weight: the central library holds most, the mobile library least.
    let weights: [usize; 6] = [4, 3, 2, 2, 1, 1];
    let homes: Vec<&LibraryCode> = codes
        .iter()
        .zip(weights)
        .flat_map(|(c, w)| std::iter::repeat_n(c, w))
        .collect();
    let mut barcode = 0u64;
    let mut slot = 0usize;
    let mut titles = Vec::new();
    for (i, (name, item_type)) in generated_titles().into_iter().enumerate() {
        let item_type = ItemType::parse(item_type).map_err(data_err)?;
        let copies = if i % 3 == 0 { 2 } else { 1 };
        let mut items = Vec::with_capacity(copies);
        for _ in 0..copies {
            barcode += 1;
            let home = homes[slot % homes.len()];
            slot += 7;
            items.push(ImportedItem {
                barcode: library_core::Barcode::parse(&format!("3400{barcode:010}"))
                    .map_err(data_err)?,
                item_type: item_type.clone(),
                home_library: home.clone(),
                status: ItemStatus::Available,
            });
        }
        titles.push(ImportedTitle {
            title: TitleDetails {
                name,
                author: None,
                isbn: None,
                replacement_cost: None,
            },
            items,
        });
    }
    Ok(titles)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn the_generated_catalogue_is_deterministic_distinct_and_uses_profile_item_types() {
        let codes: Vec<LibraryCode> = LIBRARIES
            .iter()
            .map(|l| LibraryCode::parse(l.code).unwrap())
            .collect();
        let a = catalogue(&codes).unwrap();
        let b = catalogue(&codes).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.len(), 1000);
        let names: HashSet<&str> = a.iter().map(|t| t.title.name.as_str()).collect();
        assert_eq!(names.len(), 1000, "titles are distinct");
        let barcodes: HashSet<&str> = a
            .iter()
            .flat_map(|t| t.items.iter().map(|i| i.barcode.as_str()))
            .collect();
        let items: usize = a.iter().map(|t| t.items.len()).sum();
        assert_eq!(barcodes.len(), items);
        assert_eq!(items, 1334);
        let known: HashSet<&str> = library_circulation::ADULT_ITEM_TYPES
            .into_iter()
            .chain(library_circulation::JUNIOR_ITEM_TYPES)
            .collect();
        for t in &a {
            for i in &t.items {
                assert!(known.contains(i.item_type.as_str()), "{}", i.item_type);
            }
        }
        let homes: HashSet<&str> = a
            .iter()
            .flat_map(|t| t.items.iter().map(|i| i.home_library.as_str()))
            .collect();
        assert_eq!(homes.len(), LIBRARIES.len(), "every library holds copies");
    }

    #[test]
    fn demo_readers_have_valid_distinct_cards_and_secrets() {
        let mut secrets = HashSet::new();
        for r in &READERS {
            CardNumber::parse(r.card).unwrap();
            assert!(r.card.starts_with(library_app::CARD_NUMBER_PREFIX));
            assert!(secrets.insert(default_secret(r.phone).unwrap()));
            assert!(LIBRARIES.iter().any(|l| l.code == r.home));
        }
        let categories: HashSet<&str> = READERS.iter().map(|r| r.category).collect();
        assert_eq!(categories, HashSet::from(["adult", "child", "senior"]));
    }
}
