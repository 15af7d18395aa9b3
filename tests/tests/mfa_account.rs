//! What a user changes on the account page (turning MFA off, new recovery
//! codes), what survives a restart on either durable store, and what the
//! audit log records, end to end.

use gatehouse_tests::harness::mfa::{ACCOUNT, ENROLL, MFA, RECOVER, REMIND};
use gatehouse_tests::harness::store::{
    audit_log, audit_log_all, now_ms, remembered_devices, totp_enrollment,
};
use gatehouse_tests::harness::totp::base32_decode;
use gatehouse_tests::{recovery_codes, with_rd, Authenticator, Backend, Postgres, Stack, PASSWORD};

const RD: &str = "/secure/report";
const DISABLE: &str = "/.gatehouse/mfa/disable";
const REGENERATE: &str = "/.gatehouse/recovery-codes/regenerate";
const FORGET: &str = "/.gatehouse/devices/forget";
const SIGN_OUT_EVERYWHERE: &str = "/.gatehouse/account/sign-out-everywhere";

#[test]
fn turning_mfa_off_needs_a_current_code_and_revokes_everything() {
    let stack = Stack::start(Backend::Memory);
    let setup = stack.client();
    setup.login_ok("alice");
    let (app, codes) = setup.enroll();
    let browser = stack.at_challenge("alice", RD);
    let passed = browser.submit_code(RD, &app.code(), true);
    let device = passed
        .set_cookie("gatehouse_device")
        .expect("a remembered device")
        .value;

    for code in [String::new(), app.wrong_code()] {
        let refused = browser.account_post(DISABLE, &[("code", &code)]);
        assert_eq!(refused.status, 401, "code {code:?}: {}", refused.body);
        assert!(refused
            .body
            .contains("two-factor authentication is still on"));
    }
    assert!(totp_enrollment(&stack.gateway.store_url(), "alice").is_some());

    let off = browser.account_post(DISABLE, &[("code", &app.code())]);
    assert_eq!(off.status, 303, "{}", off.body);
    assert_eq!(off.location(), Some("/.gatehouse/account?done=mfa_off"));
    let account = browser.get_html(off.location().unwrap());
    assert!(account.body.contains("Two-factor authentication is off."));
    assert!(account.body.contains(">Off<"));
    assert!(totp_enrollment(&stack.gateway.store_url(), "alice").is_none());

    // The password is enough again, even on the once-remembered browser,
    // and the old recovery codes are gone.
    let next = stack.client();
    next.set_cookie("gatehouse_device", &device);
    let login = next.login("alice", PASSWORD, Some(RD));
    assert_eq!(login.location(), Some(with_rd(REMIND, RD).as_str()));
    assert!(remembered_devices(&stack.gateway.store_url(), "alice").is_empty());
    let recovery = next.submit_recovery_code(RD, &codes[0]);
    assert_eq!(recovery.status, 401, "a recovery code outlived MFA");
}

#[test]
fn a_user_signs_out_of_every_browser_from_the_account_page() {
    let stack = Stack::start(Backend::Redis);
    let (laptop, phone, other) = (stack.client(), stack.client(), stack.client());
    laptop.login_ok("bob");
    phone.login_ok("bob");
    other.login_ok("alice");
    let page = laptop.get_html(ACCOUNT);
    assert!(
        page.body.contains(r#"id="sign-out-everywhere""#),
        "{}",
        page.body
    );

    // A forged form ends nothing.
    let forged = phone.post_form(SIGN_OUT_EVERYWHERE, &[("csrf_token", "forged")]);
    assert_eq!(forged.status, 403);
    assert_eq!(laptop.get("/private/x").status, 200);

    let token = laptop.token_from(ACCOUNT);
    let done = laptop.post_form(SIGN_OUT_EVERYWHERE, &[("csrf_token", &token)]);
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(done.location(), Some("/.gatehouse/login?logged_out=1"));
    assert!(done
        .set_cookie(laptop.session_cookie_name())
        .is_some_and(|c| c.is_removal()));
    for (who, client) in [("this browser", &laptop), ("the other browser", &phone)] {
        assert_eq!(
            client.get("/private/x").status,
            401,
            "{who} is still signed in"
        );
    }
    assert_eq!(
        other.get("/private/x").status,
        200,
        "alice keeps her session"
    );
    let entry = audit_log(&stack.gateway.store_url(), "bob")
        .into_iter()
        .find(|e| e.event == "signed_out_everywhere")
        .expect("audited");
    assert_eq!(
        entry.detail.as_deref(),
        Some("by the user; 2 sessions ended")
    );
    // Signed out, the form only leads to the sign-in page.
    let again = laptop.post_form(SIGN_OUT_EVERYWHERE, &[("csrf_token", &token)]);
    assert_eq!(again.status, 302);
}

#[test]
fn turning_mfa_off_is_refused_while_it_is_enforced() {
    let stack = Stack::start_with(Backend::Memory, |c| c.mfa_enforce(true));
    let client = stack.client();
    client.login_ok("alice");
    let (app, _) = client.enroll();
    let account = client.get_html(ACCOUNT);
    assert!(account.body.contains("can't be turned off"));
    assert!(
        !account.body.contains(DISABLE),
        "a turn-off form is offered"
    );

    let refused = client.account_post(DISABLE, &[("code", &app.code())]);
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert!(refused
        .body
        .contains("requires two-factor authentication, so it can't be turned off"));
    assert!(totp_enrollment(&stack.gateway.store_url(), "alice")
        .is_some_and(|e| e.confirmed_at.is_some()));
    stack.at_challenge("alice", RD);
}

#[test]
fn new_recovery_codes_replace_the_old_ones() {
    let stack = Stack::start(Backend::Memory);
    let client = stack.client();
    client.login_ok("alice");
    let (_, old) = client.enroll();

    let page = client.account_post(REGENERATE, &[]);
    assert_eq!(page.status, 200, "{}", page.body);
    let new = recovery_codes(&page.body);
    assert_eq!(new.len(), 10);
    assert!(new.iter().all(|code| !old.contains(code)));
    let saved = client.save_recovery_codes(&page);
    assert_eq!((saved.status, saved.location()), (303, Some(ACCOUNT)));
    assert!(client
        .get_html(ACCOUNT)
        .body
        .contains("10 recovery codes left."));

    let browser = stack.at_challenge("alice", RD);
    let refused = browser.submit_recovery_code(RD, &old[0]);
    assert_eq!(refused.status, 401, "an old recovery code still works");
    let accepted = browser.submit_recovery_code(RD, &new[0]);
    assert_eq!(accepted.status, 200, "{}", accepted.body);

    // Without MFA there are no recovery codes to make.
    let bob = stack.client();
    bob.login_ok("bob");
    let none = bob.account_post(REGENERATE, &[]);
    assert_eq!(none.status, 400, "{}", none.body);
    assert!(recovery_codes(&none.body).is_empty());
}

#[test]
fn wrong_codes_on_the_turn_off_form_count_toward_the_lockout() {
    let stack = Stack::start_with(Backend::Memory, |c| c.limits(3, 1000, "10m"));
    let client = stack.client();
    client.login_ok("alice");
    let (app, _) = client.enroll();
    for attempt in 1..=3 {
        let refused = client.account_post(DISABLE, &[("code", &app.wrong_code())]);
        assert_eq!(refused.status, 401, "attempt {attempt}: {}", refused.body);
    }
    // Guessing codes here must be as limited as on the challenge page.
    let locked = client.account_post(DISABLE, &[("code", &app.code())]);
    assert!(
        totp_enrollment(&stack.gateway.store_url(), "alice").is_some(),
        "after 3 wrong codes (the limit) a 4th attempt turned MFA off \
         (answer {} {:?})",
        locked.status,
        locked.location()
    );
    assert_eq!(locked.status, 429, "{}", locked.body);
}

#[test]
fn mfa_forms_refuse_a_forged_csrf_token_and_get_changes_nothing() {
    let stack = Stack::start(Backend::Memory);
    let client = stack.client();
    client.login_ok("alice");
    let (app, _) = client.enroll();
    let foreign = stack.client().csrf_token();
    let code = app.code();
    let reset = "/.gatehouse/enroll/reset";
    let ack = "/.gatehouse/recovery-codes/ack";
    for action in [
        DISABLE, REGENERATE, FORGET, reset, ack, MFA, RECOVER, ENROLL,
    ] {
        for token in ["", "forged", foreign.as_str()] {
            let fields = [("csrf_token", token), ("code", code.as_str()), ("rd", "/")];
            let refused = client.post_form(action, &fields);
            assert_eq!(refused.status, 403, "{action} took token {token:?}");
        }
    }
    for action in [DISABLE, REGENERATE, FORGET, reset, ack] {
        let fetched = client.get_html(action);
        assert_eq!(fetched.status, 405, "GET {action}");
        assert_eq!(fetched.header("allow"), Some("POST"));
    }
    assert!(totp_enrollment(&stack.gateway.store_url(), "alice").is_some());
    let account = client.get_html(ACCOUNT);
    assert!(account.body.contains("10 recovery codes left."));
    // The code was never looked at, so it still works.
    let off = client.account_post(DISABLE, &[("code", &code)]);
    assert_eq!(off.status, 303, "{}", off.body);
}

/// Enroll, restart the gateway (memory sessions: everyone is signed out),
/// and sign in with the same app and the same recovery codes.
fn enrollment_survives_a_restart(store_url: Option<String>) {
    let mut stack = Stack::start_with(Backend::Memory, |c| match &store_url {
        Some(url) => c.store_url(url),
        None => c,
    });
    let url = stack.gateway.store_url();
    let client = stack.client();
    client.login_ok("alice");
    let (app, codes) = client.enroll();

    // The secret is sealed at rest, in no readable encoding.
    let record = totp_enrollment(&url, "alice").expect("an enrollment in the store");
    assert!(record.confirmed_at.is_some());
    assert_no_secret_in(&record.secret_sealed, &app, &codes);

    stack.gateway.restart();
    let browser = stack.at_challenge("alice", RD);
    let passed = browser.submit_code(RD, &app.code(), false);
    assert_eq!((passed.status, passed.location()), (303, Some(RD)));
    assert_eq!(browser.get(RD).status, 200);
    let other = stack.at_challenge("alice", RD);
    assert_eq!(other.submit_recovery_code(RD, &codes[0]).status, 200);
}

#[test]
fn enrollment_survives_a_restart_on_sqlite() {
    enrollment_survives_a_restart(None);
}

#[test]
fn enrollment_survives_a_restart_on_postgresql() {
    let postgres = Postgres::start();
    let url = postgres.create_database("gatehouse");
    enrollment_survives_a_restart(Some(url));
}

/// Every form in which a secret of `app` or a recovery code could leak.
fn secret_forms(app: &Authenticator, recovery: &[String]) -> Vec<String> {
    let base32 = app.secret().to_string();
    let bytes = base32_decode(&base32).expect("base32 secret");
    let grouped: Vec<String> = base32
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    let mut forms = vec![
        base32.clone(),
        base32.to_lowercase(),
        grouped.join(" "),
        hex::encode(&bytes),
    ];
    for code in recovery {
        forms.push(code.clone());
        forms.push(code.replace('-', ""));
    }
    forms
}

fn assert_no_secret_in(text: &str, app: &Authenticator, recovery: &[String]) {
    for secret in secret_forms(app, recovery) {
        assert!(
            !text.contains(&secret) && !text.contains(&secret.to_uppercase()),
            "{secret:?} appears in {text:?}"
        );
    }
}

/// Six-digit numbers standing alone in `log` (timestamps and decimal
/// fractions aside), where a leaked code would show.
fn six_digit_words(log: &str) -> Vec<String> {
    let mut words = Vec::new();
    for line in log.lines() {
        // The leading timestamp carries microseconds.
        let line = line.split_once(' ').map_or(line, |(first, rest)| {
            if first.starts_with("20") && first.contains('T') {
                rest
            } else {
                line
            }
        });
        let bytes = line.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if !bytes[i].is_ascii_digit() {
                i += 1;
                continue;
            }
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            let before = start.checked_sub(1).map(|b| bytes[b]);
            let after = bytes.get(i).copied();
            let alone = |b: Option<u8>| b.is_none_or(|b| !b.is_ascii_alphanumeric() && b != b'.');
            if i - start == 6 && alone(before) && alone(after) {
                words.push(line[start..i].to_string());
            }
        }
    }
    words
}

#[test]
fn six_digit_words_finds_a_code_but_not_timestamps_or_fractions() {
    let log = "2026-11-22T22:21:05.397982Z  INFO audit: code=123456 took 0.654321s \
               id 1234567 at 2026-11-22T22:21:05.111111Z x\"222222\"";
    assert_eq!(six_digit_words(log), ["123456", "222222"]);
}

#[test]
fn the_audit_log_records_each_mfa_event_and_never_a_secret_or_code() {
    // Debug logging: whatever the gateway could leak, it would write here.
    let stack = Stack::start_with(Backend::Memory, |c| c.log_filter("debug"));
    let url = stack.gateway.store_url();
    let started = now_ms();
    let setup = stack.client();
    setup.login_ok("alice");
    let enrollment = setup.enroll_with(None, "/");
    let app = &enrollment.authenticator;
    let recovery = &enrollment.recovery_codes;
    let mut codes = enrollment.confirmation_codes.clone();

    let browser = stack.at_challenge("alice", RD);
    let wrong = app.wrong_code();
    assert_eq!(browser.submit_code(RD, &wrong, false).status, 401);
    let good = app.code();
    assert_eq!(browser.submit_code(RD, &good, true).status, 303);
    let replay = stack.at_challenge("alice", RD);
    assert_eq!(replay.submit_code(RD, &good, false).status, 401);
    assert_eq!(replay.submit_recovery_code(RD, &recovery[0]).status, 200);
    assert_eq!(browser.account_post(FORGET, &[]).status, 303);
    let off = app.code();
    assert_eq!(browser.account_post(DISABLE, &[("code", &off)]).status, 303);
    codes.extend([wrong, good, off]);
    let ended = now_ms();

    let entries = audit_log(&url, "alice");
    let expected = [
        ("mfa_enrolled", "ok"),
        ("mfa_challenge", "failed"),
        ("mfa_challenge", "ok"),
        ("code_replay_refused", "failed"),
        ("recovery_code_used", "ok"),
        ("devices_forgotten", "ok"),
        ("mfa_disabled", "ok"),
    ];
    let mut rest = entries.iter();
    for (event, outcome) in expected {
        let entry = rest
            .find(|e| e.event == event && e.outcome == outcome)
            .unwrap_or_else(|| panic!("no {event}/{outcome} (in order) in {entries:#?}"));
        assert!(
            (started..=ended).contains(&entry.at_ms),
            "{event}: time {} outside the test",
            entry.at_ms
        );
        assert_eq!(entry.username.as_deref(), Some("alice"), "{event}");
        assert_eq!(entry.ip.as_deref(), Some("127.0.0.1"), "{event}");
    }

    // No secret, recovery code or authenticator code in any row or log line.
    let log = stack.gateway.full_logs();
    assert!(log.contains("mfa_enrolled"), "no audit lines in the log");
    for entry in audit_log_all(&url) {
        let fields = [
            entry.username.unwrap_or_default(),
            entry.ip.unwrap_or_default(),
            entry.event,
            entry.outcome,
            entry.detail.unwrap_or_default(),
        ];
        for field in fields {
            assert_no_secret_in(&field, app, recovery);
            for code in &codes {
                assert!(!field.contains(code.as_str()), "code {code} in {field:?}");
            }
        }
    }
    assert_no_secret_in(&log, app, recovery);
    let numbers = six_digit_words(&log);
    for code in &codes {
        assert!(
            !numbers.contains(code),
            "the code {code} appears in the gateway's log"
        );
    }
}
