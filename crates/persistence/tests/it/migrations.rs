//! Several server processes may start on one empty PostgreSQL database at the same instant:
//! each must come up with the schema migrated once.

use crate::support::backends;

#[tokio::test]
async fn processes_starting_together_on_an_empty_database_all_come_up() {
    for t in backends().await {
        if t.label() != "postgres" {
            continue;
        }
        let url = t.url();
        let starts = (0..4).map(|_| {
            let url = url.clone();
            tokio::spawn(async move { library_persistence::Database::connect(&url).await })
        });
        for start in starts.collect::<Vec<_>>() {
            let db = start
                .await
                .unwrap()
                .unwrap_or_else(|e| panic!("{}: a process failed to start: {e}", t.name));
            assert!(db.libraries().list().await.unwrap().is_empty());
        }
    }
}

/// A role that may not create the `pg_trgm` extension cannot migrate, and is told why; once
/// an administrator has created it, the same role migrates.
#[tokio::test]
async fn without_pg_trgm_the_migration_says_what_to_do() {
    let Ok(admin_url) = std::env::var(library_persistence::testing::POSTGRES_URL_VAR) else {
        return;
    };
    let suffix = format!(
        "{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos()
    );
    let (role, database) = (format!("lib_role_{suffix}"), format!("lib_test_{suffix}"));
    let run = |url: String, sql: String| async move {
        let conn = sea_orm::Database::connect(&url).await.unwrap();
        sea_orm::ConnectionTrait::execute_unprepared(&conn, &sql)
            .await
            .unwrap();
        conn.close().await.unwrap();
    };
    let base = admin_url.split('?').next().unwrap_or(&admin_url);
    let (server, _) = base.rsplit_once('/').unwrap();
    let (scheme, rest) = server.split_once("://").unwrap();
    let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    let as_admin = format!("{server}/{database}");
    let as_role = format!("{scheme}://{role}@{host}/{database}");
    run(admin_url.clone(), format!("CREATE ROLE {role} LOGIN")).await;
    run(admin_url.clone(), format!("CREATE DATABASE {database}")).await;
    // Tables in `public`, but no CREATE on the database: no extension.
    run(
        as_admin.clone(),
        format!("GRANT CREATE ON SCHEMA public TO {role}"),
    )
    .await;
    let refused = library_persistence::Database::connect(&as_role)
        .await
        .err()
        .map(|e| e.to_string());
    let admitted = match refused {
        Some(_) => {
            run(as_admin.clone(), "CREATE EXTENSION pg_trgm".into()).await;
            match library_persistence::Database::connect(&as_role).await {
                Ok(db) => db.close().await.map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            }
        }
        None => Err("not refused".into()),
    };
    run(
        admin_url.clone(),
        format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)"),
    )
    .await;
    run(admin_url, format!("DROP ROLE IF EXISTS {role}")).await;
    let text = refused.expect("a role without CREATE on the database migrated");
    assert!(
        text.contains("pg_trgm") && text.contains("CREATE EXTENSION"),
        "{text}"
    );
    admitted.expect("once the extension exists, the role migrates");
}
