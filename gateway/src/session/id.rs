//! Session ids: 256 bits from the OS CSPRNG, base64url in the cookie.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::rngs::OsRng;
use rand::TryRngCore;
use sha2::{Digest, Sha256};

const ID_BYTES: usize = 32;
/// base64url of 32 bytes, unpadded.
const ID_LEN: usize = 43;

/// A session id as the browser holds it. Debug output is redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionId(String);

/// The key a session is stored under: a hash of the id, never the id.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StoreKey(pub(crate) [u8; 32]);

impl SessionId {
    pub fn generate() -> Self {
        let mut bytes = [0u8; ID_BYTES];
        OsRng
            .try_fill_bytes(&mut bytes)
            .expect("the OS random number generator is available");
        Self(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// Accepts a cookie value only if it has the exact shape of an id, so
    /// junk never reaches the store.
    pub fn parse(value: &str) -> Option<Self> {
        let ok = value.len() == ID_LEN
            && value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        ok.then(|| Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn store_key(&self) -> StoreKey {
        StoreKey(Sha256::digest(self.0.as_bytes()).into())
    }
}

impl std::fmt::Debug for SessionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionId(…)")
    }
}

/// What every session's Redis key starts with.
pub(crate) const REDIS_PREFIX: &str = "gh:s:";

impl StoreKey {
    /// The Redis key: a short prefix and the unpadded base64url hash.
    pub fn redis_key(&self) -> String {
        format!("{REDIS_PREFIX}{}", URL_SAFE_NO_PAD.encode(self.0))
    }

    /// The store key a Redis key was made from, if it is one.
    pub fn from_redis_key(key: &str) -> Option<Self> {
        let encoded = key.strip_prefix(REDIS_PREFIX)?;
        let bytes = URL_SAFE_NO_PAD.decode(encoded).ok()?;
        Some(Self(bytes.try_into().ok()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_carry_256_random_bits_and_differ() {
        let a = SessionId::generate();
        let b = SessionId::generate();
        assert_eq!(a.as_str().len(), ID_LEN);
        assert_ne!(a, b);
        assert_eq!(SessionId::parse(a.as_str()), Some(a));
    }

    #[test]
    fn malformed_cookie_values_are_not_ids() {
        for bad in [
            "",
            "short",
            &"a".repeat(44),
            &format!("{}!", "a".repeat(42)),
        ] {
            assert!(SessionId::parse(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn a_redis_key_gives_back_its_store_key() {
        let key = SessionId::generate().store_key();
        assert_eq!(StoreKey::from_redis_key(&key.redis_key()), Some(key));
        for other in ["gh:s:", "gh:s:short", "gh:rl:abc", "x"] {
            assert_eq!(StoreKey::from_redis_key(other), None, "{other}");
        }
    }

    #[test]
    fn the_store_key_does_not_contain_the_id() {
        let id = SessionId::generate();
        assert!(!id.store_key().redis_key().contains(id.as_str()));
    }
}
