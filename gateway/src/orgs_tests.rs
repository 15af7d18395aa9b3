//! The organisation tree: who is within whom, as a table.

use super::*;

/// root ─┬─ reseller ─┬─ acme ── acme-eu ── paris
///       │            └─ globex
///       └─ solo
fn tree() -> Organisations {
    let entry = |name: &str, parent: Option<&str>| (name.to_string(), parent.map(str::to_string));
    Organisations::new(&[
        entry("reseller", None),
        entry("acme", Some("reseller")),
        entry("acme-eu", Some("acme")),
        entry("paris", Some("acme-eu")),
        entry("globex", Some("reseller")),
        entry("solo", None),
    ])
}

fn id(orgs: &Organisations, name: &str) -> OrgId {
    match name {
        "root" => OrgId::ROOT,
        _ => orgs.find(name).unwrap_or_else(|| panic!("no org {name}")),
    }
}

#[test]
fn who_administers_whom() {
    let orgs = tree();
    // (admin's org, target's org, administers)
    let table = [
        ("root", "root", true),
        ("root", "reseller", true),
        ("root", "paris", true),
        ("root", "solo", true),
        ("reseller", "reseller", true),
        ("reseller", "acme", true),
        ("reseller", "globex", true),
        ("reseller", "paris", true),
        ("reseller", "root", false),
        ("reseller", "solo", false),
        ("acme", "acme-eu", true),
        ("acme", "paris", true),
        ("acme", "globex", false),
        ("acme", "reseller", false),
        ("acme", "root", false),
        ("globex", "acme", false),
        ("globex", "paris", false),
        ("paris", "paris", true),
        ("paris", "acme-eu", false),
        ("paris", "acme", false),
        ("solo", "reseller", false),
        ("solo", "root", false),
    ];
    for (admin, target, expected) in table {
        let (a, t) = (id(&orgs, admin), id(&orgs, target));
        assert_eq!(
            orgs.administers(a, t),
            expected,
            "an admin of {admin} administering {target}"
        );
        assert_eq!(orgs.is_within(t, a), expected, "{target} within {admin}");
    }
}

#[test]
fn ancestors_climb_to_the_root() {
    let orgs = tree();
    let names = |org: &str| -> Vec<String> {
        let ancestors = orgs.ancestors(id(&orgs, org));
        let named = ancestors.iter().map(|&a| orgs.name(a).unwrap_or("root"));
        named.map(str::to_string).collect()
    };
    let table: [(&str, &[&str]); 5] = [
        ("root", &[]),
        ("reseller", &["root"]),
        ("globex", &["reseller", "root"]),
        ("paris", &["acme-eu", "acme", "reseller", "root"]),
        ("solo", &["root"]),
    ];
    for (org, expected) in table {
        assert_eq!(names(org), expected, "the ancestors of {org}");
    }
}

#[test]
fn names_and_ids_match_and_the_root_has_no_name() {
    let orgs = tree();
    assert_eq!(orgs.name(OrgId::ROOT), None);
    assert_eq!(
        orgs.find("globex").and_then(|g| orgs.name(g)),
        Some("globex")
    );
    assert_eq!(orgs.find("root"), None, "the root is not configured");
    assert_eq!(orgs.find("nobody"), None);
    assert!(!orgs.is_flat());
    assert!(Organisations::default().is_flat());
}

#[test]
fn without_organisations_everyone_is_in_the_root() {
    let orgs = Organisations::default();
    assert!(orgs.administers(OrgId::ROOT, OrgId::ROOT));
    assert!(orgs.ancestors(OrgId::ROOT).is_empty());
}

#[test]
fn an_id_from_elsewhere_administers_nobody_else() {
    let orgs = Organisations::default();
    let stray = OrgId(7);
    assert!(!orgs.administers(stray, OrgId::ROOT));
    assert!(orgs.administers(stray, stray));
}

#[test]
fn a_cycle_that_slipped_past_validation_hangs_under_the_root() {
    let entry = |name: &str, parent: &str| (name.to_string(), Some(parent.to_string()));
    let orgs = Organisations::new(&[entry("a", "b"), entry("b", "a"), entry("c", "c")]);
    for name in ["a", "b", "c"] {
        let org = id(&orgs, name);
        assert_eq!(orgs.ancestors(org).last(), Some(&OrgId::ROOT), "{name}");
        assert!(orgs.is_within(org, OrgId::ROOT));
    }
}
