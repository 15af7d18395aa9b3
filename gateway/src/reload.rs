//! SIGHUP: the config file, read again while Gatehouse runs.
//!
//! Ops change an app's upstream, add a rule or rotate a service token, and
//! expect that to apply without a restart (which, with memory sessions,
//! would sign everyone out). On SIGHUP the file is read and validated as at
//! start; a valid one becomes a new [`Live`] (apps, router, pools, metrics,
//! the config's tokens) swapped in whole, and `mfa.enforce` follows it.
//! Requests already under way finish on the copy they loaded.
//!
//! A file that doesn't validate changes nothing, and each problem is logged
//! as `check-config` prints it. Keys that the running process can't change
//! (listeners, TLS, stores, secrets, …) are named in the log as needing a
//! restart, and the rest still applies (see [`restart`]).
//!
//! Pingora's background services are fixed once the server runs, so the
//! pools' health checks aren't services: the [`Reloader`] runs them as its
//! own tasks, those of the first config and of each reload, and stops a
//! config's checks when the next one replaces it.

mod restart;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use pingora::server::ShutdownWatch;
use pingora::services::background::BackgroundService;
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::Settings;
use crate::live::{Live, Shared};
use crate::metrics::METRICS;
use crate::policy::{Defaults, OrgPolicies};

/// Watches for SIGHUP and applies the config file; runs the pools' health
/// checks.
pub struct Reloader {
    /// The config file; `None` when there is none to read again.
    path: Option<PathBuf>,
    live: Shared,
    policy: Arc<OrgPolicies>,
    /// The settings as the process started with them, as validated (before
    /// a generated key filled `secrets.key`): what restart-only keys are
    /// compared with.
    running: Arc<Settings>,
}

/// What reading the file again gave.
pub enum Outcome {
    /// The new apps and tokens, and the policy defaults, to apply.
    Applied(Live, Box<Defaults>),
    Refused,
}

impl Reloader {
    pub fn new(
        path: Option<PathBuf>,
        live: Shared,
        policy: Arc<OrgPolicies>,
        running: Settings,
    ) -> Self {
        Self {
            path,
            live,
            policy,
            running: Arc::new(running),
        }
    }

    /// Reads the file again and, if it is valid, swaps its apps and tokens
    /// in. Returns the new copy, whose health checks the caller starts.
    async fn reload(&self) -> Option<Arc<Live>> {
        let Some(path) = self.path.clone() else {
            tracing::warn!("SIGHUP: no config file to read again; nothing changed");
            return None;
        };
        tracing::info!("SIGHUP: reading {} again", path.display());
        let running = self.running.clone();
        let current = self.live.load_full();
        // Reading files and resolving upstream names block: off the runtime.
        let outcome = tokio::task::spawn_blocking(move || read(&path, &running, &current)).await;
        match outcome {
            Ok(Outcome::Applied(live, defaults)) => {
                let live = Arc::new(live);
                self.live.store(live.clone());
                self.policy.set_defaults(*defaults);
                METRICS.config_reloads.with_label_values(&["applied"]).inc();
                tracing::info!(
                    "config reloaded: {} apps, {} service tokens from the config",
                    live.apps.len(),
                    live.tokens.config_names().count()
                );
                Some(live)
            }
            Ok(Outcome::Refused) => None,
            Err(e) => {
                tracing::error!("config not reloaded: {e}; nothing changed");
                METRICS.config_reloads.with_label_values(&["refused"]).inc();
                None
            }
        }
    }
}

/// Reads and validates the config at `path` and builds what it describes,
/// next to `current`, whose console tokens it keeps. Logs every problem,
/// and every restart-only key that changed from `running`.
pub fn read(path: &Path, running: &Settings, current: &Live) -> Outcome {
    let refused = |problems: &str| {
        tracing::error!(
            "config not reloaded, nothing changed: {} has problems:",
            path.display()
        );
        for line in problems.lines() {
            tracing::error!("{line}");
        }
        METRICS.config_reloads.with_label_values(&["refused"]).inc();
        Outcome::Refused
    };
    let settings = match Settings::load(path) {
        Ok(settings) => settings,
        Err(e) => return refused(&e.lines().join("\n")),
    };
    for key in restart::changed(running, &settings) {
        tracing::warn!("{key} changed; restart to apply");
    }
    let tokens = current.tokens.reconfigured(&settings.service_tokens);
    match Live::new(settings.apps, tokens) {
        Ok(live) => {
            // `mfa.enforce` and `mfa.require_groups` follow a reload; the
            // days a browser is remembered need a restart.
            let mut mfa = settings.mfa.clone();
            mfa.remember_device_days = running.mfa.remember_device_days;
            Outcome::Applied(live, Box::new(Defaults::from_config(&mfa)))
        }
        Err(e) => refused(&e.to_string()),
    }
}

/// One config's health checks, stopped when dropped.
struct HealthChecks {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl HealthChecks {
    /// Starts a task per pool of `live`, on the current runtime.
    fn start(live: &Live) -> Self {
        let (stop, watch) = watch::channel(false);
        let tasks = live
            .pools
            .iter()
            .map(|pool| {
                let balancer = pool.balancer();
                let watch = watch.clone();
                tokio::spawn(async move { balancer.start(watch).await })
            })
            .collect();
        Self { stop, tasks }
    }
}

impl Drop for HealthChecks {
    fn drop(&mut self) {
        // The watch stops a check between probes; abort one mid-probe.
        let _ = self.stop.send(true);
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// Makes SIGHUP a reload request from now on instead of its default, which
/// ends the process: called before the server starts, so a SIGHUP that
/// arrives before the [`Reloader`] listens is ignored, not fatal. (Tokio
/// never restores a signal's default once it has handled it.)
pub fn claim_sighup() -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()?;
    runtime.block_on(async { signal(SignalKind::hangup()).map(drop) })
}

#[async_trait]
impl BackgroundService for Reloader {
    async fn start(&self, mut shutdown: ShutdownWatch) {
        let mut checks = HealthChecks::start(&self.live.load());
        let mut hangups = match signal(SignalKind::hangup()) {
            Ok(hangups) => Some(hangups),
            Err(e) => {
                tracing::error!("cannot listen for SIGHUP ({e}); the config won't be reloaded");
                None
            }
        };
        loop {
            let hangup = async {
                match hangups.as_mut() {
                    Some(h) => h.recv().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = shutdown.changed() => return,
                Some(()) = hangup => {
                    if let Some(live) = self.reload().await {
                        // The old checks stop as the new ones start; old
                        // pools still serve the requests that hold them.
                        let old = std::mem::replace(&mut checks, HealthChecks::start(&live));
                        drop(old);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
