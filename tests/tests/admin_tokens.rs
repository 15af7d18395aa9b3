//! Service tokens made in the admin console, end to end: shown once, kept
//! only as a hash, passing as `service:<name>`, held to their app, revoked
//! on every replica, replaced with the old one working until ended, and
//! bad forms refused without a token made.

use std::time::Duration;

use gatehouse_tests::harness::admin::{
    shown_token, token_rows, ADMIN, TOKENS, TOKEN_END_REPLACED, TOKEN_REPLACE, TOKEN_REVOKE,
};
use gatehouse_tests::harness::config::sha256_hex;
use gatehouse_tests::harness::mfa::alert_text;
use gatehouse_tests::harness::store::{audit_log, issued_tokens};
use gatehouse_tests::harness::upstream::Upstream;
use gatehouse_tests::{eventually, AppConfig, Backend, Gateway, GatewayConfig, Replicas, Stack};

const PRIVATE: &str = "/private/build";

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

#[test]
fn a_console_token_passes_as_its_service_until_revoked() {
    let stack = Stack::start_with(Backend::Memory, |c| c.service_token("ci", "tok-ci-123"));
    let (admin, _) = stack.admin();
    let store = stack.gateway.store_url();

    let created = admin.admin_post(
        TOKENS,
        &[("name", "backup"), ("app", ""), ("expires", "90d")],
    );
    assert_eq!(created.status, 200, "{}", created.body);
    assert_eq!(created.header("cache-control"), Some("no-store"));
    let token = shown_token(&created.body).expect("the token, shown once");
    assert!(token.starts_with("gatehouse_"), "{token}");
    assert!(
        !created.body.contains("<form"),
        "nothing to post from the shown page"
    );

    // The store keeps the hash, never the token.
    let stored = issued_tokens(&store);
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].name, "backup");
    assert_eq!(hex_of(&stored[0].sha256), sha256_hex(&token));
    assert_eq!(stored[0].created_by, "alice");
    assert!(stored[0].expires_at.is_some(), "90 days");

    // It passes as service:backup, by either header, and neither goes upstream.
    let client = stack.client();
    let by_bearer = client.get_with(PRIVATE, &[("Authorization", &bearer(&token))]);
    assert_eq!(by_bearer.status, 200, "{}", by_bearer.body);
    let seen = stack.upstream.last();
    assert_eq!(
        seen.header("remote-user").as_deref(),
        Some("service:backup")
    );
    assert_eq!(seen.header("authorization"), None);
    let by_header = client.get_with(PRIVATE, &[("X-Gatehouse-Token", &token)]);
    assert_eq!(by_header.status, 200, "{}", by_header.body);
    assert_eq!(stack.upstream.last().header("x-gatehouse-token"), None);
    // Never asked for a second factor, even on two_factor routes.
    let two_factor = client.get_with("/secure/x", &[("Authorization", &bearer(&token))]);
    assert_eq!(two_factor.status, 200, "{}", two_factor.body);

    // The console lists both tokens, the page never shows the token again,
    // and the use shows as "last used".
    let console = admin.get_html(ADMIN);
    let rows = token_rows(&console.body);
    let names: Vec<_> = rows
        .iter()
        .map(|r| (r.name.as_str(), r.source.as_str()))
        .collect();
    assert_eq!(names, [("ci", "config"), ("backup", "console")]);
    assert!(!console.body.contains(&token));
    assert!(rows[0].html.contains("Never"), "ci was never used");
    assert!(!rows[1].html.contains("Never"), "{}", rows[1].html);

    let revoked = admin.admin_post(TOKEN_REVOKE, &[("name", "backup")]);
    assert_eq!(revoked.status, 303, "{}", revoked.body);
    assert_eq!(
        revoked.location(),
        Some("/.gatehouse/admin?done=token_revoked")
    );
    let refused = client.get_with(PRIVATE, &[("Authorization", &bearer(&token))]);
    assert_eq!(refused.status, 401, "revoked at once on this replica");
    assert_eq!(refused.json()["error"], "invalid_token");
    assert!(issued_tokens(&store).is_empty());
    assert_eq!(token_rows(&admin.get_html(ADMIN).body).len(), 1);

    let events: Vec<_> = audit_log(&store, "alice")
        .into_iter()
        .filter(|e| e.event.starts_with("token_"))
        .map(|e| (e.event, e.detail.unwrap_or_default()))
        .collect();
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(events[0].0, "token_created");
    assert!(
        events[0].1.contains("token backup by admin alice"),
        "{events:?}"
    );
    assert_eq!(events[1].0, "token_revoked");
    assert!(audit_log(&store, "service:backup")
        .iter()
        .any(|e| e.event == "token_used"));
    assert!(
        !stack.gateway.full_logs().contains(&token),
        "the token was logged"
    );
}

#[test]
fn a_replaced_token_keeps_its_name_and_the_old_one_works_until_ended() {
    let stack = Stack::start_with(Backend::Memory, |c| c.service_token("ci", "tok-ci-123"));
    let (admin, _) = stack.admin();
    let store = stack.gateway.store_url();
    let old = admin.create_token("backup", "", "90d");
    let expires = issued_tokens(&store)[0].expires_at.expect("90 days");

    let replaced = admin.admin_post(TOKEN_REPLACE, &[("name", "backup")]);
    assert_eq!(replaced.status, 200, "{}", replaced.body);
    assert_eq!(replaced.header("cache-control"), Some("no-store"));
    assert!(replaced.body.contains("<h1>Service token replaced</h1>"));
    assert!(replaced.body.contains("keeps working until"));
    let new = shown_token(&replaced.body).expect("the new token, shown once");
    assert!(new.starts_with("gatehouse_") && new != old);

    // One row, the new hash, the old one kept a day, a fresh 90 days.
    let stored = issued_tokens(&store);
    assert_eq!(stored.len(), 1);
    assert_eq!(hex_of(&stored[0].sha256), sha256_hex(&new));
    let previous = stored[0].previous.expect("the old token, for a while");
    assert_eq!(hex_of(&previous.sha256), sha256_hex(&old));
    assert_eq!(previous.until - stored[0].created_at, 86_400_000);
    assert!(stored[0].expires_at.unwrap() >= expires);

    // Both pass, under the one name the upstream knows.
    let client = stack.client();
    for token in [&new, &old] {
        let got = client.get_with(PRIVATE, &[("Authorization", &bearer(token))]);
        assert_eq!(got.status, 200, "{}", got.body);
        assert_eq!(
            stack.upstream.last().header("remote-user").as_deref(),
            Some("service:backup")
        );
    }
    let uses: Vec<_> = audit_log(&store, "service:backup")
        .into_iter()
        .filter(|e| e.event == "token_used")
        .map(|e| e.detail)
        .collect();
    assert!(
        uses.contains(&Some("the replaced secret".to_owned())),
        "the old token's use says so: {uses:?}"
    );
    let row = token_rows(&admin.get_html(ADMIN).body)
        .into_iter()
        .find(|r| r.name == "backup")
        .unwrap();
    assert!(row.html.contains("The token it replaced works until"));
    assert!(row.html.contains(">End old token</button>"), "{}", row.html);

    // Ending the old one: it stops at once, the new one works on.
    let ended = admin.admin_post(TOKEN_END_REPLACED, &[("name", "backup")]);
    assert_eq!(ended.status, 303, "{}", ended.body);
    assert_eq!(
        ended.location(),
        Some("/.gatehouse/admin?done=old_token_ended")
    );
    let notice = admin.open_link(ended.location().unwrap());
    assert!(notice
        .body
        .contains("The old token stopped working here at once"));
    let refused = client.get_with(PRIVATE, &[("Authorization", &bearer(&old))]);
    assert_eq!(refused.status, 401, "{}", refused.body);
    let got = client.get_with(PRIVATE, &[("Authorization", &bearer(&new))]);
    assert_eq!(got.status, 200);
    assert_eq!(issued_tokens(&store)[0].previous, None);
    let again = admin.admin_post(TOKEN_END_REPLACED, &[("name", "backup")]);
    assert_eq!(again.status, 404);
    assert!(alert_text(&again.body).contains("no old token"));

    // Only console tokens, and only for admins.
    for (name, reason) in [
        ("ci", "in the configuration file; replace it there"),
        ("nobody", "no token by that name"),
    ] {
        let refused = admin.admin_post(TOKEN_REPLACE, &[("name", name)]);
        assert_eq!(refused.status, 404, "{}", refused.body);
        assert!(alert_text(&refused.body).contains(reason));
    }
    let bob = stack.client();
    bob.login_ok("bob");
    let csrf = bob.token_from("/.gatehouse/account");
    for action in [TOKEN_REPLACE, TOKEN_END_REPLACED] {
        let forged = bob.post_form(action, &[("name", "backup"), ("csrf_token", &csrf)]);
        assert_eq!(forged.status, 403, "{action}");
    }
    assert_eq!(hex_of(&issued_tokens(&store)[0].sha256), sha256_hex(&new));

    let events: Vec<_> = audit_log(&store, "alice")
        .into_iter()
        .filter(|e| e.event.starts_with("token_"))
        .map(|e| (e.event, e.detail.unwrap_or_default()))
        .collect();
    assert_eq!(events[1].0, "token_replaced", "{events:?}");
    assert!(events[1]
        .1
        .contains("token backup by admin alice; the old one works until"));
    assert_eq!(events[2].0, "token_revoked");
    assert_eq!(events[2].1, "the token backup replaced, by admin alice");
    let logs = stack.gateway.full_logs();
    assert!(
        !logs.contains(&new) && !logs.contains(&old),
        "a token was logged"
    );
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn a_token_made_on_one_replica_works_on_the_other_until_revoked_there() {
    let replicas = Replicas::start();
    let admin = replicas.first.client();
    admin.login_ok("alice");
    admin.enroll();
    let token = admin.create_token("reports", "", "30d");

    let other = replicas.second.client();
    let header = [("Authorization", bearer(&token))];
    let header: Vec<(&str, &str)> = header.iter().map(|(k, v)| (*k, v.as_str())).collect();
    eventually(
        Duration::from_secs(10),
        "the other replica to take the new token",
        || (other.get_with(PRIVATE, &header).status == 200).then_some(()),
    );
    assert_eq!(
        replicas.upstream.last().header("remote-user").as_deref(),
        Some("service:reports")
    );
    let revoked = admin.admin_post(TOKEN_REVOKE, &[("name", "reports")]);
    assert_eq!(revoked.status, 303);
    eventually(
        Duration::from_secs(10),
        "the other replica to refuse the revoked token",
        || (other.get_with(PRIVATE, &header).status == 401).then_some(()),
    );
}

#[test]
fn a_console_token_reaches_only_its_app_and_never_an_app_that_pins_its_tokens() {
    let upstream = Upstream::start();
    let url = upstream.url();
    let gateway = Gateway::start(
        GatewayConfig::new()
            .service_token("ci", "tok-ci-123")
            .app(AppConfig::standard(&url))
            .app(AppConfig::new("git", std::slice::from_ref(&url)).host("git.test"))
            .app(
                AppConfig::new("pinned", &[url])
                    .host("pinned.test")
                    .service_tokens(&["ci"]),
            ),
    );
    let stack = Stack {
        gateway,
        redis: None,
        upstream,
    };
    let (admin, _) = stack.admin();
    let console = admin.get_html(ADMIN).body;
    assert!(console.contains(r#"<option value="git">"#), "{console}");
    assert!(
        !console.contains(r#"<option value="pinned">"#),
        "a pinned app is offered"
    );

    let git_only = admin.create_token("git-only", "git", "never");
    let everywhere = admin.create_token("everywhere", "", "never");
    let client = stack.client();
    let status = |host: &str, token: &str| {
        client
            .get_with(
                PRIVATE,
                &[("Host", host), ("Authorization", &bearer(token))],
            )
            .status
    };
    assert_eq!(status("git.test", &git_only), 200);
    assert_eq!(status("app.test", &git_only), 403, "another app");
    assert_eq!(status("pinned.test", &git_only), 403);
    assert_eq!(status("git.test", &everywhere), 200);
    assert_eq!(status("app.test", &everywhere), 200);
    assert_eq!(
        status("pinned.test", &everywhere),
        403,
        "ops pinned this app"
    );
    assert_eq!(status("pinned.test", "tok-ci-123"), 200);

    let forged = admin.admin_post(
        TOKENS,
        &[("name", "sneaky"), ("app", "pinned"), ("expires", "30d")],
    );
    assert_eq!(forged.status, 400, "{}", forged.body);
    assert!(alert_text(&forged.body).contains("Choose an app from the list"));
    assert_eq!(issued_tokens(&stack.gateway.store_url()).len(), 2);
}

#[test]
fn bad_token_forms_are_refused_with_a_reason_and_make_nothing() {
    let stack = Stack::start_with(Backend::Memory, |c| c.service_token("ci", "tok-ci-123"));
    let (admin, _) = stack.admin();
    let first = admin.create_token("deploy", "", "90d");
    let long = "x".repeat(65);
    for (fields, status, reason) in [
        (
            [("name", "Deploy!"), ("app", ""), ("expires", "90d")],
            400,
            "invalid name",
        ),
        (
            [("name", ""), ("app", ""), ("expires", "90d")],
            400,
            "invalid name",
        ),
        (
            [("name", long.as_str()), ("app", ""), ("expires", "90d")],
            400,
            "longer than 64",
        ),
        (
            [("name", "ci"), ("app", ""), ("expires", "90d")],
            409,
            "configuration file",
        ),
        (
            [("name", "deploy"), ("app", ""), ("expires", "90d")],
            409,
            "already a token called deploy",
        ),
        (
            [("name", "other"), ("app", ""), ("expires", "5y")],
            400,
            "Choose when the token expires",
        ),
        (
            [("name", "other"), ("app", "nope"), ("expires", "90d")],
            400,
            "Choose an app",
        ),
    ] {
        let refused = admin.admin_post(TOKENS, &fields);
        assert_eq!(refused.status, status, "{fields:?}: {}", refused.body);
        assert!(
            alert_text(&refused.body).contains(reason),
            "{fields:?}: {}",
            alert_text(&refused.body)
        );
        assert_eq!(shown_token(&refused.body), None);
    }
    let stored = issued_tokens(&stack.gateway.store_url());
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert_eq!(
        stack
            .client()
            .get_with(PRIVATE, &[("Authorization", &bearer(&first))])
            .status,
        200,
        "the first deploy token still works"
    );

    for (name, reason) in [
        ("ci", "configuration file"),
        ("nobody", "no token by that name"),
    ] {
        let refused = admin.admin_post(TOKEN_REVOKE, &[("name", name)]);
        assert_eq!(refused.status, 404, "{}", refused.body);
        assert!(alert_text(&refused.body).contains(reason));
    }

    // Forms need the console's CSRF token, an admin and a POST.
    let fields = [("name", "forged"), ("app", ""), ("expires", "never")];
    let forged = admin.post_form(
        TOKENS,
        &[fields[0], fields[1], fields[2], ("csrf_token", "x")],
    );
    assert_eq!(forged.status, 403);
    let bob = stack.client();
    bob.login_ok("bob");
    let token = bob.token_from("/.gatehouse/account");
    let not_admin = bob.post_form(
        TOKENS,
        &[fields[0], fields[1], fields[2], ("csrf_token", &token)],
    );
    assert_eq!(not_admin.status, 403);
    let revoke = bob.post_form(TOKEN_REVOKE, &[("name", "deploy"), ("csrf_token", &token)]);
    assert_eq!(revoke.status, 403);
    assert_eq!(admin.get_html(TOKENS).status, 405);
    assert_eq!(issued_tokens(&stack.gateway.store_url()).len(), 1);
}
