//! Keeping the audit log to `store.audit_retention_days`.
//!
//! Every sign-in, code and token use adds a row, so a log nobody prunes
//! grows without bound: the store's file fills the disk, and ops must
//! remember a cron job. A background service deletes the entries older
//! than the retention at start-up and then every [`EVERY`]. Each replica
//! runs one; their deletes overlap harmlessly.

use std::time::Duration;

use async_trait::async_trait;
use pingora::server::ShutdownWatch;
use pingora::services::background::BackgroundService;

use crate::session::now_ms;
use crate::store::{Store, StoreError};

/// How often the log is pruned. Entries outlive the retention by at most
/// this much.
pub const EVERY: Duration = Duration::from_secs(60 * 60);

/// Rows deleted per statement, so no single delete holds the store's
/// write lock for long.
const BATCH: i64 = 1_000;

/// Deletes audit entries older than `keep`, on a schedule.
pub struct AuditPruner {
    /// The store's URL: the pool is made on this service's own runtime.
    pub url: String,
    pub keep: Duration,
}

impl AuditPruner {
    /// One pass: everything older than `keep` goes. Returns how many.
    pub async fn prune(&self, store: &Store) -> Result<u64, StoreError> {
        let keep_ms = i64::try_from(self.keep.as_millis()).unwrap_or(i64::MAX);
        let cutoff = (now_ms() as i64).saturating_sub(keep_ms);
        store.audit_prune(cutoff, BATCH).await
    }
}

#[async_trait]
impl BackgroundService for AuditPruner {
    async fn start(&self, mut shutdown: ShutdownWatch) {
        let days = self.keep.as_secs() / 86_400;
        let mut every = tokio::time::interval(EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut store = None;
        // Say so once per outage, not once an hour.
        let mut failing = false;
        loop {
            tokio::select! {
                _ = shutdown.changed() => break,
                _ = every.tick() => {}
            }
            let pruned = match &store {
                Some(store) => self.prune(store).await,
                None => match Store::connect(&self.url).await {
                    Ok(connected) => self.prune(store.insert(connected)).await,
                    Err(e) => Err(e),
                },
            };
            match pruned {
                Ok(n) => {
                    if n > 0 {
                        tracing::info!(target: "audit", "pruned {n} audit entries older than {days} days");
                    }
                    failing = false;
                }
                Err(e) if !failing => {
                    tracing::warn!("cannot prune the audit log (will retry within the hour): {e}");
                    failing = true;
                }
                Err(_) => {}
            }
        }
        if let Some(store) = store {
            store.close().await;
        }
    }
}
