//! Project automation, run as `cargo xtask <command>` (alias in `.cargo/config.toml`).
//!
//! - `test`: format check, clippy with warnings denied, the crate documentation built with
//!   warnings denied (`cargo doc --no-deps`), every test of the workspace (all features, so
//!   adapters behind optional features are tested too; the crate documentation's examples
//!   run as doc tests).
//!   PostgreSQL-backed tests run when `LIBRARY_TEST_POSTGRES_URL` is set; when it is not and
//!   PostgreSQL answers on 127.0.0.1:5432, it is set to that server.
//! - `outside [--release]`: the outside-in suites (`apps/library-server/tests/outside`,
//!   ignored in a plain `cargo test`): builds the tests and `library-server` (the release
//!   build with `--release`) and runs the suites against it as separate processes.
//! - `ci [STAGE…]`: what `.ci/run` calls: the stages in order, each timed, with PostgreSQL
//!   required (a stage fails, not skips, when PostgreSQL is unreachable): `lint` (format
//!   check, clippy, rustdoc), `tests` (every test of the workspace), `outside`, `api`
//!   (`api-check`), `browser`,
//!   `deny` (`cargo deny check licenses bans sources` when cargo-deny is installed, plus
//!   advisories from the offline copy when one is present). Named stages run alone, e.g.
//!   `cargo xtask ci lint tests`.
//! - `browser`: the real-browser tests of the readers' web pages (`web-tests/`): builds
//!   `library-server` (debug), then runs `node --test web-tests/*.test.js` against it in
//!   headless Chromium (`/usr/bin/chromium`). Run by `ci` after `test`, and by `test` when
//!   Chromium and `web-tests/node_modules` are there (skipped with a message otherwise).
//! - `bench`: every benchmark, with their figures printed.
//! - `tidy`: the repository rules of `tidy.rs` (also run by `test`, as unit tests).
//! - `api-check`: schemathesis against the server's OpenAPI document with a staff and a
//!   reader token (`api_check.rs`, `tools/api-check/`).

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod api_check;
mod tidy;

use std::env;
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

type Result<T = ()> = std::result::Result<T, String>;

const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test(false)
            .and_then(|()| outside(false, false))
            .and_then(|()| api_check_if_available())
            .and_then(|()| browser_if_available()),
        Some("ci") => ci(&args[1..]),
        Some("outside") => outside(false, args.get(1).is_some_and(|a| a == "--release")),
        Some("browser") => browser(),
        Some("bench") => bench(&args[1..]),
        Some("tidy") => tidy::check_all(&workspace_root()).map_err(|errors| errors.join("\n")),
        Some("api-check") => match args.get(1).map(String::as_str) {
            None => api_check(),
            Some("--postgres") => postgres_url(true)
                .and_then(|url| url.ok_or_else(|| "PostgreSQL does not answer".to_owned()))
                .and_then(|url| api_check::api_check_on(api_check::Backend::Postgres(url))),
            Some(other) => Err(format!("api-check: unknown option `{other}`")),
        },
        _ => {
            eprintln!(
                "usage: cargo xtask <test|ci [{}]|outside [--release]|api-check [--postgres]|browser|bench|tidy>",
                STAGES.join("|")
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root (the parent of `xtask/`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn cargo() -> Command {
    let mut cmd = Command::new(env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(workspace_root());
    cmd
}

fn run(step: &str, cmd: Command) -> Result {
    run_output(step, cmd).map(drop)
}

/// Runs `cmd`, timed, and returns what it wrote to its standard output when that was piped
/// (empty otherwise: the output went to ours).
fn run_output(step: &str, mut cmd: Command) -> Result<Vec<u8>> {
    eprintln!("xtask: {step}");
    let started = Instant::now();
    let output = cmd
        .spawn()
        .and_then(std::process::Child::wait_with_output)
        .map_err(|e| format!("{step}: could not start: {e}"))?;
    eprintln!(
        "xtask: {step}: {} in {:.1}s",
        if output.status.success() {
            "ok"
        } else {
            "FAILED"
        },
        started.elapsed().as_secs_f64()
    );
    if output.status.success() {
        Ok(output.stdout)
    } else {
        Err(format!("{step} failed"))
    }
}

fn postgres_answers() -> bool {
    let addr = SocketAddr::from(([127, 0, 0, 1], 5432));
    TcpStream::connect_timeout(&addr, Duration::from_secs(2)).is_ok()
}

/// `LIBRARY_TEST_POSTGRES_URL` as given, or the local server when it answers.
fn postgres_url(required: bool) -> Result<Option<String>> {
    if let Ok(url) = env::var("LIBRARY_TEST_POSTGRES_URL")
        && !url.is_empty()
    {
        return Ok(Some(url));
    }
    if postgres_answers() {
        return Ok(Some(DEFAULT_POSTGRES_URL.to_owned()));
    }
    if required {
        return Err("PostgreSQL is required but does not answer on 127.0.0.1:5432 and LIBRARY_TEST_POSTGRES_URL is not set".into());
    }
    eprintln!("xtask: PostgreSQL not reachable: PostgreSQL-backed tests will be skipped");
    Ok(None)
}

fn test(require_postgres: bool) -> Result {
    lint()?;
    tests(require_postgres)
}

/// Format check, clippy and rustdoc, warnings denied.
fn lint() -> Result {
    let mut fmt = cargo();
    fmt.args(["fmt", "--all", "--", "--check"]);
    run("cargo fmt --check", fmt)?;

    let mut clippy = cargo();
    clippy.args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--all-features",
        "--locked",
        "--",
        "-D",
        "warnings",
    ]);
    run("cargo clippy -D warnings", clippy)?;

    let mut doc = cargo();
    doc.args([
        "doc",
        "--no-deps",
        "--workspace",
        "--all-features",
        "--locked",
    ])
    .env("RUSTDOCFLAGS", "-D warnings");
    run("cargo doc -D warnings", doc)
}

/// Every test of the workspace (the outside-in suites apart).
fn tests(require_postgres: bool) -> Result {
    let mut tests = cargo();
    // Every feature, so adapters behind optional features (the SIP2 server) are tested too.
    tests.args(["test", "--workspace", "--all-features", "--locked"]);
    // The admin tool the server's backup test drives: the binary this same build makes for
    // the tool's own tests (else the test would run `cargo build -p library-admin`, whose
    // other selection compiles part of the dependencies again, twice).
    tests.env(
        "LIBRARY_ADMIN_BIN",
        target_dir()
            .join("debug")
            .join(format!("library-admin{}", env::consts::EXE_SUFFIX)),
    );
    match postgres_url(require_postgres)? {
        Some(url) => {
            eprintln!("xtask: PostgreSQL-backed tests use {url}");
            tests.env("LIBRARY_TEST_POSTGRES_URL", url);
        }
        None => {
            tests.env_remove("LIBRARY_TEST_POSTGRES_URL");
        }
    }
    run("cargo test --workspace", tests)
}

/// The Chromium the browser tests drive (Debian's package; `.ci/run` installs it).
const CHROMIUM: &str = "/usr/bin/chromium";

/// What the browser tests need that `cargo` does not provide, or `None` when all is there.
fn browser_prerequisites_missing() -> Option<String> {
    let root = workspace_root();
    let mut missing = Vec::new();
    if !Path::new(CHROMIUM).exists() {
        missing.push(format!(
            "{CHROMIUM} (apt-get install -y --no-install-recommends chromium)"
        ));
    }
    if !root.join("web-tests/node_modules").is_dir() {
        missing.push("web-tests/node_modules (cd web-tests && npm ci)".to_owned());
    }
    let node = Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !node {
        missing.push("node (Node.js 20 or later)".to_owned());
    }
    if missing.is_empty() {
        None
    } else {
        Some(missing.join(", "))
    }
}

/// `cargo xtask test`'s last step: the browser tests when they can run here.
fn browser_if_available() -> Result {
    if let Some(missing) = browser_prerequisites_missing() {
        eprintln!(
            "xtask: browser tests SKIPPED: missing {missing}; `.ci/run` installs them, or run \
             `cargo xtask browser` once they are there"
        );
        return Ok(());
    }
    browser()
}

/// The real-browser tests of the readers' web pages: `library-server` built (debug, [`build_server`]), then
/// `node --test web-tests/*.test.js` (each test file starts its own server on a fresh
/// SQLite database with the demo data, and a local SMTP server; see web-tests/README.md).
fn browser() -> Result {
    if let Some(missing) = browser_prerequisites_missing() {
        return Err(format!("browser tests: missing {missing}"));
    }
    let binary = build_server()?;
    let root = workspace_root();
    // The test files by name: how `node --test` expands a folder differs between versions.
    let mut files: Vec<String> = std::fs::read_dir(root.join("web-tests"))
        .map_err(|e| format!("web-tests/: {e}"))?
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| name.ends_with(".test.js"))
        .map(|name| format!("web-tests/{name}"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err("browser tests: no web-tests/*.test.js".into());
    }
    let mut node = Command::new("node");
    node.current_dir(&root)
        .args(["--test", "--test-reporter=spec"])
        .args(&files)
        .env("LIBRARY_SERVER_BIN", binary)
        .env("CHROMIUM_PATH", CHROMIUM);
    run("browser tests (node --test web-tests/*.test.js)", node)
}

/// Builds every test of the workspace as the `tests` stage does (`cargo test --workspace
/// --all-features --no-run`), so after that stage nothing is built again: one selection
/// for the tests, the outside-in suite, the API check and the browser tests. Another
/// selection (`cargo build -p library-server`, `cargo test --test outside`) resolves other
/// features of the dependencies and would compile them and the server a second time.
/// The test executables cargo reports, by target name.
fn build_tests() -> Result<Vec<(String, PathBuf)>> {
    let mut build = cargo();
    build
        .args([
            "test",
            "--workspace",
            "--all-features",
            "--locked",
            "--no-run",
            "--message-format=json-render-diagnostics",
        ])
        .stdout(Stdio::piped());
    let stdout = run_output("cargo test --workspace --all-features --no-run", build)?;
    Ok(String::from_utf8_lossy(&stdout)
        .lines()
        .filter_map(test_executable)
        .collect())
}

/// The target name and executable of one line of cargo's JSON messages, when it reports a
/// built test executable (`"reason":"compiler-artifact"`, `"kind":["test"]`).
fn test_executable(line: &str) -> Option<(String, PathBuf)> {
    if !line.contains(r#""reason":"compiler-artifact""#) || !line.contains(r#""kind":["test"]"#) {
        return None;
    }
    let name = json_string_after(line, r#""name":"#)?;
    let executable = json_string_after(line, r#""executable":"#)?;
    Some((name, PathBuf::from(executable)))
}

/// The JSON string that follows `key` in `line` (the first occurrence), unescaped.
fn json_string_after(line: &str, key: &str) -> Option<String> {
    let rest = line[line.find(key)? + key.len()..].strip_prefix('"')?;
    let mut value = String::new();
    let mut chars = rest.chars();
    loop {
        match chars.next()? {
            '"' => return Some(value),
            '\\' => match chars.next()? {
                'n' => value.push('\n'),
                't' => value.push('\t'),
                other => value.push(other),
            },
            c => value.push(c),
        }
    }
}

/// The debug `library-server` the API check and the browser tests drive, built with
/// [`build_tests`] (the binary the server's own tests start is `target/debug/library-server`).
/// Its path.
fn build_server() -> Result<PathBuf> {
    build_tests()?;
    Ok(target_dir().join("debug/library-server"))
}

/// The stages of `cargo xtask ci`, in the order they run.
const STAGES: &[&str] = &["lint", "tests", "outside", "api", "browser", "deny"];

/// `cargo xtask ci [STAGE…]`: the named stages (all by default) in order, each timed; a
/// summary of the times at the end, also when a stage fails.
fn ci(names: &[String]) -> Result {
    for name in names {
        if !STAGES.contains(&name.as_str()) {
            return Err(format!(
                "unknown stage `{name}`: the stages are {}",
                STAGES.join(", ")
            ));
        }
    }
    let chosen: Vec<&str> = STAGES
        .iter()
        .copied()
        .filter(|stage| names.is_empty() || names.iter().any(|n| n == stage))
        .collect();
    let started = Instant::now();
    let mut times = Vec::new();
    let mut outcome = Ok(());
    for stage in chosen {
        let start = Instant::now();
        outcome = match stage {
            "lint" => lint(),
            "tests" => tests(true),
            "outside" => outside(true, false),
            "api" => api_check(),
            "browser" => browser(),
            _ => deny(),
        };
        times.push((stage, start.elapsed(), outcome.is_ok()));
        if outcome.is_err() {
            break;
        }
    }
    eprintln!("xtask: ci stages:");
    for (stage, took, ok) in &times {
        eprintln!(
            "xtask:   {stage:<8} {:>7.1}s {}",
            took.as_secs_f64(),
            if *ok { "ok" } else { "FAILED" }
        );
    }
    eprintln!(
        "xtask:   total    {:>7.1}s",
        started.elapsed().as_secs_f64()
    );
    outcome
}

/// The directory cargo builds into.
fn target_dir() -> PathBuf {
    let root = workspace_root();
    env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), |t| root.join(t))
}

/// The outside-in suites (apps/library-server/tests/outside; docs/operations.md,
/// Outside-in suites): the suite's executable, built with every other test
/// ([`build_tests`]), run with `--ignored` (its tests are ignored in a plain `cargo test`),
/// with `LIBRARY_SERVER_BIN` naming the binary they drive: the release build with `release`,
/// else the debug one (what CI runs: the release build alone would take most of CI's time on
/// two cores). PostgreSQL is required with `require_postgres`, used when it answers
/// otherwise.
fn outside(require_postgres: bool, release: bool) -> Result {
    let executable = build_tests()?
        .into_iter()
        .find_map(|(name, path)| (name == "outside").then_some(path))
        .ok_or("cargo built no `outside` test executable")?;
    let mut suites = Command::new(executable);
    // Where `cargo test` runs a package's tests: the package's folder.
    suites
        .current_dir(workspace_root().join("apps/library-server"))
        .arg("--ignored");
    let binary = if release {
        let mut build = cargo();
        build.args(["build", "--release", "-p", "library-server", "--locked"]);
        run("cargo build --release -p library-server", build)?;
        let path = target_dir().join("release/library-server");
        suites.env("LIBRARY_SERVER_BIN", &path);
        "release"
    } else {
        // The binary cargo built with the tests (`CARGO_BIN_EXE_library-server`).
        suites.env_remove("LIBRARY_SERVER_BIN");
        "debug"
    };
    match postgres_url(require_postgres)? {
        Some(url) => suites.env("LIBRARY_TEST_POSTGRES_URL", url),
        None => suites.env_remove("LIBRARY_TEST_POSTGRES_URL"),
    };
    run(&format!("outside-in suites ({binary} binary)"), suites)
}

/// Licences, bans and sources with cargo-deny when it is installed, and the advisories
/// from the offline copy when there is one.
fn deny() -> Result {
    let has_deny = Command::new(env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["deny", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_deny {
        eprintln!("xtask: cargo-deny is not installed: licence, ban and source checks skipped");
        return Ok(());
    }
    // cargo-deny reads the whole graph (every feature, every target platform): fetch it
    // first so the checks themselves can run offline.
    let mut fetch = cargo();
    fetch.args(["fetch", "--locked"]);
    run("cargo fetch", fetch)?;
    let mut deny = cargo();
    deny.args(["deny", "--offline", "check", "licenses", "bans", "sources"]);
    run("cargo deny check licenses bans sources", deny)?;
    if let Some(db) = advisory_db()? {
        let mut advisories = cargo();
        advisories
            .args(["deny", "--offline", "check", "advisories"])
            .env("LIBRARY_ADVISORY_DB", &db);
        run("cargo deny check advisories (offline copy)", advisories)?;
    }
    Ok(())
}

/// Clones the offline copy of the RustSec advisory database where cargo-deny looks for it
/// (`deny.toml`: `db-path`). The copy is a git bundle named by `LIBRARY_ADVISORY_DB_BUNDLE`,
/// or else found beside the checkout as `<any folder>/rustsec/advisory-db.bundle` (where a
/// CI machine may place it): optional, without it the advisories check is skipped. See
/// docs/operations.md, CI.
fn advisory_db() -> Result<Option<PathBuf>> {
    let root = workspace_root();
    let Some(bundle) = advisory_bundle(&root) else {
        eprintln!("xtask: no offline advisory database beside the repository: advisories skipped");
        return Ok(None);
    };
    let db_root = root.join(".deny-advisory-db");
    let target = db_root.join("advisory-db-3157b0e258782691");
    if !target.exists() {
        let mut clone = Command::new("git");
        clone
            .args([
                "-c",
                "advice.detachedHead=false",
                "-c",
                "init.defaultBranch=main",
            ])
            .args(["clone", "-q"])
            .arg(&bundle)
            .arg(&target);
        run("clone the offline advisory database", clone)?;
    }
    Ok(Some(db_root))
}

/// The advisory database bundle: `LIBRARY_ADVISORY_DB_BUNDLE`, or the first
/// `rustsec/advisory-db.bundle` in a folder beside the repository root.
fn advisory_bundle(root: &Path) -> Option<PathBuf> {
    if let Some(named) = env::var_os("LIBRARY_ADVISORY_DB_BUNDLE") {
        return Some(PathBuf::from(named)).filter(|p| p.exists());
    }
    let mut beside: Vec<PathBuf> = std::fs::read_dir(root.parent()?)
        .ok()?
        .filter_map(|entry| Some(entry.ok()?.path().join("rustsec/advisory-db.bundle")))
        .filter(|p| p.exists())
        .collect();
    beside.sort();
    beside.into_iter().next()
}

fn bench(extra: &[String]) -> Result {
    let mut cmd = cargo();
    cmd.args(["bench", "--workspace", "--locked"]).args(extra);
    if let Some(url) = postgres_url(false)? {
        cmd.env("LIBRARY_TEST_POSTGRES_URL", url);
    }
    run("cargo bench --workspace", cmd)
}

/// schemathesis against the OpenAPI document, with a staff and a reader token: see
/// `api_check.rs` and docs/operations.md, "API check".
fn api_check() -> Result {
    api_check::api_check()
}

/// `cargo xtask test`'s API check: skipped with a message when schemathesis is not
/// installed (`.ci/run` installs it).
fn api_check_if_available() -> Result {
    if let Err(missing) = api_check::schemathesis() {
        eprintln!("xtask: API check SKIPPED: {missing}");
        return Ok(());
    }
    api_check()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_test_executable_is_read_from_cargos_message() {
        let line = r#"{"reason":"compiler-artifact","package_id":"path+file:///w/apps/library-server#library-server@0.1.0","manifest_path":"/w/apps/library-server/Cargo.toml","target":{"kind":["test"],"crate_types":["bin"],"name":"outside","src_path":"/w/apps/library-server/tests/outside/main.rs","edition":"2024","doc":false,"doctest":false,"test":true},"profile":{"opt_level":"0","debuginfo":2,"debug_assertions":true,"overflow_checks":true,"test":true},"features":[],"filenames":["/w/target/debug/deps/outside-0f3c"],"executable":"/w/target/debug/deps/outside-0f3c","fresh":true}"#;
        assert_eq!(
            test_executable(line),
            Some((
                "outside".to_owned(),
                PathBuf::from("/w/target/debug/deps/outside-0f3c")
            ))
        );
    }

    #[test]
    fn a_library_or_a_message_without_an_executable_is_no_test_executable() {
        let library = r#"{"reason":"compiler-artifact","target":{"kind":["lib"],"name":"library_core","test":true},"executable":null,"fresh":true}"#;
        assert_eq!(test_executable(library), None);
        let finished = r#"{"reason":"build-finished","success":true}"#;
        assert_eq!(test_executable(finished), None);
    }

    #[test]
    fn an_escaped_json_string_is_unescaped() {
        assert_eq!(
            json_string_after(r#"{"executable":"/a \"b\"\\c"}"#, r#""executable":"#),
            Some(r#"/a "b"\c"#.to_owned())
        );
        assert_eq!(
            json_string_after(r#"{"executable":null}"#, r#""executable":"#),
            None
        );
    }
}
