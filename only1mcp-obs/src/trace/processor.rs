//! A batch span processor whose queue is bounded and whose callers never wait: a span that does
//! not fit is dropped and counted. A collector that is down or slow costs the instrumented call
//! at most a counter check and a send that never blocks.

use crate::trace::own_metrics::{SPANS_DROPPED, SPANS_EXPORTED, SpanDropReason};
use opentelemetry::Context;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{Span, SpanData, SpanExporter, SpanProcessor};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::sync::mpsc::{
    Receiver, RecvTimeoutError, Sender, SyncSender, TrySendError, channel, sync_channel,
};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Sizes and periods of the batch processor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchSettings {
    /// Spans waiting for export; past this, new spans are dropped and counted.
    pub max_queue_size: usize,
    /// Bytes of span data (names, attribute keys and values, events) waiting for export; past
    /// this, new spans are dropped and counted, so large spans cannot grow the queue unbounded.
    pub max_queue_bytes: usize,
    /// Most spans per export request.
    pub max_export_batch_size: usize,
    /// Longest a span waits before its batch is sent.
    pub scheduled_delay: Duration,
    /// Longest one export may take before it is abandoned and its spans counted as dropped.
    pub export_timeout: Duration,
}

impl Default for BatchSettings {
    fn default() -> Self {
        BatchSettings {
            max_queue_size: 8192,
            max_queue_bytes: 16 << 20,
            max_export_batch_size: 512,
            scheduled_delay: Duration::from_millis(500),
            export_timeout: Duration::from_secs(10),
        }
    }
}

/// How export futures are driven on the export thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportDriver {
    /// On the thread's tokio runtime, with the export timeout (gRPC exporters).
    Tokio,
    /// On a plain executor outside any runtime (blocking HTTP clients, in-memory exporters);
    /// the exporter enforces its own timeout.
    Blocking,
}

/// A request to the export thread. Spans travel on a channel of their own, which the thread
/// never blocks on: a span does not wake it. It wakes on these, or when the batch delay is up.
enum Control {
    /// A batch's worth of spans is queued: export without waiting for the delay.
    ExportNow,
    Flush(SyncSender<OTelSdkResult>),
    Shutdown(SyncSender<OTelSdkResult>),
}

/// A span and the bytes it was counted for. Queued by value on an unbounded channel whose
/// length the processor bounds itself (`State::spans`, `State::bytes`): the channel allocates a
/// block per 31 spans as it grows, instead of a box per span, and nothing for slots never used.
type Queued = (SpanData, usize);

/// Exports spans in batches from its own thread. `on_end` never waits: when the queue holds
/// `max_queue_size` spans or `max_queue_bytes` bytes the span is dropped and counted in
/// `only1mcp_obs_spans_dropped_total{reason="queue_full"|"queue_bytes"}`.
///
/// A span is handed over with one `send` on a channel the export thread only drains, so the
/// call that ended it makes no system call to wake another thread (the way the SDK's own batch
/// processor works). The thread wakes when the batch delay is up, when a batch's worth of spans
/// is waiting (one nudge per batch), or for flush and shutdown, which have a channel of their
/// own and so are never stuck behind a full queue.
#[derive(Debug)]
pub struct BoundedBatchProcessor {
    spans: Sender<Queued>,
    control: SyncSender<Control>,
    state: Arc<State>,
    limits: Limits,
    worker: Mutex<Option<JoinHandle<()>>>,
}

/// The bounds `on_end` checks.
#[derive(Debug, Clone, Copy)]
struct Limits {
    spans: usize,
    bytes: usize,
    batch: usize,
}

/// What the queue holds now, and whether the export thread has been nudged for it.
#[derive(Debug, Default)]
struct State {
    spans: AtomicUsize,
    bytes: AtomicUsize,
    nudged: AtomicBool,
}

impl State {
    fn release(&self, bytes: usize) {
        self.spans.fetch_sub(1, Relaxed);
        self.bytes.fetch_sub(bytes, Relaxed);
    }
}

/// Channel slots for flush and shutdown requests and the export nudge.
const CONTROL_SLOTS: usize = 8;

/// About what a value weighs: a string's length, a fixed part for a number or a flag.
fn value_bytes(value: &opentelemetry::Value) -> usize {
    match value {
        opentelemetry::Value::String(s) => s.as_str().len(),
        opentelemetry::Value::Array(_) => value.as_str().len(),
        _ => 8,
    }
}

/// About what a span weighs in the queue: its strings and a fixed part for the rest.
fn span_bytes(span: &SpanData) -> usize {
    let attributes = |kvs: &[opentelemetry::KeyValue]| -> usize {
        kvs.iter()
            .map(|kv| kv.key.as_str().len() + value_bytes(&kv.value) + 16)
            .sum()
    };
    let events: usize = span
        .events
        .iter()
        .map(|e| e.name.len() + attributes(&e.attributes) + 32)
        .sum();
    256 + span.name.len() + attributes(&span.attributes) + events
}

impl BoundedBatchProcessor {
    /// Starts the export thread. `make_exporter` runs on that thread, inside a tokio runtime
    /// owned by the thread (gRPC exporters need one to be built and to export); the exporter is
    /// given `resource`. When it fails, its error is logged and every span is dropped (and
    /// counted).
    pub fn start<E, F, Error>(
        settings: BatchSettings,
        resource: Resource,
        make_exporter: F,
    ) -> std::io::Result<Self>
    where
        E: SpanExporter + 'static,
        Error: std::error::Error,
        F: FnOnce() -> Result<(E, ExportDriver), Error> + Send + 'static,
    {
        let limits = Limits {
            spans: settings.max_queue_size.max(1),
            bytes: settings.max_queue_bytes,
            batch: settings.max_export_batch_size.max(1),
        };
        let (spans, span_receiver) = channel();
        let (control, control_receiver) = sync_channel(CONTROL_SLOTS);
        let state = Arc::new(State::default());
        let worker_state = state.clone();
        let worker = std::thread::Builder::new()
            .name("only1mcp-obs-span-export".to_owned())
            .spawn(move || {
                let queues = Queues {
                    spans: span_receiver,
                    control: control_receiver,
                    state: &worker_state,
                };
                run_worker(settings, resource, make_exporter, &queues)
            })?;
        Ok(BoundedBatchProcessor {
            spans,
            control,
            state,
            limits,
            worker: Mutex::new(Some(worker)),
        })
    }

    fn request(
        &self,
        make: fn(SyncSender<OTelSdkResult>) -> Control,
        timeout: Duration,
    ) -> OTelSdkResult {
        let (ack, done) = sync_channel(1);
        // This finds room unless CONTROL_SLOTS requests are already waiting for an export
        // that hangs.
        match self.control.try_send(make(ack)) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => return Err(OTelSdkError::Timeout(Duration::ZERO)),
            Err(TrySendError::Disconnected(_)) => return Err(OTelSdkError::AlreadyShutdown),
        }
        done.recv_timeout(timeout)
            .unwrap_or(Err(OTelSdkError::Timeout(timeout)))
    }
}

impl SpanProcessor for BoundedBatchProcessor {
    fn on_start(&self, _span: &mut Span, _cx: &Context) {}

    fn on_end(&self, span: SpanData) {
        if !span.span_context.is_sampled() {
            return;
        }
        let limits = self.limits;
        let bytes = span_bytes(&span);
        let queued = self.state.spans.fetch_add(1, Relaxed);
        if queued >= limits.spans {
            self.state.spans.fetch_sub(1, Relaxed);
            SPANS_DROPPED.labels(SpanDropReason::QueueFull).inc();
            return;
        }
        if self.state.bytes.fetch_add(bytes, Relaxed) + bytes > limits.bytes {
            self.state.release(bytes);
            SPANS_DROPPED.labels(SpanDropReason::QueueBytes).inc();
            return;
        }
        match self.spans.send((span, bytes)) {
            Ok(()) => {
                if queued + 1 >= limits.batch && !self.state.nudged.swap(true, Relaxed) {
                    // Full control slots mean the thread is awake already.
                    let _ = self.control.try_send(Control::ExportNow);
                }
            }
            Err(_) => {
                self.state.release(bytes);
                SPANS_DROPPED.labels(SpanDropReason::Shutdown).inc()
            }
        }
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.request(Control::Flush, Duration::from_secs(30))
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        let result = self.request(Control::Shutdown, timeout);
        if let Some(worker) = self
            .worker
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
            && result.is_ok()
        {
            let _ = worker.join();
        }
        result
    }

    /// The exporter was given its resource when the processor started.
    fn set_resource(&mut self, _resource: &Resource) {}
}

/// The export thread's ends of the two channels, and the shared queue state.
struct Queues<'a> {
    spans: Receiver<Queued>,
    control: Receiver<Control>,
    state: &'a State,
}

impl Queues<'_> {
    /// Takes the spans queued now, at most `max` of them (so a steady stream cannot keep the
    /// thread in one drain), passing each full batch of `batch` to `export`.
    fn drain(
        &self,
        (max, max_batch): (usize, usize),
        batch: &mut Vec<SpanData>,
        mut export: impl FnMut(&mut Vec<SpanData>),
    ) {
        // Spans queued after this point nudge again.
        self.state.nudged.store(false, Relaxed);
        for _ in 0..max {
            let Ok((span, bytes)) = self.spans.try_recv() else {
                break;
            };
            self.state.release(bytes);
            batch.push(span);
            if batch.len() >= max_batch {
                export(batch);
            }
        }
        export(batch);
    }
}

fn run_worker<E, F, Error>(
    settings: BatchSettings,
    resource: Resource,
    make_exporter: F,
    queues: &Queues<'_>,
) where
    E: SpanExporter + 'static,
    Error: std::error::Error,
    F: FnOnce() -> Result<(E, ExportDriver), Error>,
{
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            return drain_failed(
                queues,
                settings.scheduled_delay,
                &format!("cannot start the span export runtime: {e}"),
            );
        }
    };
    let (mut exporter, driver) = match runtime.block_on(async { make_exporter() }) {
        Ok(built) => built,
        Err(e) => return drain_failed(queues, settings.scheduled_delay, &e.to_string()),
    };
    exporter.set_resource(&resource);
    let pipe = Pipe {
        runtime: &runtime,
        exporter: &exporter,
        driver,
        timeout: settings.export_timeout,
    };
    export_until_shutdown(&settings, &pipe, queues);
}

/// Exports what is queued at every wake (a control message, a full batch, or
/// `scheduled_delay`), until shutdown or until the processor is gone.
fn export_until_shutdown<E: SpanExporter>(
    settings: &BatchSettings,
    pipe: &Pipe<'_, E>,
    queues: &Queues<'_>,
) {
    let exporter = pipe.exporter;
    let max_batch = settings.max_export_batch_size.max(1);
    let sizes = (settings.max_queue_size.max(1), max_batch);
    let mut batch: Vec<SpanData> = Vec::with_capacity(max_batch);
    let mut deadline = Instant::now() + settings.scheduled_delay;
    loop {
        let wait = deadline.saturating_duration_since(Instant::now());
        let control = queues.control.recv_timeout(wait);
        // Every wake exports what is queued; the first failure is what a flush reports.
        let mut result = Ok(());
        queues.drain(sizes, &mut batch, |batch| {
            let exported = pipe.export(batch);
            if result.is_ok() {
                result = exported;
            }
        });
        deadline = Instant::now() + settings.scheduled_delay;
        match control {
            Ok(Control::ExportNow) | Err(RecvTimeoutError::Timeout) => {}
            Ok(Control::Flush(ack)) => {
                let _ = ack.send(result.and_then(|()| exporter.force_flush()));
            }
            Ok(Control::Shutdown(ack)) => {
                let shutdown = exporter.shutdown_with_timeout(settings.export_timeout);
                let _ = ack.send(result.and(shutdown));
                return;
            }
            Err(RecvTimeoutError::Disconnected) => {
                let _ = exporter.shutdown_with_timeout(settings.export_timeout);
                return;
            }
        }
    }
}

/// The export side of the worker.
struct Pipe<'a, E> {
    runtime: &'a tokio::runtime::Runtime,
    exporter: &'a E,
    driver: ExportDriver,
    timeout: Duration,
}

impl<E: SpanExporter> Pipe<'_, E> {
    fn export(&self, batch: &mut Vec<SpanData>) -> OTelSdkResult {
        if batch.is_empty() {
            return Ok(());
        }
        let count = batch.len() as u64;
        let spans = std::mem::replace(batch, Vec::with_capacity(batch.capacity()));
        let outcome = match self.driver {
            ExportDriver::Tokio => self.runtime.block_on(async {
                tokio::time::timeout(self.timeout, self.exporter.export(spans)).await
            }),
            ExportDriver::Blocking => Ok(futures_executor::block_on(self.exporter.export(spans))),
        };
        match outcome {
            Ok(Ok(())) => {
                SPANS_EXPORTED.labels().inc_by(count);
                Ok(())
            }
            Ok(Err(e)) => {
                SPANS_DROPPED
                    .labels(SpanDropReason::ExportFailed)
                    .inc_by(count);
                Err(e)
            }
            Err(_) => {
                SPANS_DROPPED
                    .labels(SpanDropReason::ExportTimeout)
                    .inc_by(count);
                Err(OTelSdkError::Timeout(self.timeout))
            }
        }
    }
}

/// Without an exporter, every span that arrives is dropped and counted; control requests get
/// the reason.
fn drain_failed(queues: &Queues<'_>, every: Duration, reason: &str) {
    tracing::error!(target: "only1mcp_obs::trace", reason, "span export is disabled");
    let drop_queued = || {
        while let Ok((_, bytes)) = queues.spans.try_recv() {
            queues.state.release(bytes);
            SPANS_DROPPED.labels(SpanDropReason::ExportFailed).inc();
        }
        queues.state.nudged.store(false, Relaxed);
    };
    loop {
        let control = queues.control.recv_timeout(every);
        drop_queued();
        match control {
            Ok(Control::Flush(ack)) => {
                let _ = ack.send(Err(OTelSdkError::InternalFailure(reason.to_owned())));
            }
            Ok(Control::Shutdown(ack)) => {
                let _ = ack.send(Ok(()));
                return;
            }
            Ok(Control::ExportNow) | Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::trace::{Tracer as _, TracerProvider as _};
    use opentelemetry_sdk::trace::SdkTracerProvider;

    /// Counts the spans it is given.
    #[derive(Debug, Clone, Default)]
    struct Count(Arc<AtomicUsize>);

    impl SpanExporter for Count {
        async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
            self.0.fetch_add(batch.len(), Relaxed);
            Ok(())
        }
    }

    /// A processor whose batch delay is far longer than any test: only a full batch, a flush or
    /// shutdown can make it export.
    fn provider(batch: usize) -> (Count, SdkTracerProvider) {
        let exporter = Count::default();
        let settings = BatchSettings {
            max_export_batch_size: batch,
            scheduled_delay: Duration::from_secs(3600),
            ..BatchSettings::default()
        };
        let export = exporter.clone();
        let processor =
            BoundedBatchProcessor::start(settings, Resource::builder_empty().build(), move || {
                Ok::<_, std::convert::Infallible>((export, ExportDriver::Blocking))
            })
            .expect("processor");
        let provider = SdkTracerProvider::builder()
            .with_span_processor(processor)
            .build();
        (exporter, provider)
    }

    #[test]
    fn a_full_batch_is_exported_without_waiting_for_the_delay() {
        let (exported, provider) = provider(4);
        let tracer = provider.tracer("test");
        for _ in 0..8 {
            tracer.in_span("work", |_| {});
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while exported.0.load(Relaxed) < 8 && Instant::now() < deadline {
            std::thread::yield_now();
        }
        assert_eq!(
            exported.0.load(Relaxed),
            8,
            "two full batches, exported on the nudge"
        );
        let _ = provider.shutdown();
    }

    #[test]
    fn flush_exports_a_partial_batch_and_shutdown_the_rest() {
        let (exported, provider) = provider(100);
        let tracer = provider.tracer("test");
        for _ in 0..3 {
            tracer.in_span("work", |_| {});
        }
        provider.force_flush().expect("flush");
        assert_eq!(exported.0.load(Relaxed), 3);
        tracer.in_span("last", |_| {});
        provider.shutdown().expect("shutdown");
        assert_eq!(exported.0.load(Relaxed), 4);
    }
}
