//! Organisations in the admin console (issue 20): an admin sees their own
//! organisation and every one below it, never a parent or a sibling: the
//! users, the service tokens and the audit log.
//!
//! root (alice, bob, carol) ── reseller (rita) ─┬─ acme (ann, andy)
//!                                              └─ globex (gus, gina)

use gatehouse_tests::harness::admin::{
    audit_lines, enforced, token_rows, user_rows, ADMIN, POLICY, RESET, SIGN_OUT, SWITCH,
    TOKEN_END_REPLACED, TOKEN_REPLACE, TOKEN_REVOKE,
};
use gatehouse_tests::harness::config::UserSpec;
use gatehouse_tests::harness::mfa::ACCOUNT;
use gatehouse_tests::harness::store::{audit_log, issued_tokens, totp_enrollment};
use gatehouse_tests::harness::Client;
use gatehouse_tests::{Backend, Stack};

fn start() -> Stack {
    Stack::start_with(Backend::Memory, |c| {
        let admin = |name: &str, org: &str| UserSpec::new(name).groups(&["admins"]).org(org);
        c.organisation("reseller", None)
            .organisation("acme", Some("reseller"))
            .organisation("globex", Some("reseller"))
            .user(admin("rita", "reseller"))
            .user(admin("ann", "acme"))
            .user(UserSpec::new("andy").org("acme"))
            .user(admin("gus", "globex"))
            .user(UserSpec::new("gina").org("globex"))
            .service_token("ci", "tok-ci-123")
    })
}

/// `name` signed in with an enrolled authenticator: in the console.
fn admin(stack: &Stack, name: &str) -> Client {
    let client = stack.client();
    client.login_ok(name);
    client.enroll();
    client
}

fn users_seen(admin: &Client) -> Vec<String> {
    let page = admin.get_html(ADMIN);
    assert_eq!(page.status, 200, "{}", page.body);
    user_rows(&page.body).into_iter().map(|(u, _)| u).collect()
}

#[test]
fn each_admin_sees_the_users_of_their_organisation_and_below() {
    let stack = start();
    let table: [(&str, &[&str]); 4] = [
        ("ann", &["andy", "ann"]),
        ("gus", &["gina", "gus"]),
        ("rita", &["andy", "ann", "gina", "gus", "rita"]),
        (
            "alice",
            &[
                "alice", "andy", "ann", "bob", "carol", "gina", "gus", "rita",
            ],
        ),
    ];
    for (name, expected) in table {
        let client = admin(&stack, name);
        assert_eq!(users_seen(&client), expected, "what {name} sees");
    }
}

#[test]
fn tokens_and_audit_events_stay_within_the_organisation() {
    let stack = start();
    let ann = admin(&stack, "ann");
    let gus = admin(&stack, "gus");
    ann.create_token("acme-ci", "", "90d");
    gus.create_token("globex-ci", "", "90d");
    let rita = admin(&stack, "rita");
    let alice = admin(&stack, "alice");

    let tokens = |client: &Client| -> Vec<String> {
        let page = client.get_html(ADMIN);
        token_rows(&page.body).into_iter().map(|t| t.name).collect()
    };
    assert_eq!(tokens(&ann), ["acme-ci"]);
    assert_eq!(tokens(&gus), ["globex-ci"]);
    assert_eq!(tokens(&rita), ["acme-ci", "globex-ci"], "not the config's");
    assert_eq!(tokens(&alice), ["ci", "acme-ci", "globex-ci"]);

    let audit_users = |client: &Client| -> Vec<String> {
        let page = client.get_html(ADMIN);
        audit_lines(&page.body)
            .into_iter()
            .map(|l| l.user)
            .collect()
    };
    let seen = audit_users(&ann);
    assert!(seen.iter().any(|u| u == "ann"), "{seen:?}");
    assert!(
        seen.iter()
            .all(|u| ["ann", "andy", "service:acme-ci"].contains(&u.as_str())),
        "{seen:?}"
    );
    let seen = audit_users(&rita);
    for user in ["ann", "gus", "rita"] {
        assert!(seen.iter().any(|u| u == user), "{user} in {seen:?}");
    }
    assert!(!seen.iter().any(|u| u == "alice"), "{seen:?}");
    let seen = audit_users(&alice);
    assert!(seen.iter().any(|u| u == "gus"), "{seen:?}");

    // Filtering by a user out of reach shows nothing of theirs.
    let filtered = ann.get_html(&format!("{ADMIN}?audit_user=gus"));
    assert_eq!(filtered.status, 200);
    assert!(audit_lines(&filtered.body).is_empty(), "{}", filtered.body);
    // Nor does a notice name them.
    let notice = ann.get_html(&format!("{ADMIN}?done=signed_out&user=gina"));
    assert!(!notice.body.contains("gina was signed out"));
    let notice = rita.get_html(&format!("{ADMIN}?done=signed_out&user=gina"));
    assert!(
        notice.body.contains("gina was signed out"),
        "{}",
        notice.body
    );
}

#[test]
fn every_admin_form_across_the_boundary_is_refused() {
    let stack = start();
    let store = stack.gateway.store_url();
    let gus = admin(&stack, "gus");
    gus.create_token("globex-ci", "", "90d");
    // Replaced, so there is an old secret for "End old token" to end.
    assert_eq!(
        gus.admin_post(TOKEN_REPLACE, &[("name", "globex-ci")])
            .status,
        200
    );
    let gina = stack.client();
    gina.login_ok("gina");
    gina.enroll();
    stack.enrolled("andy");
    stack.enrolled("alice");
    let tokens_before = issued_tokens(&store);

    // A child's admin against a sibling, the parent and the root; the
    // parent's admin against the root. Each just enrolled: a fresh proof.
    let cases: [(&str, &[&str], &[&str]); 2] = [
        (
            "ann",
            &["gina", "gus", "rita", "alice"],
            &["globex-ci", "ci"],
        ),
        ("rita", &["alice"], &["ci"]),
    ];
    let mut admins = Vec::new();
    for (name, users, tokens) in cases {
        let admin = admin(&stack, name);
        for user in users {
            for action in [RESET, SIGN_OUT] {
                let tried = admin.admin_post(action, &[("username", user)]);
                assert_eq!(tried.status, 404, "{name} {action} {user}: {}", tried.body);
            }
        }
        for token in tokens {
            for action in [TOKEN_REVOKE, TOKEN_REPLACE, TOKEN_END_REPLACED] {
                let tried = admin.admin_post(action, &[("name", token)]);
                assert_eq!(tried.status, 404, "{name} {action} {token}: {}", tried.body);
                // Not even that the config holds it.
                assert!(tried.body.contains("There is no token by that name"));
            }
        }
        // Organisations above or beside: neither switched, nor locked, nor
        // their policy saved.
        let out_of_reach: &[&str] = if name == "ann" {
            &["globex", "reseller", ""]
        } else {
            &[""]
        };
        for org in out_of_reach {
            for lock in ["", "1"] {
                let fields = [
                    ("org", *org),
                    ("mfa", "required"),
                    ("lock", lock),
                    ("confirm", "yes"),
                ];
                let tried = admin.admin_post(SWITCH, &fields);
                assert_eq!(tried.status, 404, "{name} switch {org:?}: {}", tried.body);
            }
            let fields = [
                ("org", *org),
                ("methods", "totp"),
                ("remember_device_days", "1"),
            ];
            let tried = admin.admin_post(POLICY, &fields);
            assert_eq!(tried.status, 404, "{name} policy {org:?}: {}", tried.body);
        }
        let refusals = audit_log(&store, name);
        assert!(
            refusals
                .iter()
                .any(|e| e.event == "admin_console" && e.outcome == "refused"),
            "{refusals:?}"
        );
        admins.push(admin);
    }

    for user in ["gina", "gus", "rita", "alice"] {
        assert!(totp_enrollment(&store, user).is_some(), "{user} kept MFA");
    }
    assert_eq!(
        gina.get_html(ACCOUNT).status,
        200,
        "gina is still signed in"
    );
    assert_eq!(issued_tokens(&store), tokens_before, "no token changed");
    assert!(!enforced(&gus.get_html(ADMIN).body));

    // Within reach, the same form works: the proof was fresh.
    let reset = admins[0].admin_post(RESET, &[("username", "andy")]);
    assert_eq!(reset.status, 303, "{}", reset.body);
    assert!(totp_enrollment(&store, "andy").is_none());
}
