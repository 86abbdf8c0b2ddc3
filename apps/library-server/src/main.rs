//! `library-server`: the library system's server. Configuration: see `Config` and
//! docs/operations.md, "Running the server". Two arguments are understood: `--demo` (as
//! `LIBRARY_DEMO=1`: load the demo data set into an empty database, see `library_setup::demo`) and
//! `--sip2[=ADDR]` (serve SIP2, at `ADDR` or `LIBRARY_SIP2_ADDR` or 127.0.0.1:6001).

use std::process::ExitCode;

use library_server::Application;
use library_setup::Config;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    // The migrator logs two lines per migration at info: on a first start they would bury
    // the one line a new operator needs (the `admin` user's password). Its warnings stay.
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sea_orm_migration=warn"));
    // `LIBRARY_LOG_FORMAT=json`: one JSON object a line, with the request's span (its id).
    match std::env::var("LIBRARY_LOG_FORMAT").as_deref() {
        Ok("json") => tracing_subscriber::fmt()
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .with_env_filter(filter)
            .init(),
        Ok("text") | Ok("") | Err(_) => tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
            .init(),
        Ok(other) => {
            tracing_subscriber::fmt().with_env_filter(filter).init();
            tracing::error!("LIBRARY_LOG_FORMAT: expected `text` or `json`, got {other:?}");
            return ExitCode::FAILURE;
        }
    }

    let shutdown = shutdown_signal();
    let mut config = match Config::from_env() {
        Ok(config) => config,
        Err(err) => {
            tracing::error!("configuration: {err}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(err) = config.apply_args(std::env::args().skip(1)) {
        tracing::error!("{err}");
        return ExitCode::from(2);
    }
    let app = match Application::build(&config).await {
        Ok(app) => app,
        Err(err) => {
            tracing::error!("cannot start: {err}");
            return ExitCode::FAILURE;
        }
    };
    if config.demo
        && let Err(err) = library_setup::demo::load_on_start(&config).await
    {
        tracing::error!("demo data: {err}");
        return ExitCode::FAILURE;
    }
    match app.run_until(shutdown).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("server failed: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Completes on Ctrl-C or SIGTERM. The SIGTERM handler is installed when this is called,
/// not when the future is first polled: a SIGTERM sent as soon as the listeners log that
/// they accept (the SIP2 one logs from its own task) must stop the server gracefully, not
/// kill it.
fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    let term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate());
    async move {
        let ctrl_c = async {
            if let Err(err) = tokio::signal::ctrl_c().await {
                tracing::error!(%err, "cannot listen for Ctrl-C");
                std::future::pending::<()>().await;
            }
        };
        #[cfg(unix)]
        let term = async {
            match term {
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
}
