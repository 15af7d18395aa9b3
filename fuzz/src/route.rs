//! The path normaliser and the router.

use std::sync::OnceLock;

use gatehouse::config::Policy;
use gatehouse::route::{normalise, Router, Ruling};

use crate::has_dot_or_empty_segment;

/// Apps on two hosts and on any host, nested paths, a rule in upper case
/// (so case-folded readings take part), a deny under a bypass.
const APPS: &str = r#"
users:
  file: users.yaml
apps:
  - name: main
    upstream: "127.0.0.1:3000"
    policy: one_factor
    rules:
      - { path: /public, policy: bypass }
      - { path: /admin, policy: deny }
      - { path: /Secure, policy: two_factor }
      - { path: /public/private, policy: one_factor }
  - name: docs
    path: /docs
    upstream: "127.0.0.1:3001"
    policy: bypass
    rules:
      - { path: /docs/internal, policy: deny }
  - name: api
    host: api.example.com
    path: /api
    upstream: "127.0.0.1:3002"
    policy: two_factor
    rules:
      - { path: /api/open, policy: bypass }
"#;

fn router() -> &'static Router {
    static ROUTER: OnceLock<Router> = OnceLock::new();
    ROUTER.get_or_init(|| {
        let settings = gatehouse::fuzzing::config(APPS, "users: {}\n")
            .unwrap_or_else(|e| panic!("the target's own config is refused:\n{e}"));
        Router::new(&settings.apps)
    })
}

fn fixed(ruling: &Ruling<'_>) -> Policy {
    match ruling {
        Ruling::Fixed(policy) => *policy,
        Ruling::Conditional(_) => panic!("no rule here has conditions"),
    }
}

/// Whether `path` lies under `prefix`, by whole segments.
fn under(path: &str, prefix: &str) -> bool {
    path == prefix
        || path
            .strip_prefix(prefix)
            .is_some_and(|r| r.starts_with('/'))
}

/// The first byte picks the Host header, the rest is the request target.
pub fn route(data: &[u8]) {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let Ok(target) = std::str::from_utf8(rest) else {
        return;
    };
    let host = [
        None,
        Some("api.example.com"),
        Some("API.Example.com.:8443"),
        Some("[::1]:80"),
    ][usize::from(pick % 4)];
    let Ok(path) = normalise(target) else {
        return;
    };
    assert!(path.starts_with('/'), "{target:?} normalised to {path:?}");
    assert!(
        !has_dot_or_empty_segment(&path),
        "{target:?} normalised to {path:?}, with a dot or empty segment"
    );
    let router = router();
    let Some(plain) = router.route(host, &path) else {
        assert!(
            router.route_request(host, target, &path).is_none(),
            "{target:?}: only some readings found an app"
        );
        return;
    };
    let every = router
        .route_request(host, target, &path)
        .unwrap_or_else(|| {
            panic!("{target:?}: the normalised path routes alone, not with readings")
        });
    assert_eq!(
        every.app, plain.app,
        "{target:?}: the readings moved the app"
    );
    let (strictest, normalised) = (fixed(&every.policy), fixed(&plain.policy));
    assert!(
        strictest >= normalised,
        "{target:?}: {strictest:?} is looser than the normalised path's {normalised:?}"
    );
    // No host's own app lies at these, so every host reaches the deny
    // rules, in any case (one reading is case-blind).
    let folded = path.to_lowercase();
    if under(&folded, "/admin") || under(&folded, "/docs/internal") {
        assert_eq!(
            strictest,
            Policy::Deny,
            "{target:?} ({path:?}) escaped a deny"
        );
    }
}
