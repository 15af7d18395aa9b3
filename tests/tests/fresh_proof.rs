//! Sensitive actions need a fresh proof of the second factor on this
//! session, end to end: a session opened by a remembered browser strips no
//! factor, a recovery code allows replacing the authenticator and nothing
//! else, admin changes need a fresh code, a stale proof leads to the confirm
//! page, and under enforcement a session whose factors went loses its
//! second step.

use std::time::Duration;

use gatehouse_tests::harness::mfa::{alert_text, ACCOUNT, ENROLL};
use gatehouse_tests::harness::store::{audit_log, totp_enrollment};
use gatehouse_tests::{
    both_backends, eventually, hidden_input, with_rd, Authenticator, Backend, Client, Stack,
    PASSWORD,
};

const RD: &str = "/secure/report";
const CONFIRM: &str = "/.gatehouse/confirm";
const RESET: &str = "/.gatehouse/enroll/reset";
const REGENERATE: &str = "/.gatehouse/recovery-codes/regenerate";
const DISABLE: &str = "/.gatehouse/mfa/disable";

/// `user` enrolled, and a browser signed in as them by the password and a
/// remembered-device cookie alone, as a thief with a copied cookie jar.
fn remembered(stack: &Stack, user: &str) -> (Authenticator, Client) {
    let (app, _) = stack.enrolled(user);
    let first = stack.at_challenge(user, RD);
    let passed = first.submit_code(RD, &app.code(), true);
    let device = passed
        .set_cookie("gatehouse_device")
        .expect("ticking the box sets a device cookie");
    let thief = stack.client();
    thief.set_cookie("gatehouse_device", &device.value);
    let login = thief.login(user, PASSWORD, Some(RD));
    assert_eq!(
        login.location(),
        Some(RD),
        "the remembered browser skips the code"
    );
    assert_eq!(thief.get(RD).status, 200, "signed in at a two_factor route");
    (app, thief)
}

/// Gives a code on the confirm page for `rd`, which sends the browser back.
fn confirm_with_code(client: &Client, rd: &str, code: &str) {
    let page = client.get_html(&with_rd(CONFIRM, rd));
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains(r#"id="confirm-why""#), "{}", page.body);
    let token = hidden_input(&page.body, "csrf_token").expect("a CSRF token");
    let confirmed = client.post_form(
        CONFIRM,
        &[("code", code), ("csrf_token", &token), ("rd", rd)],
    );
    assert_eq!(
        (confirmed.status, confirmed.location()),
        (303, Some(rd)),
        "{}",
        confirmed.body
    );
}

fn a_remembered_browser_alone_cannot_strip_mfa(backend: Backend) {
    let stack = Stack::start_with(backend, |c| c.remember_device_days(7));
    let store = stack.gateway.store_url();
    let (app, thief) = remembered(&stack, "alice");

    let reset = thief.account_post(RESET, &[("rd", "/")]);
    assert_eq!(reset.status, 303, "{}", reset.body);
    assert_eq!(reset.location(), Some(with_rd(CONFIRM, "/").as_str()));
    let regenerate = thief.account_post(REGENERATE, &[]);
    assert_eq!(
        regenerate.location(),
        Some(with_rd(CONFIRM, ACCOUNT).as_str())
    );
    assert!(
        totp_enrollment(&store, "alice").is_some(),
        "the authenticator was removed without a code"
    );

    // Once a code is given, the same action goes through.
    confirm_with_code(&thief, "/", &app.code());
    let reset = thief.account_post(RESET, &[("rd", "/")]);
    assert_eq!(
        reset.location(),
        Some(with_rd(ENROLL, "/").as_str()),
        "{}",
        reset.body
    );
    assert!(totp_enrollment(&store, "alice").is_none());
    let entries = audit_log(&store, "alice");
    assert!(entries
        .iter()
        .any(|e| e.event == "confirmed" && e.outcome == "ok"));
    let reset = entries
        .iter()
        .find(|e| e.event == "mfa_reset")
        .expect("the reset is audited");
    assert_eq!(reset.proof.as_deref(), Some("code"));
}

fn a_recovery_code_allows_replacing_the_authenticator_and_nothing_else(backend: Backend) {
    let stack = Stack::start(backend);
    let store = stack.gateway.store_url();
    let (_, codes) = stack.enrolled("alice");
    let lost = stack.at_challenge("alice", RD);
    assert_eq!(lost.submit_recovery_code(RD, &codes[0]).status, 200);
    assert_eq!(
        lost.get(RD).status,
        200,
        "a recovery code is a second factor"
    );

    let regenerate = lost.account_post(REGENERATE, &[]);
    assert_eq!(
        regenerate.location(),
        Some(with_rd(CONFIRM, ACCOUNT).as_str())
    );
    let reset = lost.account_post(RESET, &[("rd", RD)]);
    assert_eq!(
        reset.location(),
        Some(with_rd(ENROLL, RD).as_str()),
        "{}",
        reset.body
    );
    assert!(totp_enrollment(&store, "alice").is_none());
    let reset = audit_log(&store, "alice")
        .into_iter()
        .find(|e| e.event == "mfa_reset")
        .expect("the reset is audited");
    assert_eq!(reset.proof.as_deref(), Some("recovery_code"));
}

both_backends!(
    a_remembered_browser_alone_cannot_strip_mfa,
    a_recovery_code_allows_replacing_the_authenticator_and_nothing_else,
);

#[test]
fn a_stale_proof_leads_to_the_confirm_page() {
    let stack = Stack::start_with(Backend::Memory, |c| c.fresh_for("1s"));
    let client = stack.client();
    client.login_ok("bob");
    let (app, _) = client.enroll();
    // Fresh from enrolling: new codes come at once.
    assert_eq!(client.account_post(REGENERATE, &[]).status, 200);
    let stale = eventually(Duration::from_secs(10), "the proof to go stale", || {
        let answer = client.account_post(REGENERATE, &[]);
        (answer.status == 303).then_some(answer)
    });
    assert_eq!(stale.location(), Some(with_rd(CONFIRM, ACCOUNT).as_str()));
    // A wrong code on the confirm page is refused and changes nothing.
    let page = client.get_html(&with_rd(CONFIRM, ACCOUNT));
    let token = hidden_input(&page.body, "csrf_token").expect("a CSRF token");
    let wrong = client.post_form(
        CONFIRM,
        &[
            ("code", &app.wrong_code()),
            ("csrf_token", &token),
            ("rd", ACCOUNT),
        ],
    );
    assert_eq!(wrong.status, 401, "{}", wrong.body);
    assert_eq!(client.account_post(REGENERATE, &[]).status, 303);
    confirm_with_code(&client, ACCOUNT, &app.code());
    assert_eq!(client.account_post(REGENERATE, &[]).status, 200);
}

#[test]
fn admin_changes_need_a_fresh_code() {
    let stack = Stack::start_with(Backend::Memory, |c| c.remember_device_days(7));
    let store = stack.gateway.store_url();
    stack.enrolled("bob");
    let (app, admin) = remembered(&stack, "alice");
    let console = admin.get_html("/.gatehouse/admin");
    assert_eq!(console.status, 200, "{}", console.body);
    let token = hidden_input(&console.body, "csrf_token").expect("a CSRF token");

    let back = with_rd(CONFIRM, "/.gatehouse/admin");
    for (action, field) in [
        ("/.gatehouse/admin/reset", ("username", "bob")),
        ("/.gatehouse/admin/sign-out", ("username", "bob")),
        ("/.gatehouse/admin/enforce", ("enforce", "on")),
        ("/.gatehouse/admin/tokens", ("name", "ci")),
    ] {
        let refused = admin.post_form(action, &[field, ("csrf_token", &token)]);
        assert_eq!(
            (refused.status, refused.location()),
            (303, Some(back.as_str())),
            "{action}: {}",
            refused.body
        );
    }
    assert!(totp_enrollment(&store, "bob").is_some(), "bob was reset");

    confirm_with_code(&admin, "/.gatehouse/admin", &app.code());
    let reset = admin.post_form(
        "/.gatehouse/admin/reset",
        &[("username", "bob"), ("csrf_token", &token)],
    );
    assert_eq!(reset.status, 303, "{}", reset.body);
    assert!(totp_enrollment(&store, "bob").is_none());
    let entry = audit_log(&store, "bob")
        .into_iter()
        .find(|e| e.event == "mfa_reset")
        .expect("the reset is audited");
    assert_eq!(entry.proof.as_deref(), Some("code"));
}

#[test]
fn a_user_with_no_factor_confirms_with_the_password() {
    let stack = Stack::start(Backend::Memory);
    let bob = stack.client();
    bob.login_ok("bob");
    let page = bob.get_html(&with_rd(CONFIRM, ACCOUNT));
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains(r#"name="password""#), "{}", page.body);
    let token = hidden_input(&page.body, "csrf_token").expect("a CSRF token");
    let wrong = bob.post_form(
        CONFIRM,
        &[
            ("password", "not it"),
            ("csrf_token", &token),
            ("rd", ACCOUNT),
        ],
    );
    assert_eq!(wrong.status, 401, "{}", wrong.body);
    assert!(alert_text(&wrong.body).contains("didn't match"));
    let right = bob.post_form(
        CONFIRM,
        &[
            ("password", PASSWORD),
            ("csrf_token", &token),
            ("rd", ACCOUNT),
        ],
    );
    assert_eq!((right.status, right.location()), (303, Some(ACCOUNT)));
}

fn under_enforcement_a_self_reset_withdraws_the_second_step(backend: Backend) {
    let stack = Stack::start_with(backend, |c| c.mfa_enforce(true));
    let setup = stack.client();
    setup.login_ok("alice");
    let (app, _) = setup.enroll();
    let laptop = stack.client();
    laptop.sign_in_with_code("alice", RD, &app.code());
    assert_eq!(laptop.get(RD).status, 200, "signed in with a code");

    let reset = setup.account_post(RESET, &[("rd", RD)]);
    assert_eq!(
        reset.location(),
        Some(with_rd(ENROLL, RD).as_str()),
        "{}",
        reset.body
    );

    // The other browser's session ended: no factor stands behind it.
    let cut = laptop.get_html(RD);
    assert_eq!(cut.status, 302, "{}", cut.body);
    assert!(
        cut.location()
            .is_some_and(|l| l.starts_with("/.gatehouse/login")),
        "{:?}",
        cut.location()
    );
    // This browser is kept, but owes a new factor before anything else.
    let owed = setup.get_html(RD);
    assert_eq!(owed.status, 302, "{}", owed.body);
    assert_eq!(owed.location(), Some(with_rd(ENROLL, RD).as_str()));
    let api = setup.get(RD);
    assert_ne!(api.status, 200, "an API request reached the app");
}

/// Turning MFA off leaves no session with a second step that no factor
/// stands behind: otherwise it would pass `two_factor` rules, and a later
/// "require MFA for everyone", for as long as it lives.
fn turning_mfa_off_withdraws_the_second_step_from_every_session(backend: Backend) {
    let stack = Stack::start(backend);
    let setup = stack.client();
    setup.login_ok("alice");
    let (app, _) = setup.enroll();
    let laptop = stack.client();
    laptop.sign_in_with_code("alice", RD, &app.code());
    assert_eq!(laptop.get(RD).status, 200, "signed in with a code");

    let off = setup.account_post(DISABLE, &[("code", &app.code())]);
    assert_eq!(off.location(), Some("/.gatehouse/account?done=mfa_off"));
    let cut = laptop.get_html(RD);
    assert!(
        cut.location()
            .is_some_and(|l| l.starts_with("/.gatehouse/login")),
        "the other browser kept its session: {} {:?}",
        cut.status,
        cut.location()
    );
    assert_eq!(
        setup.get("/private/x").status,
        200,
        "this browser stays signed in"
    );
    let two_factor = setup.get_html(RD);
    assert_eq!(two_factor.status, 302, "{}", two_factor.body);
    assert!(two_factor
        .location()
        .is_some_and(|l| l.starts_with("/.gatehouse/mfa")));
}

both_backends!(
    under_enforcement_a_self_reset_withdraws_the_second_step,
    turning_mfa_off_withdraws_the_second_step_from_every_session,
);

#[test]
fn turning_mfa_off_with_an_app_needs_its_code_on_the_form() {
    // A fresh session is not enough: the authenticator's owner types a code
    // on the form itself, and the form without one removes nothing.
    let stack = Stack::start(Backend::Memory);
    let client = stack.client();
    client.login_ok("alice");
    client.enroll();
    let refused = client.account_post(DISABLE, &[]);
    assert_eq!(refused.status, 401, "{}", refused.body);
    assert!(totp_enrollment(&stack.gateway.store_url(), "alice").is_some());
}
