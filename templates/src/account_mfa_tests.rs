//! The account page's MFA sections, rendered through `account_page`.

use super::*;
use crate::account_mfa::DeviceRow;

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
    }
}

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
        r#"<a class="btn btn-primary" href="/.gatehouse/enroll?rd=%2F.gatehouse%2Faccount">Set up two-factor authentication</a>"#
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
