//! Choosing the app and the rule for a request.
//!
//! Matching runs on the *normalised* path: percent-decoded, with `.`/`..`
//! resolved and repeated or back- slashes folded. Otherwise
//! `/public/..%2Fadmin` would match a `/public` bypass rule and reach
//! `/admin` upstream. The query never takes part.
//!
//! The request still goes upstream as it came, and upstreams do not all
//! read a path alike: some keep an encoded `/` inside its segment, so
//! `/admin%2F..%2Fpublic` is under `/admin` for them while it normalises to
//! `/public`; servlet containers (Tomcat, Jetty, Spring) drop `;` parameters
//! from each segment, so `/admin;x` is `/admin` and `/public/..;/admin` climbs
//! out of `/public`; Windows (IIS) and old Spring drop trailing dots and
//! spaces, so `/admin.` and `/admin%20/x` are under `/admin`; some ignore
//! case, so `/ADMIN` is `/admin`. [`Router::route_request`] therefore matches
//! every such reading, and their combinations, and applies the strictest
//! policy found. The normalised reading alone picks the app.

use std::borrow::Cow;

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

/// A way an upstream may read a path besides the normalised one. Each flag
/// is a known server behaviour; they combine, since one upstream may do
/// several (Spring on Tomcat behind IIS).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Reading {
    /// Split on the separators as sent: an encoded `/` or `\\` stays inside
    /// its segment, so `..%2F` climbs nothing.
    raw_split: bool,
    /// Drop each segment's `;` parameters before resolving `.`/`..`, as
    /// servlet containers do (`..;` climbs, `/admin;x` is `/admin`).
    params: bool,
    /// Drop trailing dots and spaces (and leading spaces) from each segment,
    /// as Windows and Spring's old `trimTokens` matching did.
    trim: bool,
}

/// `%` followed by one of `codes` (lower-case hex), in any case.
fn is_escape_of(bytes: &[u8], codes: &[&[u8; 2]]) -> bool {
    bytes.first() == Some(&b'%')
        && bytes
            .get(1..3)
            .is_some_and(|hex| codes.iter().any(|c| hex.eq_ignore_ascii_case(&c[..])))
}

/// Encoded `/` and `\\`.
const SEPARATOR_ESCAPES: &[&[u8; 2]] = &[b"2f", b"5c"];
/// What ends a segment for some upstream: the separators and `;`, encoded.
const SEGMENT_END_ESCAPES: &[&[u8; 2]] = &[b"2f", b"5c", b"3b"];

fn contains_escape(raw: &str, codes: &[&[u8; 2]]) -> bool {
    raw.contains('%') && raw.as_bytes().windows(3).any(|w| is_escape_of(w, codes))
}

/// Whether some segment may end in a dot or a space, or start with a space,
/// once decoded: a `.` or an escape (`%2e`, `%20`, `%E3%80%80`) just before
/// a segment's end, or an escape at its start. Other escapes there
/// (`/caf%C3%A9`) say yes too; that costs one reading, not a wrong answer.
fn may_trim(raw: &str) -> bool {
    let b = raw.as_bytes();
    let ends_segment = |i: usize| match b.get(i) {
        None | Some(b'/' | b'\\' | b';') => true,
        Some(_) => is_escape_of(&b[i..], SEGMENT_END_ESCAPES),
    };
    let starts_segment = |i: usize| {
        i == 0
            || matches!(b[i - 1], b'/' | b'\\' | b';')
            || (i >= 3 && is_escape_of(&b[i - 3..i], SEGMENT_END_ESCAPES))
    };
    (0..b.len()).any(|i| match b[i] {
        b'.' => ends_segment(i + 1),
        b'%' => starts_segment(i) || ends_segment(i + 3),
        _ => false,
    })
}

/// The readings `raw` (the path as sent) calls for, besides `path` (its
/// normalised form). Empty, and without allocating, for an ordinary path:
/// one with no encoded separator, no `;` and no segment that may trim.
fn other_readings(raw: &str, path: &str) -> Vec<String> {
    let raw = raw.split(['?', '#']).next().unwrap_or("");
    let wanted = Reading {
        raw_split: contains_escape(raw, SEPARATOR_ESCAPES),
        params: raw.contains(';') || contains_escape(raw, &[b"3b"]),
        trim: may_trim(raw),
    };
    let mut readings: Vec<String> = Vec::new();
    if wanted == Reading::default() {
        return readings;
    }
    // Every combination of the wanted flags but none (that is `path`).
    for bits in 1u8..8 {
        let how = Reading {
            raw_split: bits & 1 != 0,
            params: bits & 2 != 0,
            trim: bits & 4 != 0,
        };
        let unwanted = (how.raw_split && !wanted.raw_split)
            || (how.params && !wanted.params)
            || (how.trim && !wanted.trim);
        if unwanted {
            continue;
        }
        let reading = read(raw, how);
        if reading != path && !readings.contains(&reading) {
            readings.push(reading);
        }
    }
    readings
}

/// `raw` (query already cut) as an upstream reading it `how` sees it.
/// `normalise` has accepted the whole path, so each piece decodes.
fn read(raw: &str, how: Reading) -> String {
    let mut segments: Vec<String> = Vec::new();
    if how.raw_split {
        for piece in raw.split(['/', '\\']) {
            let piece = percent_decode_str(piece).decode_utf8_lossy();
            push_segment(&mut segments, &piece, how);
        }
    } else {
        let decoded = percent_decode_str(raw).decode_utf8_lossy();
        for piece in decoded.split(['/', '\\']) {
            push_segment(&mut segments, piece, how);
        }
    }
    if segments.is_empty() {
        return "/".to_owned();
    }
    segments.iter().fold(String::new(), |mut out, s| {
        out.push('/');
        out.push_str(s);
        out
    })
}

/// Adds one decoded segment to `segments` as `how` reads it, resolving
/// `.`/`..` last, as the servers do: `..;x` and `.. ` climb.
fn push_segment(segments: &mut Vec<String>, piece: &str, how: Reading) {
    let mut segment = piece;
    if how.params {
        // Decoded first, so `%3b` counts too: some upstreams decode before
        // they drop parameters.
        segment = segment.split_once(';').map_or(segment, |(kept, _)| kept);
    }
    if how.trim && segment.contains(['/', '\\']) {
        // A raw-split segment holding a decoded separator, where a prefix
        // may end after all (below): each part may be a name to trim.
        let parts: Vec<&str> = segment.split(['/', '\\']).map(trimmed).collect();
        segments.push(parts.join("/"));
        return;
    }
    if how.trim {
        segment = trimmed(segment);
    }
    match segment {
        "" | "." => {}
        ".." => {
            segments.pop();
        }
        // Once decoded, the upstream may split here after all: a prefix
        // ends at either separator.
        s => segments.push(s.replace('\\', "/")),
    }
}

/// A segment without trailing dots and spaces, nor leading spaces. One of
/// only dots and spaces is read as `..` if it has two dots (`.. `, `...`):
/// some upstream may climb there, and an extra reading can only make the
/// policy stricter.
fn trimmed(segment: &str) -> &str {
    let kept = segment
        .trim_start_matches(char::is_whitespace)
        .trim_end_matches(|c: char| c == '.' || c.is_whitespace());
    match segment.matches('.').count() {
        _ if !kept.is_empty() => kept,
        0 => "",
        1 => ".",
        _ => "..",
    }
}

/// `s` in lower case, without allocating for the usual lower-case path.
fn lower_case(s: &str) -> Cow<'_, str> {
    if s.bytes().any(|b| b.is_ascii_uppercase() || !b.is_ascii()) {
        Cow::Owned(s.to_lowercase())
    } else {
        Cow::Borrowed(s)
    }
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
    by_host: Vec<(String, Tables)>,
    any_host: Tables,
}

/// One host's rules as written, and lower-cased for case-blind upstreams.
#[derive(Debug, Default)]
struct Tables {
    exact: Table,
    folded: Table,
    /// Some rule has upper case: the folded table then differs even for a
    /// lower-case path.
    mixed_case_rules: bool,
}

impl Tables {
    fn add(&mut self, index: usize, app: &AppSettings) {
        self.exact.add(index, app);
        self.folded.add(index, app);
    }

    fn finish(&mut self) {
        for entry in &mut self.folded.0 {
            let folded = entry.prefix.to_lowercase();
            self.mixed_case_rules |= folded != entry.prefix;
            entry.prefix = folded;
        }
        self.exact.finish();
        self.folded.finish();
    }

    /// The app from the normalised path, with the strictest policy any
    /// reading of the path meets.
    fn find(&self, raw: &str, path: &str) -> Option<RouteMatch> {
        let mut found = self.exact.find(path)?;
        let mut stricter = |m: Option<RouteMatch>| {
            if let Some(m) = m {
                found.policy = found.policy.max(m.policy);
            }
        };
        let others = other_readings(raw, path);
        for other in &others {
            stricter(self.exact.find(other));
        }
        for reading in std::iter::once(path).chain(others.iter().map(String::as_str)) {
            let folded = lower_case(reading);
            // Otherwise the exact lookup above has already said it.
            if self.mixed_case_rules || matches!(folded, Cow::Owned(_)) {
                stricter(self.folded.find(&folded));
            }
        }
        Some(found)
    }
}

impl Router {
    pub fn new(apps: &[AppSettings]) -> Self {
        let mut router = Router::default();
        for (index, app) in apps.iter().enumerate() {
            match &app.host {
                None => router.any_host.add(index, app),
                Some(host) => match router.by_host.iter_mut().find(|(h, _)| h == host) {
                    Some((_, tables)) => tables.add(index, app),
                    None => {
                        let mut tables = Tables::default();
                        tables.add(index, app);
                        router.by_host.push((host.clone(), tables));
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

    /// Matches a normalised path as written. `host` is the Host header as
    /// sent (any case, any port).
    pub fn route(&self, host: Option<&str>, path: &str) -> Option<RouteMatch> {
        self.tables(host).exact.find(path)
    }

    /// Matches a request on every reading of its path an upstream may take
    /// (see the module notes). `raw_path` is the path as sent and `path` its
    /// normalised form: the app comes from `path`, the policy is the
    /// strictest any reading meets.
    pub fn route_request(
        &self,
        host: Option<&str>,
        raw_path: &str,
        path: &str,
    ) -> Option<RouteMatch> {
        self.tables(host).find(raw_path, path)
    }

    fn tables(&self, host: Option<&str>) -> &Tables {
        host.map(host_name)
            .and_then(|h| {
                self.by_host
                    .iter()
                    .find(|(name, _)| name.eq_ignore_ascii_case(h))
            })
            .map(|(_, t)| t)
            .unwrap_or(&self.any_host)
    }
}

/// The host name without port or trailing dot.
pub(crate) fn host_name(host: &str) -> &str {
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

    /// The policy the proxy applies to a request for `raw`.
    fn policy_for(router: &Router, raw: &str) -> Policy {
        let path = normalise(raw).unwrap();
        router.route_request(None, raw, &path).unwrap().policy
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
            app(
                "console",
                None,
                Policy::OneFactor,
                &[("/admin", Policy::Deny)],
            ),
        ];
        let r = Router::new(&apps);
        for raw in ["/public/..;/admin/x", "/public/..%20/admin"] {
            let path = normalise(raw).unwrap();
            let m = r.route_request(None, raw, &path).unwrap();
            assert_eq!((m.app, m.policy), (0, Policy::Deny), "{raw}");
        }
    }

    #[test]
    fn the_normalised_path_alone_picks_the_app() {
        let apps = [
            app("a", None, Policy::Bypass, &[]),
            app("b", None, Policy::TwoFactor, &[("/b", Policy::TwoFactor)]),
        ];
        let r = Router::new(&apps);
        let m = r.route_request(None, "/B/x", "/B/x").unwrap();
        assert_eq!((m.app, m.policy), (0, Policy::TwoFactor));
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
