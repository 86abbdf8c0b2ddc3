//! Small helpers for the hand-written SQL of the circulation stores: one SQL text for both
//! backends (`?` placeholders, numbered for PostgreSQL), row getters, and the mapping of
//! database errors to the circulation ports' [`InfrastructureError`] and the admin stores'
//! [`StoreError`].

use library_circulation::ports::InfrastructureError;
use sea_orm::{
    ConnectionTrait, DbBackend, DbErr, QueryResult, SqlErr, Statement, TryGetable, Value,
};

use crate::error::StoreError;

/// `sql` with `?` placeholders bound to `values`, as the backend wants it (`$1, $2, …` on
/// PostgreSQL). The text is read as SQL: a `?` inside a string literal (`'…'`, `''`
/// escaping a quote), a quoted identifier (`"…"`) or a comment (`-- …`, `/* … */`) is text,
/// not a placeholder, on both backends. A statement whose placeholders do not match its
/// values is refused before it reaches the database.
pub(crate) fn stmt(backend: DbBackend, sql: &str, values: Vec<Value>) -> Result<Statement, DbErr> {
    let (sql, placeholders) = number_placeholders(sql, backend == DbBackend::Postgres);
    if placeholders != values.len() {
        return Err(DbErr::Custom(format!(
            "a statement has {placeholders} placeholders for {} values",
            values.len()
        )));
    }
    Ok(Statement::from_sql_and_values(backend, sql, values))
}

/// Where the scanner of [`number_placeholders`] is in the SQL text.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Lexeme {
    Code,
    Literal,
    Identifier,
    LineComment,
    BlockComment,
}

/// Counts the `?` placeholders of `sql` outside literals, quoted identifiers and comments;
/// with `numbered`, writes them `$1`, `$2`, … (PostgreSQL).
fn number_placeholders(sql: &str, numbered: bool) -> (String, usize) {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut n = 0;
    let mut state = Lexeme::Code;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        let next = chars.peek().copied();
        match (state, c) {
            (Lexeme::Code, '?') => {
                n += 1;
                if numbered {
                    out.push('$');
                    out.push_str(&n.to_string());
                } else {
                    out.push('?');
                }
                continue;
            }
            (Lexeme::Code, '\'') => state = Lexeme::Literal,
            (Lexeme::Code, '"') => state = Lexeme::Identifier,
            (Lexeme::Code, '-') if next == Some('-') => state = Lexeme::LineComment,
            (Lexeme::Code, '/') if next == Some('*') => state = Lexeme::BlockComment,
            // `''` inside a literal is a quote: the second one opens it again.
            (Lexeme::Literal, '\'') | (Lexeme::Identifier, '"') => state = Lexeme::Code,
            (Lexeme::LineComment, '\n') => state = Lexeme::Code,
            (Lexeme::BlockComment, '*') if next == Some('/') => {
                out.push('*');
                out.push('/');
                chars.next();
                state = Lexeme::Code;
                continue;
            }
            _ => {}
        }
        out.push(c);
    }
    (out, n)
}

/// Runs a query, expecting at most one row.
pub(crate) async fn one(
    conn: &impl ConnectionTrait,
    sql: &str,
    values: Vec<Value>,
) -> Result<Option<QueryResult>, DbErr> {
    conn.query_one_raw(stmt(conn.get_database_backend(), sql, values)?)
        .await
}

/// Runs a query.
pub(crate) async fn all(
    conn: &impl ConnectionTrait,
    sql: &str,
    values: Vec<Value>,
) -> Result<Vec<QueryResult>, DbErr> {
    conn.query_all_raw(stmt(conn.get_database_backend(), sql, values)?)
        .await
}

/// Runs a statement; the number of rows it changed.
pub(crate) async fn exec(
    conn: &impl ConnectionTrait,
    sql: &str,
    values: Vec<Value>,
) -> Result<u64, DbErr> {
    Ok(conn
        .execute_raw(stmt(conn.get_database_backend(), sql, values)?)
        .await?
        .rows_affected())
}

/// The number a counting query (`SELECT COUNT(*) AS n …`) gives.
pub(crate) async fn count(
    conn: &impl ConnectionTrait,
    context: &'static str,
    sql: &str,
    values: Vec<Value>,
) -> Result<u64, StoreError> {
    let n: i64 = match one(conn, sql, values).await.map_err(store_err(context))? {
        Some(found) => get(&found, "n").map_err(infra(context))?,
        None => 0,
    };
    Ok(u64::try_from(n).unwrap_or_default())
}

/// One page of a listing: `count` (a query giving the total as `n`), then `rows` with
/// `LIMIT ? OFFSET ?` appended, each row read by `row`. `values` bind the placeholders
/// both queries share.
pub(crate) async fn page<T>(
    conn: &impl ConnectionTrait,
    context: &'static str,
    (count, rows): (&str, &str),
    mut values: Vec<Value>,
    (limit, offset): (u32, u64),
    row: impl Fn(&QueryResult) -> Result<T, InfrastructureError>,
) -> Result<library_reader_services::Page<T>, StoreError> {
    let total = self::count(conn, context, count, values.clone()).await?;
    values.push(i64::from(limit).into());
    values.push(i64::try_from(offset).unwrap_or(i64::MAX).into());
    let found = all(conn, &format!("{rows} LIMIT ? OFFSET ?"), values)
        .await
        .map_err(store_err(context))?;
    Ok(library_reader_services::Page {
        items: found.iter().map(row).collect::<Result<_, _>>()?,
        total,
    })
}

/// Runs `INSERT … RETURNING id`; the new id.
pub(crate) async fn insert_returning_id(
    conn: &impl ConnectionTrait,
    sql: &str,
    values: Vec<Value>,
) -> Result<i64, DbErr> {
    let row = one(conn, sql, values)
        .await?
        .ok_or_else(|| DbErr::Custom("INSERT … RETURNING gave no row".into()))?;
    row.try_get("", "id")
}

/// A column of a row.
pub(crate) fn get<T: TryGetable>(row: &QueryResult, column: &str) -> Result<T, DbErr> {
    row.try_get("", column)
}

/// `FOR NO KEY UPDATE` on PostgreSQL (a row lock that still lets other transactions insert
/// rows referencing this one); nothing on SQLite, whose `BEGIN IMMEDIATE` already holds the
/// database's write lock.
pub(crate) fn lock_clause(backend: DbBackend) -> &'static str {
    match backend {
        DbBackend::Postgres => " FOR NO KEY UPDATE",
        _ => "",
    }
}

/// [`lock_clause`] for the relations `of` of a join (`"t, i"`), locked in the order listed.
pub(crate) fn lock_clause_of(backend: DbBackend, of: &str) -> String {
    match backend {
        DbBackend::Postgres => format!(" FOR NO KEY UPDATE OF {of}"),
        _ => String::new(),
    }
}

/// Maps a database error for a circulation port, saying what was being done.
pub(crate) fn infra(context: &'static str) -> impl FnOnce(DbErr) -> InfrastructureError {
    move |err| {
        let what = match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => "unique constraint violated",
            Some(SqlErr::ForeignKeyConstraintViolation(_)) => "foreign key violated",
            _ => "database error",
        };
        database_error(format!("{context}: {what}"), err)
    }
}

/// `err` as an [`InfrastructureError`] with `message`: unavailable when the database
/// cannot serve now (see `fault.rs`), a failure otherwise.
pub(crate) fn database_error(message: String, err: DbErr) -> InfrastructureError {
    if crate::fault::is_unavailable(&err) {
        InfrastructureError::unavailable(message, err)
    } else {
        InfrastructureError::with_source(message, err)
    }
}

/// A stored value the domain does not accept.
pub(crate) fn corrupt(context: &str, what: impl std::fmt::Display) -> InfrastructureError {
    InfrastructureError::new(format!("{context}: corrupt stored value: {what}"))
}

/// Maps a database error for an admin store: unique and foreign-key violations become
/// [`StoreError::Conflict`] (a duplicate code or barcode, an unknown reference).
pub(crate) fn store_err(context: &'static str) -> impl FnOnce(DbErr) -> StoreError {
    move |err| match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => {
            StoreError::Conflict(format!("{context}: already exists"))
        }
        Some(SqlErr::ForeignKeyConstraintViolation(_)) => {
            StoreError::Conflict(format!("{context}: refers to a missing record"))
        }
        _ => StoreError::Infrastructure(database_error(format!("{context}: database error"), err)),
    }
}

/// `u32` from a stored `BIGINT`.
pub(crate) fn to_u32(context: &str, n: i64) -> Result<u32, InfrastructureError> {
    u32::try_from(n).map_err(|e| corrupt(context, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_for_postgres_and_kept_for_sqlite() {
        let sql = "SELECT a FROM t WHERE b = ? AND c IN (?, ?)";
        assert_eq!(
            number_placeholders(sql, true),
            (
                "SELECT a FROM t WHERE b = $1 AND c IN ($2, $3)".to_owned(),
                3
            )
        );
        assert_eq!(number_placeholders(sql, false), (sql.to_owned(), 3));
    }

    #[test]
    fn a_question_mark_in_a_literal_an_identifier_or_a_comment_is_text() {
        let sql = "SELECT 'why?', 'it''s ?', \"odd?name\" -- really?\n\
                   FROM t /* maybe? */ WHERE x = ? AND y = '?'";
        let (numbered, n) = number_placeholders(sql, true);
        assert_eq!(n, 1);
        assert_eq!(
            numbered,
            "SELECT 'why?', 'it''s ?', \"odd?name\" -- really?\n\
             FROM t /* maybe? */ WHERE x = $1 AND y = '?'"
        );
    }

    #[test]
    fn a_statement_whose_placeholders_do_not_match_its_values_is_refused() {
        let sql = "UPDATE t SET a = ? WHERE note = 'a?b'";
        assert!(stmt(DbBackend::Postgres, sql, vec![1i64.into()]).is_ok());
        assert!(stmt(DbBackend::Sqlite, sql, vec![1i64.into()]).is_ok());
        let err = stmt(DbBackend::Postgres, sql, vec![1i64.into(), 2i64.into()]).unwrap_err();
        assert!(
            err.to_string().contains("1 placeholders for 2 values"),
            "{err}"
        );
        assert!(stmt(DbBackend::Sqlite, sql, vec![]).is_err());
    }
}
