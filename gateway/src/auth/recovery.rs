//! Recovery codes: the way back in when the authenticator is lost.
//!
//! Ten single-use codes of 15 characters from a 31-symbol alphabet without
//! look-alikes (no 0/o, 1/l/i): about 74 bits each, far beyond online
//! guessing, and still easy to read off paper. They are shown once and stored
//! only as keyed hashes (HMAC-SHA256 with a key from `secrets`, bound to the
//! username), so a leaked table yields nothing usable, not even by brute force
//! without the key.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use super::secret_box::fill_random;

/// How many codes a user gets at a time.
pub const CODE_COUNT: usize = 10;
/// Symbols a code is made of: lower case letters and digits, minus the
/// confusable 0, o, 1, l and i.
pub const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
/// Characters per code, without separators (15 × log2(31) ≈ 74 bits).
pub const CODE_CHARS: usize = 15;
/// Characters per dash-separated group when displayed.
pub const GROUP_CHARS: usize = 5;

/// Largest multiple of the alphabet size that fits a byte: bytes at or above
/// it are rejected so every symbol is exactly equally likely.
const REJECT_FROM: u8 = (256 / ALPHABET.len() * ALPHABET.len()) as u8;

/// `CODE_CHARS` unbiased symbols from the OS CSPRNG (rejection sampling).
fn random_symbols() -> Vec<u8> {
    let mut out = Vec::with_capacity(CODE_CHARS);
    let mut buf = [0u8; 32];
    while out.len() < CODE_CHARS {
        fill_random(&mut buf);
        for &b in &buf {
            if b < REJECT_FROM && out.len() < CODE_CHARS {
                out.push(ALPHABET[usize::from(b) % ALPHABET.len()]);
            }
        }
    }
    out
}

/// Formats normalised symbols as `xxxxx-xxxxx-xxxxx` for display.
fn display(symbols: &[u8]) -> String {
    symbols
        .chunks(GROUP_CHARS)
        .map(|g| std::str::from_utf8(g).expect("alphabet is ASCII"))
        .collect::<Vec<_>>()
        .join("-")
}

/// A fresh set of [`CODE_COUNT`] distinct codes, formatted `xxxxx-xxxxx-xxxxx`,
/// to show the user once. Store them with [`normalise`] then
/// [`RecoveryHasher::hash`].
pub fn generate() -> Vec<String> {
    let mut codes: Vec<String> = Vec::with_capacity(CODE_COUNT);
    while codes.len() < CODE_COUNT {
        let code = display(&random_symbols());
        // A repeat is astronomically unlikely, but a set must not hold one.
        if !codes.contains(&code) {
            codes.push(code);
        }
    }
    codes
}

/// Turns what the user typed into the canonical form that is hashed: trimmed,
/// lower case, without spaces or dashes. `None` unless the result is exactly
/// [`CODE_CHARS`] symbols of [`ALPHABET`], so garbage is refused before any
/// lookup.
pub fn normalise(input: &str) -> Option<String> {
    let compact: String = input
        .trim()
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_lowercase())
        .collect();
    let valid = compact.len() == CODE_CHARS && compact.bytes().all(|b| ALPHABET.contains(&b));
    valid.then_some(compact)
}

/// Keyed hashing of recovery codes for storage and lookup.
#[derive(Clone)]
pub struct RecoveryHasher {
    mac: Hmac<Sha256>,
}

impl std::fmt::Debug for RecoveryHasher {
    /// Never prints the key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecoveryHasher(<redacted>)")
    }
}

impl RecoveryHasher {
    /// Creates a hasher from a 32-byte key (from `secrets`).
    pub fn new(key: &[u8; 32]) -> Self {
        Self {
            mac: Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts any key length"),
        }
    }

    /// Hex HMAC-SHA256(key, username || 0x00 || code) of a [`normalise`]d
    /// code. Deterministic, so the store can look a code up by its hash; the
    /// username makes the same code hash differently for each user.
    pub fn hash(&self, username: &str, normalised_code: &str) -> String {
        let mut mac = self.mac.clone();
        mac.update(username.as_bytes());
        mac.update(&[0]);
        mac.update(normalised_code.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// Whether `normalised_code` hashes to `stored_hex`, compared in constant
    /// time (for callers that compare in memory rather than by lookup).
    pub fn matches(&self, username: &str, normalised_code: &str, stored_hex: &str) -> bool {
        let computed = self.hash(username, normalised_code);
        computed.as_bytes().ct_eq(stored_hex.as_bytes()).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_alphabet_has_no_confusables_and_no_repeats() {
        assert_eq!(ALPHABET.len(), 31);
        for c in b"01oil" {
            assert!(!ALPHABET.contains(c), "{}", *c as char);
        }
        let mut sorted = ALPHABET.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), ALPHABET.len());
        assert_eq!(REJECT_FROM, 248);
        // At least 70 bits per code.
        assert!(CODE_CHARS as f64 * (ALPHABET.len() as f64).log2() >= 70.0);
    }

    #[test]
    fn generates_ten_distinct_codes_of_the_right_shape() {
        let codes = generate();
        assert_eq!(codes.len(), CODE_COUNT);
        for code in &codes {
            let groups: Vec<&str> = code.split('-').collect();
            assert_eq!(groups.len(), 3, "{code}");
            for g in groups {
                assert_eq!(g.len(), GROUP_CHARS, "{code}");
                assert!(g.bytes().all(|b| ALPHABET.contains(&b)), "{code}");
            }
            assert_eq!(normalise(code).unwrap(), code.replace('-', ""));
        }
        let mut unique = codes.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), CODE_COUNT);
        assert_ne!(generate(), codes);
    }

    #[test]
    fn every_symbol_turns_up() {
        let mut seen = [false; 256];
        for _ in 0..20 {
            for code in generate() {
                for b in code.bytes() {
                    seen[usize::from(b)] = true;
                }
            }
        }
        for &c in ALPHABET {
            assert!(seen[usize::from(c)], "{} never drawn", c as char);
        }
    }

    #[test]
    fn normalise_accepts_how_people_type_a_real_code() {
        let code = generate().remove(0);
        let compact = code.replace('-', "");
        let upper = code.to_uppercase();
        let variants = [
            code.clone(),
            compact.clone(),
            upper.clone(),
            format!("  {code}\n"),
            upper.replace('-', " "),
            format!("{} {}-{}", &compact[..5], &compact[5..10], &compact[10..]),
            compact
                .as_bytes()
                .chunks(4)
                .map(|c| std::str::from_utf8(c).unwrap().to_uppercase())
                .collect::<Vec<_>>()
                .join(" "),
            code.replace('-', " - "),
        ];
        for v in variants {
            assert_eq!(normalise(&v).as_deref(), Some(compact.as_str()), "{v:?}");
        }
    }

    #[test]
    fn normalise_rejects_garbage() {
        let code = generate().remove(0).replace('-', "");
        let bad = [
            String::new(),
            "   ".into(),
            "-----".into(),
            code[..14].to_string(),
            format!("{code}a"),
            format!("{}0", &code[..14]),
            format!("{}o", &code[..14]),
            format!("{}l", &code[..14]),
            format!("{}1", &code[..14]),
            format!("{}_", &code[..14]),
            format!("{}é", &code[..14]),
            "123456".into(),
            "abcd efgh ijkl mnop".into(),
        ];
        for b in bad {
            assert_eq!(normalise(&b), None, "{b:?}");
        }
    }

    #[test]
    fn hashes_are_stable_and_differ_per_user_code_and_key() {
        let a = RecoveryHasher::new(&[1; 32]);
        let b = RecoveryHasher::new(&[2; 32]);
        let code = "abcdeabcdeabcde";
        let h = a.hash("alice", code);
        assert_eq!(h.len(), 64);
        assert!(h
            .bytes()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert_eq!(a.hash("alice", code), h);
        assert_eq!(a.clone().hash("alice", code), h);
        assert_ne!(a.hash("bob", code), h);
        assert_ne!(a.hash("alice", "abcdeabcdeabcdf"), h);
        assert_ne!(b.hash("alice", code), h);
        // The separator keeps (user, code) pairs apart.
        assert_ne!(a.hash("alice", "bcd"), a.hash("alicebc", "d"));
        assert!(a.matches("alice", code, &h));
        assert!(!a.matches("bob", code, &h));
        assert!(!a.matches("alice", code, &h[..63]));
    }

    #[test]
    fn the_hash_is_hmac_sha256_of_user_nul_code() {
        // Independent computation with the hmac crate's one-shot API.
        let key = [9u8; 32];
        let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
        mac.update(b"alice\0abcdeabcdeabcde");
        let expected = hex::encode(mac.finalize().into_bytes());
        assert_eq!(
            RecoveryHasher::new(&key).hash("alice", "abcdeabcdeabcde"),
            expected
        );
    }

    #[test]
    fn debug_does_not_show_the_key() {
        assert_eq!(
            format!("{:?}", RecoveryHasher::new(&[1; 32])),
            "RecoveryHasher(<redacted>)"
        );
    }
}
