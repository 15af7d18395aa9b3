//! Unit tests of [`super`]: normalisation, readings, apps and rules.

use super::*;
use crate::config::{Conditions, Rule};
use std::time::Duration;

/// The policy of a verdict that no condition takes part in.
fn fixed(verdict: &Ruling<'_>) -> Policy {
    match verdict {
        Ruling::Fixed(policy) => *policy,
        other => panic!("conditions take part: {other:?}"),
    }
}

#[test]
fn normalisation_resolves_dots_slashes_and_encodings() {
    let cases = [
        ("/", "/"),
        ("", "/"),
        ("/a/b/", "/a/b"),
        ("//a///b", "/a/b"),
        ("/a/./b/../c", "/a/c"),
        ("/../../etc", "/etc"),
        ("/public/..%2Fadmin", "/admin"),
        ("/public/%2e%2e/admin", "/admin"),
        ("/a\\..\\admin", "/admin"),
        ("/%61dmin?x=/public", "/admin"),
        ("/caf%C3%A9", "/café"),
    ];
    for (input, want) in cases {
        assert_eq!(normalise(input).unwrap(), want, "{input}");
    }
}

#[test]
fn undecodable_or_control_paths_are_refused() {
    assert_eq!(normalise("/%ff"), Err(PathError::NotUtf8));
    assert_eq!(normalise("/a%00b"), Err(PathError::ControlCharacter));
    assert_eq!(normalise("/a%0d%0aX: y"), Err(PathError::ControlCharacter));
}

fn app(name: &str, host: Option<&str>, policy: Policy, rules: &[(&str, Policy)]) -> AppSettings {
    app_at(name, host, "/", policy, rules)
}

/// An app at `path` on `host`.
fn app_at(
    name: &str,
    host: Option<&str>,
    path: &str,
    policy: Policy,
    rules: &[(&str, Policy)],
) -> AppSettings {
    AppSettings {
        name: name.into(),
        host: host.map(Into::into),
        path: path.into(),
        upstreams: vec![],
        policy,
        rules: rules
            .iter()
            .map(|(p, pol)| Rule {
                path: (*p).into(),
                policy: *pol,
                conditions: Conditions::default(),
            })
            .collect(),
        service_tokens: None,
        health_check_interval: Duration::from_secs(5),
        health_check: Default::default(),
    }
}

#[test]
fn the_longest_prefix_wins_by_whole_segments() {
    let apps = [app(
        "wiki",
        None,
        Policy::OneFactor,
        &[
            ("/public", Policy::Bypass),
            ("/public/secret", Policy::Deny),
        ],
    )];
    let r = Router::new(&apps);
    let policy = |p: &str| r.route(None, p).map(|m| fixed(&m.policy)).unwrap();
    assert_eq!(policy("/public"), Policy::Bypass);
    assert_eq!(policy("/public/x"), Policy::Bypass);
    assert_eq!(policy("/publicity"), Policy::OneFactor);
    assert_eq!(policy("/public/secret/y"), Policy::Deny);
    assert_eq!(policy("/"), Policy::OneFactor);
}

#[test]
fn the_host_picks_the_app_before_the_path() {
    let apps = [
        app("default", None, Policy::OneFactor, &[]),
        app("wiki", Some("wiki.example.com"), Policy::Bypass, &[]),
    ];
    let r = Router::new(&apps);
    assert_eq!(r.route(Some("WIKI.example.com:8080"), "/x").unwrap().app, 1);
    assert_eq!(r.route(Some("wiki.example.com."), "/x").unwrap().app, 1);
    assert_eq!(r.route(Some("other.example.com"), "/x").unwrap().app, 0);
    assert_eq!(r.route(None, "/x").unwrap().app, 0);
}

#[test]
fn apps_without_a_host_split_by_path() {
    let apps = [
        app_at("a", None, "/a", Policy::Deny, &[("/a", Policy::OneFactor)]),
        app_at("b", None, "/b", Policy::Deny, &[("/b", Policy::Bypass)]),
    ];
    let r = Router::new(&apps);
    assert_eq!(
        r.route(None, "/b/1"),
        Some(RouteMatch {
            app: 1,
            policy: Ruling::Fixed(Policy::Bypass)
        })
    );
    assert_eq!(
        r.route(None, "/a/1"),
        Some(RouteMatch {
            app: 0,
            policy: Ruling::Fixed(Policy::OneFactor)
        })
    );
    assert_eq!(r.route(None, "/c"), None);
}

#[test]
fn apps_on_one_host_split_by_the_longest_path() {
    let host = Some("example.com");
    let apps = [
        app_at("site", host, "/", Policy::Bypass, &[]),
        app_at("wiki", host, "/wiki", Policy::OneFactor, &[]),
        app_at(
            "wiki-admin",
            host,
            "/wiki/admin",
            Policy::TwoFactor,
            &[("/wiki/admin/logs", Policy::Deny)],
        ),
    ];
    let r = Router::new(&apps);
    let at = |p: &str| r.route(host, p).map(|m| (m.app, fixed(&m.policy)));
    assert_eq!(at("/"), Some((0, Policy::Bypass)));
    assert_eq!(at("/wikipedia"), Some((0, Policy::Bypass)));
    assert_eq!(at("/wiki"), Some((1, Policy::OneFactor)));
    assert_eq!(at("/wiki/page"), Some((1, Policy::OneFactor)));
    assert_eq!(at("/wiki/admin"), Some((2, Policy::TwoFactor)));
    assert_eq!(at("/wiki/admin/logs/1"), Some((2, Policy::Deny)));
}

#[test]
fn apps_without_a_host_take_what_the_hosts_apps_do_not() {
    let apps = [
        app_at("wiki", Some("a.example"), "/wiki", Policy::OneFactor, &[]),
        app("default", None, Policy::TwoFactor, &[]),
    ];
    let r = Router::new(&apps);
    assert_eq!(r.route(Some("a.example"), "/wiki/x").unwrap().app, 0);
    assert_eq!(r.route(Some("a.example"), "/blog").unwrap().app, 1);
    assert_eq!(r.route(Some("b.example"), "/wiki").unwrap().app, 1);
}

#[test]
fn a_reading_under_another_apps_path_gets_that_apps_policy() {
    let host = Some("example.com");
    let apps = [
        app_at("site", host, "/", Policy::Bypass, &[]),
        app_at("console", host, "/admin", Policy::Deny, &[]),
        app_at("docs", host, "/Docs", Policy::TwoFactor, &[]),
    ];
    let r = Router::new(&apps);
    for (raw, want) in [
        ("/x/..;/admin/users", (0, Policy::Deny)),
        ("/admin%2F..%2Fx", (0, Policy::Deny)),
        ("/ADMIN", (0, Policy::Deny)),
        ("/docs/a", (0, Policy::TwoFactor)),
        ("/Docs/a", (2, Policy::TwoFactor)),
        ("/x", (0, Policy::Bypass)),
    ] {
        let path = normalise(raw).unwrap();
        let m = r.route_request(host, raw, &path).unwrap();
        assert_eq!((m.app, fixed(&m.policy)), want, "{raw}");
    }
}

/// The policy the proxy applies to a request for `raw`.
fn policy_for(router: &Router, raw: &str) -> Policy {
    let path = normalise(raw).unwrap();
    fixed(&router.route_request(None, raw, &path).unwrap().policy)
}

#[test]
fn an_encoded_separator_cannot_climb_out_of_a_stricter_rule() {
    let apps = [app(
        "wiki",
        None,
        Policy::OneFactor,
        &[("/public", Policy::Bypass), ("/admin", Policy::TwoFactor)],
    )];
    let r = Router::new(&apps);
    let policy = |raw: &str| policy_for(&r, raw);
    // Normalised, these are `/public`; an upstream that keeps `%2F` in
    // the segment serves them from under `/admin`.
    assert_eq!(policy("/admin%2F..%2Fpublic"), Policy::TwoFactor);
    assert_eq!(policy("/admin%2f..%2fpublic/x"), Policy::TwoFactor);
    assert_eq!(policy("/admin%5C..%5Cpublic"), Policy::TwoFactor);
    // Both readings agree here, so nothing changes.
    assert_eq!(policy("/public%2Fdocs"), Policy::Bypass);
    assert_eq!(policy("/public/..%2Fadmin"), Policy::TwoFactor);
    assert_eq!(policy("/public/x"), Policy::Bypass);
    assert_eq!(policy("/other"), Policy::OneFactor);
}

#[test]
fn case_only_ever_makes_a_path_stricter() {
    let apps = [app(
        "wiki",
        None,
        Policy::OneFactor,
        &[
            ("/public", Policy::Bypass),
            ("/admin", Policy::Deny),
            ("/Reports", Policy::TwoFactor),
        ],
    )];
    let r = Router::new(&apps);
    let policy = |raw: &str| policy_for(&r, raw);
    // A case-blind upstream serves these from the stricter rule.
    assert_eq!(policy("/ADMIN"), Policy::Deny);
    assert_eq!(policy("/Admin/users"), Policy::Deny);
    assert_eq!(policy("/reports/q3"), Policy::TwoFactor);
    assert_eq!(policy("/%41DMIN"), Policy::Deny);
    // A looser rule in another case never loosens the path.
    assert_eq!(policy("/PUBLIC"), Policy::OneFactor);
    assert_eq!(policy("/public"), Policy::Bypass);
}

/// An app open by default, so a path read only as written would pass:
/// a `bypass` prefix, a `deny` rule, a `two_factor` rule.
fn open_app() -> Router {
    Router::new(&[app(
        "wiki",
        None,
        Policy::Bypass,
        &[
            ("/public", Policy::Bypass),
            ("/private", Policy::OneFactor),
            ("/admin", Policy::Deny),
            ("/secure", Policy::TwoFactor),
        ],
    )])
}

#[test]
fn servlet_path_parameters_cannot_reach_a_stricter_rule() {
    let r = open_app();
    let cases = [
        // Tomcat, Jetty and Spring drop `;x` from each segment.
        ("/admin;x", Policy::Deny),
        ("/admin;jsessionid=1/users", Policy::Deny),
        ("/secure;x/vault", Policy::TwoFactor),
        ("/private;x", Policy::OneFactor),
        // ... before resolving dot segments, so `..;` climbs.
        ("/public/..;/secure/x", Policy::TwoFactor),
        ("/public/..;/admin", Policy::Deny),
        ("/public/..;x/admin/users", Policy::Deny),
        ("/public/%2e%2e;/secure/x", Policy::TwoFactor),
        ("/public/.;/..;/secure", Policy::TwoFactor),
        // An encoded `;` read once decoded.
        ("/admin%3bx", Policy::Deny),
        ("/public/..%3B/secure/x", Policy::TwoFactor),
        // Combined with case, and with an encoded `/` kept in the
        // parameter that a decoding reading would climb out of.
        ("/ADMIN;x", Policy::Deny),
        ("/Public/..;/SECURE/x", Policy::TwoFactor),
        ("/admin;x%2f..%2f..%2fpublic", Policy::Deny),
        // Controls: every reading is under `/public`, or nowhere.
        ("/public;x/page", Policy::Bypass),
        ("/public/..;/public/x", Policy::Bypass),
        ("/other;x", Policy::Bypass),
        ("/public/x", Policy::Bypass),
    ];
    for (raw, want) in cases {
        assert_eq!(policy_for(&r, raw), want, "{raw}");
    }
}

#[test]
fn trailing_dots_and_spaces_cannot_reach_a_stricter_rule() {
    let r = open_app();
    let cases = [
        // Windows (IIS) drops trailing dots and spaces.
        ("/admin.", Policy::Deny),
        ("/admin%20", Policy::Deny),
        ("/admin./x", Policy::Deny),
        ("/admin%20/x", Policy::Deny),
        ("/admin%2e", Policy::Deny),
        ("/admin.%20.", Policy::Deny),
        ("/secure./vault", Policy::TwoFactor),
        ("/secure%E3%80%80/vault", Policy::TwoFactor),
        ("/private.", Policy::OneFactor),
        // Old Spring trimmed whole tokens, leading spaces too.
        ("/%20admin", Policy::Deny),
        // `.. ` may still climb out of a bypass prefix.
        ("/public/..%20/admin", Policy::Deny),
        ("/public/.../secure", Policy::TwoFactor),
        // Combined with case, `;` parameters and encoded separators.
        ("/ADMIN.", Policy::Deny),
        ("/Secure%20/x", Policy::TwoFactor),
        ("/admin.;x", Policy::Deny),
        ("/admin.%2f..%2fpublic", Policy::Deny),
        // Controls: the trimmed reading is still under `/public`.
        ("/public./x", Policy::Bypass),
        ("/public%20/x", Policy::Bypass),
        ("/other.", Policy::Bypass),
        ("/public/file.txt", Policy::Bypass),
    ];
    for (raw, want) in cases {
        assert_eq!(policy_for(&r, raw), want, "{raw}");
    }
}

#[test]
fn an_ordinary_path_has_no_other_reading() {
    // The hot path: nothing beyond the normalised reading is computed.
    for raw in [
        "/",
        "/app/admin/users/42",
        "/static/app.min.js",
        "/a-b_c~d/e.f/g",
        "/search?q=a;b.",
    ] {
        let path = normalise(raw).unwrap();
        assert!(other_readings(raw, &path).is_empty(), "{raw}");
    }
    assert!(!other_readings("/admin;x", "/admin;x").is_empty());
    assert!(!other_readings("/admin.", "/admin.").is_empty());
    assert!(!other_readings("/admin%20/x", "/admin /x").is_empty());
}

#[test]
fn a_reading_raises_the_policy_but_never_changes_the_app() {
    let apps = [
        app(
            "site",
            None,
            Policy::OneFactor,
            &[("/public", Policy::Bypass)],
        ),
        app_at(
            "console",
            None,
            "/admin",
            Policy::OneFactor,
            &[("/admin", Policy::Deny)],
        ),
    ];
    let r = Router::new(&apps);
    for raw in ["/public/..;/admin/x", "/public/..%20/admin"] {
        let path = normalise(raw).unwrap();
        let m = r.route_request(None, raw, &path).unwrap();
        assert_eq!((m.app, fixed(&m.policy)), (0, Policy::Deny), "{raw}");
    }
}

#[test]
fn the_normalised_path_alone_picks_the_app() {
    let apps = [
        app("a", None, Policy::Bypass, &[]),
        app_at("b", None, "/b", Policy::TwoFactor, &[]),
    ];
    let r = Router::new(&apps);
    let m = r.route_request(None, "/B/x", "/B/x").unwrap();
    assert_eq!((m.app, fixed(&m.policy)), (0, Policy::TwoFactor));
}

#[test]
fn a_host_with_no_app_and_no_catch_all_matches_nothing() {
    let apps = [app("wiki", Some("wiki.example.com"), Policy::Bypass, &[])];
    assert_eq!(
        Router::new(&apps).route(Some("evil.example.com"), "/"),
        None
    );
}
