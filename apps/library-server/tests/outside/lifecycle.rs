//! The process's life: a stop on SIGTERM, a power cut (SIGKILL) and a restart on the same
//! database, which the server migrates and serves again without a step by hand.

use serde_json::json;

use crate::server::{Options, Server};
use crate::support::{standard_rules, test_databases};

#[tokio::test(flavor = "multi_thread")]
#[ignore = "outside-in suite: run by `cargo xtask outside`"]
async fn a_killed_server_restarts_on_its_database_with_what_it_acknowledged() {
    for db in test_databases().await {
        let url = db.url();
        let label = db.label();
        let server = Server::start(&url, label, &Options::default()).await;
        let app = server.app();
        let staff = app.staff_token().await;
        app.library(&staff, "CEN", "district").await;
        app.rules(&staff, json!({}), standard_rules())
            .await
            .expect(200, "");
        let title = app.title(&staff, "A Brief History of Hong Kong").await;
        app.item(&staff, title, "B0001", "CEN").await;
        let card = app.reader(&staff, "91234567").await;
        app.checkout(&staff, &card, "B0001", "CEN")
            .await
            .expect(201, "");
        server.kill().await;

        let server = Server::start(&url, label, &Options::default()).await;
        let app = server.app();
        let staff = app.staff_token().await;
        assert_eq!(
            app.loan_library("B0001").await.as_deref(),
            Some("CEN"),
            "{label}: the acknowledged loan is there after the restart"
        );
        app.get(&format!("/api/v1/patrons/{card}"), Some(&staff))
            .await
            .expect(200, "");
        let log = server.terminate().await;
        assert!(
            log.iter().any(|l| l.contains("listening on http://")),
            "{label}: {log:#?}"
        );
    }
}
