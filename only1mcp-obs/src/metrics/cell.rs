//! The series types a resolved handle points at: one atomic update each, no lock, no allocation.

use super::family::FamilyDesc;
use super::text::{Sample, Writer};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

/// Adds `delta` to an `f64` stored as bits.
fn add_f64(cell: &AtomicU64, delta: f64) {
    let _ = cell.fetch_update(Relaxed, Relaxed, |bits| {
        Some((f64::from_bits(bits) + delta).to_bits())
    });
}

/// A series of a counter family: a value that only goes up.
#[derive(Debug)]
pub struct Counter {
    whole: AtomicU64,
    fraction: AtomicU64,
}

impl Counter {
    /// Adds one.
    #[inline]
    pub fn inc(&self) {
        self.whole.fetch_add(1, Relaxed);
    }

    /// Adds `n`.
    #[inline]
    pub fn inc_by(&self, n: u64) {
        self.whole.fetch_add(n, Relaxed);
    }

    /// Adds a fractional amount, such as a cost in dollars. Negative, NaN and infinite amounts
    /// are ignored: a counter never goes down.
    #[inline]
    pub fn inc_by_f64(&self, amount: f64) {
        if amount > 0.0 && amount.is_finite() {
            add_f64(&self.fraction, amount);
        }
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
}

impl Histogram {
    /// Records one observation. NaN is ignored: it belongs to no bucket.
    #[inline]
    pub fn observe(&self, value: f64) {
        if value.is_nan() {
            return;
        }
        let bucket = self.bounds.partition_point(|bound| *bound < value);
        if let Some(count) = self.counts.get(bucket) {
            count.fetch_add(1, Relaxed);
        }
        add_f64(&self.sum, value);
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
}

impl Series for Counter {
    fn new(_: &'static FamilyDesc) -> Self {
        Counter {
            whole: AtomicU64::new(0),
            fraction: AtomicU64::new(0f64.to_bits()),
        }
    }

    fn encode(&self, desc: &FamilyDesc, labels: &[(&str, &str)], out: &mut Writer<'_>) {
        out.sample(Sample {
            name: desc.name,
            suffix: "",
            labels,
            le: None,
            value: self.get(),
        });
    }
}

impl Series for Gauge {
    fn new(_: &'static FamilyDesc) -> Self {
        Gauge {
            bits: AtomicU64::new(0f64.to_bits()),
        }
    }

    fn encode(&self, desc: &FamilyDesc, labels: &[(&str, &str)], out: &mut Writer<'_>) {
        out.sample(Sample {
            name: desc.name,
            suffix: "",
            labels,
            le: None,
            value: self.get(),
        });
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
        }
    }

    fn encode(&self, desc: &FamilyDesc, labels: &[(&str, &str)], out: &mut Writer<'_>) {
        let mut cumulative = 0u64;
        let bounds = self
            .bounds
            .iter()
            .copied()
            .chain(std::iter::once(f64::INFINITY));
        for (bound, count) in bounds.zip(self.counts.iter()) {
            cumulative += count.load(Relaxed);
            out.sample(Sample {
                name: desc.name,
                suffix: "_bucket",
                labels,
                le: Some(bound),
                value: cumulative as f64,
            });
        }
        out.sample(Sample {
            name: desc.name,
            suffix: "_sum",
            labels,
            le: None,
            value: self.sum(),
        });
        out.sample(Sample {
            name: desc.name,
            suffix: "_count",
            labels,
            le: None,
            value: cumulative as f64,
        });
    }
}
