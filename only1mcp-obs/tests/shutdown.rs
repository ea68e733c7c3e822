//! Shutdown is bounded: with the span queue full and its collector black-holed (it accepts
//! connections and never answers), and with a half-sent request open on `/metrics`,
//! `shutdown(1s)` still returns within 1.5 s.

use only1mcp_obs::mcp_instrumented;
use only1mcp_obs::trace::ErrorClass;
use only1mcp_obs::{Observability, ObservabilityConfig};
use std::io::Write as _;
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

#[mcp_instrumented(method = "tools/call", target = "work")]
fn work(n: u64) -> Result<u64, ErrorClass> {
    Ok(n)
}

/// A collector that takes connections and never says a word; dropped with the test.
fn black_hole() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    (listener, url)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_is_bounded_with_a_full_queue_and_a_half_sent_request() {
    let (collector, endpoint) = black_hole();
    let held = std::thread::spawn(move || {
        // Accept (so the exporter's connect succeeds) and hold every connection open.
        collector.incoming().take(4).flatten().collect::<Vec<_>>()
    });
    let mut config = ObservabilityConfig::default();
    config.tracing.exporter.endpoint = Some(endpoint);
    config.tracing.batch.max_queue_size = 1000;
    config.tracing.batch.scheduled_delay_ms = 10;
    config.metrics.port = 0;
    let obs = Observability::start(config).await.expect("start");
    let metrics = obs.metrics_server().expect("metrics").local_addr();

    for n in 0..20_000 {
        work(n).expect("work");
    }
    let mut half_sent = TcpStream::connect(metrics).expect("connect");
    half_sent
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        .expect("write");

    let start = Instant::now();
    obs.shutdown(Duration::from_secs(1)).await;
    let took = start.elapsed();
    println!("shutdown(1s) with a full queue and a half-sent request: {took:?}");
    assert!(took < Duration::from_millis(1500), "shutdown took {took:?}");
    drop(half_sent);
    drop(held);
}
