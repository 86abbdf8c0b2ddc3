//! `import-readers FILE.csv`: every row checked (and every problem reported with its line)
//! before anything is written; then all readers in one transaction, each with the default
//! Password and PIN (the last four digits of the phone); the card numbers issued printed.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use library_circulation::ReaderCategory;
use library_core::{CardNumber, LibraryCode, MAX_NAME_CHARS, fits};
use library_credentials::{CredentialStore, OsRandom, RandomSource, default_secret};
use library_http::{CARD_EXPIRY_YEARS, CARD_NUMBER_PREFIX};
use library_persistence::{ImportedReader, NewPatron, ReaderProfile};
use time::Date;

use crate::context::{Context, Failure};
use crate::csv::Table;

const REQUIRED: [&str; 4] = ["name", "phone", "category", "home_library"];
const OPTIONAL: [&str; 3] = ["email", "date_of_birth", "card_number"];
const MAX_PHONE_CHARS: usize = 32;
const MAX_EMAIL_LEN: usize = 254;
/// Problems listed before "and N more".
pub const MAX_SHOWN_PROBLEMS: usize = 50;

/// A checked row.
struct Row {
    line: usize,
    name: String,
    phone: String,
    email: Option<String>,
    category: ReaderCategory,
    date_of_birth: Option<Date>,
    home_library: LibraryCode,
    card: Option<CardNumber>,
}

/// The problems of a file, for the error message: nothing was imported.
pub fn rejected(file: &Path, problems: &[String]) -> Failure {
    let mut message = format!(
        "{}: {} problem(s); nothing was imported",
        file.display(),
        problems.len()
    );
    for p in problems.iter().take(MAX_SHOWN_PROBLEMS) {
        message.push_str("\n  ");
        message.push_str(p);
    }
    if problems.len() > MAX_SHOWN_PROBLEMS {
        message.push_str(&format!(
            "\n  … and {} more",
            problems.len() - MAX_SHOWN_PROBLEMS
        ));
    }
    Failure::Failed(message)
}

/// Reads a CSV file as text.
pub fn read(file: &Path) -> Result<String, Failure> {
    std::fs::read_to_string(file)
        .map_err(|e| Failure::failed(format!("cannot read {}: {e}", file.display())))
}

/// A `YYYY-MM-DD` date.
pub fn date(s: &str) -> Option<Date> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(s, &format).ok()
}

/// A fresh card number: the prefix and 12 random digits (as the counter issues them).
fn draw_card_number() -> Result<CardNumber, Failure> {
    const RANGE: u64 = 1_000_000_000_000;
    let limit = u64::MAX - u64::MAX % RANGE;
    let n = loop {
        let mut buf = [0u8; 8];
        OsRandom.fill(&mut buf);
        let n = u64::from_le_bytes(buf);
        if n < limit {
            break n % RANGE;
        }
    };
    CardNumber::parse(&format!("{CARD_NUMBER_PREFIX}{n:012}")).map_err(Failure::failed)
}

/// Runs the import.
pub async fn import(ctx: &Context, file: &Path) -> Result<(), Failure> {
    let text = read(file)?;
    let table =
        Table::parse(&text, &REQUIRED, &OPTIONAL).map_err(|e| rejected(file, &[e.to_string()]))?;
    if table.records.is_empty() {
        return Err(Failure::failed(format!(
            "{}: no readers after the header row; nothing was imported",
            file.display()
        )));
    }
    let libraries: HashSet<String> = ctx
        .db()
        .libraries()
        .list()
        .await
        .map_err(Failure::failed)?
        .into_iter()
        .map(|l| l.code.as_str().to_owned())
        .collect();
    let today = ctx.today();
    let store = ctx.db().credentials();
    let mut problems = Vec::new();
    let mut rows = Vec::new();
    let mut cards_in_file: HashMap<CardNumber, usize> = HashMap::new();
    for record in &table.records {
        let line = record.line;
        let mut bad = |what: String| problems.push(format!("line {line}: {what}"));
        let name = table.get(record, "name").unwrap_or_default();
        if name.is_empty() {
            bad("name: missing".into());
        } else if !fits(name, MAX_NAME_CHARS) {
            bad(format!(
                "name: at most {MAX_NAME_CHARS} characters, no control characters"
            ));
        }
        let phone = table.get(record, "phone").unwrap_or_default();
        let phone_chars_ok = phone
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '+' | '-' | '(' | ')'));
        if phone.chars().count() > MAX_PHONE_CHARS || !phone_chars_ok {
            bad(format!(
                "phone {phone:?}: digits, spaces and + - ( ) only, at most {MAX_PHONE_CHARS}"
            ));
        } else if default_secret(phone).is_err() {
            bad(format!(
                "phone {phone:?}: needs at least 4 digits (the last 4 are the default Password and PIN)"
            ));
        }
        let email = table.get(record, "email");
        if let Some(email) = email {
            let valid = email.len() <= MAX_EMAIL_LEN
                && email.split_once('@').is_some_and(|(local, domain)| {
                    !local.is_empty() && !domain.is_empty() && !domain.contains('@')
                })
                && !email.chars().any(|c| c.is_whitespace() || c.is_control());
            if !valid {
                bad(format!("email {email:?}: not an email address"));
            }
        }
        let category = table.get(record, "category").unwrap_or_default();
        let category = match ReaderCategory::parse(category) {
            Ok(c) => Some(c),
            Err(_) => {
                bad(format!(
                    "category {category:?}: expected [a-z0-9_]{{1,32}} (adult, child, senior, ...)"
                ));
                None
            }
        };
        let dob = match table.get(record, "date_of_birth") {
            None => None,
            Some(s) => match date(s) {
                Some(d) if d > today => {
                    bad(format!("date_of_birth {s}: in the future"));
                    None
                }
                Some(d) => Some(d),
                None => {
                    bad(format!("date_of_birth {s:?}: expected YYYY-MM-DD"));
                    None
                }
            },
        };
        let home = table.get(record, "home_library").unwrap_or_default();
        let home = match LibraryCode::parse(home) {
            Ok(code) if libraries.contains(code.as_str()) => Some(code),
            Ok(_) => {
                bad(format!("home_library {home:?}: no such library"));
                None
            }
            Err(_) => {
                bad(format!("home_library {home:?}: not a library code"));
                None
            }
        };
        let card = match table.get(record, "card_number") {
            None => None,
            Some(s) => match CardNumber::parse(s) {
                Ok(card) => {
                    if let Some(first) = cards_in_file.insert(card.clone(), line) {
                        bad(format!("card_number {s}: also on line {first}"));
                    } else if store
                        .find_by_card(&card)
                        .await
                        .map_err(Failure::failed)?
                        .is_some()
                    {
                        bad(format!("card_number {s}: already registered"));
                    }
                    Some(card)
                }
                Err(_) => {
                    bad(format!("card_number {s:?}: 4 to 20 letters or digits"));
                    None
                }
            },
        };
        if let (Some(category), Some(home_library)) = (category, home) {
            rows.push(Row {
                line,
                name: name.to_owned(),
                phone: phone.to_owned(),
                email: email.map(str::to_owned),
                category,
                date_of_birth: dob,
                home_library,
                card,
            });
        }
    }
    if !problems.is_empty() {
        return Err(rejected(file, &problems));
    }

    // Card numbers for the rows without one: fresh, and unused in the database and file.
    let mut cards = Vec::with_capacity(rows.len());
    for row in &rows {
        let card = match &row.card {
            Some(card) => card.clone(),
            None => loop {
                let card = draw_card_number()?;
                if !cards_in_file.contains_key(&card)
                    && store
                        .find_by_card(&card)
                        .await
                        .map_err(Failure::failed)?
                        .is_none()
                {
                    cards_in_file.insert(card.clone(), row.line);
                    break card;
                }
            },
        };
        cards.push(card);
    }
    let expires = today
        .replace_year(today.year() + CARD_EXPIRY_YEARS)
        .or_else(|_| {
            today
                .replace_day(28)
                .and_then(|d| d.replace_year(today.year() + CARD_EXPIRY_YEARS))
        })
        .map_err(Failure::failed)?;
    let hashes = library_server::demo::default_credential_hashes(
        rows.iter().map(|r| r.phone.clone()).collect(),
    )
    .await
    .map_err(Failure::failed)?;
    let now = ctx.now();
    let readers: Vec<ImportedReader> = rows
        .iter()
        .zip(&cards)
        .zip(hashes)
        .map(|((row, card), (password_hash, pin_hash))| ImportedReader {
            patron: NewPatron {
                card_number: card.clone(),
                name: row.name.clone(),
                phone: row.phone.clone(),
                email: row.email.clone(),
                date_of_birth: row.date_of_birth,
                registered_at: now,
            },
            profile: ReaderProfile {
                category: row.category.clone(),
                home_library: row.home_library.clone(),
                card_expires_on: expires,
            },
            password_hash,
            password_is_default: true,
            pin_hash,
        })
        .collect();
    ctx.db()
        .patrons()
        .import_readers(&readers)
        .await
        .map_err(|e| Failure::failed(format!("{}: {e}; nothing was imported", file.display())))?;
    println!(
        "imported {} reader(s); Password and PIN of each: the last 4 digits of the phone",
        readers.len()
    );
    println!("line,card_number,name");
    for (row, card) in rows.iter().zip(&cards) {
        println!("{},{},{}", row.line, card, quote(&row.name));
    }
    Ok(())
}

/// A CSV field, quoted when needed.
fn quote(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}
