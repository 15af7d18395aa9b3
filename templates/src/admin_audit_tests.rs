//! The audit log section of the admin console.

use crate::admin::{admin_page, AdminView};
use crate::admin_audit::{AuditRow, AuditView};
use crate::test_support::forms;

const FILTER: &str = "/.gatehouse/admin/audit";

fn render(audit: AuditView) -> String {
    admin_page(&AdminView {
        csrf_token: "tok-42",
        audit,
        ..AdminView::default()
    })
}

fn section(html: &str) -> &str {
    &html[html.find(r#"id="audit""#).expect("audit section")..]
}

#[test]
fn audit_rows_are_listed_with_dashes_for_missing_fields() {
    let audit = [
        AuditRow {
            at: "2025-01-05 09:00:01",
            user: Some("alice"),
            ip: Some("192.0.2.7"),
            event: "login",
            outcome: "ok",
            detail: Some("password"),
            proof: None,
        },
        AuditRow {
            at: "2025-01-05 08:59:00",
            event: "mfa",
            outcome: "failed",
            ..AuditRow::default()
        },
    ];
    let html = render(AuditView {
        rows: &audit,
        ..AuditView::default()
    });
    let section = &html[html.find(r#"id="audit""#).unwrap()..];
    for col in ["Time", "User", "Event", "Outcome", "IP", "Detail"] {
        assert!(
            section.contains(&format!(r#"<th scope="col">{col}</th>"#)),
            "{col}"
        );
    }
    assert!(section.contains(
        "<tr><td>2025-01-05 09:00:01</td><td>alice</td><td>login</td><td>ok</td><td>192.0.2.7</td><td>password</td></tr>"
    ));
    let dash = r#"<td><span class="muted">—</span></td>"#;
    assert!(section.contains(&format!(
        "<tr><td>2025-01-05 08:59:00</td>{dash}<td>mfa</td><td>failed</td>{dash}{dash}</tr>"
    )));
    assert!(!html.contains("No events yet."));
}

#[test]
fn the_filter_posts_with_a_csrf_token_and_shows_what_is_set() {
    let html = render(AuditView {
        user: "alice",
        event: "login",
        events: &["login", "logout"],
        users: &["alice", "bob"],
        ..AuditView::default()
    });
    let form = forms(&html, FILTER);
    assert_eq!(form.len(), 1, "one filter form");
    let form = form[0];
    assert!(form.contains(r#"name="csrf_token" value="tok-42""#));
    assert!(form.contains(r#"<label for="audit-user">User</label>"#));
    assert!(form.contains(r#"id="audit-user" name="user" type="text" value="alice""#));
    assert!(form.contains(r#"list="audit-users""#));
    assert!(form.contains(r#"<option value="alice"></option><option value="bob"></option>"#));
    assert!(form.contains(r#"<label for="audit-event">Event</label>"#));
    assert!(form.contains(r#"<option value="">Every event</option>"#));
    assert!(form.contains(r#"<option value="login" selected>login</option>"#));
    assert!(form.contains(r#"<option value="logout">logout</option>"#));
}

#[test]
fn with_no_filter_every_event_is_selected() {
    let html = render(AuditView {
        events: &["login"],
        ..AuditView::default()
    });
    let form = forms(&html, FILTER)[0];
    assert!(form.contains(r#"<option value="" selected>Every event</option>"#));
    assert!(form.contains(r#"<option value="login">login</option>"#));
    assert!(form.contains(r#"value="""#), "an empty user filter");
}

#[test]
fn pages_link_to_older_and_back_to_the_newest() {
    let row = [AuditRow {
        event: "login",
        ..AuditRow::default()
    }];
    let first = render(AuditView {
        rows: &row,
        older: Some("/.gatehouse/admin?audit_before=5.1#audit"),
        ..AuditView::default()
    });
    let nav = section(&first);
    assert!(nav.contains(r#"<a class="btn btn-secondary" href="/.gatehouse/admin?audit_before=5.1#audit" rel="next">Older events</a>"#));
    assert!(!nav.contains("Newest events"));

    let last = render(AuditView {
        rows: &row,
        newest: Some("/.gatehouse/admin#audit"),
        ..AuditView::default()
    });
    let nav = section(&last);
    assert!(nav.contains(
        r#"<a class="btn btn-secondary" href="/.gatehouse/admin#audit">Newest events</a>"#
    ));
    assert!(!nav.contains("Older events"));

    let only = render(AuditView {
        rows: &row,
        ..AuditView::default()
    });
    assert!(!section(&only).contains("<nav"), "one page needs no links");
}

#[test]
fn an_empty_filtered_page_says_nothing_matches() {
    let html = render(AuditView {
        user: "nobody",
        ..AuditView::default()
    });
    assert!(section(&html).contains("<p>No events match.</p>"));
    assert!(!html.contains("No events yet."));
    let html = render(AuditView::default());
    assert!(section(&html).contains("<p>No events yet.</p>"));
}

#[test]
fn the_retention_is_stated_when_known() {
    let kept = |days| {
        let html = render(AuditView {
            kept_days: Some(days),
            ..AuditView::default()
        });
        section(&html).to_owned()
    };
    assert!(kept(90).contains(r#"<p class="muted">Events are kept for 90 days, then deleted.</p>"#));
    assert!(kept(1).contains("Events are kept for 1 day, then deleted."));
    let html = render(AuditView::default());
    assert!(!section(&html).contains("Events are kept"));
}

#[test]
fn a_sensitive_action_shows_the_proof_it_was_allowed_on() {
    let audit = [
        AuditRow {
            event: "mfa_reset",
            outcome: "ok",
            detail: Some("by admin alice; 2 sessions ended"),
            proof: Some("code"),
            ..AuditRow::default()
        },
        AuditRow {
            event: "mfa_disabled",
            proof: Some("<b>"),
            ..AuditRow::default()
        },
    ];
    let html = render(AuditView {
        rows: &audit,
        ..AuditView::default()
    });
    assert!(
        html.contains(
            r#"by admin alice; 2 sessions ended <span class="muted proof">(proof: code)</span>"#
        ),
        "{html}"
    );
    assert!(html.contains("(proof: &lt;b&gt;)"), "{html}");
}
