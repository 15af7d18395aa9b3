//! Choosing the app and the rule for a request.
//!
//! Matching runs on the *normalised* path: percent-decoded, with `.`/`..`
//! resolved and repeated or back- slashes folded. Otherwise
//! `/public/..%2Fadmin` would match a `/public` bypass rule and reach
//! `/admin` upstream. The query never takes part.

use percent_encoding::percent_decode_str;

use crate::config::{AppSettings, Policy};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    #[error("the path is not valid UTF-8 once decoded")]
    NotUtf8,
    #[error("the path contains a control character")]
    ControlCharacter,
}

/// Normalises the path of a request target (query stripped).
pub fn normalise(target: &str) -> Result<String, PathError> {
    let raw = target.split(['?', '#']).next().unwrap_or("");
    let decoded = percent_decode_str(raw)
        .decode_utf8()
        .map_err(|_| PathError::NotUtf8)?;
    if decoded.chars().any(|c| c.is_control()) {
        return Err(PathError::ControlCharacter);
    }
    let mut segments: Vec<&str> = Vec::new();
    for segment in decoded.split(['/', '\\']) {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    let mut out = String::with_capacity(decoded.len() + 1);
    for s in &segments {
        out.push('/');
        out.push_str(s);
    }
    if out.is_empty() {
        out.push('/');
    }
    Ok(out)
}

/// Whether `path` lies under `prefix`, by whole segments.
fn under(path: &str, prefix: &str) -> bool {
    prefix == "/"
        || (path.starts_with(prefix)
            && matches!(path.as_bytes().get(prefix.len()), None | Some(b'/')))
}

/// The outcome of matching: which app, and which policy applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteMatch {
    pub app: usize,
    pub policy: Policy,
}

#[derive(Debug)]
struct Entry {
    prefix: String,
    app: usize,
    policy: Policy,
}

/// Rules of a set of apps, longest prefix first.
#[derive(Debug, Default)]
struct Table(Vec<Entry>);

impl Table {
    fn add(&mut self, index: usize, app: &AppSettings) {
        for rule in &app.rules {
            self.0.push(Entry {
                prefix: rule.path.clone(),
                app: index,
                policy: rule.policy,
            });
        }
        // The app's own policy covers what no rule does.
        if !app.rules.iter().any(|r| r.path == "/") {
            self.0.push(Entry {
                prefix: "/".to_owned(),
                app: index,
                policy: app.policy,
            });
        }
    }

    fn finish(&mut self) {
        // Stable: among equal prefixes, the app listed first wins.
        self.0.sort_by_key(|e| std::cmp::Reverse(e.prefix.len()));
    }

    fn find(&self, path: &str) -> Option<RouteMatch> {
        self.0
            .iter()
            .find(|e| under(path, &e.prefix))
            .map(|e| RouteMatch {
                app: e.app,
                policy: e.policy,
            })
    }
}

/// Host first, then the longest path prefix among that host's apps.
#[derive(Debug, Default)]
pub struct Router {
    by_host: Vec<(String, Table)>,
    any_host: Table,
}

impl Router {
    pub fn new(apps: &[AppSettings]) -> Self {
        let mut router = Router::default();
        for (index, app) in apps.iter().enumerate() {
            match &app.host {
                None => router.any_host.add(index, app),
                Some(host) => match router.by_host.iter_mut().find(|(h, _)| h == host) {
                    Some((_, table)) => table.add(index, app),
                    None => {
                        let mut table = Table::default();
                        table.add(index, app);
                        router.by_host.push((host.clone(), table));
                    }
                },
            }
        }
        router.any_host.finish();
        for (_, table) in &mut router.by_host {
            table.finish();
        }
        router
    }

    /// Matches a request. `host` is the Host header as sent (any case, any
    /// port); `path` is already normalised.
    pub fn route(&self, host: Option<&str>, path: &str) -> Option<RouteMatch> {
        let host = host.map(host_name);
        let table = host
            .and_then(|h| {
                self.by_host
                    .iter()
                    .find(|(name, _)| name.eq_ignore_ascii_case(h))
            })
            .map(|(_, t)| t)
            .unwrap_or(&self.any_host);
        table.find(path)
    }
}

/// The host name without port or trailing dot.
fn host_name(host: &str) -> &str {
    let name = if let Some(rest) = host.strip_prefix('[') {
        // An IPv6 literal: [::1]:8080
        rest.split(']').next().unwrap_or(rest)
    } else {
        host.rsplit_once(':').map_or(host, |(h, _)| h)
    };
    name.trim_end_matches('.')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Rule;
    use std::time::Duration;

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

    fn app(
        name: &str,
        host: Option<&str>,
        policy: Policy,
        rules: &[(&str, Policy)],
    ) -> AppSettings {
        AppSettings {
            name: name.into(),
            host: host.map(Into::into),
            upstreams: vec![],
            policy,
            rules: rules
                .iter()
                .map(|(p, pol)| Rule {
                    path: (*p).into(),
                    policy: *pol,
                })
                .collect(),
            service_tokens: None,
            health_check_interval: Duration::from_secs(5),
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
        let policy = |p: &str| r.route(None, p).unwrap().policy;
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
            app("a", None, Policy::Deny, &[("/a", Policy::OneFactor)]),
            app("b", None, Policy::Deny, &[("/b", Policy::Bypass)]),
        ];
        let r = Router::new(&apps);
        assert_eq!(
            r.route(None, "/b/1"),
            Some(RouteMatch {
                app: 1,
                policy: Policy::Bypass
            })
        );
        assert_eq!(
            r.route(None, "/a/1"),
            Some(RouteMatch {
                app: 0,
                policy: Policy::OneFactor
            })
        );
        assert_eq!(r.route(None, "/c").unwrap().policy, Policy::Deny);
    }

    #[test]
    fn a_host_with_no_app_and_no_catch_all_matches_nothing() {
        let apps = [app("wiki", Some("wiki.example.com"), Policy::Bypass, &[])];
        assert_eq!(
            Router::new(&apps).route(Some("evil.example.com"), "/"),
            None
        );
    }
}
