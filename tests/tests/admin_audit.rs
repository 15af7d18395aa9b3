//! The audit log in the admin console, end to end: filtering by user and
//! event, paging back through a long history, filters that can't be read,
//! and entries deleted once older than the retention.

use std::time::Duration;

use gatehouse_tests::harness::admin::{audit_lines, AuditLine, ADMIN, AUDIT};
use gatehouse_tests::harness::eventually;
use gatehouse_tests::harness::mfa::{alert_text, link_href};
use gatehouse_tests::harness::store::{audit_log, now_ms, write_audit, AuditEntry};
use gatehouse_tests::{Backend, Stack, PASSWORD};

#[test]
fn the_audit_log_shows_one_users_events_of_one_kind() {
    let stack = Stack::start(Backend::Memory);
    let (admin, _) = stack.admin();
    stack.client().login_ok("bob");
    stack.client().login("bob", "not bob's password", None);
    // carol is disabled: her attempt is refused, and logged.
    stack.client().login("carol", PASSWORD, None);

    let filtered = admin.admin_post(AUDIT, &[("user", " bob "), ("event", "login")]);
    assert_eq!(filtered.status, 303, "{}", filtered.body);
    let location = filtered.location().expect("a redirect").to_owned();
    assert_eq!(
        location,
        "/.gatehouse/admin?audit_user=bob&audit_event=login#audit"
    );
    let page = admin.open_link(&location);
    assert_eq!(page.status, 200, "{}", page.body);
    let lines = audit_lines(&page.body);
    let outcomes: Vec<&str> = lines.iter().map(|l| l.outcome.as_str()).collect();
    assert_eq!(outcomes, ["failed", "ok"], "newest first: {lines:?}");
    assert!(lines.iter().all(|l| l.user == "bob" && l.event == "login"));
    // The form shows the filter it applied, for the next change.
    assert!(page.body.contains(r#"name="user" type="text" value="bob""#));
    assert!(page
        .body
        .contains(r#"<option value="login" selected>login</option>"#));

    // Every event of one user, and one event of everyone's.
    let carol = admin.admin_post(AUDIT, &[("user", "carol"), ("event", "")]);
    let lines = audit_lines(&admin.open_link(carol.location().unwrap()).body);
    assert!(!lines.is_empty() && lines.iter().all(|l| l.user == "carol"));
    let logins = admin.admin_post(AUDIT, &[("user", ""), ("event", "login")]);
    assert_eq!(
        logins.location(),
        Some("/.gatehouse/admin?audit_event=login#audit")
    );
    let lines = audit_lines(&admin.open_link(logins.location().unwrap()).body);
    let users: Vec<&str> = lines.iter().map(|l| l.user.as_str()).collect();
    assert_eq!(users, ["carol", "bob", "bob", "alice"], "{lines:?}");

    // Only an admin may post the filter.
    let bob = stack.client();
    bob.login_ok("bob");
    let token = bob.token_from("/.gatehouse/account");
    let refused = bob.post_form(AUDIT, &[("user", "alice"), ("csrf_token", &token)]);
    assert_eq!(refused.status, 403, "{}", refused.body);
}

#[test]
fn the_audit_log_pages_back_through_a_long_history_missing_nothing() {
    let stack = Stack::start(Backend::Memory);
    let (admin, _) = stack.admin();
    // 120 uses of one token, all in one millisecond yesterday, so pages
    // must break between entries of the same time.
    let yesterday = now_ms() - 86_400_000;
    let history: Vec<AuditEntry> = (0..120)
        .map(|i| AuditEntry {
            at_ms: yesterday,
            username: Some("service:ci".into()),
            ip: Some("192.0.2.9".into()),
            event: "token_used".into(),
            outcome: "ok".into(),
            detail: Some(format!("use {i}")),
            proof: None,
        })
        .collect();
    write_audit(&stack.gateway.store_url(), &history);

    let filtered = admin.admin_post(AUDIT, &[("user", "service:ci"), ("event", "")]);
    let mut href = filtered.location().expect("a redirect").to_owned();
    let mut pages: Vec<Vec<AuditLine>> = Vec::new();
    loop {
        let page = admin.open_link(&href);
        assert_eq!(page.status, 200, "{href}: {}", page.body);
        pages.push(audit_lines(&page.body));
        if pages.len() > 1 {
            let newest = link_href(&page.body, "Newest events").expect("a way back");
            assert_eq!(newest, "/.gatehouse/admin?audit_user=service%3Aci#audit");
        }
        match link_href(&page.body, "Older events") {
            Some(older) => href = older.replace("&amp;", "&"),
            None => break,
        }
        assert!(pages.len() < 10, "the pages never end");
    }
    let sizes: Vec<usize> = pages.iter().map(Vec::len).collect();
    assert_eq!(sizes, [50, 50, 20]);
    let details: Vec<String> = pages.concat().into_iter().map(|l| l.detail).collect();
    let expected: Vec<String> = (0..120).rev().map(|i| format!("use {i}")).collect();
    assert_eq!(details, expected, "each entry once, newest first");
}

#[test]
fn a_filter_that_cant_be_read_says_why_and_shows_the_newest_events() {
    let stack = Stack::start(Backend::Memory);
    let (admin, _) = stack.admin();
    for (query, says) in [
        ("audit_event=made_up", "no event by that name"),
        ("audit_before=yesterday", "link to older events is broken"),
        ("audit_user=", ""),
    ] {
        let page = admin.get_html(&format!("{ADMIN}?{query}"));
        if says.is_empty() {
            assert_eq!(page.status, 200, "{query}: an empty filter is no filter");
            continue;
        }
        assert_eq!(page.status, 400, "{query}");
        let error = alert_text(&page.body);
        assert!(error.contains(says), "{query}: {error}");
        assert!(
            !audit_lines(&page.body).is_empty(),
            "{query}: the newest events"
        );
    }
    let long = "x".repeat(129);
    let posted = admin.admin_post(AUDIT, &[("user", &long), ("event", "")]);
    assert_eq!(posted.status, 400);
    let posted = admin.admin_post(AUDIT, &[("user", ""), ("event", "made_up")]);
    assert_eq!(posted.status, 400);
    let error = alert_text(&posted.body);
    assert!(error.contains("no event by that name"), "{error}");
}

#[test]
fn entries_older_than_the_retention_are_deleted_and_the_console_says_so() {
    let mut stack = Stack::start_with(Backend::Memory, |c| c.audit_retention_days(30));
    let url = stack.gateway.store_url();
    let day = 86_400_000;
    let signed_in = |days_ago: i64, detail: &str| AuditEntry {
        at_ms: now_ms() - days_ago * day,
        username: Some("bob".into()),
        ip: Some("192.0.2.9".into()),
        event: "login".into(),
        outcome: "ok".into(),
        detail: Some(detail.into()),
        proof: None,
    };
    write_audit(
        &url,
        &[
            signed_in(400, "last year"),
            signed_in(31, "a month ago"),
            signed_in(29, "this month"),
        ],
    );
    // The log is pruned at start-up and then hourly: a restart prunes now.
    stack.gateway.restart();
    let details = |entries: Vec<AuditEntry>| -> Vec<String> {
        entries.into_iter().filter_map(|e| e.detail).collect()
    };
    eventually(Duration::from_secs(10), "the old entries pruned", || {
        let left = details(audit_log(&url, "bob"));
        (left == ["this month"]).then_some(())
    });
    let logs = stack.gateway.logs();
    assert!(
        logs.contains("pruned 2 audit entries older than 30 days"),
        "{logs}"
    );

    let (admin, _) = stack.admin();
    let page = admin.get_html(ADMIN);
    assert!(page
        .body
        .contains("Events are kept for 30 days, then deleted."));
    let bob: Vec<AuditLine> = audit_lines(&page.body)
        .into_iter()
        .filter(|l| l.user == "bob")
        .collect();
    assert_eq!(bob.len(), 1, "{bob:?}");
    assert_eq!(bob[0].detail, "this month");
}
