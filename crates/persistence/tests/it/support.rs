//! Backends for the contract suite, and shared fixtures.
//!
//! SQLite: a fresh file under the temp dir per test. PostgreSQL (when
//! `LIBRARY_TEST_POSTGRES_URL` is set, e.g. `postgres://postgres@127.0.0.1:5432/postgres`):
//! `CREATE DATABASE lib_test_<unique>` per test. Both are removed when the [`TestDb`] is
//! dropped, also when the test panics.

use library_core::{CardNumber, PatronId};
use library_credentials::{PersonalInfo, SecretHash, StoredCredentials};
use library_persistence::NewPatron;
use time::OffsetDateTime;
use time::macros::datetime;

pub use library_persistence::testing::backends;

/// A fixed instant with a non-UTC offset (the library's), to prove offsets do not matter.
pub const T0: OffsetDateTime = datetime!(2021-03-05 09:00 +08:00);

pub fn card(text: &str) -> CardNumber {
    CardNumber::parse(text).unwrap()
}

pub fn new_patron(card_number: &str, email: Option<&str>) -> NewPatron {
    NewPatron {
        card_number: card(card_number),
        name: "Chan Tai Man".into(),
        phone: "9123 4567".into(),
        email: email.map(str::to_owned),
        date_of_birth: Some(time::macros::date!(1990 - 07 - 14)),
        registered_at: T0,
    }
}

/// What the in-memory reference holds for a reader just registered in the database.
pub fn registered(patron: PatronId, new: &NewPatron) -> StoredCredentials {
    StoredCredentials {
        patron,
        info: PersonalInfo {
            card_number: new.card_number.clone(),
            name: new.name.clone(),
            phone: new.phone.clone(),
            email: new.email.clone(),
            date_of_birth: new.date_of_birth,
        },
        password_hash: SecretHash(String::new()),
        password_is_default: true,
        pin_hash: SecretHash(String::new()),
        temporary: None,
        epoch: 0,
    }
}

/// The name of the database a test URL names (`…/name?options` → `name`).
pub fn database_name(url: &str) -> String {
    let name = url.rsplit('/').next().unwrap_or_default();
    name.split('?').next().unwrap_or_default().to_owned()
}

/// Two `Database`s on one database, as two server processes, each listening for the
/// other's announcements before it is returned (on PostgreSQL; SQLite caches at once).
pub async fn two_processes(
    t: &library_persistence::testing::TestDb,
) -> (library_persistence::Database, library_persistence::Database) {
    let first = t.connect().await;
    let second = t.connect().await;
    for _ in 0..500 {
        if first.caches_configuration() && second.caches_configuration() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(
        first.caches_configuration() && second.caches_configuration(),
        "{}: never listened",
        t.name
    );
    (first, second)
}

/// Polls `check` until it holds, for at most five seconds (a notification crosses to the
/// other connection in milliseconds; the bound only keeps a broken build from hanging).
pub async fn eventually<F, Fut>(what: &str, check: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = bool>,
{
    for _ in 0..500 {
        if check().await {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("{what}: the other process never saw the change");
}
