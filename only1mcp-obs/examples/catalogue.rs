//! cargo run -p only1mcp-obs --example catalogue [-- --listen 127.0.0.1:9090]
//!
//! Serves the whole Only1MCP metric catalogue on `/metrics` and keeps a little synthetic traffic
//! going so that every family has series. Stop it with Ctrl-C.

/// Prints a line; a closed stdout (its reader went away) must not bring the server down.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

use only1mcp_obs::catalogue::*;
use only1mcp_obs::metrics::{MetricsConfig, MetricsServer, families};
use std::net::SocketAddr;
use std::time::Duration;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let listen = listen_address()?;
    let config = MetricsConfig {
        address: listen.ip(),
        port: listen.port(),
        ..MetricsConfig::default()
    };
    let server = MetricsServer::bind(&config).await?;
    say!(
        "only1mcp-obs catalogue: {} metric families",
        families().len()
    );
    say!("metrics: {}", server.url());
    say!(
        "  curl -s {} | grep '^only1mcp_mcp_requests_total'",
        server.url()
    );
    say!("  synthetic MCP traffic every 200 ms; Ctrl-C stops");

    let traffic = tokio::spawn(synthetic_traffic());
    tokio::signal::ctrl_c().await?;
    traffic.abort();
    server.shutdown().await?;
    Ok(())
}

/// `--listen ADDR` from the command line, 127.0.0.1:9090 by default.
fn listen_address() -> Result<SocketAddr, String> {
    let mut args = std::env::args().skip(1);
    let mut listen = "127.0.0.1:9090".to_owned();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--listen" => {
                listen = args
                    .next()
                    .ok_or("--listen needs an address such as 127.0.0.1:9090")?
            }
            other => {
                return Err(format!(
                    "unknown argument `{other}`; usage: catalogue [--listen 127.0.0.1:9090]"
                ));
            }
        }
    }
    listen
        .parse()
        .map_err(|e| format!("--listen {listen}: {e}"))
}

/// A tiny deterministic generator: the demo needs variety, not statistics.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

async fn synthetic_traffic() {
    let servers = ["filesystem", "github", "postgres"].map(ServerId::new);
    let tools = ["read_file", "search_issues", "query"].map(ToolName::new);
    let methods = [
        McpMethod::ToolsCall,
        McpMethod::ToolsList,
        McpMethod::ResourcesRead,
        McpMethod::PromptsGet,
    ];
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let mut tick = tokio::time::interval(Duration::from_millis(200));
    let mut round = 0u64;
    loop {
        tick.tick().await;
        round += 1;
        for _ in 0..5 {
            let server = servers[rng.below(servers.len())];
            let method = methods[rng.below(methods.len())];
            let seconds = 0.002 + rng.unit() * rng.unit() * 0.4;
            let failed = rng.below(50) == 0;
            let status = if failed {
                RequestStatus::Error
            } else {
                RequestStatus::Success
            };
            let error_type = failed.then(|| ErrorType::new("-32603"));
            let tool = (method == McpMethod::ToolsCall).then(|| tools[rng.below(tools.len())]);
            MCP_REQUESTS_TOTAL.labels(server, method, status).inc();
            MCP_REQUEST_DURATION.labels(server, method).observe(seconds);
            MCP_SERVER_OPERATION_DURATION
                .labels(method, error_type, tool)
                .observe(seconds);
            MCP_CLIENT_OPERATION_DURATION
                .labels(method, error_type, tool)
                .observe(seconds * 0.9);
        }
        let optimization = OptimizationType::ALL[rng.below(3)];
        CONTEXT_TOKENS_SAVED
            .labels(optimization)
            .inc_by(rng.below(400) as u64);
        for cache in CacheType::ALL {
            CONTEXT_CACHE_HIT_RATIO
                .labels(cache)
                .set(0.6 + rng.unit() * 0.3);
        }
        for (i, server) in servers.iter().enumerate() {
            BACKEND_HEALTH_STATUS
                .labels(*server, TransportType::StreamableHttp)
                .set(1.0);
            BACKEND_LATENCY
                .labels(*server, ProbeEndpoint::Ping)
                .observe(0.001 + rng.unit() * 0.02);
            CONNECTION_POOL_SIZE
                .labels(*server, PoolState::Active)
                .set((i + rng.below(3)) as f64);
            CONNECTION_POOL_SIZE
                .labels(*server, PoolState::Idle)
                .set(rng.below(4) as f64);
            CONNECTION_REUSE_RATIO
                .labels(*server)
                .set(0.8 + rng.unit() * 0.2);
        }
        API_COST_DOLLARS
            .labels(
                Provider::new("anthropic"),
                Model::new("claude-sonnet"),
                CostOperation::Completion,
            )
            .inc_by_f64(rng.unit() * 0.01);
        MEMORY_USAGE_BYTES
            .labels(MemoryType::Cache)
            .set((round % 100 * 4096) as f64);
        CPU_USAGE_PERCENT
            .labels(CpuCore::new("process"))
            .set(rng.unit() * 5.0);
        if round.is_multiple_of(25) {
            let transport = NetworkTransport::ALL[rng.below(2)];
            MCP_SERVER_SESSION_DURATION
                .labels(None, transport)
                .observe(rng.unit() * 60.0);
            MCP_CLIENT_SESSION_DURATION
                .labels(None, transport)
                .observe(rng.unit() * 60.0);
        }
    }
}
