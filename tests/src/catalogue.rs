//! The Only1MCP catalogue under a synthetic workload, and the generated dashboards' queries,
//! shared by the tests that check the panels against a live Prometheus (scraped or pushed).

use only1mcp_obs::catalogue::*;
use only1mcp_obs::mcp_instrumented;
use only1mcp_obs::trace::ErrorClass;
use only1mcp_obs_generate::{dashboards, variables};
use only1mcp_obs_testkit::prometheus::Prometheus;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

#[mcp_instrumented(method = "tools/call", target = tool, kind = client, server_id = "github")]
fn backend_call(tool: &str, fail: bool) -> Result<(), ErrorClass> {
    if fail {
        Err(ErrorClass::JsonRpc(-32603))
    } else {
        Ok(())
    }
}

#[mcp_instrumented(method = "tools/call", target = tool)]
fn handle_call(tool: &str, fail: bool) -> Result<(), ErrorClass> {
    backend_call(tool, fail)
}

/// A workload that touches every family; most requests fail, breaking the availability objective.
pub fn workload() {
    for i in 0..25 {
        let _ = handle_call(if i % 2 == 0 { "search" } else { "fetch" }, i % 5 != 0);
    }
    let server = ServerId::new("github");
    MCP_REQUEST_DURATION
        .labels(server, McpMethod::ToolsCall)
        .observe(0.05);
    CONTEXT_TOKENS_SAVED
        .labels(OptimizationType::CacheHit)
        .inc_by(400);
    for cache in CacheType::ALL {
        CONTEXT_CACHE_HIT_RATIO.labels(cache).set(0.8);
    }
    BACKEND_HEALTH_STATUS
        .labels(server, TransportType::Stdio)
        .set(1.0);
    BACKEND_LATENCY
        .labels(server, ProbeEndpoint::Ping)
        .observe(0.004);
    CONNECTION_POOL_SIZE
        .labels(server, PoolState::Active)
        .set(3.0);
    CONNECTION_REUSE_RATIO.labels(server).set(0.9);
    API_COST_DOLLARS
        .labels(
            Provider::new("anthropic"),
            Model::new("claude"),
            CostOperation::Completion,
        )
        .inc_by_f64(0.42);
    MEMORY_USAGE_BYTES.labels(MemoryType::Resident).set(50e6);
    CPU_USAGE_PERCENT.labels(CpuCore::new("process")).set(3.0);
}

/// Each panel's query of every generated dashboard as Grafana sends it with every variable at
/// "All", titled `dashboard / panel`.
pub fn panel_queries() -> Vec<(String, String)> {
    let variables = variables::all().expect("variables");
    dashboards::all()
        .expect("dashboards")
        .iter()
        .flat_map(|d| {
            let variables = &variables;
            d.queries().into_iter().map(move |(title, expr)| {
                (
                    format!("{} / {title}", d.title),
                    variables::with_all(&expr, variables),
                )
            })
        })
        .collect()
}

/// Polls until every panel's query returns data, and fails naming those that never do.
pub fn every_panel_returns_data(p: &Prometheus, panels: &[(String, String)]) {
    let missing = || -> Vec<String> {
        panels
            .iter()
            .filter(|(_, expr)| !p.returns_data(expr).unwrap_or(false))
            .map(|(what, expr)| format!("{what}: {expr}"))
            .collect()
    };
    let mut without_data = missing();
    let _ = only1mcp_obs_testkit::poll(Duration::from_secs(10), || {
        without_data = missing();
        without_data.is_empty().then_some(())
    });
    assert!(
        without_data.is_empty(),
        "{} of {} panels return no data:\n{}",
        without_data.len(),
        panels.len(),
        without_data.join("\n")
    );
}

/// [`workload`] about five times a second on a thread of its own, until dropped.
#[derive(Debug)]
pub struct Traffic {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Traffic {
    /// Starts the traffic.
    pub fn start() -> Traffic {
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let thread = std::thread::spawn(move || {
            while !stopped.load(Ordering::Relaxed) {
                workload();
                // Paces the synthetic traffic, so that it goes on across several scrapes or
                // pushes (rates need two points) without spinning a core. Nothing waits on it:
                // the tests poll Prometheus with a deadline.
                std::thread::sleep(Duration::from_millis(200));
            }
        });
        Traffic {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Traffic {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
