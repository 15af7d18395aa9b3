//! The account page's MFA sections, rendered through `account_page`.

use super::*;
use crate::account_mfa::{ContactFactorRow, DeviceRow};
use crate::CodeChannel;

const DEVICES: [DeviceRow<'static>; 2] = [
    DeviceRow {
        label: "Firefox on Linux",
        created: "2025-01-02",
        last_used: Some("2025-01-05"),
        expires: "2025-02-01",
    },
    DeviceRow {
        label: "<script>x</script>",
        created: "2025-01-03",
        last_used: None,
        expires: "2025-02-02",
    },
];

fn on() -> AccountMfa<'static> {
    AccountMfa {
        enabled_since: Some("2025-01-02"),
        enforced: false,
        recovery_remaining: 8,
        devices: &DEVICES,
        remember_days: 30,
        app_since: Some("2025-01-02"),
        contact_factors: &[],
        can_add: false,
    }
}

const CONTACTS: [ContactFactorRow<'static>; 2] = [
    ContactFactorRow {
        channel: CodeChannel {
            channel: "email",
            destination: "a•••e@example.com",
        },
        since: "2025-01-03",
        removable: true,
    },
    ContactFactorRow {
        channel: CodeChannel {
            channel: "sms",
            destination: "<b>••• 4567</b>",
        },
        since: "2025-01-04",
        removable: false,
    },
];

fn render(mfa: AccountMfa) -> String {
    account_page(&AccountView {
        username: "alice",
        csrf_token: "tok-42",
        mfa,
        ..AccountView::default()
    })
}

fn form<'h>(html: &'h str, action: &str) -> Option<&'h str> {
    let start = html.find(&format!(r#"<form method="post" action="{action}""#))?;
    let len = html[start..].find("</form>")?;
    Some(&html[start..start + len])
}

#[test]
fn mfa_off_shows_badge_and_setup_link_back_to_account() {
    let html = render(AccountMfa::default());
    assert!(html.contains(r#"<span class="badge badge-warn">Off</span>"#));
    assert!(html.contains(
        r#"<a class="btn btn-primary" href="/.gatehouse/enroll?rd=%2F%2Egatehouse%2Faccount">Set up two-factor authentication</a>"#
    ));
    assert!(form(&html, "/.gatehouse/mfa/disable").is_none());
    assert!(form(&html, "/.gatehouse/recovery-codes/regenerate").is_none());
}

#[test]
fn mfa_on_shows_since_and_recovery_codes_left() {
    let html = render(on());
    assert!(html.contains(r#"<span class="badge badge-ok">On since 2025-01-02</span>"#));
    assert!(html.contains("8 recovery codes left."));
    assert!(!html.contains("/.gatehouse/enroll?"));
    let regen = form(&html, "/.gatehouse/recovery-codes/regenerate").unwrap();
    assert!(regen.contains(r#"name="csrf_token" value="tok-42""#));
    assert!(html.contains("the old codes stop working"));
    assert!(regen.contains(">Generate new recovery codes</button>"));
}

#[test]
fn running_low_on_recovery_codes_is_pointed_out() {
    let html = render(AccountMfa {
        recovery_remaining: 1,
        ..on()
    });
    assert!(html.contains("1 recovery code left. You are running out"));
}

#[test]
fn disable_form_needs_a_current_code() {
    let html = render(on());
    let disable = form(&html, "/.gatehouse/mfa/disable").unwrap();
    assert!(disable.contains(r#"name="csrf_token" value="tok-42""#));
    assert!(disable.contains(r#"name="code" type="text" autocomplete="one-time-code""#));
    assert!(disable.contains(r#"class="btn btn-danger""#));
}

#[test]
fn disable_form_absent_when_enforced() {
    let html = render(AccountMfa {
        enforced: true,
        ..on()
    });
    assert!(form(&html, "/.gatehouse/mfa/disable").is_none());
    assert!(!html.contains(r#"name="code""#));
    assert!(html.contains("can't be turned off, because your organisation requires it"));
}

#[test]
fn remembered_devices_are_listed_with_forget_all() {
    let html = render(on());
    assert!(html.contains("Remembered devices"));
    assert!(html.contains("<td>Firefox on Linux</td>"));
    assert!(html.contains("<td>2025-01-05</td>"));
    assert!(html.contains(r#"<span class="muted">Never</span>"#));
    assert!(html.contains("<td>&lt;script&gt;x&lt;/script&gt;</td>"));
    assert!(!html.contains("<script>"));
    let forget = form(&html, "/.gatehouse/devices/forget").unwrap();
    assert!(forget.contains(r#"name="csrf_token" value="tok-42""#));
    assert!(forget.contains(">Forget all devices</button>"));
}

#[test]
fn no_devices_means_no_forget_form() {
    let html = render(AccountMfa {
        devices: &[],
        ..on()
    });
    assert!(html.contains("No devices are remembered."));
    assert!(form(&html, "/.gatehouse/devices/forget").is_none());
}

#[test]
fn devices_section_only_when_remember_days_is_positive() {
    let html = render(AccountMfa {
        remember_days: 0,
        ..on()
    });
    assert!(!html.contains("Remembered devices"));
    assert!(form(&html, "/.gatehouse/devices/forget").is_none());
}

#[test]
fn notice_is_a_status_and_error_an_alert_at_the_top() {
    let html = account_page(&AccountView {
        notice: Some("New recovery codes <saved>."),
        error: Some("That code didn't work."),
        mfa: on(),
        ..AccountView::default()
    });
    let notice = html.find(r#"role="status" aria-live="polite" id="account-notice">New recovery codes &lt;saved&gt;.</div>"#);
    let error = html.find(
        r#"role="alert" aria-live="assertive" id="account-error">That code didn't work.</div>"#,
    );
    let details = html.find("<dl").unwrap();
    assert!(notice.unwrap() < details && error.unwrap() < details);
}

#[test]
fn sign_out_form_stays() {
    for mfa in [AccountMfa::default(), on()] {
        let html = render(mfa);
        let logout = form(&html, "/.gatehouse/logout").unwrap();
        assert!(logout.contains(r#"name="csrf_token" value="tok-42""#));
        assert!(logout.contains(">Sign out</button>"));
    }
}

#[test]
fn factors_are_listed_with_hooks_and_remove_forms() {
    let html = render(AccountMfa {
        contact_factors: &CONTACTS,
        ..on()
    });
    assert!(html.contains(r#"<ul class="factors" id="factors">"#));
    assert!(html.contains(
        r#"<li data-factor="app"><span>Authenticator app — on since 2025-01-02</span></li>"#
    ));
    assert!(html.contains(
        r#"<li data-factor="email"><span>Email codes to a•••e@example.com — on since 2025-01-03</span>"#
    ));
    assert!(html.contains(
        r#"<li data-factor="sms"><span>Text message codes to &lt;b&gt;••• 4567&lt;/b&gt; — on since 2025-01-04</span></li>"#
    ));
    let removes: Vec<_> = html
        .match_indices(r#"action="/.gatehouse/account/factor/remove""#)
        .collect();
    assert_eq!(removes.len(), 1, "the last factor can't go");
    let remove = form(&html, "/.gatehouse/account/factor/remove").unwrap();
    assert!(remove.contains(r#"<input type="hidden" name="csrf_token" value="tok-42">"#));
    assert!(remove.contains(r#"<input type="hidden" name="channel" value="email">"#));
    assert!(remove.contains(r#"class="btn btn-secondary btn-small" type="submit" aria-label="Remove email codes to a•••e@example.com">Remove</button>"#));
    assert!(html.contains(
        "a code from your authenticator app, or one we send you by email or text message."
    ));
}

#[test]
fn sign_in_sentence_fits_the_factors() {
    let app_only = render(on());
    assert!(app_only
        .contains("When you sign in, you also enter a code from your authenticator app.</p>"));
    assert!(!app_only.contains("data-factor=\"email\""));
    let email_only = render(AccountMfa {
        app_since: None,
        contact_factors: &CONTACTS[..1],
        ..on()
    });
    assert!(email_only.contains("you also enter a code we send you by email.</p>"));
    assert!(!email_only.contains(r#"data-factor="app""#));
}

#[test]
fn add_link_only_when_mfa_is_on_and_can_add() {
    let link = r#"<a id="add-factor" href="/.gatehouse/enroll?rd=%2F%2Egatehouse%2Faccount">Add another way to get codes</a>"#;
    assert!(render(AccountMfa {
        can_add: true,
        ..on()
    })
    .contains(link));
    assert!(!render(on()).contains("add-factor"));
    let off = render(AccountMfa {
        can_add: true,
        ..AccountMfa::default()
    });
    assert!(!off.contains("add-factor") && !off.contains(r#"id="factors""#));
}
