//! A real Alertmanager, per test, routing every alert to a webhook receiver on 127.0.0.1 whose
//! deliveries the test reads.

use crate::backend::{Backend, Component, Running, free_port};
use crate::generation::Generation;
use crate::http;
use serde_json::Value;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// Receives Alertmanager webhook deliveries (JSON POSTs) on 127.0.0.1.
#[derive(Debug)]
pub struct Webhook {
    address: SocketAddr,
    deliveries: Arc<Mutex<Vec<Value>>>,
    stop: Arc<AtomicBool>,
}

impl Webhook {
    /// Starts listening on a free port.
    pub fn start() -> io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let address = listener.local_addr()?;
        let deliveries = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (store, stopped) = (deliveries.clone(), stop.clone());
        std::thread::Builder::new()
            .name("alert-webhook".to_owned())
            .spawn(move || {
                for stream in listener.incoming() {
                    if stopped.load(Ordering::Relaxed) {
                        break;
                    }
                    if let Ok(stream) = stream
                        && let Some(body) = read_post(stream)
                    {
                        store
                            .lock()
                            .unwrap_or_else(PoisonError::into_inner)
                            .push(body);
                    }
                }
            })?;
        Ok(Webhook {
            address,
            deliveries,
            stop,
        })
    }

    /// The URL Alertmanager posts to.
    pub fn url(&self) -> String {
        format!("http://{}/alerts", self.address)
    }

    /// Every delivery so far (Alertmanager's webhook payloads).
    pub fn deliveries(&self) -> Vec<Value> {
        self.deliveries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl Drop for Webhook {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wake the accept loop so the thread ends.
        let _ = std::net::TcpStream::connect(self.address);
    }
}

/// Reads one HTTP request, answers 200, and returns its JSON body.
fn read_post(stream: std::net::TcpStream) -> Option<Value> {
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut length = 0usize;
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let trimmed = line.trim_end();
        if trimmed.is_empty() {
            break;
        }
        if let Some((name, value)) = trimmed.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    let mut writer = stream;
    let _ = writer.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    serde_json::from_slice(&body).ok()
}

/// A running Alertmanager sending every alert to its [`Webhook`]; stopped when dropped.
#[derive(Debug)]
pub struct Alertmanager {
    address: String,
    generation: Generation,
    webhook: Webhook,
    running: Running,
    dir: tempfile::TempDir,
}

impl Alertmanager {
    /// Starts Alertmanager of the generation `ONLY1MCP_TESTKIT_GENERATION` names on `backend`;
    /// see [`Alertmanager::start_with`].
    pub fn start(backend: Backend) -> io::Result<Self> {
        Self::start_with(backend, Generation::from_env())
    }

    /// Starts `generation`'s Alertmanager on `backend` (clustering off:
    /// `--cluster.listen-address=`), routing everything to a new webhook with short grouping
    /// delays, and waits until it is ready.
    ///
    /// ```no_run
    /// use only1mcp_obs_testkit::{alertmanager::Alertmanager, backend::Backend, generation::Generation};
    /// let am = Alertmanager::start_with(Backend::Process, Generation::Legacy).unwrap();
    /// assert_eq!(am.version().unwrap(), "0.25.0");
    /// ```
    pub fn start_with(backend: Backend, generation: Generation) -> io::Result<Self> {
        let webhook = Webhook::start()?;
        let dir = tempfile::Builder::new()
            .prefix("only1mcp-alertmanager-")
            .tempdir()?;
        let port = free_port()?;
        let config = format!(
            "route:\n  receiver: webhook\n  group_by: [alertname]\n  group_wait: 1s\n  group_interval: 1s\n  repeat_interval: 1h\n\
             receivers:\n  - name: webhook\n    webhook_configs:\n      - url: \"{}\"\n        send_resolved: false\n",
            webhook.url()
        );
        let config_path = dir.path().join("alertmanager.yml");
        std::fs::write(&config_path, config)?;
        let data = dir.path().join("data");
        std::fs::create_dir_all(&data)?;
        let args = vec![
            format!("--config.file={}", config_path.display()),
            format!("--storage.path={}", data.display()),
            format!("--web.listen-address=127.0.0.1:{port}"),
            "--cluster.listen-address=".to_owned(),
        ];
        let running = backend.launch(Component::Alertmanager, generation, args, dir.path())?;
        let am = Alertmanager {
            address: format!("127.0.0.1:{port}"),
            generation,
            webhook,
            running,
            dir,
        };
        am.running.await_ready(
            "Alertmanager",
            &format!("http://{}", am.address),
            am.dir.path(),
        )?;
        Ok(am)
    }

    /// `host:port`, for Prometheus' `alerting` section.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// The webhook receiving its notifications.
    pub fn webhook(&self) -> &Webhook {
        &self.webhook
    }

    /// Which release it is.
    pub fn generation(&self) -> Generation {
        self.generation
    }

    /// The version Alertmanager reports (`/api/v2/status`), e.g. `0.35.0`.
    pub fn version(&self) -> io::Result<String> {
        let url = format!("http://{}/api/v2/status", self.address);
        let response = http::get(&url)?;
        let body: Value = serde_json::from_str(&response.body)
            .map_err(|e| io::Error::other(format!("GET {url}: {e}: {}", response.body)))?;
        Ok(body["versionInfo"]["version"]
            .as_str()
            .unwrap_or("")
            .to_owned())
    }

    /// The alerts Alertmanager holds (`/api/v2/alerts`), as it answers them.
    pub fn alerts(&self) -> io::Result<Vec<Value>> {
        let url = format!("http://{}/api/v2/alerts", self.address);
        let response = http::get(&url)?;
        let body: Value = serde_json::from_str(&response.body)
            .map_err(|e| io::Error::other(format!("GET {url}: {e}: {}", response.body)))?;
        Ok(body.as_array().cloned().unwrap_or_default())
    }

    /// What Alertmanager printed so far.
    pub fn output(&self) -> String {
        self.running.output(self.dir.path())
    }

    /// Waits until a notification for `alertname` reaches the webhook, and returns that alert.
    pub fn wait_for_alert(
        &self,
        alertname: &str,
        deadline: Duration,
    ) -> Result<Value, crate::WaitError> {
        crate::poll(deadline, || {
            self.webhook
                .deliveries()
                .iter()
                .flat_map(|d| d["alerts"].as_array().cloned().unwrap_or_default())
                .find(|a| a["labels"]["alertname"] == alertname)
        })
        .map_err(|e| {
            e.of(
                format!("a notification for {alertname}"),
                format!("deliveries: {:#?}", self.webhook.deliveries()),
            )
        })
    }
}
