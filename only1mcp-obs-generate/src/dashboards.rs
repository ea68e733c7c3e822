//! Grafana dashboards (current schema): the Prometheus data source as a template variable,
//! stable uids, unique panel ids, a non-overlapping grid, a unit on every panel.

use crate::GenerateError;
use crate::promql::Family;
use only1mcp_obs::catalogue::{
    API_COST_DOLLARS, BACKEND_HEALTH_STATUS, BACKEND_LATENCY, CONNECTION_POOL_SIZE,
    CONNECTION_REUSE_RATIO, CONTEXT_CACHE_HIT_RATIO, CONTEXT_TOKENS_SAVED, CPU_USAGE_PERCENT,
    MCP_CLIENT_OPERATION_DURATION, MCP_REQUEST_DURATION, MCP_REQUESTS_TOTAL,
    MCP_SERVER_OPERATION_DURATION, MEMORY_USAGE_BYTES,
};
use only1mcp_obs::metrics::{FamilyDesc, Objective, families};
use only1mcp_obs::trace::{CallKind, CallSite, call_sites};
use serde_json::{Value, json};

/// Estimated dollars saved per token not sent (the seed design's figure).
pub const DOLLARS_PER_TOKEN: f64 = 0.00001;

/// A panel before layout.
#[derive(Debug, Clone)]
pub struct Panel {
    /// Title.
    pub title: String,
    /// Grafana panel type.
    pub kind: &'static str,
    /// Unit of the values.
    pub unit: &'static str,
    /// Width in grid columns (of 24).
    pub width: u32,
    /// Height in grid rows.
    pub height: u32,
    /// (PromQL, legend) per query.
    pub targets: Vec<(String, String)>,
    /// Instant queries (stats and tables).
    pub instant: bool,
}

/// A dashboard item: a panel or a row header.
#[derive(Debug, Clone)]
pub enum Item {
    /// A panel.
    Panel(Panel),
    /// A collapsible row title.
    Row(String),
}

/// A dashboard before rendering.
#[derive(Debug, Clone)]
pub struct Dashboard {
    /// Stable uid.
    pub uid: &'static str,
    /// Title.
    pub title: &'static str,
    /// File name under `dashboards/`.
    pub file: &'static str,
    /// Content.
    pub items: Vec<Item>,
    /// The variables its queries use (filled by [`all`]).
    pub variables: Vec<crate::variables::Variable>,
}

impl Dashboard {
    /// Every panel's queries, for checking them against a live Prometheus.
    pub fn queries(&self) -> Vec<(String, String)> {
        self.items
            .iter()
            .filter_map(|i| match i {
                Item::Panel(p) => Some(p),
                Item::Row(_) => None,
            })
            .flat_map(|p| {
                p.targets
                    .iter()
                    .map(move |(expr, _)| (p.title.clone(), expr.clone()))
            })
            .collect()
    }
}

fn panel(
    title: &str,
    kind: &'static str,
    unit: &'static str,
    width: u32,
    targets: Vec<(String, String)>,
) -> Item {
    let instant = matches!(kind, "stat" | "table" | "bargauge" | "piechart");
    let height = if kind == "stat" { 4 } else { 8 };
    Item::Panel(Panel {
        title: title.to_owned(),
        kind,
        unit,
        width,
        height,
        targets,
        instant,
    })
}

/// The Grafana unit of a family's own values, from its declared `unit:`.
fn unit(f: &Family) -> Result<&'static str, GenerateError> {
    match f.0.unit {
        Some("seconds") => Ok("s"),
        Some("bytes") => Ok("bytes"),
        Some("ratio") => Ok("percentunit"),
        Some("percent") => Ok("percent"),
        Some("dollars") => Ok("currencyUSD"),
        other => Err(GenerateError::Unit {
            family: f.0.name,
            unit: other,
        }),
    }
}

fn q(expr: String, legend: &str) -> (String, String) {
    (expr, legend.to_owned())
}

fn quantiles(bucket: &str, by: &str, window: &str) -> Vec<(String, String)> {
    let extra = if by.is_empty() {
        String::new()
    } else {
        format!(", {by}")
    };
    let legend_by = if by.is_empty() {
        String::new()
    } else {
        format!(" {{{{{by}}}}}")
    };
    [0.5, 0.95, 0.99]
        .iter()
        .map(|quantile| {
            q(
                format!(
                    "histogram_quantile({quantile}, sum by (le{extra}) (rate({bucket}[{window}])))"
                ),
                &format!("p{}{legend_by}", (quantile * 100.0) as u32),
            )
        })
        .collect()
}

/// Operational Overview.
pub fn overview() -> Result<Dashboard, GenerateError> {
    let mut items = overview_traffic()?;
    items.extend(overview_stats()?);
    Ok(Dashboard {
        variables: Vec::new(),
        uid: "only1mcp-overview",
        title: "Only1MCP - Operational Overview",
        file: "only1mcp-overview.json",
        items,
    })
}

/// The overview's graphs: request rate by server, and latency quantiles.
fn overview_traffic() -> Result<Vec<Item>, GenerateError> {
    let requests = Family(MCP_REQUESTS_TOTAL.descriptor());
    let duration = Family(MCP_REQUEST_DURATION.descriptor());
    let server = requests.label("server_id")?;
    Ok(vec![
        panel(
            "Request rate by server",
            "timeseries",
            "reqps",
            12,
            vec![q(
                format!("sum by ({server}) (rate({}[1m]))", requests.series("")?),
                &format!("{{{{{server}}}}}"),
            )],
        ),
        panel(
            "Latency p50 / p95 / p99",
            "timeseries",
            unit(&duration)?,
            12,
            quantiles(&duration.series("_bucket")?, "", "5m"),
        ),
    ])
}

/// The overview's stats: cache hit rate, tokens saved, API cost and backend health.
fn overview_stats() -> Result<Vec<Item>, GenerateError> {
    let cache = Family(CONTEXT_CACHE_HIT_RATIO.descriptor());
    let tokens = Family(CONTEXT_TOKENS_SAVED.descriptor());
    let cost = Family(API_COST_DOLLARS.descriptor());
    let health = Family(BACKEND_HEALTH_STATUS.descriptor());
    Ok(vec![
        panel(
            "Cache hit rate",
            "stat",
            unit(&cache)?,
            6,
            vec![q(format!("avg({})", cache.series("")?), "hit rate")],
        ),
        panel(
            "Tokens saved (24h)",
            "stat",
            "short",
            6,
            vec![q(
                format!("sum(increase({}[24h]))", tokens.series("")?),
                "tokens",
            )],
        ),
        panel(
            "API cost (24h)",
            "stat",
            unit(&cost)?,
            6,
            vec![q(
                format!("sum(increase({}[24h]))", cost.series("")?),
                "cost",
            )],
        ),
        panel(
            "Backend health",
            "stat",
            "percentunit",
            6,
            vec![q(format!("avg({})", health.series("")?), "healthy")],
        ),
    ])
}

/// Context Optimization.
pub fn context() -> Result<Dashboard, GenerateError> {
    let tokens = Family(CONTEXT_TOKENS_SAVED.descriptor());
    let cache = Family(CONTEXT_CACHE_HIT_RATIO.descriptor());
    let duration = Family(MCP_REQUEST_DURATION.descriptor());
    let kind = tokens.label("optimization_type")?;
    let cache_type = cache.label("cache_type")?;
    let (server, method) = (duration.label("server_id")?, duration.label("method")?);
    Ok(Dashboard {
        variables: Vec::new(),
        uid: "only1mcp-context",
        title: "Only1MCP - Context Optimization",
        file: "only1mcp-context-optimization.json",
        items: vec![
            panel(
                "Tokens saved by type (1h)",
                "piechart",
                "short",
                12,
                vec![q(
                    format!("sum by ({kind}) (increase({}[1h]))", tokens.series("")?),
                    &format!("{{{{{kind}}}}}"),
                )],
            ),
            panel(
                "Cache hit ratio by cache type",
                "bargauge",
                unit(&cache)?,
                12,
                vec![q(cache.series("")?, &format!("{{{{{cache_type}}}}}"))],
            ),
            panel(
                "Estimated cost savings (hourly)",
                "timeseries",
                "currencyUSD",
                12,
                vec![q(
                    format!(
                        "sum(increase({}[1h])) * {}",
                        tokens.series("")?,
                        crate::promql::number(DOLLARS_PER_TOKEN)
                    ),
                    "saved ($)",
                )],
            ),
            panel(
                "Top token consumers (requests per second, 1h)",
                "table",
                "reqps",
                12,
                vec![q(
                    format!(
                        "topk(10, sum by ({server}, {method}) (rate({}[1h])))",
                        duration.series("_count")?
                    ),
                    "",
                )],
            ),
        ],
    })
}

/// Backends and Connection Pool.
pub fn backends() -> Result<Dashboard, GenerateError> {
    let health = Family(BACKEND_HEALTH_STATUS.descriptor());
    let latency = Family(BACKEND_LATENCY.descriptor());
    let pool = Family(CONNECTION_POOL_SIZE.descriptor());
    let reuse = Family(CONNECTION_REUSE_RATIO.descriptor());
    let (server, transport) = (health.label("server_id")?, health.label("transport_type")?);
    let state = pool.label("state")?;
    Ok(Dashboard {
        variables: Vec::new(),
        uid: "only1mcp-backends",
        title: "Only1MCP - Backends and Connection Pool",
        file: "only1mcp-backends.json",
        items: vec![
            panel(
                "Backend health (1 = up)",
                "timeseries",
                "none",
                12,
                vec![q(
                    health.series("")?,
                    &format!("{{{{{server}}}}} ({{{{{transport}}}}})"),
                )],
            ),
            panel(
                "Backend probe latency",
                "timeseries",
                unit(&latency)?,
                12,
                quantiles(
                    &latency.series("_bucket")?,
                    latency.label("server_id")?,
                    "5m",
                ),
            ),
            panel(
                "Connection pool size by state",
                "timeseries",
                "short",
                12,
                vec![q(
                    format!("sum by ({state}) ({})", pool.series("")?),
                    &format!("{{{{{state}}}}}"),
                )],
            ),
            panel(
                "Connection reuse ratio",
                "timeseries",
                unit(&reuse)?,
                12,
                vec![q(
                    reuse.series("")?,
                    &format!("{{{{{}}}}}", reuse.label("server_id")?),
                )],
            ),
        ],
    })
}

/// MCP Operations: per method and tool, on both sides, with a row per instrumented function.
pub fn mcp_operations() -> Result<Dashboard, GenerateError> {
    let mut items = Vec::new();
    for (side, family) in [
        (
            "Received (server)",
            MCP_SERVER_OPERATION_DURATION.descriptor(),
        ),
        (
            "Sent to backends (client)",
            MCP_CLIENT_OPERATION_DURATION.descriptor(),
        ),
    ] {
        items.extend(side_panels(side, Family(family))?);
    }
    for site in call_sites() {
        items.extend(call_site_panels(site)?);
    }
    Ok(Dashboard {
        variables: Vec::new(),
        uid: "only1mcp-mcp-operations",
        title: "Only1MCP - MCP Operations",
        file: "only1mcp-mcp-operations.json",
        items,
    })
}

/// A row for one side of MCP (`f`, its operation duration), with its rate, error ratio and
/// duration by method and tool.
fn side_panels(side: &str, f: Family) -> Result<Vec<Item>, GenerateError> {
    let (method, tool, error) = (
        f.label("mcp_method_name")?,
        f.label("gen_ai_tool_name")?,
        f.label("error_type")?,
    );
    let count = f.series("_count")?;
    Ok(vec![
        Item::Row(side.to_owned()),
        panel(
            &format!("{side}: rate by method and tool"),
            "timeseries",
            "reqps",
            8,
            vec![q(
                format!("sum by ({method}, {tool}) (rate({count}[5m]))"),
                &format!("{{{{{method}}}}} {{{{{tool}}}}}"),
            )],
        ),
        panel(
            &format!("{side}: error ratio by error.type"),
            "timeseries",
            "percentunit",
            8,
            vec![q(
                format!(
                    "sum by ({error}) (rate({count}{{{error}!=\"\"}}[5m])) / ignoring ({error}) group_left sum(rate({count}[5m]))"
                ),
                &format!("{{{{{error}}}}}"),
            )],
        ),
        panel(
            &format!("{side}: duration by method"),
            "timeseries",
            unit(&f)?,
            8,
            quantiles(&f.series("_bucket")?, method, "5m"),
        ),
    ])
}

/// A row for one instrumented function, with its call rate and p95 duration.
fn call_site_panels(site: &CallSite) -> Result<Vec<Item>, GenerateError> {
    let family = match site.kind {
        CallKind::Client => Family(MCP_CLIENT_OPERATION_DURATION.descriptor()),
        CallKind::Server => Family(MCP_SERVER_OPERATION_DURATION.descriptor()),
    };
    let method = family.label("mcp_method_name")?;
    let filter = site
        .method
        .map(|m| format!("{{{method}=\"{m}\"}}"))
        .unwrap_or_default();
    Ok(vec![
        Item::Row(format!(
            "{}::{} ({})",
            site.module_path,
            site.function,
            site.method.unwrap_or("dynamic method")
        )),
        panel(
            &format!("{}: rate", site.function),
            "timeseries",
            "reqps",
            12,
            vec![q(
                format!("sum(rate({}{filter}[5m]))", family.series("_count")?),
                "calls",
            )],
        ),
        panel(
            &format!("{}: p95 duration", site.function),
            "timeseries",
            unit(&family)?,
            12,
            vec![q(
                format!(
                    "histogram_quantile(0.95, sum by (le) (rate({}{filter}[5m])))",
                    family.series("_bucket")?
                ),
                "p95",
            )],
        ),
    ])
}

/// System and SLOs: process memory and CPU, and the error budget of every declared objective.
pub fn system_slo() -> Result<Dashboard, GenerateError> {
    let memory = Family(MEMORY_USAGE_BYTES.descriptor());
    let cpu = Family(CPU_USAGE_PERCENT.descriptor());
    let mut items = vec![
        Item::Row("Process".to_owned()),
        panel(
            "Memory",
            "timeseries",
            unit(&memory)?,
            12,
            vec![q(
                memory.series("")?,
                &format!("{{{{{}}}}}", memory.label("type")?),
            )],
        ),
        panel(
            "CPU",
            "timeseries",
            unit(&cpu)?,
            12,
            vec![q(
                cpu.series("")?,
                &format!("{{{{{}}}}}", cpu.label("core")?),
            )],
        ),
    ];
    for desc in families() {
        for objective in desc.objectives {
            items.extend(objective_panels(desc, *objective)?);
        }
    }
    Ok(Dashboard {
        variables: Vec::new(),
        uid: "only1mcp-system-slo",
        title: "Only1MCP - System and SLOs",
        file: "only1mcp-system-slo.json",
        items,
    })
}

/// A row for `objective` of `desc`, with its remaining error budget and its burn rate.
fn objective_panels(
    desc: &'static FamilyDesc,
    objective: Objective,
) -> Result<Vec<Item>, GenerateError> {
    let (kind, bad, target) = crate::promql::sli(desc, objective)?;
    let budget = crate::promql::number(1.0 - target);
    Ok(vec![
        Item::Row(format!(
            "{kind} objective: {} ({}%)",
            desc.name,
            crate::promql::number(target * 100.0)
        )),
        panel(
            &format!("{kind}: error budget remaining (30d)"),
            "stat",
            "percentunit",
            8,
            vec![q(format!("1 - (({}) / {budget})", bad("30d")), "remaining")],
        ),
        panel(
            &format!("{kind}: burn rate"),
            "timeseries",
            "none",
            16,
            ["5m", "1h", "6h"]
                .iter()
                .map(|w| q(format!("({}) / {budget}", bad(w)), w))
                .collect(),
        ),
    ])
}

/// Every dashboard.
pub fn all() -> Result<Vec<Dashboard>, GenerateError> {
    let variables = crate::variables::all()?;
    let mut all = vec![
        overview()?,
        context()?,
        backends()?,
        mcp_operations()?,
        system_slo()?,
    ];
    for dashboard in &mut all {
        scope(dashboard, &variables);
    }
    Ok(all)
}

/// Applies the variables to every query of `dashboard` whose metric carries their labels, and
/// lists the ones it uses.
fn scope(dashboard: &mut Dashboard, variables: &[crate::variables::Variable]) {
    let mut used = std::collections::BTreeSet::new();
    for item in &mut dashboard.items {
        if let Item::Panel(panel) = item {
            for (expr, _) in &mut panel.targets {
                let (scoped, names) = crate::variables::scope(expr, variables);
                *expr = scoped;
                used.extend(names);
            }
        }
    }
    dashboard.variables = variables
        .iter()
        .filter(|v| used.contains(v.name))
        .cloned()
        .collect();
}

/// The declaration behind a panel: the family its first query names first.
fn declared(panel: &Panel) -> Option<&'static only1mcp_obs::metrics::FamilyDesc> {
    let (expr, _) = panel.targets.first()?;
    let mut best: Option<(usize, &'static only1mcp_obs::metrics::FamilyDesc)> = None;
    for desc in families() {
        if let Some(at) = expr.find(desc.name)
            && best.is_none_or(|(b, d)| at < b || (at == b && desc.name.len() > d.name.len()))
        {
            best = Some((at, desc));
        }
    }
    best.map(|(_, desc)| desc)
}

/// The field defaults of `panel`: its unit, and for a latency panel of a family with a
/// latency objective, the objective's threshold as a line.
fn field_defaults(panel: &Panel) -> Value {
    let mut defaults = json!({ "unit": panel.unit });
    let objective = declared(panel).and_then(|d| {
        d.objectives.iter().find_map(|o| match o {
            only1mcp_obs::metrics::Objective::Latency { threshold, .. } => Some(*threshold),
            _ => None,
        })
    });
    let latency = panel.unit == "s"
        && panel
            .targets
            .iter()
            .any(|(e, _)| e.contains("histogram_quantile("));
    if let (Some(threshold), true) = (objective, latency) {
        defaults["thresholds"] = json!({ "mode": "absolute", "steps": [
            { "color": "green", "value": null },
            { "color": "red", "value": threshold },
        ] });
        defaults["custom"] = json!({ "thresholdsStyle": { "mode": "line" } });
    }
    defaults
}

/// The data source variable, then the dashboard's filter variables.
fn templating(dashboard: &Dashboard) -> Vec<Value> {
    let datasource = json!({
        "name": "datasource", "label": "Data source", "type": "datasource", "query": "prometheus",
        "current": { "text": "Prometheus", "value": "prometheus" }, "hide": 0, "refresh": 1,
        "regex": "", "options": []
    });
    std::iter::once(datasource)
        .chain(dashboard.variables.iter().map(crate::variables::render))
        .collect()
}

/// Grafana JSON with the layout applied.
pub fn render(dashboard: &Dashboard) -> Value {
    let datasource = json!({ "type": "prometheus", "uid": "${datasource}" });
    let (mut x, mut y, mut row_height) = (0u32, 0u32, 0u32);
    let mut panels = Vec::new();
    for (i, item) in dashboard.items.iter().enumerate() {
        let id = i as u32 + 1;
        match item {
            Item::Row(title) => {
                y += row_height;
                x = 0;
                panels.push(json!({ "id": id, "type": "row", "title": title, "collapsed": false, "gridPos": { "h": 1, "w": 24, "x": 0, "y": y }, "panels": [] }));
                y += 1;
                row_height = 0;
            }
            Item::Panel(p) => {
                if x + p.width > 24 {
                    y += row_height;
                    x = 0;
                    row_height = 0;
                }
                let description = declared(p).map_or("", |d| d.help);
                panels.push(json!({
                    "id": id,
                    "type": p.kind,
                    "title": p.title,
                    "description": description,
                    "datasource": datasource,
                    "gridPos": { "h": p.height, "w": p.width, "x": x, "y": y },
                    "fieldConfig": { "defaults": field_defaults(p), "overrides": [] },
                    "options": {},
                    "targets": targets(p, &datasource),
                }));
                x += p.width;
                row_height = row_height.max(p.height);
            }
        }
    }
    json!({
        "uid": dashboard.uid,
        "title": dashboard.title,
        "tags": ["only1mcp", "generated"],
        "timezone": "browser",
        "schemaVersion": 39,
        "version": 1,
        "editable": true,
        "refresh": "10s",
        "time": { "from": "now-6h", "to": "now" },
        "templating": { "list": templating(dashboard) },
        "annotations": { "list": [] },
        "panels": panels,
    })
}

/// The Grafana query targets of `p`, over `datasource`.
fn targets(p: &Panel, datasource: &Value) -> Vec<Value> {
    p.targets
        .iter()
        .enumerate()
        .map(|(n, (expr, legend))| {
            let ref_id = char::from(b'A' + n as u8).to_string();
            let mut t = json!({ "refId": ref_id, "datasource": datasource, "expr": expr, "legendFormat": legend, "range": !p.instant, "instant": p.instant });
            if p.kind == "table" {
                t["format"] = json!("table");
            }
            // Latency graphs show the exemplars of their buckets: each links to the
            // trace of a call it counted (the data source's exemplar destination).
            if !p.instant && expr.contains("histogram_quantile(") {
                t["exemplar"] = json!(true);
            }
            t
        })
        .collect()
}
