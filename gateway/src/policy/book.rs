//! The policies as this replica knows them, and the only way to change
//! them: every rule about who may loosen what is checked here, whichever
//! page asks.
//!
//! Sign-ins and pages read the store each time. Signed-in traffic can't
//! afford a query per request, so it reads a copy that a background task
//! refreshes every [`REFRESH`]: a change made on one replica reaches
//! signed-in users on the others within that time.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;

use super::resolve::resolve;
use super::stored::{self, LEGACY_ENFORCE, LOCK, OWN};
use super::{loosened, Defaults, Field, Lock, MfaMode, Partial, Record, Table};
use crate::durable::LazyStore;
use crate::orgs::{OrgId, Organisations};
use crate::store::{Store, StoreError};

/// How often each replica re-reads the policies for signed-in traffic.
pub const REFRESH: Duration = Duration::from_secs(2);

/// Who set a floor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Locker {
    /// `mfa.enforce: true`.
    Config,
    /// An admin, of an organisation above the one locked.
    Admin { by: String, by_org: OrgId },
}

#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// The change would loosen `field` below a floor.
    #[error("{} is locked", field.as_str())]
    Locked { field: Field, locker: Locker },
    /// Locks are set from above: on an organisation below the admin's own.
    #[error("only an admin of an organisation above it may lock it")]
    NotAbove,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What the store holds for each organisation.
pub type Records = BTreeMap<OrgId, Record>;

/// Every organisation's record, from `store`.
pub async fn read_records(store: &Store, orgs: &Organisations) -> Result<Records, StoreError> {
    let mut rows = store.settings_with_prefix(OWN).await?;
    rows.extend(store.settings_with_prefix(LOCK).await?);
    let legacy = store.setting(LEGACY_ENFORCE).await?;
    Ok(stored::records(orgs, &rows, legacy.as_deref()))
}

/// Every organisation's policy, cached.
pub struct OrgPolicies {
    orgs: Organisations,
    defaults: ArcSwap<Defaults>,
    records: ArcSwap<Records>,
    table: ArcSwap<Table>,
    refreshing: AtomicBool,
}

impl OrgPolicies {
    /// The config's defaults until [`OrgPolicies::current`] or the
    /// refresher reads the store.
    pub fn new(orgs: Organisations, defaults: Defaults) -> Self {
        let records = Records::new();
        let table = resolve(&orgs, &records, &defaults);
        Self {
            orgs,
            defaults: ArcSwap::from_pointee(defaults),
            records: ArcSwap::from_pointee(records),
            table: ArcSwap::from_pointee(table),
            refreshing: AtomicBool::new(false),
        }
    }

    /// Sets what the store held at start-up, before serving.
    pub fn prime(&self, records: Records) {
        self.apply(Arc::new(records));
    }

    pub fn orgs(&self) -> &Organisations {
        &self.orgs
    }

    /// Applies the defaults of a reloaded config (`mfa.enforce`,
    /// `mfa.require_groups`).
    pub fn set_defaults(&self, defaults: Defaults) {
        self.defaults.store(Arc::new(defaults));
        self.apply(self.records.load_full());
    }

    fn apply(&self, records: Arc<Records>) -> Arc<Table> {
        let table = Arc::new(resolve(&self.orgs, &records, &self.defaults.load()));
        self.records.store(records);
        self.table.store(table.clone());
        table
    }

    /// For signed-in traffic: the last table read, never waiting. The first
    /// call starts the refresher, from inside the runtime that serves
    /// requests.
    pub fn cached(self: &Arc<Self>, store: &Arc<LazyStore>) -> Arc<Table> {
        // A load before the swap: signed-in traffic on every thread reads
        // this, and a write per request would bounce the cache line.
        if !self.refreshing.load(Ordering::Relaxed) && !self.refreshing.swap(true, Ordering::AcqRel)
        {
            self.start_refresher(store.clone());
        }
        self.table.load_full()
    }

    fn start_refresher(self: &Arc<Self>, store: Arc<LazyStore>) {
        let this = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut failing = false;
            loop {
                tokio::time::sleep(REFRESH).await;
                let Some(this) = this.upgrade() else { return };
                match this.current(&store).await {
                    Ok(_) => failing = false,
                    // Keep the last table: an unreachable store must not
                    // loosen anything. Say so once per outage.
                    Err(e) if !failing => {
                        tracing::warn!("cannot re-read the MFA policies: {e}");
                        failing = true;
                    }
                    Err(_) => {}
                }
            }
        });
    }

    /// The policies now, from the store: for sign-ins and pages.
    pub async fn current(&self, store: &LazyStore) -> Result<Arc<Table>, StoreError> {
        let records = self.read(store.get().await?).await?;
        Ok(self.apply(Arc::new(records)))
    }

    async fn read(&self, store: &Store) -> Result<Records, StoreError> {
        read_records(store, &self.orgs).await
    }

    /// Sets `org`'s own choice of every field `own` sets; refused where it
    /// would loosen a floor. Takes effect on this replica at once.
    pub async fn set_own(
        &self,
        store: &LazyStore,
        org: OrgId,
        own: &Partial,
    ) -> Result<Arc<Table>, PolicyError> {
        let table = self.current(store).await?;
        let policy = table.get(org);
        if let Some(field) = loosened(own, &policy.floor) {
            return Err(PolicyError::Locked {
                field,
                locker: locker(policy, field, None),
            });
        }
        let db = store.get().await?;
        for field in own.fields() {
            if let Some(value) = stored::encode(field, own) {
                db.setting_put(&stored::own_key(&self.orgs, org, field), &value)
                    .await?;
            }
        }
        if let (OrgId::ROOT, Some(mfa)) = (org, own.mfa) {
            let legacy = if mfa == MfaMode::Required {
                "true"
            } else {
                "false"
            };
            db.setting_put(LEGACY_ENFORCE, legacy).await?;
        }
        Ok(self.current(store).await?)
    }

    /// Sets (`Some`) or lifts (`None`) the lock on `org`'s `field` for
    /// `lock.by`, an admin of `lock.by_org`. Only an admin above `org` may,
    /// and not over a lock set higher up than their own organisation; a
    /// new floor must meet every floor above it.
    pub async fn set_lock(
        &self,
        store: &LazyStore,
        org: OrgId,
        field: Field,
        lock: &Lock,
        lift: bool,
    ) -> Result<Arc<Table>, PolicyError> {
        if lock.by_org == org || !self.orgs.administers(lock.by_org, org) {
            return Err(PolicyError::NotAbove);
        }
        let table = self.current(store).await?;
        let policy = table.get(org);
        if let Some(held) = policy.lock_here(field) {
            if !self.orgs.administers(lock.by_org, held.by_org) {
                return Err(PolicyError::Locked {
                    field,
                    locker: admin_locker(held),
                });
            }
        }
        let key = stored::lock_key(&self.orgs, org, field);
        let db = store.get().await?;
        if lift {
            db.setting_delete(&key).await?;
        } else {
            if loosened(&lock.value, &policy.floor_above) == Some(field) {
                return Err(PolicyError::Locked {
                    field,
                    locker: locker(policy, field, Some(org)),
                });
            }
            if let Some(value) = stored::encode_lock(&self.orgs, field, lock) {
                db.setting_put(&key, &value).await?;
            }
        }
        Ok(self.current(store).await?)
    }
}

impl Table {
    /// Who set the floor on `field` that binds `org`.
    pub fn locker(&self, org: OrgId, field: Field) -> Locker {
        locker(self.get(org), field, None)
    }
}

fn admin_locker(lock: &Lock) -> Locker {
    Locker::Admin {
        by: lock.by.clone(),
        by_org: lock.by_org,
    }
}

/// Who set the floor on `field` that binds `policy`, leaving out locks
/// set on `except`.
fn locker(policy: &super::OrgPolicy, field: Field, except: Option<OrgId>) -> Locker {
    policy
        .locks
        .iter()
        .find(|(at, f, _)| *f == field && Some(*at) != except)
        .map_or(Locker::Config, |(_, _, lock)| admin_locker(lock))
}

#[cfg(test)]
#[path = "book_tests.rs"]
mod tests;
