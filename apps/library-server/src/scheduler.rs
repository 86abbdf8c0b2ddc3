//! Runs scheduled work (housekeeping: hold expiry, the purge of stale guessing rows; and the
//! delivery of the outbox, each on its own timer) every period, in one of the server
//! processes sharing the database: each tick takes the period's lease of that work
//! (`library_persistence::JobLeaseStore`, by name) and only the process that gets it runs
//! it. The first tick is at start, so holds that expired while no server ran
//! are expired at once.
//!
//! The lease is measured on the services' clock, so with the development clock the jobs
//! run once per period of that clock: after it is moved on, not again while it stands.

use std::sync::Arc;
use std::time::Duration;

use library_app::JobRunner;
use library_core::Clock;
use library_persistence::JobLeaseStore;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Scheduled work, its lease's name, the clock and the period.
pub(crate) struct Scheduler {
    pub(crate) name: &'static str,
    pub(crate) jobs: Arc<dyn JobRunner>,
    pub(crate) leases: JobLeaseStore,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) every: Duration,
}

impl Scheduler {
    /// Ticks every period until `stopped` turns true; a run in progress finishes first
    /// (each of its steps is a transaction of its own).
    pub(crate) fn spawn(self, mut stopped: watch::Receiver<bool>) -> JoinHandle<()> {
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(self.every);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                let stop = tokio::select! {
                    _ = ticks.tick() => false,
                    _ = stopped.wait_for(|stop| *stop) => true,
                };
                if stop {
                    break;
                }
                self.tick().await;
            }
        })
    }

    /// One tick: the jobs, if this process takes the period's lease.
    async fn tick(&self) {
        let now = self.clock.now();
        let every = time::Duration::try_from(self.every).unwrap_or(time::Duration::MAX);
        match self
            .leases
            .try_start(self.name, now, lease_for(every))
            .await
        {
            Ok(true) => {
                if let Err(err) = self.jobs.run_all(now).await {
                    tracing::error!(%err, work = self.name, "scheduled work failed");
                }
            }
            Ok(false) => {
                tracing::debug!(work = self.name, "another process runs this period's work")
            }
            Err(err) => {
                tracing::error!(%err, work = self.name, "could not take the scheduled work's lease")
            }
        }
    }
}

/// The lease a tick takes for a period of `every`: a little shorter than the period. The
/// timer's ticks are exactly a period apart, but the clock is read a few microseconds to
/// milliseconds after each one; with a lease of the full period the next tick would often
/// find the last lease a hair short of over and skip, running the work every second period
/// (seen: a Password-change notice waited 18 s for the 10 s delivery). Five per cent of the
/// period, at most one second, absorbs that, and two processes still never both run
/// within 95 % of a period.
fn lease_for(every: time::Duration) -> time::Duration {
    let slack: time::Duration = every / 20_i32;
    every - slack.min(time::Duration::SECOND)
}

#[cfg(test)]
mod tests {
    use super::lease_for;
    use time::Duration;

    #[test]
    fn the_lease_is_the_period_less_five_per_cent_at_most_a_second() {
        assert_eq!(
            lease_for(Duration::seconds(10)),
            Duration::milliseconds(9_500)
        );
        assert_eq!(lease_for(Duration::minutes(5)), Duration::seconds(299));
        assert_eq!(lease_for(Duration::seconds(1)), Duration::milliseconds(950));
    }
}
