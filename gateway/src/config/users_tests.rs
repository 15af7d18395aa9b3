//! Users-file tests.

use super::super::tests::GOOD_HASH;
use super::super::{load_users_str, ConfigError};

/// argon2i (not argon2id), m=19456, t=2, p=1.
const ARGON2I_HASH: &str = "$argon2i$v=19$m=19456,t=2,p=1$dQdfJv9Kh8t24VsWRCLtag$IqNw+GSPSSfWZv35fUVxId7wxdm+SiAEibWpOQTthm8";
/// argon2id with m=4096, t=1: below OWASP's minimum.
const WEAK_HASH: &str = "$argon2id$v=19$m=4096,t=1,p=1$rNtsMBgsrKYQrzBoeX+tpg$R7XMg3C0tZjPcjga6wAEngmk9ra/KRmLTWIadiFE4MM";
/// argon2id with enough memory but a single pass.
const ONE_PASS_HASH: &str = "$argon2id$v=19$m=19456,t=1,p=1$qOK/jo2GvEPmS75MfJntPQ$F7fSiAl1tvYC1HdfIrQzU3Q00XNtk2cE771Jk0sOYag";
const BCRYPT_HASH: &str = "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW";

fn problems(yaml: &str) -> Vec<String> {
    match load_users_str(yaml) {
        Ok(users) => panic!("accepted: {users:?}"),
        Err(err) => err.lines(),
    }
}

fn with_password(hash: &str) -> String {
    format!("users:\n  bob:\n    password: \"{hash}\"\n")
}

#[test]
fn every_user_field_is_read() {
    let yaml = format!(
        "users:\n  alice:\n    password: \"{GOOD_HASH}\"\n    email: alice@example.com\n    phone: \"+15555550100\"\n    display_name: Alice Liddell\n    groups: [admins, dev]\n    disabled: true\n  bob:\n    password: \"{GOOD_HASH}\"\n"
    );
    let users = load_users_str(&yaml).unwrap_or_else(|err| panic!("{err}"));
    let alice = &users["alice"];
    assert_eq!(alice.username, "alice");
    assert_eq!(alice.password_hash, GOOD_HASH);
    assert_eq!(alice.email.as_deref(), Some("alice@example.com"));
    assert_eq!(alice.phone.as_deref(), Some("+15555550100"));
    assert_eq!(alice.display_name.as_deref(), Some("Alice Liddell"));
    assert_eq!(alice.groups, ["admins", "dev"]);
    assert!(alice.disabled);
    let bob = &users["bob"];
    assert_eq!(
        (bob.email.as_ref(), bob.groups.len(), bob.disabled),
        (None, 0, false)
    );
}

#[test]
fn empty_users_file_has_no_users() {
    assert!(load_users_str("").expect("empty").is_empty());
    assert!(load_users_str("users: {}\n").expect("no users").is_empty());
}

#[test]
fn bcrypt_hash_is_not_an_argon2id_phc_string() {
    let lines = problems(&with_password(BCRYPT_HASH));
    assert_eq!(lines.len(), 1);
    assert!(
        lines[0].starts_with("users.bob.password: not an argon2id PHC string"),
        "{lines:?}"
    );
    assert!(lines[0].ends_with("(generate one with \"gatehouse hash-password\")"));
    assert!(
        !lines[0].contains(BCRYPT_HASH),
        "the hash must not be echoed"
    );
}

#[test]
fn argon2i_hash_is_rejected_naming_its_algorithm() {
    assert_eq!(
        problems(&with_password(ARGON2I_HASH)),
        vec!["users.bob.password: not an argon2id PHC string: algorithm is \"argon2i\" (generate one with \"gatehouse hash-password\")"]
    );
}

#[test]
fn weak_argon2id_parameters_are_rejected() {
    let lines = problems(&with_password(WEAK_HASH));
    assert!(
        lines[0].starts_with(
            "users.bob.password: argon2id parameters too weak: m=4096, t=1 (need m>=19456 and t>=2"
        ),
        "{lines:?}"
    );
    let lines = problems(&with_password(ONE_PASS_HASH));
    assert!(lines[0].contains("m=19456, t=1"), "{lines:?}");
}

#[test]
fn garbage_and_missing_passwords_are_rejected() {
    let lines = problems(&with_password("hunter2"));
    assert!(lines[0].starts_with("users.bob.password: not an argon2id PHC string"));
    let lines = problems("users:\n  bob:\n    email: bob@example.com\n");
    assert!(
        lines[0].starts_with("users.bob.password: required"),
        "{lines:?}"
    );
}

#[test]
fn unknown_user_field_is_a_structural_error_naming_the_user() {
    let yaml = format!("users:\n  alice:\n    password: \"{GOOD_HASH}\"\n    colour: red\n");
    let lines = problems(&yaml);
    assert_eq!(lines.len(), 1);
    assert!(
        lines[0].starts_with("users.alice.colour: unknown field `colour`"),
        "{lines:?}"
    );
    assert!(lines[0].ends_with("(line 4, column 5)"), "{lines:?}");
}

#[test]
fn unknown_top_level_key_in_users_file_blames_the_file() {
    let lines = problems("groups: [a]\n");
    assert!(
        lines[0].starts_with("users.file: unknown field `groups`"),
        "{lines:?}"
    );
}

#[test]
fn duplicate_usernames_are_rejected() {
    let yaml = format!(
        "users:\n  alice:\n    password: \"{GOOD_HASH}\"\n  alice:\n    password: \"{GOOD_HASH}\"\n"
    );
    assert_eq!(problems(&yaml), vec!["users.alice: defined more than once"]);
}

#[test]
fn usernames_with_whitespace_colon_or_comma_are_rejected() {
    for (name, key, reason) in [
        ("bad name", "users.\"bad name\"", "whitespace"),
        ("a:b", "users.\"a:b\"", "':' or ','"),
        ("a,b", "users.\"a,b\"", "':' or ','"),
    ] {
        let yaml = format!("users:\n  \"{name}\":\n    password: \"{GOOD_HASH}\"\n");
        let lines = problems(&yaml);
        assert!(
            lines[0].starts_with(&format!("{key}: invalid username")) && lines[0].contains(reason),
            "{lines:?}"
        );
    }
}

#[test]
fn header_bound_fields_are_checked() {
    let yaml = format!(
        "users:\n  carol:\n    password: \"{GOOD_HASH}\"\n    email: carol\n    phone: \"555-0100\"\n    display_name: \"Carol\\r\\nX-Evil: 1\"\n    groups: [ok, \"a,b\", \"\"]\n"
    );
    let lines = problems(&yaml);
    let keys: Vec<&str> = lines
        .iter()
        .filter_map(|l| l.split_once(": ").map(|(k, _)| k))
        .collect();
    assert_eq!(
        keys,
        [
            "users.carol.email",
            "users.carol.phone",
            "users.carol.display_name",
            "users.carol.groups[1]",
            "users.carol.groups[2]",
        ]
    );
}

#[test]
fn users_file_errors_are_invalid_not_syntax() {
    let err = load_users_str("users: [a\n").unwrap_err();
    assert!(matches!(err, ConfigError::Invalid(_)), "{err:?}");
    assert!(err.lines()[0].contains("(line"), "{err}");
}

#[test]
fn an_org_needs_configured_organisations() {
    let yaml = format!("users:\n  dan:\n    password: \"{GOOD_HASH}\"\n    org: acme\n");
    let lines = problems(&yaml);
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert!(lines[0].starts_with("users.dan.org: "), "{lines:#?}");
}
