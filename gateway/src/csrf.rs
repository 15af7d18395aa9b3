//! CSRF tokens: a signed double-submit.
//!
//! A random nonce lives in an HttpOnly cookie; each form carries
//! HMAC(key, nonce). A cross-site page can make the browser send the
//! cookie but can neither read it nor compute the token, and a cookie planted
//! by a sibling subdomain doesn't help without the key.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::rngs::OsRng;
use rand::TryRngCore;
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

#[derive(Clone)]
pub struct Csrf {
    key: [u8; 32],
}

impl Csrf {
    pub fn new(key: [u8; 32]) -> Self {
        Self { key }
    }

    fn mac(&self, nonce: &str) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(b"gatehouse-csrf:");
        mac.update(nonce.as_bytes());
        mac
    }

    /// A fresh nonce for the cookie.
    pub fn new_nonce() -> String {
        let mut bytes = [0u8; 24];
        OsRng
            .try_fill_bytes(&mut bytes)
            .expect("the OS random number generator is available");
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// The form token for a nonce.
    pub fn token(&self, nonce: &str) -> String {
        URL_SAFE_NO_PAD.encode(self.mac(nonce).finalize().into_bytes())
    }

    /// Checks a submitted token in constant time.
    pub fn verify(&self, nonce: &str, token: &str) -> bool {
        if nonce.is_empty() {
            return false;
        }
        match URL_SAFE_NO_PAD.decode(token) {
            Ok(bytes) => self.mac(nonce).verify_slice(&bytes).is_ok(),
            Err(_) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_verifies_only_with_its_own_nonce_and_key() {
        let csrf = Csrf::new([7; 32]);
        let nonce = Csrf::new_nonce();
        let token = csrf.token(&nonce);
        assert!(csrf.verify(&nonce, &token));
        assert!(!csrf.verify(&Csrf::new_nonce(), &token));
        assert!(!Csrf::new([8; 32]).verify(&nonce, &token));
        assert!(!csrf.verify(&nonce, ""));
        assert!(!csrf.verify("", &csrf.token("")));
        assert!(!csrf.verify(&nonce, "not base64!"));
    }
}
