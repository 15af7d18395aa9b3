//! The organisations section and the switch's confirmation page.

use super::*;
use crate::test_support::forms;

const METHODS_ALL: [&str; 3] = ["totp", "email", "sms"];

fn row<'a>(name: &'a str, depth: usize, lock: Option<LockNote<'a>>) -> OrgPolicyRow<'a> {
    OrgPolicyRow {
        name,
        label: name,
        depth,
        mfa: Setting {
            value: "required",
            lock,
        },
        mfa_floor: if lock.is_some() { "required" } else { "off" },
        methods: Setting {
            value: &METHODS_ALL,
            lock: None,
        },
        remember_device_days: Setting {
            value: 30,
            lock: None,
        },
        require_groups: Setting {
            value: "ops",
            lock: None,
        },
    }
}

#[test]
fn a_locked_setting_says_by_whom_and_offers_no_unlock_to_those_below() {
    let lock = LockNote {
        by: "rita",
        by_org: "reseller",
        mine: false,
    };
    let html = section(&[row("acme", 0, Some(lock))], "t").into_string();
    assert!(
        html.contains(r#"id="org-acme" data-mfa="required" data-locked="true""#),
        "{html}"
    );
    assert!(html.contains("Locked by rita (reseller)"), "{html}");
    assert!(!html.contains("Unlock"), "{html}");
    assert!(
        !html.contains(r#"name="lock""#),
        "no lock boxes on one's own org: {html}"
    );
}

#[test]
fn a_card_offers_no_switch_below_the_locks() {
    let switches = |html: &str| {
        ["required", "optional", "off"]
            .into_iter()
            .filter(|mode| html.contains(&format!("org=acme&amp;mfa={mode}\"")))
            .collect::<Vec<_>>()
    };
    let above = LockNote {
        by: "rita",
        by_org: "reseller",
        mine: false,
    };
    let locked = section(&[row("acme", 0, Some(above))], "t").into_string();
    assert_eq!(switches(&locked), [] as [&str; 0], "{locked}");
    // Locked at optional from above, and required here: back to optional
    // is fine, off is not.
    let mut stricter = row("acme", 0, Some(above));
    stricter.mfa_floor = "optional";
    let html = section(&[stricter], "t").into_string();
    assert_eq!(switches(&html), ["optional"], "{html}");
    let free = section(&[row("acme", 0, None)], "t").into_string();
    assert_eq!(switches(&free), ["optional", "off"], "{free}");
}

#[test]
fn an_admin_above_may_lock_and_unlock_what_they_hold() {
    let mine = LockNote {
        by: "rita",
        by_org: "reseller",
        mine: true,
    };
    let html = section(&[row("acme", 1, Some(mine))], "t").into_string();
    assert!(
        html.contains("/.gatehouse/admin/mfa?org=acme&amp;mfa=required&amp;lock=0"),
        "{html}"
    );
    let html = section(&[row("acme", 1, None)], "t").into_string();
    assert!(
        html.contains("/.gatehouse/admin/mfa?org=acme&amp;mfa=required&amp;lock=1"),
        "{html}"
    );
    let posted = forms(&html, POLICY_ACTION);
    assert_eq!(posted.len(), 1);
    assert!(
        posted[0].contains(r#"name="lock" value="methods""#),
        "{html}"
    );
    assert!(posted[0].contains(r#"name="org" value="acme""#), "{html}");
}

#[test]
fn turning_on_states_how_many_must_enroll_and_turning_off_asks_the_password() {
    let on = mfa_switch_page(&SwitchView {
        csrf_token: "t",
        org: "acme",
        org_label: "Acme",
        mode: "required",
        to_enroll: 2,
        users: 5,
        ..SwitchView::default()
    });
    assert!(
        on.contains("Require two-factor authentication for Acme?"),
        "{on}"
    );
    assert!(on.contains(r#"data-to-enroll="2""#), "{on}");
    assert!(on.contains("2 of the 5 users of Acme"), "{on}");
    assert!(!on.contains(r#"name="password""#), "{on}");
    let off = mfa_switch_page(&SwitchView {
        csrf_token: "t",
        org: "acme",
        org_label: "Acme",
        mode: "off",
        loosening: true,
        users: 5,
        ..SwitchView::default()
    });
    let posted = forms(&off, SWITCH_PATH);
    assert_eq!(posted.len(), 1);
    for field in [
        r#"name="password""#,
        r#"name="forget_devices""#,
        r#"name="confirm" value="yes""#,
    ] {
        assert!(posted[0].contains(field), "{field}: {off}");
    }
}
