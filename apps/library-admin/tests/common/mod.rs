//! What the tests of the `library-admin` binary share: running it.

use std::io::Write;
use std::process::{Command, Output, Stdio};

/// What a run of the binary gave.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// Runs `library-admin ARGS` with `LIBRARY_DATABASE_URL=db_url`, `stdin` written to its
/// input (blocking: run it off the async runtime).
fn admin_blocking(db_url: &str, args: &[&str], stdin: Option<&str>) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_library-admin"))
        .args(args)
        .env("LIBRARY_DATABASE_URL", db_url)
        .env_remove("LIBRARY_CONFIG")
        .env_remove("RUST_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start library-admin");
    let mut input = child.stdin.take().expect("stdin");
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).expect("write stdin");
    }
    drop(input);
    let Output {
        status,
        stdout,
        stderr,
    } = child.wait_with_output().expect("wait");
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

/// `library-admin ARGS` with `LIBRARY_DATABASE_URL=db_url` and `stdin` (off the async
/// runtime).
pub async fn admin(db_url: &str, args: &[&str], stdin: Option<&str>) -> Run {
    let url = db_url.to_owned();
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    let stdin = stdin.map(str::to_owned);
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        admin_blocking(&url, &args, stdin.as_deref())
    })
    .await
    .expect("join")
}
