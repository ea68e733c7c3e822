//! Jaeger v2 as the trace backend: a local process (the binary `scripts/build-stack` builds from
//! the pinned module) or a container (pinned image, host networking), every endpoint on a free
//! 127.0.0.1 port, in-memory storage; and the query adapter over Jaeger's HTTP API.

use super::{ReceivedSpan, flatten};
use crate::backend::{Backend, Component, Running};
use crate::generation::{Generation, JAEGER_VERSION};
use crate::http;
use opentelemetry_proto::tonic::trace::v1::TracesData;
use std::collections::BTreeSet;
use std::io;
use std::time::Duration;

pub use crate::backend::{JAEGER_IMAGE, JAEGER_IMAGE_ENV};

/// Read-back window for trace searches. Jaeger requires one; the store is per test, so all of it.
const SEARCH_FROM: &str = "2000-01-01T00:00:00Z";
const SEARCH_TO: &str = "2100-01-01T00:00:00Z";
/// Traces per service a search returns (Jaeger wants a depth above 0 and at most `max_traces`).
const SEARCH_DEPTH: u32 = 1000;
const MAX_TRACES: u32 = 10_000;

/// The query adapter: reads spans back from a Jaeger's HTTP API (`/api/v3`), which returns them as
/// OTLP/JSON, and turns them into [`ReceivedSpan`]s with the same conversion the in-process
/// receiver uses. Works against any Jaeger v2 query endpoint, not only the testkit's container.
///
/// ```no_run
/// use only1mcp_obs_testkit::traces::{JaegerQuery, SpanQuery};
/// let jaeger = JaegerQuery::new("http://127.0.0.1:16686");
/// let spans = jaeger.spans().unwrap();
/// let calls: Vec<_> = spans.iter().filter(|s| SpanQuery::name("tools/call search").matches(s)).collect();
/// println!("{} services, {} matching spans", jaeger.services().unwrap().len(), calls.len());
/// ```
#[derive(Debug, Clone)]
pub struct JaegerQuery {
    base: String,
}

impl JaegerQuery {
    /// An adapter for the Jaeger query endpoint at `base_url` (`http://host:port`, the UI port).
    pub fn new(base_url: impl Into<String>) -> Self {
        JaegerQuery {
            base: base_url.into().trim_end_matches('/').to_owned(),
        }
    }

    /// The base URL.
    pub fn url(&self) -> &str {
        &self.base
    }

    /// The services Jaeger has spans of.
    pub fn services(&self) -> io::Result<Vec<String>> {
        let url = format!("{}/api/v3/services", self.base);
        let response = http::get(&url)?;
        if response.status != 200 {
            return Err(api_error(&url, &response));
        }
        parse_services(&response.body)
    }

    /// Every span of the traces that have spans of `service`, as stored (raw traces: Jaeger's
    /// adjusters off).
    pub fn find_traces(&self, service: &str) -> io::Result<Vec<ReceivedSpan>> {
        // The HTTP gateway's own parameter names (`cmd/query/app/apiv3/http_gateway.go`):
        // snake_case, and the search depth is `query.num_traces`.
        let service = http::encode(service);
        let url = format!(
            "{}/api/v3/traces?query.service_name={service}\
             &query.start_time_min={SEARCH_FROM}&query.start_time_max={SEARCH_TO}\
             &query.num_traces={SEARCH_DEPTH}&query.raw_traces=true",
            self.base,
        );
        self.get_traces(&url)
    }

    /// Every span of trace `trace_id` (32 hex digits); empty when Jaeger has none.
    pub fn trace(&self, trace_id: &str) -> io::Result<Vec<ReceivedSpan>> {
        if trace_id.len() != 32 || !trace_id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("trace id {trace_id:?} is not 32 hex digits"),
            ));
        }
        let url = format!("{}/api/v3/traces/{trace_id}?raw_traces=true", self.base);
        self.get_traces(&url)
    }

    /// Every span Jaeger holds: the traces of every service, each span once.
    pub fn spans(&self) -> io::Result<Vec<ReceivedSpan>> {
        let mut seen = BTreeSet::new();
        let mut spans = Vec::new();
        for service in self.services()? {
            for span in self.find_traces(&service)? {
                if seen.insert((span.trace_id.clone(), span.span_id.clone())) {
                    spans.push(span);
                }
            }
        }
        Ok(spans)
    }

    fn get_traces(&self, url: &str) -> io::Result<Vec<ReceivedSpan>> {
        let response = http::get(url)?;
        match response.status {
            200 => parse_traces(&response.body),
            // Jaeger answers 404 "No traces found" for an empty result.
            404 => Ok(Vec::new()),
            _ => Err(api_error(url, &response)),
        }
    }
}

fn api_error(url: &str, response: &http::Response) -> io::Error {
    io::Error::other(format!(
        "Jaeger answered {} to GET {url}: {}",
        response.status,
        response.body.trim()
    ))
}

/// Parses a `/api/v3/traces` answer: `{"result": <OTLP/JSON TracesData>}`.
pub(crate) fn parse_traces(body: &str) -> io::Result<Vec<ReceivedSpan>> {
    #[derive(serde::Deserialize)]
    struct Wrapper {
        result: Option<TracesData>,
    }
    let wrapper: Wrapper = serde_json::from_str(body).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("not an OTLP/JSON trace answer from Jaeger ({e}): {body:.300}"),
        )
    })?;
    Ok(wrapper
        .result
        .map(|data| flatten(&data.resource_spans, "jaeger"))
        .unwrap_or_default())
}

/// Parses a `/api/v3/services` answer: `{"services": [..]}`.
pub(crate) fn parse_services(body: &str) -> io::Result<Vec<String>> {
    #[derive(serde::Deserialize)]
    struct Services {
        #[serde(default)]
        services: Vec<String>,
    }
    serde_json::from_str::<Services>(body)
        .map(|s| s.services)
        .map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("not a services answer from Jaeger ({e}): {body:.300}"),
            )
        })
}

/// Jaeger's configuration: OTLP gRPC and HTTP receivers into in-memory storage, the query API,
/// every endpoint on 127.0.0.1, and no other listener (its own metrics are off).
pub(crate) fn config_yaml(
    otlp_grpc: u16,
    otlp_http: u16,
    query_http: u16,
    query_grpc: u16,
) -> String {
    format!(
        "service:
  extensions: [jaeger_storage, jaeger_query]
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
    logs:
      level: warn
extensions:
  jaeger_storage:
    backends:
      memstore:
        memory:
          max_traces: {MAX_TRACES}
  jaeger_query:
    storage:
      traces: memstore
    http:
      endpoint: 127.0.0.1:{query_http}
    grpc:
      endpoint: 127.0.0.1:{query_grpc}
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:{otlp_grpc}
      http:
        endpoint: 127.0.0.1:{otlp_http}
exporters:
  jaeger_storage_exporter:
    trace_storage: memstore
"
    )
}

/// A Jaeger for one test, as a local process or a container; stopped (and removed) when
/// dropped.
///
/// ```no_run
/// use only1mcp_obs_testkit::backend::Backend;
/// use only1mcp_obs_testkit::traces::{Jaeger, SpanQuery};
/// use std::time::Duration;
/// let backend = Backend::Process;
/// if let Some(why) = Jaeger::unavailable(backend) {
///     eprintln!("no Jaeger here: {why}");
///     return;
/// }
/// let jaeger = Jaeger::start(backend).unwrap();
/// // ... export spans to jaeger.grpc_endpoint() ...
/// let spans = jaeger.query().spans().unwrap();
/// # let _ = (spans, Duration::from_secs(1), SpanQuery::default());
/// ```
#[derive(Debug)]
pub struct Jaeger {
    // Dropped first: the process or container goes before its config directory.
    running: Running,
    dir: tempfile::TempDir,
    image: String,
    otlp_grpc: u16,
    otlp_http: u16,
    query: JaegerQuery,
}

/// Where a Jaeger comes from.
enum Source<'a> {
    Backend(Backend),
    Image(&'a str),
}

impl Jaeger {
    /// Why Jaeger cannot run on `backend` (binary not built; no Docker engine or image not in
    /// it), or `None`.
    pub fn unavailable(backend: Backend) -> Option<String> {
        Component::Jaeger.unavailable(backend, Generation::Current)
    }

    /// Starts Jaeger on `backend` (the built binary, or [`JAEGER_IMAGE`] /
    /// `ONLY1MCP_TESTKIT_JAEGER_IMAGE`) and waits until its receivers and query API answer.
    pub fn start(backend: Backend) -> io::Result<Self> {
        if let Some(why) = Self::unavailable(backend) {
            return Err(io::Error::new(io::ErrorKind::NotFound, why));
        }
        Self::start_within(Source::Backend(backend), crate::STARTUP)
    }

    /// Starts Jaeger from `image` (a Jaeger v2 image, e.g. the official one).
    pub fn start_image(image: &str) -> io::Result<Self> {
        Self::start_within(Source::Image(image), crate::STARTUP)
    }

    fn start_within(source: Source<'_>, deadline: Duration) -> io::Result<Self> {
        let free = crate::backend::free_port;
        let (otlp_grpc, otlp_http, query_http, query_grpc) = (free()?, free()?, free()?, free()?);
        let dir = tempfile::Builder::new()
            .prefix("only1mcp-jaeger-")
            .tempdir()?;
        let config = dir.path().join("jaeger.yaml");
        std::fs::write(
            &config,
            config_yaml(otlp_grpc, otlp_http, query_http, query_grpc),
        )?;
        let args = vec!["--config".to_owned(), config.to_string_lossy().into_owned()];
        let (running, image) = match source {
            Source::Backend(backend) => (
                backend.launch(Component::Jaeger, Generation::Current, args, dir.path())?,
                match backend {
                    Backend::Process => format!("jaeger {JAEGER_VERSION} (process)"),
                    Backend::Container => Component::Jaeger.image(Generation::Current),
                },
            ),
            Source::Image(image) => (
                crate::backend::launch_container(image, args, dir.path())?,
                image.to_owned(),
            ),
        };
        let query = JaegerQuery::new(format!("http://127.0.0.1:{query_http}"));
        let jaeger = Jaeger {
            running,
            dir,
            image,
            otlp_grpc,
            otlp_http,
            query,
        };
        jaeger.wait_ready(deadline)?;
        Ok(jaeger)
    }

    /// The query API (an extension) can answer before the OTLP receivers (the pipeline)
    /// listen: waits for all three.
    fn wait_ready(&self, deadline: Duration) -> io::Result<()> {
        let listening = |port: u16| std::net::TcpStream::connect(("127.0.0.1", port)).is_ok();
        crate::poll(deadline, || {
            (listening(self.otlp_grpc)
                && listening(self.otlp_http)
                && self.query.services().is_ok())
            .then_some(())
        })
        .map_err(|e| {
            io::Error::new(
                io::ErrorKind::TimedOut,
                format!(
                    "Jaeger ({}) did not answer at {} ({e}); it printed:\n{}",
                    self.image,
                    self.query.url(),
                    self.output()
                ),
            )
        })
    }

    /// The image it runs, or `jaeger VERSION (process)`.
    pub fn image(&self) -> &str {
        &self.image
    }

    /// The OTLP/gRPC endpoint, e.g. `http://127.0.0.1:4317`.
    pub fn grpc_endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.otlp_grpc)
    }

    /// The OTLP/HTTP base URL; spans go to its `/v1/traces`.
    pub fn http_endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.otlp_http)
    }

    /// The query adapter over this Jaeger.
    pub fn query(&self) -> &JaegerQuery {
        &self.query
    }

    /// What the container printed, for failure messages.
    pub fn output(&self) -> String {
        self.running.output(self.dir.path())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::traces::{AttrValue, SpanKind};
    use opentelemetry_proto::tonic::common::v1::{
        AnyValue, ArrayValue, InstrumentationScope, KeyValue, KeyValueList, any_value,
    };
    use opentelemetry_proto::tonic::resource::v1::Resource;
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status, span};

    /// An answer of Jaeger's `GET /api/v3/traces`, in the encoding its HTTP gateway writes (the
    /// collector's OTLP/JSON marshaller: hex ids, 64-bit integers as strings, enums as numbers,
    /// bytes as base64, empty fields left out, `"status":{}` on spans without one). Checked
    /// against Jaeger 2.13 itself by `the_adapter_reads_back_what_a_real_jaeger_stored`.
    const ANSWER: &str = r#"{"result":{"resourceSpans":[{"resource":{"attributes":[
        {"key":"service.name","value":{"stringValue":"only1mcp-aggregator"}},
        {"key":"service.version","value":{"stringValue":"0.1.0"}}]},
      "scopeSpans":[{"scope":{"name":"only1mcp-obs","version":"0.1.0"},"spans":[
        {"traceId":"4bf92f3577b34da6a3ce929d0e0e4736","spanId":"00f067aa0ba902b7",
         "name":"tools/call search","kind":2,
         "startTimeUnixNano":"1764140000000000000","endTimeUnixNano":"1764140000002500000",
         "attributes":[
           {"key":"mcp.method.name","value":{"stringValue":"tools/call"}},
           {"key":"jsonrpc.request.id","value":{"intValue":"42"}},
           {"key":"only1mcp.cache.hit","value":{"boolValue":false}},
           {"key":"only1mcp.cost.usd","value":{"doubleValue":0.25}},
           {"key":"only1mcp.servers","value":{"arrayValue":{"values":[{"stringValue":"files"},{"stringValue":"web"}]}}},
           {"key":"only1mcp.limits","value":{"kvlistValue":{"values":[{"key":"max","value":{"intValue":"3"}}]}}},
           {"key":"only1mcp.digest","value":{"bytesValue":"3q2+7w=="}}],
         "links":[{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331"}],
         "status":{"code":2,"message":"backend failed"}},
        {"traceId":"4bf92f3577b34da6a3ce929d0e0e4736","spanId":"a3ce929d0e0e4736",
         "parentSpanId":"00f067aa0ba902b7","name":"tools/call search","kind":3,
         "startTimeUnixNano":"1764140000000100000","endTimeUnixNano":"1764140000002400000",
         "status":{}}]}]}]}}"#;

    /// The OTLP/JSON request body that stores [`ANSWER`]'s spans: the answer without its wrapper.
    fn export_body() -> String {
        let answer: serde_json::Value = serde_json::from_str(ANSWER).expect("json");
        answer["result"].to_string()
    }

    /// A Jaeger for a test: a process when it is built, else `None` (on the terminal) unless
    /// `ONLY1MCP_TESTKIT_REQUIRE` lists `jaeger`.
    fn real_jaeger(test: &str) -> Option<Jaeger> {
        if let Some(why) = Jaeger::unavailable(Backend::Process) {
            assert!(!crate::backend::required("jaeger"), "[{test}] {why}");
            use std::io::Write;
            let _ = writeln!(io::stderr(), "[{test}] SKIPPED: {why}");
            return None;
        }
        Some(Jaeger::start(Backend::Process).expect("jaeger"))
    }

    /// The adapter against Jaeger 2.13's real answers: the spans of [`ANSWER`], exported over
    /// OTLP/HTTP, come back through every query exactly as the canned answer parses, and the
    /// empty and malformed cases are what Jaeger really answers.
    #[test]
    fn the_adapter_reads_back_what_a_real_jaeger_stored() {
        let Some(jaeger) = real_jaeger("adapter_against_jaeger") else {
            return;
        };
        let q = jaeger.query();
        // A fresh Jaeger answers `{}` for services, 404 for an unknown trace or service.
        assert!(q.services().expect("services").is_empty());
        assert!(
            q.trace("4bf92f3577b34da6a3ce929d0e0e4736")
                .expect("404")
                .is_empty()
        );
        assert!(q.find_traces("nobody").expect("404").is_empty());
        let url = format!("{}/v1/traces", jaeger.http_endpoint());
        let sent = http::post(&url, "application/json", export_body().as_bytes()).expect("post");
        assert_eq!(sent.status, 200, "{}", sent.body);
        let expected: Vec<ReceivedSpan> = parse_traces(ANSWER).expect("canned");
        let stored = crate::poll(Duration::from_secs(10), || {
            q.trace("4bf92f3577b34da6a3ce929d0e0e4736")
                .ok()
                .filter(|s| s.len() == 2)
        })
        .expect("trace stored");
        assert_eq!(stored, expected, "GET /api/v3/traces/{{id}}");
        assert_eq!(q.services().expect("services"), ["only1mcp-aggregator"]);
        assert_eq!(
            q.find_traces("only1mcp-aggregator").expect("search"),
            expected
        );
        assert_eq!(q.spans().expect("all spans"), expected);
        let bad = q.trace("not-hex").expect_err("invalid id");
        assert_eq!(bad.kind(), io::ErrorKind::InvalidInput);
    }

    /// What Jaeger 2.13 answers to a search without a depth, or without a time window: errors
    /// that the adapter passes on with Jaeger's own message.
    #[test]
    fn a_real_jaeger_refuses_searches_the_adapter_never_sends() {
        let Some(jaeger) = real_jaeger("jaeger_refusals") else {
            return;
        };
        let base = jaeger.query().url();
        let no_depth = format!(
            "{base}/api/v3/traces?query.service_name=x&query.start_time_min={SEARCH_FROM}&query.start_time_max={SEARCH_TO}"
        );
        let answer = http::get(&no_depth).expect("get");
        assert_eq!(answer.status, 500, "{}", answer.body);
        assert!(
            answer.body.contains("search depth must be greater than 0"),
            "{}",
            answer.body
        );
        let no_window = format!("{base}/api/v3/traces?query.service_name=x&query.num_traces=5");
        let answer = http::get(&no_window).expect("get");
        assert_eq!(answer.status, 400, "{}", answer.body);
        assert!(
            answer
                .body
                .contains("query.start_time_min and query.start_time_max are required")
        );
    }

    #[test]
    fn an_api_v3_answer_becomes_received_spans_with_typed_values() {
        let spans = parse_traces(ANSWER).expect("ok");
        assert_eq!(spans.len(), 2);
        let (server, client) = (&spans[0], &spans[1]);
        assert_eq!(server.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(server.span_id, "00f067aa0ba902b7");
        assert_eq!(server.parent_span_id, None);
        assert_eq!(server.kind, SpanKind::Server);
        assert_eq!(server.service(), Some("only1mcp-aggregator"));
        assert_eq!(server.scope, "only1mcp-obs");
        assert_eq!(server.attr("jsonrpc.request.id"), Some(&AttrValue::Int(42)));
        assert_eq!(
            server.attr("only1mcp.cache.hit"),
            Some(&AttrValue::Bool(false))
        );
        assert_eq!(
            server.attr("only1mcp.cost.usd"),
            Some(&AttrValue::Double(0.25))
        );
        assert_eq!(
            server.attr("only1mcp.servers"),
            Some(&AttrValue::Array(vec!["files".into(), "web".into()]))
        );
        assert_eq!(
            server.attr("only1mcp.limits"),
            Some(&AttrValue::Map(
                [("max".to_owned(), AttrValue::Int(3))].into()
            ))
        );
        assert_eq!(
            server.attr("only1mcp.digest"),
            Some(&AttrValue::Bytes(vec![0xde, 0xad, 0xbe, 0xef]))
        );
        assert_eq!(
            (server.status_code, server.status_message.as_str()),
            (2, "backend failed")
        );
        assert_eq!(
            server.links,
            [(
                "0af7651916cd43dd8448eb211c80319c".to_owned(),
                "b7ad6b7169203331".to_owned()
            )]
        );
        assert_eq!(server.end_unix_nano - server.start_unix_nano, 2_500_000);
        assert_eq!(server.transport, "jaeger");
        assert_eq!(client.parent_span_id.as_deref(), Some("00f067aa0ba902b7"));
        assert_eq!((client.kind, client.status_code), (SpanKind::Client, 0));
    }

    #[test]
    fn the_smallest_answer_and_an_empty_result_parse() {
        // The shape of Jaeger's own snapshot for GetTrace: empty resource and scope.
        let minimal = r#"{"result":{"resourceSpans":[{"resource":{},"scopeSpans":[{"scope":{},
            "spans":[{"kind":2,"name":"foobar","spanId":"0000000000000002","status":{"code":2},
            "traceId":"00000000000000000000000000000001"}]}]}]}}"#;
        let spans = parse_traces(minimal).expect("ok");
        assert_eq!(spans.len(), 1);
        assert_eq!(spans[0].service(), None);
        assert_eq!(spans[0].trace_id, "00000000000000000000000000000001");
        assert!(parse_traces(r#"{"result":null}"#).expect("ok").is_empty());
    }

    #[test]
    fn a_malformed_answer_is_an_error_that_quotes_it() {
        let err = parse_traces("<html>proxy error</html>").expect_err("an error");
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(err.to_string().contains("<html>proxy error"), "{err}");
        let err = parse_traces(
            r#"{"result":{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"zz"}]}]}]}}"#,
        )
        .expect_err("an error");
        assert!(
            err.to_string().contains("not an OTLP/JSON trace answer"),
            "{err}"
        );
        assert_eq!(
            parse_services(r#"{"services":["a","b"]}"#).expect("ok"),
            ["a", "b"]
        );
        assert!(parse_services("{}").expect("ok").is_empty());
        assert!(parse_services("[").is_err());
    }

    fn kv(key: &str, value: any_value::Value) -> KeyValue {
        KeyValue {
            key: key.to_owned(),
            value: Some(AnyValue { value: Some(value) }),
            ..Default::default()
        }
    }

    /// What the receiver decodes from protobuf and what the adapter decodes from Jaeger's
    /// OTLP/JSON are the same spans: one query API over both backends.
    #[test]
    fn protobuf_and_otlp_json_give_the_same_spans() {
        use any_value::Value as V;
        let span = |id: u8, parent: Option<u8>, kind: span::SpanKind| Span {
            trace_id: vec![7; 16],
            span_id: vec![id; 8],
            parent_span_id: parent.map(|p| vec![p; 8]).unwrap_or_default(),
            name: "tools/call search".to_owned(),
            kind: kind as i32,
            start_time_unix_nano: 1_764_140_000_000_000_000 + u64::from(id),
            end_time_unix_nano: u64::MAX - 1,
            attributes: vec![
                kv("s", V::StringValue("ünïcode \"quoted\"".to_owned())),
                kv("i", V::IntValue(i64::MIN)),
                kv("b", V::BoolValue(true)),
                kv("d", V::DoubleValue(-1.5e-7)),
                kv("bytes", V::BytesValue(vec![0, 255, 16])),
                kv(
                    "a",
                    V::ArrayValue(ArrayValue {
                        values: vec![AnyValue {
                            value: Some(V::IntValue(1)),
                        }],
                    }),
                ),
                kv(
                    "m",
                    V::KvlistValue(KeyValueList {
                        values: vec![kv("k", V::StringValue("v".to_owned()))],
                    }),
                ),
            ],
            status: Some(Status {
                code: 2,
                message: "failed".to_owned(),
            }),
            links: vec![span::Link {
                trace_id: vec![9; 16],
                span_id: vec![3; 8],
                ..Default::default()
            }],
            ..Default::default()
        };
        let resource_spans = vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![kv("service.name", V::StringValue("svc".to_owned()))],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                scope: Some(InstrumentationScope {
                    name: "only1mcp-obs".to_owned(),
                    ..Default::default()
                }),
                spans: vec![
                    span(1, None, span::SpanKind::Server),
                    span(2, Some(1), span::SpanKind::Client),
                ],
                ..Default::default()
            }],
            ..Default::default()
        }];
        let from_protobuf = flatten(&resource_spans, "grpc");
        let json = serde_json::json!({
            "result": TracesData { resource_spans }
        })
        .to_string();
        assert!(
            json.contains(r#""traceId":"07070707070707070707070707070707""#),
            "{json}"
        );
        assert!(
            json.contains(r#""intValue":"-9223372036854775808""#),
            "{json}"
        );
        let from_json = parse_traces(&json).expect("ok");
        assert_eq!(from_json.len(), 2);
        for (mut json, proto) in from_json.into_iter().zip(from_protobuf) {
            json.transport = proto.transport;
            assert_eq!(json, proto);
        }
    }

    #[test]
    fn the_jaeger_config_binds_loopback_only() {
        let config = config_yaml(4001, 4002, 4003, 4004);
        for port in [4001, 4002, 4003, 4004] {
            assert!(
                config.contains(&format!("endpoint: 127.0.0.1:{port}")),
                "{config}"
            );
        }
        assert_eq!(config.matches("endpoint:").count(), 4, "{config}");
        assert!(!config.contains("0.0.0.0"));
        // Jaeger's own metrics listener (8888 by default) is off.
        assert!(config.contains("level: none"));
    }

    /// A container that never serves the query API is reported with what it printed. (Real
    /// container, real engine; the image is the testkit's Prometheus 2, which refuses Jaeger's
    /// flags.)
    #[test]
    fn a_jaeger_that_never_answers_is_reported_with_its_output() {
        let prometheus = Component::Prometheus.image(Generation::Legacy);
        if let Some(why) = crate::backend::engine_unavailable()
            .or_else(|| crate::backend::image_missing(Component::Prometheus, Generation::Legacy))
        {
            assert!(!crate::backend::required("container"), "{why}");
            use std::io::Write;
            let _ = writeln!(io::stderr(), "[jaeger_never_answers] SKIPPED: {why}");
            return;
        }
        let err = Jaeger::start_within(Source::Image(&prometheus), Duration::from_secs(3))
            .expect_err("Prometheus is not a Jaeger");
        let message = err.to_string();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut, "{message}");
        assert!(
            message.contains("did not answer at http://127.0.0.1:"),
            "{message}"
        );
        // Prometheus's own complaint about the flag, read from the container.
        assert!(message.contains("--config"), "{message}");
    }

    /// Serves one canned answer on 127.0.0.1 and hands back the request line it got.
    fn answer_once(status: &str, body: &'static str) -> (String, std::thread::JoinHandle<String>) {
        use std::io::{BufRead, BufReader, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let status = status.to_owned();
        let served = std::thread::spawn(move || {
            let (stream, _) = listener.accept().expect("accept");
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut request_line = String::new();
            reader.read_line(&mut request_line).expect("request line");
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let mut stream = stream;
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            request_line
        });
        (base, served)
    }

    #[test]
    fn a_search_asks_for_raw_traces_with_a_depth_under_the_gateways_parameter_names() {
        let (base, served) = answer_once(
            "404 Not Found",
            r#"{"error":{"httpCode":404,"message":"No traces found"}}"#,
        );
        let spans = JaegerQuery::new(base).find_traces("only1mcp aggregator");
        assert!(spans.expect("404 is an empty result").is_empty());
        let request = served.join().expect("served");
        for param in [
            "query.service_name=only1mcp%20aggregator",
            "query.start_time_min=2000-01-01T00:00:00Z",
            "query.start_time_max=2100-01-01T00:00:00Z",
            "query.num_traces=1000",
            "query.raw_traces=true",
        ] {
            assert!(request.contains(param), "{param} missing from {request}");
        }
        // Names Jaeger 2.13 does not know are not sent.
        for unknown in ["serviceName", "search_depth", "rawTraces"] {
            assert!(!request.contains(unknown), "{unknown} in {request}");
        }
        assert!(request.starts_with("GET /api/v3/traces?"), "{request}");
    }

    #[test]
    fn a_failing_jaeger_is_an_error_that_says_what_it_answered() {
        let (base, served) = answer_once(
            "500 Internal Server Error",
            r#"{"error":{"httpCode":500,"message":"search depth must be greater than 0"}}"#,
        );
        let err = JaegerQuery::new(base)
            .trace("4bf92f3577b34da6a3ce929d0e0e4736")
            .expect_err("500");
        assert!(err.to_string().contains("answered 500"), "{err}");
        assert!(err.to_string().contains("search depth"), "{err}");
        assert!(
            served
                .join()
                .expect("served")
                .contains("/api/v3/traces/4bf92f3577b34da6a3ce929d0e0e4736?raw_traces=true ")
        );
        let bad = JaegerQuery::new("http://127.0.0.1:9").trace("not-hex");
        assert_eq!(bad.expect_err("bad id").kind(), io::ErrorKind::InvalidInput);
    }

    #[test]
    fn the_image_and_the_readme_name_the_pinned_version() {
        assert!(JAEGER_IMAGE.ends_with(&format!(":{JAEGER_VERSION}")));
        let readme = include_str!("../../../README.md");
        let official = format!("jaegertracing/jaeger:{JAEGER_VERSION}");
        assert!(readme.contains(&official), "README.md must name {official}");
    }
}
