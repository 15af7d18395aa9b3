//! Codes by email and text message, end to end: a real SMTP server
//! (aiosmtpd) and a local server speaking Twilio's Messages API receive
//! what the gateway sends; the test reads the code from the message the way
//! a user would.

use std::time::Duration;

use gatehouse_tests::harness::mfa::{alert_text, recovery_codes, ENROLL, MFA};
use gatehouse_tests::harness::sms::SmsProvider;
use gatehouse_tests::harness::smtp::{one_time_code, SmtpSink};
use gatehouse_tests::harness::store::audit_log;
use gatehouse_tests::{
    both_backends, eventually, with_rd, Authenticator, Backend, Client, GatewayConfig, Response,
    Stack, UserSpec,
};

const RD: &str = "/secure/report";
const FROM: &str = "Gatehouse <gatehouse@example.test>";
const SID: &str = "AC0123456789abcdef0123456789abcdef";
const TOKEN: &str = "twilio-auth-token";
const SENDER: &str = "+15005550006";
const DAVE_PHONE: &str = "+15555550123";

fn with_email(sink: &SmtpSink) -> impl FnOnce(GatewayConfig) -> GatewayConfig + '_ {
    // No pause between codes: flows here send several in a row.
    move |c| c.email_via(&sink.url(), FROM).resend_after("0s")
}

/// A form on `page` posted with its CSRF token and `rd`.
fn post(client: &Client, page: &str, action: &str, fields: &[(&str, &str)]) -> Response {
    let token = client.token_from(page);
    let mut all = vec![("csrf_token", token.as_str()), ("rd", RD)];
    all.extend_from_slice(fields);
    client.post_form(action, &all)
}

fn send_for_enrollment(client: &Client, channel: &str) -> Response {
    post(
        client,
        &with_rd(ENROLL, RD),
        "/.gatehouse/enroll/send",
        &[("channel", channel)],
    )
}

fn confirm_channel(client: &Client, channel: &str, code: &str) -> Response {
    post(
        client,
        &with_rd(ENROLL, RD),
        ENROLL,
        &[("channel", channel), ("code", code)],
    )
}

fn send_for_sign_in(client: &Client, channel: &str) -> Response {
    post(
        client,
        &with_rd(MFA, RD),
        "/.gatehouse/mfa/send",
        &[("channel", channel)],
    )
}

fn enter_code(client: &Client, code: &str) -> Response {
    post(client, &with_rd(MFA, RD), MFA, &[("code", code)])
}

fn sent_location(path: &str, channel: &str) -> String {
    format!("{}&sent={channel}", with_rd(path, RD))
}

/// A code that differs from `code`.
fn other_than(code: &str) -> String {
    if code == "000000" { "000001" } else { "000000" }.to_owned()
}

/// Signs `user` in with the password and turns on email codes; returns the
/// recovery codes shown.
fn enroll_email(stack: &Stack, sink: &SmtpSink, user: &str, nth_mail: usize) -> Vec<String> {
    let client = stack.client();
    client.login_ok(user);
    let sent = send_for_enrollment(&client, "email");
    assert_eq!(
        (sent.status, sent.location()),
        (303, Some(sent_location(ENROLL, "email").as_str())),
        "{}",
        sent.body
    );
    let mail = sink.wait_for_mail(&format!("{user}@example.com"), nth_mail);
    let code = one_time_code(&mail.body).expect("a code in the mail");
    let done = confirm_channel(&client, "email", &code);
    assert_eq!(done.status, 200, "{}", done.body);
    recovery_codes(&done.body)
}

fn email_codes_are_enrolled_and_then_sign_the_user_in(backend: Backend) {
    let sink = SmtpSink::start();
    let stack = Stack::start_with(backend, with_email(&sink));
    let browser = stack.client();
    browser.login_ok("alice");

    let page = browser.get_html(&with_rd(ENROLL, RD));
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains(r#"id="enroll-send-email""#),
        "{}",
        page.body
    );
    assert!(page.body.contains("a•••e@example.com"), "masked address");
    assert!(
        !page.body.contains("alice@example.com"),
        "the address is not shown in full"
    );

    let sent = send_for_enrollment(&browser, "email");
    assert_eq!(
        sent.location(),
        Some(sent_location(ENROLL, "email").as_str())
    );
    let mail = sink.wait_for_mail("alice@example.com", 1);
    assert_eq!(mail.from, "gatehouse@example.test");
    let code = one_time_code(&mail.body).expect("a code in the mail");
    assert!(mail.subject.contains(&code), "{}", mail.subject);

    let confirm = browser.get_html(&sent_location(ENROLL, "email"));
    assert!(
        confirm.body.contains(r#"id="confirm-channel""#),
        "{}",
        confirm.body
    );
    let wrong = confirm_channel(&browser, "email", &other_than(&code));
    assert_eq!(wrong.status, 400, "{}", wrong.body);
    assert!(
        alert_text(&wrong.body).contains("didn't match"),
        "{}",
        wrong.body
    );

    let done = confirm_channel(&browser, "email", &code);
    assert_eq!(done.status, 200, "{}", done.body);
    assert_eq!(recovery_codes(&done.body).len(), 10, "{}", done.body);
    let account = browser.get_html("/.gatehouse/account");
    assert!(
        account.body.contains(r#"data-factor="email""#),
        "{}",
        account.body
    );
    assert_eq!(browser.get(RD).status, 200, "the session stepped up");

    // Next sign-in: the password, then a code by email.
    let next = stack.client();
    let login = next.login("alice", gatehouse_tests::PASSWORD, Some(RD));
    assert_eq!(login.location(), Some(with_rd(MFA, RD).as_str()));
    let challenge = next.get_html(&with_rd(MFA, RD));
    assert!(
        challenge.body.contains(r#"id="send-email""#),
        "{}",
        challenge.body
    );
    let sent = send_for_sign_in(&next, "email");
    assert_eq!(sent.location(), Some(sent_location(MFA, "email").as_str()));
    let notice = next.get_html(&sent_location(MFA, "email"));
    assert!(notice.body.contains(r#"id="code-sent""#), "{}", notice.body);
    let code = one_time_code(&sink.wait_for_mail("alice@example.com", 2).body).unwrap();
    assert_eq!(next.get(RD).status, 403, "not in before the code");
    let passed = enter_code(&next, &code);
    assert_eq!(
        (passed.status, passed.location()),
        (303, Some(RD)),
        "{}",
        passed.body
    );
    let reached = next.get(RD);
    assert_eq!(reached.status, 200);
    let seen = stack.upstream.last();
    assert_eq!(seen.header("remote-user").as_deref(), Some("alice"));

    let log = audit_log(&stack.gateway.store_url(), "alice");
    let has = |event: &str, outcome: &str, detail: &str| {
        log.iter().any(|e| {
            e.event == event && e.outcome == outcome && e.detail.as_deref() == Some(detail)
        })
    };
    assert!(has("mfa_enrolled", "ok", "email"), "{log:?}");
    assert!(has("mfa_enrolled", "failed", "email"), "{log:?}");
    assert!(has("code_sent", "ok", "email"), "{log:?}");
    assert!(has("mfa_challenge", "ok", "email"), "{log:?}");
    assert!(
        !stack.gateway.logs().contains(&code),
        "a code reached the gateway's log"
    );
}

fn text_messages_go_through_the_providers_api(backend: Backend) {
    let provider = SmsProvider::start(SID, TOKEN);
    let stack = Stack::start_with(backend, |c| {
        c.sms_via(&provider.url(), SID, TOKEN, SENDER)
            .resend_after("0s")
            .user(UserSpec::new("dave").phone(DAVE_PHONE))
    });
    let browser = stack.client();
    browser.login_ok("dave");
    let page = browser.get_html(&with_rd(ENROLL, RD));
    assert!(page.body.contains("••• 0123"), "{}", page.body);
    assert_eq!(send_for_enrollment(&browser, "sms").status, 303);
    let sms = provider.wait_for_sms(DAVE_PHONE, 1);
    assert_eq!(sms.from, SENDER);
    let code = one_time_code(&sms.body).expect("a code in the text");
    assert!(
        sms.authorization.starts_with("Basic "),
        "{}",
        sms.authorization
    );
    let done = confirm_channel(&browser, "sms", &code);
    assert_eq!(done.status, 200, "{}", done.body);

    let next = stack.client();
    next.login("dave", gatehouse_tests::PASSWORD, Some(RD));
    assert_eq!(send_for_sign_in(&next, "sms").status, 303);
    let code = one_time_code(&provider.wait_for_sms(DAVE_PHONE, 2).body).unwrap();
    assert_eq!(enter_code(&next, &code).location(), Some(RD));
    assert_eq!(next.get(RD).status, 200);
}

both_backends!(
    email_codes_are_enrolled_and_then_sign_the_user_in,
    text_messages_go_through_the_providers_api,
);

#[test]
fn a_sent_code_works_once_and_a_newer_one_replaces_it() {
    let sink = SmtpSink::start();
    let stack = Stack::start_with(Backend::Redis, |c| {
        c.email_via(&sink.url(), FROM).resend_after("0s")
    });
    enroll_email(&stack, &sink, "alice", 1);
    let first = stack.client();
    first.login("alice", gatehouse_tests::PASSWORD, Some(RD));
    assert_eq!(send_for_sign_in(&first, "email").status, 303);
    let old = one_time_code(&sink.wait_for_mail("alice@example.com", 2).body).unwrap();
    assert_eq!(send_for_sign_in(&first, "email").status, 303);
    let new = one_time_code(&sink.wait_for_mail("alice@example.com", 3).body).unwrap();
    if old != new {
        let refused = enter_code(&first, &old);
        assert_eq!(refused.status, 401, "the replaced code still worked");
        assert!(alert_text(&refused.body).contains("newest message"));
    }
    assert_eq!(enter_code(&first, &new).location(), Some(RD));

    let second = stack.client();
    second.login("alice", gatehouse_tests::PASSWORD, Some(RD));
    let replayed = enter_code(&second, &new);
    assert_eq!(replayed.status, 401, "a used code opened a second session");
    assert_eq!(second.get(RD).status, 403);
}

#[test]
fn a_password_alone_cannot_add_a_channel_to_a_protected_account() {
    let sink = SmtpSink::start();
    let stack = Stack::start_with(Backend::Memory, with_email(&sink));
    let (_app, _) = stack.enrolled("alice");
    let intruder = stack.at_challenge("alice", RD);
    let to_challenge = with_rd(MFA, RD);
    let page = intruder.get_html(&with_rd(ENROLL, RD));
    assert_eq!(
        page.location(),
        Some(to_challenge.as_str()),
        "{}",
        page.body
    );
    let sent = send_for_enrollment(&intruder, "email");
    assert_eq!(
        sent.location(),
        Some(to_challenge.as_str()),
        "{}",
        sent.body
    );
    let confirm = confirm_channel(&intruder, "email", "123456");
    assert_eq!(confirm.location(), Some(to_challenge.as_str()));
    assert!(
        sink.mails_to("alice@example.com").is_empty(),
        "a code was sent"
    );
    // And a channel alice never enrolled is not offered at the challenge.
    let challenge = intruder.get_html(&to_challenge);
    assert!(!challenge.body.contains(r#"id="send-email""#));
    let refused = send_for_sign_in(&intruder, "email");
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(sink.mails_to("alice@example.com").is_empty());
}

#[test]
fn sending_is_paused_between_codes_and_capped_per_user() {
    let sink = SmtpSink::start();
    let stack = Stack::start_with(Backend::Memory, |c| c.email_via(&sink.url(), FROM));
    let browser = stack.client();
    browser.login_ok("bob");
    assert_eq!(send_for_enrollment(&browser, "email").status, 303);
    let again = send_for_enrollment(&browser, "email");
    assert_eq!(again.status, 429, "{}", again.body);
    let wait: u64 = again
        .header("retry-after")
        .and_then(|v| v.parse().ok())
        .expect("Retry-After in seconds");
    assert!((1..=30).contains(&wait), "{wait}");
    let message = alert_text(&again.body);
    assert!(message.contains("moments ago"), "{}", again.body);
    assert!(message.contains(&format!("in {wait} seconds")), "{message}");
    // The wait counts down: it says what is left of the pause, not all of it.
    eventually(Duration::from_secs(10), "a shorter wait", || {
        let later = send_for_enrollment(&browser, "email");
        assert_eq!(later.status, 429);
        let left: u64 = later.header("retry-after")?.parse().ok()?;
        (left < wait).then_some(())
    });
    sink.wait_for_mail("bob@example.com", 1);

    let capped = Stack::start_with(Backend::Memory, |c| {
        c.email_via(&sink.url(), FROM)
            .resend_after("0s")
            .limits(2, 1000, "10m")
    });
    let browser = capped.client();
    browser.login_ok("alice");
    assert_eq!(send_for_enrollment(&browser, "email").status, 303);
    assert_eq!(send_for_enrollment(&browser, "email").status, 303);
    let third = send_for_enrollment(&browser, "email");
    assert_eq!(third.status, 429, "{}", third.body);
    assert!(
        alert_text(&third.body).contains("Too many codes"),
        "{}",
        third.body
    );
    let log = audit_log(&capped.gateway.store_url(), "alice");
    assert!(log
        .iter()
        .any(|e| e.event == "code_sent" && e.outcome == "refused_limit"));
    assert_eq!(sink.mails_to("alice@example.com").len(), 2);
    // The last code sent still works: the cap stops sending, not signing in.
    let code = one_time_code(&sink.wait_for_mail("alice@example.com", 2).body).unwrap();
    assert_eq!(confirm_channel(&browser, "email", &code).status, 200);
}

#[test]
fn a_provider_outage_is_reported_and_leaves_no_usable_code() {
    let provider = SmsProvider::start(SID, TOKEN);
    let stack = Stack::start_with(Backend::Memory, |c| {
        c.sms_via(&provider.url(), SID, TOKEN, SENDER)
            .resend_after("0s")
            .user(UserSpec::new("dave").phone(DAVE_PHONE))
    });
    let browser = stack.client();
    browser.login_ok("dave");
    provider.set_outage(true);
    let failed = send_for_enrollment(&browser, "sms");
    assert_eq!(failed.status, 503, "{}", failed.body);
    assert!(
        alert_text(&failed.body).contains("couldn't send"),
        "{}",
        failed.body
    );
    assert_eq!(provider.attempts(), 1);
    let log = audit_log(&stack.gateway.store_url(), "dave");
    assert!(log
        .iter()
        .any(|e| e.event == "code_sent" && e.outcome == "failed"));
    let nothing = confirm_channel(&browser, "sms", "123456");
    assert_eq!(nothing.status, 400);
    assert!(alert_text(&nothing.body).contains("expired or was replaced"));

    provider.set_outage(false);
    assert_eq!(send_for_enrollment(&browser, "sms").status, 303);
    let code = one_time_code(&provider.wait_for_sms(DAVE_PHONE, 1).body).unwrap();
    assert_eq!(confirm_channel(&browser, "sms", &code).status, 200);

    // Wrong credentials are the provider refusing, said the same way.
    let misconfigured = Stack::start_with(Backend::Memory, |c| {
        c.sms_via(&provider.url(), SID, "wrong-token", SENDER)
            .user(UserSpec::new("dave").phone(DAVE_PHONE))
    });
    let browser = misconfigured.client();
    browser.login_ok("dave");
    assert_eq!(send_for_enrollment(&browser, "sms").status, 503);
    assert!(
        misconfigured.gateway.logs().contains("20003"),
        "the provider's error code is logged for the operator"
    );
}

#[test]
fn channels_are_removed_one_at_a_time_and_the_last_only_by_turning_mfa_off() {
    let sink = SmtpSink::start();
    let stack = Stack::start_with(Backend::Memory, with_email(&sink));
    enroll_email(&stack, &sink, "bob", 1);
    let browser = stack.client();
    browser.login("bob", gatehouse_tests::PASSWORD, Some(RD));
    assert_eq!(send_for_sign_in(&browser, "email").status, 303);
    let code = one_time_code(&sink.wait_for_mail("bob@example.com", 2).body).unwrap();
    assert_eq!(enter_code(&browser, &code).location(), Some(RD));

    let only = browser.account_post("/.gatehouse/account/factor/remove", &[("channel", "email")]);
    assert_eq!(only.status, 409, "{}", only.body);

    // Add an authenticator, then email can go. A second factor keeps the
    // recovery codes bob saved: no new ones are shown.
    let page = browser.get_html(&with_rd(ENROLL, "/.gatehouse/account"));
    assert_eq!(page.status, 200, "{}", page.body);
    let app = Authenticator::from_enroll_page(&page.body);
    let added = post(
        &browser,
        &with_rd(ENROLL, RD),
        ENROLL,
        &[("code", &app.code())],
    );
    assert_eq!(
        added.location(),
        Some("/.gatehouse/account?done=factor_added"),
        "{}",
        added.body
    );
    let removed =
        browser.account_post("/.gatehouse/account/factor/remove", &[("channel", "email")]);
    assert_eq!(
        removed.location(),
        Some("/.gatehouse/account?done=factor_removed"),
        "{}",
        removed.body
    );
    let account = browser.get_html("/.gatehouse/account");
    assert!(!account.body.contains(r#"data-factor="email""#));
    assert!(account.body.contains(r#"data-factor="app""#));

    // An email-only user turns MFA off without an app code.
    enroll_email(&stack, &sink, "alice", 1);
    let alice = stack.client();
    alice.login("alice", gatehouse_tests::PASSWORD, Some(RD));
    assert_eq!(send_for_sign_in(&alice, "email").status, 303);
    let code = one_time_code(&sink.wait_for_mail("alice@example.com", 2).body).unwrap();
    assert_eq!(enter_code(&alice, &code).location(), Some(RD));
    let off = alice.account_post("/.gatehouse/mfa/disable", &[]);
    assert_eq!(off.location(), Some("/.gatehouse/account?done=mfa_off"));
    let again = stack.client();
    let login = again.login("alice", gatehouse_tests::PASSWORD, Some(RD));
    assert!(login.succeeded());
    assert_ne!(
        login.location(),
        Some(with_rd(MFA, RD).as_str()),
        "MFA is off"
    );
}
