//! The process's metrics: counters, gauges and histograms kept as atomics where they are
//! recorded, and their exposition in the Prometheus text format (`GET /metrics`,
//! docs/operations.md lists every series).
//!
//! Recorded by: the HTTP connection loop (requests, by route template, method and status),
//! the hashing pool ([`HashingStats`]), the outbox sender (send results), the scheduled
//! jobs ([`Timed`]) and the security log (kept apart in [`crate::security`]). Read when
//! scraped: the database pools ([`PoolGauges`]) and the outbox's depth (one `COUNT`).
//!
//! Nothing personal goes into a label: routes are templates (`/api/v1/patrons/{card_number}`),
//! never paths; methods outside the standard set are counted as `other`.
//!
//! The text is rendered here, with the registry, rather than in the HTTP adapter: the
//! series are this layer's, and the format is small enough to write by hand.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, PoisonError, RwLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use library_credentials::PortError;
use time::OffsetDateTime;

use crate::services::JobRunner;

/// The upper bounds of the request duration histogram's buckets, in seconds (`+Inf` is
/// added when rendered).
pub const DURATION_BUCKETS: [f64; 13] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The label of a request no route matched.
pub const UNMATCHED: &str = "unmatched";

/// The methods counted under their own name; any other is `other`.
const METHODS: [&str; 8] = [
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other",
];

/// The `method` label of a request method: its name for the standard ones, else `other`
/// (a client may send any token as a method).
pub fn method_label(method: &str) -> &'static str {
    METHODS[method_index(method)]
}

fn method_index(method: &str) -> usize {
    METHODS[..METHODS.len() - 1]
        .iter()
        .position(|m| *m == method)
        .unwrap_or(METHODS.len() - 1)
}

/// One connection pool's use, read when scraped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolUse {
    /// The pool's name (`reader` and `writer` on SQLite, `main` on PostgreSQL).
    pub pool: &'static str,
    /// Connections handed out.
    pub in_use: u64,
    /// Connections open and idle.
    pub idle: u64,
    /// The most connections the pool opens.
    pub max: u64,
}

/// The database pools' use, as the outbound adapter sees it (cheap: no query).
pub trait PoolGauges: Send + Sync {
    /// Each pool's use now.
    fn pools(&self) -> Vec<PoolUse>;
}

/// The Argon2 hashing pool's figures, kept by [`crate::BlockingHasher`].
#[derive(Debug, Default)]
pub struct HashingStats {
    waiting: AtomicU64,
    admitted: AtomicU64,
    refused: AtomicU64,
}

impl HashingStats {
    /// Requests waiting for a hashing slot.
    pub fn waiting(&self) -> u64 {
        self.waiting.load(Ordering::Relaxed)
    }

    /// Hashes admitted and not finished (running, or ready for a hashing thread).
    pub fn admitted(&self) -> u64 {
        self.admitted.load(Ordering::Relaxed)
    }

    /// Requests refused (no slot within the wait: HTTP 503).
    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }

    /// A request starts waiting for a slot; the gauge goes down when the guard is dropped.
    pub(crate) fn wait(self: &Arc<Self>) -> Gauge {
        Gauge::up(self.clone(), |s| &s.waiting)
    }

    /// A hash is admitted; the gauge goes down when the guard is dropped (the hash done, or
    /// dropped unrun).
    pub(crate) fn admit(self: &Arc<Self>) -> Gauge {
        Gauge::up(self.clone(), |s| &s.admitted)
    }

    pub(crate) fn refuse(&self) {
        self.refused.fetch_add(1, Ordering::Relaxed);
    }
}

/// One unit of a [`HashingStats`] gauge, given back on drop (so a cancelled request counts
/// out too).
pub(crate) struct Gauge {
    stats: Arc<HashingStats>,
    field: fn(&HashingStats) -> &AtomicU64,
}

impl Gauge {
    fn up(stats: Arc<HashingStats>, field: fn(&HashingStats) -> &AtomicU64) -> Self {
        field(&stats).fetch_add(1, Ordering::Relaxed);
        Self { stats, field }
    }
}

impl Drop for Gauge {
    fn drop(&mut self) {
        (self.field)(&self.stats).fetch_sub(1, Ordering::Relaxed);
    }
}

/// How one outbox message's delivery ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendResult {
    /// Sent.
    Sent,
    /// Failed; tried again later.
    Retried,
    /// Failed for good (or after the last attempt).
    GivenUp,
    /// Given up unsent because its time passed (a temporary password).
    Expired,
}

impl SendResult {
    const ALL: [SendResult; 4] = [Self::Sent, Self::Retried, Self::GivenUp, Self::Expired];

    fn label(self) -> &'static str {
        match self {
            Self::Sent => "sent",
            Self::Retried => "retried",
            Self::GivenUp => "given_up",
            Self::Expired => "expired",
        }
    }
}

/// The request series of one (route, method).
#[derive(Debug, Default)]
struct RequestSeries {
    /// Non-cumulative counts per bucket of [`DURATION_BUCKETS`], the last for `+Inf`.
    buckets: [AtomicU64; DURATION_BUCKETS.len() + 1],
    sum_nanos: AtomicU64,
    count: AtomicU64,
    /// Requests by status; a status seen for the first time takes the write lock once.
    statuses: RwLock<Vec<(u16, AtomicU64)>>,
}

impl RequestSeries {
    fn record(&self, status: u16, took: Duration) {
        let seconds = took.as_secs_f64();
        let bucket = DURATION_BUCKETS
            .iter()
            .position(|le| seconds <= *le)
            .unwrap_or(DURATION_BUCKETS.len());
        self.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        let nanos = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
        self.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
        {
            let statuses = self.statuses.read().unwrap_or_else(PoisonError::into_inner);
            if let Some((_, n)) = statuses.iter().find(|(s, _)| *s == status) {
                n.fetch_add(1, Ordering::Relaxed);
                return;
            }
        }
        let mut statuses = self
            .statuses
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        match statuses.iter().find(|(s, _)| *s == status) {
            Some((_, n)) => {
                n.fetch_add(1, Ordering::Relaxed);
            }
            None => {
                statuses.push((status, AtomicU64::new(1)));
                statuses.sort_by_key(|(s, _)| *s);
            }
        }
    }
}

/// The series of one route: one per method, made on first use.
#[derive(Debug, Default)]
struct RouteSeries {
    methods: [OnceLock<RequestSeries>; METHODS.len()],
}

/// One job's runs.
#[derive(Debug, Default)]
struct JobSeries {
    ok: AtomicU64,
    failed: AtomicU64,
    last_nanos: AtomicU64,
}

/// Every series of the process. Cheap to share (`Arc`).
#[derive(Debug, Default)]
pub struct Metrics {
    routes: RwLock<HashMap<Box<str>, Arc<RouteSeries>>>,
    hashing: Arc<HashingStats>,
    sends: [AtomicU64; SendResult::ALL.len()],
    jobs: RwLock<BTreeMap<&'static str, Arc<JobSeries>>>,
    security: Arc<crate::security::SecurityLog>,
}

/// What is read from outside the registry when scraped.
#[derive(Debug, Clone, Default)]
pub struct Scraped {
    /// The database pools' use.
    pub pools: Vec<PoolUse>,
    /// Messages in the outbox not yet sent nor given up; `None` if the count failed.
    pub outbox_depth: Option<u64>,
}

impl Metrics {
    /// A registry with every figure at zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// The security events' log and counts, which the credential service records into.
    pub fn security(&self) -> Arc<crate::security::SecurityLog> {
        self.security.clone()
    }

    /// The hashing pool's figures, for [`crate::BlockingHasher::counted`].
    pub fn hashing(&self) -> Arc<HashingStats> {
        self.hashing.clone()
    }

    /// Records one HTTP request: its route template (or [`UNMATCHED`]), its method, its
    /// status and how long it took.
    pub fn record_request(&self, route: &str, method: &str, status: u16, took: Duration) {
        let series = {
            let routes = self.routes.read().unwrap_or_else(PoisonError::into_inner);
            routes.get(route).cloned()
        };
        let series = series.unwrap_or_else(|| {
            self.routes
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .entry(route.into())
                .or_default()
                .clone()
        });
        series.methods[method_index(method)]
            .get_or_init(RequestSeries::default)
            .record(status, took);
    }

    /// Records one outbox message's delivery result.
    pub fn record_send(&self, result: SendResult, n: u64) {
        self.sends[result as usize].fetch_add(n, Ordering::Relaxed);
    }

    /// Records one run of job `name`: whether it succeeded and how long it took.
    pub fn record_job(&self, name: &'static str, ok: bool, took: Duration) {
        let series = {
            let jobs = self.jobs.read().unwrap_or_else(PoisonError::into_inner);
            jobs.get(name).cloned()
        };
        let series = series.unwrap_or_else(|| {
            self.jobs
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .entry(name)
                .or_default()
                .clone()
        });
        let counter = if ok { &series.ok } else { &series.failed };
        counter.fetch_add(1, Ordering::Relaxed);
        let nanos = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
        series.last_nanos.store(nanos, Ordering::Relaxed);
    }

    /// Every series in the Prometheus text format (version 0.0.4), with `scraped`.
    pub fn render(&self, scraped: &Scraped) -> String {
        let mut out = String::with_capacity(16 * 1024);
        self.render_requests(&mut out);
        render_pools(&mut out, &scraped.pools);
        self.render_hashing(&mut out);
        self.render_outbox(&mut out, scraped.outbox_depth);
        self.render_jobs(&mut out);
        self.render_security(&mut out);
        out
    }

    fn render_requests(&self, out: &mut String) {
        let routes: Vec<(String, Arc<RouteSeries>)> = {
            let routes = self.routes.read().unwrap_or_else(PoisonError::into_inner);
            let mut all: Vec<_> = routes
                .iter()
                .map(|(r, s)| (r.to_string(), s.clone()))
                .collect();
            all.sort_by(|a, b| a.0.cmp(&b.0));
            all
        };
        header(
            out,
            "library_http_requests_total",
            "counter",
            "HTTP requests answered, by route template, method and status.",
        );
        for (route, series) in &routes {
            let route = escape(route);
            for (method, s) in METHODS.iter().zip(&series.methods) {
                let Some(s) = s.get() else { continue };
                let statuses = s.statuses.read().unwrap_or_else(PoisonError::into_inner);
                for (status, n) in statuses.iter() {
                    let _ = writeln!(
                        out,
                        "library_http_requests_total{{route=\"{route}\",method=\"{method}\",status=\"{status}\"}} {}",
                        n.load(Ordering::Relaxed)
                    );
                }
            }
        }
        header(
            out,
            "library_http_request_duration_seconds",
            "histogram",
            "Time from a request's arrival to its answer's headers, by route template and method.",
        );
        for (route, series) in &routes {
            let route = escape(route);
            for (method, s) in METHODS.iter().zip(&series.methods) {
                let Some(s) = s.get() else { continue };
                let labels = format!("route=\"{route}\",method=\"{method}\"");
                let mut cumulative = 0;
                for (i, n) in s.buckets.iter().enumerate() {
                    cumulative += n.load(Ordering::Relaxed);
                    let le = DURATION_BUCKETS
                        .get(i)
                        .map_or_else(|| "+Inf".to_owned(), |b| b.to_string());
                    let _ = writeln!(
                        out,
                        "library_http_request_duration_seconds_bucket{{{labels},le=\"{le}\"}} {cumulative}"
                    );
                }
                let sum = Duration::from_nanos(s.sum_nanos.load(Ordering::Relaxed));
                let _ = writeln!(
                    out,
                    "library_http_request_duration_seconds_sum{{{labels}}} {}",
                    sum.as_secs_f64()
                );
                let _ = writeln!(
                    out,
                    "library_http_request_duration_seconds_count{{{labels}}} {}",
                    s.count.load(Ordering::Relaxed)
                );
            }
        }
    }

    fn render_hashing(&self, out: &mut String) {
        let h = &self.hashing;
        gauge(
            out,
            "library_hashing_queue_depth",
            "Password and PIN hashes waiting for a hashing slot.",
            h.waiting(),
        );
        gauge(
            out,
            "library_hashing_in_flight",
            "Hashes admitted to the hashing threads and not finished (running or ready).",
            h.admitted(),
        );
        header(
            out,
            "library_hashing_refusals_total",
            "counter",
            "Hashes refused because no slot freed within the wait (answered 503).",
        );
        let _ = writeln!(out, "library_hashing_refusals_total {}", h.refused());
    }

    fn render_outbox(&self, out: &mut String, depth: Option<u64>) {
        if let Some(depth) = depth {
            gauge(
                out,
                "library_outbox_depth",
                "Messages in the outbox neither sent nor given up.",
                depth,
            );
        }
        header(
            out,
            "library_outbox_sends_total",
            "counter",
            "Outbox messages handled by this process's sender, by result.",
        );
        for result in SendResult::ALL {
            let _ = writeln!(
                out,
                "library_outbox_sends_total{{result=\"{}\"}} {}",
                result.label(),
                self.sends[result as usize].load(Ordering::Relaxed)
            );
        }
    }

    fn render_jobs(&self, out: &mut String) {
        let jobs: Vec<(&'static str, Arc<JobSeries>)> = self
            .jobs
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|(n, s)| (*n, s.clone()))
            .collect();
        header(
            out,
            "library_job_runs_total",
            "counter",
            "Runs of each scheduled job in this process, by outcome.",
        );
        for (job, s) in &jobs {
            for (outcome, n) in [("ok", &s.ok), ("failed", &s.failed)] {
                let _ = writeln!(
                    out,
                    "library_job_runs_total{{job=\"{job}\",outcome=\"{outcome}\"}} {}",
                    n.load(Ordering::Relaxed)
                );
            }
        }
        header(
            out,
            "library_job_last_duration_seconds",
            "gauge",
            "How long each scheduled job's last run in this process took.",
        );
        for (job, s) in &jobs {
            let took = Duration::from_nanos(s.last_nanos.load(Ordering::Relaxed));
            let _ = writeln!(
                out,
                "library_job_last_duration_seconds{{job=\"{job}\"}} {}",
                took.as_secs_f64()
            );
        }
    }

    fn render_security(&self, out: &mut String) {
        header(
            out,
            "library_security_events_total",
            "counter",
            "Security events since the process started.",
        );
        for (event, count) in self.security.counts() {
            let _ = writeln!(
                out,
                "library_security_events_total{{event=\"{event}\"}} {count}"
            );
        }
    }
}

fn render_pools(out: &mut String, pools: &[PoolUse]) {
    type Field = fn(&PoolUse) -> u64;
    let gauges: [(&str, &str, Field); 3] = [
        (
            "library_db_pool_connections_in_use",
            "Database connections handed out, by pool.",
            |p| p.in_use,
        ),
        (
            "library_db_pool_connections_idle",
            "Database connections open and idle, by pool.",
            |p| p.idle,
        ),
        (
            "library_db_pool_connections_max",
            "The most connections each pool opens.",
            |p| p.max,
        ),
    ];
    for (name, help, field) in gauges {
        header(out, name, "gauge", help);
        for p in pools {
            let _ = writeln!(out, "{name}{{pool=\"{}\"}} {}", p.pool, field(p));
        }
    }
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

fn gauge(out: &mut String, name: &str, help: &str, value: u64) {
    header(out, name, "gauge", help);
    let _ = writeln!(out, "{name} {value}");
}

/// A label value escaped as the text format asks (backslash, double quote, newline).
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// A scheduled job under its name, its runs counted and timed in [`Metrics`].
#[derive(Clone)]
pub struct Timed {
    name: &'static str,
    job: Arc<dyn JobRunner>,
    metrics: Arc<Metrics>,
}

impl Timed {
    /// `job`, recorded as `name`.
    pub fn new(name: &'static str, job: Arc<dyn JobRunner>, metrics: Arc<Metrics>) -> Self {
        Self { name, job, metrics }
    }
}

impl std::fmt::Debug for Timed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Timed")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl JobRunner for Timed {
    async fn run_all(&self, now: OffsetDateTime) -> Result<(), PortError> {
        let started = Instant::now();
        let result = self.job.run_all(now).await;
        self.metrics
            .record_job(self.name, result.is_ok(), started.elapsed());
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_lands_in_its_bucket_and_buckets_render_cumulative() {
        let m = Metrics::new();
        let route = "/api/v1/patrons/{card_number}";
        m.record_request(route, "GET", 200, Duration::from_micros(800));
        m.record_request(route, "GET", 404, Duration::from_millis(30));
        m.record_request(route, "GET", 200, Duration::from_secs(11));
        m.record_request(route, "BREW", 405, Duration::from_millis(1));
        let text = m.render(&Scraped::default());
        let line = |l: &str| assert!(text.lines().any(|x| x == l), "{l} missing in\n{text}");
        let labels = "route=\"/api/v1/patrons/{card_number}\",method=\"GET\"";
        line(&format!(
            "library_http_requests_total{{{labels},status=\"200\"}} 2"
        ));
        line(&format!(
            "library_http_requests_total{{{labels},status=\"404\"}} 1"
        ));
        line(&format!(
            "library_http_requests_total{{route=\"{route}\",method=\"other\",status=\"405\"}} 1"
        ));
        line(&format!(
            "library_http_request_duration_seconds_bucket{{{labels},le=\"0.001\"}} 1"
        ));
        line(&format!(
            "library_http_request_duration_seconds_bucket{{{labels},le=\"0.025\"}} 1"
        ));
        line(&format!(
            "library_http_request_duration_seconds_bucket{{{labels},le=\"0.05\"}} 2"
        ));
        line(&format!(
            "library_http_request_duration_seconds_bucket{{{labels},le=\"10\"}} 2"
        ));
        line(&format!(
            "library_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} 3"
        ));
        line(&format!(
            "library_http_request_duration_seconds_count{{{labels}}} 3"
        ));
        line(&format!(
            "library_http_request_duration_seconds_sum{{{labels}}} 11.0308"
        ));
    }

    #[test]
    fn the_hashing_gauges_go_down_when_their_guards_drop() {
        let stats = Arc::new(HashingStats::default());
        let waiting = stats.wait();
        let admitted = stats.admit();
        let second = stats.admit();
        assert_eq!((stats.waiting(), stats.admitted()), (1, 2));
        drop(waiting);
        drop(second);
        assert_eq!((stats.waiting(), stats.admitted()), (0, 1));
        drop(admitted);
        stats.refuse();
        assert_eq!((stats.admitted(), stats.refused()), (0, 1));
    }

    #[test]
    fn unknown_methods_are_other() {
        assert_eq!(method_label("GET"), "GET");
        assert_eq!(method_label("DELETE"), "DELETE");
        assert_eq!(method_label("get"), "other");
        assert_eq!(method_label("PROPFIND"), "other");
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
