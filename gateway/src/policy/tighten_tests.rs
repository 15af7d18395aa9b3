//! "May only tighten", as a table over every setting.

use std::collections::BTreeSet;

use super::super::{Method, MfaMode};
use super::*;

fn every_methods() -> Vec<Methods> {
    (1u8..16)
        .map(|bits| {
            Methods::of(
                Method::ALL
                    .into_iter()
                    .filter(|m| bits & (1 << *m as u8) != 0),
            )
        })
        .collect()
}

fn groups(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|n| n.to_string()).collect()
}

fn every_groups() -> Vec<BTreeSet<String>> {
    vec![
        groups(&[]),
        groups(&["ops"]),
        groups(&["dev"]),
        groups(&["ops", "dev"]),
    ]
}

const DAYS: [u32; 5] = [0, 1, 7, 30, 365];

fn every_settings() -> Vec<Settings> {
    let mut all = Vec::new();
    for mfa in MfaMode::ALL {
        for methods in every_methods() {
            for days in DAYS {
                for require_groups in every_groups() {
                    all.push(Settings {
                        mfa,
                        methods,
                        remember_device_days: days,
                        require_groups,
                    });
                }
            }
        }
    }
    all
}

fn every_floor() -> Vec<Partial> {
    let mfas = std::iter::once(None).chain(MfaMode::ALL.map(Some));
    let methods: Vec<_> = std::iter::once(None)
        .chain(every_methods().into_iter().map(Some))
        .collect();
    let days: Vec<_> = std::iter::once(None).chain(DAYS.map(Some)).collect();
    let groups: Vec<_> = std::iter::once(None)
        .chain(every_groups().into_iter().map(Some))
        .collect();
    let mut all = Vec::new();
    for mfa in mfas {
        for m in &methods {
            for d in &days {
                for g in &groups {
                    all.push(Partial {
                        mfa,
                        methods: *m,
                        remember_device_days: *d,
                        require_groups: g.clone(),
                    });
                }
            }
        }
    }
    all
}

fn whole(s: &Settings) -> Partial {
    Partial {
        mfa: Some(s.mfa),
        methods: Some(s.methods),
        remember_device_days: Some(s.remember_device_days),
        require_groups: Some(s.require_groups.clone()),
    }
}

/// Every setting against every floor: 3 modes × 15 method sets × 5 day
/// counts × 4 group sets, against 4 × 16 × 6 × 5 floors (each field
/// either unset or any value), 1,728,000 cells.
#[test]
fn a_floor_raises_what_is_looser_and_keeps_what_is_stricter() {
    let settings = every_settings();
    let floors = every_floor();
    let mut cells = 0u64;
    let mut kept = 0u64;
    for floor in &floors {
        for value in &settings {
            cells += 1;
            let out = stricter(value, floor);
            // Never looser than the floor.
            assert_eq!(
                loosened(&whole(&out), floor),
                None,
                "{value:?} under {floor:?}"
            );
            // A value that already meets the floor is kept as it is: a
            // child stricter than its parent's lock stays stricter.
            if loosened(&whole(value), floor).is_none() {
                assert_eq!(&out, value, "{value:?} under {floor:?}");
                kept += 1;
            }
            // Only ever tighter than the value itself, but for methods
            // that share nothing with the floor, where the floor wins.
            assert!(out.mfa >= value.mfa);
            assert!(out.remember_device_days <= value.remember_device_days);
            assert!(value.require_groups.is_subset(&out.require_groups));
            let disjoint = floor
                .methods
                .is_some_and(|f| f.intersect(value.methods).is_empty());
            if disjoint {
                assert_eq!(Some(out.methods), floor.methods);
            } else {
                assert!(out.methods.is_subset(value.methods));
            }
            assert!(!out.methods.is_empty(), "no way in under {floor:?}");
            // Tightening twice changes nothing more.
            assert_eq!(stricter(&out, floor), out);
        }
    }
    assert_eq!(cells, 1_728_000);
    assert!(kept > 0 && kept < cells, "both kinds of cell were seen");
}

/// Two floors combine to one at least as strict as each, whatever the
/// order they were set in, but for methods sharing nothing.
#[test]
fn combined_floors_are_as_strict_as_either() {
    let floors = every_floor();
    let sample: Vec<_> = floors.iter().step_by(7).collect();
    for upper in &sample {
        for lower in &sample {
            let both = combine(upper, lower);
            let disjoint = matches!((upper.methods, lower.methods),
                (Some(a), Some(b)) if a.intersect(b).is_empty());
            let mut lower_checked = (*lower).clone();
            if disjoint {
                assert_eq!(both.methods, upper.methods);
                lower_checked.methods = None;
            }
            assert_eq!(loosened(&both, upper), None, "{upper:?} + {lower:?}");
            assert_eq!(
                loosened(&both, &lower_checked),
                None,
                "{upper:?} + {lower:?}"
            );
        }
    }
}

fn only_mfa(mfa: MfaMode) -> Partial {
    Partial {
        mfa: Some(mfa),
        ..Partial::default()
    }
}

fn only_methods(methods: &[Method]) -> Partial {
    Partial {
        methods: Some(Methods::of(methods.iter().copied())),
        ..Partial::default()
    }
}

/// The changes a locked organisation may and may not make, as written in
/// the issue: "required" can't be turned off, and an allowed method can't
/// be added.
#[test]
fn a_locked_setting_may_be_tightened_never_loosened() {
    use Method::*;
    use MfaMode::*;
    let rows: [(Partial, Partial, Option<Field>); 12] = [
        (only_mfa(Optional), only_mfa(Required), Some(Field::Mfa)),
        (only_mfa(Off), only_mfa(Required), Some(Field::Mfa)),
        (only_mfa(Required), only_mfa(Required), None),
        (only_mfa(Off), only_mfa(Optional), Some(Field::Mfa)),
        (only_mfa(Required), only_mfa(Optional), None),
        (
            only_methods(&[Totp, Sms]),
            only_methods(&[Totp]),
            Some(Field::Methods),
        ),
        (only_methods(&[Totp]), only_methods(&[Totp, Sms]), None),
        (
            only_methods(&[Email]),
            only_methods(&[Totp, Sms]),
            Some(Field::Methods),
        ),
        (
            Partial {
                remember_device_days: Some(30),
                ..Partial::default()
            },
            Partial {
                remember_device_days: Some(7),
                ..Partial::default()
            },
            Some(Field::RememberDeviceDays),
        ),
        (
            Partial {
                remember_device_days: Some(0),
                ..Partial::default()
            },
            Partial {
                remember_device_days: Some(7),
                ..Partial::default()
            },
            None,
        ),
        (
            Partial {
                require_groups: Some(groups(&["dev"])),
                ..Partial::default()
            },
            Partial {
                require_groups: Some(groups(&["ops"])),
                ..Partial::default()
            },
            Some(Field::RequireGroups),
        ),
        // An unset field is no change, so it can't loosen anything.
        (Partial::default(), only_mfa(Required), None),
    ];
    for (candidate, floor, expected) in rows {
        assert_eq!(
            loosened(&candidate, &floor),
            expected,
            "{candidate:?} under {floor:?}"
        );
    }
}
