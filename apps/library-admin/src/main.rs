//! `library-admin`: the administrators' command-line tool (docs/operations.md): migrate the
//! database, create staff users, reset a reader's Password at the counter, import readers
//! and the catalogue from CSV, preview the impact of a fine-suspension period, manage
//! SIP2 station accounts, show or replace the circulation rules, and back up and restore a
//! SQLite database.
//!
//! It reads the same configuration as the server (`LIBRARY_DATABASE_URL`,
//! `LIBRARY_CONFIG`, ...: `library_setup::Config`) and talks to the database directly.
//! Results go to stdout, errors to stderr. Exit codes: 0 done, 1 failed, 2 usage error,
//! 3 the work belongs to another tool (a PostgreSQL backup: `pg_dump`).

// A command-line tool's output is its interface: printing to stdout and stderr is the point.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod admission;
mod backup;
mod catalogue;
mod context;
mod csv;
mod outbox;
mod policy;
mod preview;
mod readers;
mod staff;
mod stations;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use time::Date;

use crate::context::{Context, Failure};

/// The library system's admin tool.
///
/// Configuration as the server: LIBRARY_DATABASE_URL (default
/// sqlite://library.db?mode=rwc) or the database_url of the TOML file named by
/// LIBRARY_CONFIG. Exit codes: 0 done, 1 failed, 2 usage error, 3 another tool's work
/// (backup and restore of PostgreSQL: pg_dump, pg_restore).
#[derive(Debug, Parser)]
#[command(name = "library-admin", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Open the database and bring its schema up to date (idempotent).
    Migrate,
    /// Create a staff user.
    ///
    /// The password is read from stdin with --password-stdin (it must pass the staff
    /// password policy), else a random one is generated and printed once.
    CreateStaff {
        /// The username (what staff type at login).
        username: String,
        /// librarian (counter staff) or admin (also policies, calendars, closures).
        #[arg(long, value_enum)]
        role: Role,
        /// Read the password from the first line of stdin.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Grant a staff user the contact_tracing permission (reading visitor registrations).
    GrantContactTracing {
        /// The staff user's username.
        username: String,
    },
    /// Revoke a staff user's contact_tracing permission.
    RevokeContactTracing {
        /// The staff user's username.
        username: String,
    },
    /// Delete the visitor registrations past their retention (LIBRARY_VISITOR_RETENTION_DAYS).
    ///
    /// With --dry-run, print what would be deleted (counts per library and date of the
    /// visits, no personal data) and change nothing.
    Purge {
        /// Print what would be deleted; delete nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Reset a reader's Password at the counter (prints a temporary password).
    ///
    /// Prints a one-time temporary password and its expiry; the reader must change it at
    /// the first login. The reader's sessions are revoked.
    ResetPassword {
        /// The reader's card number.
        card: String,
    },
    /// Import readers from CSV (all or nothing); prints the card numbers issued.
    ///
    /// Header row: name, phone, category, home_library (required); email, date_of_birth
    /// (YYYY-MM-DD), card_number (optional: issued when empty). Every row is checked
    /// first and every problem reported with its line; then all readers are written in
    /// one transaction, or none. Each reader's Password and PIN are the last four digits
    /// of the phone.
    ImportReaders {
        /// The CSV file.
        file: PathBuf,
    },
    /// Import titles and items from CSV (all or nothing).
    ///
    /// Header row: barcode, title, item_type, home_library (required); author, isbn,
    /// status (available or not_for_loan; optional). Rows with the same ISBN (or else the
    /// same title and author) are copies of one title. Every row is checked first and
    /// every problem reported with its line; then everything is written in one
    /// transaction, or nothing.
    ImportCatalogue {
        /// The CSV file.
        file: PathBuf,
    },
    /// Preview a candidate fine-suspension period over the open loans (changes nothing).
    ///
    /// How many loans and readers would be charged, how much, and how much less than
    /// without the candidate, as POST /api/v1/fine-suspensions/preview.
    PreviewFines {
        /// First day without fines (YYYY-MM-DD).
        #[arg(long, value_parser = parse_date)]
        starts_on: Date,
        /// First charged day again (YYYY-MM-DD); omitted = until further notice.
        #[arg(long, value_parser = parse_date)]
        resumes_on: Option<Date>,
        /// Only libraries of these kinds (central, major, district, small, mobile).
        #[arg(long, value_delimiter = ',')]
        library_kinds: Vec<String>,
        /// Only these libraries (codes).
        #[arg(long, value_delimiter = ',')]
        library_codes: Vec<String>,
        /// Fines as of this date (YYYY-MM-DD); default today (Hong Kong time).
        #[arg(long, value_parser = parse_date)]
        as_of: Option<Date>,
        /// Print the figures as JSON (the HTTP preview's fields).
        #[arg(long)]
        json: bool,
    },
    /// Preview a day's messages: the due reminders, overdue alerts and first overdue
    /// notices the scheduled job would queue that day for the loans open now, and the
    /// messages already waiting (changes nothing).
    ///
    /// As GET /api/v1/notices/outbox/preview: an administrator sees the volume before a
    /// reopening day.
    OutboxPreview {
        /// The day (YYYY-MM-DD); default tomorrow (Hong Kong time).
        #[arg(long, value_parser = parse_date)]
        date: Option<Date>,
        /// Print the figures as JSON (the HTTP preview's fields).
        #[arg(long)]
        json: bool,
    },
    /// Manage SIP2 station accounts (self-service stations that log in with 93).
    #[command(subcommand)]
    Sip2Station(StationCommand),
    /// Show or replace the circulation rules (the [policy] section of the configuration
    /// file, in TOML).
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Back the SQLite database up to PATH (a new file), consistent while servers run.
    ///
    /// The copy is written beside PATH under a temporary name, checked (integrity_check,
    /// migrations) and only then linked at PATH; an existing PATH is refused. Prints the
    /// copy's size and its counts of readers, loans and ledger entries. On PostgreSQL it
    /// prints the pg_dump command to run and exits with 3.
    Backup {
        /// The backup file to create.
        path: PathBuf,
    },
    /// Replace the SQLite database by the backup at PATH (stop the server first).
    ///
    /// PATH must pass SQLite's integrity check and hold this product's schema, no newer
    /// than this version's. Refused while any process (a running server) has the database
    /// open. The database is replaced in one rename; its -wal and -shm files are removed.
    /// On PostgreSQL it prints the pg_restore command to run and exits with 3.
    Restore {
        /// The backup file to restore.
        path: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum PolicyCommand {
    /// Print the stored rules as a [policy] section (TOML) that `policy apply` reads back.
    Show,
    /// Replace every stored rule with the policy of FILE, in one transaction.
    ///
    /// FILE holds a [policy] section: what `policy show` prints, or a configuration file
    /// with one (its other settings are not used here). `profile = "hkpl"` applies the
    /// default profile, `profile = "none"` removes every rule. An invalid policy changes
    /// nothing. Running servers use the new rules without a restart: on PostgreSQL at once,
    /// on SQLite within about a second.
    Apply {
        /// The TOML file.
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum StationCommand {
    /// Create a station account that lends from a library.
    ///
    /// The password is read from stdin with --password-stdin (12 to 128 characters, no '|'
    /// or control characters), else a random one is generated and printed once.
    Create {
        /// The username the station sends in CN: 1 to 32 of a-z, 0-9, '_', '.', '-'.
        username: String,
        /// The library the station's checkouts lend from (its code).
        #[arg(long)]
        library: String,
        /// Read the password from the first line of stdin.
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        settings: StationSettingsArgs,
    },
    /// Change what a station may do; settings not given stay as they are. Connections a
    /// running server holds keep the old settings until they log in again (the HTTP route
    /// closes them).
    Set {
        /// The station's username.
        username: String,
        #[command(flatten)]
        settings: StationSettingsArgs,
    },
    /// List the station accounts: username, library, created at, created by, and the
    /// settings (pin_required, may_block, the addresses it may log in from or "any").
    List,
    /// Delete a station account: it can no longer log in.
    Delete {
        /// The station's username.
        username: String,
    },
}

/// What a station may do (docs/credentials.md, SIP2 stations).
#[derive(Debug, Default, clap::Args)]
struct StationSettingsArgs {
    /// Whether every message that acts for or shows a reader needs the reader's PIN
    /// (default for a new station: true).
    #[arg(long, value_name = "true|false", action = clap::ArgAction::Set)]
    pin_required: Option<bool>,
    /// Whether the station may block a reader's card with 01 (default for a new station:
    /// false).
    #[arg(long, value_name = "true|false", action = clap::ArgAction::Set)]
    may_block: Option<bool>,
    /// An IP address or CIDR range the station may log in from (repeat for several; at
    /// most 32). Replaces the list.
    #[arg(long = "allow", value_name = "ADDRESS[/PREFIX]")]
    allow: Vec<String>,
    /// Let the station log in from any address (clears the list).
    #[arg(long, conflicts_with = "allow")]
    allow_any: bool,
}

/// A staff role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Role {
    /// Counter staff.
    Librarian,
    /// Administrator.
    Admin,
}

impl StationSettingsArgs {
    fn into_change(self) -> stations::SettingsChange {
        stations::SettingsChange {
            pin_required: self.pin_required,
            may_block: self.may_block,
            allowed_addresses: if self.allow_any {
                Some(Vec::new())
            } else if self.allow.is_empty() {
                None
            } else {
                Some(self.allow)
            },
        }
    }
}

fn parse_date(s: &str) -> Result<Date, String> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(s.trim(), &format).map_err(|_| format!("{s:?} is not a date (YYYY-MM-DD)"))
}

fn main() -> ExitCode {
    // clap exits with 2 on a usage error and 0 for --help / --version.
    let cli = Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(message)) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
        Err(Failure::Failed(message)) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
        Err(Failure::OtherTool(message)) => {
            eprintln!("{message}");
            ExitCode::from(3)
        }
    }
}

async fn run(command: Command) -> Result<(), Failure> {
    // Neither opens the database as the other commands do: a backup must not create or
    // key a database, a restore must not hold the file it replaces.
    match &command {
        Command::Backup { path } => return backup::backup(path).await,
        Command::Restore { path } => return backup::restore(path).await,
        _ => {}
    }
    let ctx = Context::open().await?;
    let result = match command {
        Command::Migrate => {
            println!(
                "database {} is migrated ({})",
                ctx.shown_url(),
                ctx.backend()
            );
            Ok(())
        }
        Command::CreateStaff {
            username,
            role,
            password_stdin,
        } => {
            let role = match role {
                Role::Librarian => library_credentials::StaffRole::Librarian,
                Role::Admin => library_credentials::StaffRole::Admin,
            };
            staff::create_staff(&ctx, &username, role, password_stdin).await
        }
        Command::GrantContactTracing { username } => {
            admission::contact_tracing(&ctx, &username, true).await
        }
        Command::RevokeContactTracing { username } => {
            admission::contact_tracing(&ctx, &username, false).await
        }
        Command::Purge { dry_run } => admission::purge(&ctx, dry_run).await,
        Command::ResetPassword { card } => staff::reset_password(&ctx, &card).await,
        Command::ImportReaders { file } => readers::import(&ctx, &file).await,
        Command::ImportCatalogue { file } => catalogue::import(&ctx, &file).await,
        Command::PreviewFines {
            starts_on,
            resumes_on,
            library_kinds,
            library_codes,
            as_of,
            json,
        } => {
            preview::preview(
                &ctx,
                preview::Request {
                    starts_on,
                    resumes_on,
                    library_kinds,
                    library_codes,
                    as_of,
                    json,
                },
            )
            .await
        }
        Command::OutboxPreview { date, json } => outbox::preview(&ctx, date, json).await,
        Command::Sip2Station(StationCommand::Create {
            username,
            library,
            password_stdin,
            settings,
        }) => {
            stations::create(
                &ctx,
                &username,
                &library,
                password_stdin,
                &settings.into_change(),
            )
            .await
        }
        Command::Sip2Station(StationCommand::Set { username, settings }) => {
            stations::set(&ctx, &username, &settings.into_change()).await
        }
        Command::Sip2Station(StationCommand::List) => stations::list(&ctx).await,
        Command::Sip2Station(StationCommand::Delete { username }) => {
            stations::delete(&ctx, &username).await
        }
        Command::Policy(PolicyCommand::Show) => policy::show(&ctx).await,
        Command::Policy(PolicyCommand::Apply { file }) => policy::apply(&ctx, &file).await,
        // Answered above, without the context.
        Command::Backup { .. } | Command::Restore { .. } => Ok(()),
    };
    ctx.close().await;
    result
}
