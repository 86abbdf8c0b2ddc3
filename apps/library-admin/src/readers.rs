//! `import-readers FILE.csv`: every row checked (and every problem reported with its line)
//! before anything is written; then all readers in one transaction, each with the default
//! Password and PIN (the last four digits of the phone); the card numbers issued printed.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use library_app::registration::{
    MAX_PHONE_CHARS, RegistrationForm, card_expiry, default_credential_hashes, draw_card_number,
    violations,
};
use library_circulation::ReaderCategory;
use library_core::{CardNumber, LibraryCode, MAX_NAME_CHARS};
use library_credentials::{CredentialStore, OsRandom};
use library_persistence::{ImportedReader, NewPatron, ReaderProfile};
use time::Date;

use crate::context::{Context, Failure};
use crate::csv::Table;

const REQUIRED: [&str; 4] = ["name", "phone", "category", "home_library"];
const OPTIONAL: [&str; 3] = ["email", "date_of_birth", "card_number"];
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

/// What a rule of registration (`library_app::registration::violations`) broken by a row
/// says, with the value at fault.
fn problem(code: &str, form: &RegistrationForm) -> String {
    let RegistrationForm {
        phone,
        email,
        category,
        home_library,
        date_of_birth,
        ..
    } = form;
    match code {
        "name_missing" => "name: missing".into(),
        "name_invalid" => {
            format!("name: at most {MAX_NAME_CHARS} characters, no control characters")
        }
        "phone_invalid" => {
            format!("phone {phone:?}: digits, spaces and + - ( ) only, at most {MAX_PHONE_CHARS}")
        }
        "phone_too_short" => format!(
            "phone {phone:?}: needs at least 4 digits (the last 4 are the default Password and PIN)"
        ),
        "email_invalid" => format!(
            "email {:?}: not an email address",
            email.as_deref().unwrap_or("")
        ),
        "category_invalid" => {
            format!("category {category:?}: expected [a-z0-9_]{{1,32}} (adult, child, senior, ...)")
        }
        "home_library_invalid" => format!("home_library {home_library:?}: not a library code"),
        "date_of_birth_in_future" => match date_of_birth {
            Some(d) => format!("date_of_birth {d}: in the future"),
            None => "date_of_birth: in the future".into(),
        },
        other => other.to_owned(),
    }
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
        let dob = match table.get(record, "date_of_birth") {
            None => None,
            Some(s) => match date(s) {
                Some(d) => Some(d),
                None => {
                    bad(format!("date_of_birth {s:?}: expected YYYY-MM-DD"));
                    None
                }
            },
        };
        let form = RegistrationForm {
            name: table.get(record, "name").unwrap_or_default().to_owned(),
            phone: table.get(record, "phone").unwrap_or_default().to_owned(),
            email: table.get(record, "email").map(str::to_owned),
            category: table.get(record, "category").unwrap_or_default().to_owned(),
            date_of_birth: dob,
            home_library: table
                .get(record, "home_library")
                .unwrap_or_default()
                .to_owned(),
        };
        let broken = violations(&form, today);
        for code in &broken {
            bad(problem(code, &form));
        }
        let category = ReaderCategory::parse(&form.category).ok();
        let home = match LibraryCode::parse(&form.home_library) {
            Ok(code) if libraries.contains(code.as_str()) => Some(code),
            Ok(_) => {
                bad(format!(
                    "home_library {:?}: no such library",
                    form.home_library
                ));
                None
            }
            Err(_) => None,
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
        if let (Some(category), Some(home_library), true) = (category, home, broken.is_empty()) {
            rows.push(Row {
                line,
                name: form.name.trim().to_owned(),
                phone: form.phone.trim().to_owned(),
                email: form
                    .email
                    .map(|e| e.trim().to_owned())
                    .filter(|e| !e.is_empty()),
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
                let card = draw_card_number(&OsRandom);
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
    let expires = card_expiry(today);
    let hashes = default_credential_hashes(rows.iter().map(|r| r.phone.clone()).collect())
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
