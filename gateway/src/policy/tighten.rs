//! "May only tighten": how a floor bounds a setting, field by field.
//!
//! Stricter means: MFA from off to optional to required; fewer allowed
//! methods; fewer days a browser is remembered; more groups that must use
//! MFA. A setting below its floor is raised to the floor and one above it
//! is kept, so a child set stricter than its parent's lock stays so when
//! the parent changes. Allowed methods are the one field where "raise to
//! the floor" needs a choice: the stricter of two sets is what both
//! allow, and where they share nothing the floor wins, so an organisation
//! is never left with no method at all.

use super::{Field, Methods, Partial, Settings};

/// `value` bounded by `floor`: each field is the stricter of the two.
pub fn stricter(value: &Settings, floor: &Partial) -> Settings {
    let mut out = value.clone();
    if let Some(mfa) = floor.mfa {
        out.mfa = out.mfa.max(mfa);
    }
    if let Some(methods) = floor.methods {
        out.methods = narrower(methods, out.methods);
    }
    if let Some(days) = floor.remember_device_days {
        out.remember_device_days = out.remember_device_days.min(days);
    }
    if let Some(groups) = &floor.require_groups {
        out.require_groups.extend(groups.iter().cloned());
    }
    out
}

/// Two floors as one: `upper` is set higher in the tree. Each field is the
/// stricter of the two where both are set.
pub fn combine(upper: &Partial, lower: &Partial) -> Partial {
    Partial {
        mfa: match (upper.mfa, lower.mfa) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        },
        methods: match (upper.methods, lower.methods) {
            (Some(a), Some(b)) => Some(narrower(a, b)),
            (a, b) => a.or(b),
        },
        remember_device_days: match (upper.remember_device_days, lower.remember_device_days) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        },
        require_groups: match (&upper.require_groups, &lower.require_groups) {
            (Some(a), Some(b)) => Some(a.union(b).cloned().collect()),
            (a, b) => a.clone().or_else(|| b.clone()),
        },
    }
}

/// The first field `candidate` sets looser than `floor` allows, if any:
/// the change a locked organisation may not make.
pub fn loosened(candidate: &Partial, floor: &Partial) -> Option<Field> {
    let looser = |field: Field| match field {
        Field::Mfa => matches!((candidate.mfa, floor.mfa), (Some(c), Some(f)) if c < f),
        Field::Methods => {
            matches!((candidate.methods, floor.methods), (Some(c), Some(f)) if !c.is_subset(f))
        }
        Field::RememberDeviceDays => matches!(
            (candidate.remember_device_days, floor.remember_device_days),
            (Some(c), Some(f)) if c > f
        ),
        Field::RequireGroups => matches!(
            (&candidate.require_groups, &floor.require_groups),
            (Some(c), Some(f)) if !f.is_subset(c)
        ),
    };
    Field::ALL.into_iter().find(|f| looser(*f))
}

/// What both `floor` and `value` allow; `floor` where they share nothing.
fn narrower(floor: Methods, value: Methods) -> Methods {
    let both = floor.intersect(value);
    if both.is_empty() {
        floor
    } else {
        both
    }
}

#[cfg(test)]
#[path = "tighten_tests.rs"]
mod tests;
