//! `create-staff` and `reset-password`.

use std::io::BufRead;

use library_app::{NewStaffMember, StaffMember};
use library_core::{CardNumber, DEFAULT_LIBRARY_OFFSET};
use library_credentials::{
    MAX_STAFF_USERNAME_LEN, OsRandom, PasswordViolation, Secret, StaffPasswordError,
    StaffResetError, StaffRole, generate_temporary_password, is_valid_staff_username,
};
use time::format_description::well_known::Rfc3339;

use crate::context::{Context, Failure};

/// What each policy violation means, for people.
fn explain(v: PasswordViolation) -> &'static str {
    match v.code() {
        "too_short" => "at least 8 characters",
        "too_long" => "at most 128 characters",
        "missing_uppercase" => "an upper-case letter",
        "missing_lowercase" => "a lower-case letter",
        "missing_digit" => "a digit",
        "common_password" => "not a common password",
        "contains_personal_info" => "must not contain the username",
        "context_word" => "must not contain the library's name (library, hkpl, hongkong, lcsd)",
        "control_character" => "no control characters",
        _ => "see the staff password policy",
    }
}

fn violations(v: &[PasswordViolation]) -> String {
    v.iter()
        .map(|v| format!("{} ({})", v.code(), explain(*v)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn check_username(username: &str) -> Result<(), Failure> {
    if is_valid_staff_username(username) {
        Ok(())
    } else {
        Err(Failure::Usage(format!(
            "username {username:?}: 1 to {MAX_STAFF_USERNAME_LEN} letters, digits, '.', '_', '-' or '@'"
        )))
    }
}

/// Creates a staff user; prints the generated password when none was given.
pub async fn create_staff(
    ctx: &Context,
    username: &str,
    role: StaffRole,
    password_stdin: bool,
) -> Result<(), Failure> {
    check_username(username)?;
    let services = ctx.services();
    let taken = || Failure::failed(format!("staff user {username:?} already exists"));
    if services
        .staff
        .list()
        .await
        .map_err(Failure::failed)?
        .iter()
        .any(|s| s.username.eq_ignore_ascii_case(username))
    {
        return Err(taken());
    }
    let credentials = ctx.credentials();
    let (hash, generated) = if password_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| Failure::failed(format!("reading the password from stdin: {e}")))?;
        let password = line.trim_end_matches(['\n', '\r']);
        if password.is_empty() {
            return Err(Failure::failed("no password on stdin"));
        }
        let hash = credentials
            .hash_staff_password(username, &Secret::new(password))
            .await
            .map_err(|e| match e {
                StaffPasswordError::Rejected(v) => Failure::failed(format!(
                    "the password is not acceptable: {}",
                    violations(&v)
                )),
                StaffPasswordError::Infrastructure(e) => Failure::failed(e),
            })?;
        (hash, None)
    } else {
        let mut attempt = 0;
        loop {
            let candidate = generate_temporary_password(&OsRandom);
            match credentials.hash_staff_password(username, &candidate).await {
                Ok(hash) => break (hash, Some(candidate)),
                Err(StaffPasswordError::Rejected(_)) if attempt < 16 => attempt += 1,
                Err(StaffPasswordError::Rejected(v)) => {
                    return Err(Failure::failed(format!(
                        "could not generate an acceptable password: {}",
                        violations(&v)
                    )));
                }
                Err(StaffPasswordError::Infrastructure(e)) => return Err(Failure::failed(e)),
            }
        }
    };
    let new = NewStaffMember {
        username: username.to_owned(),
        password_hash: hash,
        role,
        may_override: false,
        created_at: ctx.now(),
    };
    let audit = |member: &StaffMember| {
        ctx.audit_record(
            "staff.create",
            format!("staff:{}", member.id.get()),
            serde_json::json!({"role": role.as_str()}),
        )
    };
    services
        .staff
        .create(&new, &audit)
        .await
        .map_err(|e| Failure::failed(format!("cannot create staff user {username:?}: {e}")))?
        .ok_or_else(taken)?;
    println!("created staff user {username} ({})", role.as_str());
    if let Some(password) = generated {
        println!("password: {}", password.expose());
        println!("(shown only this once)");
    }
    Ok(())
}

/// Resets a reader's Password at the counter; prints the temporary password.
pub async fn reset_password(ctx: &Context, card: &str) -> Result<(), Failure> {
    let not_found = || Failure::failed(format!("no reader has card number {card:?}"));
    let card = CardNumber::parse(card).map_err(|_| not_found())?;
    let issued = ctx
        .credentials()
        .staff_reset_password(&card)
        .await
        .map_err(|e| match e {
            StaffResetError::NotFound => not_found(),
            StaffResetError::Infrastructure(e) => Failure::failed(e),
        })?;
    // The credential service makes the reset in several writes that take no audit entry:
    // recorded after it, as at the counter (docs/http.md, Audit log).
    let services = ctx.services();
    let entry = ctx.audit_record(
        "reader.reset_password",
        format!("card:{card}"),
        serde_json::json!({}),
    );
    if let Err(err) = services.audit.record(entry).await {
        tracing::warn!(%err, "cannot write the audit log");
    }
    let expires = issued.expires_at.to_offset(DEFAULT_LIBRARY_OFFSET);
    let expires = expires
        .replace_nanosecond(0)
        .unwrap_or(expires)
        .format(&Rfc3339)
        .map_err(Failure::failed)?;
    println!("temporary password: {}", issued.password.expose());
    println!("expires at: {expires}");
    println!("(single use; the reader must choose a new Password at the first login)");
    Ok(())
}
