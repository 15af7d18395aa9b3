//! The admin console, rendered through `admin_page`.

use super::*;
use crate::admin_audit::AuditRow;
use crate::test_support::forms;

const TOKEN: &str = "tok-42";
const ENFORCE: &str = "/.gatehouse/admin/enforce";
const RESET: &str = "/.gatehouse/admin/reset";
const SIGN_OUT: &str = "/.gatehouse/admin/sign-out";
/// The service-token create form, always shown (see admin_tokens_tests.rs).
const NEW_TOKEN: &str = "/.gatehouse/admin/tokens";
/// The audit log's filter (see admin_audit_tests.rs).
const AUDIT_FILTER: &str = "/.gatehouse/admin/audit";

fn users(groups: &[String]) -> [AdminUserRow<'_>; 3] {
    [
        AdminUserRow {
            username: "alice",
            display_name: "Alice Liddell",
            email: Some("alice@example.com"),
            groups,
            mfa: UserMfa::On {
                since: "2025-01-02",
            },
            recovery_remaining: 8,
            devices: 2,
            last_sign_in: Some("2025-01-05 09:00 UTC"),
            ..AdminUserRow::default()
        },
        AdminUserRow {
            username: "bob",
            mfa: UserMfa::Pending,
            ..AdminUserRow::default()
        },
        AdminUserRow {
            username: "carol",
            disabled: true,
            ..AdminUserRow::default()
        },
    ]
}

fn render(enforcement: Enforcement, users: &[AdminUserRow]) -> String {
    admin_page(&AdminView {
        admin: "root",
        csrf_token: TOKEN,
        enforcement,
        users,
        ..AdminView::default()
    })
}

fn form<'h>(html: &'h str, action: &str) -> Option<&'h str> {
    let start = html.find(&format!(r#"<form method="post" action="{action}""#))?;
    let len = html[start..].find("</form>")?;
    Some(&html[start..start + len])
}

/// The `<tr>` of `username` in the users table.
fn row<'h>(html: &'h str, username: &str) -> &'h str {
    let start = html
        .find(&format!(r#"<tr data-username="{username}""#))
        .unwrap();
    &html[start..start + html[start..].find("</tr>").unwrap()]
}

#[test]
fn page_is_titled_and_names_the_admin() {
    let html = render(Enforcement::Off, &[]);
    assert!(html.contains("<title>Admin console · Gatehouse</title>"));
    assert!(html.contains(r#"<div class="card card-full">"#));
    assert!(html.contains(r#"<p class="eyebrow">Gatehouse administration</p>"#));
    assert!(html.contains("<h1>Admin console</h1>"));
    assert!(html.contains("Signed in as <code>root</code>"));
    assert!(html.contains(r#"href="/.gatehouse/account""#));
}

#[test]
fn policy_off_offers_to_require_it() {
    let html = render(Enforcement::Off, &[]);
    assert!(html.contains(r#"id="mfa-policy" data-enforced="false""#));
    assert!(html.contains(r#"<span class="badge badge-warn">Optional</span>"#));
    assert!(html.contains("at their next request"));
    let enforce = form(&html, ENFORCE).unwrap();
    assert!(enforce.contains(r#"<input type="hidden" name="enforce" value="on">"#));
    assert!(enforce.contains(
        r#"class="btn btn-primary" type="submit">Require two-factor authentication for everyone</button>"#
    ));
}

#[test]
fn policy_on_by_admin_offers_to_stop_requiring_it() {
    let html = render(Enforcement::OnByAdmin, &[]);
    assert!(html.contains(r#"id="mfa-policy" data-enforced="true""#));
    assert!(html.contains(r#"<span class="badge badge-ok">Required for everyone</span>"#));
    let enforce = form(&html, ENFORCE).unwrap();
    assert!(enforce.contains(r#"<input type="hidden" name="enforce" value="off">"#));
    assert!(!enforce.contains(r#"value="on""#));
    assert!(enforce.contains(
        r#"class="btn btn-secondary" type="submit">Stop requiring two-factor authentication</button>"#
    ));
}

#[test]
fn policy_on_by_config_has_no_form_and_points_at_the_config() {
    let html = render(Enforcement::OnByConfig, &[]);
    assert!(html.contains(r#"id="mfa-policy" data-enforced="true""#));
    assert!(html.contains(r#"<span class="badge badge-ok">Required for everyone</span>"#));
    assert!(form(&html, ENFORCE).is_none());
    assert!(!html.contains(r#"name="enforce""#));
    assert!(html.contains("<code>mfa.enforce: true</code>"));
    assert!(html.contains("can only be changed there"));
}

#[test]
fn policy_locked_from_above_has_no_form_and_says_so() {
    let html = render(Enforcement::OnByLock, &[]);
    assert!(html.contains(r#"id="mfa-policy" data-enforced="true""#));
    assert!(html.contains(r#"<span class="badge badge-ok">Required for everyone</span>"#));
    assert!(form(&html, ENFORCE).is_none(), "{html}");
    assert!(!html.contains("Stop requiring"), "{html}");
    assert!(
        html.contains("An organisation above yours requires it and has locked it"),
        "{html}"
    );
}

#[test]
fn summary_counts_users_with_two_factor_on() {
    let groups = vec![];
    let users = users(&groups);
    let html = render(Enforcement::Off, &users);
    assert!(html.contains(
        r#"<p id="mfa-summary">1 of 3 users has two-factor authentication. 1 more started"#
    ));

    let all_on = [AdminUserRow {
        mfa: UserMfa::On { since: "x" },
        ..AdminUserRow::default()
    }; 2];
    let html = render(Enforcement::Off, &all_on);
    assert!(
        html.contains(r#"<p id="mfa-summary">2 of 2 users have two-factor authentication.</p>"#)
    );

    let html = render(Enforcement::Off, &users[2..]);
    assert!(html.contains(r#"<p id="mfa-summary">0 of 1 user has two-factor authentication.</p>"#));
}

#[test]
fn rows_carry_username_and_mfa_state_hooks() {
    let groups = vec![];
    let html = render(Enforcement::Off, &users(&groups));
    assert!(html.contains(r#"<table id="users">"#));
    assert!(html.contains(r#"<tr data-username="alice" data-mfa="on" data-factors="">"#));
    assert!(html.contains(r#"<tr data-username="bob" data-mfa="pending" data-factors="">"#));
    assert!(html.contains(r#"<tr data-username="carol" data-mfa="off" data-factors="">"#));
}

#[test]
fn rows_name_each_users_second_factors() {
    let users = [
        AdminUserRow {
            username: "alice",
            mfa: UserMfa::On { since: "x" },
            factors: &["app", "email"],
            ..AdminUserRow::default()
        },
        AdminUserRow {
            username: "bob",
            mfa: UserMfa::On { since: "x" },
            factors: &["sms"],
            ..AdminUserRow::default()
        },
        AdminUserRow {
            username: "carol",
            mfa: UserMfa::Pending,
            factors: &["app"],
            ..AdminUserRow::default()
        },
    ];
    let html = render(Enforcement::Off, &users);
    let alice = row(&html, "alice");
    assert!(
        alice.starts_with(r#"<tr data-username="alice" data-mfa="on" data-factors="app email">"#)
    );
    assert!(alice.contains(r#"<div class="hint factor-names">Authenticator app, Email</div>"#));
    assert!(row(&html, "bob").contains(r#"<div class="hint factor-names">Text message</div>"#));
    let carol = row(&html, "carol");
    assert!(carol.contains(r#"data-factors="app""#));
    assert!(
        !carol.contains("factor-names"),
        "only named while MFA is on"
    );
}

#[test]
fn user_row_shows_identity_groups_and_two_factor_details() {
    let groups = vec!["admins".to_string(), "dev".to_string()];
    let html = render(Enforcement::Off, &users(&groups));
    let alice = row(&html, "alice");
    assert!(alice.contains("<div>Alice Liddell</div>"));
    assert!(alice.contains("<code>alice</code>"));
    assert!(alice.contains(r#"<div class="muted">alice@example.com</div>"#));
    assert!(alice.contains(r#"<span class="badge">admins</span>"#));
    assert!(alice.contains(
        r#"<span class="badge badge-ok">On</span><div class="hint">Since <span class="nowrap">2025-01-02</span></div>"#
    ));
    assert!(alice.contains(
        r#"<td>8</td><td>2</td><td><span class="nowrap">2025-01-05</span> <span class="nowrap muted">09:00 UTC</span></td>"#
    ));
    assert!(!alice.contains("Disabled"));

    let bob = row(&html, "bob");
    assert!(bob.contains(r#"<span class="badge badge-warn">Pending</span>"#));
    assert!(bob.contains(r#"<span class="muted">None</span>"#));
    assert!(bob.contains(r#"<span class="muted">Never</span>"#));

    let carol = row(&html, "carol");
    assert!(!carol.contains("<div>carol</div>"), "no empty display name");
    assert!(carol.contains(r#"<span class="badge badge-bad">Disabled</span>"#));
    assert!(carol.contains(r#"<span class="badge badge-warn">Off</span>"#));
    assert!(carol.contains(r#"<td><span class="muted">—</span></td><td>0</td>"#));
}

#[test]
fn reset_form_only_for_users_with_two_factor_on_or_pending() {
    let groups = vec![];
    let html = render(Enforcement::Off, &users(&groups));
    let resets = forms(&html, RESET);
    assert_eq!(resets.len(), 2);
    for (reset, who) in resets.iter().zip(["alice", "bob"]) {
        assert!(reset.contains(&format!(
            r#"<input type="hidden" name="username" value="{who}">"#
        )));
        assert!(reset.contains(&format!(
            r#"class="btn btn-danger btn-small" type="submit" aria-label="Reset two-factor for {who}">Reset two-factor</button>"#
        )));
    }
    assert!(form(row(&html, "carol"), RESET).is_none());
}

#[test]
fn every_user_can_be_signed_out_everywhere() {
    let groups = vec![];
    let html = render(Enforcement::Off, &users(&groups));
    for who in ["alice", "bob", "carol"] {
        let sign_out = form(row(&html, who), SIGN_OUT).unwrap();
        assert!(sign_out.contains(&format!(
            r#"<input type="hidden" name="username" value="{who}">"#
        )));
        assert!(sign_out.contains(&format!(
            r#"class="btn btn-secondary btn-small" type="submit" aria-label="Sign out everywhere: {who}">Sign out everywhere</button>"#
        )));
    }
    assert!(html.contains("signs them out everywhere"));
}

#[test]
fn every_form_carries_the_csrf_token() {
    let groups = vec![];
    let users = users(&groups);
    for enforcement in [Enforcement::Off, Enforcement::OnByAdmin] {
        let html = render(enforcement, &users);
        let all: Vec<&str> = [ENFORCE, RESET, SIGN_OUT, NEW_TOKEN, AUDIT_FILTER]
            .iter()
            .flat_map(|action| forms(&html, action))
            .collect();
        assert_eq!(all.len(), 1 + 2 + 3 + 1 + 1);
        assert_eq!(all.len(), html.matches("<form").count());
        for f in all {
            assert!(
                f.contains(r#"<input type="hidden" name="csrf_token" value="tok-42">"#),
                "{f}"
            );
        }
    }
}

#[test]
fn no_users_and_no_events_say_so() {
    let html = render(Enforcement::Off, &[]);
    assert!(html.contains("<p>No users are configured.</p>"));
    assert!(!html.contains(r#"id="users""#));
    assert!(html.contains(r#"id="audit""#));
    assert!(html.contains("Security events"));
    assert!(html.contains("<p>No events yet.</p>"));
}

#[test]
fn notice_is_a_status_and_error_an_alert() {
    let html = admin_page(&AdminView {
        notice: Some("Two-factor reset for <bob>."),
        error: Some("No such user."),
        ..AdminView::default()
    });
    let notice = html
        .find(r#"role="status" aria-live="polite" id="admin-notice">Two-factor reset for &lt;bob&gt;.</div>"#)
        .unwrap();
    let error = html
        .find(r#"role="alert" aria-live="assertive" id="admin-error">No such user.</div>"#)
        .unwrap();
    let policy = html.find(r#"id="mfa-policy""#).unwrap();
    assert!(notice < policy && error < policy);
    let quiet = render(Enforcement::Off, &[]);
    assert!(!quiet.contains("admin-notice") && !quiet.contains("admin-error"));
}

#[test]
fn user_text_is_escaped() {
    let groups = vec!["<g>".to_string()];
    let users = [AdminUserRow {
        username: "<script>u</script>",
        display_name: "<b>Eve</b>",
        email: Some("\"@x"),
        groups: &groups,
        mfa: UserMfa::On {
            since: "<i>then</i>",
        },
        last_sign_in: Some("<now>"),
        ..AdminUserRow::default()
    }];
    let audit = [AuditRow {
        at: "<t>",
        user: Some("<script>a</script>"),
        ip: Some("<ip>"),
        event: "<e>",
        outcome: "<o>",
        detail: Some("<script>alert(1)</script>"),
        proof: None,
    }];
    let html = admin_page(&AdminView {
        admin: "<script>root</script>",
        csrf_token: "\"><x",
        users: &users,
        audit: AuditView {
            rows: &audit,
            user: "<u>",
            ..AuditView::default()
        },
        ..AdminView::default()
    });
    assert!(!html.contains("<script>"));
    assert!(html.contains("<code>&lt;script&gt;root&lt;/script&gt;</code>"));
    assert!(html.contains(r#"data-username="&lt;script&gt;u&lt;/script&gt;""#));
    assert!(html.contains(r#"name="username" value="&lt;script&gt;u&lt;/script&gt;""#));
    assert!(html.contains(r#"aria-label="Reset two-factor for &lt;script&gt;u&lt;/script&gt;""#));
    assert!(html.contains("<div>&lt;b&gt;Eve&lt;/b&gt;</div>"));
    assert!(html.contains("&quot;@x"));
    assert!(html.contains("&lt;g&gt;"));
    assert!(html.contains(r#"Since <span class="nowrap">&lt;i&gt;then&lt;/i&gt;</span>"#));
    assert!(html.contains("&lt;now&gt;"));
    assert!(html.contains(r#"value="&quot;&gt;&lt;x""#));
    assert!(html.contains("<td>&lt;script&gt;a&lt;/script&gt;</td>"));
    assert!(html.contains("<td>&lt;script&gt;alert(1)&lt;/script&gt;</td>"));
    assert!(html.contains(r#"name="user" type="text" value="&lt;u&gt;""#));
    for s in ["&lt;t&gt;", "&lt;ip&gt;", "&lt;e&gt;", "&lt;o&gt;"] {
        assert!(html.contains(&format!("<td>{s}</td>")), "{s}");
    }
}
