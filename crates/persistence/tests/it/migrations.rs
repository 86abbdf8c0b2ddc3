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
