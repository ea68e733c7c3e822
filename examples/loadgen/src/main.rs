//! cargo build --release -p only1mcp-aggregator -p only1mcp-loadgen && target/release/only1mcp-loadgen
//!
//! A load benchmark of the main job, in one run (about a minute and a half). It starts
//! the release `only1mcp-aggregator` (found next to this binary, or `--aggregator PATH`) once
//! per telemetry setting, and drives `tools/call files_echo` over kept-alive MCP Streamable HTTP
//! sessions on loopback:
//!
//! - `backend direct`: the demo backend itself, no aggregator in between;
//! - `telemetry off`: metrics, spans, call logs and the audit log switched off by configuration;
//! - `metrics only`: the default metrics, nothing else;
//! - `full, live OTLP`: everything on (a log line per call, the audit log synced after every
//!   record as by default), every span exported to an in-process OTLP receiver;
//! - `full, black-holed`: everything on, the collector a TCP listener that never answers;
//! - `full, audit fsync interval`: as `full, live OTLP`, the audit log synced at most every
//!   second instead of after every record;
//! - `... cached`: the same arguments on every call, answered by the aggregator's cache.
//!
//! Every other call has arguments of its own, so the cache never answers it. Each row has a
//! latency pass (one session, calls one after another) and a throughput pass (`--sessions`
//! sessions at once), each bounded by time and by `--max-calls`. All five aggregators run for the
//! whole benchmark and the rows take turns over `--rounds` rounds, so load from neighbours on a
//! shared machine falls on every row alike. Ratios are against the `telemetry off` row of the
//! same run. `cpu us` is the aggregator's CPU time (user and system, all its threads) per call
//! in the throughput pass: on a machine with few cores, where the client, the backend and the
//! aggregator share them, it is the steadier figure. `all us` is the busy CPU time of the whole
//! machine per call (this client, the backend, the receiver and the kernel's own threads
//! included). Options: `--sessions N` (4), `--seconds S` (6, throughput per row),
//! `--latency-seconds S` (3), `--rounds N` (3), `--max-calls N` (300000), `--aggregator PATH`.
//!
//! What configuration cannot switch off, and so is in `telemetry off` too: metric families are
//! always recorded (`metrics.detailed` turns off histograms and the tool and backend labels,
//! leaving the request counter), the W3C context of each HTTP request is read and a trace id
//! made (the `x-trace-id` response header), and `audit.enabled: false` alone still writes records
//! (an empty `audit.include` writes none).

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
struct Options {
    sessions: usize,
    seconds: f64,
    latency_seconds: f64,
    max_calls: usize,
    rounds: usize,
    aggregator: PathBuf,
}

fn parse_options() -> Result<Options, String> {
    let sibling = std::env::current_exe()
        .map_err(|e| e.to_string())?
        .with_file_name("only1mcp-aggregator");
    let mut options = Options {
        sessions: 4,
        seconds: 6.0,
        latency_seconds: 3.0,
        max_calls: 300_000,
        rounds: 3,
        aggregator: sibling,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        let number = |v: &str| v.parse::<f64>().map_err(|e| format!("{flag}: {e}"));
        match flag.as_str() {
            "--sessions" => options.sessions = number(&value)?.max(1.0) as usize,
            "--seconds" => options.seconds = number(&value)?,
            "--latency-seconds" => options.latency_seconds = number(&value)?,
            "--max-calls" => options.max_calls = number(&value)?.max(1.0) as usize,
            "--rounds" => options.rounds = number(&value)?.max(1.0) as usize,
            "--aggregator" => options.aggregator = value.into(),
            other => {
                return Err(format!(
                    "unknown option `{other}`; usage: only1mcp-loadgen [--sessions N] [--seconds S] [--latency-seconds S] [--max-calls N] [--rounds N] [--aggregator PATH]"
                ));
            }
        }
    }
    Ok(options)
}

/// What an aggregator process records.
enum Telemetry {
    /// Nothing that configuration can switch off.
    Off,
    /// The default metrics only.
    MetricsOnly,
    /// Everything, spans exported over OTLP/gRPC to `endpoint`; the audit log synced after every
    /// record (the default) or at most every second (`fsync: interval`).
    Full {
        endpoint: String,
        fsync: &'static str,
    },
}

/// The configuration file of one setting. Logs go to a file, so no pipe is in the way.
fn config_yaml(telemetry: &Telemetry, logs: &Path) -> String {
    // Metric families are recorded whatever the configuration says; `detailed` turns off what
    // can be turned off (histograms, the tool and backend labels).
    let no_metrics = "  metrics:\n    enabled: false\n    detailed: { per_tool: false, per_backend: false, histograms: false }\n";
    // `audit.enabled: false` alone still writes records; an empty `include` writes none.
    let no_audit = "  audit:\n    enabled: false\n    include: []\n";
    let no_traces = "  tracing:\n    enabled: false\n";
    let no_logs = "  logging:\n    level: \"off\"\n    outputs: []\n";
    match telemetry {
        Telemetry::Off => format!("observability:\n{no_metrics}{no_traces}{no_logs}{no_audit}"),
        Telemetry::MetricsOnly => format!("observability:\n{no_traces}{no_logs}{no_audit}"),
        Telemetry::Full { endpoint, fsync } => format!(
            "observability:\n  tracing:\n    enabled: true\n    exporter: {{ endpoint: \"{endpoint}\", protocol: grpc }}\n    sampling: {{ strategy: always_on }}\n  logging:\n    level: info\n    log_calls: true\n    outputs:\n      - type: file\n        path: \"{}\"\n  audit:\n    output: {{ fsync: {fsync} }}\n",
            logs.display()
        ),
    }
}

/// One aggregator (and its two backends), stopped when dropped.
struct Aggregator {
    child: Child,
    /// Its process id, to read its CPU time.
    pid: u32,
    /// `http://ADDR/mcp`.
    mcp: String,
    /// `http://ADDR/mcp` of the `files` backend.
    backend: String,
    /// `http://ADDR/metrics`.
    metrics: String,
}

impl Drop for Aggregator {
    fn drop(&mut self) {
        // The backends read their stdin from the aggregator: they exit when it is gone.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_aggregator(exe: &Path, config: &Path, audit: &Path) -> std::io::Result<Aggregator> {
    let mut command = Command::new(exe);
    command
        .args(["--listen", "127.0.0.1:0", "--config"])
        .arg(config)
        .arg("--audit")
        .arg(audit)
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped());
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("OTEL_") {
            command.env_remove(key);
        }
    }
    let mut child = command.spawn()?;
    let stdout = child.stdout.take().ok_or(std::io::Error::other("stdout"))?;
    let mut aggregator = Aggregator {
        pid: child.id(),
        child,
        mcp: String::new(),
        backend: String::new(),
        metrics: String::new(),
    };
    let mut lines = BufReader::new(stdout).lines();
    for line in lines.by_ref().map_while(Result::ok) {
        if let Some(rest) = line.strip_prefix("backend files: ") {
            let url = rest.split(' ').next().unwrap_or(rest);
            aggregator.backend = format!("{url}/mcp");
        } else if let Some(url) = line.strip_prefix("mcp: ") {
            aggregator.mcp = url.to_owned();
            let base = url.strip_suffix("/mcp").unwrap_or(url);
            aggregator.metrics = format!("{base}/metrics");
            break;
        }
    }
    if aggregator.mcp.is_empty() || aggregator.backend.is_empty() {
        return Err(std::io::Error::other(format!(
            "{} did not print its MCP and backend URLs",
            exe.display()
        )));
    }
    // Keep draining its output so it never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    Ok(aggregator)
}

const ACCEPT: &str = "application/json, text/event-stream";
const VERSION: &str = "2025-11-25";

/// An MCP session over Streamable HTTP on one kept-alive connection.
struct Session {
    http: reqwest::Client,
    url: String,
    id: String,
}

type Error = Box<dyn std::error::Error + Send + Sync>;

impl Session {
    async fn open(url: &str) -> Result<Session, Error> {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(1)
            .tcp_nodelay(true)
            .build()?;
        let init = r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"only1mcp-loadgen","version":"1.0"}}}"#;
        let response = http
            .post(url)
            .header("accept", ACCEPT)
            .header("content-type", "application/json")
            .body(init)
            .send()
            .await?;
        let id = response
            .headers()
            .get("mcp-session-id")
            .and_then(|v| v.to_str().ok())
            .ok_or("no mcp-session-id header on the initialize response")?
            .to_owned();
        response.text().await?;
        let session = Session {
            http,
            url: url.to_owned(),
            id,
        };
        session
            .post(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#.to_owned())
            .await?;
        Ok(session)
    }

    async fn post(&self, body: String) -> Result<String, Error> {
        let response = self
            .http
            .post(&self.url)
            .header("accept", ACCEPT)
            .header("content-type", "application/json")
            .header("mcp-session-id", &self.id)
            .header("mcp-protocol-version", VERSION)
            .body(body)
            .send()
            .await?;
        if !response.status().is_success() {
            return Err(format!("HTTP {}", response.status()).into());
        }
        Ok(response.text().await?)
    }

    /// One `tools/call files_echo`; whether the answer echoed `text`.
    async fn echo(&self, id: u64, text: &str) -> bool {
        let body = format!(
            r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"files_echo","arguments":{{"text":"{text}"}}}}}}"#
        );
        match self.post(body).await {
            Ok(answer) => {
                answer.contains(&format!("files: {text}")) && !answer.contains("\"error\"")
            }
            Err(_) => false,
        }
    }
}

/// Latencies of one pass, in nanoseconds, and how long it ran.
#[derive(Debug, Default)]
struct Pass {
    latencies: Vec<u64>,
    errors: usize,
    elapsed: Duration,
    /// CPU time the aggregator spent during the pass (user and system, all threads), in clock
    /// ticks; zero for the direct rows.
    cpu_ticks: u64,
    /// CPU time the whole machine spent busy during the pass (every process and the kernel),
    /// in clock ticks.
    machine_ticks: u64,
}

impl Pass {
    fn rate(&self) -> f64 {
        self.latencies.len() as f64 / self.elapsed.as_secs_f64()
    }

    /// The `q` quantile in milliseconds (nearest rank).
    fn quantile_ms(&self, q: f64) -> f64 {
        if self.latencies.is_empty() {
            return f64::NAN;
        }
        let rank =
            ((q * self.latencies.len() as f64).ceil() as usize).clamp(1, self.latencies.len());
        self.latencies[rank - 1] as f64 / 1e6
    }
}

/// `sessions` sessions calling one after another for `seconds` (at most `max_calls` in all).
/// `cached`: every call of a session sends the same arguments.
async fn drive(
    url: &str,
    sessions: usize,
    seconds: f64,
    max_calls: usize,
    cached: bool,
) -> Result<Pass, Error> {
    let mut opened = Vec::new();
    for _ in 0..sessions {
        opened.push(Session::open(url).await?);
    }
    let per_session = max_calls.div_ceil(sessions);
    let deadline = Duration::from_secs_f64(seconds);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for (n, session) in opened.into_iter().enumerate() {
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(per_session.min(1 << 16));
            let mut errors = 0;
            let mut i = 0u64;
            while start.elapsed() < deadline && latencies.len() < per_session {
                i += 1;
                let text = if cached {
                    format!("s{n}")
                } else {
                    format!("s{n}-{i}")
                };
                let sent = Instant::now();
                if session.echo(i, &text).await {
                    latencies.push(sent.elapsed().as_nanos() as u64);
                } else {
                    errors += 1;
                }
            }
            (latencies, errors)
        }));
    }
    let mut pass = Pass::default();
    for task in tasks {
        let (latencies, errors) = task.await?;
        pass.latencies.extend(latencies);
        pass.errors += errors;
    }
    pass.elapsed = start.elapsed();
    Ok(pass)
}

/// One row: latency passes (one session) and throughput passes (`--sessions`), pooled over
/// the rounds.
struct Row {
    name: &'static str,
    latency: Pass,
    load: Pass,
    note: String,
}

impl Pass {
    fn absorb(&mut self, other: Pass) {
        self.latencies.extend(other.latencies);
        self.errors += other.errors;
        self.elapsed += other.elapsed;
        self.cpu_ticks += other.cpu_ticks;
        self.machine_ticks += other.machine_ticks;
    }

    /// The aggregator's CPU time per call in microseconds.
    fn cpu_us_per_call(&self) -> f64 {
        self.cpu_ticks as f64 * 1e6 / TICKS_PER_SECOND / self.latencies.len().max(1) as f64
    }

    /// The machine's busy CPU time per call in microseconds.
    fn machine_us_per_call(&self) -> f64 {
        self.machine_ticks as f64 * 1e6 / TICKS_PER_SECOND / self.latencies.len().max(1) as f64
    }
}

/// `USER_HZ`: the unit of the CPU times in `/proc/PID/stat` (100 on every Linux platform that
/// matters here).
const TICKS_PER_SECOND: f64 = 100.0;

/// User plus system CPU time of process `pid` so far, in clock ticks (0 where `/proc` has none).
fn cpu_ticks(pid: u32) -> u64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0;
    };
    // Fields after the command name, which is in parentheses and may hold spaces.
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return 0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // `utime` and `stime` are fields 14 and 15 of the whole line: 12 and 13 after the name.
    let field = |n: usize| {
        fields
            .get(n)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    field(11) + field(12)
}

/// Busy CPU time of the whole machine so far, in clock ticks: the `cpu` line of `/proc/stat`
/// less its idle and iowait times (0 where `/proc` has none).
fn machine_ticks() -> u64 {
    let Ok(stat) = std::fs::read_to_string("/proc/stat") else {
        return 0;
    };
    let Some(line) = stat.lines().find(|l| l.starts_with("cpu ")) else {
        return 0;
    };
    let times: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|f| f.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal (guest times are inside user).
    let busy: u64 = times.iter().take(8).sum::<u64>();
    busy - times.get(3).copied().unwrap_or(0) - times.get(4).copied().unwrap_or(0)
}

/// `only1mcp_obs_spans_{exported,dropped}_total` of an aggregator, summed over labels.
async fn span_counts(metrics_url: &str) -> String {
    let Ok(response) = reqwest::get(metrics_url).await else {
        return "/metrics unreachable".to_owned();
    };
    let page = response.text().await.unwrap_or_default();
    let sum = |family: &str| -> f64 {
        page.lines()
            .filter(|l| l.starts_with(family) && !l.starts_with('#'))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum::<f64>()
            + 0.0
    };
    format!(
        "spans exported {}, dropped {}",
        sum("only1mcp_obs_spans_exported_total"),
        sum("only1mcp_obs_spans_dropped_total")
    )
}

/// Accepts connections and never answers: a collector that hangs.
fn black_hole() -> std::io::Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().map_while(Result::ok) {
            held.push(stream);
        }
    });
    Ok(format!("http://{addr}"))
}

/// A row to measure: its name, its aggregator, whether it calls the backend directly, whether
/// its arguments repeat.
struct RowSpec {
    name: &'static str,
    aggregator: usize,
    direct: bool,
    cached: bool,
}

const fn row(name: &'static str, aggregator: usize, direct: bool, cached: bool) -> RowSpec {
    RowSpec {
        name,
        aggregator,
        direct,
        cached,
    }
}

const ROWS: [RowSpec; 8] = [
    row("backend direct", 0, true, false),
    row("telemetry off", 0, false, false),
    row("telemetry off, cached", 0, false, true),
    row("metrics only", 1, false, false),
    row("full, live OTLP", 2, false, false),
    row("full, live OTLP, cached", 2, false, true),
    row("full, black-holed", 3, false, false),
    row("full, audit fsync interval", 4, false, false),
];

/// Every aggregator runs for the whole benchmark and the rows take turns, round after round, so
/// a neighbour's load on a shared machine spreads over all rows alike.
async fn run(options: &Options) -> Result<Vec<Row>, Error> {
    let dir = tempfile::tempdir()?;
    let receiver = only1mcp_obs_testkit::traces::OtlpReceiver::start()?;
    let aggregators = start_aggregators(options, dir.path(), &receiver)?;
    // Warm up: connections to the backends, resolved series, the allocator.
    for spec in &ROWS {
        drive(
            &row_url(spec, &aggregators),
            options.sessions,
            0.5,
            options.max_calls,
            spec.cached,
        )
        .await?;
    }
    let mut rows = measure(options, &aggregators).await?;
    let received = receiver.spans().len();
    note_spans(&mut rows, &aggregators, received).await;
    drop(aggregators);
    Ok(rows)
}

/// Starts one aggregator per setting, its configuration, logs and audit log in `dir`: telemetry
/// off, metrics only, spans to `receiver`, spans to a collector that hangs, and spans to
/// `receiver` with the audit log synced at most every second.
fn start_aggregators(
    options: &Options,
    dir: &Path,
    receiver: &only1mcp_obs_testkit::traces::OtlpReceiver,
) -> Result<Vec<Aggregator>, Error> {
    let telemetry = [
        Telemetry::Off,
        Telemetry::MetricsOnly,
        Telemetry::Full {
            endpoint: receiver.grpc_endpoint(),
            fsync: "always",
        },
        Telemetry::Full {
            endpoint: black_hole()?,
            fsync: "always",
        },
        Telemetry::Full {
            endpoint: receiver.grpc_endpoint(),
            fsync: "interval",
        },
    ];
    let mut aggregators = Vec::new();
    for (n, telemetry) in telemetry.iter().enumerate() {
        let config = dir.join(format!("config-{n}.yaml"));
        let logs = dir.join(format!("log-{n}.jsonl"));
        std::fs::write(&config, config_yaml(telemetry, &logs))?;
        let audit = dir.join(format!("audit-{n}.log"));
        aggregators.push(start_aggregator(&options.aggregator, &config, &audit)?);
    }
    Ok(aggregators)
}

/// The URL a row calls: its aggregator's backend for a direct row, else the aggregator.
fn row_url(spec: &RowSpec, aggregators: &[Aggregator]) -> String {
    let aggregator = &aggregators[spec.aggregator];
    if spec.direct {
        aggregator.backend.clone()
    } else {
        aggregator.mcp.clone()
    }
}

/// The rounds: in each, every row's latency pass then its throughput pass; the passes pooled
/// per row, latencies sorted.
async fn measure(options: &Options, aggregators: &[Aggregator]) -> Result<Vec<Row>, Error> {
    let mut rows: Vec<Row> = ROWS
        .iter()
        .map(|spec| Row {
            name: spec.name,
            latency: Pass::default(),
            load: Pass::default(),
            note: String::new(),
        })
        .collect();
    let rounds = options.rounds as f64;
    let max_calls = options.max_calls.div_ceil(options.rounds);
    for round in 0..options.rounds {
        eprintln!("round {} of {}", round + 1, options.rounds);
        for (spec, row) in ROWS.iter().zip(&mut rows) {
            let url = row_url(spec, aggregators);
            let seconds = options.latency_seconds / rounds;
            let pass = drive(&url, 1, seconds, max_calls, spec.cached).await?;
            row.latency.absorb(pass);
            let seconds = options.seconds / rounds;
            let pid = (!spec.direct).then_some(aggregators[spec.aggregator].pid);
            let before = (pid.map_or(0, cpu_ticks), machine_ticks());
            let mut pass = drive(&url, options.sessions, seconds, max_calls, spec.cached).await?;
            pass.cpu_ticks = pid.map_or(0, cpu_ticks).saturating_sub(before.0);
            pass.machine_ticks = machine_ticks().saturating_sub(before.1);
            row.load.absorb(pass);
        }
    }
    for row in &mut rows {
        row.latency.latencies.sort_unstable();
        row.load.latencies.sort_unstable();
    }
    Ok(rows)
}

/// Notes the span counts of the uncached rows that export spans; the last aggregator's row also
/// gets the `received` spans of the receiver.
async fn note_spans(rows: &mut [Row], aggregators: &[Aggregator], received: usize) {
    for (spec, row) in ROWS.iter().zip(rows) {
        if spec.aggregator >= 2 && !spec.cached {
            row.note = span_counts(&aggregators[spec.aggregator].metrics).await;
            if spec.aggregator == 4 {
                row.note
                    .push_str(&format!("; the receiver got {received} spans in all"));
            }
        }
    }
}

fn print(rows: &[Row], options: &Options) {
    let off = rows.iter().find(|r| r.name == "telemetry off");
    println!(
        "latency: one session, {} s; throughput: {} sessions at once, {} s; per row, in {} interleaved rounds",
        options.latency_seconds, options.sessions, options.seconds, options.rounds
    );
    println!(
        "{:<26} {:>8} {:>8} {:>8} | {:>9} {:>8} {:>8} {:>8} {:>7} {:>6} {:>8} {:>7} {:>7}",
        "row",
        "p50 ms",
        "p99 ms",
        "p99.9 ms",
        "req/s",
        "p50 ms",
        "p99 ms",
        "p99.9 ms",
        "errors",
        "x off",
        "p99 x off",
        "cpu us",
        "all us"
    );
    for row in rows {
        let (l, t) = (&row.latency, &row.load);
        let (ratio, p99_ratio) = match off {
            Some(off) => (
                t.rate() / off.load.rate(),
                t.quantile_ms(0.99) / off.load.quantile_ms(0.99),
            ),
            None => (f64::NAN, f64::NAN),
        };
        println!(
            "{:<26} {:>8.3} {:>8.3} {:>8.3} | {:>9.0} {:>8.3} {:>8.3} {:>8.3} {:>7} {:>6.3} {:>8.2} {:>7.1} {:>7.1}",
            row.name,
            l.quantile_ms(0.5),
            l.quantile_ms(0.99),
            l.quantile_ms(0.999),
            t.rate(),
            t.quantile_ms(0.5),
            t.quantile_ms(0.99),
            t.quantile_ms(0.999),
            l.errors + t.errors,
            ratio,
            p99_ratio,
            t.cpu_us_per_call(),
            t.machine_us_per_call(),
        );
        if !row.note.is_empty() {
            println!("{:<26} {}", "", row.note);
        }
    }
    let find = |name: &str| rows.iter().find(|r| r.name == name);
    if let (Some(live), Some(hole)) = (find("full, live OTLP"), find("full, black-holed")) {
        println!(
            "black-holed p99 / live p99: {:.2} (throughput pass), {:.2} (latency pass)",
            hole.load.quantile_ms(0.99) / live.load.quantile_ms(0.99),
            hole.latency.quantile_ms(0.99) / live.latency.quantile_ms(0.99),
        );
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let options = parse_options()?;
    if !options.aggregator.exists() {
        return Err(format!(
            "{} not found: build it first (cargo build --release -p only1mcp-aggregator) or pass --aggregator PATH",
            options.aggregator.display()
        )
        .into());
    }
    let rows = run(&options).await?;
    print(&rows, &options);
    Ok(())
}
