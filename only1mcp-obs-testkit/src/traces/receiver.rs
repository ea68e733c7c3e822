//! The in-process OTLP receiver: gRPC and HTTP/protobuf on 127.0.0.1, on a thread of its own.
//! It takes spans, and metrics too (their names are kept), for checks of an OTLP metrics push.

use super::{ReceivedSpan, flatten};
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_server::{
    MetricsService, MetricsServiceServer,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use prost::Message;
use std::collections::BTreeSet;
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

/// What the receiver has stored.
#[derive(Debug, Default)]
struct Store {
    spans: Mutex<Vec<ReceivedSpan>>,
    requests: Mutex<u64>,
    /// Metric names received, with the transport (`grpc`, `http`) they came over.
    metrics: Mutex<BTreeSet<(String, &'static str)>>,
}

impl Store {
    fn add(&self, request: &ExportTraceServiceRequest, transport: &'static str) {
        *self.requests.lock().unwrap_or_else(PoisonError::into_inner) += 1;
        self.spans
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend(flatten(&request.resource_spans, transport));
    }

    fn add_metrics(&self, request: &ExportMetricsServiceRequest, transport: &'static str) {
        let names = request
            .resource_metrics
            .iter()
            .flat_map(|r| &r.scope_metrics)
            .flat_map(|s| &s.metrics)
            .map(|m| (m.name.clone(), transport));
        self.metrics
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend(names);
    }
}

#[tonic::async_trait]
impl MetricsService for Grpc {
    async fn export(
        &self,
        request: tonic::Request<ExportMetricsServiceRequest>,
    ) -> Result<tonic::Response<ExportMetricsServiceResponse>, tonic::Status> {
        self.0.add_metrics(request.get_ref(), "grpc");
        Ok(tonic::Response::new(ExportMetricsServiceResponse {
            partial_success: None,
        }))
    }
}

async fn http_export_metrics(
    axum::extract::State(store): axum::extract::State<Arc<Store>>,
    body: axum::body::Bytes,
) -> (axum::http::StatusCode, Vec<u8>) {
    match ExportMetricsServiceRequest::decode(body) {
        Ok(request) => {
            store.add_metrics(&request, "http");
            let answer = ExportMetricsServiceResponse {
                partial_success: None,
            };
            (axum::http::StatusCode::OK, answer.encode_to_vec())
        }
        Err(e) => (
            axum::http::StatusCode::BAD_REQUEST,
            e.to_string().into_bytes(),
        ),
    }
}

#[derive(Clone)]
struct Grpc(Arc<Store>);

#[tonic::async_trait]
impl TraceService for Grpc {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        self.0.add(request.get_ref(), "grpc");
        Ok(tonic::Response::new(ExportTraceServiceResponse {
            partial_success: None,
        }))
    }
}

async fn http_export(
    axum::extract::State(store): axum::extract::State<Arc<Store>>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> (axum::http::StatusCode, Vec<u8>) {
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !content_type.starts_with("application/x-protobuf") {
        return (
            axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
            b"only application/x-protobuf".to_vec(),
        );
    }
    match ExportTraceServiceRequest::decode(body) {
        Ok(request) => {
            store.add(&request, "http");
            (
                axum::http::StatusCode::OK,
                ExportTraceServiceResponse {
                    partial_success: None,
                }
                .encode_to_vec(),
            )
        }
        Err(e) => (
            axum::http::StatusCode::BAD_REQUEST,
            e.to_string().into_bytes(),
        ),
    }
}

/// A running OTLP receiver; stops when dropped. Query what it holds through
/// [`TraceBackend`](super::TraceBackend) (`OtlpReceiver::start()?.into()`), the API Jaeger answers
/// too.
pub struct OtlpReceiver {
    grpc: SocketAddr,
    http: SocketAddr,
    store: Arc<Store>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl fmt::Debug for OtlpReceiver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OtlpReceiver")
            .field("grpc", &self.grpc)
            .field("http", &self.http)
            .finish()
    }
}

impl OtlpReceiver {
    /// Starts gRPC and HTTP/protobuf listeners on free ports of 127.0.0.1, on a thread of its own.
    ///
    /// ```
    /// let receiver = only1mcp_obs_testkit::traces::OtlpReceiver::start().unwrap();
    /// assert!(receiver.grpc_endpoint().starts_with("http://127.0.0.1:"));
    /// assert!(receiver.spans().is_empty());
    /// ```
    pub fn start() -> io::Result<Self> {
        let grpc_listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        let http_listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        grpc_listener.set_nonblocking(true)?;
        http_listener.set_nonblocking(true)?;
        let (grpc, http) = (grpc_listener.local_addr()?, http_listener.local_addr()?);
        let store = Arc::new(Store::default());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()?;
        let served = store.clone();
        let thread = std::thread::Builder::new()
            .name("otlp-receiver".to_owned())
            .spawn(move || {
                runtime.block_on(async move {
                    let (Ok(grpc_listener), Ok(http_listener)) = (
                        tokio::net::TcpListener::from_std(grpc_listener),
                        tokio::net::TcpListener::from_std(http_listener),
                    ) else {
                        return;
                    };
                    let grpc = tonic::transport::Server::builder()
                        .add_service(TraceServiceServer::new(Grpc(served.clone())))
                        .add_service(MetricsServiceServer::new(Grpc(served.clone())))
                        .serve_with_incoming(tonic::transport::server::TcpIncoming::from(
                            grpc_listener,
                        ));
                    let app = axum::Router::new()
                        .route("/v1/traces", axum::routing::post(http_export))
                        .route("/v1/metrics", axum::routing::post(http_export_metrics))
                        .with_state(served);
                    let http = axum::serve(http_listener, app);
                    tokio::select! {
                        _ = grpc => {}
                        _ = http.into_future() => {}
                        _ = rx => {}
                    }
                });
            })?;
        Ok(OtlpReceiver {
            grpc,
            http,
            store,
            shutdown: Some(tx),
            thread: Some(thread),
        })
    }

    /// The gRPC endpoint, e.g. `http://127.0.0.1:4317`.
    pub fn grpc_endpoint(&self) -> String {
        format!("http://{}", self.grpc)
    }

    /// The HTTP endpoint's base URL; spans go to its `/v1/traces`.
    pub fn http_endpoint(&self) -> String {
        format!("http://{}", self.http)
    }

    /// Every span received so far.
    pub fn spans(&self) -> Vec<ReceivedSpan> {
        self.store
            .spans
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The metric names received so far over `transport` (`grpc` or `http`).
    pub fn metric_names(&self, transport: &str) -> BTreeSet<String> {
        self.store
            .metrics
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .filter(|(_, t)| *t == transport)
            .map(|(name, _)| name.clone())
            .collect()
    }

    /// Span export requests received so far.
    pub fn requests(&self) -> u64 {
        *self
            .store
            .requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for OtlpReceiver {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
