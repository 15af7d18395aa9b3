//! How policies sit in the store's settings: one row per organisation and
//! field, so two admins changing different fields never overwrite each
//! other, and a lock never shares a row with the choice it bounds.
//!
//! - `orgpolicy:<field>:<org>`: the organisation's own choice;
//! - `orglock:<field>:<org>`: a lock, as JSON with who set it.
//!
//! `<org>` is the name in `organisations[]`, empty for the root. Rows for
//! an organisation no longer configured are ignored. Before organisations,
//! the root's requirement was the setting `mfa.enforce` (`true`/`false`);
//! it still stands for the root's choice where no row says otherwise, and
//! is kept in step, so a replica of an older release agrees.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::{Field, Lock, Methods, MfaMode, Partial, Record};
use crate::orgs::{OrgId, Organisations};

pub const OWN: &str = "orgpolicy:";
pub const LOCK: &str = "orglock:";
/// The root's requirement as releases before organisations kept it.
pub const LEGACY_ENFORCE: &str = "mfa.enforce";

fn org_key(orgs: &Organisations, org: OrgId) -> &str {
    orgs.name(org).unwrap_or("")
}

/// The row for `org`'s own choice of `field`.
pub fn own_key(orgs: &Organisations, org: OrgId, field: Field) -> String {
    format!("{OWN}{}:{}", field.as_str(), org_key(orgs, org))
}

/// The row for the lock on `org`'s `field`.
pub fn lock_key(orgs: &Organisations, org: OrgId, field: Field) -> String {
    format!("{LOCK}{}:{}", field.as_str(), org_key(orgs, org))
}

/// `field` of `value` as a row holds it; `None` if `value` doesn't set it.
pub fn encode(field: Field, value: &Partial) -> Option<String> {
    Some(match field {
        Field::Mfa => value.mfa?.as_str().to_owned(),
        Field::Methods => value.methods?.names(),
        Field::RememberDeviceDays => value.remember_device_days?.to_string(),
        Field::RequireGroups => serde_json::to_string(value.require_groups.as_ref()?).ok()?,
    })
}

/// A row's value as `field`; `None` if it can't be read.
fn decode(field: Field, raw: &str) -> Option<Partial> {
    let mut p = Partial::default();
    match field {
        Field::Mfa => p.mfa = Some(MfaMode::parse(raw)?),
        Field::Methods => {
            p.methods = Some(Methods::parse_names(raw).ok().filter(|m| !m.is_empty())?)
        }
        Field::RememberDeviceDays => p.remember_device_days = Some(raw.parse().ok()?),
        Field::RequireGroups => {
            p.require_groups = Some(serde_json::from_str::<BTreeSet<String>>(raw).ok()?)
        }
    }
    Some(p)
}

/// A lock as its row holds it.
#[derive(Serialize, Deserialize)]
struct StoredLock {
    value: String,
    by: String,
    by_org: String,
    at_ms: i64,
}

pub fn encode_lock(orgs: &Organisations, field: Field, lock: &Lock) -> Option<String> {
    serde_json::to_string(&StoredLock {
        value: encode(field, &lock.value)?,
        by: lock.by.clone(),
        by_org: org_key(orgs, lock.by_org).to_owned(),
        at_ms: lock.at_ms,
    })
    .ok()
}

fn decode_lock(orgs: &Organisations, field: Field, raw: &str) -> Option<Lock> {
    let stored: StoredLock = serde_json::from_str(raw).ok()?;
    Some(Lock {
        value: decode(field, &stored.value)?,
        by: stored.by,
        by_org: find(orgs, &stored.by_org)?,
        at_ms: stored.at_ms,
    })
}

fn find(orgs: &Organisations, name: &str) -> Option<OrgId> {
    match name {
        "" => Some(OrgId::ROOT),
        name => orgs.find(name),
    }
}

/// Every organisation's record from the settings rows (`key`, `value`),
/// with `legacy` the value of [`LEGACY_ENFORCE`], if any.
pub fn records(
    orgs: &Organisations,
    rows: &[(String, String)],
    legacy: Option<&str>,
) -> BTreeMap<OrgId, Record> {
    let mut records: BTreeMap<OrgId, Record> = BTreeMap::new();
    if let Some(legacy) = legacy {
        records.entry(OrgId::ROOT).or_default().own.mfa = Some(if legacy == "true" {
            MfaMode::Required
        } else {
            MfaMode::Optional
        });
    }
    for (key, value) in rows {
        let (is_lock, rest) = match (key.strip_prefix(OWN), key.strip_prefix(LOCK)) {
            (Some(rest), _) => (false, rest),
            (_, Some(rest)) => (true, rest),
            _ => continue,
        };
        let Some((field, org)) = rest.split_once(':') else {
            continue;
        };
        let (Some(field), Some(org)) = (Field::parse(field), find(orgs, org)) else {
            continue;
        };
        let record = records.entry(org).or_default();
        let read = if is_lock {
            decode_lock(orgs, field, value).map(|lock| {
                record.locks.insert(field, lock);
            })
        } else {
            decode(field, value).map(|own| record.own = merge(&record.own, &own))
        };
        if read.is_none() {
            // Only a hand-edited store gets here; the row is left out.
            tracing::warn!("ignoring the unreadable policy setting {key}");
        }
    }
    records
}

/// `base` with the fields `with` sets replaced.
fn merge(base: &Partial, with: &Partial) -> Partial {
    Partial {
        mfa: with.mfa.or(base.mfa),
        methods: with.methods.or(base.methods),
        remember_device_days: with.remember_device_days.or(base.remember_device_days),
        require_groups: with
            .require_groups
            .clone()
            .or_else(|| base.require_groups.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Method;

    fn orgs() -> Organisations {
        Organisations::new(&[("acme".into(), None)])
    }

    #[test]
    fn every_field_and_lock_reads_back_as_written() {
        let orgs = orgs();
        let acme = orgs.find("acme").unwrap();
        let own = Partial {
            mfa: Some(MfaMode::Off),
            methods: Some(Methods::of([Method::Totp, Method::Sms])),
            remember_device_days: Some(7),
            require_groups: Some(["ops".to_string(), "a,b".to_string()].into()),
        };
        let lock = Lock {
            value: Partial {
                mfa: Some(MfaMode::Required),
                ..Partial::default()
            },
            by: "rita".into(),
            by_org: OrgId::ROOT,
            at_ms: 42,
        };
        let mut rows: Vec<_> = Field::ALL
            .iter()
            .map(|f| (own_key(&orgs, acme, *f), encode(*f, &own).unwrap()))
            .collect();
        rows.push((
            lock_key(&orgs, acme, Field::Mfa),
            encode_lock(&orgs, Field::Mfa, &lock).unwrap(),
        ));
        rows.push(("orgpolicy:mfa:gone".into(), "required".into()));
        rows.push(("orgpolicy:mfa:".into(), "nonsense".into()));
        let records = records(&orgs, &rows, Some("true"));
        assert_eq!(records[&acme].own, own);
        assert_eq!(records[&acme].locks[&Field::Mfa], lock);
        // The legacy switch stands for the root; an unreadable row is left out.
        assert_eq!(records[&OrgId::ROOT].own.mfa, Some(MfaMode::Required));
        assert_eq!(records.len(), 2, "the row for an unknown org is ignored");
    }
}
