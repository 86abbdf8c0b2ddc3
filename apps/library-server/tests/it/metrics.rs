//! `GET /metrics`: requests counted under their route templates (never a card number),
//! the duration histogram, the pools, the hashing queue, the outbox and the jobs, all in
//! valid Prometheus text.

use serde_json::json;

use crate::support::{TestApp, on_every_backend};

/// The body of `GET /metrics`, checked to be well-formed Prometheus text.
async fn scrape(app: &TestApp) -> String {
    let (status, content_type, text) = app.get_text("/metrics", None, None).await;
    assert_eq!(status, 200, "{}", app.db);
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    check_exposition(&text);
    text
}

/// Every line is a `# HELP` or `# TYPE` line, or a sample `name{labels} value` whose name
/// belongs to the family last typed (`_bucket`, `_sum`, `_count` for a histogram), whose
/// labels are `key="value"` pairs, and whose value is a number. Each family is typed once,
/// before its samples.
fn check_exposition(text: &str) {
    let mut typed: Vec<(String, String)> = Vec::new();
    let mut helped: Vec<String> = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest.split_once(' ').expect("HELP name text");
            assert!(is_name(name) && !help.is_empty(), "bad HELP: {line}");
            helped.push(name.to_owned());
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("TYPE name kind");
            assert!(is_name(name), "bad TYPE: {line}");
            assert!(
                ["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind),
                "bad TYPE: {line}"
            );
            assert!(!typed.iter().any(|(n, _)| n == name), "{name} typed twice");
            assert_eq!(helped.last().map(String::as_str), Some(name), "{line}");
            typed.push((name.to_owned(), kind.to_owned()));
            continue;
        }
        assert!(
            !line.starts_with('#') && !line.is_empty(),
            "bad line: {line:?}"
        );
        let (series, value) = line.rsplit_once(' ').expect("sample: series value");
        assert!(
            value.parse::<f64>().is_ok() || ["+Inf", "-Inf", "NaN"].contains(&value),
            "bad value: {line}"
        );
        let (name, labels) = match series.split_once('{') {
            Some((name, labels)) => (
                name,
                labels.strip_suffix('}').unwrap_or_else(|| panic!("{line}")),
            ),
            None => (series, ""),
        };
        assert!(is_name(name), "bad name: {line}");
        check_labels(labels, line);
        let (family, kind) = typed.last().unwrap_or_else(|| panic!("untyped: {line}"));
        let fits = match kind.as_str() {
            "histogram" => ["_bucket", "_sum", "_count"]
                .iter()
                .any(|s| name.strip_suffix(s) == Some(family.as_str())),
            _ => name == family,
        };
        assert!(fits, "{line} is not of the family {family}");
    }
}

fn is_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// `key="value",…` with the value's quotes and backslashes escaped.
fn check_labels(mut labels: &str, line: &str) {
    while !labels.is_empty() {
        let (key, rest) = labels.split_once("=\"").unwrap_or_else(|| panic!("{line}"));
        assert!(is_name(key), "bad label name: {line}");
        let mut end = None;
        let mut escaped = false;
        for (i, c) in rest.char_indices() {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => {
                    end = Some(i);
                    break;
                }
                _ => {}
            }
        }
        let end = end.unwrap_or_else(|| panic!("unterminated label: {line}"));
        labels = &rest[end + 1..];
        labels = labels.strip_prefix(',').unwrap_or(labels);
        assert!(!labels.starts_with(','), "{line}");
    }
}

/// The value of the sample `series` (the text before its value), if present.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|l| {
        l.strip_prefix(series)
            .and_then(|rest| rest.strip_prefix(' '))
            .map(|v| v.parse().expect("number"))
    })
}

#[track_caller]
fn has(text: &str, series: &str, value: f64) {
    assert_eq!(sample(text, series), Some(value), "{series} in\n{text}");
}

#[tokio::test]
async fn requests_are_counted_under_their_route_templates_never_their_paths() {
    on_every_backend(false, async |app| {
        let staff = app.staff_token().await;
        let card = app
            .post(
                "/api/v1/patrons",
                Some(&staff),
                json!({"name": "Chan Tai Man", "phone": "9123 4567",
                       "category": "adult", "home_library": "CEN"}),
            )
            .await
            .expect(201, "")
            .body["card_number"]
            .as_str()
            .expect("card")
            .to_owned();
        let unknown = "21000099999999";
        let history = |card: &str| format!("/api/v1/patrons/{card}/reading-history");
        app.get(&history(&card), Some(&staff)).await.expect(200, "");
        app.get(&history(unknown), Some(&staff))
            .await
            .expect(404, "not_found");
        app.get(&history(&card), None)
            .await
            .expect(401, "unauthorized");
        app.get(&format!("/api/v1/nowhere/{card}"), None)
            .await
            .expect(404, "not_found");

        let text = scrape(app).await;
        let route = "/api/v1/patrons/{card_number}/reading-history";
        let requests = |route: &str, method: &str, status: u16| {
            format!(
                "library_http_requests_total{{route=\"{route}\",method=\"{method}\",status=\"{status}\"}}"
            )
        };
        has(&text, &requests(route, "GET", 200), 1.0);
        has(&text, &requests(route, "GET", 404), 1.0);
        has(&text, &requests(route, "GET", 401), 1.0);
        has(&text, &requests("/api/v1/staff/login", "POST", 200), 1.0);
        has(&text, &requests("/api/v1/patrons", "POST", 201), 1.0);
        has(&text, &requests("unmatched", "GET", 404), 1.0);
        assert!(!text.contains(&card), "a card number in /metrics");
        assert!(!text.contains(unknown), "a card number in /metrics");
        assert!(!text.contains("nowhere"), "a concrete path in /metrics");

        // The histogram: cumulative buckets ending at +Inf, which equals `_count`, which
        // equals the requests made on the route.
        let labels = format!("route=\"{route}\",method=\"GET\"");
        let buckets: Vec<(String, f64)> = text
            .lines()
            .filter_map(|l| {
                let rest = l.strip_prefix(&format!(
                    "library_http_request_duration_seconds_bucket{{{labels},le=\""
                ))?;
                let (le, value) = rest.split_once("\"} ").expect("bucket");
                Some((le.to_owned(), value.parse().expect("number")))
            })
            .collect();
        assert_eq!(buckets.len(), 14, "{text}");
        assert_eq!(buckets.last().expect("+Inf").0, "+Inf");
        for pair in buckets.windows(2) {
            assert!(pair[0].1 <= pair[1].1, "not cumulative: {buckets:?}");
            if pair[1].0 != "+Inf" {
                let (a, b): (f64, f64) = (pair[0].0.parse().unwrap(), pair[1].0.parse().unwrap());
                assert!(a < b, "bounds not increasing: {buckets:?}");
            }
        }
        has(&text, &format!("library_http_request_duration_seconds_count{{{labels}}}"), 3.0);
        assert_eq!(buckets.last().expect("+Inf").1, 3.0);
        let sum = sample(&text, &format!("library_http_request_duration_seconds_sum{{{labels}}}"))
            .expect("sum");
        assert!(sum > 0.0 && sum < 30.0, "{sum}");

        // A scrape is counted once it is answered: the next one shows the first.
        let again = scrape(app).await;
        has(&again, &requests("/metrics", "GET", 200), 1.0);
        // The security events are kept, every one listed.
        has(&again, "library_security_events_total{event=\"pin_disabled\"}", 0.0);
    })
    .await;
}

#[tokio::test]
async fn the_pools_the_hashing_queue_the_outbox_and_the_jobs_are_shown() {
    on_every_backend(true, async |app| {
        let staff = app.staff_token().await;
        app.post(
            "/api/v1/patrons",
            Some(&staff),
            json!({"name": "Chan Tai Man", "phone": "9123 4567", "email": "tm@example.com",
                   "category": "adult", "home_library": "CEN"}),
        )
        .await
        .expect(201, "");
        app.post(
            "/api/v1/auth/password-reset",
            None,
            json!({"email": "tm@example.com"}),
        )
        .await
        .expect(202, "");
        let unsent = app
            .outbox()
            .await
            .iter()
            .filter(|n| n.sent_at.is_none())
            .count();
        assert!(unsent >= 1, "{}: the reset's message is queued", app.db);

        let text = scrape(app).await;
        has(&text, "library_outbox_depth", unsent as f64);
        has(&text, "library_outbox_sends_total{result=\"sent\"}", 0.0);
        // A Password login hashed once, none waits now, none was refused.
        has(&text, "library_hashing_queue_depth", 0.0);
        has(&text, "library_hashing_in_flight", 0.0);
        has(&text, "library_hashing_refusals_total", 0.0);
        let pools: &[(&str, f64)] = match app.db {
            "sqlite" => &[("reader", 16.0), ("writer", 1.0)],
            _ => &[("main", 10.0)],
        };
        for (pool, expected_max) in pools {
            let max = sample(&text, &format!("library_db_pool_connections_max{{pool=\"{pool}\"}}"))
                .unwrap_or_else(|| panic!("{}: no pool {pool} in\n{text}", app.db));
            let in_use =
                sample(&text, &format!("library_db_pool_connections_in_use{{pool=\"{pool}\"}}"))
                    .expect("in use");
            let idle = sample(&text, &format!("library_db_pool_connections_idle{{pool=\"{pool}\"}}"))
                .expect("idle");
            assert_eq!(max, *expected_max, "{}: {pool}", app.db);
            assert!(in_use + idle <= max, "{pool}: {in_use} + {idle} > {max}");
        }
        assert!(!text.contains("library_job_runs_total{"), "no job ran yet");

        app.run_jobs().await;
        let text = scrape(app).await;
        for job in [
            "holds_and_guessing",
            "reminders",
            "anonymisation",
            "visitor_purge",
            "outbox_delivery",
        ] {
            has(&text, &format!("library_job_runs_total{{job=\"{job}\",outcome=\"ok\"}}"), 1.0);
            has(&text, &format!("library_job_runs_total{{job=\"{job}\",outcome=\"failed\"}}"), 0.0);
            let took = sample(&text, &format!("library_job_last_duration_seconds{{job=\"{job}\"}}"))
                .expect("duration");
            assert!((0.0..60.0).contains(&took), "{job}: {took}");
        }
        has(&text, "library_outbox_sends_total{result=\"sent\"}", unsent as f64);
        has(&text, "library_outbox_depth", 0.0);
        has(
            &text,
            "library_http_requests_total{route=\"/api/v1/dev/jobs/run\",method=\"POST\",status=\"204\"}",
            1.0,
        );
        assert!(!text.contains("tm@example.com"), "an email in /metrics");
    })
    .await;
}
