//! How instants are written. Reading needs nothing special: sea-orm decodes both backends'
//! forms into `time::OffsetDateTime`.
//!
//! Why: sqlx writes an `OffsetDateTime` to SQLite as RFC 3339 text with as many fraction
//! digits as needed (`…10:00:00Z`, `…10:00:00.5Z`) and in the value's own offset. SQLite
//! compares that text byte by byte, so `…10:00:00.5Z` sorts *before* `…10:00:00Z` and an
//! expiry half a second away would read as past. Every instant is therefore written in UTC,
//! truncated to microseconds (PostgreSQL's precision, so both backends round-trip the same
//! value), and on SQLite as fixed-width text whose byte order is time order. Write instants
//! only through [`value`]; never through an `ActiveModel`, which would use sqlx's form.

use sea_orm::{DbBackend, Value};
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::{OffsetDateTime, UtcOffset};

const SQLITE_FORMAT: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");

/// `t` in UTC, truncated to whole microseconds: the value a read gives back.
pub(crate) fn normalize(t: OffsetDateTime) -> OffsetDateTime {
    let t = t.to_offset(UtcOffset::UTC);
    // A nanosecond count below one second truncated to micros is still below one second,
    // so `replace_nanosecond` cannot fail; keep `t` unchanged if it ever did.
    t.replace_nanosecond(t.nanosecond() / 1_000 * 1_000)
        .unwrap_or(t)
}

/// The value to bind for an instant column.
pub(crate) fn value(backend: DbBackend, t: OffsetDateTime) -> Value {
    optional(backend, Some(t))
}

/// The value to bind for a nullable instant column.
pub(crate) fn optional(backend: DbBackend, t: Option<OffsetDateTime>) -> Value {
    let t = t.map(normalize);
    match backend {
        DbBackend::Sqlite => Value::String(t.map(sqlite_text)),
        // A typed NULL: PostgreSQL refuses a text parameter for a `timestamptz` column.
        _ => Value::TimeDateTimeWithTimeZone(t),
    }
}

fn sqlite_text(t: OffsetDateTime) -> String {
    // Formatting a UTC instant with numeric components cannot fail for years 0..=9999;
    // fall back to RFC 3339 rather than panic outside that range.
    t.format(SQLITE_FORMAT).unwrap_or_else(|_| {
        t.format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn sqlite_text_is_fixed_width_utc_and_sorts_like_time() {
        let whole = datetime!(2021-03-05 18:00 +08:00);
        let half = whole + time::Duration::milliseconds(500);
        assert_eq!(sqlite_text(normalize(whole)), "2021-03-05T10:00:00.000000Z");
        assert_eq!(sqlite_text(normalize(half)), "2021-03-05T10:00:00.500000Z");
        assert!(sqlite_text(normalize(half)) > sqlite_text(normalize(whole)));
    }

    #[test]
    fn normalize_truncates_to_microseconds_in_utc() {
        let t = datetime!(2021-03-05 10:00:00.123456789 UTC);
        assert_eq!(normalize(t), datetime!(2021-03-05 10:00:00.123456 UTC));
        assert_eq!(normalize(t).offset(), UtcOffset::UTC);
    }
}
