//! Authenticated encryption for secrets at rest (TOTP seeds).
//!
//! A stolen database must not hand out working authenticator secrets, so
//! they are sealed with ChaCha20-Poly1305 under a key from `secrets`. The
//! username is bound in as associated data: a sealed secret copied onto
//! another user's row does not open.

use base64::engine::general_purpose::STANDARD_NO_PAD;
use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use rand::rngs::OsRng;
use rand::TryRngCore as _;

/// Length of the random nonce, in bytes (96 bits, ChaCha20-Poly1305's).
pub const NONCE_LEN: usize = 12;
/// Length of the Poly1305 tag, in bytes.
pub const TAG_LEN: usize = 16;

/// Fills `buf` from the operating system's CSPRNG.
///
/// There is no sensible fallback when the OS cannot give randomness, and
/// carrying on with weak secrets would be worse than stopping, so this panics.
pub(crate) fn fill_random(buf: &mut [u8]) {
    OsRng
        .try_fill_bytes(buf)
        .expect("the operating system's random number generator failed");
}

/// Why a sealed value did not open.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SecretBoxError {
    /// Not base64, or too short to hold a nonce and a tag.
    #[error("sealed value is malformed")]
    Malformed,
    /// Wrong key, wrong associated data, or tampered with.
    #[error("sealed value did not decrypt")]
    Decrypt,
}

/// Seals and opens small secrets with ChaCha20-Poly1305 under one 32-byte key.
///
/// Random 96-bit nonces are safe here: the number of seals per key (one per
/// enrollment) is far below the ~2^32 where collisions start to matter.
#[derive(Clone)]
pub struct SecretBox {
    cipher: ChaCha20Poly1305,
}

impl std::fmt::Debug for SecretBox {
    /// Never prints the key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(<redacted>)")
    }
}

impl SecretBox {
    /// Creates a box from a 32-byte key (from `secrets`, never hard-coded).
    pub fn new(key: &[u8; 32]) -> Self {
        Self {
            cipher: ChaCha20Poly1305::new(Key::from_slice(key)),
        }
    }

    /// Encrypts `plaintext`, bound to `aad` (the username), with a fresh
    /// random nonce; returns base64 (standard, unpadded) of
    /// nonce || ciphertext || tag, ready for a text column.
    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        fill_random(&mut nonce);
        let ciphertext = self
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .expect("ChaCha20-Poly1305 encryption of a small message cannot fail");
        let mut out = Vec::with_capacity(NONCE_LEN + ciphertext.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ciphertext);
        STANDARD_NO_PAD.encode(out)
    }

    /// Decrypts a value made by [`SecretBox::seal`] with the same key and
    /// `aad`; fails if anything differs or was altered.
    pub fn open(&self, sealed: &str, aad: &[u8]) -> Result<Vec<u8>, SecretBoxError> {
        let raw = STANDARD_NO_PAD
            .decode(sealed.trim().trim_end_matches('='))
            .map_err(|_| SecretBoxError::Malformed)?;
        if raw.len() < NONCE_LEN + TAG_LEN {
            return Err(SecretBoxError::Malformed);
        }
        let (nonce, ciphertext) = raw.split_at(NONCE_LEN);
        self.cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad,
                },
            )
            .map_err(|_| SecretBoxError::Decrypt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 32] = [7; 32];

    #[test]
    fn round_trips() {
        let sb = SecretBox::new(&KEY);
        let sealed = sb.seal(b"totp seed bytes", b"alice");
        assert_eq!(sb.open(&sealed, b"alice").unwrap(), b"totp seed bytes");
        let empty = sb.seal(b"", b"alice");
        assert_eq!(sb.open(&empty, b"alice").unwrap(), b"");
    }

    #[test]
    fn output_is_unpadded_base64_of_nonce_ciphertext_and_tag() {
        let sealed = SecretBox::new(&KEY).seal(&[0u8; 20], b"alice");
        assert!(!sealed.contains('='));
        let raw = STANDARD_NO_PAD.decode(&sealed).unwrap();
        assert_eq!(raw.len(), NONCE_LEN + 20 + TAG_LEN);
    }

    #[test]
    fn the_wrong_key_fails() {
        let sealed = SecretBox::new(&KEY).seal(b"secret", b"alice");
        let other = SecretBox::new(&[8; 32]);
        assert_eq!(other.open(&sealed, b"alice"), Err(SecretBoxError::Decrypt));
    }

    #[test]
    fn another_users_aad_fails() {
        let sb = SecretBox::new(&KEY);
        let sealed = sb.seal(b"secret", b"alice");
        assert_eq!(sb.open(&sealed, b"bob"), Err(SecretBoxError::Decrypt));
        assert_eq!(sb.open(&sealed, b""), Err(SecretBoxError::Decrypt));
    }

    #[test]
    fn tampering_fails() {
        let sb = SecretBox::new(&KEY);
        let sealed = sb.seal(b"secret", b"alice");
        let raw = STANDARD_NO_PAD.decode(&sealed).unwrap();
        for i in [0, NONCE_LEN, raw.len() - 1] {
            let mut bad = raw.clone();
            bad[i] ^= 1;
            let bad = STANDARD_NO_PAD.encode(bad);
            assert_eq!(
                sb.open(&bad, b"alice"),
                Err(SecretBoxError::Decrypt),
                "byte {i}"
            );
        }
        let truncated = STANDARD_NO_PAD.encode(&raw[..raw.len() - 1]);
        assert_eq!(sb.open(&truncated, b"alice"), Err(SecretBoxError::Decrypt));
    }

    #[test]
    fn malformed_input_is_reported_as_such() {
        let sb = SecretBox::new(&KEY);
        assert_eq!(sb.open("not base64!", b"a"), Err(SecretBoxError::Malformed));
        assert_eq!(sb.open("", b"a"), Err(SecretBoxError::Malformed));
        let short = STANDARD_NO_PAD.encode([0u8; NONCE_LEN + TAG_LEN - 1]);
        assert_eq!(sb.open(&short, b"a"), Err(SecretBoxError::Malformed));
    }

    #[test]
    fn two_seals_of_the_same_plaintext_differ() {
        let sb = SecretBox::new(&KEY);
        let a = sb.seal(b"same", b"alice");
        let b = sb.seal(b"same", b"alice");
        assert_ne!(a, b);
        assert_eq!(
            sb.open(&a, b"alice").unwrap(),
            sb.open(&b, b"alice").unwrap()
        );
    }

    #[test]
    fn debug_does_not_show_the_key() {
        assert_eq!(
            format!("{:?}", SecretBox::new(&KEY)),
            "SecretBox(<redacted>)"
        );
    }
}
