//! The scheduled jobs' leases: one run per period, however many processes ask.

use library_persistence::Database;
use time::Duration;

use crate::support::{T0, backends};

const EVERY: Duration = Duration::minutes(5);

#[tokio::test]
async fn a_lease_is_taken_once_per_period_and_survives_a_clock_set_back() {
    for t in backends().await {
        let db = t.connect().await;
        let leases = db.job_leases();
        let take = |at| {
            let leases = leases.clone();
            async move { leases.try_start("scheduled_jobs", at, EVERY).await.unwrap() }
        };
        assert!(take(T0).await, "{}: the first lease", t.name);
        assert!(!take(T0).await, "{}: the same instant again", t.name);
        let micro = Duration::microseconds(1);
        assert!(
            !take(T0 + EVERY - micro).await,
            "{}: the period's last µs",
            t.name
        );
        assert!(take(T0 + EVERY).await, "{}: the next period", t.name);
        // Another job has a lease of its own.
        assert!(
            leases
                .try_start("other_job", T0 + EVERY, EVERY)
                .await
                .unwrap(),
            "{}",
            t.name
        );
        // A process whose clock is a little behind does not run it again.
        assert!(!take(T0 + EVERY - Duration::seconds(3)).await, "{}", t.name);
        // The clock set back a day (the development clock): the lease taken "in the
        // future" is void, and the new one holds for its period.
        let back = T0 - Duration::days(1);
        assert!(take(back).await, "{}: after the clock was set back", t.name);
        assert!(!take(back + Duration::minutes(1)).await, "{}", t.name);
        db.close().await.unwrap();
    }
}

/// Twenty attempts at once from two processes (two pools) on one database, their clocks a
/// few milliseconds apart: exactly one takes the period's lease.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_twenty_parallel_attempts_from_two_processes_exactly_one_runs() {
    for t in backends().await {
        let first = t.connect().await;
        let second = t.connect().await;
        let tasks: Vec<_> = (0..20)
            .map(|n| {
                let db: &Database = if n % 2 == 0 { &first } else { &second };
                let leases = db.job_leases();
                tokio::spawn(async move {
                    leases
                        .try_start("scheduled_jobs", T0 + Duration::milliseconds(n), EVERY)
                        .await
                })
            })
            .collect();
        let mut taken = 0;
        for task in tasks {
            if task.await.unwrap().unwrap() {
                taken += 1;
            }
        }
        assert_eq!(taken, 1, "{}", t.name);
        first.close().await.unwrap();
        second.close().await.unwrap();
    }
}
