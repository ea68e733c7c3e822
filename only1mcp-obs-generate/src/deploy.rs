//! Alertmanager routing and deployment files (docker compose, Kubernetes) from the same sources.
//! Receiver secrets are read from files mounted at run time; none is written here.

use crate::GenerateError;
use crate::rules::{Alert, rule_file};
use crate::stack::IMAGES;
use serde_json::{Value, json};

fn image(name: &str) -> &'static str {
    IMAGES
        .iter()
        .find(|(n, _)| *n == name)
        .map_or("", |(_, i)| i)
}

/// Where receiver secrets are mounted (never committed).
pub const SECRETS_DIR: &str = "/etc/alertmanager/secrets";

/// The seed's routing: critical to the pager, team platform to chat, team finance to email.
pub fn alertmanager_config() -> Value {
    let secret = |name: &str| format!("{SECRETS_DIR}/{name}");
    json!({
        "global": { "resolve_timeout": "5m" },
        "route": {
            "receiver": "default",
            "group_by": ["alertname", "cluster", "service"],
            "group_wait": "10s",
            "group_interval": "10s",
            "repeat_interval": "12h",
            "routes": [
                { "receiver": "pager", "matchers": ["severity=\"critical\""], "continue": true },
                { "receiver": "chat-platform", "matchers": ["team=\"platform\""] },
                { "receiver": "email-finance", "matchers": ["team=\"finance\""] },
            ],
        },
        "receivers": [
            { "name": "default", "slack_configs": [{
                "api_url_file": secret("slack-webhook-url"), "channel": "#alerts",
                "title": "Only1MCP Alert",
                "text": "{{ .GroupLabels.alertname }} - {{ .CommonAnnotations.summary }}",
            }] },
            { "name": "pager", "pagerduty_configs": [{
                "routing_key_file": secret("pagerduty-routing-key"),
                "description": "{{ .GroupLabels.alertname }}: {{ .CommonAnnotations.summary }}",
            }] },
            { "name": "chat-platform", "slack_configs": [{
                "api_url_file": secret("slack-webhook-url"), "channel": "#platform-alerts",
                "title": "Platform Alert: {{ .GroupLabels.alertname }}",
                "text": "*Summary:* {{ .CommonAnnotations.summary }}\n*Description:* {{ .CommonAnnotations.description }}\n*Runbook:* {{ .CommonAnnotations.runbook_url }}",
                "send_resolved": true,
            }] },
            { "name": "email-finance", "email_configs": [{
                "to": "finance-alerts@only1mcp.dev",
                "from": "alerts@only1mcp.dev",
                "smarthost": "smtp.only1mcp.dev:587",
                "headers": { "Subject": "Cost Alert: {{ .GroupLabels.alertname }}" },
            }] },
        ],
    })
}

/// Prometheus configuration for the compose stack.
fn prometheus_config() -> Value {
    json!({
        "global": { "scrape_interval": "15s", "evaluation_interval": "30s" },
        "rule_files": ["/etc/prometheus/rules/*.rules.yml"],
        "alerting": { "alertmanagers": [{ "static_configs": [{ "targets": ["alertmanager:9093"] }] }] },
        "scrape_configs": [{ "job_name": "only1mcp", "metrics_path": "/metrics", "static_configs": [{ "targets": ["only1mcp:9090"] }] }],
    })
}

/// The seed's monitoring stack: every port published on 127.0.0.1 only.
fn compose() -> Value {
    json!({
        "services": {
            "only1mcp": {
                "image": "only1mcp:0.1.0",
                "ports": ["127.0.0.1:8080:8080", "127.0.0.1:9090:9090"],
                "environment": ["RUST_LOG=info", "OTEL_EXPORTER_OTLP_ENDPOINT=http://jaeger:4317", "OTEL_SERVICE_NAME=only1mcp"],
                "volumes": ["./config.yaml:/etc/only1mcp/config.yaml:ro"],
                "depends_on": ["jaeger", "prometheus"],
            },
            "prometheus": {
                "image": image("prometheus"),
                "ports": ["127.0.0.1:9091:9090"],
                "volumes": ["./prometheus.yml:/etc/prometheus/prometheus.yml:ro", "../alerts:/etc/prometheus/rules:ro", "prometheus-data:/prometheus"],
                // Exemplar storage keeps the trace ids the aggregator attaches to its series.
                "command": ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus", "--web.enable-lifecycle", "--enable-feature=exemplar-storage"],
            },
            "grafana": {
                "image": image("grafana"),
                "ports": ["127.0.0.1:3000:3000"],
                "environment": ["GF_SECURITY_ADMIN_PASSWORD__FILE=/run/secrets/grafana_admin_password"],
                "secrets": ["grafana_admin_password"],
                "volumes": [
                    "../dashboards:/var/lib/grafana/dashboards:ro",
                    "./grafana/provisioning:/etc/grafana/provisioning:ro",
                    "grafana-data:/var/lib/grafana",
                ],
            },
            "jaeger": {
                "image": image("jaeger"),
                // Jaeger v2's default configuration: OTLP receivers, in-memory storage, the UI.
                "ports": ["127.0.0.1:16686:16686", "127.0.0.1:4317:4317", "127.0.0.1:4318:4318"],
            },
            "loki": {
                "image": image("loki"),
                "ports": ["127.0.0.1:3100:3100"],
                "command": ["-config.file=/etc/loki/local-config.yaml"],
                "volumes": ["loki-data:/loki"],
            },
            "alertmanager": {
                "image": image("alertmanager"),
                "ports": ["127.0.0.1:9093:9093"],
                "command": ["--config.file=/etc/alertmanager/alertmanager.yml", "--storage.path=/alertmanager"],
                "volumes": [
                    "./alertmanager.yml:/etc/alertmanager/alertmanager.yml:ro",
                    format!("./secrets:{SECRETS_DIR}:ro"),
                    "alertmanager-data:/alertmanager".to_owned(),
                ],
            },
        },
        "secrets": { "grafana_admin_password": { "file": "./secrets/grafana-admin-password" } },
        "volumes": { "prometheus-data": {}, "grafana-data": {}, "loki-data": {}, "alertmanager-data": {} },
    })
}

/// Prometheus, whose exemplars (`trace_id`) link to Jaeger, and Jaeger.
fn grafana_datasources() -> Value {
    json!({ "apiVersion": 1, "datasources": [
        { "name": "Prometheus", "type": "prometheus", "uid": "prometheus", "access": "proxy", "url": "http://prometheus:9090", "isDefault": true,
          "jsonData": { "exemplarTraceIdDestinations": [{ "name": "trace_id", "datasourceUid": "jaeger" }] } },
        { "name": "Jaeger", "type": "jaeger", "uid": "jaeger", "access": "proxy", "url": "http://jaeger:16686" },
    ] })
}

fn grafana_dashboards() -> Value {
    json!({ "apiVersion": 1, "providers": [{ "name": "only1mcp", "folder": "Only1MCP", "type": "file", "options": { "path": "/var/lib/grafana/dashboards" } }] })
}

fn service_monitor() -> Value {
    json!({
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": { "name": "only1mcp", "labels": { "app": "only1mcp" } },
        "spec": {
            "selector": { "matchLabels": { "app": "only1mcp" } },
            "endpoints": [{ "port": "metrics", "path": "/metrics", "interval": "30s" }],
        },
    })
}

fn prometheus_rule(alerts: &[Alert]) -> Value {
    let groups = rule_file(alerts)["groups"].clone();
    json!({
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": { "name": "only1mcp", "labels": { "app": "only1mcp", "role": "alert-rules" } },
        "spec": { "groups": groups },
    })
}

/// Deployment files, as (path, YAML value).
pub fn files(alerts: &[Alert]) -> Result<Vec<(String, Value)>, GenerateError> {
    Ok(vec![
        (
            "alertmanager/alertmanager.yml".into(),
            alertmanager_config(),
        ),
        ("deploy/docker-compose.monitoring.yml".into(), compose()),
        ("deploy/prometheus.yml".into(), prometheus_config()),
        ("deploy/alertmanager.yml".into(), alertmanager_config()),
        (
            "deploy/grafana/provisioning/datasources/prometheus.yml".into(),
            grafana_datasources(),
        ),
        (
            "deploy/grafana/provisioning/dashboards/only1mcp.yml".into(),
            grafana_dashboards(),
        ),
        (
            "deploy/kubernetes/servicemonitor.yml".into(),
            service_monitor(),
        ),
        (
            "deploy/kubernetes/prometheusrule.yml".into(),
            prometheus_rule(alerts),
        ),
    ])
}
