//! TOTP (RFC 6238) for authenticator apps.
//!
//! Parameters are the ones every authenticator app reads from a QR code
//! without asking: HMAC-SHA1, 6 digits, 30-second steps. One step of skew
//! either side absorbs clock drift and typing time. Verification returns the
//! matched time step so the caller can mark it used and refuse a replay.

use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};
use subtle::{Choice, ConditionallySelectable, ConstantTimeEq};
use totp_rs::{Algorithm, Secret, TOTP};

use super::secret_box::fill_random;

/// Secret length in bytes: 160 bits, RFC 4226's recommendation.
pub const SECRET_LEN: usize = 20;
/// Digits per code.
pub const DIGITS: usize = 6;
/// Seconds per time step.
pub const STEP_SECS: u64 = 30;
/// Steps accepted either side of the current one.
pub const SKEW: u8 = 1;

/// Why a TOTP value could not be built or rendered.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TotpError {
    /// Fewer than [`SECRET_LEN`] bytes: too weak, or a truncated record.
    #[error("TOTP secret is {0} bytes; at least {SECRET_LEN} are required")]
    SecretTooShort(usize),
    /// The otpauth URI could not be encoded as a QR code.
    #[error("could not render the QR code: {0}")]
    Qr(String),
}

/// A TOTP shared secret: at least 160 random bits.
///
/// `Debug` is redacted so the secret cannot reach the logs by accident.
#[derive(Clone)]
pub struct TotpSecret(Vec<u8>);

impl std::fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSecret(<redacted>)")
    }
}

impl TotpSecret {
    /// A fresh secret of [`SECRET_LEN`] bytes from the OS CSPRNG, for enrollment.
    pub fn generate() -> Self {
        let mut bytes = vec![0u8; SECRET_LEN];
        fill_random(&mut bytes);
        Self(bytes)
    }

    /// Wraps stored bytes (after [`super::SecretBox::open`]); refuses fewer
    /// than 160 bits so a damaged record cannot become a weak factor.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, TotpError> {
        if bytes.len() < SECRET_LEN {
            return Err(TotpError::SecretTooShort(bytes.len()));
        }
        Ok(Self(bytes))
    }

    /// The raw bytes, to seal for storage.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// RFC 4648 base32, upper case, no padding: what the otpauth URI carries
    /// and what a user types into an app that cannot scan.
    pub fn base32(&self) -> String {
        match Secret::Raw(self.0.clone()).to_encoded() {
            Secret::Encoded(s) => s,
            Secret::Raw(_) => unreachable!("to_encoded always returns Secret::Encoded"),
        }
    }

    /// The base32 secret in space-separated groups of four ("ABCD EFGH …"),
    /// for the "can't scan?" manual entry; apps ignore the spaces.
    pub fn grouped(&self) -> String {
        let b32 = self.base32();
        let mut out = String::with_capacity(b32.len() + b32.len() / 4);
        for (i, c) in b32.chars().enumerate() {
            if i > 0 && i % 4 == 0 {
                out.push(' ');
            }
            out.push(c);
        }
        out
    }
}

/// A user's authenticator: secret, issuer and account name, with the
/// standard parameters (SHA1, 6 digits, 30 s, ±1 step).
#[derive(Clone)]
pub struct Totp {
    inner: TOTP,
}

impl std::fmt::Debug for Totp {
    /// Shows the label, never the secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Totp")
            .field("issuer", &self.inner.issuer)
            .field("account_name", &self.inner.account_name)
            .finish_non_exhaustive()
    }
}

/// The otpauth label uses ':' between issuer and account, so neither may
/// contain one; it is replaced rather than refusing to enroll the user.
fn label_part(s: &str) -> String {
    s.replace(':', "_")
}

impl Totp {
    /// Builds the authenticator for `account` (the username) under `issuer`
    /// (`mfa.issuer`). Any ':' in either is replaced by '_' in the label;
    /// codes do not depend on the label.
    pub fn new(secret: &TotpSecret, issuer: &str, account: &str) -> Self {
        // The secret is ≥ 160 bits by construction, the digits are 6 and the
        // label has no ':', so totp-rs's checks are already satisfied.
        let inner = TOTP::new_unchecked(
            Algorithm::SHA1,
            DIGITS,
            SKEW,
            STEP_SECS,
            secret.as_bytes().to_vec(),
            Some(label_part(issuer)),
            label_part(account),
        );
        Self { inner }
    }

    /// The `otpauth://totp/Issuer:account?secret=…&issuer=…` URI for the QR
    /// code. totp-rs leaves out parameters at their defaults; they are added
    /// explicitly (algorithm=SHA1, digits=6, period=30) so that no app has to
    /// guess.
    pub fn uri(&self) -> String {
        let mut uri = self.inner.get_url();
        for (key, value) in [
            ("algorithm", "SHA1".to_string()),
            ("digits", DIGITS.to_string()),
            ("period", STEP_SECS.to_string()),
        ] {
            if !uri.contains(&format!("&{key}=")) && !uri.contains(&format!("?{key}=")) {
                uri.push_str(&format!("&{key}={value}"));
            }
        }
        uri
    }

    /// The code for the step containing `unix_secs` (what the app shows then).
    pub fn code_at(&self, unix_secs: u64) -> String {
        self.inner.generate(unix_secs)
    }

    /// Checks a user-typed code at `unix_secs` against the previous, current
    /// and next step. Returns the matched step (`unix_secs / 30 ± 1`) so the
    /// caller can record it as used, or `None`.
    ///
    /// The input may have surrounding whitespace and one inner space
    /// ("123 456"); anything else that is not 6 ASCII digits is refused.
    /// All candidate steps are compared in constant time, without early exit.
    pub fn verify(&self, code: &str, unix_secs: u64) -> Option<u64> {
        let code = normalise_code(code)?;
        let current = unix_secs / STEP_SECS;
        let mut found = Choice::from(0);
        let mut matched = 0u64;
        for step in [
            current.checked_sub(1),
            Some(current),
            current.checked_add(1),
        ]
        .into_iter()
        .flatten()
        {
            let Some(at) = step.checked_mul(STEP_SECS) else {
                continue;
            };
            let expected = self.inner.generate(at);
            let hit = expected.as_bytes().ct_eq(code.as_bytes()) & !found;
            matched = u64::conditional_select(&matched, &step, hit);
            found |= hit;
        }
        if bool::from(found) {
            Some(matched)
        } else {
            None
        }
    }
}

/// Trims, drops at most one inner space, and requires exactly 6 ASCII digits.
fn normalise_code(input: &str) -> Option<String> {
    let trimmed = input.trim();
    let mut spaces = 0;
    let mut digits = String::with_capacity(DIGITS);
    for c in trimmed.chars() {
        match c {
            ' ' => spaces += 1,
            '0'..='9' => digits.push(c),
            _ => return None,
        }
    }
    (spaces <= 1 && digits.len() == DIGITS).then_some(digits)
}

/// Renders `uri` as an SVG QR code (error correction M, ≥ 200 px, with the
/// quiet zone), safe to inline in HTML: the XML declaration is stripped.
pub fn qr_svg(uri: &str) -> Result<String, TotpError> {
    let code = QrCode::with_error_correction_level(uri.as_bytes(), EcLevel::M)
        .map_err(|e| TotpError::Qr(e.to_string()))?;
    let image = code
        .render::<svg::Color<'_>>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .dark_color(svg::Color("#111827"))
        .light_color(svg::Color("#ffffff"))
        .build();
    let image = match image.find("<svg") {
        Some(start) => image[start..].to_string(),
        None => return Err(TotpError::Qr("renderer produced no <svg> element".into())),
    };
    Ok(image)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B: times and the expected 8-digit codes for SHA1,
    /// SHA256 and SHA512.
    const RFC6238: [(u64, &str, &str, &str); 6] = [
        (59, "94287082", "46119246", "90693936"),
        (1111111109, "07081804", "68084774", "25091201"),
        (1111111111, "14050471", "67062674", "99943326"),
        (1234567890, "89005924", "91819424", "93441116"),
        (2000000000, "69279037", "90698825", "38618901"),
        (20000000000, "65353130", "77737706", "47863826"),
    ];

    fn rfc_seed(len: usize) -> Vec<u8> {
        b"1234567890".iter().copied().cycle().take(len).collect()
    }

    fn rfc_totp(algorithm: Algorithm, seed_len: usize) -> TOTP {
        TOTP::new(algorithm, 8, 1, 30, rfc_seed(seed_len), None, String::new()).unwrap()
    }

    #[test]
    fn rfc6238_sha1_vectors() {
        let totp = rfc_totp(Algorithm::SHA1, 20);
        for (t, sha1, _, _) in RFC6238 {
            assert_eq!(totp.generate(t), sha1, "T={t}");
        }
    }

    #[test]
    fn rfc6238_sha256_vectors() {
        let totp = rfc_totp(Algorithm::SHA256, 32);
        for (t, _, sha256, _) in RFC6238 {
            assert_eq!(totp.generate(t), sha256, "T={t}");
        }
    }

    #[test]
    fn rfc6238_sha512_vectors() {
        let totp = rfc_totp(Algorithm::SHA512, 64);
        for (t, _, _, sha512) in RFC6238 {
            assert_eq!(totp.generate(t), sha512, "T={t}");
        }
    }

    #[test]
    fn our_totp_is_the_rfc_sha1_truncated_to_six_digits() {
        let secret = TotpSecret::from_bytes(rfc_seed(20)).unwrap();
        let totp = Totp::new(&secret, "Gatehouse", "alice");
        for (t, sha1, _, _) in RFC6238 {
            assert_eq!(totp.code_at(t), sha1[2..], "T={t}");
        }
    }

    fn fixture() -> Totp {
        Totp::new(&TotpSecret::generate(), "Gatehouse", "alice")
    }

    #[test]
    fn a_code_verifies_at_its_step_and_one_step_either_side() {
        let totp = fixture();
        let now = 1_700_000_015u64;
        let step = now / 30;
        let code = totp.code_at(now);
        assert_eq!(totp.verify(&code, now), Some(step));
        // Verified 30 s later, the code is from the previous step.
        assert_eq!(totp.verify(&code, now + 30), Some(step));
        assert_eq!(totp.verify(&code, now - 30), Some(step));
        // The returned step is the one the code belongs to, not "now".
        let prev = totp.code_at(now - 30);
        let next = totp.code_at(now + 30);
        if prev != code {
            assert_eq!(totp.verify(&prev, now), Some(step - 1));
        }
        if next != code && next != prev {
            assert_eq!(totp.verify(&next, now), Some(step + 1));
        }
    }

    #[test]
    fn a_code_two_steps_away_is_refused() {
        let totp = fixture();
        let now = 1_700_000_015u64;
        let code = totp.code_at(now);
        let near: Vec<String> = (-1i64..=1)
            .map(|d| totp.code_at((now as i64 + 30 * d + 60) as u64))
            .collect();
        // Skip the (1 in 10^6) case where the far code collides with a near one.
        if !near.contains(&code) {
            assert_eq!(totp.verify(&code, now + 60), None);
        }
        let near: Vec<String> = (-1i64..=1)
            .map(|d| totp.code_at((now as i64 + 30 * d - 60) as u64))
            .collect();
        if !near.contains(&code) {
            assert_eq!(totp.verify(&code, now - 60), None);
        }
    }

    #[test]
    fn wrong_codes_fail() {
        let totp = fixture();
        let now = 1_700_000_015u64;
        let valid: Vec<String> = [now - 30, now, now + 30]
            .iter()
            .map(|&t| totp.code_at(t))
            .collect();
        let wrong = (0..1_000_000u32)
            .map(|n| format!("{n:06}"))
            .find(|c| !valid.contains(c))
            .unwrap();
        assert_eq!(totp.verify(&wrong, now), None);
    }

    #[test]
    fn formatting_is_tolerated_within_limits() {
        let totp = fixture();
        let now = 1_700_000_015u64;
        let step = now / 30;
        let code = totp.code_at(now);
        let spaced = format!("{} {}", &code[..3], &code[3..]);
        assert_eq!(totp.verify(&format!("  {code}\n"), now), Some(step));
        assert_eq!(totp.verify(&spaced, now), Some(step));
        assert_eq!(totp.verify(&format!("\t{spaced} "), now), Some(step));
    }

    #[test]
    fn malformed_inputs_fail() {
        let totp = fixture();
        let now = 1_700_000_015u64;
        let code = totp.code_at(now);
        let bad = [
            String::new(),
            "   ".into(),
            code[..5].to_string(),
            format!("{code}0"),
            format!("0{code}"),
            format!("{} {} ", &code[..2], &code[2..]).replacen(' ', "  ", 1),
            format!("{} {} {}", &code[..2], &code[2..4], &code[4..]),
            format!("{}-{}", &code[..3], &code[3..]),
            code.replace(|c: char| c.is_ascii_digit(), "a"),
            // Full-width digits are digits to Unicode, not to us.
            "１２３４５６".into(),
            format!("+{}", &code[1..]),
        ];
        for input in bad {
            assert_eq!(totp.verify(&input, now), None, "{input:?}");
        }
    }

    #[test]
    fn verification_at_time_zero_does_not_underflow() {
        let totp = fixture();
        assert_eq!(totp.verify(&totp.code_at(0), 0), Some(0));
        assert_eq!(totp.verify(&totp.code_at(30), 0), Some(1));
    }

    #[test]
    fn the_uri_names_issuer_account_and_secret() {
        let secret = TotpSecret::generate();
        let totp = Totp::new(&secret, "Example Corp", "alice@example.com");
        let uri = totp.uri();
        assert!(
            uri.starts_with("otpauth://totp/Example%20Corp:alice%40example.com?"),
            "{uri}"
        );
        assert!(
            uri.contains(&format!("secret={}", secret.base32())),
            "{uri}"
        );
        assert!(uri.contains("&issuer=Example%20Corp"), "{uri}");
        assert!(uri.contains("&algorithm=SHA1"), "{uri}");
        assert!(uri.contains("&digits=6"), "{uri}");
        assert!(uri.contains("&period=30"), "{uri}");
        assert_eq!(uri.matches("algorithm=").count(), 1, "{uri}");
        // totp-rs reads it back with the same parameters and secret.
        let parsed = TOTP::from_url(&uri).unwrap();
        assert_eq!(parsed.secret, secret.as_bytes());
        assert_eq!(parsed.issuer.as_deref(), Some("Example Corp"));
        assert_eq!(parsed.account_name, "alice@example.com");
        assert_eq!((parsed.digits, parsed.step), (6, 30));
        assert_eq!(parsed.algorithm, Algorithm::SHA1);
    }

    #[test]
    fn colons_in_the_label_are_replaced() {
        let totp = Totp::new(&TotpSecret::generate(), "A:B", "c:d");
        assert!(
            totp.uri().starts_with("otpauth://totp/A_B:c_d?"),
            "{}",
            totp.uri()
        );
    }

    #[test]
    fn secrets_are_160_bits_and_base32_round_trips() {
        let secret = TotpSecret::generate();
        assert_eq!(secret.as_bytes().len(), 20);
        let b32 = secret.base32();
        assert_eq!(b32.len(), 32);
        assert!(b32
            .chars()
            .all(|c| c.is_ascii_uppercase() || ('2'..='7').contains(&c)));
        let back = Secret::Encoded(b32.clone()).to_bytes().unwrap();
        assert_eq!(back, secret.as_bytes());
        assert_ne!(TotpSecret::generate().as_bytes(), secret.as_bytes());
        let grouped = secret.grouped();
        assert_eq!(grouped.split(' ').count(), 8);
        assert!(grouped.split(' ').all(|g| g.len() == 4));
        assert_eq!(grouped.replace(' ', ""), b32);
    }

    #[test]
    fn known_secret_encodes_per_rfc4648() {
        let secret = TotpSecret::from_bytes(rfc_seed(20)).unwrap();
        assert_eq!(secret.base32(), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert_eq!(secret.grouped(), "GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ");
    }

    #[test]
    fn short_secrets_are_refused() {
        assert_eq!(
            TotpSecret::from_bytes(vec![0; 19]).unwrap_err(),
            TotpError::SecretTooShort(19)
        );
        assert!(TotpSecret::from_bytes(vec![0; 32]).is_ok());
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let secret = TotpSecret::from_bytes(rfc_seed(20)).unwrap();
        let totp = Totp::new(&secret, "Gatehouse", "alice");
        for shown in [format!("{secret:?}"), format!("{totp:?}")] {
            assert!(!shown.contains("GEZDGNBV"), "{shown}");
            assert!(!shown.contains("49, 50"), "{shown}");
        }
        assert!(format!("{totp:?}").contains("alice"));
    }

    #[test]
    fn the_qr_code_is_inline_svg() {
        let totp = fixture();
        let svg = qr_svg(&totp.uri()).unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..60]);
        assert!(!svg.contains("<?xml"));
        assert!(svg.ends_with("</svg>"));
        assert!(svg.contains("#111827") && svg.contains("#ffffff"));
        let width: u32 = svg
            .split("width=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .and_then(|s| s.parse().ok())
            .unwrap();
        assert!(width >= 200, "{width}");
    }

    #[test]
    fn an_oversized_uri_is_an_error_not_a_panic() {
        let huge = "x".repeat(10_000);
        assert!(matches!(qr_svg(&huge), Err(TotpError::Qr(_))));
    }
}
