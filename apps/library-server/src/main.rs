//! `library-server`: the library system's server. Configuration: see `Config` and
//! http-api.md "Running the server". One argument is understood: `--demo` (as
//! `LIBRARY_DEMO=1`: load the demo data set into an empty database, see `demo.rs`).

use std::process::ExitCode;

use library_server::{Application, Config};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .init();

    let mut config = match Config::from_env() {
        Ok(config) => config,
        Err(err) => {
            tracing::error!("configuration: {err}");
            return ExitCode::FAILURE;
        }
    };
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--demo" => config.demo = true,
            other => {
                tracing::error!(
                    "unknown argument {other:?}: the only argument is --demo \
                     (everything else is configured by LIBRARY_* variables)"
                );
                return ExitCode::from(2);
            }
        }
    }
    let app = match Application::build(&config).await {
        Ok(app) => app,
        Err(err) => {
            tracing::error!("cannot start: {err}");
            return ExitCode::FAILURE;
        }
    };
    if config.demo
        && let Err(err) = library_server::demo::load_on_start(&config).await
    {
        tracing::error!("demo data: {err}");
        return ExitCode::FAILURE;
    }
    match app.run_until(shutdown_signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("server failed: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Completes on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(%err, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut sig) => {
                sig.recv().await;
            }
            Err(err) => {
                tracing::error!(%err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("Ctrl-C: shutting down"),
        () = term => tracing::info!("SIGTERM: shutting down"),
    }
}
