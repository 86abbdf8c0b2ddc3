//! `cargo xtask api-check`: schemathesis against the server's own OpenAPI document.
//!
//! Builds the debug `library-server`, starts it on a fresh SQLite database (in a new
//! temporary folder) with the demo data on a free port, obtains a staff (`admin`) token and
//! a reader's `full` token through the API, runs schemathesis (`tools/api-check/`) once with
//! each token, stops the server (SIGTERM, then waits) and fails when either run reports a
//! failure. See docs/operations.md, "API check".

use std::fs;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::{Result, build_server, workspace_root};

/// The bootstrap `admin` user's password on the throwaway server (it passes the staff
/// password policy).
const ADMIN_PASSWORD: &str = "Schema-Check-2741";
/// The reader registered for the reader run: the default Password is the phone's last four
/// digits, changed at once for a `full` session.
const READER_PHONE: &str = "91234567";
const READER_DEFAULT_PASSWORD: &str = "4567";
const READER_PASSWORD: &str = "Quiet-Meadow-7305";

const CONFIG: &str = "tools/api-check/schemathesis.toml";
const REQUIREMENTS: &str = "tools/api-check/requirements.txt";

/// The database the checked server runs on.
pub(crate) enum Backend {
    /// A fresh SQLite file (what CI checks).
    Sqlite,
    /// A fresh database created on the PostgreSQL server of this URL (an administrator's
    /// connection, as `LIBRARY_TEST_POSTGRES_URL`), dropped afterwards; `psql` creates and
    /// drops it.
    Postgres(String),
}

/// The whole check, on SQLite.
pub(crate) fn api_check() -> Result {
    api_check_on(Backend::Sqlite)
}

/// The whole check, on `backend`.
pub(crate) fn api_check_on(backend: Backend) -> Result {
    let started = Instant::now();
    let st = schemathesis()?;
    let binary = build_server()?;
    let dir = std::env::temp_dir().join(format!("library-api-check-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let (database_url, postgres) = match backend {
        Backend::Sqlite => (
            format!("sqlite://{}?mode=rwc", dir.join("api-check.db").display()),
            None,
        ),
        Backend::Postgres(admin) => {
            let name = format!("library_api_check_{}", std::process::id());
            psql(&admin, &format!("DROP DATABASE IF EXISTS {name}"))?;
            psql(&admin, &format!("CREATE DATABASE {name}"))?;
            (with_database(&admin, &name), Some((admin, name)))
        }
    };
    let server = Server::start(&binary, &dir, &database_url)?;
    let outcome = check(&st, &server);
    let stopped = server.stop();
    let _ = fs::remove_dir_all(&dir);
    if let Some((admin, name)) = postgres {
        psql(&admin, &format!("DROP DATABASE IF EXISTS {name}"))?;
    }
    let runs = outcome?;
    stopped?;
    eprintln!(
        "xtask: api-check: {} in {:.0}s",
        runs.iter()
            .map(|r| format!("{}: {} cases, {} failures", r.who, r.cases, r.failures))
            .collect::<Vec<_>>()
            .join("; "),
        started.elapsed().as_secs_f64()
    );
    let failed: Vec<&str> = runs.iter().filter(|r| !r.passed).map(|r| r.who).collect();
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "api-check: schemathesis reported failures with the {} token",
            failed.join(" and the ")
        ))
    }
}

/// Runs `sql` with `psql` on the server of `url`.
fn psql(url: &str, sql: &str) -> Result {
    let status = Command::new("psql")
        .args([url, "-qc", sql])
        .status()
        .map_err(|e| format!("psql: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("psql `{sql}`: {status}"))
    }
}

/// `url` naming database `name` instead of its own.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let server = base
        .rsplit_once('/')
        .filter(|(server, _)| server.contains("//") && !server.ends_with('/'))
        .map_or(base, |(server, _)| server);
    match query {
        Some(q) => format!("{server}/{name}?{q}"),
        None => format!("{server}/{name}"),
    }
}

/// The schemathesis command (`st`, or `schemathesis`), or how to install it.
pub(crate) fn schemathesis() -> Result<String> {
    for name in ["st", "schemathesis"] {
        let found = Command::new(name)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        if found {
            return Ok(name.to_owned());
        }
    }
    Err(format!(
        "api-check: schemathesis is not installed; install the pinned version with \
         `python3 -m pip install -r {REQUIREMENTS}`"
    ))
}

/// One schemathesis run's outcome.
struct RunOutcome {
    who: &'static str,
    cases: u64,
    failures: u64,
    passed: bool,
}

fn check(st: &str, server: &Server) -> Result<Vec<RunOutcome>> {
    let staff = staff_token(&server.addr)?;
    let reader = reader_token(&server.addr, &staff)?;
    Ok(vec![
        schemathesis_run(st, &server.addr, "staff", &staff)?,
        schemathesis_run(st, &server.addr, "reader", &reader)?,
    ])
}

fn schemathesis_run(st: &str, addr: &str, who: &'static str, token: &str) -> Result<RunOutcome> {
    let started = Instant::now();
    eprintln!("xtask: api-check: schemathesis with the {who} token");
    let output = Command::new(st)
        .current_dir(workspace_root())
        .args(["--config-file", CONFIG, "--no-color", "run"])
        .args(["--header", &format!("Authorization: Bearer {token}")])
        .arg(format!("http://{addr}/openapi.json"))
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("{st}: {e}"))?;
    let text = String::from_utf8_lossy(&output.stdout);
    print!("{text}");
    let (cases, failures) = case_counts(&text);
    eprintln!(
        "xtask: api-check: {who}: {cases} cases, {failures} failures in {:.0}s",
        started.elapsed().as_secs_f64()
    );
    Ok(RunOutcome {
        who,
        cases,
        failures,
        passed: output.status.success(),
    })
}

/// The summary's `N generated, M found …` line.
fn case_counts(text: &str) -> (u64, u64) {
    let line = text
        .lines()
        .find(|l| {
            let mut words = l.split_whitespace();
            words.next().is_some_and(|n| n.parse::<u64>().is_ok())
                && words.next().is_some_and(|w| w.starts_with("generated"))
        })
        .unwrap_or_default();
    let number = |word: &str| {
        let words: Vec<&str> = line.split_whitespace().collect();
        words
            .iter()
            .position(|w| w.trim_end_matches(',') == word)
            .and_then(|i| i.checked_sub(1))
            .and_then(|i| words[i].parse().ok())
            .unwrap_or(0)
    };
    let failures = line
        .split("found ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    (number("generated"), failures)
}

fn staff_token(addr: &str) -> Result<String> {
    let body = format!(r#"{{"username":"admin","password":"{ADMIN_PASSWORD}"}}"#);
    let (status, answer) = request(addr, "POST", "/api/v1/staff/login", None, Some(&body))?;
    field(&answer, "token").ok_or_else(|| format!("staff login: {status} {answer}"))
}

/// Registers a reader at a demo library, logs in with the default Password and changes it:
/// the reader's `full` token.
fn reader_token(addr: &str, staff: &str) -> Result<String> {
    let body = format!(
        r#"{{"name":"Api Check Reader","phone":"{READER_PHONE}","category":"adult","home_library":"HKCL"}}"#
    );
    let (status, answer) = request(addr, "POST", "/api/v1/patrons", Some(staff), Some(&body))?;
    let card = field(&answer, "card_number")
        .ok_or_else(|| format!("reader registration: {status} {answer}"))?;
    let body = format!(r#"{{"card_number":"{card}","password":"{READER_DEFAULT_PASSWORD}"}}"#);
    let (status, answer) = request(addr, "POST", "/api/v1/auth/login", None, Some(&body))?;
    let first =
        field(&answer, "token").ok_or_else(|| format!("reader login: {status} {answer}"))?;
    let body = format!(
        r#"{{"current_password":"{READER_DEFAULT_PASSWORD}","new_password":"{READER_PASSWORD}"}}"#
    );
    let (status, answer) = request(
        addr,
        "PUT",
        "/api/v1/me/password",
        Some(&first),
        Some(&body),
    )?;
    field(&answer, "token").ok_or_else(|| format!("reader Password change: {status} {answer}"))
}

/// A string field of a flat JSON answer (`"name":"value"`; tokens and card numbers hold no
/// escapes).
fn field(json: &str, name: &str) -> Option<String> {
    let key = format!("\"{name}\":\"");
    let start = json.find(&key)? + key.len();
    let len = json[start..].find('"')?;
    Some(json[start..start + len].to_owned())
}

/// One HTTP/1.1 request on its own connection: the status and the body.
fn request(
    addr: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> Result<(u16, String)> {
    let mut stream = TcpStream::connect(addr).map_err(|e| format!("{addr}: {e}"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(|e| e.to_string())?;
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if let Some(token) = token {
        head.push_str(&format!("Authorization: Bearer {token}\r\n"));
    }
    let body = body.unwrap_or_default();
    head.push_str(&format!(
        "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    ));
    stream
        .write_all(head.as_bytes())
        .and_then(|()| stream.write_all(body.as_bytes()))
        .map_err(|e| format!("{method} {path}: {e}"))?;
    let mut answer = String::new();
    stream
        .read_to_string(&mut answer)
        .map_err(|e| format!("{method} {path}: {e}"))?;
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("{method} {path}: not an HTTP answer"))?;
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    Ok((status, body))
}

/// The server under test, stopped by [`Server::stop`] (or killed when dropped).
struct Server {
    child: Option<Child>,
    addr: String,
}

impl Server {
    fn start(binary: &Path, dir: &Path, database_url: &str) -> Result<Self> {
        let log_path = dir.join("server.log");
        let log =
            fs::File::create(&log_path).map_err(|e| format!("{}: {e}", log_path.display()))?;
        let err = log.try_clone().map_err(|e| e.to_string())?;
        let child = Command::new(binary)
            .arg("--demo")
            .current_dir(dir)
            .env("LIBRARY_DATABASE_URL", database_url)
            .env("LIBRARY_HTTP_ADDR", "127.0.0.1:0")
            .env("LIBRARY_ADMIN_PASSWORD", ADMIN_PASSWORD)
            // No scheduled jobs: the run sees only what its own requests change.
            .env("LIBRARY_JOBS_EVERY_SECS", "0")
            .env_remove("LIBRARY_DEV_CLOCK")
            .env_remove("LIBRARY_CONFIG")
            .env("RUST_LOG", "warn,library_server=info")
            .stdout(log)
            .stderr(err)
            .spawn()
            .map_err(|e| format!("{}: {e}", binary.display()))?;
        let mut server = Server {
            child: Some(child),
            addr: String::new(),
        };
        server.addr = server.wait_listening(&log_path)?;
        eprintln!("xtask: api-check: server on http://{}", server.addr);
        Ok(server)
    }

    /// The address of the `listening on http://ADDR` log line.
    fn wait_listening(&mut self, log: &PathBuf) -> Result<String> {
        let deadline = Instant::now() + Duration::from_secs(120);
        while Instant::now() < deadline {
            let text = fs::read_to_string(log).unwrap_or_default();
            if let Some(addr) = text.lines().find_map(|l| {
                l.split("listening on http://")
                    .nth(1)
                    .map(|a| a.trim().to_owned())
            }) {
                return Ok(addr);
            }
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                return Err(format!("the server stopped ({status}):\n{text}"));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        Err("the server did not log `listening on` within 120 s".into())
    }

    /// SIGTERM, then up to 30 s for the server to drain and exit.
    fn stop(mut self) -> Result {
        let Some(mut child) = self.child.take() else {
            return Ok(());
        };
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = child.kill();
        let _ = child.wait();
        Err("the server did not stop within 30 s of SIGTERM".into())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_of_a_url_is_replaced() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/postgres", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_database("postgres://u@h/db?sslmode=disable", "x"),
            "postgres://u@h/x?sslmode=disable"
        );
        assert_eq!(with_database("postgres://u@h", "x"), "postgres://u@h/x");
    }

    #[test]
    fn the_summary_line_gives_the_counts() {
        let text = "24 operations mostly rejected generated data\nTest cases:\n  3874 generated, \
                    80 found 80 unique failures, 54 skipped\n";
        assert_eq!(case_counts(text), (3874, 80));
        let clean = "Test cases:\n  2210 generated, 2210 passed\n";
        assert_eq!(case_counts(clean), (2210, 0));
    }

    #[test]
    fn a_flat_json_field() {
        let json = r#"{"expires_at":"2026-12-08T13:44:23+08:00","token":"4CZRrV2E"}"#;
        assert_eq!(field(json, "token").as_deref(), Some("4CZRrV2E"));
        assert_eq!(field(json, "card_number"), None);
    }
}
