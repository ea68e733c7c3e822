//! Per-operation sampling: a rate per MCP method or span name, and a default rate.

use opentelemetry::trace::{Link, SpanKind, TraceId};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::{Sampler, SamplingResult, ShouldSample};

/// Samples each root span at the rate of the first rule that matches it, else at the default
/// rate; the decision is a function of the trace id, so every service agrees on it.
///
/// A rule's `operation` matches an MCP method (`tools/call`, against `mcp.method.name` and the
/// span name's first word) or a span name (`cache.lookup`). `mcp.tool_call` is accepted as a
/// synonym of `tools/call`.
#[derive(Debug, Clone)]
pub struct RuleSampler {
    rules: Vec<(String, Sampler)>,
    default: Sampler,
}

impl RuleSampler {
    /// Rules as (operation, rate), tried in order, and the rate for everything else.
    pub fn new(rules: impl IntoIterator<Item = (String, f64)>, default_rate: f64) -> Self {
        let rules = rules
            .into_iter()
            .map(|(operation, rate)| {
                let operation = if operation == "mcp.tool_call" {
                    "tools/call".to_owned()
                } else {
                    operation
                };
                (operation, ratio(rate))
            })
            .collect();
        RuleSampler {
            rules,
            default: ratio(default_rate),
        }
    }

    fn sampler_for(&self, name: &str, attributes: &[KeyValue]) -> &Sampler {
        let method = attributes
            .iter()
            .find(|kv| kv.key.as_str() == "mcp.method.name")
            .map(|kv| kv.value.as_str());
        let first_word = name.split(' ').next().unwrap_or(name);
        self.rules
            .iter()
            .find(|(op, _)| {
                op == name || op == first_word || method.as_deref() == Some(op.as_str())
            })
            .map_or(&self.default, |(_, sampler)| sampler)
    }
}

/// A trace-id ratio sampler with the edge rates made exact.
pub(crate) fn ratio(rate: f64) -> Sampler {
    if rate >= 1.0 {
        Sampler::AlwaysOn
    } else if rate <= 0.0 || rate.is_nan() {
        Sampler::AlwaysOff
    } else {
        Sampler::TraceIdRatioBased(rate)
    }
}

impl ShouldSample for RuleSampler {
    fn should_sample(
        &self,
        parent_context: Option<&Context>,
        trace_id: TraceId,
        name: &str,
        span_kind: &SpanKind,
        attributes: &[KeyValue],
        links: &[Link],
    ) -> SamplingResult {
        self.sampler_for(name, attributes).should_sample(
            parent_context,
            trace_id,
            name,
            span_kind,
            attributes,
            links,
        )
    }
}
