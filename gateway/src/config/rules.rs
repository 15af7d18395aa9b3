//! `apps[].path` and `apps[].rules[]`: path prefixes and the rules under them.

use std::collections::BTreeMap;

use super::error::{quote, Problem, Problems};
use super::raw::RawRule;
use super::settings::{Conditions, Policy, Rule};
use super::users::check_group_name;
use crate::client_ip::parse_proxy;

/// Normalises a rule's path prefix the way request paths are normalised:
/// repeated and trailing slashes dropped (the root stays `/`).
pub(crate) fn normalise_rule_path(text: &str) -> Result<String, String> {
    if !text.starts_with('/') {
        return Err(format!("must start with \"/\" (got {})", quote(text)));
    }
    if text.contains(['?', '#']) {
        return Err(format!(
            "must not contain '?' or '#' (got {}); the query never matters",
            quote(text)
        ));
    }
    if text.contains('%') {
        return Err(format!(
            "must not be percent-encoded (got {}); request paths are decoded before matching",
            quote(text)
        ));
    }
    if text.contains('\\') || text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "must not contain '\\', whitespace or control characters (got {})",
            quote(text)
        ));
    }
    let segments: Vec<&str> = text.split('/').filter(|s| !s.is_empty()).collect();
    if segments.iter().any(|s| *s == "." || *s == "..") {
        return Err(format!(
            "must not contain \".\" or \"..\" segments (got {})",
            quote(text)
        ));
    }
    Ok(format!("/{}", segments.join("/")))
}

/// Whether `path` lies under `prefix`, by whole segments (both normalised).
pub(crate) fn lies_under(path: &str, prefix: &str) -> bool {
    prefix == "/"
        || (path.starts_with(prefix)
            && matches!(path.as_bytes().get(prefix.len()), None | Some(b'/')))
}

/// Checks `apps[i].path`; `/` (the whole host) when absent.
pub(crate) fn check_app_path(key: &str, raw: Option<&str>, problems: &mut Problems) -> String {
    match raw.map(normalise_rule_path) {
        None => "/".to_owned(),
        Some(Ok(path)) => path,
        Some(Err(reason)) => {
            problems.push(format!("{key}.path"), reason);
            "/".to_owned()
        }
    }
}

/// Checks an app's rules. Rule paths are absolute, so each must lie under
/// `app_path`: a rule outside it could never match a request the app gets.
pub(crate) fn check_rules(
    key: &str,
    app_path: &str,
    raw: Vec<RawRule>,
    problems: &mut Problems,
) -> Vec<Rule> {
    let mut rules = Vec::new();
    let mut paths: BTreeMap<String, usize> = BTreeMap::new();
    for (j, rule) in raw.into_iter().enumerate() {
        let key = format!("{key}.rules[{j}]");
        let path = rule
            .path
            .as_deref()
            .and_then(|text| check_rule_path(&key, text, app_path, problems));
        if rule.path.is_none() {
            problems.push(format!("{key}.path"), "required");
        }
        let conditions = check_conditions(&key, &rule, problems);
        if let Some(path) = &path {
            // A rule after one with the same path and no conditions could
            // never apply.
            if let Some(first) = paths.get(path) {
                let prefix = key.rsplit_once('[').map_or("", |(p, _)| p);
                problems.push(
                    format!("{key}.path"),
                    format!(
                        "duplicate rule path {} (also {prefix}[{first}].path{})",
                        quote(path),
                        if conditions.is_empty() {
                            ""
                        } else {
                            ", which has no conditions, so this rule never applies"
                        }
                    ),
                );
            } else if conditions.is_empty() {
                paths.insert(path.clone(), j);
            }
        }
        let policy = match rule.policy {
            None => {
                problems.push(
                    format!("{key}.policy"),
                    "required (bypass, one_factor, two_factor or deny)",
                );
                None
            }
            Some(text) => problems.check(parse_policy(&format!("{key}.policy"), &text)),
        };
        if let (Some(path), Some(policy)) = (path, policy) {
            rules.push(Rule {
                path,
                policy,
                conditions,
            });
        }
    }
    rules
}

/// A rule's path, normalised, if it is well formed and under the app's.
fn check_rule_path(
    key: &str,
    text: &str,
    app_path: &str,
    problems: &mut Problems,
) -> Option<String> {
    let path = match normalise_rule_path(text) {
        Ok(path) => path,
        Err(reason) => {
            problems.push(format!("{key}.path"), reason);
            return None;
        }
    };
    if !lies_under(&path, app_path) {
        problems.push(
            format!("{key}.path"),
            format!(
                "{} lies outside the app's path {}: rule paths are absolute, so write the \
                 full path, under the app's",
                quote(&path),
                quote(app_path)
            ),
        );
        return None;
    }
    Some(path)
}

/// HTTP's methods and WebDAV's: a name outside them is most likely a typo,
/// which would quietly make the rule never apply.
const METHODS: &[&str] = &[
    "GET",
    "HEAD",
    "POST",
    "PUT",
    "DELETE",
    "CONNECT",
    "OPTIONS",
    "TRACE",
    "PATCH",
    "PROPFIND",
    "PROPPATCH",
    "MKCOL",
    "COPY",
    "MOVE",
    "LOCK",
    "UNLOCK",
    "REPORT",
    "SEARCH",
];

/// A rule's `methods`, `networks` and `groups`. An empty list is refused:
/// it reads as "no condition" to some and "never" to others.
fn check_conditions(key: &str, rule: &RawRule, problems: &mut Problems) -> Conditions {
    let mut list = |name: &str, raw: &Option<Vec<String>>| -> Vec<(String, String)> {
        let Some(entries) = raw else {
            return Vec::new();
        };
        if entries.is_empty() {
            problems.push(
                format!("{key}.{name}"),
                "the list is empty; leave the key out for no condition",
            );
        }
        let at = |i: usize| format!("{key}.{name}[{i}]");
        entries
            .iter()
            .enumerate()
            .map(|(i, e)| (at(i), e.clone()))
            .collect()
    };
    let (methods, networks, groups) = (
        list("methods", &rule.methods),
        list("networks", &rule.networks),
        list("groups", &rule.groups),
    );
    let mut conditions = Conditions::default();
    for (at, text) in methods {
        let upper = text.trim().to_ascii_uppercase();
        if METHODS.contains(&upper.as_str()) {
            conditions.methods.push(upper);
        } else {
            problems.push(
                at,
                format!(
                    "unknown method {} (expected e.g. GET, POST, PUT, DELETE)",
                    quote(&text)
                ),
            );
        }
    }
    for (at, text) in networks {
        match parse_proxy(text.trim()) {
            Some(net) => conditions.networks.push(net),
            None => problems.push(
                at,
                format!(
                    "{} is not an IP address or CIDR range (like 10.0.0.0/8 or fd00::/8)",
                    quote(&text)
                ),
            ),
        }
    }
    for (at, text) in groups {
        match check_group_name(&text) {
            Ok(()) => conditions.groups.push(text),
            Err(reason) => problems.push(at, reason),
        }
    }
    conditions
}

/// A policy as the config writes it.
pub(crate) fn parse_policy(key: &str, text: &str) -> Result<Policy, Problem> {
    Policy::from_name(text).ok_or_else(|| {
        Problem::new(
            key,
            format!(
                "unknown policy {} (expected bypass, one_factor, two_factor or deny)",
                quote(text)
            ),
        )
    })
}
