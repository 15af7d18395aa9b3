//! `apps[]` (with their rules and upstreams) and `service_tokens[]`.

use std::collections::BTreeMap;
use std::time::Duration;

use super::address::{parse_app_host, parse_upstream};
use super::duration::parse_duration;
use super::error::{quote, Problem, Problems};
use super::hex32::parse_hex32;
use super::raw::{RawApp, RawHealthCheck, RawServiceToken, RawUpstream};
use super::rules::{check_app_path, check_rules, parse_policy};
use super::settings::{AppSettings, HealthCheck, Policy, ServiceToken, Upstream};

const DEFAULT_HEALTH_CHECK_INTERVAL: Duration = Duration::from_secs(5);

/// App and token names: they appear in metrics labels and `Remote-User`.
pub(crate) fn check_name(name: &str) -> Result<(), String> {
    let valid = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if valid {
        Ok(())
    } else {
        Err(format!(
            "invalid name {}: use lower-case letters, digits, '_' and '-'",
            quote(name)
        ))
    }
}

/// Checks `service_tokens[]`; returns the valid tokens.
pub(crate) fn check_service_tokens(
    raw: Vec<RawServiceToken>,
    problems: &mut Problems,
) -> Vec<ServiceToken> {
    let mut tokens = Vec::new();
    let mut names: BTreeMap<String, usize> = BTreeMap::new();
    let mut hashes: BTreeMap<[u8; 32], usize> = BTreeMap::new();
    for (i, token) in raw.into_iter().enumerate() {
        let key = format!("service_tokens[{i}]");
        let name = match token.name {
            None => {
                problems.push(format!("{key}.name"), "required");
                None
            }
            Some(name) => {
                if let Err(reason) = check_name(&name) {
                    problems.push(format!("{key}.name"), reason);
                } else if let Some(first) = names.get(&name) {
                    problems.push(
                        format!("{key}.name"),
                        format!(
                            "duplicate service token name {} (also service_tokens[{first}].name)",
                            quote(&name)
                        ),
                    );
                } else {
                    names.insert(name.clone(), i);
                }
                Some(name)
            }
        };
        let sha256 = match token.token_sha256 {
            None => {
                problems.push(
                    format!("{key}.token_sha256"),
                    "required (the hex SHA-256 of the token)",
                );
                None
            }
            Some(hex) => match parse_hex32(&hex) {
                Err(reason) => {
                    problems.push(format!("{key}.token_sha256"), reason);
                    None
                }
                Ok(sha256) => {
                    if let Some(first) = hashes.get(&sha256) {
                        problems.push(
                            format!("{key}.token_sha256"),
                            format!("same hash as service_tokens[{first}]; every token must be different"),
                        );
                    } else {
                        hashes.insert(sha256, i);
                    }
                    Some(sha256)
                }
            },
        };
        if let (Some(name), Some(sha256)) = (name, sha256) {
            tokens.push(ServiceToken { name, sha256 });
        }
    }
    tokens
}

/// Checks `apps[]`. `token_names` are the names defined in `service_tokens`.
pub(crate) fn check_apps(
    raw: Vec<RawApp>,
    token_names: &[String],
    problems: &mut Problems,
) -> Vec<AppSettings> {
    if raw.is_empty() {
        problems.push("apps", "at least one app is required");
    }
    let mut apps = Vec::new();
    let mut names: BTreeMap<String, usize> = BTreeMap::new();
    let mut places = Places::default();
    for (i, app) in raw.into_iter().enumerate() {
        let key = format!("apps[{i}]");
        let name = match &app.name {
            None => {
                problems.push(format!("{key}.name"), "required");
                String::new()
            }
            Some(name) => {
                if let Err(reason) = check_name(name) {
                    problems.push(format!("{key}.name"), reason);
                } else if let Some(first) = names.get(name) {
                    problems.push(
                        format!("{key}.name"),
                        format!(
                            "duplicate app name {} (also apps[{first}].name)",
                            quote(name)
                        ),
                    );
                } else {
                    names.insert(name.clone(), i);
                }
                name.clone()
            }
        };
        let host = app
            .host
            .as_deref()
            .and_then(|h| problems.check(parse_app_host(&format!("{key}.host"), h)));
        let path = check_app_path(&key, app.path.as_deref(), problems);
        if app.host.is_none() || host.is_some() {
            let place = Place {
                host: host.clone(),
                path: path.clone(),
            };
            if let Some(problem) = places.claim(&key, place, app.path.is_some(), i, &name) {
                problems.extend([problem]);
            }
        }
        let upstreams = check_upstreams(&key, app.upstream, problems);
        let policy = app
            .policy
            .as_deref()
            .map_or(Some(Policy::OneFactor), |p| {
                problems.check(parse_policy(&format!("{key}.policy"), p))
            })
            .unwrap_or(Policy::OneFactor);
        if let Some(list) = &app.service_tokens {
            check_token_refs(&key, list, token_names, problems);
        }
        let health_check_interval = problems
            .check(parse_duration(
                &format!("{key}.health_check_interval"),
                app.health_check_interval.as_deref(),
                DEFAULT_HEALTH_CHECK_INTERVAL,
            ))
            .unwrap_or(DEFAULT_HEALTH_CHECK_INTERVAL);
        let health_check = match app.health_check {
            None => HealthCheck::Tcp,
            Some(raw) => check_health(&key, raw, &upstreams, problems),
        };
        let rules = check_rules(&key, &path, app.rules.unwrap_or_default(), problems);
        apps.push(AppSettings {
            name,
            host,
            path,
            upstreams,
            policy,
            rules,
            service_tokens: app.service_tokens,
            health_check_interval,
            health_check,
        });
    }
    apps
}

/// Where an app sits: its host (`None`: any host) and path prefix.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Place {
    host: Option<String>,
    path: String,
}

/// The places claimed so far, with the index and name of the app there.
#[derive(Default)]
struct Places(BTreeMap<Place, (usize, String)>);

impl Places {
    /// Claims `place` for app `index`, or names the app already there. The
    /// problem is reported at `path` when the app wrote one, else at `host`
    /// (two apps with no path each want the whole host).
    fn claim(
        &mut self,
        key: &str,
        place: Place,
        wrote_path: bool,
        index: usize,
        name: &str,
    ) -> Option<Problem> {
        let Some((first, first_name)) = self.0.get(&place) else {
            self.0.insert(place, (index, name.to_owned()));
            return None;
        };
        let (first_name, host) = (quote(first_name), place.host.as_deref());
        Some(match (wrote_path, host) {
            (true, _) => Problem::new(
                format!("{key}.path"),
                format!(
                    "{} on {} is already app {first_name} (apps[{first}])",
                    quote(&place.path),
                    host.map_or("any host".to_owned(), |h| format!("host {}", quote(h)))
                ),
            ),
            (false, Some(h)) => Problem::new(
                format!("{key}.host"),
                format!(
                    "{} is already served by apps[{first}] ({first_name}); give each app \
                     its own path",
                    quote(h)
                ),
            ),
            (false, None) => Problem::new(
                format!("{key}.host"),
                format!(
                    "missing, but apps[{first}] ({first_name}) already matches every host; \
                     only one app may omit host, unless each has its own path"
                ),
            ),
        })
    }
}

/// Every name in `apps[].service_tokens` must be defined in `service_tokens`.
fn check_token_refs(key: &str, list: &[String], token_names: &[String], problems: &mut Problems) {
    for (j, token) in list.iter().enumerate() {
        if !token_names.contains(token) {
            let defined = if token_names.is_empty() {
                "no service_tokens are defined".to_string()
            } else {
                format!("defined: {}", token_names.join(", "))
            };
            problems.push(
                format!("{key}.service_tokens[{j}]"),
                format!("unknown service token {} ({defined})", quote(token)),
            );
        }
    }
}

fn check_upstreams(key: &str, raw: Option<RawUpstream>, problems: &mut Problems) -> Vec<Upstream> {
    let key = format!("{key}.upstream");
    match raw {
        // No upstream: a forward-only app, which a proxy in front asks
        // about through /.gatehouse/auth/*; inline requests get a 502.
        None => Vec::new(),
        Some(RawUpstream::One(text)) => problems
            .check(parse_upstream(&key, &text))
            .into_iter()
            .collect(),
        Some(RawUpstream::Many(list)) => {
            if list.is_empty() {
                problems.push(&key, "the list is empty; give at least one upstream");
            }
            list.iter()
                .enumerate()
                .filter_map(|(j, text)| {
                    problems.check(parse_upstream(&format!("{key}[{j}]"), text))
                })
                .collect()
        }
    }
}

/// `apps[i].health_check`: an HTTP check of each upstream. One check
/// serves the whole pool, so its upstreams must agree on http or https.
fn check_health(
    key: &str,
    raw: RawHealthCheck,
    upstreams: &[Upstream],
    problems: &mut Problems,
) -> HealthCheck {
    let key = format!("{key}.health_check");
    let path = match raw.path {
        None => {
            problems.push(format!("{key}.path"), "required (e.g. /healthz)");
            String::new()
        }
        Some(path) => {
            let bad = !path.starts_with('/')
                || path.chars().any(|c| c.is_whitespace() || c.is_control())
                || path.contains('#');
            if bad {
                problems.push(
                    format!("{key}.path"),
                    format!(
                        "invalid path {}: start with \"/\", no spaces or '#'",
                        quote(&path)
                    ),
                );
            }
            path
        }
    };
    let expect_status = raw.expect_status.unwrap_or(200);
    if !(100..=599).contains(&expect_status) {
        problems.push(
            format!("{key}.expect_status"),
            format!("{expect_status} is not an HTTP status (100 to 599)"),
        );
    }
    if upstreams.windows(2).any(|w| w[0].tls != w[1].tls) {
        problems.push(
            key,
            "the upstreams mix http and https; an HTTP health check needs them alike",
        );
    }
    HealthCheck::Http {
        path,
        expect_status,
    }
}
