//! Setting up an authenticator app, end to end, with codes made by
//! `oathtool` as a phone would make them: the enrollment page, one- and
//! two-code confirmation, signing in afterwards, and what the organisation's
//! enforcement setting changes (the reminder, or no way around enrolling).

use std::collections::BTreeMap;

use gatehouse_tests::harness::mfa::{form_token, ACCOUNT, ENROLL, MFA, REMIND};
use gatehouse_tests::harness::totp::{base32_decode, current_step};
use gatehouse_tests::{
    link_href, otpauth_uri, percent_decode, recovery_codes, totp_secret, with_rd, Authenticator,
    Backend, Stack, PASSWORD,
};

/// Where the tests pretend the user was going.
const RD: &str = "/secure/report";

#[test]
fn enroll_page_shows_a_160_bit_grouped_secret_and_a_standard_otpauth_uri() {
    let stack = Stack::start_with(Backend::Memory, |c| c.mfa_issuer("ACME Gate"));
    let client = stack.client();
    client.login_ok("bob");
    let page = client.get_html(&with_rd(ENROLL, RD));
    assert_eq!(page.status, 200, "{}", page.body);

    // The manual key: base32 in groups of four, at least 160 bits.
    let shown = totp_secret(&page.body).expect("a manual key in id=\"totp-secret\"");
    let groups: Vec<&str> = shown.split(' ').collect();
    assert!(groups.len() >= 8, "not grouped for reading: {shown:?}");
    let (last, full) = groups.split_last().expect("groups");
    assert!(
        full.iter().all(|g| g.len() == 4) && (1..=4).contains(&last.len()),
        "groups of four expected: {shown:?}"
    );
    let secret = groups.concat();
    let bytes = base32_decode(&secret).unwrap_or_else(|| panic!("not base32: {shown:?}"));
    assert!(bytes.len() * 8 >= 160, "only {} bits", bytes.len() * 8);

    // The URI every authenticator app reads (and the QR code encodes).
    let uri = otpauth_uri(&page.body).expect("an otpauth:// link");
    let rest = uri.strip_prefix("otpauth://totp/").expect("a TOTP URI");
    let (label, query) = rest.split_once('?').expect("a query");
    assert_eq!(percent_decode(label), "ACME Gate:bob");
    let params: BTreeMap<String, String> = query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_string(), percent_decode(v)))
        .collect();
    assert_eq!(params.get("secret"), Some(&secret), "{uri}");
    assert_eq!(params.get("issuer").map(String::as_str), Some("ACME Gate"));
    assert_eq!(params.get("algorithm").map(String::as_str), Some("SHA1"));
    assert_eq!(params.get("digits").map(String::as_str), Some("6"));
    assert_eq!(params.get("period").map(String::as_str), Some("30"));
    assert!(page.body.contains("<svg"), "no inline QR code");
    for app in [
        "Google Authenticator",
        "Microsoft Authenticator",
        "Authy",
        "Duo Mobile",
        "Okta Verify",
    ] {
        assert!(page.body.contains(app), "the page does not name {app}");
    }

    // A reload shows the same key: the phone may already have scanned it.
    let reloaded = client.get_html(ENROLL);
    assert_eq!(totp_secret(&reloaded.body).as_deref(), Some(shown.as_str()));

    // A wrong code is refused and leaves MFA off.
    let app = Authenticator::new(&shown);
    let token = form_token(&page);
    let wrong = app.wrong_code();
    let refused = client.post_form(
        ENROLL,
        &[("code", &wrong), ("csrf_token", &token), ("rd", RD)],
    );
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(refused.body.contains("That code didn't match"));
    assert!(recovery_codes(&refused.body).is_empty());
    assert!(client.get_html(ACCOUNT).body.contains(">Off<"));

    // The app's code turns it on and shows ten single-use recovery codes.
    let confirmed = client.post_form(
        ENROLL,
        &[("code", &app.code()), ("csrf_token", &token), ("rd", RD)],
    );
    assert_eq!(confirmed.status, 200, "{}", confirmed.body);
    let codes = recovery_codes(&confirmed.body);
    assert_eq!(codes.len(), 10, "{}", confirmed.body);
    let distinct: std::collections::BTreeSet<_> = codes.iter().collect();
    assert_eq!(distinct.len(), 10, "repeated recovery codes: {codes:?}");
    for code in &codes {
        let symbols = code.chars().filter(char::is_ascii_alphanumeric).count();
        assert!(symbols >= 12, "recovery code {code:?} is too short");
    }
    let saved = client.save_recovery_codes(&confirmed);
    assert_eq!((saved.status, saved.location()), (303, Some(RD)));

    // After confirmation the key is never shown again.
    let later = client.get_html(ENROLL);
    assert!(
        (300..400).contains(&later.status),
        "the enrollment page answered {} for an enrolled user",
        later.status
    );
    assert_eq!(later.location(), Some(ACCOUNT));
    let account = client.get_html(ACCOUNT);
    assert_eq!(account.status, 200);
    for html in [&later.body, &account.body] {
        assert!(!html.contains(&secret) && !html.contains(&shown));
        assert!(!html.contains("totp-secret"));
    }
}

#[test]
fn an_enrolled_user_signs_in_with_the_next_code_from_the_app() {
    let stack = Stack::start(Backend::Memory);
    let phone = stack.client();
    phone.login_ok("alice");
    let enrollment = phone.enroll_with(None, "/");
    let app = enrollment.authenticator;

    let browser = stack.client();
    let login = browser.login("alice", PASSWORD, Some(RD));
    assert!(login.succeeded(), "password refused: {}", login.status());
    assert_eq!(login.location(), Some(with_rd(MFA, RD).as_str()));
    // Until the code, nothing is reachable.
    let api = browser.get("/private/x");
    assert_eq!(api.status, 403, "{}", api.body);
    assert_eq!(api.json()["error"], "mfa_required");
    let page = browser.get_html(RD);
    assert_eq!(page.status, 302);
    assert_eq!(page.location(), Some(with_rd(MFA, RD).as_str()));
    assert_eq!(
        stack.upstream.count(),
        0,
        "the app was reached without a code"
    );

    // The code that confirmed the enrollment is spent.
    let spent = &enrollment.confirmation_codes[0];
    let replayed = browser.submit_code(RD, spent, false);
    assert_eq!(replayed.status, 401, "{}", replayed.body);
    assert!(
        replayed.body.contains("already been used"),
        "{}",
        replayed.body
    );

    // The app's next code lets the user in, where they were going.
    let next = app.next_code();
    let passed = browser.submit_code(RD, &next, false);
    assert_eq!(
        (passed.status, passed.location()),
        (303, Some(RD)),
        "{}",
        passed.body
    );
    let reached = browser.get(RD);
    assert_eq!(reached.status, 200, "{}", reached.body);
    assert_eq!(
        stack.upstream.last().header("remote-user").as_deref(),
        Some("alice")
    );
}

#[test]
fn two_code_enrollment_needs_two_consecutive_codes() {
    let stack = Stack::start_with(Backend::Memory, |c| c.enroll_two_codes(true));
    let client = stack.client();
    client.login_ok("bob");
    let page = client.get_html(&with_rd(ENROLL, RD));
    assert!(
        page.body.contains(r#"name="code2""#),
        "no second code field"
    );
    let app = Authenticator::from_enroll_page(&page.body);
    let token = form_token(&page);
    let post = |code: &str, code2: &str| {
        client.post_form(
            ENROLL,
            &[
                ("code", code),
                ("code2", code2),
                ("csrf_token", &token),
                ("rd", RD),
            ],
        )
    };

    let step = current_step();
    let (now, next) = (app.code_at_step(step), app.code_at_step(step + 1));
    for (code, code2, why) in [
        (now.as_str(), now.as_str(), "the same code twice"),
        (now.as_str(), "", "one code only"),
        (next.as_str(), now.as_str(), "two codes in the wrong order"),
    ] {
        let refused = post(code, code2);
        assert_eq!(refused.status, 400, "{why} was accepted: {}", refused.body);
        assert!(
            refused.body.contains("Those codes didn't match"),
            "{why}: {}",
            refused.body
        );
    }

    let (first, second) = app.consecutive_codes();
    let confirmed = post(&first, &second);
    assert_eq!(confirmed.status, 200, "{}", confirmed.body);
    assert_eq!(recovery_codes(&confirmed.body).len(), 10);
    // Enrolling proved the second factor on this session.
    let secure = client.get(RD);
    assert_eq!(secure.status, 200, "{}", secure.body);
}

#[test]
fn with_enforcement_a_user_without_mfa_reaches_nothing_until_enrolled() {
    let stack = Stack::start_with(Backend::Memory, |c| c.mfa_enforce(true));
    let client = stack.client();
    let rd = "/private/page?x=1";
    let login = client.login("alice", PASSWORD, Some(rd));
    assert!(login.succeeded(), "password refused: {}", login.status());
    assert_eq!(login.location(), Some(with_rd(ENROLL, rd).as_str()));

    for path in [rd, "/", "/secure/x"] {
        let api = client.get(path);
        assert_eq!(api.status, 403, "{path}: {}", api.body);
        assert_eq!(api.json()["error"], "mfa_required", "{path}");
        let page = client.get_html(path);
        assert_eq!(page.status, 302, "{path}");
        assert_eq!(page.location(), Some(with_rd(ENROLL, path).as_str()));
    }
    // The portal's other pages lead to enrollment too; no reminder to skip.
    for page in [ACCOUNT.to_string(), with_rd(REMIND, rd), with_rd(MFA, rd)] {
        let answer = client.get_html(&page);
        assert_eq!(answer.status, 302, "{page}: {}", answer.body);
        let location = answer.location().unwrap_or_default();
        assert!(location.starts_with(ENROLL), "{page} led to {location}");
    }
    assert_eq!(stack.upstream.count(), 0, "the app was reached");

    let enroll = client.get_html(&with_rd(ENROLL, rd));
    assert!(enroll
        .body
        .contains("Your organisation requires two-factor authentication"));
    assert_eq!(link_href(&enroll.body, "Cancel"), None, "a way to skip");

    client.enroll_with(None, rd);
    let reached = client.get(rd);
    assert_eq!(reached.status, 200, "{}", reached.body);
    assert_eq!(stack.upstream.count(), 1);
    assert_eq!(
        stack.upstream.last().header("remote-user").as_deref(),
        Some("alice")
    );
}

#[test]
fn without_enforcement_the_reminder_appears_at_each_sign_in_and_can_be_postponed() {
    let stack = Stack::start(Backend::Memory);
    let client = stack.client();
    let rd = "/private/docs?page=2";
    for round in 1..=2 {
        let login = client.login("alice", PASSWORD, Some(rd));
        assert!(login.succeeded(), "round {round}: {}", login.status());
        let reminder = with_rd(REMIND, rd);
        assert_eq!(login.location(), Some(reminder.as_str()), "round {round}");

        let page = client.get_html(&reminder);
        assert_eq!(page.status, 200, "round {round}: {}", page.body);
        assert!(page.body.contains("Protect your account"), "{}", page.body);
        assert_eq!(
            link_href(&page.body, "Set up now"),
            Some(with_rd(ENROLL, rd))
        );
        let later = link_href(&page.body, "Remind me later").expect("a remind-me-later link");
        assert_eq!(later, rd);

        let reached = client.get_html(&later);
        assert_eq!(reached.status, 200, "round {round}: {}", reached.body);
        assert_eq!(stack.upstream.last().path, rd);
        assert_eq!(client.logout().status, 303);
    }
}
