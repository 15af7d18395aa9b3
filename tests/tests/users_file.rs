//! Editing the users file while the gateway runs: someone added, someone
//! who left disabled or removed, and a broken edit that changes nothing.

use std::time::Duration;

use gatehouse_tests::{Backend, Gateway, Stack, UserSpec, PASSWORD};

const APPLIED: &str = "gatehouse_users_reloads_total{result=\"applied\"}";
const REFUSED: &str = "gatehouse_users_reloads_total{result=\"refused\"}";

/// The gateway checks the file every second; this leaves room for a busy machine.
const WITHIN: Duration = Duration::from_secs(15);

fn stack() -> Stack {
    Stack::start_with(Backend::Memory, |config| config.metrics())
}

/// Waits until the gateway has counted one more users-file change of this kind.
fn counted(gateway: &Gateway, series: &str, before: f64) {
    gatehouse_tests::eventually(WITHIN, series, || {
        (gateway.metric(series) > before).then_some(())
    });
}

#[test]
fn a_user_added_to_the_file_can_sign_in_without_a_restart() {
    let mut stack = stack();
    let before = stack.gateway.metric(APPLIED);
    let refused = stack.client().login("dave", PASSWORD, None);
    assert_eq!(refused.status(), 401, "dave is not a user yet");

    stack
        .gateway
        .edit_users(|users| users.push(UserSpec::new("dave").email("dave@example.com")));
    counted(&stack.gateway, APPLIED, before);

    let dave = stack.client();
    dave.login_ok("dave");
    let seen = dave.get("/private/x");
    assert_eq!(seen.status, 200);
    let request = stack.upstream.last();
    assert_eq!(request.header("remote-user").as_deref(), Some("dave"));
    assert_eq!(
        request.header("remote-email").as_deref(),
        Some("dave@example.com")
    );
}

#[test]
fn a_user_disabled_or_removed_in_the_file_is_out_at_the_next_request() {
    let mut stack = stack();
    let alice = stack.client();
    alice.login_ok("alice");
    let bob = stack.client();
    bob.login_ok("bob");
    assert_eq!(alice.get("/private/x").status, 200);
    assert_eq!(bob.get("/private/x").status, 200);

    let before = stack.gateway.metric(APPLIED);
    stack.gateway.edit_users(|users| {
        users.retain(|u| u.username != "bob");
        for user in users.iter_mut().filter(|u| u.username == "alice") {
            *user = user.clone().disabled();
        }
    });
    counted(&stack.gateway, APPLIED, before);

    assert_eq!(alice.get("/private/x").status, 401, "alice is disabled");
    assert_eq!(bob.get("/private/x").status, 401, "bob was removed");
    let again = stack.client().login("alice", PASSWORD, None);
    assert_eq!(again.status(), 403, "{}", again.response.body);
    let again = stack.client().login("bob", PASSWORD, None);
    assert_eq!(again.status(), 401, "{}", again.response.body);
}

#[test]
fn a_broken_users_file_changes_nothing_and_says_why() {
    let mut stack = stack();
    let alice = stack.client();
    alice.login_ok("alice");
    let before = stack.gateway.metric(REFUSED);

    stack.gateway.replace_users_file(
        "users:\n  alice:\n    password: \"$argon2id$broken\"\n  dave:\n    password: plain\n",
    );
    counted(&stack.gateway, REFUSED, before);

    assert_eq!(
        alice.get("/private/x").status,
        200,
        "alice keeps her session"
    );
    stack.client().login_ok("bob");
    let logs = stack.gateway.full_logs();
    assert!(
        logs.contains("users.dave.password"),
        "names the key: {logs}"
    );
    assert!(logs.contains("keeping the users loaded before"), "{logs}");
    assert_eq!(
        stack.client().login("dave", PASSWORD, None).status(),
        401,
        "nothing from the broken file was applied"
    );

    // Fixed, the file applies as usual.
    let applied = stack.gateway.metric(APPLIED);
    stack
        .gateway
        .edit_users(|users| users.push(UserSpec::new("dave")));
    counted(&stack.gateway, APPLIED, applied);
    stack.client().login_ok("dave");
}
