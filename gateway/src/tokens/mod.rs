//! Service tokens: how integrations pass without pages or MFA.
//!
//! Tokens come from two places. Ops write `service_tokens` in the config
//! (read again on SIGHUP); admins create and revoke tokens in the console,
//! kept in the store ([`issued`]). Only the SHA-256 of a token is kept either
//! way. A presented token is hashed and compared with every known hash in
//! constant time, without stopping at a match, so timing says nothing about
//! which hash was close.

mod issued;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::config::ServiceToken;
use crate::durable::LazyStore;
use crate::identity::IdentityHeaders;

pub use issued::{IssueError, IssuedTokens, NewToken, REFRESH, REPLACED_WORKS_FOR};

/// Which apps a token may reach.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Reach {
    /// From the config: every app, or the apps that list it in
    /// `apps[].service_tokens`.
    Config,
    /// From the console: apps that don't list their tokens; with a name,
    /// only that app. The config has the last word: an app whose tokens ops
    /// pinned takes no console token. By name, not position, so a reloaded
    /// config that reorders, renames or removes apps never hands a token
    /// to an app it wasn't made for.
    Console(Option<String>),
}

pub struct TokenEntry {
    pub name: String,
    sha256: [u8; 32],
    pub identity: IdentityHeaders,
    reach: Reach,
    /// When it stops working (ms since the epoch); None = never.
    expires_at_ms: Option<u64>,
    /// When this token's use was last audited (ms since the epoch).
    last_audit_ms: AtomicU64,
    /// A console token's old secret, still working after a replacement.
    pub replaced: bool,
}

/// A token's use is audited at most this often per replica: integrations
/// make many requests, and a store write per request would cost more than
/// the request.
const AUDIT_EVERY_MS: u64 = 60_000;

/// The user a token passes as: what `Remote-User` and the audit log say.
pub fn service_user(token: &str) -> String {
    format!("service:{token}")
}

impl TokenEntry {
    fn new(name: &str, sha256: [u8; 32], reach: Reach, expires_at_ms: Option<u64>) -> Option<Self> {
        Some(TokenEntry {
            name: name.to_owned(),
            sha256,
            identity: IdentityHeaders::for_service(&service_user(name), name)?,
            reach,
            expires_at_ms,
            last_audit_ms: AtomicU64::new(0),
            replaced: false,
        })
    }

    /// True at most once per audit interval, for whichever request gets
    /// there first.
    pub fn audit_due(&self, now_ms: u64) -> bool {
        let last = self.last_audit_ms.load(Ordering::Relaxed);
        now_ms.saturating_sub(last) >= AUDIT_EVERY_MS
            && self
                .last_audit_ms
                .compare_exchange(last, now_ms, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
    }

    /// Whether the token may reach the app named `app`, whose config lists
    /// `listed` tokens (None: it takes any).
    pub fn may_reach(&self, app: &str, listed: Option<&[String]>) -> bool {
        match (&self.reach, listed) {
            (Reach::Config, None) => true,
            (Reach::Config, Some(names)) => names.contains(&self.name),
            (Reach::Console(_), Some(_)) => false,
            (Reach::Console(only), None) => only.as_deref().is_none_or(|name| name == app),
        }
    }

    fn live(&self, now_ms: u64) -> bool {
        self.expires_at_ms.is_none_or(|at| now_ms < at)
    }
}

/// The entry among `entries` whose hash is `digest` and that hasn't expired.
/// Every entry is compared, whatever matched before.
fn scan<'a>(
    entries: &'a [Arc<TokenEntry>],
    digest: &[u8; 32],
    now_ms: u64,
) -> Option<&'a Arc<TokenEntry>> {
    let mut found = None;
    for entry in entries {
        if bool::from(entry.sha256.ct_eq(digest)) {
            found = Some(entry);
        }
    }
    found.filter(|e| e.live(now_ms))
}

/// Every token this replica knows: the config's, then the console's.
pub struct TokenSet {
    config: Vec<Arc<TokenEntry>>,
    issued: Arc<IssuedTokens>,
}

impl TokenSet {
    pub fn new(tokens: &[ServiceToken], store: Arc<LazyStore>) -> Self {
        Self::with_issued(tokens, Arc::new(IssuedTokens::new(store)))
    }

    /// The config's `tokens` beside the console's tokens of another set:
    /// a reloaded config changes the former, while the latter live in the
    /// store and keep their copy.
    pub fn reconfigured(&self, tokens: &[ServiceToken]) -> Self {
        Self::with_issued(tokens, self.issued.clone())
    }

    fn with_issued(tokens: &[ServiceToken], issued: Arc<IssuedTokens>) -> Self {
        Self {
            config: tokens
                .iter()
                .filter_map(|t| TokenEntry::new(&t.name, t.sha256, Reach::Config, None))
                .map(Arc::new)
                .collect(),
            issued,
        }
    }

    /// The names of the config's tokens.
    pub fn config_names(&self) -> impl Iterator<Item = &str> {
        self.config.iter().map(|e| e.name.as_str())
    }

    /// The live token matching `presented`, if any. May read the store
    /// when the console's tokens were last read more than [`REFRESH`] ago.
    pub async fn find(&self, presented: &str) -> Option<Arc<TokenEntry>> {
        let digest: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        let now = crate::session::now_ms();
        if let Some(entry) = scan(&self.config, &digest, now) {
            return Some(entry.clone());
        }
        self.issued.find(&digest, now).await
    }

    /// Creates a console token and returns it: the only time it exists
    /// outside the caller's hands. Its name must not be a config token's,
    /// so `Remote-User` always says which token came in.
    pub async fn issue(&self, new: NewToken<'_>) -> Result<String, IssueError> {
        if self.config_names().any(|name| name == new.name) {
            return Err(IssueError::NameInConfig);
        }
        self.issued.issue(new).await
    }

    /// The console's tokens, for creating, listing, replacing and revoking them.
    pub fn issued(&self) -> &IssuedTokens {
        &self.issued
    }
}

#[cfg(test)]
mod tests;
