//! The keys a reload can't apply: each is read once, as the process starts
//! (listeners, TLS, the stores and their connections, the keys that sign
//! cookies and seal secrets, worker threads, the limits, the mail and SMS
//! senders, the MFA settings baked into pages and cookies, and the
//! organisations the users file places users in). A reload
//! names those that changed, so ops know to restart, and applies the rest.

use crate::config::{NotifySettings, SessionBackend, Settings, TlsListener};

/// The restart-only keys whose value in `new` differs from `running`.
pub fn changed(running: &Settings, new: &Settings) -> Vec<&'static str> {
    let (a, b) = (running, new);
    let checks = process(a, b).into_iter();
    let checks = checks.chain(state(a, b)).chain(behaviour(a, b));
    checks
        .filter(|(_, same)| !same)
        .map(|(key, _)| key)
        .collect()
}

/// Listeners, TLS and the server's threads and timeouts.
fn process(a: &Settings, b: &Settings) -> [(&'static str, bool); 13] {
    [
        ("listen", a.listen == b.listen),
        ("metrics_listen", a.metrics_listen == b.metrics_listen),
        ("tls", same_tls(a.tls.as_ref(), b.tls.as_ref())),
        ("server.threads", a.server.threads == b.server.threads),
        (
            "server.grace_period",
            a.server.grace_period == b.server.grace_period,
        ),
        (
            "server.shutdown_timeout",
            a.server.shutdown_timeout == b.server.shutdown_timeout,
        ),
        (
            "server.trusted_proxies",
            a.server.trusted_proxies == b.server.trusted_proxies,
        ),
        (
            "server.header_timeout",
            a.server.header_timeout == b.server.header_timeout,
        ),
        (
            "server.keepalive_timeout",
            a.server.keepalive_timeout == b.server.keepalive_timeout,
        ),
        (
            "server.max_request_line",
            a.server.request_limits.request_line == b.server.request_limits.request_line,
        ),
        (
            "server.max_header_bytes",
            a.server.request_limits.header_bytes == b.server.request_limits.header_bytes,
        ),
        (
            "server.max_headers",
            a.server.request_limits.headers == b.server.request_limits.headers,
        ),
        (
            "server.max_form_bytes",
            a.server.request_limits.form_bytes == b.server.request_limits.form_bytes,
        ),
    ]
}

/// Where state lives, and the keys that sign and seal it.
fn state(a: &Settings, b: &Settings) -> [(&'static str, bool); 15] {
    [
        ("store.url", a.store.url == b.store.url),
        (
            "store.audit_retention_days",
            a.store.audit_retention == b.store.audit_retention,
        ),
        ("store.timeout", a.store.timeout == b.store.timeout),
        (
            "sessions.backend",
            redis_url(a).is_some() == redis_url(b).is_some(),
        ),
        ("sessions.redis_url", redis_url(a) == redis_url(b)),
        (
            "sessions.cookie_name",
            a.sessions.cookie_name == b.sessions.cookie_name,
        ),
        (
            "sessions.cookie_secure",
            a.sessions.cookie_secure == b.sessions.cookie_secure,
        ),
        (
            "sessions.cookie_domain",
            a.sessions.cookie_domain == b.sessions.cookie_domain,
        ),
        (
            "sessions.lifetime",
            a.sessions.lifetime == b.sessions.lifetime,
        ),
        (
            "sessions.idle_timeout",
            a.sessions.idle_timeout == b.sessions.idle_timeout,
        ),
        (
            "sessions.cache_ttl",
            a.sessions.cache_ttl == b.sessions.cache_ttl,
        ),
        ("users.file", a.users.file == b.users.file),
        (
            "users.admin_group",
            a.users.admin_group == b.users.admin_group,
        ),
        ("secrets.key", a.secrets.key == b.secrets.key),
        // The users file is placed in these as it is read again, so they
        // stay as the process started.
        ("organisations", a.organisations == b.organisations),
    ]
}

/// MFA pages and cookies, limits and code delivery.
fn behaviour(a: &Settings, b: &Settings) -> [(&'static str, bool); 10] {
    [
        ("mfa.issuer", a.mfa.issuer == b.mfa.issuer),
        (
            "mfa.enroll_two_codes",
            a.mfa.enroll_two_codes == b.mfa.enroll_two_codes,
        ),
        (
            "mfa.remember_device_days",
            a.mfa.remember_device_days == b.mfa.remember_device_days,
        ),
        ("mfa.fresh_for", a.mfa.fresh_for == b.mfa.fresh_for),
        (
            "limits",
            a.limits.max_failures_per_user == b.limits.max_failures_per_user
                && a.limits.max_failures_per_ip == b.limits.max_failures_per_ip
                && a.limits.window == b.limits.window,
        ),
        ("notify.email", same_email(&a.notify, &b.notify)),
        ("notify.sms", same_sms(&a.notify, &b.notify)),
        (
            "notify.code_lifetime",
            a.notify.code_lifetime == b.notify.code_lifetime,
        ),
        (
            "notify.resend_after",
            a.notify.resend_after == b.notify.resend_after,
        ),
        ("sso.portal_url", a.sso == b.sso),
    ]
}

/// The same files, holding the same certificate chain (a renewed
/// certificate under the same names is a change too).
fn same_tls(a: Option<&TlsListener>, b: Option<&TlsListener>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => {
            a.cert == b.cert && a.key == b.key && a.certified.cert == b.certified.cert
        }
        _ => false,
    }
}

fn redis_url(settings: &Settings) -> Option<&str> {
    match &settings.sessions.backend {
        SessionBackend::Memory => None,
        SessionBackend::Redis { url } => Some(url),
    }
}

fn same_email(a: &NotifySettings, b: &NotifySettings) -> bool {
    match (&a.email, &b.email) {
        (None, None) => true,
        (Some(a), Some(b)) => a.smtp_url == b.smtp_url && a.from == b.from,
        _ => false,
    }
}

fn same_sms(a: &NotifySettings, b: &NotifySettings) -> bool {
    match (&a.sms, &b.sms) {
        (None, None) => true,
        (Some(a), Some(b)) => {
            a.api_url == b.api_url
                && a.account_sid == b.account_sid
                && a.auth_token == b.auth_token
                && a.from == b.from
        }
        _ => false,
    }
}
