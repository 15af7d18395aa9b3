//! Raw YAML → [`Settings`], collecting every problem before giving up.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use super::address::{check_url, parse_socket_addr};
use super::apps::{check_apps, check_name, check_service_tokens};
use super::duration::{duration, parse_duration};
use super::error::{describe_yaml_error, quote, ConfigError, Problems};
use super::files::{read_text, ReadFile};
use super::hex32::parse_hex32;
use super::notify::check_notify;
use super::orgs::check_organisations;
use super::raw::RawConfig;
use super::request_limits::check_request_limits;
use super::sessions::check_sessions;
use super::settings::*;
use super::sso::parse_portal_url;
use super::tls::check_tls;
use super::users::{check_group_name, parse_users};
use crate::client_ip::{parse_proxy, TrustedProxies};

const DEFAULT_LISTEN: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 8080);
const DEFAULT_STORE_URL: &str = "sqlite://gatehouse.db";
const MAX_THREADS: usize = 1024;

/// `server.trusted_proxies`: addresses or CIDR ranges. A range holding
/// every address is refused: it would let any client pick its own address.
fn trusted_proxies(p: &mut Problems, entries: Vec<String>) -> TrustedProxies {
    let mut nets = Vec::with_capacity(entries.len());
    for (i, entry) in entries.iter().enumerate() {
        let key = format!("server.trusted_proxies[{i}]");
        match parse_proxy(entry) {
            Some(net) if net.prefix_len() == 0 => p.push(
                &key,
                format!(
                    "{} trusts every address, so any client could choose its own; \
                     list the addresses of your proxies",
                    quote(entry)
                ),
            ),
            Some(net) => nets.push(net),
            None => p.push(
                &key,
                format!(
                    "{} is not an IP address or CIDR range (like 10.0.0.1, 10.0.0.0/8 \
                     or fd00::/8)",
                    quote(entry)
                ),
            ),
        }
    }
    TrustedProxies::new(nets)
}

/// Parses `yaml` and validates it. `root` names the document in errors about
/// the document as a whole; relative paths are resolved against `base_dir`.
pub(crate) fn build(
    yaml: &str,
    base_dir: &Path,
    root: &str,
    read: ReadFile<'_>,
) -> Result<Settings, ConfigError> {
    let deserializer = serde_yaml_ng::Deserializer::from_str(yaml);
    let raw: RawConfig = serde_path_to_error::deserialize(deserializer).map_err(|err| {
        let (key, message) = describe_yaml_error(&err, root, "");
        ConfigError::Syntax { key, message }
    })?;
    validate(raw, base_dir, read)
}

fn validate(raw: RawConfig, base_dir: &Path, read: ReadFile<'_>) -> Result<Settings, ConfigError> {
    let mut p = Problems::default();

    let listen = raw
        .listen
        .as_deref()
        .map_or(Some(DEFAULT_LISTEN), |text| {
            p.check(parse_socket_addr("listen", text))
        })
        .unwrap_or(DEFAULT_LISTEN);
    let metrics_listen = raw
        .metrics_listen
        .as_deref()
        .and_then(|text| p.check(parse_socket_addr("metrics_listen", text)));
    if let Some(metrics) = metrics_listen {
        let overlaps = metrics.ip() == listen.ip()
            || metrics.ip().is_unspecified()
            || listen.ip().is_unspecified();
        if metrics.port() != 0 && metrics.port() == listen.port() && overlaps {
            p.push(
                "metrics_listen",
                format!(
                    "{} conflicts with listen ({listen})",
                    quote(&metrics.to_string())
                ),
            );
        }
    }

    let serves_tls = raw.tls.is_some();
    let tls = raw
        .tls
        .and_then(|raw_tls| check_tls(raw_tls, base_dir, read, &mut p));

    let raw_server = raw.server.unwrap_or_default();
    let threads = match raw_server.threads {
        None | Some(0) => std::thread::available_parallelism().map_or(1, |n| n.get()),
        Some(n) if n > MAX_THREADS => {
            p.push(
                "server.threads",
                format!("{n} is too many (at most {MAX_THREADS}; 0 means one per core)"),
            );
            1
        }
        Some(n) => n,
    };
    let request_limits = check_request_limits(&mut p, &raw_server);
    let server = ServerSettings {
        threads,
        request_limits,
        grace_period: duration(&mut p, "server.grace_period", raw_server.grace_period, 1),
        shutdown_timeout: duration(
            &mut p,
            "server.shutdown_timeout",
            raw_server.shutdown_timeout,
            3,
        ),
        trusted_proxies: trusted_proxies(&mut p, raw_server.trusted_proxies.unwrap_or_default()),
        header_timeout: bounded(
            &mut p,
            "server.header_timeout",
            raw_server.header_timeout,
            DEFAULT_HEADER_TIMEOUT,
            (Duration::from_secs(1), Duration::from_secs(3600)),
        ),
        keepalive_timeout: keepalive_timeout(&mut p, raw_server.keepalive_timeout),
    };

    let raw_store = raw.store.unwrap_or_default();
    let url = raw_store
        .url
        .unwrap_or_else(|| DEFAULT_STORE_URL.to_string());
    if let Err(reason) = check_url(&url, &["sqlite://", "postgres://", "postgresql://"]) {
        p.push("store.url", reason);
    }
    let retention_days = raw_store
        .audit_retention_days
        .unwrap_or(DEFAULT_AUDIT_RETENTION_DAYS);
    if !(1..=MAX_AUDIT_RETENTION_DAYS).contains(&retention_days) {
        p.push(
            "store.audit_retention_days",
            format!(
                "{retention_days} is out of range: keep entries 1 to {MAX_AUDIT_RETENTION_DAYS} days"
            ),
        );
    }
    let store = StoreSettings {
        url,
        audit_retention: Duration::from_secs(u64::from(retention_days) * 86_400),
        timeout: bounded(
            &mut p,
            "store.timeout",
            raw_store.timeout,
            crate::store::DEFAULT_TIMEOUT,
            (Duration::from_millis(100), Duration::from_secs(30)),
        ),
    };

    let sessions = check_sessions(raw.sessions.unwrap_or_default(), serves_tls, &mut p);

    // Before the users file, which places users in these.
    let organisations = check_organisations(raw.organisations.unwrap_or_default(), &mut p);
    let raw_users = raw.users.unwrap_or_default();
    let admin_group = raw_users
        .admin_group
        .unwrap_or_else(|| "admins".to_string());
    if let Err(reason) = check_group_name(&admin_group) {
        p.push("users.admin_group", reason);
    }
    let (file, users) = match raw_users.file.as_deref().map(str::trim) {
        None | Some("") => {
            p.push(
                "users.file",
                "required (path to the users file, relative to this config file's folder)",
            );
            (base_dir.join("users.yaml"), Default::default())
        }
        Some(file) => {
            let path = base_dir.join(file);
            let users = match read_text(&mut p, "users.file", &path, read) {
                None => Default::default(),
                Some(text) => {
                    match parse_users(&text, Some(&path.display().to_string()), &organisations) {
                        Ok(users) => users,
                        Err(problems) => {
                            p.extend(problems);
                            Default::default()
                        }
                    }
                }
            };
            (path, users)
        }
    };
    let users = UserSettings {
        file,
        admin_group,
        users,
    };

    let raw_mfa = raw.mfa.unwrap_or_default();
    let issuer = raw_mfa.issuer.unwrap_or_else(|| "Gatehouse".to_string());
    if issuer.trim().is_empty() || issuer.contains(':') || issuer.chars().any(char::is_control) {
        p.push(
            "mfa.issuer",
            format!(
                "invalid issuer {}: must be non-empty, without ':' (authenticator apps use it as a separator)",
                quote(&issuer)
            ),
        );
    }
    let remember_device_days = raw_mfa.remember_device_days.unwrap_or(30);
    if remember_device_days > 365 {
        p.push(
            "mfa.remember_device_days",
            format!(
                "{remember_device_days} is too long: at most 365 days (0 turns remembering off)"
            ),
        );
    }
    let fresh_for = duration(&mut p, "mfa.fresh_for", raw_mfa.fresh_for, 5 * 60);
    if fresh_for.is_zero() || fresh_for > Duration::from_secs(24 * 60 * 60) {
        p.push(
            "mfa.fresh_for",
            format!(
                "{} is out of range: from 1s to 24h",
                humantime::format_duration(fresh_for)
            ),
        );
    }
    let require_groups = raw_mfa.require_groups.unwrap_or_default();
    for (i, group) in require_groups.iter().enumerate() {
        if group.trim().is_empty() || group.chars().any(char::is_control) {
            p.push(
                format!("mfa.require_groups[{i}]"),
                "a group name must be non-empty, without control characters".to_string(),
            );
        }
    }
    let mfa = MfaSettings {
        require_groups,
        enforce: raw_mfa.enforce.unwrap_or(false),
        fresh_for,
        issuer,
        enroll_two_codes: raw_mfa.enroll_two_codes.unwrap_or(false),
        remember_device_days,
    };

    // The key is a secret: messages describe it but never echo it.
    let key = raw
        .secrets
        .and_then(|s| s.key)
        .and_then(|hex| match parse_hex32(&hex) {
            Ok(key) => Some(key),
            Err(reason) => {
                p.push("secrets.key", reason);
                None
            }
        });
    let secrets = SecretSettings { key };

    let raw_limits = raw.limits.unwrap_or_default();
    let mut positive = |key: &str, value: Option<u32>, default: u32| match value {
        Some(0) => {
            p.push(key, "must be greater than zero");
            default
        }
        Some(n) => n,
        None => default,
    };
    let max_failures_per_user = positive(
        "limits.max_failures_per_user",
        raw_limits.max_failures_per_user,
        5,
    );
    let max_failures_per_ip = positive(
        "limits.max_failures_per_ip",
        raw_limits.max_failures_per_ip,
        20,
    );
    let limits = LimitSettings {
        max_failures_per_user,
        max_failures_per_ip,
        window: duration(&mut p, "limits.window", raw_limits.window, 15 * 60),
    };

    let raw_tokens = raw.service_tokens.unwrap_or_default();
    // Every well-formed name counts as defined, even if the entry has other
    // problems, so one mistake is not reported twice.
    let token_names: Vec<String> = raw_tokens
        .iter()
        .filter_map(|t| t.name.clone())
        .filter(|name| check_name(name).is_ok())
        .collect();
    let service_tokens = check_service_tokens(raw_tokens, &mut p);
    let apps = check_apps(raw.apps.unwrap_or_default(), &token_names, &mut p);
    let notify = check_notify(raw.notify.unwrap_or_default(), &mut p);
    let sso = raw
        .sso
        .and_then(|s| s.portal_url)
        .and_then(|url| p.check(parse_portal_url(&url)));

    if !p.is_empty() {
        return Err(ConfigError::Invalid(p.into_vec()));
    }
    Ok(Settings {
        listen,
        metrics_listen,
        tls,
        server,
        store,
        sessions,
        users,
        mfa,
        secrets,
        limits,
        apps,
        service_tokens,
        notify,
        sso,
        organisations,
    })
}

/// A year, as compliance regimes commonly ask of security logs.
const DEFAULT_AUDIT_RETENTION_DAYS: u32 = 365;
/// A hundred years: for ops who never want an entry deleted.
const MAX_AUDIT_RETENTION_DAYS: u32 = 36_500;

/// A real client sends its request head in one go, a slow mobile link
/// within a few seconds; each second more lets a slow-header client hold a
/// connection longer (nginx allows 60 s, Apache's mod_reqtimeout 20 to 40).
const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// What Pingora gives a fresh connection (nginx: 75 s).
const DEFAULT_KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(60);

/// A duration at `key` that must lie within `range` (both ends included).
fn bounded(
    p: &mut Problems,
    key: &str,
    raw: Option<String>,
    default: Duration,
    (min, max): (Duration, Duration),
) -> Duration {
    let Some(value) = p.check(parse_duration(key, raw.as_deref(), default)) else {
        return default;
    };
    if value < min || value > max {
        p.push(
            key,
            format!(
                "{} is out of range: {} to {}",
                humantime::format_duration(value),
                humantime::format_duration(min),
                humantime::format_duration(max)
            ),
        );
        return default;
    }
    value
}

/// `server.keepalive_timeout`: Pingora counts it in whole seconds.
fn keepalive_timeout(p: &mut Problems, raw: Option<String>) -> Duration {
    let key = "server.keepalive_timeout";
    let range = (Duration::from_secs(1), Duration::from_secs(3600));
    let value = bounded(p, key, raw, DEFAULT_KEEPALIVE_TIMEOUT, range);
    if value.subsec_nanos() != 0 {
        p.push(
            key,
            format!(
                "{} is not a whole number of seconds",
                humantime::format_duration(value)
            ),
        );
        return DEFAULT_KEEPALIVE_TIMEOUT;
    }
    value
}
