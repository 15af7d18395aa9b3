//! The user's phone: an authenticator app played by `oathtool`, which makes
//! RFC 6238 codes (SHA1, 6 digits, 30 s) exactly as the apps do.
//!
//! The gateway accepts each time step once per user, and codes from one
//! step either side of "now". So the [`Authenticator`] remembers which steps
//! it has handed out (shared by every authenticator of one user, since the
//! gateway's marker is per user, not per secret) and never hands one out
//! twice: [`Authenticator::code`] picks an unused step inside the window at
//! once, and [`Authenticator::next_code`] waits, like a person would, for
//! the app to show a new code.

use std::collections::BTreeSet;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::harness::eventually;

/// Seconds per TOTP time step.
pub const STEP_SECS: u64 = 30;

/// A step-1 code must still have this long to live when handed out, so the
/// request reaches the gateway before the window moves past it.
const MARGIN_SECS: u64 = 5;

/// Unix time now, in seconds.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_secs()
}

/// The TOTP time step now.
pub fn current_step() -> u64 {
    unix_now() / STEP_SECS
}

/// Seconds left before the current step ends (1..=30).
pub fn secs_left_in_step() -> u64 {
    step_and_secs_left().1
}

/// The step now and the seconds it has left, from one reading of the clock.
fn step_and_secs_left() -> (u64, u64) {
    let now = unix_now();
    (now / STEP_SECS, STEP_SECS - now % STEP_SECS)
}

/// Polls the clock until the current step has at least `secs` seconds left
/// (at most `secs` of waiting), so a test can reason about "now" and its
/// neighbours without a step change in between.
pub fn wait_for_secs_left(secs: u64) {
    assert!(secs < STEP_SECS, "a step only has {STEP_SECS} s");
    eventually(
        Duration::from_secs(secs + 2),
        "a TOTP step with enough time left",
        || (secs_left_in_step() >= secs).then_some(()),
    );
}

/// An authenticator app holding one secret.
#[derive(Debug, Clone)]
pub struct Authenticator {
    /// Base32, upper case, no spaces or padding.
    secret: String,
    /// Steps already handed out for this user.
    used: Arc<Mutex<BTreeSet<u64>>>,
}

impl Authenticator {
    /// An app that was given `secret` (base32; spaces and case don't matter,
    /// as when typing the manual key).
    pub fn new(secret: &str) -> Authenticator {
        Authenticator {
            secret: normalise(secret),
            used: Arc::new(Mutex::new(BTreeSet::new())),
        }
    }

    /// The app set up from an enrollment page: its manual key.
    pub fn from_enroll_page(html: &str) -> Authenticator {
        let secret = totp_secret(html)
            .unwrap_or_else(|| panic!("no id=\"totp-secret\" on the enrollment page: {html}"));
        Authenticator::new(&secret)
    }

    /// The same user's new app (after a reset): a new secret, but the steps
    /// already used for the user stay used.
    pub fn replaced_by(&self, secret: &str) -> Authenticator {
        Authenticator {
            secret: normalise(secret),
            used: Arc::clone(&self.used),
        }
    }

    /// The secret, base32 without spaces.
    pub fn secret(&self) -> &str {
        &self.secret
    }

    /// The code for time step `step`, from `oathtool`.
    pub fn code_at_step(&self, step: u64) -> String {
        oathtool(&self.secret, step * STEP_SECS)
    }

    /// What the app shows right now. Not marked as used: for replays and
    /// for tests that pick their steps themselves.
    pub fn code_now(&self) -> String {
        self.code_at_step(current_step())
    }

    /// A code the gateway accepts now and that this user has not used yet:
    /// the current step's, else the next step's, else (while it has time
    /// left) the previous step's; if all three are used, waits for the step
    /// to move on.
    pub fn code(&self) -> String {
        let step = eventually(
            Duration::from_secs(STEP_SECS + 5),
            "an unused TOTP step inside the ±1 window",
            || self.claim_in_window(),
        );
        self.code_at_step(step)
    }

    /// The code for `step` if this user has not used that step yet (and
    /// marks it used).
    pub fn claim_step(&self, step: u64) -> Option<String> {
        let fresh = self.used.lock().expect("used steps lock").insert(step);
        fresh.then(|| self.code_at_step(step))
    }

    /// Two consecutive codes, for enrollment that asks for two: the current
    /// step's and the next one's (else the previous and the current one's;
    /// if those are used too, waits for the step to move on).
    pub fn consecutive_codes(&self) -> (String, String) {
        let step = eventually(
            Duration::from_secs(STEP_SECS + 5),
            "two consecutive unused TOTP steps inside the ±1 window",
            || {
                let (now, left) = step_and_secs_left();
                let mut used = self.used.lock().expect("used steps lock");
                let first = [now, now.saturating_sub(1)]
                    .into_iter()
                    .find(|s| !used.contains(s) && !used.contains(&(s + 1)))
                    .filter(|&s| s == now || left >= MARGIN_SECS)?;
                used.insert(first);
                used.insert(first + 1);
                Some(first)
            },
        );
        (self.code_at_step(step), self.code_at_step(step + 1))
    }

    /// Like a person with a phone: waits until the app shows a code for a
    /// step after every step used so far, and returns it. Costs up to 30 s.
    pub fn next_code(&self) -> String {
        let after = self
            .used
            .lock()
            .expect("used steps lock")
            .last()
            .copied()
            .unwrap_or(0);
        let step = eventually(
            Duration::from_secs(2 * STEP_SECS + 5),
            "the authenticator to show a new code",
            || {
                let now = current_step();
                (now > after).then_some(now)
            },
        );
        self.used.lock().expect("used steps lock").insert(step);
        self.code_at_step(step)
    }

    /// Six digits that are no code of this secret anywhere near now.
    pub fn wrong_code(&self) -> String {
        let now = current_step();
        let near: Vec<String> = (now.saturating_sub(3)..=now + 3)
            .map(|s| self.code_at_step(s))
            .collect();
        let mut candidate: u32 = near[0].parse().expect("numeric code");
        loop {
            candidate = (candidate + 137_731) % 1_000_000;
            let code = format!("{candidate:06}");
            if !near.contains(&code) {
                return code;
            }
        }
    }

    fn claim_in_window(&self) -> Option<u64> {
        let (now, left) = step_and_secs_left();
        let mut used = self.used.lock().expect("used steps lock");
        let mut candidates = vec![now, now + 1];
        if left >= MARGIN_SECS {
            candidates.push(now.saturating_sub(1));
        }
        let step = candidates.into_iter().find(|s| !used.contains(s))?;
        used.insert(step);
        Some(step)
    }
}

fn normalise(secret: &str) -> String {
    secret
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '=')
        .collect::<String>()
        .to_ascii_uppercase()
}

/// `oathtool --totp` for the given unix time.
fn oathtool(secret: &str, unix: u64) -> String {
    let output = Command::new("oathtool")
        .args([
            "--totp=sha1",
            "--digits=6",
            "--time-step-size=30s",
            "--base32",
        ])
        .arg(format!("--now=@{unix}"))
        .arg(secret)
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run oathtool ({e}): install it (Debian: apt-get install oathtool)")
        });
    assert!(
        output.status.success(),
        "oathtool failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let code = String::from_utf8_lossy(&output.stdout).trim().to_string();
    assert!(
        code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()),
        "oathtool printed {code:?}, not a 6-digit code"
    );
    code
}

/// The text of the element with `id="totp-secret"`, as shown (grouped).
pub fn totp_secret(html: &str) -> Option<String> {
    element_text(html, "totp-secret")
}

/// The text inside the element with `id`, tags removed and entities decoded.
pub fn element_text(html: &str, id: &str) -> Option<String> {
    let at = html.find(&format!("id=\"{id}\""))?;
    let open_end = at + html[at..].find('>')? + 1;
    let close = open_end + html[open_end..].find("</")?;
    Some(crate::harness::client::unescape_html(
        html[open_end..close].trim(),
    ))
}

/// The `otpauth://` URI of the enrollment page's "open in app" link.
pub fn otpauth_uri(html: &str) -> Option<String> {
    let start = html.find("href=\"otpauth://")? + "href=\"".len();
    let end = start + html[start..].find('"')?;
    Some(crate::harness::client::unescape_html(&html[start..end]))
}

/// Decodes unpadded RFC 4648 base32 (the alphabet authenticator apps use).
pub fn base32_decode(text: &str) -> Option<Vec<u8>> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut bits: u64 = 0;
    let mut count = 0;
    let mut out = Vec::new();
    for c in normalise(text).bytes() {
        let value = ALPHABET.iter().position(|&a| a == c)? as u64;
        bits = (bits << 5) | value;
        count += 5;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
            bits &= (1 << count) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oathtool_matches_the_rfc_6238_sha1_vector() {
        // RFC 6238 appendix B: T = 59 s, secret "12345678901234567890".
        let app = Authenticator::new("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert_eq!(app.code_at_step(59 / STEP_SECS), "287082");
    }

    #[test]
    fn codes_are_never_handed_out_twice() {
        let app = Authenticator::new("JBSW Y3DP EHPK 3PXP JBSW Y3DP EHPK 3PXP");
        let twin = app.replaced_by("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        app.code();
        twin.code();
        // One user: two different steps, whichever app asked.
        assert_eq!(app.used.lock().unwrap().len(), 2);
        assert!(!app.wrong_code().is_empty());
    }

    #[test]
    fn base32_decodes_to_the_bytes() {
        assert_eq!(
            base32_decode("GEZDGNBVGY3TQOJQ").as_deref(),
            Some(&b"1234567890"[..])
        );
        assert_eq!(base32_decode("not base32!"), None);
    }

    #[test]
    fn secret_and_uri_are_read_from_the_page() {
        let html = r#"<p class="secret" id="totp-secret">ABCD EFGH</p>
            <a href="otpauth://totp/A:b?secret=ABCDEFGH&amp;issuer=A">x</a>"#;
        assert_eq!(totp_secret(html).as_deref(), Some("ABCD EFGH"));
        assert_eq!(
            otpauth_uri(html).as_deref(),
            Some("otpauth://totp/A:b?secret=ABCDEFGH&issuer=A")
        );
    }
}
