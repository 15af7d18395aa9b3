//! The admin console, end to end: who may open it, the list of who has MFA,
//! the reset for a lost phone, signing a user out everywhere, and the
//! organisation-wide switch, on one gateway and across replicas.

use std::time::Duration;

use gatehouse_tests::harness::admin::{
    enforced, mfa_state, ADMIN, AUDIT, ENFORCE, RESET, SIGN_OUT, TOKENS, TOKEN_END_REPLACED,
    TOKEN_REPLACE, TOKEN_REVOKE,
};
use gatehouse_tests::harness::config::sha256_hex;
use gatehouse_tests::harness::mfa::{alert_text, ACCOUNT, ENROLL, MFA, REMIND};
use gatehouse_tests::harness::store::{
    audit_log, issued_tokens, remembered_devices, totp_enrollment,
};
use gatehouse_tests::{eventually, link_href, with_rd, Backend, Replicas, Stack, PASSWORD};

const RD: &str = "/private/report";

#[test]
fn only_signed_in_admins_with_their_second_factor_open_the_console() {
    let stack = Stack::start(Backend::Memory);
    let anonymous = stack.client().get_html(ADMIN);
    assert_eq!(anonymous.status, 302);
    assert_eq!(
        anonymous.location(),
        Some(with_rd("/.gatehouse/login", ADMIN).as_str())
    );

    // bob is not in the admin group: no page, and no action either.
    let bob = stack.client();
    bob.login_ok("bob");
    let refused = bob.get_html(ADMIN);
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert!(refused.body.contains("Admins only"));
    assert_eq!(bob.get(ADMIN).json()["error"], "forbidden");
    let (victim_app, _) = stack.enrolled("alice");
    let token = bob.token_from(ACCOUNT);
    for action in [RESET, SIGN_OUT] {
        let forged = bob.post_form(action, &[("username", "alice"), ("csrf_token", &token)]);
        assert_eq!(forged.status, 403, "{action}: {}", forged.body);
    }
    let forged = bob.post_form(ENFORCE, &[("enforce", "on"), ("csrf_token", &token)]);
    assert_eq!(forged.status, 403);
    assert!(totp_enrollment(&stack.gateway.store_url(), "alice").is_some());
    let refusals = audit_log(&stack.gateway.store_url(), "bob");
    assert!(
        refusals
            .iter()
            .any(|e| e.event == "admin_console" && e.outcome == "refused"),
        "{refusals:?}"
    );

    // An admin with only a password is sent to add a second factor first.
    // An enrolled admin gets in once the code is given.
    let admin = stack.at_challenge("alice", ADMIN);
    let in_on_code = admin.submit_code(ADMIN, &victim_app.code(), false);
    assert_eq!(in_on_code.location(), Some(ADMIN));
    let console = admin.get_html(ADMIN);
    assert_eq!(console.status, 200, "{}", console.body);
    assert!(console.body.contains("Admin console"));
}

#[test]
fn an_admin_without_a_second_factor_is_asked_to_set_one_up() {
    let stack = Stack::start(Backend::Memory);
    let alice = stack.client();
    alice.login_ok("alice");
    let page = alice.get_html(ADMIN);
    assert_eq!(page.status, 403, "{}", page.body);
    assert!(page.body.contains("Set up two-factor authentication first"));
    assert_eq!(
        link_href(&page.body, "Set up two-factor authentication").as_deref(),
        Some(with_rd(ENROLL, ADMIN).as_str())
    );
    assert_eq!(alice.get(ADMIN).json()["error"], "mfa_required");

    let enrollment = alice.enroll_with(None, ADMIN);
    assert!(!enrollment.recovery_codes.is_empty());
    assert_eq!(alice.get_html(ADMIN).status, 200);
    // The account page links admins to the console, and only admins.
    assert_eq!(
        link_href(&alice.get_html(ACCOUNT).body, "Admin console").as_deref(),
        Some(ADMIN)
    );
    let bob = stack.client();
    bob.login_ok("bob");
    assert_eq!(
        link_href(&bob.get_html(ACCOUNT).body, "Admin console"),
        None
    );
}

#[test]
fn the_console_lists_who_has_mfa() {
    let stack = Stack::start(Backend::Memory);
    let (admin, _) = stack.admin();
    // bob opens the enrollment page but never confirms a code.
    let bob = stack.client();
    bob.login_ok("bob");
    assert_eq!(bob.get_html(ENROLL).status, 200);

    let page = admin.get_html(ADMIN);
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(mfa_state(&page.body, "alice").as_deref(), Some("on"));
    assert_eq!(mfa_state(&page.body, "bob").as_deref(), Some("pending"));
    assert_eq!(mfa_state(&page.body, "carol").as_deref(), Some("off"));
    assert!(
        page.body
            .contains("1 of 3 users has two-factor authentication."),
        "{}",
        page.body
    );
    assert!(page.body.contains("10"), "alice's recovery codes");
    assert!(!enforced(&page.body));
    // Recent security events, newest first, include both sign-ins.
    let audit = &page.body[page.body.find(r#"id="audit""#).expect("audit section")..];
    assert!(audit.contains("mfa_enrolled"));
    assert!(audit.contains("login"));
}

fn lost_phone_reset(backend: Backend) {
    let stack = Stack::start(backend);
    let (admin, _) = stack.admin();
    // bob enrolls, and is signed in on two browsers, one remembered.
    let (app, codes) = stack.enrolled("bob");
    let laptop = stack.at_challenge("bob", RD);
    assert_eq!(laptop.submit_code(RD, &app.code(), true).status, 303);
    let phone = stack.at_challenge("bob", RD);
    assert_eq!(phone.submit_code(RD, &app.code(), false).status, 303);
    for browser in [&laptop, &phone] {
        assert_eq!(browser.get(RD).status, 200);
    }
    let store = stack.gateway.store_url();
    assert!(!remembered_devices(&store, "bob").is_empty());

    let reset = admin.admin_post(RESET, &[("username", "bob")]);
    assert_eq!(reset.status, 303, "{}", reset.body);
    assert_eq!(
        reset.location(),
        Some("/.gatehouse/admin?done=mfa_reset&user=bob")
    );
    let page = admin.get_html(reset.location().unwrap());
    assert!(page
        .body
        .contains("Two-factor authentication for bob was reset"));
    assert_eq!(mfa_state(&page.body, "bob").as_deref(), Some("off"));

    // Signed out everywhere, at once.
    for browser in [&laptop, &phone] {
        assert_eq!(browser.get(RD).status, 401, "a session outlived the reset");
    }
    assert!(totp_enrollment(&store, "bob").is_none());
    assert!(remembered_devices(&store, "bob").is_empty());
    // The password alone signs bob in now; the old recovery codes are gone.
    let again = stack.client();
    let login = again.login("bob", PASSWORD, Some(RD));
    assert_eq!(login.location(), Some(with_rd(REMIND, RD).as_str()));
    assert_eq!(again.submit_recovery_code(RD, &codes[0]).status, 401);
    // The admin's own session is untouched, and the log says who did it.
    assert_eq!(admin.get_html(ADMIN).status, 200);
    let entry = audit_log(&store, "bob")
        .into_iter()
        .rev()
        .find(|e| e.event == "mfa_reset")
        .expect("an mfa_reset entry");
    assert_eq!(entry.outcome, "ok");
    assert_eq!(
        entry.detail.as_deref(),
        Some("by admin alice; 3 sessions ended")
    );
}

#[test]
fn a_reset_removes_the_lost_phone_and_signs_the_user_out_everywhere_memory() {
    lost_phone_reset(Backend::Memory);
}

#[test]
fn a_reset_removes_the_lost_phone_and_signs_the_user_out_everywhere_redis() {
    lost_phone_reset(Backend::Redis);
}

#[test]
fn signing_a_user_out_everywhere_keeps_their_factors() {
    let stack = Stack::start(Backend::Redis);
    let (admin, _) = stack.admin();
    let bob = stack.client();
    bob.login_ok("bob");
    assert_eq!(bob.get(RD).status, 200);

    let done = admin.admin_post(SIGN_OUT, &[("username", "bob")]);
    assert_eq!(
        done.location(),
        Some("/.gatehouse/admin?done=signed_out&user=bob")
    );
    assert!(admin
        .get_html(done.location().unwrap())
        .body
        .contains("bob was signed out everywhere."));
    assert_eq!(bob.get(RD).status, 401);
    assert_eq!(admin.get(RD).status, 200, "the admin was signed out too");

    // An unknown user is an error on the page, and changes nothing.
    let unknown = admin.admin_post(SIGN_OUT, &[("username", "mallory")]);
    assert_eq!(unknown.status, 404);
    assert_eq!(
        alert_text(&unknown.body),
        "There is no such user in the users file."
    );
    // A crafted notice never echoes a name that isn't a user.
    let crafted = admin.get_html("/.gatehouse/admin?done=signed_out&user=%3Cscript%3E");
    assert!(!crafted.body.contains("<script>"));
    assert!(!crafted.body.contains("was signed out everywhere"));
}

#[test]
fn requiring_mfa_sends_users_without_it_to_enroll_at_their_next_request() {
    let stack = Stack::start(Backend::Memory);
    let (admin, _) = stack.admin();
    let bob = stack.client();
    bob.login_ok("bob");
    assert_eq!(bob.get(RD).status, 200);

    let on = admin.admin_post(ENFORCE, &[("enforce", "on"), ("confirm", "yes")]);
    assert_eq!(on.location(), Some("/.gatehouse/admin?done=enforced"));
    assert!(enforced(&admin.get_html(ADMIN).body));

    // bob's live session: browsers go to enrollment, API clients are told.
    let sent = bob.get_html(RD);
    assert_eq!(sent.status, 302);
    assert_eq!(sent.location(), Some(with_rd(ENROLL, RD).as_str()));
    let api = bob.get(RD);
    assert_eq!(api.status, 403);
    assert_eq!(api.json()["error"], "mfa_required");
    // A new sign-in owes enrollment, with no way to put it off.
    let fresh = stack.client();
    let login = fresh.login("bob", PASSWORD, Some(RD));
    assert_eq!(login.location(), Some(with_rd(ENROLL, RD).as_str()));
    // Once enrolled, bob is in, and can't turn it off.
    let enrollment = bob.enroll_with(None, RD);
    assert!(!enrollment.recovery_codes.is_empty());
    assert_eq!(bob.get(RD).status, 200);
    assert!(bob.get_html(ACCOUNT).body.contains("can't be turned off"));

    let off = admin.admin_post(
        ENFORCE,
        &[
            ("enforce", "off"),
            ("confirm", "yes"),
            ("password", PASSWORD),
        ],
    );
    assert_eq!(off.location(), Some("/.gatehouse/admin?done=not_enforced"));
    assert!(!enforced(&admin.get_html(ADMIN).body));
    let login = stack.client().login("carol", PASSWORD, None);
    assert_eq!(login.status(), 403, "carol is disabled");
    let outcomes: Vec<String> = audit_log(&stack.gateway.store_url(), "alice")
        .into_iter()
        .filter(|e| e.event == "mfa_policy_changed")
        .map(|e| e.outcome)
        .collect();
    assert_eq!(outcomes, ["enforced", "not_enforced"]);

    let nonsense = admin.admin_post(ENFORCE, &[("enforce", "maybe")]);
    assert_eq!(nonsense.status, 400);
    assert!(!enforced(&nonsense.body));
}

#[test]
fn the_switch_survives_a_restart() {
    let mut stack = Stack::start(Backend::Memory);
    let (admin, app) = stack.admin();
    assert_eq!(
        admin
            .admin_post(ENFORCE, &[("enforce", "on"), ("confirm", "yes")])
            .status,
        303
    );
    stack.gateway.restart();
    let bob = stack.client();
    let login = bob.login("bob", PASSWORD, Some(RD));
    assert_eq!(login.location(), Some(with_rd(ENROLL, RD).as_str()));
    let alice = stack.at_challenge("alice", ADMIN);
    assert_eq!(alice.submit_code(ADMIN, &app.code(), false).status, 303);
    assert!(enforced(&alice.get_html(ADMIN).body));
}

#[test]
fn a_switch_on_one_replica_reaches_signed_in_users_on_another() {
    let replicas = Replicas::start();
    let (first, second) = (&replicas.first, &replicas.second);

    let bob = second.client();
    bob.login_ok("bob");
    assert_eq!(bob.get(RD).status, 200);
    let admin = first.client();
    admin.login_ok("alice");
    admin.enroll();
    assert_eq!(
        admin
            .admin_post(ENFORCE, &[("enforce", "on"), ("confirm", "yes")])
            .status,
        303
    );
    eventually(
        Duration::from_secs(10),
        "the other replica to send bob to enrollment",
        || (bob.get_html(RD).location() == Some(with_rd(ENROLL, RD).as_str())).then_some(()),
    );
    // And a reset on one replica signs bob out on the other.
    let page = bob.get_html(&with_rd(ENROLL, RD));
    assert_eq!(page.status, 200);
    assert_eq!(
        admin.admin_post(SIGN_OUT, &[("username", "bob")]).status,
        303
    );
    eventually(
        Duration::from_secs(1),
        "the other replica to refuse bob's session",
        || (bob.get(RD).status == 401).then_some(()),
    );
}

#[test]
fn a_user_sent_to_enroll_goes_free_once_the_requirement_is_switched_off() {
    let stack = Stack::start(Backend::Memory);
    let (admin, _) = stack.admin();
    assert_eq!(
        admin
            .admin_post(ENFORCE, &[("enforce", "on"), ("confirm", "yes")])
            .status,
        303
    );
    let bob = stack.client();
    let login = bob.login("bob", PASSWORD, Some(RD));
    assert_eq!(login.location(), Some(with_rd(ENROLL, RD).as_str()));
    assert_eq!(
        bob.get_html(RD).location(),
        Some(with_rd(ENROLL, RD).as_str())
    );
    assert_eq!(
        bob.get(ACCOUNT).status,
        302,
        "pages wait for enrollment too"
    );

    assert_eq!(
        admin
            .admin_post(
                ENFORCE,
                &[
                    ("enforce", "off"),
                    ("confirm", "yes"),
                    ("password", PASSWORD)
                ]
            )
            .status,
        303
    );
    assert_eq!(bob.get(RD).status, 200, "as a new sign-in would be");
    assert_eq!(bob.get_html(ACCOUNT).status, 200);
    // two_factor routes still need a second factor, as for anyone without one.
    assert_ne!(bob.get("/secure/x").status, 200);
}

#[test]
fn a_requirement_in_the_config_cannot_be_switched_off_in_the_console() {
    let stack = Stack::start_with(Backend::Memory, |c| c.mfa_enforce(true));
    let (admin, _) = stack.admin();
    let page = admin.get_html(ADMIN);
    assert!(enforced(&page.body));
    assert!(page.body.contains("mfa.enforce: true"));
    assert!(!page.body.contains(ENFORCE), "a switch is offered");

    let refused = admin.admin_post(
        ENFORCE,
        &[
            ("enforce", "off"),
            ("confirm", "yes"),
            ("password", PASSWORD),
        ],
    );
    assert_eq!(refused.status, 409, "{}", refused.body);
    assert!(enforced(&refused.body));
    let login = stack.client().login("bob", PASSWORD, Some(RD));
    assert_eq!(login.location(), Some(with_rd(ENROLL, RD).as_str()));
}

#[test]
fn admin_forms_need_a_csrf_token_and_post() {
    let stack = Stack::start(Backend::Memory);
    let (admin, _) = stack.admin();
    stack.enrolled("bob");
    let token = admin.create_token("deploy", "", "90d");
    for (action, field) in [
        (RESET, ("username", "bob")),
        (SIGN_OUT, ("username", "bob")),
        (ENFORCE, ("enforce", "on")),
        (AUDIT, ("user", "bob")),
        (TOKENS, ("name", "forged")),
        (TOKEN_REPLACE, ("name", "deploy")),
        (TOKEN_END_REPLACED, ("name", "deploy")),
        (TOKEN_REVOKE, ("name", "deploy")),
    ] {
        let forged = admin.post_form(action, &[field, ("csrf_token", "forged")]);
        assert_eq!(forged.status, 403, "{action}: {}", forged.body);
        let missing = admin.post_form(action, &[field]);
        assert_eq!(missing.status, 403, "{action}");
        let get = admin.get_html(&format!("{action}?username=bob&enforce=on"));
        assert_eq!(get.status, 405, "{action}");
        assert_eq!(get.header("allow"), Some("POST"));
    }
    assert!(totp_enrollment(&stack.gateway.store_url(), "bob").is_some());
    assert!(!enforced(&admin.get_html(ADMIN).body));
    let tokens = issued_tokens(&stack.gateway.store_url());
    assert_eq!(tokens.len(), 1, "none made, none revoked");
    let unchanged: String = tokens[0]
        .sha256
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(unchanged, sha256_hex(&token), "not replaced");
    assert_eq!(
        stack.client().login("bob", PASSWORD, Some(RD)).location(),
        Some(with_rd(MFA, RD).as_str())
    );
}
