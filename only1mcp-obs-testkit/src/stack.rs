//! A whole live stack for one test: Prometheus scraping the process under test, optionally an
//! Alertmanager, and a trace backend.

use crate::alertmanager::Alertmanager;
use crate::backend::Backend;
use crate::generation::Generation;
use crate::prometheus::{Prometheus, PrometheusConfig};
use crate::traces::TraceBackend;
use std::io;
use std::path::PathBuf;
use std::time::Duration;

/// Builds a [`LiveStack`].
#[derive(Debug, Clone)]
pub struct LiveStackBuilder {
    backend: Backend,
    config: PrometheusConfig,
    alertmanager: bool,
}

impl LiveStackBuilder {
    /// Scrapes `target` (`host:port` serving `/metrics`).
    pub fn scrape(mut self, target: impl Into<String>) -> Self {
        self.config = self.config.scrape(target);
        self
    }

    /// Loads a rule file into Prometheus.
    pub fn rule_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.config = self.config.rule_file(path);
        self
    }

    /// Scrape and evaluation interval (1 s by default).
    pub fn interval(mut self, interval: Duration) -> Self {
        self.config.interval = interval;
        self
    }

    /// Runs `generation`'s Prometheus and Alertmanager (default: [`Generation::from_env`]).
    pub fn generation(mut self, generation: Generation) -> Self {
        self.config.generation = generation;
        self
    }

    /// Prometheus 3 also accepts OTLP metrics ([`PrometheusConfig::otlp_receiver`]).
    pub fn otlp_receiver(mut self) -> Self {
        self.config = self.config.otlp_receiver();
        self
    }

    /// Also starts an Alertmanager (with a webhook receiver) that Prometheus alerts to.
    pub fn with_alertmanager(mut self) -> Self {
        self.alertmanager = true;
        self
    }

    /// Starts everything; each part is torn down when the stack is dropped.
    pub fn start(self) -> io::Result<LiveStack> {
        let traces = TraceBackend::start(self.backend)?;
        let alertmanager = if self.alertmanager {
            Some(Alertmanager::start_with(
                self.backend,
                self.config.generation,
            )?)
        } else {
            None
        };
        let mut config = self.config;
        if let Some(am) = &alertmanager {
            config = config.alertmanager(am.address());
        }
        let prometheus = Prometheus::start(self.backend, config)?;
        Ok(LiveStack {
            backend: self.backend,
            prometheus,
            alertmanager,
            traces,
        })
    }
}

/// Prometheus, maybe Alertmanager, and a trace backend (Jaeger or the in-process OTLP
/// receiver, see [`TraceBackend::start`]), all on 127.0.0.1.
///
/// ```no_run
/// use only1mcp_obs_testkit::{backend::Backend, stack::LiveStack};
/// let stack = LiveStack::builder(Backend::from_env()).scrape("127.0.0.1:9464").with_alertmanager().start().unwrap();
/// println!("Prometheus at {}, spans to {}", stack.prometheus.url(), stack.traces.grpc_endpoint());
/// ```
#[derive(Debug)]
pub struct LiveStack {
    /// Where it runs.
    pub backend: Backend,
    /// Prometheus.
    pub prometheus: Prometheus,
    /// Alertmanager, when asked for.
    pub alertmanager: Option<Alertmanager>,
    /// The trace backend.
    pub traces: TraceBackend,
}

impl LiveStack {
    /// A builder for `backend`.
    pub fn builder(backend: Backend) -> LiveStackBuilder {
        LiveStackBuilder {
            backend,
            config: PrometheusConfig::default(),
            alertmanager: false,
        }
    }
}
