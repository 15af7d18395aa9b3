//! Tokens created in the admin console, kept in the store.
//!
//! Token requests can't afford a query each, so each replica keeps a copy
//! and re-reads it when it is older than [`REFRESH`] and a token request
//! comes in. A token the copy doesn't know makes that request wait for the
//! re-read, so a token created on another replica works within [`REFRESH`];
//! a known one is served from the copy while the re-read runs in the
//! background, so a revoked one stops working within [`REFRESH`] too. With
//! no token traffic nothing is read at all. Re-reads are one at a time and
//! at most one per [`REFRESH`], so unknown tokens can't flood the store.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use base64::Engine;
use rand::rngs::OsRng;
use rand::TryRngCore;
use sha2::{Digest, Sha256};
use tokio::sync::{Mutex, OwnedMutexGuard};

use super::{scan, Reach, TokenEntry};
use crate::durable::LazyStore;
use crate::store::{AuditEvent, IssuedToken, Replacement, StoreError};

/// How stale a replica's copy of the console's tokens may get.
pub const REFRESH: Duration = Duration::from_secs(2);

/// A request waits at most this long for the store before its unknown
/// token is refused: an unreachable store must not hold requests for the
/// pool's whole connect timeout.
const READ_TIMEOUT: Duration = Duration::from_secs(1);

/// How long a replaced token keeps working, so its integration can move
/// over to the new one without an outage. An admin can end it sooner.
pub const REPLACED_WORKS_FOR: Duration = Duration::from_secs(24 * 60 * 60);

/// What every console token starts with: easy to spot in a leaked file or
/// a secret scanner's rules.
pub const PREFIX: &str = "gatehouse_";

#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    #[error("a service token in the configuration file already has this name")]
    NameInConfig,
    #[error("a service token created in the console already has this name")]
    NameTaken,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What an admin asks for.
pub struct NewToken<'a> {
    pub name: &'a str,
    /// Limit it to this app (by name); None for every app that takes
    /// console tokens.
    pub app: Option<&'a str>,
    pub expires_at_ms: Option<i64>,
    /// The admin, for the console's list.
    pub created_by: &'a str,
    pub now_ms: i64,
}

pub struct IssuedTokens {
    store: Arc<LazyStore>,
    copy: ArcSwap<Vec<Arc<TokenEntry>>>,
    /// When the copy was last read (or a read failed), ms; 0 = never.
    read_at_ms: AtomicU64,
    /// Held while re-reading; true while the store is failing, so an
    /// outage is logged once.
    reading: Arc<Mutex<bool>>,
}

impl IssuedTokens {
    pub fn new(store: Arc<LazyStore>) -> Self {
        Self {
            store,
            copy: ArcSwap::from_pointee(Vec::new()),
            read_at_ms: AtomicU64::new(0),
            reading: Arc::new(Mutex::new(false)),
        }
    }

    fn stale(&self, now_ms: u64) -> bool {
        now_ms.saturating_sub(self.read_at_ms.load(Ordering::Acquire)) >= REFRESH.as_millis() as u64
    }

    pub(super) async fn find(
        self: &Arc<Self>,
        digest: &[u8; 32],
        now_ms: u64,
    ) -> Option<Arc<TokenEntry>> {
        let stale = self.stale(now_ms);
        if let Some(entry) = scan(&self.copy.load(), digest, now_ms).cloned() {
            if stale {
                // One background re-read; everyone else keeps going.
                if let Ok(guard) = self.reading.clone().try_lock_owned() {
                    let this = self.clone();
                    tokio::spawn(async move { this.read(guard, false).await });
                }
            }
            return Some(entry);
        }
        if !stale {
            return None;
        }
        // Boxed: the store read's future is large, and every request that
        // carries a token would otherwise reserve room for it.
        Box::pin(async {
            let guard = self.reading.clone().lock_owned().await;
            self.read(guard, false).await;
        })
        .await;
        scan(&self.copy.load(), digest, now_ms).cloned()
    }

    /// Makes the copy stale, as if [`REFRESH`] had passed.
    #[cfg(test)]
    pub(super) fn age_copy(&self) {
        self.read_at_ms.store(0, Ordering::Release);
    }

    /// Re-reads the store now: after a change on this replica, so it takes
    /// effect here at once.
    pub async fn reload(&self) {
        let guard = self.reading.clone().lock_owned().await;
        self.read(guard, true).await;
    }

    /// Replaces the copy with the store's tokens, unless another reader did
    /// while this one waited (and `force` is off). On failure the old copy
    /// stays: a store outage must not revoke every token, nor bring back a
    /// revoked one.
    async fn read(&self, mut failing: OwnedMutexGuard<bool>, force: bool) {
        if !force && !self.stale(crate::session::now_ms()) {
            return;
        }
        let read = async { self.store.get().await?.tokens_list().await };
        let result = match tokio::time::timeout(READ_TIMEOUT, read).await {
            Ok(result) => result.map_err(|e| e.to_string()),
            Err(_) => Err(format!("no answer within {READ_TIMEOUT:?}")),
        };
        match result {
            Ok(tokens) => {
                let old = self.copy.load();
                let entries = tokens.iter().flat_map(|t| self.entries(t, &old)).collect();
                self.copy.store(Arc::new(entries));
                if *failing {
                    tracing::info!("service tokens: the store answers again");
                }
                *failing = false;
            }
            Err(e) => {
                if !*failing {
                    tracing::warn!(
                        "service tokens: cannot read the console's tokens ({e}); \
                         keeping the {} known",
                        self.copy.load().len()
                    );
                }
                *failing = true;
            }
        }
        self.read_at_ms
            .store(crate::session::now_ms(), Ordering::Release);
    }

    /// The runtime entries for a stored token: its current secret, and the
    /// one it replaced while that still works. They keep the old entries'
    /// audit times, so a re-read doesn't restart "audited once a minute".
    fn entries(&self, token: &IssuedToken, old: &[Arc<TokenEntry>]) -> Vec<Arc<TokenEntry>> {
        // By name: an app renamed or removed from the config since
        // matches no app, so the token reaches nothing rather than everything.
        let reach = Reach::Console(token.app.clone());
        let at = |ms: i64| ms.max(0) as u64;
        let current = (token.sha256, token.expires_at.map(at), false);
        let previous = token.previous.map(|p| (p.sha256, Some(at(p.until)), true));
        [Some(current), previous]
            .into_iter()
            .flatten()
            .filter_map(|(sha256, expires, replaced)| {
                let same = old.iter().find(|e| {
                    e.name == token.name
                        && e.sha256 == sha256
                        && e.expires_at_ms == expires
                        && e.replaced == replaced
                        && e.reach == reach
                });
                if let Some(same) = same {
                    return Some(same.clone());
                }
                let mut entry = TokenEntry::new(&token.name, sha256, reach.clone(), expires)?;
                entry.replaced = replaced;
                Some(Arc::new(entry))
            })
            .collect()
    }

    pub(super) async fn issue(&self, new: NewToken<'_>) -> Result<String, IssueError> {
        let (token, sha256) = mint();
        let stored = IssuedToken {
            name: new.name.to_owned(),
            sha256,
            app: new.app.map(str::to_owned),
            created_at: new.now_ms,
            created_by: new.created_by.to_owned(),
            expires_at: new.expires_at_ms,
            previous: None,
        };
        // 256 random bits never collide, so a refusal means the name.
        if !self.store.get().await?.token_insert(&stored).await? {
            return Err(IssueError::NameTaken);
        }
        self.reload().await;
        Ok(token)
    }

    /// Gives console token `name` a new secret and returns it, with the
    /// token as now stored. The old secret keeps working for
    /// [`REPLACED_WORKS_FOR`] (never past its own expiry); one it had
    /// replaced before ends now. None if there is no console token by
    /// that name (a config token's hash is in the config file).
    pub async fn replace(
        &self,
        name: &str,
        by: &str,
        now_ms: i64,
    ) -> Result<Option<(String, IssuedToken)>, StoreError> {
        let (token, sha256) = mint();
        let store = self.store.get().await?;
        let replaced = store
            .token_replace(&Replacement {
                name,
                sha256,
                by,
                now_ms,
                previous_until: Some(now_ms + REPLACED_WORKS_FOR.as_millis() as i64),
            })
            .await?;
        if !replaced {
            return Ok(None);
        }
        // A secret replaced before is over (the one just replaced is still
        // in the copy, as current, until the re-read).
        self.forget(|e| e.name == name && e.replaced);
        self.reload().await;
        let stored = store.tokens_list().await?;
        Ok(stored
            .into_iter()
            .find(|t| t.name == name)
            .map(|stored| (token, stored)))
    }

    /// Ends, now, the secret token `name` replaced: at once on this
    /// replica, within [`REFRESH`] on the others. False if it had none.
    pub async fn end_replaced(&self, name: &str) -> Result<bool, StoreError> {
        let ended = self.store.get().await?.token_end_previous(name).await?;
        self.forget(|e| e.name == name && e.replaced);
        self.reload().await;
        Ok(ended)
    }

    /// Drops the entries `gone` picks from the copy, before the re-read
    /// that follows a change: even a failing re-read can't leave them
    /// working here.
    fn forget(&self, gone: impl Fn(&TokenEntry) -> bool) {
        self.copy.rcu(|copy| {
            copy.iter()
                .filter(|e| !gone(e))
                .cloned()
                .collect::<Vec<_>>()
        });
    }

    /// Every console token, expired ones included, by name.
    pub async fn list(&self) -> Result<Vec<IssuedToken>, StoreError> {
        self.store.get().await?.tokens_list().await
    }

    /// When the audit log last saw token `name` come in. Uses are audited
    /// once a minute per replica, so this is as close as it gets without a
    /// write per request.
    pub async fn last_used(&self, name: &str) -> Result<Option<i64>, StoreError> {
        let who = super::service_user(name);
        self.store
            .get()
            .await?
            .audit_last(&who, AuditEvent::TokenUsed.as_str())
            .await
    }

    /// Revokes a token: at once on this replica, within [`REFRESH`] on the
    /// others. False if there was none by that name.
    pub async fn revoke(&self, name: &str) -> Result<bool, StoreError> {
        let removed = self.store.get().await?.token_delete(name).await?;
        self.forget(|e| e.name == name);
        self.reload().await;
        Ok(removed)
    }
}

/// A new token (256 bits from the OS, after [`PREFIX`]) and its hash.
fn mint() -> (String, [u8; 32]) {
    let mut bytes = [0u8; 32];
    OsRng
        .try_fill_bytes(&mut bytes)
        .expect("the OS random number generator is available");
    let token = format!(
        "{PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    );
    let sha256 = Sha256::digest(token.as_bytes()).into();
    (token, sha256)
}
