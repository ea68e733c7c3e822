//! Calls on a kept-alive connection are as fast as calls on fresh ones: no server of the main
//! job waits for the client's delayed ACK (Nagle's algorithm) between the pieces of a response.
//!
//! Real MCP clients keep their connection; a response written in several small pieces (an SSE
//! stream) without `TCP_NODELAY` costs them about 40 ms a call, where a fresh connection costs
//! a millisecond or two. The test compares the two in the same run, never against a time.

use only1mcp_obs_e2e::mcp_http::{Aggregator, Session};
use std::time::{Duration, Instant};

/// One `tools/call`; its duration.
async fn timed_call(session: &Session, i: u64) -> Duration {
    let start = Instant::now();
    let body = session
        .call(
            i,
            "files_echo",
            serde_json::json!({ "text": format!("call {i}") }),
        )
        .await;
    let took = start.elapsed();
    assert!(body.contains("files: call"), "{body}");
    took
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_on_a_kept_alive_connection_do_not_stall() {
    let dir = tempfile::tempdir().expect("temp dir");
    let audit = dir.path().join("audit.log");
    let aggregator = Aggregator::start(&["--audit", audit.to_str().expect("path")], &[]);
    let url = aggregator.mcp().to_owned();

    // One connection for the whole session.
    let kept = Session::open(reqwest::Client::new(), &url, "kept").await;
    // A new connection for every request.
    let fresh_client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .expect("client");
    let fresh = Session::open(fresh_client, &url, "fresh").await;

    // Warm both paths (the backends' connections, the cache of resolved series).
    for i in 0..3 {
        timed_call(&kept, 1000 + i).await;
        timed_call(&fresh, 2000 + i).await;
    }
    let mut on_kept = Vec::new();
    let mut on_fresh = Vec::new();
    for i in 0..20 {
        on_kept.push(timed_call(&kept, i).await);
        on_fresh.push(timed_call(&fresh, 100 + i).await);
    }
    let (kept, fresh) = (median(on_kept.clone()), median(on_fresh));
    println!("20 calls: kept-alive median {kept:?}, fresh-connection median {fresh:?}");
    // A stall makes a kept-alive call ~40 ms against 1-4 ms on a fresh connection (x10 and
    // more); without one a kept-alive call costs no more than a fresh one.
    assert!(
        kept < fresh * 3,
        "kept-alive calls take {kept:?} (each: {on_kept:?}), fresh-connection calls {fresh:?}"
    );
}

/// Accepts connections on a port of its own, counts them, and pipes each to `target`.
async fn counting_proxy(
    target: String,
) -> (
    std::net::SocketAddr,
    std::sync::Arc<std::sync::atomic::AtomicUsize>,
) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    let accepted = std::sync::Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    tokio::spawn(async move {
        while let Ok((mut inbound, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            let target = target.clone();
            tokio::spawn(async move {
                if let Ok(mut outbound) = tokio::net::TcpStream::connect(&target).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    });
    (addr, accepted)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_to_an_http_backend_reuse_its_connections() {
    use std::sync::atomic::Ordering;
    // A demo backend, started by a first aggregator, behind a proxy that counts connections.
    let first = Aggregator::start(&[], &[]);
    let backend = first.printed["backend files"]
        .split(' ')
        .next()
        .and_then(|url| url.strip_prefix("http://"))
        .expect("backend address")
        .to_owned();
    let (proxy, accepted) = counting_proxy(backend).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("aggregator.yaml");
    std::fs::write(
        &config,
        format!("backends:\n  - name: files\n    transport: streamable_http\n    url: http://{proxy}/mcp\n"),
    )
    .expect("write the configuration");
    let aggregator = Aggregator::start(&["--config", config.to_str().expect("path")], &[]);
    let session = Session::open(reqwest::Client::new(), aggregator.mcp(), "reuse").await;
    let opened = accepted.load(Ordering::SeqCst);

    for i in 0..40 {
        let body = session
            .call(
                i,
                "files_echo",
                serde_json::json!({ "text": format!("call {i}") }),
            )
            .await;
        assert!(body.contains(&format!("call {i}")), "{body}");
    }
    let during = accepted.load(Ordering::SeqCst) - opened;
    println!("connections to the backend: {opened} to set up, {during} during 40 calls");
    // Without reuse every call opens one (40); kept alive, the calls share the idle ones.
    assert!(
        during <= 4,
        "40 calls opened {during} new connections to the backend"
    );
}
