//! Service tokens: how integrations pass without pages or MFA.
//!
//! Only the SHA-256 of each token is configured. A presented token is hashed
//! and compared with every configured hash in constant time, without
//! stopping at a match, so timing says nothing about which hash was close.

use std::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::config::ServiceToken;
use crate::proxy::headers::IdentityHeaders;

pub struct TokenEntry {
    pub name: String,
    sha256: [u8; 32],
    pub identity: IdentityHeaders,
    /// When this token's use was last audited (ms since the epoch).
    last_audit_ms: AtomicU64,
}

/// A token's use is audited at most this often per replica: integrations
/// make many requests, and a store write per request would cost more than
/// the request.
const AUDIT_EVERY_MS: u64 = 60_000;

impl TokenEntry {
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
}

#[derive(Default)]
pub struct TokenSet {
    entries: Vec<TokenEntry>,
}

impl TokenSet {
    pub fn new(tokens: &[ServiceToken]) -> Self {
        Self {
            entries: tokens
                .iter()
                .filter_map(|t| {
                    Some(TokenEntry {
                        name: t.name.clone(),
                        sha256: t.sha256,
                        identity: IdentityHeaders::for_service(&t.name)?,
                        last_audit_ms: AtomicU64::new(0),
                    })
                })
                .collect(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entry whose hash matches the presented token, if any.
    pub fn find(&self, presented: &str) -> Option<&TokenEntry> {
        let digest: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        let mut found = None;
        for entry in &self.entries {
            if bool::from(entry.sha256.ct_eq(&digest)) {
                found = Some(entry);
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_token_matches() {
        let set = TokenSet::new(&[ServiceToken {
            name: "ci".into(),
            sha256: Sha256::digest(b"s3cret").into(),
        }]);
        assert_eq!(set.find("s3cret").map(|e| e.name.as_str()), Some("ci"));
        assert!(set.find("s3cret ").is_none());
        assert!(set.find("").is_none());
    }

    #[test]
    fn token_use_is_audited_once_per_interval() {
        let set = TokenSet::new(&[ServiceToken {
            name: "ci".into(),
            sha256: Sha256::digest(b"t").into(),
        }]);
        let entry = set.find("t").unwrap();
        assert!(entry.audit_due(1_000_000));
        assert!(!entry.audit_due(1_000_001));
        assert!(entry.audit_due(1_000_000 + AUDIT_EVERY_MS));
    }
}
