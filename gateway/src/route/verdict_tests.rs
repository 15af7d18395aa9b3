//! Rules with conditions: precedence, each condition, and that neither the
//! query, the case nor encoded separators widen a conditional rule.

use std::net::IpAddr;
use std::time::Duration;

use super::*;
use crate::config::{AppSettings, Rule};
use crate::route::{normalise, Router};

/// A condition-less rule, or one with `methods`, `networks` and `groups`.
fn rule(path: &str, policy: Policy, when: (&[&str], &[&str], &[&str])) -> Rule {
    let (methods, networks, groups) = when;
    Rule {
        path: path.into(),
        policy,
        conditions: Conditions {
            methods: methods.iter().map(|m| m.to_string()).collect(),
            networks: networks.iter().map(|n| n.parse().unwrap()).collect(),
            groups: groups.iter().map(|g| g.to_string()).collect(),
        },
    }
}

const ANY: (&[&str], &[&str], &[&str]) = (&[], &[], &[]);

fn router(policy: Policy, rules: Vec<Rule>) -> Router {
    Router::new(&[AppSettings {
        name: "app".into(),
        host: None,
        path: "/".into(),
        upstreams: vec![],
        policy,
        rules,
        service_tokens: None,
        health_check_interval: Duration::from_secs(5),
        health_check: Default::default(),
    }])
}

/// The request's policy for a caller in `groups` (`None`: not signed in).
fn policy(r: &Router, method: &str, client: &str, raw: &str, groups: Option<&[&str]>) -> Policy {
    let path = normalise(raw).unwrap();
    let m = r.route_request(None, raw, &path).unwrap();
    let facts = || Facts {
        method: method.parse().unwrap(),
        client: client.parse::<IpAddr>().unwrap(),
    };
    let settled = m.policy.settle(facts);
    match groups {
        None => settled.policy,
        Some(groups) => {
            let groups: Vec<String> = groups.iter().map(|g| g.to_string()).collect();
            settled.for_groups(&groups)
        }
    }
}

#[test]
fn rules_without_conditions_need_no_facts() {
    let r = router(
        Policy::OneFactor,
        vec![rule("/public", Policy::Bypass, ANY)],
    );
    let m = r.route_request(None, "/public/x", "/public/x").unwrap();
    assert_eq!(m.policy, Ruling::Fixed(Policy::Bypass));
    let settled = m.policy.settle(|| panic!("the facts were read"));
    assert_eq!(
        (settled.policy, settled.asks_groups()),
        (Policy::Bypass, false)
    );
}

#[test]
fn a_method_condition_matches_in_any_case_and_get_covers_head() {
    let r = router(
        Policy::OneFactor,
        vec![rule("/api", Policy::Bypass, (&["GET"], &[], &[]))],
    );
    let at = |method: &str| policy(&r, method, "192.0.2.1", "/api/items", None);
    assert_eq!(at("GET"), Policy::Bypass);
    assert_eq!(at("HEAD"), Policy::Bypass);
    assert_eq!(at("get"), Policy::Bypass);
    assert_eq!(at("POST"), Policy::OneFactor);
    assert_eq!(at("DELETE"), Policy::OneFactor);
}

#[test]
fn the_longest_prefix_first_then_the_first_listed_whose_conditions_hold() {
    let r = router(
        Policy::OneFactor,
        vec![
            rule("/api", Policy::Bypass, (&["GET"], &[], &[])),
            rule("/api", Policy::TwoFactor, (&[], &["10.0.0.0/8"], &[])),
            rule("/api", Policy::Deny, ANY),
            rule("/api/v2", Policy::TwoFactor, (&["POST"], &[], &[])),
        ],
    );
    let at = |method: &str, ip: &str, path: &str| policy(&r, method, ip, path, None);
    // Equal prefixes: listed order; GET from 10/8 meets both, the first wins.
    assert_eq!(at("GET", "10.0.0.1", "/api"), Policy::Bypass);
    assert_eq!(at("POST", "10.0.0.1", "/api"), Policy::TwoFactor);
    assert_eq!(at("POST", "192.0.2.1", "/api"), Policy::Deny);
    // A longer prefix whose conditions fail gives way to the shorter ones.
    assert_eq!(at("POST", "192.0.2.1", "/api/v2/x"), Policy::TwoFactor);
    assert_eq!(at("GET", "192.0.2.1", "/api/v2/x"), Policy::Bypass);
    // No rule: the app's policy.
    assert_eq!(at("GET", "10.0.0.1", "/other"), Policy::OneFactor);
}

#[test]
fn a_network_condition_matches_the_client_address() {
    let r = router(
        Policy::TwoFactor,
        vec![rule(
            "/",
            Policy::OneFactor,
            (&[], &["10.0.0.0/8", "2001:db8::/32"], &[]),
        )],
    );
    let at = |ip: &str| policy(&r, "GET", ip, "/x", None);
    assert_eq!(at("10.1.2.3"), Policy::OneFactor);
    assert_eq!(at("::ffff:10.1.2.3"), Policy::OneFactor);
    assert_eq!(at("2001:db8::1"), Policy::OneFactor);
    assert_eq!(at("11.0.0.1"), Policy::TwoFactor);
    assert_eq!(at("127.0.0.1"), Policy::TwoFactor);
}

#[test]
fn a_groups_condition_asks_for_the_caller_and_never_matches_without_groups() {
    let r = router(
        Policy::Bypass,
        vec![
            rule("/admin", Policy::OneFactor, (&[], &[], &["admins"])),
            rule("/admin", Policy::Deny, ANY),
        ],
    );
    let at = |groups: Option<&[&str]>| policy(&r, "GET", "192.0.2.1", "/admin/x", groups);
    assert_eq!(at(None), Policy::Deny);
    assert_eq!(at(Some(&[])), Policy::Deny);
    assert_eq!(at(Some(&["dev"])), Policy::Deny);
    assert_eq!(at(Some(&["dev", "admins"])), Policy::OneFactor);
    let m = r.route_request(None, "/admin/x", "/admin/x").unwrap();
    let facts = || Facts {
        method: http::Method::GET,
        client: "192.0.2.1".parse().unwrap(),
    };
    assert!(m.policy.settle(facts).asks_groups());
    // Elsewhere no groups rule can apply: no need to know the caller.
    let m = r.route_request(None, "/public", "/public").unwrap();
    assert!(!m.policy.settle(facts).asks_groups());
}

#[test]
fn a_groups_rule_after_a_deciding_one_asks_nothing() {
    let r = router(
        Policy::OneFactor,
        vec![
            rule("/", Policy::Bypass, (&["GET"], &[], &[])),
            rule("/", Policy::Deny, (&[], &[], &["contractors"])),
        ],
    );
    let m = r.route_request(None, "/x", "/x").unwrap();
    let facts = |method: http::Method| {
        move || Facts {
            method,
            client: "192.0.2.1".parse().unwrap(),
        }
    };
    assert!(!m.policy.settle(facts(http::Method::GET)).asks_groups());
    assert!(m.policy.settle(facts(http::Method::POST)).asks_groups());
}

/// Modelled on CVE-2025-54576 (OAuth2-Proxy matched `skip_auth_routes`
/// against the whole URI, query included, so `/public?x=/secure`-style
/// requests skipped authentication): the query and fragment never take part.
#[test]
fn the_query_and_fragment_never_widen_a_rule() {
    let r = router(
        Policy::TwoFactor,
        vec![
            rule("/public", Policy::Bypass, (&["GET"], &[], &[])),
            rule("/secure", Policy::Deny, ANY),
        ],
    );
    for raw in [
        "/secure?x=/public",
        "/secure?/public",
        "/secure#/public",
        "/secure/x?redirect=%2Fpublic",
        "/private?public",
    ] {
        let want = if raw.starts_with("/secure") {
            Policy::Deny
        } else {
            Policy::TwoFactor
        };
        assert_eq!(policy(&r, "GET", "192.0.2.1", raw, None), want, "{raw}");
    }
    assert_eq!(
        policy(&r, "GET", "192.0.2.1", "/public?x=/secure", None),
        Policy::Bypass
    );
}

/// Modelled on CVE-2026-41059 (a path-prefix rule bypassed with another
/// case or encoded separators): conditional rules keep the strictest
/// policy over every reading of the path, as plain ones do.
#[test]
fn case_and_encoded_separators_never_widen_a_conditional_rule() {
    let r = router(
        Policy::Bypass,
        vec![
            rule("/admin", Policy::TwoFactor, (&[], &[], &["admins"])),
            rule("/admin", Policy::Deny, ANY),
            rule("/public", Policy::Bypass, (&["GET"], &["10.0.0.0/8"], &[])),
        ],
    );
    for raw in [
        "/ADMIN",
        "/Admin/users",
        "/%41dmin",
        "/admin%2F..%2Fpublic",
        "/admin%5c..%5cpublic",
        "/public/..%2Fadmin",
        "/public/..;/admin",
        "/admin;x",
        "/admin.",
    ] {
        let at = |groups| policy(&r, "GET", "10.0.0.1", raw, groups);
        assert_eq!(at(None), Policy::Deny, "{raw}");
        assert_eq!(at(Some(&["dev"])), Policy::Deny, "{raw}");
        assert_eq!(at(Some(&["admins"])), Policy::TwoFactor, "{raw}");
    }
    assert_eq!(
        policy(&r, "GET", "10.0.0.1", "/public/x", None),
        Policy::Bypass
    );
}
