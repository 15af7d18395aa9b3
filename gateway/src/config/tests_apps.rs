//! Whole-config tests for apps, their upstreams and rules, and service tokens.

use super::*;

fn app_config(app_body: &str) -> String {
    format!("users:\n  file: users.yaml\napps:\n  - name: wiki\n{app_body}")
}

#[test]
fn unknown_policy_lists_the_valid_ones() {
    let config = "users: {file: users.yaml}\napps:\n  - name: a\n    upstream: a:1\n    rules:\n      - {path: /a, policy: deny}\n      - {path: /b, policy: sometimes}\n";
    assert_eq!(
        error_lines(config),
        vec!["apps[0].rules[1].policy: unknown policy \"sometimes\" (expected bypass, one_factor, two_factor or deny)"]
    );
    let lines = error_lines(&MINIMAL.replace("upstream:", "policy: 2fa\n    upstream:"));
    assert_line(&lines, "apps[0].policy", "unknown policy \"2fa\"");
}

#[test]
fn duplicate_app_names_are_rejected() {
    let lines = error_lines(&minimal_plus(
        "  - name: wiki\n    host: other.example.com\n    upstream: \"127.0.0.1:3001\"\n",
    ));
    assert_eq!(
        lines,
        vec!["apps[1].name: duplicate app name \"wiki\" (also apps[0].name)"]
    );
}

#[test]
fn two_apps_for_the_same_host_are_rejected() {
    let lines = error_lines(&minimal_plus(
        "  - name: other\n    upstream: \"127.0.0.1:3001\"\n",
    ));
    assert_line(&lines, "apps[1].host", "only one app may omit host");
    let config = "users: {file: users.yaml}\napps:\n  - {name: a, host: x.example, upstream: a:1}\n  - {name: b, host: X.example, upstream: b:1}\n";
    assert_line(
        &error_lines(config),
        "apps[1].host",
        "\"x.example\" is already served by apps[0] (\"a\")",
    );
}

#[test]
fn app_referencing_an_unknown_token_is_rejected() {
    let config = format!(
        "{}    service_tokens: [ci, cj]\nservice_tokens:\n  - name: ci\n    token_sha256: \"{}\"\n",
        MINIMAL,
        "ab".repeat(32)
    );
    assert_eq!(
        error_lines(&config),
        vec!["apps[0].service_tokens[1]: unknown service token \"cj\" (defined: ci)"]
    );
}

#[test]
fn bad_token_hex_is_rejected_without_echoing_it() {
    let config = minimal_plus("service_tokens:\n  - name: ci\n    token_sha256: \"abc123\"\n  - name: cd\n    token_sha256: \"");
    let config = format!("{config}{}\"\n", "zz".repeat(32));
    let lines = error_lines(&config);
    assert_line(
        &lines,
        "service_tokens[0].token_sha256",
        "64 hex characters (32 bytes), got 6",
    );
    assert_line(
        &lines,
        "service_tokens[1].token_sha256",
        "found another character",
    );
    assert!(!lines.iter().any(|l| l.contains("abc123")), "{lines:?}");
}

#[test]
fn upstream_may_be_a_single_string_or_a_list() {
    let one = build(&app_config(
        "    upstream: \"https://wiki.internal:8443\"\n",
    ));
    assert_eq!(one.apps[0].upstreams.len(), 1);
    assert_eq!(one.apps[0].upstreams[0].address, "wiki.internal:8443");
    assert!(one.apps[0].upstreams[0].tls);

    let many = build(&app_config(
        "    upstream:\n      - \"http://10.0.0.1:3000\"\n      - 10.0.0.2:3000\n",
    ));
    let addresses: Vec<&str> = many.apps[0]
        .upstreams
        .iter()
        .map(|u| u.address.as_str())
        .collect();
    assert_eq!(addresses, ["10.0.0.1:3000", "10.0.0.2:3000"]);
}

#[test]
fn bad_upstream_in_a_list_is_named_by_index() {
    let lines = error_lines(&app_config("    upstream: [\"a:1\", \"http://b:2/app\"]\n"));
    assert_line(&lines, "apps[0].upstream[1]", "must not have a path");
    let lines = error_lines(&app_config("    upstream: []\n"));
    assert_line(&lines, "apps[0].upstream", "list is empty");
    let lines = error_lines(&app_config("    upstream: {host: a}\n"));
    assert_line(
        &lines,
        "apps[0].upstream",
        "expected a string or a list of strings",
    );
}

#[test]
fn an_app_without_an_upstream_is_forward_only() {
    let s = build(&app_config("    policy: bypass\n"));
    assert!(s.apps[0].upstreams.is_empty());
}

#[test]
fn rule_paths_are_normalised() {
    let s = build(&app_config(
        "    upstream: a:1\n    rules:\n      - {path: /docs/, policy: bypass}\n      - {path: /, policy: deny}\n      - {path: //api//v1//, policy: two_factor}\n",
    ));
    let paths: Vec<&str> = s.apps[0].rules.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(paths, ["/docs", "/", "/api/v1"]);
}

#[test]
fn malformed_rule_paths_are_rejected() {
    for (path, needle) in [
        ("docs", "must start with \"/\""),
        ("/a/../b", "\"..\" segments"),
        ("/a?b=1", "'?' or '#'"),
        ("/a#top", "'?' or '#'"),
        ("/a%2Fb", "percent-encoded"),
    ] {
        let lines = error_lines(&app_config(&format!(
            "    upstream: a:1\n    rules:\n      - path: \"{path}\"\n        policy: bypass\n"
        )));
        assert_line(&lines, "apps[0].rules[0].path", needle);
    }
}

#[test]
fn duplicate_rule_paths_after_normalisation_are_rejected() {
    let lines = error_lines(&app_config(
        "    upstream: a:1\n    rules:\n      - {path: /docs, policy: bypass}\n      - {path: /docs/, policy: deny}\n",
    ));
    assert_eq!(
        lines,
        vec!["apps[0].rules[1].path: duplicate rule path \"/docs\" (also apps[0].rules[0].path)"]
    );
}

#[test]
fn app_host_is_lower_cased_and_must_not_have_a_port() {
    let s = build(&app_config(
        "    host: WIKI.Example.com\n    upstream: a:1\n",
    ));
    assert_eq!(s.apps[0].host.as_deref(), Some("wiki.example.com"));
    let lines = error_lines(&app_config(
        "    host: wiki.example.com:443\n    upstream: a:1\n",
    ));
    assert_line(&lines, "apps[0].host", "must not include a port");
}

#[test]
fn a_config_without_apps_is_rejected() {
    let lines = error_lines("users:\n  file: users.yaml\napps: []\n");
    assert_eq!(lines, vec!["apps: at least one app is required"]);
}

#[test]
fn app_and_token_names_must_be_lower_case_slugs() {
    let config = format!(
        "users: {{file: users.yaml}}\napps:\n  - {{name: My App, upstream: a:1}}\nservice_tokens:\n  - {{name: CI, token_sha256: \"{}\"}}\n",
        "00".repeat(32)
    );
    let lines = error_lines(&config);
    assert_line(&lines, "apps[0].name", "invalid name \"My App\"");
    assert_line(&lines, "service_tokens[0].name", "invalid name \"CI\"");
}

#[test]
fn duplicate_token_names_and_hashes_are_rejected() {
    let hash = "11".repeat(32);
    let config = minimal_plus(&format!(
        "service_tokens:\n  - {{name: ci, token_sha256: \"{hash}\"}}\n  - {{name: ci, token_sha256: \"{hash}\"}}\n"
    ));
    let lines = error_lines(&config);
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_line(
        &lines,
        "service_tokens[1].name",
        "duplicate service token name \"ci\"",
    );
    assert_line(
        &lines,
        "service_tokens[1].token_sha256",
        "same hash as service_tokens[0]",
    );
}

#[test]
fn health_checks_are_tcp_by_default_or_http_with_a_status() {
    assert_eq!(build(MINIMAL).apps[0].health_check, HealthCheck::Tcp);
    let s = build(&app_config(
        "    upstream: a:1\n    health_check: {path: /healthz}\n",
    ));
    assert_eq!(
        s.apps[0].health_check,
        HealthCheck::Http {
            path: "/healthz".into(),
            expect_status: 200
        }
    );
    let s = build(&app_config(
        "    upstream: a:1\n    health_check: {path: \"/status?full=1\", expect_status: 204}\n",
    ));
    assert!(matches!(
        s.apps[0].health_check,
        HealthCheck::Http {
            expect_status: 204,
            ..
        }
    ));
}

#[test]
fn a_bad_health_check_is_named() {
    let lines = error_lines(&app_config(
        "    upstream: [\"http://a:1\", \"https://b:2\"]\n    health_check: {expect_status: 99}\n",
    ));
    assert_line(&lines, "apps[0].health_check.path", "required");
    assert_line(
        &lines,
        "apps[0].health_check.expect_status",
        "99 is not an HTTP status",
    );
    assert_line(
        &lines,
        "apps[0].health_check",
        "the upstreams mix http and https",
    );
    let lines = error_lines(&app_config(
        "    upstream: a:1\n    health_check: {path: healthz}\n",
    ));
    assert_line(
        &lines,
        "apps[0].health_check.path",
        "invalid path \"healthz\"",
    );
}
