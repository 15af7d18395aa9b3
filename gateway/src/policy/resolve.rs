//! Every organisation's effective policy, from the config's defaults and
//! what admins stored: a pure function, so the console, the sign-in and
//! signed-in traffic all see the same answer.

use std::collections::BTreeMap;

use super::{combine, stricter, Field, Methods, MfaMode, Partial, Settings, UserPolicy};
use crate::config::MfaSettings;
use crate::orgs::{OrgId, Organisations};

/// What the config says, for every organisation that says nothing else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Defaults {
    pub settings: Settings,
    /// `mfa.enforce: true`: a lock on the root that only the config lifts.
    pub config_floor: Partial,
}

impl Defaults {
    pub fn from_config(mfa: &MfaSettings) -> Self {
        Defaults {
            settings: Settings {
                mfa: MfaMode::Optional,
                methods: Methods::TODAY,
                remember_device_days: mfa.remember_device_days,
                require_groups: mfa.require_groups.iter().cloned().collect(),
            },
            config_floor: Partial {
                mfa: mfa.enforce.then_some(MfaMode::Required),
                ..Partial::default()
            },
        }
    }
}

/// A floor on one field of an organisation, set by an admin above it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lock {
    /// The floor: just the locked field is set.
    pub value: Partial,
    /// The admin who set it, and their organisation: only admins of that
    /// organisation or above may change or lift it.
    pub by: String,
    pub by_org: OrgId,
    pub at_ms: i64,
}

/// What the store holds for one organisation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Record {
    /// Its admins' own choices.
    pub own: Partial,
    /// Floors set on it from above, by field.
    pub locks: BTreeMap<Field, Lock>,
}

/// One organisation's policy, and why it is what it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgPolicy {
    pub org: OrgId,
    /// What applies.
    pub effective: Settings,
    /// What its own admins chose.
    pub own: Partial,
    /// Every floor that binds it: the config's, and the locks on it and on
    /// every organisation above it.
    pub floor: Partial,
    /// The same without the locks set on this organisation itself: what a
    /// new lock on it must meet.
    pub floor_above: Partial,
    /// The locks that bind it, nearest first: where each was set, and the lock.
    pub locks: Vec<(OrgId, Field, Lock)>,
    /// The fields the config fixes (`mfa.enforce: true`).
    pub config_floor: Partial,
}

impl OrgPolicy {
    /// What applies to a member of `groups` here.
    pub fn for_user(&self, groups: &[String], is_admin: bool) -> UserPolicy {
        UserPolicy::of(&self.effective, groups, is_admin)
    }

    /// The lock set on this organisation itself on `field`, if any: the
    /// one a change here replaces or lifts.
    pub fn lock_here(&self, field: Field) -> Option<&Lock> {
        self.locks
            .iter()
            .find(|(at, f, _)| *at == self.org && *f == field)
            .map(|(_, _, lock)| lock)
    }

    /// The lock nearest this organisation on `field`, if any.
    pub fn lock_on(&self, field: Field) -> Option<(OrgId, &Lock)> {
        self.locks
            .iter()
            .find(|(_, f, _)| *f == field)
            .map(|(at, _, lock)| (*at, lock))
    }
}

/// Every organisation's policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    orgs: Vec<OrgPolicy>,
}

impl Table {
    /// `org`'s policy; the root's for an organisation this table doesn't
    /// know, which can't happen while the tree is fixed.
    pub fn get(&self, org: OrgId) -> &OrgPolicy {
        let index = self.orgs.iter().position(|p| p.org == org).unwrap_or(0);
        &self.orgs[index]
    }
}

/// The effective policy of every organisation. Walking from the root
/// down, each organisation starts from its parent's effective policy,
/// puts its own choices over it, and is bounded by every floor met so far.
pub fn resolve(
    orgs: &Organisations,
    records: &BTreeMap<OrgId, Record>,
    defaults: &Defaults,
) -> Table {
    let none = Record::default();
    let table = orgs
        .all()
        .map(|org| {
            let mut effective = defaults.settings.clone();
            let mut floor = defaults.config_floor.clone();
            let mut floor_above = floor.clone();
            let mut locks = Vec::new();
            for at in orgs.chain(org) {
                let record = records.get(&at).unwrap_or(&none);
                floor_above = floor.clone();
                for (field, lock) in &record.locks {
                    floor = combine(&floor, &lock.value);
                    locks.push((at, *field, lock.clone()));
                }
                effective = stricter(&record.own.over(&effective), &floor);
            }
            locks.reverse();
            OrgPolicy {
                org,
                effective,
                own: records.get(&org).unwrap_or(&none).own.clone(),
                floor,
                floor_above,
                locks,
                config_floor: defaults.config_floor.clone(),
            }
        })
        .collect();
    Table { orgs: table }
}

#[cfg(test)]
#[path = "resolve_tests.rs"]
mod tests;
