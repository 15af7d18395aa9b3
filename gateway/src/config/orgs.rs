//! `organisations[]`: names and parents, checked into [`Organisations`].
//!
//! Every problem names its key: a bad or duplicate name at
//! `organisations[i].name`, an unknown parent at `organisations[i].parent`,
//! and a cycle at the parent of the organisation that closes it (the one
//! written last), so the whole loop is reported once.

use std::collections::BTreeMap;

use super::apps::check_name;
use super::error::{quote, Problems};
use super::raw::RawOrganisation;
use crate::orgs::Organisations;

/// Checks `organisations[]`; returns the tree, which is only used when no
/// problem was found.
pub(crate) fn check_organisations(raw: Vec<RawOrganisation>, p: &mut Problems) -> Organisations {
    let names = check_names(&raw, p);
    // Each entry's parent as an index into `raw`, `None` for the root.
    let parents: Vec<Option<usize>> = raw
        .iter()
        .enumerate()
        .map(|(i, org)| {
            let parent = org.parent.as_deref()?;
            let found = names.get(parent).copied();
            if found.is_none() {
                p.push(
                    format!("organisations[{i}].parent"),
                    format!(
                        "no organisation is named {} (organisations[].name)",
                        quote(parent)
                    ),
                );
            }
            found
        })
        .collect();
    report_cycles(&raw, &parents, p);
    let entries: Vec<(String, Option<String>)> = raw
        .into_iter()
        .map(|org| (org.name.unwrap_or_default(), org.parent))
        .collect();
    Organisations::new(&entries)
}

/// Checks every name; returns each by its first index, malformed or not,
/// so a parent naming a malformed or duplicate entry isn't reported twice.
fn check_names(raw: &[RawOrganisation], p: &mut Problems) -> BTreeMap<String, usize> {
    let mut names: BTreeMap<String, usize> = BTreeMap::new();
    for (i, org) in raw.iter().enumerate() {
        let key = format!("organisations[{i}].name");
        let Some(name) = &org.name else {
            p.push(key, "required");
            continue;
        };
        if let Some(first) = names.get(name) {
            p.push(
                key,
                format!(
                    "duplicate organisation name {} (also organisations[{first}].name)",
                    quote(name)
                ),
            );
            continue;
        }
        if let Err(reason) = check_name(name) {
            p.push(key, reason);
        }
        names.insert(name.clone(), i);
    }
    names
}

/// Reports each loop of parents once, at the parent of its last-written
/// member: such an organisation would never reach the root.
fn report_cycles(raw: &[RawOrganisation], parents: &[Option<usize>], p: &mut Problems) {
    // 0: not seen, 1: on the path being climbed, 2: done.
    let mut state = vec![0u8; parents.len()];
    for start in 0..parents.len() {
        let mut path = Vec::new();
        let mut at = Some(start);
        while let Some(i) = at {
            match state[i] {
                2 => break,
                1 => {
                    let from = path.iter().position(|&j| j == i).unwrap_or(0);
                    report_cycle(raw, &path[from..], p);
                    break;
                }
                _ => {
                    state[i] = 1;
                    path.push(i);
                    at = parents[i];
                }
            }
        }
        for i in path {
            state[i] = 2;
        }
    }
}

/// One loop, `members` in climbing order.
fn report_cycle(raw: &[RawOrganisation], members: &[usize], p: &mut Problems) {
    let Some(&last) = members.iter().max() else {
        return;
    };
    let name = |i: usize| raw[i].name.as_deref().unwrap_or_default();
    let message = if members.len() == 1 {
        format!("{} cannot be its own parent", quote(name(last)))
    } else {
        // Climb from the one reported, back round to it.
        let from = members.iter().position(|&i| i == last).unwrap_or(0);
        let around = members[from..].iter().chain(&members[..=from]);
        let chain: Vec<String> = around.map(|&i| quote(name(i))).collect();
        format!(
            "a cycle of parents ({}): an organisation must end up under the root",
            chain.join(" → ")
        )
    };
    p.push(format!("organisations[{last}].parent"), message);
}
