//! A real browser for the browser test: Debian's `chromedriver` on a free
//! port, driving headless `chromium`. The WebDriver client lives in the
//! test; this module finds the programs, runs the driver and says how the
//! browser must be started.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};
use tempfile::TempDir;

use crate::harness::{eventually, free_port};

/// How long chromedriver gets to say it is ready.
const READY_DEADLINE: Duration = Duration::from_secs(30);

/// A running chromedriver. Killed on drop.
pub struct ChromeDriver {
    port: u16,
    chromium: PathBuf,
    /// Holds the driver's log and the browser profile.
    dir: TempDir,
    child: Child,
}

impl ChromeDriver {
    /// Starts chromedriver and waits until it reports ready; panics with
    /// what to install if chromium or chromedriver is missing.
    pub fn start() -> ChromeDriver {
        let chromium = find_program("chromium", "/usr/bin/chromium");
        let driver = find_program("chromedriver", "/usr/bin/chromedriver");
        let (Some(chromium), Some(driver)) = (chromium, driver) else {
            panic!(
                "the browser test needs chromium and chromedriver (Debian: apt-get install \
                 chromium chromium-driver; scripts/test and CI install them)"
            );
        };
        let dir = tempfile::Builder::new()
            .prefix("gatehouse-browser-")
            .tempdir()
            .expect("a temp dir for the browser");
        let port = free_port();
        let log = File::create(dir.path().join("chromedriver.log")).expect("driver log file");
        let child = Command::new(&driver)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone the log file"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", driver.display()));
        let mut running = ChromeDriver {
            port,
            chromium,
            dir,
            child,
        };
        running.wait_ready();
        running
    }

    fn wait_ready(&mut self) {
        let probe = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()
            .expect("probe client");
        let status = format!("{}/status", self.url());
        eventually(READY_DEADLINE, "chromedriver to report ready", || {
            if let Ok(Some(exit)) = self.child.try_wait() {
                panic!("chromedriver exited ({exit}):\n{}", self.log());
            }
            let body: Value = probe.get(&status).send().ok()?.json().ok()?;
            (body["value"]["ready"] == true).then_some(())
        });
    }

    /// `http://127.0.0.1:PORT`, the WebDriver endpoint.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// New-session capabilities for headless chromium with a throwaway
    /// profile and nothing phoning home.
    pub fn capabilities(&self) -> serde_json::Map<String, Value> {
        let profile = self.dir.path().join("profile");
        let args = [
            "--headless=new".to_string(),
            "--no-sandbox".to_string(),
            "--disable-gpu".to_string(),
            "--disable-dev-shm-usage".to_string(),
            "--disable-quic".to_string(),
            "--no-first-run".to_string(),
            "--disable-background-networking".to_string(),
            "--disable-component-update".to_string(),
            "--disable-sync".to_string(),
            "--window-size=1024,900".to_string(),
            // Every *.test host is this machine, for walks across hosts.
            "--host-resolver-rules=MAP *.test 127.0.0.1".to_string(),
            format!("--user-data-dir={}", profile.display()),
        ];
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": self.chromium.display().to_string(),
                "args": args,
            },
        });
        match capabilities {
            Value::Object(map) => map,
            _ => unreachable!("a JSON object"),
        }
    }

    /// The driver's log so far, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("chromedriver.log")).unwrap_or_default()
    }
}

impl Drop for ChromeDriver {
    /// Ends the driver, by its own id. The browser it started quits when
    /// the test closes its WebDriver session, which the test always does.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `name` on `PATH`, else `fallback` if it exists.
fn find_program(name: &str, fallback: &str) -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|candidate| candidate.is_file())
    });
    on_path.or_else(|| Path::new(fallback).is_file().then(|| fallback.into()))
}
