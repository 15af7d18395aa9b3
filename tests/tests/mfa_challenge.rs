//! The code asked after the password, end to end, with codes made by
//! `oathtool`: wrong and replayed codes (across sessions and replicas), the
//! ±1 step window, lockouts, session rotation, the `two_factor` policy and
//! recovery codes.

use gatehouse_tests::harness::mfa::{alert_text, form_token, ENROLL, MFA, RECOVER, REMIND};
use gatehouse_tests::harness::store::audit_log;
use gatehouse_tests::harness::totp::{current_step, wait_for_secs_left};
use gatehouse_tests::{
    both_backends, hidden_input, link_href, with_rd, Backend, Replicas, Stack, PASSWORD,
};

const RD: &str = "/secure/report";

fn a_wrong_code_is_refused_counted_and_locks_the_user_out(backend: Backend) {
    let stack = Stack::start_with(backend, |c| c.limits(3, 1000, "10m"));
    let (app, _) = stack.enrolled("alice");
    let browser = stack.at_challenge("alice", RD);
    for attempt in 1..=3 {
        let refused = browser.submit_code(RD, &app.wrong_code(), false);
        assert_eq!(refused.status, 401, "attempt {attempt}: {}", refused.body);
        assert!(
            alert_text(&refused.body).starts_with("That code didn't work."),
            "attempt {attempt}: {}",
            refused.body
        );
    }
    // Locked: even the right code is not looked at.
    let right = app.code();
    let locked = browser.submit_code(RD, &right, false);
    assert_eq!(locked.status, 429, "{}", locked.body);
    assert!(locked.header("retry-after").is_some());
    let lockout_text = alert_text(&locked.body);
    assert!(
        lockout_text.starts_with("Too many failed sign-in attempts. Try again in"),
        "{lockout_text}"
    );
    assert_eq!(browser.get(RD).status, 403, "in without a code");
    // Per user, not per session: signing in afresh does not reset it.
    let again = stack.at_challenge("alice", RD);
    let still = again.submit_code(RD, &right, false);
    assert_eq!(still.status, 429, "{}", still.body);
    assert_eq!(alert_text(&still.body), lockout_text);

    // The words are those of a password lockout.
    let other = stack.client();
    for _ in 0..3 {
        assert_eq!(other.login("bob", "wrong password", None).status(), 401);
    }
    let password_locked = other.login("bob", PASSWORD, None);
    assert_eq!(password_locked.status(), 429);
    assert_eq!(alert_text(&password_locked.response.body), lockout_text);

    let failures = audit_log(&stack.gateway.store_url(), "alice")
        .into_iter()
        .filter(|e| e.event == "mfa_challenge" && e.outcome == "failed")
        .count();
    assert_eq!(failures, 3, "each wrong code is counted in the audit log");
}

fn a_code_used_in_one_session_is_refused_in_another(backend: Backend) {
    let stack = Stack::start(backend);
    let (app, _) = stack.enrolled("alice");
    let first = stack.at_challenge("alice", RD);
    let second = stack.at_challenge("alice", RD);

    let code = app.code();
    let passed = first.submit_code(RD, &code, false);
    assert_eq!((passed.status, passed.location()), (303, Some(RD)));
    let replayed = second.submit_code(RD, &code, false);
    assert_eq!(replayed.status, 401, "{}", replayed.body);
    assert!(
        alert_text(&replayed.body).contains("already been used"),
        "{}",
        replayed.body
    );
    assert_eq!(second.get(RD).status, 403, "the replay let the session in");
    assert_eq!(first.get(RD).status, 200);

    // The next code works in the second session.
    let fresh = second.submit_code(RD, &app.code(), false);
    assert_eq!((fresh.status, fresh.location()), (303, Some(RD)));
}

fn the_session_id_rotates_when_a_second_factor_is_proven(backend: Backend) {
    let stack = Stack::start(backend);
    let enrolling = stack.client();
    let before_enrolling = enrolling.login_ok("alice");
    let enrollment = enrolling.enroll_with(None, "/");
    let after_enrolling = enrollment
        .codes_page
        .set_cookie(enrolling.session_cookie_name())
        .expect("enrolling sets a new session cookie")
        .value;
    assert_ne!(before_enrolling, after_enrolling);

    let browser = stack.at_challenge("alice", RD);
    let before_code = browser
        .session_cookie()
        .expect("a session after the password");
    let passed = browser.submit_code(RD, &enrollment.authenticator.code(), false);
    assert_eq!(passed.status, 303, "{}", passed.body);
    let after_code = passed
        .set_cookie(browser.session_cookie_name())
        .expect("the challenge sets a new session cookie")
        .value;
    assert_ne!(before_code, after_code);
    assert_eq!(browser.get(RD).status, 200);

    for old in [before_enrolling, before_code] {
        let replay = stack.client();
        replay.set_session_cookie(&old);
        let refused = replay.get("/private/x");
        assert_eq!(refused.status, 401, "an old session id still works");
    }
    let current = stack.client();
    current.set_session_cookie(&after_enrolling);
    assert_eq!(current.get(RD).status, 200);
}

both_backends!(
    a_wrong_code_is_refused_counted_and_locks_the_user_out,
    a_code_used_in_one_session_is_refused_in_another,
    the_session_id_rotates_when_a_second_factor_is_proven,
);

#[test]
fn codes_one_step_either_side_are_accepted_and_further_ones_refused() {
    let stack = Stack::start(Backend::Memory);
    // Everything below happens within one step, so "now" means the same to
    // the test and to the gateway: the enrollment takes the current step.
    wait_for_secs_left(15);
    let now = current_step();
    let (app, _) = stack.enrolled("alice");
    let early = stack.at_challenge("alice", RD);
    let late = stack.at_challenge("alice", RD);
    for step in [now - 2, now + 2] {
        let refused = late.submit_code(RD, &app.code_at_step(step), false);
        assert_eq!(refused.status, 401, "step {step} accepted at step {now}");
        assert!(alert_text(&refused.body).starts_with("That code didn't work."));
    }
    for (client, step) in [(&early, now - 1), (&late, now + 1)] {
        let code = app
            .claim_step(step)
            .expect("a neighbouring step still unused");
        let passed = client.submit_code(RD, &code, false);
        assert_eq!(passed.status, 303, "step {step} refused: {}", passed.body);
    }
    assert_eq!(current_step(), now, "the test took longer than a step");
}

#[test]
fn two_factor_routes_need_the_code_and_one_factor_routes_do_not() {
    let stack = Stack::start(Backend::Memory);
    // A user without MFA: one_factor routes open, never asked for a code.
    let bob = stack.client();
    let login = bob.login("bob", PASSWORD, Some("/private/a"));
    assert_eq!(
        login.location(),
        Some(with_rd(REMIND, "/private/a").as_str())
    );
    for path in ["/private/a", "/"] {
        let reached = bob.get_html(path);
        assert_eq!(reached.status, 200, "{path}: {}", reached.body);
    }
    let api = bob.get("/secure/a");
    assert_eq!(api.status, 403, "{}", api.body);
    assert_eq!(api.json()["error"], "mfa_required");
    let page = bob.get_html("/secure/a");
    assert_eq!(page.location(), Some(with_rd(MFA, "/secure/a").as_str()));
    // Without an authenticator there is no code to ask for: set one up.
    let challenge = bob.get_html(page.location().unwrap());
    assert_eq!(challenge.status, 302);
    assert!(challenge.location().unwrap_or("").starts_with(ENROLL));
    let paths: Vec<String> = stack
        .upstream
        .requests()
        .into_iter()
        .map(|r| r.path)
        .collect();
    assert_eq!(paths, ["/private/a", "/"]);

    // Enrolling proves the second factor on that session.
    let (app, _) = bob.enroll();
    assert_eq!(bob.get("/secure/a").status, 200);

    // An enrolled user's password alone opens nothing; the code opens all.
    let browser = stack.client();
    let login = browser.login("bob", PASSWORD, Some("/secure/a"));
    assert_eq!(login.location(), Some(with_rd(MFA, "/secure/a").as_str()));
    for path in ["/secure/a", "/private/a"] {
        assert_eq!(browser.get(path).status, 403, "{path} before the code");
    }
    let passed = browser.submit_code("/secure/a", &app.code(), false);
    assert_eq!(passed.status, 303, "{}", passed.body);
    for path in ["/secure/a", "/private/a"] {
        let reached = browser.get(path);
        assert_eq!(reached.status, 200, "{path}: {}", reached.body);
        assert_eq!(
            stack.upstream.last().header("remote-user").as_deref(),
            Some("bob")
        );
    }
}

#[test]
fn a_recovery_code_works_once_and_then_the_authenticator_can_be_replaced() {
    let stack = Stack::start(Backend::Memory);
    let (old_app, codes) = stack.enrolled("alice");

    // The phone is lost: the challenge links to recovery.
    let lost = stack.at_challenge("alice", RD);
    let page = lost.get_html(&with_rd(MFA, RD));
    assert_eq!(
        link_href(&page.body, "Can't use your authenticator?"),
        Some(with_rd(RECOVER, RD))
    );
    let recovered = lost.submit_recovery_code(RD, &codes[0]);
    assert_eq!(recovered.status, 200, "{}", recovered.body);
    assert!(recovered.body.contains("Recovery code accepted"));
    assert!(recovered.body.contains("9 recovery codes left"));
    assert!(recovered
        .set_cookie(lost.session_cookie_name())
        .is_some_and(|c| !c.is_removal()));
    assert_eq!(
        lost.get(RD).status,
        200,
        "a recovery code is a second factor"
    );

    // Used once, refused after.
    let again = stack.at_challenge("alice", RD);
    let refused = again.submit_recovery_code(RD, &codes[0]);
    assert_eq!(refused.status, 401, "{}", refused.body);
    assert!(alert_text(&refused.body).contains("didn't work"));
    assert_eq!(again.get(RD).status, 403);

    // Typed loosely (capitals, spaces for dashes), another code works.
    let typed = format!(" {} ", codes[1].to_uppercase().replace('-', " "));
    let recovered = again.submit_recovery_code(RD, &typed);
    assert_eq!(recovered.status, 200, "{}", recovered.body);

    // Replace the authenticator: the old one is removed, a new key shown.
    let reset = again.post_form(
        "/.gatehouse/enroll/reset",
        &[
            ("csrf_token", &form_token(&recovered)),
            ("rd", &hidden_input(&recovered.body, "rd").expect("rd")),
        ],
    );
    assert_eq!(reset.status, 303, "{}", reset.body);
    assert_eq!(reset.location(), Some(with_rd(ENROLL, RD).as_str()));
    let enrollment = again.enroll_with(Some(&old_app), RD);
    let new_app = enrollment.authenticator;
    assert_ne!(new_app.secret(), old_app.secret());

    // The old app's codes and the old recovery codes no longer work.
    let next = stack.at_challenge("alice", RD);
    let old_code = next.submit_code(RD, &old_app.code_now(), false);
    assert_eq!(old_code.status, 401, "the old authenticator still works");
    assert!(alert_text(&old_code.body).starts_with("That code didn't work."));
    let old_recovery = next.submit_recovery_code(RD, &codes[2]);
    assert_eq!(old_recovery.status, 401, "an old recovery code still works");
    let passed = next.submit_code(RD, &new_app.code(), false);
    assert_eq!((passed.status, passed.location()), (303, Some(RD)));
}

#[test]
fn wrong_recovery_codes_are_counted_and_lock_the_user_out() {
    let stack = Stack::start_with(Backend::Memory, |c| c.limits(3, 1000, "10m"));
    let (_, codes) = stack.enrolled("alice");
    let browser = stack.at_challenge("alice", RD);
    for attempt in 1..=3 {
        let refused = browser.submit_recovery_code(RD, "aaaa-bbbb-cccc");
        assert_eq!(refused.status, 401, "attempt {attempt}: {}", refused.body);
    }
    let locked = browser.submit_recovery_code(RD, &codes[0]);
    assert_eq!(locked.status, 429, "{}", locked.body);
    assert!(alert_text(&locked.body).starts_with("Too many failed sign-in attempts."));
    assert_eq!(browser.get(RD).status, 403, "in while locked out");
}

#[test]
fn a_code_used_on_one_replica_is_refused_on_another() {
    let replicas = Replicas::start();
    let (first, second) = (&replicas.first, &replicas.second);

    let enrolling = first.client();
    enrolling.login_ok("alice");
    let (app, _) = enrolling.enroll();
    let on_first = first.client();
    let on_second = second.client();
    for client in [&on_first, &on_second] {
        let login = client.login("alice", PASSWORD, Some(RD));
        assert_eq!(login.location(), Some(with_rd(MFA, RD).as_str()));
    }
    let code = app.code();
    assert_eq!(on_first.submit_code(RD, &code, false).status, 303);
    let replayed = on_second.submit_code(RD, &code, false);
    assert_eq!(replayed.status, 401, "{}", replayed.body);
    assert!(alert_text(&replayed.body).contains("already been used"));
    assert_eq!(on_second.get(RD).status, 403);
}
