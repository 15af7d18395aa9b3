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
