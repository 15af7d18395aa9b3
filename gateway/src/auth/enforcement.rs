//! Whether every user must have a second factor.
//!
//! The config can require it for good (`mfa.enforce: true`). Otherwise an
//! admin switches it in the console, and the choice is kept in the store, so
//! every replica and every restart agrees.
//!
//! Sign-ins and pages read the store each time. Signed-in traffic can't
//! afford a query per request, so it reads a copy that a background task
//! refreshes every [`REFRESH`]: a switch made on one replica reaches signed-in
//! users on the others within that time.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::durable::LazyStore;
use crate::store::{Store, StoreError};

/// The store setting that holds the admin's choice (`true` or `false`).
pub const SETTING: &str = "mfa.enforce";

/// How often each replica re-reads the admin's choice for signed-in traffic.
pub const REFRESH: Duration = Duration::from_secs(2);

/// Who requires MFA, if anyone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enforcement {
    Off,
    /// An admin switched it on in the console.
    ByAdmin,
    /// `mfa.enforce: true` in the config; the console can't switch it off.
    ByConfig,
}

impl Enforcement {
    pub fn is_on(self) -> bool {
        self != Enforcement::Off
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("mfa.enforce is true in the configuration; change it there")]
    SetByConfig,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Reads the admin's choice from the store; absent means off.
pub async fn stored_choice(store: &Store) -> Result<bool, StoreError> {
    Ok(store.setting(SETTING).await?.as_deref() == Some("true"))
}

/// The organisation's MFA policy, as this replica knows it.
pub struct OrgPolicy {
    /// `mfa.enforce`, which a reloaded config may change.
    by_config: AtomicBool,
    /// The admin's choice as last read from the store.
    by_admin: Arc<AtomicBool>,
    refreshing: AtomicBool,
}

impl OrgPolicy {
    /// Not required by an admin until [`OrgPolicy::prime`] or a read of
    /// the store says otherwise.
    pub fn new(by_config: bool) -> Self {
        Self {
            by_config: AtomicBool::new(by_config),
            by_admin: Arc::new(AtomicBool::new(false)),
            refreshing: AtomicBool::new(false),
        }
    }

    /// Sets the admin's choice as read at start-up, before serving.
    pub fn prime(&self, by_admin: bool) {
        self.by_admin.store(by_admin, Ordering::Release);
    }

    /// Applies `mfa.enforce` from a reloaded config. Switched off, users
    /// still owing enrollment go free at their next request, as when an
    /// admin switches it off in the console.
    pub fn set_by_config(&self, on: bool) {
        self.by_config.store(on, Ordering::Release);
    }

    fn by_config(&self) -> bool {
        self.by_config.load(Ordering::Acquire)
    }

    fn with_choice(&self, by_admin: bool) -> Enforcement {
        match (self.by_config(), by_admin) {
            (true, _) => Enforcement::ByConfig,
            (false, true) => Enforcement::ByAdmin,
            (false, false) => Enforcement::Off,
        }
    }

    /// For signed-in traffic: the last value read, never waiting. The first
    /// call starts the refresher, from inside the runtime that serves
    /// requests.
    pub fn cached(&self, store: &Arc<LazyStore>) -> bool {
        if self.by_config() {
            return true;
        }
        // A load before the swap: signed-in traffic on every thread reads
        // this, and a write per request would bounce the cache line.
        if !self.refreshing.load(Ordering::Relaxed) && !self.refreshing.swap(true, Ordering::AcqRel)
        {
            self.start_refresher(store.clone());
        }
        self.by_admin.load(Ordering::Acquire)
    }

    fn start_refresher(&self, store: Arc<LazyStore>) {
        let by_admin = self.by_admin.clone();
        tokio::spawn(async move {
            let mut failing = false;
            loop {
                tokio::time::sleep(REFRESH).await;
                let read = match store.get().await {
                    Ok(store) => stored_choice(store).await,
                    Err(e) => Err(e),
                };
                match read {
                    Ok(on) => {
                        by_admin.store(on, Ordering::Release);
                        failing = false;
                    }
                    // Keep the last value: an unreachable store must not
                    // switch enforcement off. Say so once per outage.
                    Err(e) if !failing => {
                        tracing::warn!("cannot re-read the MFA policy: {e}");
                        failing = true;
                    }
                    Err(_) => {}
                }
            }
        });
    }

    /// The policy now, from the store: for sign-ins and pages.
    pub async fn current(&self, store: &LazyStore) -> Result<Enforcement, StoreError> {
        if self.by_config() {
            return Ok(Enforcement::ByConfig);
        }
        let on = stored_choice(store.get().await?).await?;
        self.by_admin.store(on, Ordering::Release);
        Ok(self.with_choice(on))
    }

    /// An admin's switch. Takes effect on this replica at once.
    pub async fn set(&self, store: &LazyStore, on: bool) -> Result<Enforcement, PolicyError> {
        if self.by_config() {
            return Err(PolicyError::SetByConfig);
        }
        store
            .get()
            .await?
            .setting_put(SETTING, if on { "true" } else { "false" })
            .await?;
        self.by_admin.store(on, Ordering::Release);
        Ok(self.with_choice(on))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn with_store<F, Fut>(test: F)
    where
        F: FnOnce(Arc<LazyStore>) -> Fut,
        Fut: std::future::Future<Output = ()>,
    {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("g.db").display());
        test(Arc::new(LazyStore::new(&url))).await;
    }

    #[tokio::test]
    async fn an_admins_switch_is_kept_in_the_store() {
        with_store(|store| async move {
            let policy = OrgPolicy::new(false);
            assert_eq!(policy.current(&store).await.unwrap(), Enforcement::Off);
            assert_eq!(
                policy.set(&store, true).await.unwrap(),
                Enforcement::ByAdmin
            );
            assert!(policy.cached(&store));
            // Another replica (or a restart) reads the same choice.
            let other = OrgPolicy::new(false);
            assert_eq!(other.current(&store).await.unwrap(), Enforcement::ByAdmin);
            policy.set(&store, false).await.unwrap();
            assert_eq!(other.current(&store).await.unwrap(), Enforcement::Off);
            assert!(!other.cached(&store));
        })
        .await;
    }

    #[tokio::test]
    async fn the_config_requirement_cannot_be_switched_off() {
        with_store(|store| async move {
            let policy = OrgPolicy::new(true);
            assert!(matches!(
                policy.set(&store, false).await,
                Err(PolicyError::SetByConfig)
            ));
            assert_eq!(policy.current(&store).await.unwrap(), Enforcement::ByConfig);
            assert!(policy.cached(&store));
            // A reloaded config that drops it leaves the admin's choice.
            policy.set_by_config(false);
            assert_eq!(policy.current(&store).await.unwrap(), Enforcement::Off);
            assert!(!policy.cached(&store));
        })
        .await;
    }

    #[tokio::test]
    async fn the_cached_copy_follows_a_switch_made_elsewhere() {
        with_store(|store| async move {
            let here = OrgPolicy::new(false);
            assert!(!here.cached(&store), "starts the refresher");
            OrgPolicy::new(false).set(&store, true).await.unwrap();
            let deadline = std::time::Instant::now() + REFRESH * 10;
            while !here.cached(&store) {
                assert!(
                    std::time::Instant::now() < deadline,
                    "the switch never reached this replica"
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await;
    }
}
