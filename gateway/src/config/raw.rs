//! The configuration exactly as written in YAML.
//!
//! serde only checks structure here (unknown keys, wrong types). Every value
//! that needs a semantic check is kept as a `String` and every key is
//! optional, so validation can report all semantic problems in one go.

use std::fmt;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a mapping of configuration keys")]
pub(crate) struct RawConfig {
    pub listen: Option<String>,
    pub metrics_listen: Option<String>,
    pub tls: Option<RawTls>,
    pub server: Option<RawServer>,
    pub store: Option<RawStore>,
    pub sessions: Option<RawSessions>,
    pub users: Option<RawUsers>,
    pub mfa: Option<RawMfa>,
    pub secrets: Option<RawSecrets>,
    pub limits: Option<RawLimits>,
    pub apps: Option<Vec<RawApp>>,
    pub service_tokens: Option<Vec<RawServiceToken>>,
    pub notify: Option<RawNotify>,
    pub sso: Option<RawSso>,
    pub organisations: Option<Vec<RawOrganisation>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "an organisation (a mapping with name and parent)"
)]
pub(crate) struct RawOrganisation {
    pub name: Option<String>,
    pub parent: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a mapping with portal_url")]
pub(crate) struct RawSso {
    pub portal_url: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a mapping of server settings")]
pub(crate) struct RawServer {
    pub threads: Option<usize>,
    pub grace_period: Option<String>,
    pub shutdown_timeout: Option<String>,
    pub trusted_proxies: Option<Vec<String>>,
    pub header_timeout: Option<String>,
    pub keepalive_timeout: Option<String>,
    pub max_request_line: Option<usize>,
    pub max_header_bytes: Option<usize>,
    pub max_headers: Option<usize>,
    pub max_form_bytes: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a mapping with cert and key")]
pub(crate) struct RawTls {
    pub cert: Option<String>,
    pub key: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a mapping of store settings")]
pub(crate) struct RawStore {
    pub url: Option<String>,
    pub audit_retention_days: Option<u32>,
    pub timeout: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a mapping of session settings")]
pub(crate) struct RawSessions {
    pub backend: Option<String>,
    pub redis_url: Option<String>,
    pub cookie_name: Option<String>,
    pub cookie_secure: Option<bool>,
    pub cookie_domain: Option<String>,
    pub lifetime: Option<String>,
    pub idle_timeout: Option<String>,
    pub cache_ttl: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a mapping of users settings")]
pub(crate) struct RawUsers {
    pub file: Option<String>,
    pub admin_group: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a mapping of MFA settings")]
pub(crate) struct RawMfa {
    pub enforce: Option<bool>,
    pub issuer: Option<String>,
    pub enroll_two_codes: Option<bool>,
    pub remember_device_days: Option<u32>,
    pub fresh_for: Option<String>,
    pub require_groups: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a mapping with email, sms, code_lifetime, ..."
)]
pub(crate) struct RawNotify {
    pub email: Option<RawEmail>,
    pub sms: Option<RawSms>,
    pub code_lifetime: Option<String>,
    pub resend_after: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a mapping with smtp_url and from")]
pub(crate) struct RawEmail {
    pub smtp_url: Option<String>,
    pub from: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a mapping with api_url, account_sid, auth_token and from"
)]
pub(crate) struct RawSms {
    pub api_url: Option<String>,
    pub account_sid: Option<String>,
    pub auth_token: Option<String>,
    pub from: Option<String>,
    pub countries: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a mapping of secrets")]
pub(crate) struct RawSecrets {
    pub key: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a mapping of limits")]
pub(crate) struct RawLimits {
    pub max_failures_per_user: Option<u32>,
    pub max_failures_per_ip: Option<u32>,
    pub window: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "an app (a mapping with name, upstream, ...)"
)]
pub(crate) struct RawApp {
    pub name: Option<String>,
    pub host: Option<String>,
    pub path: Option<String>,
    pub upstream: Option<RawUpstream>,
    pub policy: Option<String>,
    pub service_tokens: Option<Vec<String>>,
    pub health_check_interval: Option<String>,
    pub health_check: Option<RawHealthCheck>,
    pub rules: Option<Vec<RawRule>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a health check (a mapping with path and expect_status)"
)]
pub(crate) struct RawHealthCheck {
    pub path: Option<String>,
    pub expect_status: Option<u16>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a rule (a mapping with path, policy, methods, networks, groups)"
)]
pub(crate) struct RawRule {
    pub path: Option<String>,
    pub policy: Option<String>,
    pub methods: Option<Vec<String>>,
    pub networks: Option<Vec<String>>,
    pub groups: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a service token (a mapping with name and token_sha256)"
)]
pub(crate) struct RawServiceToken {
    pub name: Option<String>,
    pub token_sha256: Option<String>,
}

/// `upstream:` is either one address or a list of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RawUpstream {
    One(String),
    Many(Vec<String>),
}

// Written by hand rather than `#[serde(untagged)]`: untagged enums buffer the
// value, which loses the YAML position and YAML's scalar-to-string leniency.
impl<'de> Deserialize<'de> for RawUpstream {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct UpstreamVisitor;

        impl<'de> Visitor<'de> for UpstreamVisitor {
            type Value = RawUpstream;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or a list of strings")
            }

            fn visit_str<E: de::Error>(self, value: &str) -> Result<RawUpstream, E> {
                Ok(RawUpstream::One(value.to_string()))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawUpstream, A::Error> {
                let mut all = Vec::new();
                while let Some(item) = seq.next_element::<String>()? {
                    all.push(item);
                }
                Ok(RawUpstream::Many(all))
            }
        }

        deserializer.deserialize_any(UpstreamVisitor)
    }
}

/// The users file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a mapping with a `users` key")]
pub(crate) struct RawUsersFile {
    pub users: Option<RawUserMap>,
}

/// Users in file order, duplicates kept: a plain map would silently let the
/// second `alice:` replace the first.
#[derive(Debug, Default)]
pub(crate) struct RawUserMap(pub Vec<(String, RawUser)>);

impl<'de> Deserialize<'de> for RawUserMap {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MapVisitor;

        impl<'de> Visitor<'de> for MapVisitor {
            type Value = RawUserMap;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a mapping from username to user")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawUserMap, A::Error> {
                let mut all = Vec::new();
                while let Some(entry) = map.next_entry::<String, RawUser>()? {
                    all.push(entry);
                }
                Ok(RawUserMap(all))
            }
        }

        deserializer.deserialize_map(MapVisitor)
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a user (a mapping with password, email, groups, org, ...)"
)]
pub(crate) struct RawUser {
    pub password: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub display_name: Option<String>,
    pub groups: Option<Vec<String>>,
    pub disabled: Option<bool>,
    pub org: Option<String>,
}
