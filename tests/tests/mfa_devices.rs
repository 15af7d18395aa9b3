//! Remembered browsers, end to end: "Don't ask again on this browser"
//! skips the code for the configured days with a signed cookie bound to
//! the user, until the user forgets all devices (turning MFA off revokes
//! them too: see mfa_account.rs).

use gatehouse_tests::harness::mfa::{ACCOUNT, MFA};
use gatehouse_tests::harness::store::remembered_devices;
use gatehouse_tests::{with_rd, Backend, Stack, PASSWORD};

const RD: &str = "/secure/report";

#[test]
fn a_remembered_browser_skips_the_code_until_all_devices_are_forgotten() {
    let stack = Stack::start_with(Backend::Memory, |c| c.remember_device_days(7));
    let (app, _) = stack.enrolled("alice");
    let browser = stack.at_challenge("alice", RD);
    let passed = browser.submit_code(RD, &app.code(), true);
    assert_eq!(passed.status, 303, "{}", passed.body);
    let cookie = passed
        .set_cookie("gatehouse_device")
        .expect("ticking the box sets a device cookie");
    assert!(cookie.has("HttpOnly"));
    assert_eq!(cookie.attr("Max-Age"), Some("604800"));

    // Next time the password is enough on this browser.
    assert_eq!(browser.logout().status, 303);
    let login = browser.login("alice", PASSWORD, Some(RD));
    assert_eq!(login.location(), Some(RD), "asked for a code again");
    assert_eq!(browser.get(RD).status, 200);
    let account = browser.get_html(ACCOUNT);
    assert!(
        account.body.contains("Forget all devices"),
        "{}",
        account.body
    );
    assert_eq!(
        remembered_devices(&stack.gateway.store_url(), "alice").len(),
        1
    );

    // The cookie is bound to alice: it does nothing for bob.
    let (_, _) = stack.enrolled("bob");
    let bob = stack.client();
    bob.set_cookie("gatehouse_device", &cookie.value);
    let login = bob.login("bob", PASSWORD, Some(RD));
    assert_eq!(login.location(), Some(with_rd(MFA, RD).as_str()));

    // The cookie is signed: altered, it is worthless.
    let mut forged = cookie.value.clone();
    let last = forged.pop().expect("a non-empty cookie");
    forged.push(if last == 'A' { 'B' } else { 'A' });
    let other = stack.client();
    other.set_cookie("gatehouse_device", &forged);
    let login = other.login("alice", PASSWORD, Some(RD));
    assert_eq!(login.location(), Some(with_rd(MFA, RD).as_str()));

    // Forget all: even a browser that kept the cookie is asked again.
    let forgotten = browser.account_post("/.gatehouse/devices/forget", &[]);
    assert_eq!(forgotten.status, 303, "{}", forgotten.body);
    assert_eq!(
        forgotten.location(),
        Some("/.gatehouse/account?done=devices_forgotten")
    );
    assert!(forgotten
        .set_cookie("gatehouse_device")
        .is_some_and(|c| c.is_removal()));
    let account = browser.get_html("/.gatehouse/account?done=devices_forgotten");
    assert!(account.body.contains("No devices are remembered."));
    assert!(remembered_devices(&stack.gateway.store_url(), "alice").is_empty());
    let kept = stack.client();
    kept.set_cookie("gatehouse_device", &cookie.value);
    let login = kept.login("alice", PASSWORD, Some(RD));
    assert_eq!(login.location(), Some(with_rd(MFA, RD).as_str()));
    assert_eq!(kept.get(RD).status, 403);
}

#[test]
fn with_zero_remember_days_no_browser_is_remembered() {
    let stack = Stack::start_with(Backend::Memory, |c| c.remember_device_days(0));
    let (app, _) = stack.enrolled("alice");
    let browser = stack.at_challenge("alice", RD);
    let page = browser.get_html(&with_rd(MFA, RD));
    assert!(
        !page.body.contains("remember_device"),
        "a checkbox is offered"
    );
    // Ticking it anyway (a crafted form) changes nothing.
    let passed = browser.submit_code(RD, &app.code(), true);
    assert_eq!(passed.status, 303, "{}", passed.body);
    assert_eq!(passed.set_cookie("gatehouse_device"), None);
    assert!(remembered_devices(&stack.gateway.store_url(), "alice").is_empty());
    assert_eq!(browser.logout().status, 303);
    stack.at_challenge("alice", RD);
}
