//! A batch span processor whose queue is bounded and whose callers never wait: a span that does
//! not fit is dropped and counted. A collector that is down or slow costs the instrumented call
//! at most one failed `try_send`.

use crate::trace::own_metrics::{SPANS_DROPPED, SPANS_EXPORTED, SpanDropReason};
use opentelemetry::Context;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{Span, SpanData, SpanExporter, SpanProcessor};
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError, sync_channel};
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

enum Message {
    /// A span and the bytes it was counted for.
    Span(Box<SpanData>, usize),
    Flush(SyncSender<OTelSdkResult>),
    Shutdown(SyncSender<OTelSdkResult>),
}

/// Exports spans in batches from its own thread. `on_end` never waits: when the queue holds
/// `max_queue_size` spans or `max_queue_bytes` bytes the span is dropped and counted in
/// `only1mcp_obs_spans_dropped_total{reason="queue_full"|"queue_bytes"}`. Flush and shutdown
/// have slots of their own in the channel, so they are never stuck behind a full queue.
#[derive(Debug)]
pub struct BoundedBatchProcessor {
    sender: SyncSender<Message>,
    queued: Arc<Queued>,
    limits: (usize, usize),
    worker: Mutex<Option<JoinHandle<()>>>,
}

/// What the queue holds now.
#[derive(Debug, Default)]
struct Queued {
    spans: AtomicUsize,
    bytes: AtomicUsize,
}

impl Queued {
    fn release(&self, bytes: usize) {
        self.spans.fetch_sub(1, Relaxed);
        self.bytes.fetch_sub(bytes, Relaxed);
    }
}

/// Channel slots kept for flush and shutdown requests beyond the spans.
const CONTROL_SLOTS: usize = 8;

/// About what a span weighs in the queue: its strings and a fixed part for the rest.
fn span_bytes(span: &SpanData) -> usize {
    let attributes = |kvs: &[opentelemetry::KeyValue]| -> usize {
        kvs.iter()
            .map(|kv| kv.key.as_str().len() + kv.value.as_str().len() + 16)
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
    /// given `resource`.
    pub fn start<E, F>(
        settings: BatchSettings,
        resource: Resource,
        make_exporter: F,
    ) -> std::io::Result<Self>
    where
        E: SpanExporter + 'static,
        F: FnOnce() -> Result<(E, ExportDriver), String> + Send + 'static,
    {
        let (sender, receiver) = sync_channel(settings.max_queue_size.max(1) + CONTROL_SLOTS);
        let queued = Arc::new(Queued::default());
        let worker_queued = queued.clone();
        let worker = std::thread::Builder::new()
            .name("only1mcp-obs-span-export".to_owned())
            .spawn(move || {
                run_worker(settings, resource, make_exporter, receiver, &worker_queued)
            })?;
        Ok(BoundedBatchProcessor {
            sender,
            queued,
            limits: (settings.max_queue_size.max(1), settings.max_queue_bytes),
            worker: Mutex::new(Some(worker)),
        })
    }

    fn request(
        &self,
        make: fn(SyncSender<OTelSdkResult>) -> Message,
        timeout: Duration,
    ) -> OTelSdkResult {
        let (ack, done) = sync_channel(1);
        // Spans never take the control slots, so this finds room unless CONTROL_SLOTS requests
        // are already waiting for an export that hangs.
        match self.sender.try_send(make(ack)) {
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
        let (max_spans, max_bytes) = self.limits;
        let bytes = span_bytes(&span);
        if self.queued.spans.fetch_add(1, Relaxed) >= max_spans {
            self.queued.spans.fetch_sub(1, Relaxed);
            SPANS_DROPPED.labels(SpanDropReason::QueueFull).inc();
            return;
        }
        if self.queued.bytes.fetch_add(bytes, Relaxed) + bytes > max_bytes {
            self.queued.release(bytes);
            SPANS_DROPPED.labels(SpanDropReason::QueueBytes).inc();
            return;
        }
        match self.sender.try_send(Message::Span(Box::new(span), bytes)) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                self.queued.release(bytes);
                SPANS_DROPPED.labels(SpanDropReason::QueueFull).inc()
            }
            Err(TrySendError::Disconnected(_)) => {
                self.queued.release(bytes);
                SPANS_DROPPED.labels(SpanDropReason::Shutdown).inc()
            }
        }
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.request(Message::Flush, Duration::from_secs(30))
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        let result = self.request(Message::Shutdown, timeout);
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

fn run_worker<E, F>(
    settings: BatchSettings,
    resource: Resource,
    make_exporter: F,
    receiver: Receiver<Message>,
    queued: &Queued,
) where
    E: SpanExporter + 'static,
    F: FnOnce() -> Result<(E, ExportDriver), String>,
{
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            return drain_failed(
                &receiver,
                queued,
                &format!("cannot start the span export runtime: {e}"),
            );
        }
    };
    let (mut exporter, driver) = match runtime.block_on(async { make_exporter() }) {
        Ok(built) => built,
        Err(e) => return drain_failed(&receiver, queued, &e),
    };
    exporter.set_resource(&resource);
    let pipe = Pipe {
        runtime: &runtime,
        exporter: &exporter,
        driver,
        timeout: settings.export_timeout,
        queued,
    };
    let mut batch: Vec<SpanData> = Vec::with_capacity(settings.max_export_batch_size);
    let mut deadline = Instant::now() + settings.scheduled_delay;
    loop {
        let wait = deadline.saturating_duration_since(Instant::now());
        match receiver.recv_timeout(wait) {
            Ok(Message::Span(span, bytes)) => {
                queued.release(bytes);
                batch.push(*span);
                if batch.len() >= settings.max_export_batch_size {
                    let _ = pipe.export(&mut batch);
                    deadline = Instant::now() + settings.scheduled_delay;
                }
            }
            Ok(Message::Flush(ack)) => {
                let result = pipe.drain(&receiver, &mut batch, settings.max_export_batch_size);
                let _ = ack.send(result.and_then(|()| exporter.force_flush()));
            }
            Ok(Message::Shutdown(ack)) => {
                let result = pipe.drain(&receiver, &mut batch, settings.max_export_batch_size);
                let shutdown = exporter.shutdown_with_timeout(settings.export_timeout);
                let _ = ack.send(result.and(shutdown));
                return;
            }
            Err(RecvTimeoutError::Timeout) => {
                let _ = pipe.export(&mut batch);
                deadline = Instant::now() + settings.scheduled_delay;
            }
            Err(RecvTimeoutError::Disconnected) => {
                let _ = pipe.export(&mut batch);
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
    queued: &'a Queued,
}

impl<E: SpanExporter> Pipe<'_, E> {
    /// Exports everything queued now, in batches; control messages found meanwhile are acknowledged.
    fn drain(
        &self,
        receiver: &Receiver<Message>,
        batch: &mut Vec<SpanData>,
        max_batch: usize,
    ) -> OTelSdkResult {
        let mut result = Ok(());
        while let Ok(message) = receiver.try_recv() {
            match message {
                Message::Span(span, bytes) => {
                    self.queued.release(bytes);
                    batch.push(*span)
                }
                Message::Flush(ack) | Message::Shutdown(ack) => {
                    let _ = ack.send(Ok(()));
                }
            }
            if batch.len() >= max_batch {
                result = result.and(self.export(batch));
            }
        }
        result.and(self.export(batch))
    }

    fn export(&self, batch: &mut Vec<SpanData>) -> OTelSdkResult {
        if batch.is_empty() {
            return Ok(());
        }
        let count = batch.len() as u64;
        let spans = std::mem::take(batch);
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
fn drain_failed(receiver: &Receiver<Message>, queued: &Queued, reason: &str) {
    tracing::error!(target: "only1mcp_obs::trace", reason, "span export is disabled");
    for message in receiver {
        match message {
            Message::Span(_, bytes) => {
                queued.release(bytes);
                SPANS_DROPPED.labels(SpanDropReason::ExportFailed).inc()
            }
            Message::Flush(ack) => {
                let _ = ack.send(Err(OTelSdkError::InternalFailure(reason.to_owned())));
            }
            Message::Shutdown(ack) => {
                let _ = ack.send(Ok(()));
                return;
            }
        }
    }
}
