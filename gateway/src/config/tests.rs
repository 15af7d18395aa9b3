//! Whole-config tests: defaults, a full config, and one test per kind of
//! mistake, each checking that the error line names the key at fault.

use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::validate;
use super::*;

/// The password [`GOOD_HASH`] is a hash of.
pub(crate) const GOOD_PASSWORD: &str = "correct-horse-battery-staple";

/// argon2id, m=19456, t=2, p=1 of [`GOOD_PASSWORD`].
pub(crate) const GOOD_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$+P32n9A/HzotkzDJ87OoWA$+0+MuylEQPLmYknOjtJjpgGymdkubity3cMcpgXwOOA";

pub(super) const MINIMAL: &str = "
users:
  file: users.yaml
apps:
  - name: wiki
    upstream: \"127.0.0.1:3000\"
";

pub(super) fn users_yaml() -> String {
    format!("users:\n  alice:\n    password: \"{GOOD_HASH}\"\n")
}

/// Validates `config` as if it lived in /etc/gatehouse next to a users.yaml
/// holding `users`; no other file exists.
pub(super) fn build_with(config: &str, users: &str) -> Result<Settings, ConfigError> {
    let users = users.to_string();
    let read = move |path: &Path| {
        if path == Path::new("/etc/gatehouse/users.yaml") {
            Ok(users.clone())
        } else {
            Err(io::Error::from_raw_os_error(2))
        }
    };
    validate::build(config, Path::new("/etc/gatehouse"), "config", &read)
}

pub(super) fn build(config: &str) -> Settings {
    build_with(config, &users_yaml()).unwrap_or_else(|err| panic!("rejected:\n{err}"))
}

pub(super) fn error_lines(config: &str) -> Vec<String> {
    match build_with(config, &users_yaml()) {
        Ok(_) => panic!("accepted:\n{config}"),
        Err(err) => err.lines(),
    }
}

/// Asserts there is a line starting `KEY: ` that contains `needle`.
pub(super) fn assert_line(lines: &[String], key: &str, needle: &str) {
    let prefix = format!("{key}: ");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with(&prefix) && l.contains(needle)),
        "no line `{key}: …{needle}…` in {lines:#?}"
    );
}

/// MINIMAL plus `extra` top-level YAML.
pub(super) fn minimal_plus(extra: &str) -> String {
    format!("{MINIMAL}{extra}")
}

#[test]
fn minimal_config_gets_the_documented_defaults() {
    let s = build(MINIMAL);
    assert_eq!(s.listen, "0.0.0.0:8080".parse::<SocketAddr>().unwrap());
    assert_eq!(s.metrics_listen, None);
    assert!(s.server.threads >= 1);
    assert_eq!(s.server.grace_period, Duration::from_secs(1));
    assert_eq!(s.server.shutdown_timeout, Duration::from_secs(3));
    assert!(s.server.trusted_proxies.is_empty());
    assert_eq!(s.store.url, "sqlite://gatehouse.db");
    assert_eq!(s.store.audit_retention, Duration::from_secs(365 * 86_400));
    assert_eq!(s.sessions.backend, SessionBackend::Memory);
    assert_eq!(s.sessions.cookie_name, "gatehouse_session");
    assert!(!s.sessions.cookie_secure);
    assert_eq!(s.sessions.lifetime, Duration::from_secs(24 * 3600));
    assert_eq!(s.sessions.idle_timeout, Duration::from_secs(3600));
    assert_eq!(s.users.file, PathBuf::from("/etc/gatehouse/users.yaml"));
    assert_eq!(s.users.admin_group, "admins");
    assert_eq!(s.users.users["alice"].password_hash, GOOD_HASH);
    assert!(!s.mfa.enforce);
    assert_eq!(s.mfa.issuer, "Gatehouse");
    assert!(!s.mfa.enroll_two_codes);
    assert_eq!(s.mfa.remember_device_days, 30);
    assert_eq!(s.secrets.key, None);
    assert_eq!(s.limits.max_failures_per_user, 5);
    assert_eq!(s.limits.max_failures_per_ip, 20);
    assert_eq!(s.limits.window, Duration::from_secs(15 * 60));
    assert!(s.service_tokens.is_empty());
    let app = &s.apps[0];
    assert_eq!(app.name, "wiki");
    assert_eq!(app.host, None);
    assert_eq!(app.policy, Policy::OneFactor);
    assert!(app.rules.is_empty());
    assert_eq!(app.service_tokens, None);
    assert_eq!(app.health_check_interval, Duration::from_secs(5));
    assert_eq!(
        app.upstreams,
        vec![Upstream {
            address: "127.0.0.1:3000".into(),
            tls: false,
            sni: "127.0.0.1".into()
        }]
    );
}

const FULL: &str = r#"
listen: "127.0.0.1:9000"
metrics_listen: "127.0.0.1:9464"
server:
  threads: 3
  grace_period: 2s
  shutdown_timeout: 10s
store:
  url: "postgres://gatehouse@db/gatehouse"
  audit_retention_days: 90
sessions:
  backend: redis
  redis_url: "rediss://cache:6380/0"
  cookie_name: gh_sess
  cookie_secure: true
  lifetime: 8h
  idle_timeout: 1h30m
users:
  file: users.yaml
  admin_group: ops
mfa:
  enforce: true
  issuer: Example Corp
  enroll_two_codes: true
  remember_device_days: 14
secrets:
  key: "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
limits:
  max_failures_per_user: 3
  max_failures_per_ip: 50
  window: 1h
apps:
  - name: wiki
    host: Wiki.Example.com
    upstream: ["http://10.0.0.1:3000", "https://wiki-2.internal"]
    policy: two_factor
    service_tokens: [ci]
    health_check_interval: 10s
    rules:
      - path: /public/
        policy: bypass
      - path: /admin
        policy: deny
  - name: grafana
    upstream: grafana:3000
    policy: bypass
service_tokens:
  - name: ci
    token_sha256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
  - name: deploy
    token_sha256: "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752"
"#;

#[test]
fn full_config_sets_every_key() {
    let s = build(FULL);
    assert_eq!(s.listen, "127.0.0.1:9000".parse::<SocketAddr>().unwrap());
    assert_eq!(
        s.metrics_listen,
        Some("127.0.0.1:9464".parse::<SocketAddr>().unwrap())
    );
    assert_eq!(s.server.threads, 3);
    assert_eq!(s.server.grace_period, Duration::from_secs(2));
    assert_eq!(s.server.shutdown_timeout, Duration::from_secs(10));
    assert_eq!(s.store.url, "postgres://gatehouse@db/gatehouse");
    assert_eq!(s.store.audit_retention, Duration::from_secs(90 * 86_400));
    assert_eq!(
        s.sessions.backend,
        SessionBackend::Redis {
            url: "rediss://cache:6380/0".into()
        }
    );
    assert_eq!(s.sessions.cookie_name, "gh_sess");
    assert!(s.sessions.cookie_secure);
    assert_eq!(s.sessions.lifetime, Duration::from_secs(8 * 3600));
    assert_eq!(s.sessions.idle_timeout, Duration::from_secs(5400));
    assert_eq!(s.users.admin_group, "ops");
    assert!(s.mfa.enforce);
    assert_eq!(s.mfa.issuer, "Example Corp");
    assert!(s.mfa.enroll_two_codes);
    assert_eq!(s.mfa.remember_device_days, 14);
    let key = s.secrets.key.expect("key");
    assert_eq!((key[0], key[31]), (0x00, 0x1f));
    assert_eq!(s.limits.max_failures_per_user, 3);
    assert_eq!(s.limits.max_failures_per_ip, 50);
    assert_eq!(s.limits.window, Duration::from_secs(3600));

    let wiki = &s.apps[0];
    assert_eq!(wiki.host.as_deref(), Some("wiki.example.com"));
    assert_eq!(wiki.policy, Policy::TwoFactor);
    assert_eq!(wiki.service_tokens, Some(vec!["ci".to_string()]));
    assert_eq!(wiki.health_check_interval, Duration::from_secs(10));
    assert_eq!(wiki.upstreams.len(), 2);
    assert_eq!(wiki.upstreams[1].address, "wiki-2.internal:443");
    assert!(wiki.upstreams[1].tls);
    assert_eq!(wiki.upstreams[1].sni, "wiki-2.internal");
    assert_eq!(
        wiki.rules,
        vec![
            Rule {
                path: "/public".into(),
                policy: Policy::Bypass,
                conditions: Conditions::default(),
            },
            Rule {
                path: "/admin".into(),
                policy: Policy::Deny,
                conditions: Conditions::default(),
            },
        ]
    );
    assert_eq!(s.apps[1].upstreams[0].address, "grafana:3000");
    assert_eq!(s.service_tokens.len(), 2);
    assert_eq!(s.service_tokens[0].name, "ci");
    assert_eq!(s.service_tokens[0].sha256[0], 0x9f);
}

#[test]
fn unknown_top_level_key_is_a_syntax_error_naming_it() {
    let err = build_with(&minimal_plus("bogus: 1\n"), &users_yaml()).unwrap_err();
    let ConfigError::Syntax { key, message } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(key, "bogus");
    assert!(message.starts_with("unknown field `bogus`"), "{message}");
    assert!(message.ends_with("(line 7, column 1)"), "{message}");
}

#[test]
fn unknown_nested_key_is_named_with_its_path() {
    let lines = error_lines(&minimal_plus("sessions:\n  cokie_name: x\n"));
    assert_eq!(lines.len(), 1);
    assert!(
        lines[0].starts_with("sessions.cokie_name: unknown field `cokie_name`, expected one of"),
        "{lines:?}"
    );
    assert!(lines[0].ends_with("(line 8, column 3)"), "{lines:?}");
}

#[test]
fn unknown_key_inside_a_rule_is_named_with_its_index() {
    let lines = error_lines(
        "users: {file: users.yaml}\napps:\n  - name: a\n    upstream: a:1\n    rules:\n      - path: /\n        polcy: deny\n",
    );
    assert_line(&lines, "apps[0].rules[0].polcy", "unknown field `polcy`");
}

#[test]
fn wrong_value_type_names_the_key() {
    let lines = error_lines(&minimal_plus("sessions:\n  cookie_secure: maybe\n"));
    assert_line(&lines, "sessions.cookie_secure", "expected a boolean");
    let lines = error_lines(&minimal_plus("limits:\n  window: [1]\n"));
    assert_line(&lines, "limits.window", "invalid type: sequence");
}

#[test]
fn yaml_syntax_error_reports_line_and_column() {
    let config = "listen: \"0.0.0.0:8080\"\nsessions:\n  cookie_name: \"gatehouse\n";
    let err = build_with(config, "").unwrap_err();
    let ConfigError::Syntax { key, message } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(key, "sessions.cookie_name");
    assert_eq!(
        message,
        "found unexpected end of stream, while scanning a quoted scalar (line 4, column 1)"
    );
    let err = build_with("- just\n- a list\n", "").unwrap_err();
    assert_eq!(
        err.lines(),
        vec!["config: invalid type: sequence, expected a mapping of configuration keys (line 1, column 1)"]
    );
}

#[test]
fn empty_config_reports_missing_users_file_and_apps() {
    let lines = error_lines("");
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_line(&lines, "users.file", "required");
    assert_eq!(lines[1], "apps: at least one app is required");
}

#[test]
fn several_problems_are_reported_together() {
    let config = "
listen: nowhere
sessions:
  backend: redis
  lifetime: forever
users:
  file: users.yaml
limits:
  max_failures_per_ip: 0
apps:
  - name: Wiki
    upstream: 127.0.0.1
    rules:
      - path: public
        policy: sometimes
";
    let lines = error_lines(config);
    assert_eq!(lines.len(), 8, "{lines:#?}");
    for key in [
        "listen",
        "sessions.redis_url",
        "sessions.lifetime",
        "limits.max_failures_per_ip",
        "apps[0].name",
        "apps[0].upstream",
        "apps[0].rules[0].path",
        "apps[0].rules[0].policy",
    ] {
        assert_line(&lines, key, "");
    }
}

#[path = "tests_values.rs"]
mod values;

#[path = "tests_apps.rs"]
mod apps;

#[path = "tests_files.rs"]
mod files;

#[path = "tests_tls.rs"]
mod tls;

#[path = "tests_notify.rs"]
mod notify;

#[test]
fn a_key_spanning_lines_is_named_on_one_line() {
    // From the config fuzz target: such a key made a problem of two lines.
    let lines = error_lines(&minimal_plus("\"bo\\ngus\": 1\n"));
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].starts_with("bo\\ngus: unknown field"), "{lines:?}");
}

#[path = "tests_timeouts.rs"]
mod timeouts;

#[path = "tests_request_limits.rs"]
mod request_limits;

#[path = "tests_rules.rs"]
mod rules;

#[path = "tests_orgs.rs"]
mod orgs;
