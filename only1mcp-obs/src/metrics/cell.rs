//! The series types a resolved handle points at: one atomic update each, no lock, no allocation.
//! Inside a sampled span, counters and histogram buckets also keep the span's trace id as their
//! exemplar ([`super::exemplar`]).

use super::desc::FamilyDesc;
use super::exemplar::{Exemplar, Sampled, Slot, current_trace};
use super::text::{Sample, Writer};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

/// Adds `delta` to an `f64` stored as bits.
fn add_f64(cell: &AtomicU64, delta: f64) {
    let _ = cell.fetch_update(Relaxed, Relaxed, |bits| {
        Some((f64::from_bits(bits) + delta).to_bits())
    });
}

/// The current span's trace, if sampled, stamped now: what an update made inside it keeps as
/// its exemplar.
#[inline]
fn sampled_now() -> Sampled {
    current_trace().map(|trace| (trace, Instant::now()))
}

/// A series of a counter family: a value that only goes up.
#[derive(Debug)]
pub struct Counter {
    whole: AtomicU64,
    fraction: AtomicU64,
    exemplar: Slot,
}

impl Counter {
    /// Adds one; inside a sampled span, the span's trace becomes the exemplar.
    #[inline]
    pub fn inc(&self) {
        self.inc_by(1);
    }

    /// Adds `n`; inside a sampled span, the span's trace becomes the exemplar.
    #[inline]
    pub fn inc_by(&self, n: u64) {
        self.inc_sampled(n, sampled_now());
    }

    /// Adds `n`, with the sampled trace, if any, as the exemplar.
    #[inline]
    pub(crate) fn inc_sampled(&self, n: u64, sampled: Sampled) {
        self.whole.fetch_add(n, Relaxed);
        if let Some((trace, at)) = sampled {
            self.exemplar.offer(trace, n as f64, at);
        }
    }

    /// Adds a fractional amount, such as a cost in dollars. Negative, NaN and infinite amounts
    /// are ignored: a counter never goes down.
    #[inline]
    pub fn inc_by_f64(&self, amount: f64) {
        if amount > 0.0 && amount.is_finite() {
            add_f64(&self.fraction, amount);
            if let Some(trace) = current_trace() {
                self.exemplar.offer(trace, amount, Instant::now());
            }
        }
    }

    /// The latest exemplar.
    pub fn exemplar(&self) -> Option<Exemplar> {
        self.exemplar.get()
    }

    /// The current value.
    pub fn get(&self) -> f64 {
        self.whole.load(Relaxed) as f64 + f64::from_bits(self.fraction.load(Relaxed))
    }
}

/// A series of a gauge family: a value that goes up and down.
#[derive(Debug)]
pub struct Gauge {
    bits: AtomicU64,
}

impl Gauge {
    /// Sets the value.
    #[inline]
    pub fn set(&self, value: f64) {
        self.bits.store(value.to_bits(), Relaxed);
    }

    /// Adds `delta` (negative to subtract).
    #[inline]
    pub fn add(&self, delta: f64) {
        add_f64(&self.bits, delta);
    }

    /// Adds one.
    #[inline]
    pub fn inc(&self) {
        self.add(1.0);
    }

    /// Subtracts one.
    #[inline]
    pub fn dec(&self) {
        self.add(-1.0);
    }

    /// The current value.
    pub fn get(&self) -> f64 {
        f64::from_bits(self.bits.load(Relaxed))
    }
}

/// A series of a histogram family: counts of observations per bucket, and their sum.
#[derive(Debug)]
pub struct Histogram {
    bounds: &'static [f64],
    // One count per bound plus the `+Inf` bucket; not cumulative (summed when encoded).
    counts: Box<[AtomicU64]>,
    sum: AtomicU64,
    // The latest exemplar of each bucket; allocated with the first one.
    exemplars: OnceLock<Box<[Slot]>>,
}

impl Histogram {
    /// Records one observation, with the sampled trace, if any, as its bucket's exemplar.
    #[inline]
    pub(crate) fn observe_sampled(&self, value: f64, sampled: Sampled) {
        if value.is_nan() {
            return;
        }
        let bucket = self.bounds.partition_point(|bound| *bound < value);
        if let Some(count) = self.counts.get(bucket) {
            count.fetch_add(1, Relaxed);
        }
        add_f64(&self.sum, value);
        if let Some((trace, at)) = sampled {
            let slots = self
                .exemplars
                .get_or_init(|| self.counts.iter().map(|_| Slot::default()).collect());
            if let Some(slot) = slots.get(bucket) {
                slot.offer(trace, value, at);
            }
        }
    }

    /// Records one observation; inside a sampled span, the span's trace becomes the exemplar of
    /// its bucket. NaN is ignored: it belongs to no bucket.
    #[inline]
    pub fn observe(&self, value: f64) {
        self.observe_sampled(value, sampled_now());
    }

    /// The latest exemplar of bucket `index` (`bounds.len()` is `+Inf`).
    pub fn exemplar(&self, index: usize) -> Option<Exemplar> {
        self.exemplars.get()?.get(index)?.get()
    }

    /// Records a duration in seconds.
    #[inline]
    pub fn observe_duration(&self, duration: Duration) {
        self.observe(duration.as_secs_f64());
    }

    /// Starts a timer that records the elapsed seconds when dropped or stopped.
    #[inline]
    pub fn start_timer(&'static self) -> HistogramTimer {
        HistogramTimer {
            histogram: self,
            start: Instant::now(),
            done: false,
        }
    }

    /// Number of observations.
    pub fn count(&self) -> u64 {
        self.counts.iter().map(|c| c.load(Relaxed)).sum()
    }

    /// Sum of the observations.
    pub fn sum(&self) -> f64 {
        f64::from_bits(self.sum.load(Relaxed))
    }
}

/// Records the time since [`Histogram::start_timer`] into the histogram, once.
#[derive(Debug)]
#[must_use = "a timer records when it is dropped or stopped"]
pub struct HistogramTimer {
    histogram: &'static Histogram,
    start: Instant,
    done: bool,
}

impl HistogramTimer {
    /// Records now and returns the elapsed time.
    pub fn stop(mut self) -> Duration {
        self.record()
    }

    fn record(&mut self) -> Duration {
        let elapsed = self.start.elapsed();
        if !self.done {
            self.done = true;
            self.histogram.observe_duration(elapsed);
        }
        elapsed
    }
}

impl Drop for HistogramTimer {
    fn drop(&mut self) {
        self.record();
    }
}

/// What a family stores per series. Implemented by [`Counter`], [`Gauge`] and [`Histogram`].
pub trait Series: Send + Sync + 'static {
    #[doc(hidden)]
    fn new(desc: &'static FamilyDesc) -> Self;
    #[doc(hidden)]
    fn encode(&self, desc: &FamilyDesc, labels: &[(&str, &str)], out: &mut Writer<'_>);
    /// The series' current value, for exporters that are not the text page (OTLP).
    #[doc(hidden)]
    fn point(&self) -> Point;
}

/// A series' value at one moment, as the OTLP exporter reads it.
#[doc(hidden)]
#[derive(Debug, Clone, PartialEq)]
pub enum Point {
    /// A counter's total, and its latest exemplar.
    Counter {
        /// The total.
        value: f64,
        /// The latest exemplar.
        exemplar: Option<Exemplar>,
    },
    /// A gauge's value.
    Gauge(f64),
    /// A histogram's buckets (one count per bound, then `+Inf`; not cumulative) and sum.
    Histogram {
        /// Upper bounds, without `+Inf`.
        bounds: &'static [f64],
        /// Observations per bucket, `bounds.len() + 1` of them.
        counts: Vec<u64>,
        /// Sum of the observations.
        sum: f64,
        /// The latest exemplar of each bucket that has one.
        exemplars: Vec<Exemplar>,
    },
}

impl Series for Counter {
    fn new(_: &'static FamilyDesc) -> Self {
        Counter {
            whole: AtomicU64::new(0),
            fraction: AtomicU64::new(0f64.to_bits()),
            exemplar: Slot::default(),
        }
    }

    fn encode(&self, desc: &FamilyDesc, labels: &[(&str, &str)], out: &mut Writer<'_>) {
        out.sample(Sample {
            exemplar: self.exemplar(),
            ..Sample::of(desc.name, labels, self.get())
        });
    }

    fn point(&self) -> Point {
        Point::Counter {
            value: self.get(),
            exemplar: self.exemplar(),
        }
    }
}

impl Series for Gauge {
    fn new(_: &'static FamilyDesc) -> Self {
        Gauge {
            bits: AtomicU64::new(0f64.to_bits()),
        }
    }

    fn encode(&self, desc: &FamilyDesc, labels: &[(&str, &str)], out: &mut Writer<'_>) {
        out.sample(Sample::of(desc.name, labels, self.get()));
    }

    fn point(&self) -> Point {
        Point::Gauge(self.get())
    }
}

impl Series for Histogram {
    fn new(desc: &'static FamilyDesc) -> Self {
        Histogram {
            bounds: desc.buckets,
            counts: (0..=desc.buckets.len())
                .map(|_| AtomicU64::new(0))
                .collect(),
            sum: AtomicU64::new(0f64.to_bits()),
            exemplars: OnceLock::new(),
        }
    }

    fn encode(&self, desc: &FamilyDesc, labels: &[(&str, &str)], out: &mut Writer<'_>) {
        let mut cumulative = 0u64;
        let bounds = self
            .bounds
            .iter()
            .copied()
            .chain(std::iter::once(f64::INFINITY));
        for (index, (bound, count)) in bounds.zip(self.counts.iter()).enumerate() {
            cumulative += count.load(Relaxed);
            out.sample(Sample {
                suffix: "_bucket",
                le: Some(bound),
                exemplar: self.exemplar(index),
                ..Sample::of(desc.name, labels, cumulative as f64)
            });
        }
        out.sample(Sample {
            suffix: "_sum",
            ..Sample::of(desc.name, labels, self.sum())
        });
        out.sample(Sample {
            suffix: "_count",
            ..Sample::of(desc.name, labels, cumulative as f64)
        });
    }

    fn point(&self) -> Point {
        let counts: Vec<u64> = self.counts.iter().map(|c| c.load(Relaxed)).collect();
        let exemplars = (0..counts.len())
            .filter_map(|index| self.exemplar(index))
            .collect();
        Point::Histogram {
            bounds: self.bounds,
            counts,
            sum: self.sum(),
            exemplars,
        }
    }
}
