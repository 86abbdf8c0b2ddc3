//! The real binary: starts on a free port, logs where it listens, stops on SIGTERM.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

use crate::support::TestDb;

#[tokio::test]
async fn the_binary_serves_and_stops_cleanly_on_sigterm() {
    let db = TestDb::sqlite();
    let mut child = Command::new(env!("CARGO_BIN_EXE_library-server"))
        .env("LIBRARY_HTTP_ADDR", "127.0.0.1:0")
        .env("LIBRARY_DATABASE_URL", db.url())
        .env_remove("LIBRARY_ADMIN_PASSWORD")
        .env_remove("LIBRARY_DEV_CLOCK")
        .env_remove("LIBRARY_CONFIG")
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("start library-server");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut seen = Vec::new();
    let addr = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await.expect("read log") {
            seen.push(line.clone());
            if let Some((_, rest)) = line.split_once("listening on http://") {
                return rest.split_whitespace().next().map(str::to_owned);
            }
        }
        None
    })
    .await
    .expect("listening within 60 s")
    .unwrap_or_else(|| panic!("no `listening on` line in {seen:#?}"));
    assert!(
        seen.iter().any(|l| l.contains("random password")),
        "the random admin password is logged once: {seen:#?}"
    );

    let health = reqwest::get(format!("http://{addr}/health"))
        .await
        .expect("health");
    assert_eq!(health.status(), 200);

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
    let rest = drain.await.expect("drain");
    let listening = seen
        .iter()
        .chain(&rest)
        .filter(|l| l.contains("listening on http://"))
        .count();
    assert_eq!(listening, 1);
}
