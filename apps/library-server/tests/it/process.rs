//! The real binary: starts on a free port, logs where it listens, stops on SIGTERM.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

use crate::support::TestDb;

/// The server binary running on a database of its own, its log read line by line.
pub struct Binary {
    child: tokio::process::Child,
    lines: tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
    /// The log lines read so far.
    pub seen: Vec<String>,
    _db: TestDb,
}

impl Binary {
    /// Starts `library-server` with `args` on a fresh SQLite file, HTTP on a free port,
    /// no admin password, dev clock, configuration file or SIP2 address from the
    /// environment.
    pub fn start(args: &[&str]) -> Binary {
        Self::start_on(TestDb::sqlite(), args, &[])
    }

    /// Starts `library-server` with `args` on `db`, with the variables `env` set on top
    /// of the settings [`Binary::start`] makes.
    pub fn start_on(db: TestDb, args: &[&str], env: &[(&str, &str)]) -> Binary {
        let mut command = Command::new(env!("CARGO_BIN_EXE_library-server"));
        command
            .args(args)
            .env("LIBRARY_HTTP_ADDR", "127.0.0.1:0")
            .env("LIBRARY_DATABASE_URL", db.url())
            .env_remove("LIBRARY_ADMIN_PASSWORD")
            .env_remove("LIBRARY_SIP2_ADDR")
            .env_remove("LIBRARY_DEV_CLOCK")
            .env_remove("LIBRARY_CONFIG")
            .env_remove("LIBRARY_POLICY")
            .env("RUST_LOG", "info");
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("start library-server");
        let lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        Binary {
            child,
            lines,
            seen: Vec::new(),
            _db: db,
        }
    }

    /// Reads the log until a line contains `marker`; the word after it (an address).
    pub async fn wait_for(&mut self, marker: &str) -> String {
        let Binary { lines, seen, .. } = self;
        tokio::time::timeout(Duration::from_secs(60), async {
            while let Some(line) = lines.next_line().await.expect("read log") {
                seen.push(line.clone());
                if let Some((_, rest)) = line.split_once(marker) {
                    return rest.split_whitespace().next().map(str::to_owned);
                }
            }
            None
        })
        .await
        .expect("listening within 60 s")
        .unwrap_or_else(|| panic!("no `{marker}` line in {:#?}", self.seen))
    }

    /// Sends SIGTERM, waits for a clean exit and returns every log line.
    pub async fn terminate(self) -> Vec<String> {
        let Binary {
            mut child,
            mut lines,
            seen,
            _db,
        } = self;
        let pid = child.id().expect("pid").to_string();
        let killed = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill");
        assert!(killed.success());
        // Keep draining the log so the child never blocks on a full pipe.
        let drain = tokio::spawn(async move {
            let mut rest = Vec::new();
            while let Ok(Some(line)) = lines.next_line().await {
                rest.push(line);
            }
            rest
        });
        let status = tokio::time::timeout(Duration::from_secs(20), child.wait())
            .await
            .expect("exits within 20 s")
            .expect("wait");
        assert!(status.success(), "exit status {status:?}");
        let mut all = seen;
        all.extend(drain.await.expect("drain"));
        all
    }
}

#[tokio::test]
async fn the_binary_serves_and_stops_cleanly_on_sigterm() {
    let mut server = Binary::start(&[]);
    let addr = server.wait_for("listening on http://").await;
    assert!(
        server.seen.iter().any(|l| l.contains("random password")),
        "the random admin password is logged once: {:#?}",
        server.seen
    );
    assert!(
        server
            .seen
            .iter()
            .any(|l| l.contains("first start: stored the \"hkpl\" profile")),
        "the default policy is stored on first start: {:#?}",
        server.seen
    );

    let health = reqwest::get(format!("http://{addr}/health"))
        .await
        .expect("health");
    assert_eq!(health.status(), 200);

    let log = server.terminate().await;
    let listening = log
        .iter()
        .filter(|l| l.contains("listening on http://"))
        .count();
    assert_eq!(listening, 1);
}

#[tokio::test]
async fn the_request_log_shows_paths_never_query_strings() {
    let mut server = Binary::start(&[]);
    let addr = server.wait_for("listening on http://").await;
    let client = reqwest::Client::new();
    let secret = "c2VjcmV0LXRva2VuLWluLWEtcXVlcnk";
    let answer = client
        .get(format!("http://{addr}/api/v1/me?access_token={secret}"))
        .send()
        .await
        .expect("request");
    assert_eq!(answer.status(), 401);
    let answer = client
        .get(format!("http://{addr}/account?token={secret}"))
        .send()
        .await
        .expect("request");
    assert!(answer.status().is_success() || answer.status().is_redirection());
    let log = server.terminate().await;
    assert!(
        log.iter()
            .any(|l| l.contains("/api/v1/me") && l.contains("status=401")),
        "each request is logged with its path and status: {log:#?}"
    );
    assert!(
        !log.iter().any(|l| l.contains(secret)),
        "a query string reached the log: {log:#?}"
    );
}

#[tokio::test]
async fn json_logs_carry_each_requests_id_and_the_answer_returns_it() {
    let mut server = Binary::start_on(
        crate::support::TestDb::sqlite(),
        &[],
        &[("LIBRARY_LOG_FORMAT", "json")],
    );
    // In a JSON line the address ends at the message's closing quote.
    let addr = server.wait_for("listening on http://").await;
    let addr = addr.split('"').next().unwrap().to_owned();
    let client = reqwest::Client::new();
    // A client's id is kept and answered.
    let answer = client
        .get(format!("http://{addr}/api/v1/nowhere"))
        .header("x-request-id", "counter-7-req-0042")
        .send()
        .await
        .expect("request");
    assert_eq!(answer.headers()["x-request-id"], "counter-7-req-0042");
    // Without one (or with one we do not keep), one is made: 16 hex digits.
    for sent in [None, Some("has spaces in it")] {
        let mut req = client.get(format!("http://{addr}/health"));
        if let Some(id) = sent {
            req = req.header("x-request-id", id);
        }
        let answer = req.send().await.expect("request");
        let made = answer.headers()["x-request-id"]
            .to_str()
            .unwrap()
            .to_owned();
        assert_eq!(made.len(), 16, "{made}");
        assert!(made.bytes().all(|b| b.is_ascii_hexdigit()), "{made}");
    }
    let log = server.terminate().await;
    let mut found = false;
    for line in log.iter().filter(|l| l.starts_with('{')) {
        let entry: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        if entry["fields"]["path"] == "/api/v1/nowhere" {
            assert_eq!(entry["span"]["id"], "counter-7-req-0042", "{line}");
            assert_eq!(entry["fields"]["status"], 404, "{line}");
            found = true;
        }
    }
    assert!(found, "no JSON line of the request: {log:#?}");
    assert!(
        log.iter().all(|l| l.starts_with('{')),
        "every line is JSON: {log:#?}"
    );
}
