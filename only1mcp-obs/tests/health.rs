//! Health endpoints: JSON bodies, 200 when every check passes, 503 otherwise.

use axum::body::Body;
use http::Request;
use only1mcp_obs::health::{Health, HealthConfig, router};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tower::ServiceExt;

async fn get(app: &axum::Router, path: &str) -> (u16, serde_json::Value) {
    let response = app
        .clone()
        .oneshot(Request::get(path).body(Body::empty()).expect("request"))
        .await
        .expect("response");
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("body");
    (status, serde_json::from_slice(&bytes).expect("json"))
}

#[tokio::test]
async fn readiness_follows_the_checks() {
    let health = Health::new();
    let backend_up = Arc::new(AtomicBool::new(true));
    let up = backend_up.clone();
    health.register("config", || async { Ok("loaded".to_owned()) });
    health.register("backends", move || {
        let up = up.load(Ordering::Relaxed);
        async move {
            if up {
                Ok("2 of 2 reachable".to_owned())
            } else {
                Err("github unreachable".to_owned())
            }
        }
    });
    let config = HealthConfig {
        readiness: only1mcp_obs::health::ProbeConfig {
            checks: vec!["config".into(), "backends".into()],
            ..HealthConfig::default().readiness
        },
        ..HealthConfig::default()
    };
    let app = router(health.clone(), &config);

    assert_eq!(get(&app, "/health/live").await.0, 200);
    assert_eq!(get(&app, "/health/startup").await.0, 503);
    health.mark_started();
    assert_eq!(get(&app, "/health/startup").await.0, 200);

    let (status, body) = get(&app, "/health/ready").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["checks"]["backends"]["detail"], "2 of 2 reachable");

    backend_up.store(false, Ordering::Relaxed);
    let (status, body) = get(&app, "/health/ready").await;
    assert_eq!(status, 503);
    assert_eq!(body["status"], "fail");
    assert_eq!(body["checks"]["backends"]["status"], "fail");
    assert_eq!(body["checks"]["config"]["status"], "ok");
}

#[tokio::test]
async fn a_required_check_that_is_missing_or_slow_fails() {
    let health = Health::new();
    health.register("slow", || async {
        std::future::pending::<()>().await;
        Ok(String::new())
    });
    let mut config = HealthConfig::default();
    config.readiness.checks = vec!["slow".into(), "database".into()];
    config.readiness.timeout_seconds = 0.05;
    let (status, body) = get(&router(health, &config), "/health/ready").await;
    assert_eq!(status, 503);
    assert!(
        body["checks"]["slow"]["detail"]
            .as_str()
            .is_some_and(|d| d.contains("timed out")),
        "{body}"
    );
    assert_eq!(
        body["checks"]["database"]["detail"],
        "no such check is registered"
    );
}

/// The value of the line of `family` whose labels are exactly `{check="<check>"}`.
fn check_value(text: &str, family: &str, check: &str) -> Option<f64> {
    let prefix = format!("{family}{{check=\"{check}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .and_then(|v| v.trim().parse().ok())
}

#[tokio::test]
async fn each_check_is_exported_as_metrics() {
    let health = Health::new();
    health.register("metrics_db", || async { Ok("connected".to_owned()) });
    health.register("metrics_queue", || async { Err("queue full".to_owned()) });
    health.register("metrics_slow", || async {
        std::future::pending::<()>().await;
        Ok(String::new())
    });
    let mut config = HealthConfig::default();
    config.readiness.checks = vec![
        "metrics_db".into(),
        "metrics_queue".into(),
        "metrics_slow".into(),
    ];
    config.readiness.timeout_seconds = 0.05;
    let (status, _) = get(&router(health, &config), "/health/ready").await;
    assert_eq!(status, 503);
    let text = only1mcp_obs::metrics::encode_text();
    let status = |check| check_value(&text, "only1mcp_health_check_status", check);
    let took = |check| check_value(&text, "only1mcp_health_check_duration_seconds", check);
    assert_eq!(status("metrics_db"), Some(1.0), "{text}");
    assert_eq!(status("metrics_queue"), Some(0.0));
    assert_eq!(status("metrics_slow"), Some(0.0));
    // The timed-out check took its whole timeout; the others took less.
    let slow = took("metrics_slow").expect("duration of the slow check");
    assert!(slow >= 0.05, "{slow}");
    assert!(took("metrics_db").expect("duration") < slow);
}
