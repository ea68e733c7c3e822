//! Business metrics of the aggregator: context optimization, API cost, and an SLA summary read
//! back from Prometheus.

use crate::catalogue::{
    API_COST_DOLLARS, CONTEXT_CACHE_HIT_RATIO, CONTEXT_TOKENS_SAVED, CacheType, CostOperation,
    Model, OptimizationType, Provider,
};

/// What one context optimization achieved.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OptimizationResult {
    /// How the tokens were saved.
    pub optimization_type: OptimizationType,
    /// Tokens not sent.
    pub tokens_saved: u64,
    /// Which cache was consulted.
    pub cache_type: CacheType,
    /// Whether it hit.
    pub cache_hit: bool,
}

/// Weight of the newest lookup in the cache hit ratio (an exponential moving average).
pub const HIT_RATIO_ALPHA: f64 = 0.05;

/// Counts the tokens saved and updates the cache's hit ratio (moving average, alpha 0.05).
///
/// ```
/// use only1mcp_obs::business::{OptimizationResult, record_optimization_result};
/// use only1mcp_obs::catalogue::{CacheType, OptimizationType};
/// record_optimization_result(&OptimizationResult {
///     optimization_type: OptimizationType::CacheHit, tokens_saved: 812, cache_type: CacheType::ToolResult, cache_hit: true,
/// });
/// ```
pub fn record_optimization_result(result: &OptimizationResult) {
    CONTEXT_TOKENS_SAVED
        .labels(result.optimization_type)
        .inc_by(result.tokens_saved);
    let ratio = CONTEXT_CACHE_HIT_RATIO.labels(result.cache_type);
    let hit = if result.cache_hit { 1.0 } else { 0.0 };
    ratio.set(ratio.get() * (1.0 - HIT_RATIO_ALPHA) + hit * HIT_RATIO_ALPHA);
}

/// Operations costing more than this many dollars are logged at warn.
pub const HIGH_COST_DOLLARS: f64 = 0.10;

/// Adds an API cost; a single operation above $0.10 is logged at warn. Provider and model are
/// bounded label domains: unknown ones past their maximum count as `_other`.
pub fn record_api_cost(provider: &str, model: &str, operation: CostOperation, cost: f64) {
    API_COST_DOLLARS
        .labels(Provider::new(provider), Model::new(model), operation)
        .inc_by_f64(cost);
    if cost > HIGH_COST_DOLLARS {
        tracing::warn!(target: "only1mcp_obs::business", provider, model, operation = crate::LabelValue::as_str(operation), cost, "High-cost API operation detected");
    }
}

/// The SLA figures of the design, read from Prometheus.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SlaSummary {
    /// Failed requests over 5 minutes (target: under 1%). NaN without traffic.
    pub error_rate_5m: f64,
    /// p99 latency over 5 minutes, seconds (target: under 0.1). NaN without traffic.
    pub p99_latency_5m: f64,
    /// Successful requests over 24 hours (target: over 99.9%). NaN without traffic.
    pub availability_24h: f64,
    /// Average cache hit ratio (target: over 70%). NaN without data.
    pub cache_hit_rate: f64,
}

/// The PromQL behind each figure, built from the declarations.
pub fn sla_queries() -> Result<[(&'static str, String); 4], crate::metrics::promql::PromqlError> {
    use crate::catalogue::{MCP_REQUEST_DURATION, MCP_REQUESTS_TOTAL};
    use crate::metrics::promql::{Family, sli};
    let requests = MCP_REQUESTS_TOTAL.descriptor();
    let (_, bad, _) = sli(requests, crate::Objective::Availability { target: 0.999 })?;
    let bucket = Family(MCP_REQUEST_DURATION.descriptor()).series("_bucket")?;
    Ok([
        ("error_rate_5m", bad("5m")),
        (
            "p99_latency_5m",
            format!("histogram_quantile(0.99, sum by (le) (rate({bucket}[5m])))"),
        ),
        ("availability_24h", format!("1 - ({})", bad("24h"))),
        (
            "cache_hit_rate",
            format!("avg({})", CONTEXT_CACHE_HIT_RATIO.descriptor().name),
        ),
    ])
}

/// Why the SLA figures could not be read from Prometheus.
#[derive(Debug)]
#[non_exhaustive]
pub enum SlaError {
    /// A query could not be written from the declarations.
    Query(crate::metrics::promql::PromqlError),
    /// Prometheus could not be asked, or its answer was not JSON.
    Request {
        /// The figure being read.
        figure: &'static str,
        /// The query URL.
        url: String,
        /// Why.
        source: reqwest::Error,
    },
    /// Prometheus refused the query.
    Refused {
        /// The figure being read.
        figure: &'static str,
        /// Its answer.
        answer: serde_json::Value,
    },
}

impl std::fmt::Display for SlaError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SlaError::Query(e) => write!(f, "the SLA queries cannot be written: {e}"),
            SlaError::Request {
                figure,
                url,
                source,
            } => write!(f, "{figure}: {url}: {source}"),
            SlaError::Refused { figure, answer } => {
                write!(f, "{figure}: Prometheus answered {answer}")
            }
        }
    }
}

impl std::error::Error for SlaError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SlaError::Query(e) => Some(e),
            SlaError::Request { source, .. } => Some(source),
            SlaError::Refused { .. } => None,
        }
    }
}

/// Computes the [`SlaSummary`] by querying the Prometheus at `base_url` (`http://127.0.0.1:9091`).
pub async fn sla_summary(base_url: &str) -> Result<SlaSummary, SlaError> {
    let queries = sla_queries().map_err(SlaError::Query)?;
    let client = reqwest::Client::new();
    let mut values = [f64::NAN; 4];
    for (slot, (name, query)) in values.iter_mut().zip(queries.iter()) {
        let url = format!("{}/api/v1/query", base_url.trim_end_matches('/'));
        let failed = |source| SlaError::Request {
            figure: name,
            url: url.clone(),
            source,
        };
        let response = client
            .get(&url)
            .query(&[("query", query)])
            .send()
            .await
            .map_err(failed)?;
        let body: serde_json::Value = response.json().await.map_err(failed)?;
        if body["status"] != "success" {
            return Err(SlaError::Refused {
                figure: name,
                answer: body,
            });
        }
        *slot = body["data"]["result"][0]["value"][1]
            .as_str()
            .and_then(|v| v.parse().ok())
            .unwrap_or(f64::NAN);
    }
    Ok(SlaSummary {
        error_rate_5m: values[0],
        p99_latency_5m: values[1],
        availability_24h: values[2],
        cache_hit_rate: values[3],
    })
}
