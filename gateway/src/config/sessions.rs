//! The `sessions` keys: where sessions live and how their cookie is set.

use std::time::Duration;

use super::address::check_url;
use super::duration::duration;
use super::error::{quote, Problem, Problems};
use super::raw::RawSessions;
use super::settings::{SessionBackend, SessionSettings};

const DEFAULT_COOKIE_NAME: &str = "gatehouse_session";
/// The CSRF cookie's name; the session cookie must not collide with it.
const CSRF_COOKIE_NAME: &str = "gatehouse_csrf";
const DEFAULT_CACHE_TTL: Duration = Duration::from_millis(500);

/// `serves_tls`: `tls` is set, even if its files have problems, so a
/// `cookie_secure: false` beside it is reported either way.
pub(super) fn check_sessions(
    raw: RawSessions,
    serves_tls: bool,
    p: &mut Problems,
) -> SessionSettings {
    if let Some(url) = &raw.redis_url {
        if let Err(reason) = check_url(url, &["redis://", "rediss://"]) {
            p.push("sessions.redis_url", reason);
        }
    }
    let backend = match raw.backend.as_deref().unwrap_or("memory") {
        "memory" => SessionBackend::Memory,
        "redis" => match raw.redis_url {
            Some(url) => SessionBackend::Redis { url },
            None => {
                p.push(
                    "sessions.redis_url",
                    "required when sessions.backend is redis",
                );
                SessionBackend::Memory
            }
        },
        other => {
            p.push(
                "sessions.backend",
                format!(
                    "unknown backend {} (expected memory or redis)",
                    quote(other)
                ),
            );
            SessionBackend::Memory
        }
    };
    let cookie_name = raw
        .cookie_name
        .unwrap_or_else(|| DEFAULT_COOKIE_NAME.to_string());
    let charset_ok = !cookie_name.is_empty()
        && cookie_name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !charset_ok {
        p.push(
            "sessions.cookie_name",
            format!(
                "invalid cookie name {}: use letters, digits, '_' and '-' only",
                quote(&cookie_name)
            ),
        );
    } else if cookie_name.starts_with("__Host-") || cookie_name.starts_with("__Secure-") {
        p.push(
            "sessions.cookie_name",
            format!(
                "{} must not carry a cookie prefix (__Host- is added when cookie_secure is true)",
                quote(&cookie_name)
            ),
        );
    } else if cookie_name == CSRF_COOKIE_NAME {
        p.push(
            "sessions.cookie_name",
            format!("{} is the CSRF cookie's name", quote(&cookie_name)),
        );
    }
    let lifetime = duration(p, "sessions.lifetime", raw.lifetime, 24 * 60 * 60);
    let idle_timeout = duration(p, "sessions.idle_timeout", raw.idle_timeout, 60 * 60);
    if idle_timeout > lifetime {
        p.push(
            "sessions.idle_timeout",
            format!(
                "must not exceed sessions.lifetime ({} > {})",
                humantime::format_duration(idle_timeout),
                humantime::format_duration(lifetime)
            ),
        );
    }
    // The cache bounds how late a sign-out reaches other replicas, which
    // must stay under a second.
    let cache_ttl = match raw.cache_ttl.as_deref().map(str::trim) {
        None => DEFAULT_CACHE_TTL,
        Some("0" | "0s") => Duration::ZERO,
        Some(text) => duration(p, "sessions.cache_ttl", Some(text.to_owned()), 0),
    };
    if cache_ttl > Duration::from_secs(1) {
        p.push(
            "sessions.cache_ttl",
            format!(
                "{} is too long: at most 1s, so a sign-out reaches every replica within a second (0 turns the cache off)",
                humantime::format_duration(cache_ttl)
            ),
        );
    }
    SessionSettings {
        backend,
        cookie_name,
        cookie_secure: match raw.cookie_secure {
            Some(false) if serves_tls => {
                p.push(
                    "sessions.cookie_secure",
                    "cannot be false when tls is set: cookies served over HTTPS are always Secure",
                );
                true
            }
            Some(secure) => secure,
            None => serves_tls,
        },
        cookie_domain: raw.cookie_domain.and_then(|d| {
            p.check(parse_cookie_domain(&d).map_err(|e| Problem::new("sessions.cookie_domain", e)))
        }),
        lifetime,
        idle_timeout,
        cache_ttl,
    }
}

/// A domain to share the session cookie under: a DNS name of two labels or
/// more (a leading dot is dropped, as browsers do), never an IP address,
/// whose cookie browsers would refuse.
pub(crate) fn parse_cookie_domain(text: &str) -> Result<String, String> {
    let name = text.trim().trim_start_matches('.').to_ascii_lowercase();
    let labels: Vec<&str> = name.split('.').collect();
    let label_ok = |l: &&str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    if name.parse::<std::net::IpAddr>().is_ok() {
        return Err(format!("{} is an address, not a domain", quote(text)));
    }
    if labels.len() < 2 || name.len() > 253 || !labels.iter().all(label_ok) {
        return Err(format!(
            "{} is not a domain such as example.com (letters, digits and '-', two labels or more)",
            quote(text)
        ));
    }
    Ok(name)
}
