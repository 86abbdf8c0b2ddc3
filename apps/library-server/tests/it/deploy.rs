//! The files of `deploy/` agree with the program they deploy (docs/operations.md,
//! "Installing with systemd" and "Container"): every variable the example environment
//! file names is one the server reads and its values are accepted, the unit starts this
//! binary and waits longer than its drain, and the container's health check answers.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::path::Path;

use library_setup::Config;

use crate::support::{TestApp, TestDb};

const ENV_EXAMPLE: &str = include_str!("../../../../deploy/library.env.example");
const UNIT: &str = include_str!("../../../../deploy/library-server.service");
const CONTAINERFILE: &str = include_str!("../../../../deploy/Containerfile");
/// The binary's `main`, which reads the log settings before the configuration.
const MAIN: &str = include_str!("../../src/main.rs");

/// `NAME=value` of a line, commented out (`# NAME=value`) or not; `None` for prose.
fn assignment(line: &str) -> Option<(bool, &str, &str)> {
    let (active, rest) = match line.strip_prefix('#') {
        Some(rest) => (false, rest.trim_start()),
        None => (true, line),
    };
    let (name, value) = rest.split_once('=')?;
    let is_name = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
    is_name.then_some((active, name, value))
}

/// The configuration read from `vars`, and the names it asked for.
fn read(vars: &[(&str, &str)]) -> (Result<Config, String>, BTreeSet<String>) {
    let asked = RefCell::new(BTreeSet::new());
    let config = Config::from_vars(|name| {
        asked.borrow_mut().insert(name.to_owned());
        vars.iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| (*v).to_owned())
    })
    .map_err(|e| e.to_string());
    (config, asked.into_inner())
}

/// The value of `key=` on the unit's lines.
fn unit_setting(key: &str) -> Vec<&str> {
    UNIT.lines()
        .filter_map(|l| l.strip_prefix(key)?.strip_prefix('='))
        .collect()
}

#[test]
fn every_variable_of_the_example_environment_is_read_and_its_values_accepted() {
    let assignments: Vec<(bool, &str, &str)> = ENV_EXAMPLE.lines().filter_map(assignment).collect();
    assert!(assignments.len() > 20, "{assignments:?}");
    let (_, read_by_config) = read(&[]);
    let read_by_main = ["RUST_LOG", "LIBRARY_LOG_FORMAT"];
    for name in read_by_main {
        assert!(
            MAIN.contains(&format!("\"{name}\"")) || name == "RUST_LOG",
            "main.rs does not read {name}"
        );
    }
    for (_, name, _) in &assignments {
        assert!(
            read_by_config.contains(*name) || read_by_main.contains(name),
            "deploy/library.env.example names {name}, which the server does not read"
        );
    }
    // Every configuration variable is in the example (a new setting is documented there).
    for name in &read_by_config {
        assert!(
            assignments.iter().any(|(_, n, _)| n == name)
                || ["LIBRARY_DEV_CLOCK", "LIBRARY_DEMO"].contains(&name.as_str()),
            "{name} is missing from deploy/library.env.example"
        );
    }

    // The active lines are a configuration the server accepts, on the unit's state
    // directory.
    let active: Vec<(&str, &str)> = assignments
        .iter()
        .filter(|(active, _, _)| *active)
        .map(|(_, n, v)| (*n, *v))
        .collect();
    let (config, _) = read(&active);
    let config = config.expect("the example's settings are accepted");
    let state = unit_setting("ReadWritePaths");
    assert_eq!(state, ["/var/lib/library"]);
    assert!(
        config
            .database_url
            .starts_with("sqlite:///var/lib/library/"),
        "{}",
        config.database_url
    );
    // Each example value, commented out or not, is accepted on its own (the file it would
    // name aside).
    for (_, name, value) in &assignments {
        if value.is_empty() || name.starts_with("RUST_") || *name == "LIBRARY_CONFIG" {
            continue;
        }
        if *name == "LIBRARY_LOG_FORMAT" {
            assert!(["text", "json"].contains(value), "{name}={value}");
            continue;
        }
        let (config, _) = read(&[(name, value)]);
        assert!(config.is_ok(), "{name}={value}: {config:?}");
    }
}

#[test]
fn the_unit_starts_this_binary_and_waits_longer_than_its_drain() {
    let binary = Path::new(env!("CARGO_BIN_EXE_library-server"))
        .file_name()
        .and_then(|n| n.to_str())
        .expect("binary name");
    assert_eq!(
        unit_setting("ExecStart"),
        [format!("/usr/local/bin/{binary}").as_str()]
    );
    assert_eq!(
        unit_setting("EnvironmentFile"),
        ["/etc/library/library.env"]
    );
    assert_eq!(unit_setting("Restart"), ["on-failure"]);
    let stop: u64 = unit_setting("TimeoutStopSec")
        .first()
        .and_then(|s| s.parse().ok())
        .expect("TimeoutStopSec in seconds");
    assert!(
        stop > library_server::SHUTDOWN_GRACE.as_secs(),
        "TimeoutStopSec={stop} does not outlast the {:?} drain",
        library_server::SHUTDOWN_GRACE
    );
    for hardening in [
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ProtectHome=yes",
        "PrivateTmp=yes",
    ] {
        assert!(UNIT.lines().any(|l| l == hardening), "{hardening}");
    }
    let user = unit_setting("User");
    assert!(
        user.len() == 1 && user[0] != "root",
        "a dedicated user: {user:?}"
    );
}

#[tokio::test]
async fn the_container_builds_both_binaries_and_its_health_check_answers() {
    // The packages built are the ones copied into the runtime stage.
    let build = CONTAINERFILE
        .lines()
        .find(|l| l.contains("cargo build"))
        .expect("a cargo build line");
    for package in ["library-server", "library-admin"] {
        assert!(build.contains(&format!("-p {package}")), "{build}");
        assert!(
            CONTAINERFILE.contains(&format!("target/release/{package}")),
            "{package} is not copied"
        );
        assert!(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("..")
                .join(package)
                .join("Cargo.toml")
                .is_file(),
            "no package {package}"
        );
    }
    assert!(CONTAINERFILE.contains("ENTRYPOINT [\"/usr/local/bin/library-server\"]"));
    assert!(CONTAINERFILE.lines().any(|l| l.starts_with("USER library")));

    // Its settings are accepted and listen on the port it exposes.
    let env: Vec<(&str, &str)> = CONTAINERFILE
        .lines()
        .map(|l| {
            l.trim()
                .trim_start_matches("ENV ")
                .trim_end_matches('\\')
                .trim()
        })
        .filter_map(|l| l.split_once('='))
        .filter(|(n, _)| n.starts_with("LIBRARY_"))
        .collect();
    let (config, _) = read(&env);
    let config = config.expect("the container's settings are accepted");
    let exposed = CONTAINERFILE
        .lines()
        .find_map(|l| l.strip_prefix("EXPOSE "))
        .expect("EXPOSE");
    assert_eq!(config.http_addr, format!("0.0.0.0:{}", exposed.trim()));

    // The health check's path answers 200 on a running server.
    let check = CONTAINERFILE
        .lines()
        .find(|l| l.contains("http://127.0.0.1:"))
        .expect("the health check's command");
    let url = check
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .expect("a URL");
    let path = &url[url["http://".len()..].find('/').expect("a path") + "http://".len()..];
    assert!(url.contains(&format!(":{}/", exposed.trim())), "{url}");
    let app = TestApp::spawn(TestDb::sqlite(), false).await;
    let answer = app.get(path, None).await;
    assert_eq!(answer.status.as_u16(), 200, "{path}: {answer:?}");
    app.stop().await;
}
