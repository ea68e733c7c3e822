//! The metric catalogue pushed over OTLP instead of scraped: a live Prometheus 3 with its OTLP
//! receiver on (and no scrape target at all) gets every family from
//! `only1mcp_obs::metrics::otlp`, every series under the name and labels it has on the scrape
//! page, so every panel of the generated dashboards returns data; on both backends (process,
//! container), over OTLP/HTTP; over gRPC to the testkit's OTLP receiver (Prometheus takes no
//! gRPC). Prometheus 2.42 has no OTLP receiver: the testkit says so instead of starting it.

use only1mcp_obs::metrics::otlp::{MetricsPusher, OtlpMetricsConfig, otlp_name};
use only1mcp_obs::trace::{OtlpProtocol, TracingConfig};
use only1mcp_obs_e2e::catalogue;
use only1mcp_obs_testkit::backend::Backend;
use only1mcp_obs_testkit::generation::Generation;
use only1mcp_obs_testkit::prometheus::{Prometheus, PrometheusConfig};
use only1mcp_obs_testkit::stack::LiveStack;
use only1mcp_obs_testkit::traces::OtlpReceiver;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

const DEADLINE: Duration = Duration::from_secs(20);

/// The registry is process-wide and each test compares all of it: they take turns.
fn exclusive() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A series: its name and labels, `le` as a number (Prometheus spells `1` and `1.0` alike).
type SeriesKey = (String, BTreeMap<String, String>);

fn series_key(name: &str, labels: impl IntoIterator<Item = (String, String)>) -> SeriesKey {
    let labels = labels
        .into_iter()
        .map(|(k, v)| match (k.as_str(), v.parse::<f64>()) {
            ("le", Ok(bound)) => (k, bound.to_string()),
            _ => (k, v),
        })
        .collect();
    (name.to_owned(), labels)
}

/// One sample line of the text page: `name{a="b",...} value`.
fn page_series(line: &str) -> Option<SeriesKey> {
    let end = line.find(['{', ' '])?;
    let name = &line[..end];
    let mut labels = Vec::new();
    if line[end..].starts_with('{') {
        let mut rest = &line[end + 1..];
        while let Some((key, after)) = rest.split_once("=\"") {
            let mut value = String::new();
            let mut chars = after.char_indices();
            let mut close = after.len();
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, escaped)) = chars.next() {
                            value.push(if escaped == 'n' { '\n' } else { escaped });
                        }
                    }
                    '"' => {
                        close = i;
                        break;
                    }
                    c => value.push(c),
                }
            }
            labels.push((key.trim_start_matches(',').to_owned(), value));
            rest = after.get(close + 1..)?;
            if rest.starts_with('}') {
                break;
            }
        }
    }
    Some(series_key(name, labels))
}

/// Every series on this process's own scrape page.
fn page() -> BTreeSet<SeriesKey> {
    only1mcp_obs::metrics::encode_text()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(page_series)
        .collect()
}

/// Every series Prometheus holds under `job`, without the labels the push adds (`job`,
/// `instance`), and without `target_info`, which is the resource.
fn held(p: &Prometheus, job: &str) -> BTreeSet<SeriesKey> {
    p.query(&format!(r#"{{job="{job}"}}"#))
        .unwrap_or_default()
        .into_iter()
        .filter_map(|s| {
            let mut labels = s.labels;
            let name = labels.remove("__name__")?;
            labels.remove("job");
            labels.remove("instance");
            (name != "target_info").then(|| series_key(&name, labels))
        })
        .collect()
}

fn pushed(backend: Backend) {
    let test = format!("otlp_metrics[{backend}, prometheus3]");
    if !backend.announce_for(&test, Generation::Current) {
        return;
    }
    let _guard = exclusive();
    let stack = LiveStack::builder(backend)
        .generation(Generation::Current)
        .otlp_receiver()
        .start()
        .expect("live stack");
    let p = &stack.prometheus;
    let service = format!("otlp-metrics-{backend}");
    let tracing = TracingConfig {
        service_name: service.clone(),
        ..Default::default()
    };
    let config = OtlpMetricsConfig {
        endpoint: Some(p.otlp_metrics_url()),
        // The push interval, not a wait: the test polls Prometheus with a deadline.
        interval_seconds: 0.25,
        ..Default::default()
    };
    let pusher = MetricsPusher::start(&config, &tracing)
        .expect("config")
        .expect("an endpoint");
    let traffic = catalogue::Traffic::start();

    catalogue::every_panel_returns_data(p, &catalogue::panel_queries());

    // The resource becomes `job` (namespace/name), as the OpenTelemetry-to-Prometheus mapping says.
    let job = format!("{}/{service}", tracing.namespace);
    // Every series on the scrape page arrives under the same name and labels, and nothing
    // else does (checked once traffic stops, so both sides hold the same series).
    drop(traffic);
    let (mut missing, mut extra) = (Vec::new(), Vec::new());
    let _ = only1mcp_obs_testkit::poll(DEADLINE, || {
        let (expected, held) = (page(), held(p, &job));
        missing = expected.difference(&held).cloned().collect();
        extra = held.difference(&expected).cloned().collect();
        (missing.is_empty() && extra.is_empty()).then_some(())
    });
    assert!(
        missing.is_empty(),
        "{} series on the scrape page not in Prometheus, e.g. {:?}",
        missing.len(),
        missing.iter().take(5).collect::<Vec<_>>()
    );
    assert!(
        extra.is_empty(),
        "{} series pushed that the page does not have, e.g. {:?}",
        extra.len(),
        extra.iter().take(5).collect::<Vec<_>>()
    );
    assert!(page().len() > 100, "the catalogue's series are compared");

    // The pushes count themselves.
    p.eventually(
        r#"only1mcp_obs_metric_exports_total{result="success"}"#,
        |s| s.iter().any(|s| s.value >= 1.0),
        DEADLINE,
    )
    .expect("successful pushes counted");
    assert!(pusher.shutdown(Duration::from_secs(5)), "shutdown in time");
}

#[test]
fn the_catalogue_pushed_over_otlp_serves_every_panel_on_processes() {
    pushed(Backend::Process);
}

#[test]
fn the_catalogue_pushed_over_otlp_serves_every_panel_on_containers() {
    pushed(Backend::Container);
}

#[test]
fn prometheus2_has_no_otlp_receiver_and_says_so() {
    let config = PrometheusConfig::default()
        .generation(Generation::Legacy)
        .otlp_receiver();
    let err = Prometheus::start(Backend::Process, config).expect_err("2.42 has no receiver");
    assert!(err.to_string().contains("no OTLP receiver"), "{err}");
}

#[test]
fn every_family_pushed_over_grpc_reaches_a_collector() {
    let receiver = OtlpReceiver::start().expect("receiver");
    let config = OtlpMetricsConfig {
        endpoint: Some(receiver.grpc_endpoint()),
        protocol: OtlpProtocol::Grpc,
        interval_seconds: 0.05,
        ..Default::default()
    };
    let pusher = MetricsPusher::start(&config, &TracingConfig::default())
        .expect("config")
        .expect("an endpoint");
    let expected: BTreeSet<String> = only1mcp_obs::metrics::families()
        .into_iter()
        .map(|desc| otlp_name(desc).0)
        .collect();
    let got = only1mcp_obs_testkit::poll(DEADLINE, || {
        let got = receiver.metric_names("grpc");
        (got == expected).then_some(got)
    });
    assert!(
        got.is_ok(),
        "expected {expected:?}, got {:?}",
        receiver.metric_names("grpc")
    );
    assert!(pusher.shutdown(Duration::from_secs(5)), "shutdown in time");
}

#[test]
fn a_black_holed_receiver_counts_timeouts_and_shutdown_returns() {
    // Accepts connections and never answers.
    let hole = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/v1/metrics", hole.local_addr().expect("addr"));
    let config = OtlpMetricsConfig {
        endpoint: Some(url),
        interval_seconds: 0.05,
        timeout_seconds: 0.2,
        ..Default::default()
    };
    let timeouts = || {
        only1mcp_obs::metrics::otlp::METRIC_EXPORTS
            .labels(only1mcp_obs::metrics::otlp::ExportResult::Timeout)
            .get()
    };
    let before = timeouts();
    let pusher = MetricsPusher::start(&config, &TracingConfig::default())
        .expect("config")
        .expect("an endpoint");
    only1mcp_obs_testkit::poll(DEADLINE, || (timeouts() > before).then_some(()))
        .expect("a push timed out and was counted");
    // Stopping waits for at most the push in flight (0.2 s) and the last one.
    assert!(pusher.shutdown(Duration::from_secs(5)), "shutdown in time");
    drop(hole);
}

#[test]
fn page_lines_and_prometheus_labels_compare_alike() {
    let line = r#"x_seconds_bucket{tool="a\"b",le="1.0"} 3"#;
    let (name, labels) = page_series(line).expect("a sample line");
    assert_eq!(name, "x_seconds_bucket");
    assert_eq!(labels["tool"], "a\"b");
    // Prometheus 3 spells OTLP bucket bounds `1`, the page `1.0`: the same series.
    let from_prometheus = series_key(
        "x_seconds_bucket",
        [("tool".into(), "a\"b".into()), ("le".into(), "1".into())],
    );
    assert_eq!((name, labels), from_prometheus);
    assert_eq!(
        page_series("up 1"),
        Some(("up".to_owned(), BTreeMap::new()))
    );
}
