//! The gateway under test: config written to a temp dir, the real binary
//! spawned, readiness polled on `/.gatehouse/healthz`.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::harness::client::trusting;
use crate::harness::{free_port, gatehouse_command, Client, GatewayConfig, UserSpec, POLL};

/// How long a gateway gets to become healthy.
const START_DEADLINE: Duration = Duration::from_secs(30);
/// How long a signalled gateway gets to exit.
const STOP_DEADLINE: Duration = Duration::from_secs(10);

/// A running gateway process. Killed on drop; its logs are printed if the
/// test is failing.
pub struct Gateway {
    config: GatewayConfig,
    port: u16,
    metrics_port: Option<u16>,
    dir: TempDir,
    child: Option<Child>,
}

impl Gateway {
    /// Writes the config, starts the gateway and waits until it is healthy.
    pub fn start(config: GatewayConfig) -> Gateway {
        let mut gateway = Self::spawn(config);
        gateway.wait_healthy();
        gateway
    }

    /// Writes the config and starts the gateway without waiting for it.
    pub fn spawn(config: GatewayConfig) -> Gateway {
        let dir = tempfile::tempdir().expect("temp dir for the gateway");
        let port = free_port();
        let metrics_port = config.metrics.then(free_port);
        std::fs::write(
            dir.path().join("gatehouse.yaml"),
            render_config(&config, port, metrics_port, dir.path()),
        )
        .expect("write the config file");
        std::fs::write(
            dir.path().join("users.yaml"),
            serde_json::to_string_pretty(&config.render_users()).expect("users JSON"),
        )
        .expect("write the users file");
        if let Some((cert, key)) = &config.tls {
            write_tls_files(dir.path(), cert, key);
        }
        let mut gateway = Gateway {
            config,
            port,
            metrics_port,
            dir,
            child: None,
        };
        gateway.launch();
        gateway
    }

    fn launch(&mut self) {
        let mut command: Command = gatehouse_command();
        if !self.config.omit_run_subcommand {
            command.arg("run");
        }
        command
            .arg("--config")
            .arg(self.config_path())
            .current_dir(self.dir.path())
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(log_file(&self.dir.path().join("stdout.log")))
            .stderr(log_file(&self.dir.path().join("stderr.log")));
        if let Some(filter) = &self.config.log_filter {
            command.env("GATEHOUSE_LOG", filter);
        }
        self.child = Some(command.spawn().expect("spawn gatehouse run"));
    }

    /// Polls healthz until it answers 200; panics (with the logs) if the
    /// process exits or the deadline passes.
    pub fn wait_healthy(&mut self) {
        let probe = self
            .trusting(reqwest::blocking::Client::builder())
            .timeout(Duration::from_secs(2))
            .build()
            .expect("probe client");
        let url = self.url("/.gatehouse/healthz");
        let deadline = Instant::now() + START_DEADLINE;
        loop {
            if let Ok(response) = probe.get(&url).send() {
                if response.status().as_u16() == 200 {
                    return;
                }
            }
            self.assert_running("while waiting for healthz");
            if Instant::now() >= deadline {
                panic!(
                    "gatehouse did not become healthy within {START_DEADLINE:?}\n{}",
                    self.logs()
                );
            }
            std::thread::sleep(POLL);
        }
    }

    fn assert_running(&mut self, when: &str) {
        let exited = match self.child.as_mut() {
            Some(child) => child.try_wait().expect("try_wait").is_some(),
            None => true,
        };
        if exited {
            panic!("gatehouse exited {when}\n{}", self.logs());
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics_port
    }

    pub fn config(&self) -> &GatewayConfig {
        &self.config
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("gatehouse.yaml")
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The durable store's URL: the configured one, or the SQLite file in
    /// this gateway's dir (kept across restarts).
    pub fn store_url(&self) -> String {
        self.config
            .store_url
            .clone()
            .unwrap_or_else(|| default_store_url(self.dir.path()))
    }

    /// Everything the process wrote to stdout and stderr, untruncated.
    pub fn full_logs(&self) -> String {
        let read =
            |name: &str| std::fs::read_to_string(self.dir.path().join(name)).unwrap_or_default();
        format!("{}\n{}", read("stdout.log"), read("stderr.log"))
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// `http://127.0.0.1:PORT{path}`, or `https://` when serving TLS.
    pub fn url(&self, path: &str) -> String {
        let scheme = if self.config.tls.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://127.0.0.1:{}{}", self.port, path)
    }

    /// `builder`, trusting this gateway's certificate when it serves TLS.
    fn trusting(
        &self,
        builder: reqwest::blocking::ClientBuilder,
    ) -> reqwest::blocking::ClientBuilder {
        match &self.config.tls {
            Some((cert, _)) => trusting(builder, cert),
            None => builder,
        }
    }

    /// A fresh browser-like client with an empty cookie jar.
    pub fn client(&self) -> Client {
        let client = Client::new(
            self.port,
            &self.config.session_cookie_name(),
            &self.config.csrf_cookie_name(),
        );
        match &self.config.tls {
            Some((cert, _)) => client.over_tls(cert),
            None => client,
        }
    }

    /// The metrics page, as text.
    pub fn metrics(&self) -> String {
        let port = self.metrics_port.expect("metrics are not enabled");
        reqwest::blocking::get(format!("http://127.0.0.1:{port}/metrics"))
            .and_then(|r| r.text())
            .expect("fetch /metrics")
    }

    /// The value of one series (name plus labels, as printed) on the
    /// metrics page; 0 while it hasn't been counted.
    pub fn metric(&self, series: &str) -> f64 {
        metric_value(&self.metrics(), series).unwrap_or(0.0)
    }

    /// Changes the users while the gateway runs: `edit` changes the config's
    /// users, and the users file is replaced as a deploy tool would (written
    /// beside it, then renamed over it).
    pub fn edit_users(&mut self, edit: impl FnOnce(&mut Vec<UserSpec>)) {
        edit(&mut self.config.users);
        let text = serde_json::to_string_pretty(&self.config.render_users()).expect("users JSON");
        self.replace_users_file(&text);
    }

    /// Replaces the users file with `text`, valid or not.
    pub fn replace_users_file(&self, text: &str) {
        let staged = self.dir.path().join("users.yaml.new");
        std::fs::write(&staged, text).expect("write the new users file");
        std::fs::rename(&staged, self.dir.path().join("users.yaml"))
            .expect("replace the users file");
    }

    /// Changes the config while the gateway runs: `edit` changes it, the
    /// file is replaced as a deploy tool would (written beside it, then
    /// renamed over it; same ports and store), and the gateway is sent
    /// SIGHUP. Returns at once: poll for the effect.
    pub fn reload(&mut self, edit: impl FnOnce(&mut GatewayConfig)) {
        edit(&mut self.config);
        let text = render_config(&self.config, self.port, self.metrics_port, self.dir.path());
        self.reload_text(&text);
    }

    /// Replaces the config file with `text`, valid or not, and sends SIGHUP.
    pub fn reload_text(&self, text: &str) {
        let staged = self.dir.path().join("gatehouse.yaml.new");
        std::fs::write(&staged, text).expect("write the new config file");
        std::fs::rename(&staged, self.config_path()).expect("replace the config file");
        self.signal("HUP");
    }

    /// Sends `signal` (e.g. "HUP") and returns at once.
    pub fn signal(&self, signal: &str) {
        let pid = self.pid().expect("gatehouse is not running");
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(pid.to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{signal} failed");
    }

    /// Sends `signal` (e.g. "TERM", "INT") and waits for the process to exit.
    /// Returns `None` if it was still running at the deadline.
    pub fn signal_and_wait(&mut self, signal: &str, within: Duration) -> Option<ExitStatus> {
        let child = self.child.as_mut().expect("gatehouse is not running");
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(child.id().to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{signal} failed");
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = child.try_wait().expect("try_wait") {
                self.child = None;
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(POLL);
        }
    }

    /// Graceful stop with SIGTERM; panics if it does not exit in time.
    pub fn stop(&mut self) -> ExitStatus {
        match self.signal_and_wait("TERM", STOP_DEADLINE) {
            Some(status) => status,
            None => panic!(
                "gatehouse did not exit within {STOP_DEADLINE:?} of SIGTERM\n{}",
                self.logs()
            ),
        }
    }

    /// SIGKILL, no questions asked.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Stops (gracefully) and starts again on the same port with the same
    /// config, then waits until healthy.
    pub fn restart(&mut self) {
        if self.child.is_some() {
            self.stop();
        }
        self.launch();
        self.wait_healthy();
    }

    /// stdout and stderr so far, for failure messages.
    pub fn logs(&self) -> String {
        let read =
            |name: &str| std::fs::read_to_string(self.dir.path().join(name)).unwrap_or_default();
        format!(
            "--- gatehouse stdout ---\n{}\n--- gatehouse stderr ---\n{}",
            tail(&read("stdout.log")),
            tail(&read("stderr.log"))
        )
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        self.kill();
        if std::thread::panicking() {
            eprintln!(
                "gatehouse on port {} (config {}):\n{}",
                self.port,
                self.config_path().display(),
                self.logs()
            );
        }
    }
}

/// The config file's text: `config` on these ports, its store by default
/// a SQLite file in `dir`.
fn render_config(
    config: &GatewayConfig,
    port: u16,
    metrics_port: Option<u16>,
    dir: &Path,
) -> String {
    let mut rendered = config.render(port, metrics_port);
    if config.store_url.is_none() {
        rendered["store"]["url"] = serde_json::json!(default_store_url(dir));
    }
    serde_json::to_string_pretty(&rendered).expect("config JSON")
}

/// A SQLite file in the gateway's own dir.
fn default_store_url(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("gatehouse.db").display())
}

fn log_file(path: &Path) -> File {
    // Append, so a restarted gateway's logs follow the first run's.
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .expect("open a log file")
}

/// The last 200 lines: enough to diagnose, short enough to read.
fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.len().saturating_sub(200);
    lines[start..].join("\n")
}

/// Writes the TLS certificate and key where the rendered config points.
fn write_tls_files(dir: &Path, cert: &str, key: &str) {
    std::fs::write(dir.join("cert.pem"), cert).expect("write the certificate");
    std::fs::write(dir.join("key.pem"), key).expect("write the key");
}

/// The value of the first series starting with `series` (name plus labels).
pub fn metric_value(metrics: &str, series: &str) -> Option<f64> {
    metrics
        .lines()
        .find(|line| line.starts_with(series))
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|value| value.parse().ok())
}
