//! Choosing the app and the rule for a request: the host, then the app
//! with the longest path prefix among that host's apps (apps without a host
//! take what no app of the host does), then the longest rule prefix among
//! the app's rules. Rule paths are absolute, under the app's path.
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
//! policy found, each reading routed to the app and rule a request for it
//! would get. The normalised reading alone picks the app.

use std::borrow::Cow;
use std::sync::Arc;

use percent_encoding::percent_decode_str;

use crate::config::{AppSettings, Policy};

mod verdict;

use verdict::{Chain, Strictest};
pub use verdict::{Facts, Ruling, Settled};

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

/// The outcome of matching: which app, and which policy applies (or the
/// rules whose conditions decide it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteMatch<'r> {
    pub app: usize,
    pub policy: Ruling<'r>,
}

#[derive(Debug, PartialEq, Eq)]
struct Entry {
    prefix: String,
    policy: Policy,
    /// `None` when the rule has no conditions (the app's own policy never
    /// has): it then ends the search.
    when: Option<Arc<crate::config::Conditions>>,
}

/// One app on a host: its path prefix and its rules, longest prefix first,
/// ending with the app's own policy at the app's path.
#[derive(Debug)]
struct Site {
    app: usize,
    path: String,
    rules: Vec<Entry>,
}

impl Site {
    fn new(index: usize, app: &AppSettings) -> Self {
        let mut rules: Vec<Entry> = app
            .rules
            .iter()
            .map(|rule| Entry {
                prefix: rule.path.clone(),
                policy: rule.policy,
                when: (!rule.conditions.is_empty()).then(|| Arc::new(rule.conditions.clone())),
            })
            .collect();
        // The app's own policy covers what no rule does. Rules lie under
        // the app's path (the config sees to it), so this one comes last.
        rules.push(Entry {
            prefix: app.path.clone(),
            policy: app.policy,
            when: None,
        });
        // Stable: among equal prefixes, the rule listed first wins.
        rules.sort_by_key(|e| std::cmp::Reverse(e.prefix.len()));
        Site {
            app: index,
            path: app.path.clone(),
            rules,
        }
    }

    /// The same site with every prefix lower-cased, for case-blind
    /// upstreams; `None` if that changes nothing.
    fn folded(&self) -> Option<Site> {
        let fold = |s: &str| s.to_lowercase();
        let changes =
            self.path != fold(&self.path) || self.rules.iter().any(|e| e.prefix != fold(&e.prefix));
        changes.then(|| Site {
            app: self.app,
            path: fold(&self.path),
            rules: self
                .rules
                .iter()
                .map(|e| Entry {
                    prefix: fold(&e.prefix),
                    policy: e.policy,
                    when: e.when.clone(),
                })
                .collect(),
        })
    }

    /// The rules that may decide `path`: those with conditions, in order,
    /// up to the first without, whose policy applies when none of theirs
    /// hold. No allocation when that first rule is the longest match.
    fn chain(&self, path: &str) -> Chain<'_> {
        let mut candidates = Vec::new();
        for entry in self.rules.iter().filter(|e| under(path, &e.prefix)) {
            if entry.when.is_none() {
                return Chain::new(candidates, entry.policy);
            }
            candidates.push(entry);
        }
        // Unreachable: the site's path matched, and so does its own entry,
        // which has no conditions; the strictest policy is the safe answer.
        Chain::new(candidates, Policy::Deny)
    }
}

/// A set of apps (one host's, or those for any host), longest path first.
#[derive(Debug, Default)]
struct Sites(Vec<Site>);

impl Sites {
    fn find(&self, path: &str) -> Option<(usize, Chain<'_>)> {
        let site = self.0.iter().find(|s| under(path, &s.path))?;
        Some((site.app, site.chain(path)))
    }

    fn finish(&mut self) {
        // Stable: the config refuses two apps at one place anyway.
        self.0.sort_by_key(|s| std::cmp::Reverse(s.path.len()));
    }
}

/// One host's apps as written, and lower-cased for case-blind upstreams.
#[derive(Debug, Default)]
struct Tables {
    exact: Sites,
    folded: Sites,
    /// Some app path or rule has upper case: the folded table then differs
    /// even for a lower-case path.
    mixed_case: bool,
}

impl Tables {
    fn add(&mut self, index: usize, app: &AppSettings) {
        let site = Site::new(index, app);
        match site.folded() {
            Some(folded) => {
                self.mixed_case = true;
                self.folded.0.push(folded);
            }
            None => self.folded.0.push(Site::new(index, app)),
        }
        self.exact.0.push(site);
    }

    fn finish(&mut self) {
        self.exact.finish();
        self.folded.finish();
    }
}

/// Host first, then the longest app path among that host's apps, then the
/// longest rule prefix among the app's rules. Apps without a host take
/// what no app of the request's host does.
#[derive(Debug, Default)]
pub struct Router {
    by_host: Vec<(String, Tables)>,
    any_host: Tables,
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
    pub fn route(&self, host: Option<&str>, path: &str) -> Option<RouteMatch<'_>> {
        let (app, chain) = self.tiers(host).find(path, false)?;
        let mut strictest = Strictest::default();
        strictest.add(chain);
        Some(RouteMatch {
            app,
            policy: strictest.finish(),
        })
    }

    /// Matches a request on every reading of its path an upstream may take
    /// (see the module notes). `raw_path` is the path as sent and `path` its
    /// normalised form: the app comes from `path`, the policy is the
    /// strictest any reading meets, each reading routed as a request of its
    /// own would be (its app, then that app's rules).
    pub fn route_request(
        &self,
        host: Option<&str>,
        raw_path: &str,
        path: &str,
    ) -> Option<RouteMatch<'_>> {
        let tiers = self.tiers(host);
        let (app, chain) = tiers.find(path, false)?;
        let mut strictest = Strictest::default();
        strictest.add(chain);
        let others = other_readings(raw_path, path);
        for other in &others {
            strictest.extend(tiers.find(other, false));
        }
        let mixed_case = tiers.mixed_case();
        for reading in std::iter::once(path).chain(others.iter().map(String::as_str)) {
            let folded = lower_case(reading);
            // Otherwise the exact lookup above has already said it.
            if mixed_case || matches!(folded, Cow::Owned(_)) {
                strictest.extend(tiers.find(&folded, true));
            }
        }
        Some(RouteMatch {
            app,
            policy: strictest.finish(),
        })
    }

    fn tiers(&self, host: Option<&str>) -> Tiers<'_> {
        let host = host.map(host_name).and_then(|h| {
            self.by_host
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case(h))
        });
        Tiers {
            host: host.map(|(_, t)| t),
            any: &self.any_host,
        }
    }
}

/// The request's host's apps, then the apps for any host.
struct Tiers<'r> {
    host: Option<&'r Tables>,
    any: &'r Tables,
}

impl<'r> Tiers<'r> {
    fn find(&self, path: &str, folded: bool) -> Option<(usize, Chain<'r>)> {
        fn sites(t: &Tables, folded: bool) -> &Sites {
            if folded {
                &t.folded
            } else {
                &t.exact
            }
        }
        self.host
            .and_then(|t| sites(t, folded).find(path))
            .or_else(|| sites(self.any, folded).find(path))
    }

    fn mixed_case(&self) -> bool {
        self.any.mixed_case || self.host.is_some_and(|t| t.mixed_case)
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
#[path = "route_tests.rs"]
mod tests;
