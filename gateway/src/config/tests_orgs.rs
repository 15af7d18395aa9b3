//! `organisations[]` and `users.<name>.org`: the tree is read, and every
//! mistake names its key.

use super::*;
use crate::orgs::OrgId;

const TREE: &str = "
organisations:
  - name: reseller
  - name: acme
    parent: reseller
  - name: acme-eu
    parent: acme
  - name: globex
    parent: reseller
";

fn users_in(orgs: &[(&str, Option<&str>)]) -> String {
    let mut text = String::from("users:\n");
    for (name, org) in orgs {
        text += &format!("  {name}:\n    password: \"{GOOD_HASH}\"\n");
        if let Some(org) = org {
            text += &format!("    org: {org}\n");
        }
    }
    text
}

fn errors_with_users(config: &str, users: &str) -> Vec<String> {
    match build_with(config, users) {
        Ok(_) => panic!("accepted:\n{config}\n{users}"),
        Err(err) => err.lines(),
    }
}

#[test]
fn without_organisations_everyone_is_in_the_root() {
    let s = build(MINIMAL);
    assert!(s.organisations.is_flat());
    assert_eq!(s.users.users["alice"].org, OrgId::ROOT);
}

#[test]
fn users_are_placed_in_the_tree() {
    let users = users_in(&[
        ("ann", Some("acme-eu")),
        ("rex", Some("reseller")),
        ("tom", None),
    ]);
    let s = build_with(&minimal_plus(TREE), &users).unwrap_or_else(|e| panic!("{e}"));
    let orgs = &s.organisations;
    let org = |user: &str| s.users.users[user].org;
    assert_eq!(orgs.name(org("ann")), Some("acme-eu"));
    assert_eq!(org("tom"), OrgId::ROOT, "no org: the root");
    assert!(orgs.administers(org("rex"), org("ann")), "depth three");
    assert!(!orgs.administers(org("ann"), org("rex")));
    let globex = orgs.find("globex").unwrap_or_default();
    assert!(!orgs.administers(globex, org("ann")), "a sibling's child");
}

#[test]
fn each_mistake_names_its_key() {
    let table: [(&str, &str, &str); 7] = [
        (
            "organisations:\n  - parent: x\n  - name: x\n",
            "organisations[0].name",
            "required",
        ),
        (
            "organisations:\n  - name: Acme\n",
            "organisations[0].name",
            "invalid name \"Acme\"",
        ),
        (
            "organisations:\n  - name: a\n  - name: a\n",
            "organisations[1].name",
            "also organisations[0].name",
        ),
        (
            "organisations:\n  - name: a\n    parent: nowhere\n",
            "organisations[0].parent",
            "no organisation is named \"nowhere\"",
        ),
        (
            "organisations:\n  - name: a\n    parent: a\n",
            "organisations[0].parent",
            "its own parent",
        ),
        (
            "organisations:\n  - name: a\n    parent: b\n  - name: b\n    parent: a\n",
            "organisations[1].parent",
            "\"b\" → \"a\" → \"b\"",
        ),
        (
            "organisations:\n  - name: a\n    colour: red\n",
            "organisations[0].colour",
            "unknown field",
        ),
    ];
    for (yaml, key, needle) in table {
        assert_line(&error_lines(&minimal_plus(yaml)), key, needle);
    }
}

#[test]
fn a_cycle_is_reported_once_and_a_branch_into_it_not_at_all() {
    let yaml = "
organisations:
  - name: top
  - name: a
    parent: c
  - name: b
    parent: a
  - name: c
    parent: b
  - name: leaf
    parent: b
  - name: fine
    parent: top
";
    let lines = error_lines(&minimal_plus(yaml));
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert_line(
        &lines,
        "organisations[3].parent",
        "\"c\" → \"b\" → \"a\" → \"c\"",
    );
}

#[test]
fn a_user_in_an_unknown_org_is_refused_naming_the_key() {
    let users = users_in(&[("ann", Some("initech")), ("tom", None)]);
    let lines = errors_with_users(&minimal_plus(TREE), &users);
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert_line(&lines, "users.ann.org", "unknown organisation \"initech\"");

    let lines = errors_with_users(MINIMAL, &users_in(&[("ann", Some("acme"))]));
    assert_line(&lines, "users.ann.org", "no organisations[]");
}
