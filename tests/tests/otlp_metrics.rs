//! The metric catalogue pushed over OTLP instead of scraped: a live Prometheus 3 with its OTLP
//! receiver on (and no scrape target at all) gets every family from
//! `only1mcp_obs::metrics::otlp`, under the names and labels of the scrape page, so every panel of
//! the generated dashboards returns data; on both backends (process, container), over
//! OTLP/HTTP; over gRPC to the testkit's OTLP receiver (Prometheus takes no gRPC). Prometheus 2.42
//! has no OTLP receiver: the testkit says so instead of starting it.

use only1mcp_obs::metrics::otlp::{MetricsPusher, OtlpMetricsConfig, otlp_name};
use only1mcp_obs::trace::{OtlpProtocol, TracingConfig};
use only1mcp_obs_e2e::catalogue;
use only1mcp_obs_testkit::backend::Backend;
use only1mcp_obs_testkit::generation::Generation;
use only1mcp_obs_testkit::prometheus::{Prometheus, PrometheusConfig};
use only1mcp_obs_testkit::stack::LiveStack;
use only1mcp_obs_testkit::traces::OtlpReceiver;
use std::collections::BTreeSet;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

const DEADLINE: Duration = Duration::from_secs(20);

/// The registry is process-wide and each test compares all of it: they take turns.
fn exclusive() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The metric names on this process's own scrape page.
fn scrape_page_names() -> BTreeSet<String> {
    only1mcp_obs::metrics::encode_text()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|l| l.split(['{', ' ']).next())
        .map(str::to_owned)
        .collect()
}

/// The metric names Prometheus holds under `job`.
fn names_in(p: &Prometheus, job: &str) -> BTreeSet<String> {
    p.query(&format!(r#"count by (__name__) ({{job="{job}"}})"#))
        .unwrap_or_default()
        .into_iter()
        .filter_map(|s| s.labels.get("__name__").cloned())
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
    let requests = p
        .eventually(
            &format!(r#"only1mcp_mcp_requests_total{{job="{job}"}}"#),
            |s| !s.is_empty(),
            DEADLINE,
        )
        .expect("requests under the service's job");
    // Same label names as on the scrape page (plus the job and instance of the push).
    let page = only1mcp_obs::metrics::encode_text();
    let on_page = page
        .lines()
        .find(|l| l.starts_with("only1mcp_mcp_requests_total{"))
        .expect("requests on the page");
    for sample in &requests {
        for label in sample.labels.keys() {
            assert!(
                ["__name__", "job", "instance"].contains(&label.as_str())
                    || on_page.contains(&format!("{label}=\"")),
                "pushed label {label} is not on the scrape page: {on_page}"
            );
        }
    }

    // Every family on the scrape page arrives under the same name.
    drop(traffic);
    let expected = scrape_page_names();
    let mut missing = Vec::new();
    let _ = only1mcp_obs_testkit::poll(DEADLINE, || {
        let held = names_in(p, &job);
        missing = expected.difference(&held).cloned().collect();
        missing.is_empty().then_some(())
    });
    // Prometheus adds `target_info` (the resource); nothing else may appear.
    let extra: Vec<String> = names_in(p, &job)
        .difference(&expected)
        .filter(|n| *n != "target_info")
        .cloned()
        .collect();
    assert!(
        extra.is_empty(),
        "pushed under names the page does not have: {extra:?}"
    );
    assert!(
        missing.is_empty(),
        "pushed but not in Prometheus under the scrape page's name: {missing:?}"
    );

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
fn a_black_holed_receiver_delays_nothing_and_counts_timeouts() {
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
