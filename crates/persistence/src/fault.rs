//! Which database errors mean "the database cannot serve now" (HTTP 503 with
//! `Retry-After`) rather than a fault of this program (500): the server is unreachable or
//! shutting down, a connection broke, the pool found no connection in time, the write lock
//! stayed taken past the busy timeout, the disk is full, an I/O error.

use sea_orm::sqlx::{self, postgres::PgDatabaseError, sqlite::SqliteError};
use sea_orm::{DbErr, RuntimeErr};

/// Whether `err` says the database is unavailable (a later try may succeed).
pub(crate) fn is_unavailable(err: &DbErr) -> bool {
    match err {
        // Connecting failed (whatever the database said while refusing the connection:
        // PostgreSQL's "database … is not currently accepting connections" is SQLSTATE
        // 55000, a database renamed away 3D000, neither of a connection class), or a
        // transaction that had failed so (see `pool::Failure`): the request could not reach
        // the data, and a later try may.
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => {
            sqlx_unavailable(e)
        }
        _ => false,
    }
}

fn sqlx_unavailable(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => {
            if db.try_downcast_ref::<SqliteError>().is_some() {
                sqlite_unavailable(db.code().as_deref())
            } else if let Some(pg) = db.try_downcast_ref::<PgDatabaseError>() {
                postgres_unavailable(pg.code())
            } else {
                false
            }
        }
        _ => false,
    }
}

/// SQLite's (extended) result code as text: its primary code is the low byte.
fn sqlite_unavailable(code: Option<&str>) -> bool {
    const BUSY: i64 = 5;
    const LOCKED: i64 = 6;
    const NOMEM: i64 = 7;
    const READONLY: i64 = 8;
    const INTERRUPT: i64 = 9;
    const IOERR: i64 = 10;
    const FULL: i64 = 13;
    const CANTOPEN: i64 = 14;
    const PROTOCOL: i64 = 15;
    code.and_then(|c| c.parse::<i64>().ok())
        .map(|c| c & 0xff)
        .is_some_and(|primary| {
            matches!(
                primary,
                BUSY | LOCKED | NOMEM | READONLY | INTERRUPT | IOERR | FULL | CANTOPEN | PROTOCOL
            )
        })
}

/// PostgreSQL's SQLSTATE: connection exceptions (08), insufficient resources (53: disk
/// full, out of memory, too many connections), operator intervention (57P01 admin
/// shutdown, as `pg_terminate_backend` does; 57P02 crash shutdown; 57P03 cannot connect
/// now; 57P05 idle session timeout), system errors (58: I/O), and a read-only transaction
/// on a standby (25006).
fn postgres_unavailable(sqlstate: &str) -> bool {
    sqlstate.starts_with("08")
        || sqlstate.starts_with("53")
        || sqlstate.starts_with("57P")
        || sqlstate.starts_with("58")
        || sqlstate == "25006"
}

/// `err` with its sources, for the log: the database's own words ("database or disk is
/// full") stay with the context that says what was being done.
pub(crate) fn describe(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let more = cause.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn sqlite_codes_that_say_unavailable() {
        for code in ["5", "6", "7", "8", "10", "13", "14", "517", "778", "3338"] {
            assert!(sqlite_unavailable(Some(code)), "{code}");
        }
        // Constraint (19, 2067 unique), corrupt (11), misuse (21), error (1).
        for code in ["1", "11", "19", "2067", "21"] {
            assert!(!sqlite_unavailable(Some(code)), "{code}");
        }
        assert!(!sqlite_unavailable(None));
        assert!(!sqlite_unavailable(Some("x")));
    }

    #[test]
    fn postgres_states_that_say_unavailable() {
        for state in [
            "08006", "08001", "53100", "53300", "57P01", "57P03", "58030", "25006",
        ] {
            assert!(postgres_unavailable(state), "{state}");
        }
        for state in ["23505", "23503", "40001", "42P01", "22021", "25P02"] {
            assert!(!postgres_unavailable(state), "{state}");
        }
    }

    #[test]
    fn pool_and_io_failures_are_unavailable_and_others_are_not() {
        let io = DbErr::Exec(RuntimeErr::SqlxError(Arc::new(sqlx::Error::Io(
            std::io::Error::from(std::io::ErrorKind::ConnectionReset),
        ))));
        assert!(is_unavailable(&io));
        assert!(is_unavailable(&DbErr::ConnectionAcquire(
            sea_orm::ConnAcquireErr::Timeout
        )));
        assert!(is_unavailable(&DbErr::Conn(RuntimeErr::Internal(
            "down".into()
        ))));
        // A new connection refused by the database itself.
        let refused = DbErr::Conn(RuntimeErr::SqlxError(Arc::new(sqlx::Error::Configuration(
            "database \"library\" is not currently accepting connections".into(),
        ))));
        assert!(is_unavailable(&refused));
        assert!(!is_unavailable(&DbErr::Custom("bug".into())));
        assert!(!is_unavailable(&DbErr::Type("bad column".into())));
        assert!(!is_unavailable(&DbErr::Query(RuntimeErr::SqlxError(
            Arc::new(sqlx::Error::RowNotFound)
        ))));
    }

    #[test]
    fn the_description_keeps_the_database_words() {
        #[derive(Debug, thiserror::Error)]
        #[error("commit: database error")]
        struct Outer(#[source] std::io::Error);
        let err = Outer(std::io::Error::other("database or disk is full"));
        assert_eq!(
            describe(&err),
            "commit: database error: database or disk is full"
        );
    }
}
