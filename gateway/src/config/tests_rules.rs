//! Whole-config tests for app paths and rules.

use super::*;

fn apps(body: &str) -> String {
    format!("users: {{file: users.yaml}}\napps:\n{body}")
}

#[test]
fn apps_may_share_a_host_by_path() {
    let s = build(&apps(
        "  - {name: site, host: a.example.com, upstream: a:1}\n  \
           - {name: wiki, host: a.example.com, path: /wiki/, upstream: b:1}\n  \
           - {name: blog, path: //blog, upstream: c:1}\n  \
           - {name: other, upstream: d:1}\n",
    ));
    let paths: Vec<&str> = s.apps.iter().map(|a| a.path.as_str()).collect();
    assert_eq!(paths, ["/", "/wiki", "/blog", "/"]);
}

#[test]
fn two_apps_at_the_same_host_and_path_are_named() {
    let lines = error_lines(&apps(
        "  - {name: wiki, host: a.example.com, path: /wiki, upstream: a:1}\n  \
           - {name: docs, host: A.example.com, path: /wiki/, upstream: b:1}\n  \
           - {name: x, path: /x, upstream: c:1}\n  \
           - {name: y, path: /x, upstream: d:1}\n",
    ));
    assert_eq!(
        lines,
        [
            "apps[1].path: \"/wiki\" on host \"a.example.com\" is already app \"wiki\" (apps[0])",
            "apps[3].path: \"/x\" on any host is already app \"x\" (apps[2])",
        ]
    );
}

#[test]
fn a_bad_app_path_is_named() {
    let lines = error_lines(&apps("  - {name: a, path: wiki, upstream: a:1}\n"));
    assert_line(&lines, "apps[0].path", "must start with \"/\"");
    let lines = error_lines(&apps("  - {name: a, path: \"/w?x\", upstream: a:1}\n"));
    assert_line(&lines, "apps[0].path", "must not contain '?'");
}

#[test]
fn rule_paths_are_absolute_and_must_lie_under_the_apps_path() {
    let s = build(&apps(
        "  - name: wiki\n    path: /wiki\n    upstream: a:1\n    rules:\n      \
         - {path: /wiki, policy: two_factor}\n      - {path: /wiki/public, policy: bypass}\n",
    ));
    assert_eq!(s.apps[0].rules[1].path, "/wiki/public");
    let lines = error_lines(&apps(
        "  - name: wiki\n    path: /wiki\n    upstream: a:1\n    rules:\n      \
         - {path: /public, policy: bypass}\n      - {path: /wikipedia, policy: bypass}\n",
    ));
    assert_eq!(
        lines,
        [
            "apps[0].rules[0].path: \"/public\" lies outside the app's path \"/wiki\": rule paths are absolute, so write the full path, under the app's",
            "apps[0].rules[1].path: \"/wikipedia\" lies outside the app's path \"/wiki\": rule paths are absolute, so write the full path, under the app's",
        ]
    );
}

#[test]
fn rule_conditions_are_parsed() {
    let s = build(&apps(
        "  - name: a\n    upstream: a:1\n    rules:\n      \
         - {path: /api, policy: bypass, methods: [get, HEAD], networks: [10.0.0.0/8, \"::1\"], groups: [dev]}\n",
    ));
    let c = &s.apps[0].rules[0].conditions;
    assert_eq!(c.methods, ["GET", "HEAD"]);
    assert_eq!(c.networks[0].to_string(), "10.0.0.0/8");
    assert_eq!(c.networks[1].to_string(), "::1/128");
    assert_eq!(c.groups, ["dev"]);
}

#[test]
fn bad_conditions_are_named_by_key() {
    let lines = error_lines(&apps(
        "  - name: a\n    upstream: a:1\n    rules:\n      \
         - {path: /a, policy: bypass, methods: [GET, FETCH]}\n      \
         - {path: /b, policy: bypass, networks: [10.0.0.0/8, 10.0.0.0/33]}\n      \
         - {path: /c, policy: bypass, groups: []}\n      \
         - {path: /d, policy: bypass, groups: [\"a b\"], methods: []}\n",
    ));
    assert_eq!(lines.len(), 5, "{lines:?}");
    assert_line(
        &lines,
        "apps[0].rules[0].methods[1]",
        "unknown method \"FETCH\"",
    );
    assert_line(
        &lines,
        "apps[0].rules[1].networks[1]",
        "\"10.0.0.0/33\" is not an IP address or CIDR range",
    );
    assert_line(&lines, "apps[0].rules[2].groups", "the list is empty");
    assert_line(
        &lines,
        "apps[0].rules[3].groups[0]",
        "invalid group name \"a b\"",
    );
    assert_line(&lines, "apps[0].rules[3].methods", "the list is empty");
}

#[test]
fn a_rule_after_one_with_the_same_path_and_no_conditions_is_refused() {
    let ok = "  - name: a\n    upstream: a:1\n    rules:\n      \
              - {path: /a, policy: bypass, methods: [GET]}\n      \
              - {path: /a, policy: deny}\n";
    assert_eq!(build(&apps(ok)).apps[0].rules.len(), 2);
    let lines = error_lines(&apps(
        "  - name: a\n    upstream: a:1\n    rules:\n      \
         - {path: /a, policy: deny}\n      - {path: /a/, policy: bypass, methods: [GET]}\n",
    ));
    assert_eq!(
        lines,
        ["apps[0].rules[1].path: duplicate rule path \"/a\" (also apps[0].rules[0].path, which has no conditions, so this rule never applies)"]
    );
}
