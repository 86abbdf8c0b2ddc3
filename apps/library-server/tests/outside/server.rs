//! The server binary as a separate process.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::support::{ADMIN_PASSWORD, TEST_SECRET_KEY, TestApp};

/// The binary under test: `LIBRARY_SERVER_BIN`, or the one cargo built for this suite.
pub fn binary() -> PathBuf {
    std::env::var_os("LIBRARY_SERVER_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_library-server")))
}

/// How to start a server.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Serve SIP2 on a free port too.
    pub sip2: bool,
    /// The development clock (`POST /dev/clock`, `POST /dev/jobs/run`).
    pub dev_clock: bool,
    /// More variables, set last.
    pub env: Vec<(String, String)>,
}

/// A running server process. Its log is read to its end by a task of its own (a pipe left
/// unread would block the server once full); the last lines are kept for failure messages.
pub struct Server {
    child: Child,
    /// `http://ADDR`.
    pub base: String,
    /// The SIP2 address, when it serves SIP2.
    pub sip2: Option<String>,
    /// The database URL it runs on.
    pub url: String,
    /// `sqlite` or `postgres`.
    pub label: &'static str,
    log: Arc<Mutex<Vec<String>>>,
    drain: tokio::task::JoinHandle<()>,
}

/// Log lines kept for messages.
const KEPT_LINES: usize = 200;

impl Server {
    /// Starts the binary on the database at `url` (migrated on start), HTTP on a free port,
    /// the tests' admin password and secret key, the default policy, scheduled jobs off;
    /// returns once it listens (and, with SIP2, once SIP2 listens too).
    pub async fn start(url: &str, label: &'static str, options: &Options) -> Server {
        let mut command = Command::new(binary());
        command
            .env("LIBRARY_HTTP_ADDR", "127.0.0.1:0")
            .env("LIBRARY_DATABASE_URL", url)
            .env("LIBRARY_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("LIBRARY_SECRET_KEY", TEST_SECRET_KEY)
            .env("LIBRARY_JOBS_EVERY_SECS", "0")
            .env(
                "LIBRARY_DEV_CLOCK",
                if options.dev_clock { "1" } else { "0" },
            )
            .env_remove("LIBRARY_CONFIG")
            .env_remove("LIBRARY_POLICY")
            .env_remove("LIBRARY_DEMO")
            .env_remove("LIBRARY_SMTP_URL")
            .env("RUST_LOG", "warn,library_server=info,library_sip2=info");
        if options.sip2 {
            command.env("LIBRARY_SIP2_ADDR", "127.0.0.1:0");
        } else {
            command.env_remove("LIBRARY_SIP2_ADDR");
        }
        for (name, value) in &options.env {
            command.env(name, value);
        }
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", binary().display()));
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let log = Arc::new(Mutex::new(Vec::new()));
        let (mut http, mut sip2) = (None, None);
        let started = tokio::time::timeout(Duration::from_secs(60), async {
            while http.is_none() || (options.sip2 && sip2.is_none()) {
                let Some(line) = lines.next_line().await.expect("read the log") else {
                    return false;
                };
                if let Some((_, rest)) = line.split_once("sip2 listening on ") {
                    sip2 = rest.split_whitespace().next().map(str::to_owned);
                } else if let Some((_, rest)) = line.split_once("listening on http://") {
                    http = rest.split_whitespace().next().map(str::to_owned);
                }
                keep(&log, line);
            }
            true
        })
        .await;
        let seen = log.lock().expect("log").clone();
        assert!(
            matches!(started, Ok(true)),
            "{label}: the server did not start listening within 60 s: {seen:#?}"
        );
        let drain = {
            let log = log.clone();
            tokio::spawn(async move {
                while let Ok(Some(line)) = lines.next_line().await {
                    keep(&log, line);
                }
            })
        };
        Server {
            child,
            base: format!("http://{}", http.expect("address")),
            sip2,
            url: url.to_owned(),
            label,
            log,
            drain,
        }
    }

    /// The test helpers over this server.
    pub fn app(&self) -> TestApp {
        TestApp::remote(self.base.clone(), self.label, &self.url)
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id().expect("running")
    }

    /// The last log lines.
    pub fn log(&self) -> Vec<String> {
        self.log.lock().expect("log").clone()
    }

    /// Kills the process at once (SIGKILL), as a power cut would, and waits for it.
    pub async fn kill(mut self) {
        self.child.start_kill().expect("SIGKILL");
        let _ = self.child.wait().await;
        self.drain.abort();
    }

    /// Sends SIGTERM and waits for a clean exit (20 s at most); returns the last log lines.
    pub async fn terminate(mut self) -> Vec<String> {
        signal(self.pid(), "-TERM");
        let status = tokio::time::timeout(Duration::from_secs(20), self.child.wait())
            .await
            .unwrap_or_else(|_| panic!("{}: no exit within 20 s of SIGTERM", self.label))
            .expect("wait");
        let _ = tokio::time::timeout(Duration::from_secs(5), &mut self.drain).await;
        let log = self.log();
        assert!(status.success(), "exit status {status:?}: {log:#?}");
        log
    }
}

/// Sends `signal` (`-TERM`, `-STOP`, `-CONT`, …) to `pid`.
pub fn signal(pid: u32, signal: &str) {
    let sent = std::process::Command::new("kill")
        .args([signal, &pid.to_string()])
        .status()
        .expect("kill");
    assert!(sent.success(), "kill {signal} {pid}");
}

fn keep(log: &Mutex<Vec<String>>, line: String) {
    let mut log = log.lock().expect("log");
    if log.len() == KEPT_LINES {
        log.remove(0);
    }
    log.push(line);
}
