//! The users file: `users.<username>.{password, email, phone, display_name,
//! groups, disabled, org}`.

use std::collections::{BTreeMap, BTreeSet};

use argon2::password_hash::PasswordHash;
use argon2::{Params, ARGON2ID_IDENT};

use super::error::{describe_yaml_error, quote, Problem, Problems};
use super::raw::{RawUser, RawUsersFile};
use super::settings::User;
use crate::orgs::{OrgId, Organisations};

/// OWASP's minimum for argon2id: 19 MiB of memory, two passes.
const MIN_M_COST: u32 = 19_456;
const MIN_T_COST: u32 = 2;
const HINT: &str = "generate one with \"gatehouse hash-password\"";

/// Parses and checks a users file. `file` names it in structural error
/// messages (the line numbers refer to it, not to the main config); each
/// `org` must name one of `orgs`.
pub(crate) fn parse_users(
    yaml: &str,
    file: Option<&str>,
    orgs: &Organisations,
) -> Result<BTreeMap<String, User>, Vec<Problem>> {
    let deserializer = serde_yaml_ng::Deserializer::from_str(yaml);
    let raw: RawUsersFile = match serde_path_to_error::deserialize(deserializer) {
        Ok(raw) => raw,
        Err(err) => {
            let prefix = file
                .map(|f| format!("in {}, ", quote(f)))
                .unwrap_or_default();
            let (key, message) = describe_yaml_error(&err, "users.file", &prefix);
            // The only other top-level paths are unknown keys, which would
            // read like main-config keys; blame the file instead.
            let key = if key == "users" || key.starts_with("users.") {
                key
            } else {
                "users.file".to_string()
            };
            return Err(vec![Problem::new(key, message)]);
        }
    };

    let mut problems = Problems::default();
    let mut users = BTreeMap::new();
    let mut seen = BTreeSet::new();
    for (name, raw_user) in raw.users.map(|m| m.0).unwrap_or_default() {
        let key = user_key(&name);
        if !seen.insert(name.clone()) {
            problems.push(&key, "defined more than once");
            continue;
        }
        if let Err(reason) = check_username(&name) {
            problems.push(&key, format!("invalid username {}: {reason}", quote(&name)));
        }
        if let Some(user) = check_user(&key, &name, raw_user, orgs, &mut problems) {
            users.insert(name, user);
        }
    }
    if problems.is_empty() {
        Ok(users)
    } else {
        Err(problems.into_vec())
    }
}

/// `users.alice`, or `users."odd name"` when the name needs quoting.
fn user_key(name: &str) -> String {
    let plain = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.@+".contains(c));
    if plain {
        format!("users.{name}")
    } else {
        format!("users.{}", quote(name))
    }
}

fn check_username(name: &str) -> Result<(), &'static str> {
    if name.is_empty() {
        Err("must not be empty")
    } else if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        Err("must not contain whitespace")
    } else if name.contains([':', ',']) {
        Err("must not contain ':' or ','")
    } else {
        Ok(())
    }
}

fn check_user(
    key: &str,
    name: &str,
    raw: RawUser,
    orgs: &Organisations,
    problems: &mut Problems,
) -> Option<User> {
    let before = problems.len();
    let password_hash = match raw.password.as_deref().map(str::trim) {
        None | Some("") => {
            problems.push(format!("{key}.password"), format!("required ({HINT})"));
            String::new()
        }
        Some(phc) => {
            if let Err(reason) = check_password_hash(phc) {
                problems.push(format!("{key}.password"), reason);
            }
            phc.to_string()
        }
    };
    if let Some(email) = &raw.email {
        let valid = email.contains('@')
            && !email.starts_with('@')
            && !email.ends_with('@')
            && !email.chars().any(|c| c.is_whitespace() || c.is_control());
        if !valid {
            problems.push(
                format!("{key}.email"),
                format!(
                    "invalid email {}: expected an address like alice@example.com",
                    quote(email)
                ),
            );
        }
    }
    if let Some(phone) = &raw.phone {
        let digits = phone.strip_prefix('+').unwrap_or("");
        let valid = (6..=15).contains(&digits.len()) && digits.chars().all(|c| c.is_ascii_digit());
        if !valid {
            problems.push(
                format!("{key}.phone"),
                format!(
                    "invalid phone {}: expected E.164 form like \"+15555550100\"",
                    quote(phone)
                ),
            );
        }
    }
    if let Some(display_name) = &raw.display_name {
        // It ends up in the Remote-Name header.
        if display_name.trim().is_empty() || display_name.chars().any(char::is_control) {
            problems.push(
                format!("{key}.display_name"),
                format!(
                    "invalid display name {}: must be non-empty without control characters",
                    quote(display_name)
                ),
            );
        }
    }
    let groups = raw.groups.unwrap_or_default();
    for (i, group) in groups.iter().enumerate() {
        if let Err(reason) = check_group_name(group) {
            problems.push(format!("{key}.groups[{i}]"), reason);
        }
    }
    let org = check_org(&format!("{key}.org"), raw.org.as_deref(), orgs, problems);
    if problems.len() != before {
        return None;
    }
    Some(User {
        username: name.to_string(),
        password_hash,
        email: raw.email,
        phone: raw.phone,
        display_name: raw.display_name,
        groups,
        disabled: raw.disabled.unwrap_or(false),
        org,
    })
}

/// `users.<name>.org`: a configured organisation, or the root when absent.
fn check_org(key: &str, org: Option<&str>, orgs: &Organisations, problems: &mut Problems) -> OrgId {
    let Some(name) = org else {
        return OrgId::ROOT;
    };
    if let Some(id) = orgs.find(name) {
        return id;
    }
    let hint = if orgs.is_flat() {
        "the config has no organisations[]".to_string()
    } else {
        "not in the config's organisations[]".to_string()
    };
    problems.push(
        key,
        format!("unknown organisation {} ({hint})", quote(name)),
    );
    OrgId::ROOT
}

/// Group names travel comma-separated in `Remote-Groups`.
pub(crate) fn check_group_name(group: &str) -> Result<(), String> {
    if group.is_empty()
        || group.contains(',')
        || group.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        Err(format!(
            "invalid group name {}: must be non-empty, without whitespace or ','",
            quote(group)
        ))
    } else {
        Ok(())
    }
}

/// Accepts only argon2id PHC strings with at least OWASP's parameters.
pub(crate) fn check_password_hash(phc: &str) -> Result<(), String> {
    let not_argon2id = |detail: String| format!("not an argon2id PHC string{detail} ({HINT})");
    let hash = PasswordHash::new(phc).map_err(|_| not_argon2id(String::new()))?;
    if hash.algorithm != ARGON2ID_IDENT {
        return Err(not_argon2id(format!(
            ": algorithm is {}",
            quote(hash.algorithm.as_str())
        )));
    }
    if hash.salt.is_none() || hash.hash.is_none() {
        return Err(not_argon2id(": salt or hash missing".to_string()));
    }
    if let Some(version) = hash.version.filter(|v| *v != 0x13) {
        return Err(format!(
            "unsupported argon2 version v={version}, expected v=19 ({HINT})"
        ));
    }
    let params = Params::try_from(&hash)
        .map_err(|err| format!("invalid argon2id parameters: {err} ({HINT})"))?;
    if params.m_cost() < MIN_M_COST || params.t_cost() < MIN_T_COST {
        return Err(format!(
            "argon2id parameters too weak: m={}, t={} (need m>={MIN_M_COST} and t>={MIN_T_COST}; {HINT})",
            params.m_cost(),
            params.t_cost()
        ));
    }
    Ok(())
}

#[cfg(test)]
#[path = "users_tests.rs"]
mod tests;
