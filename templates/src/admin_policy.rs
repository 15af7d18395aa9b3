//! The console's organisations: each one's policy, who locked what, the
//! switches, and the confirmation page a switch goes through.

use maud::{html, Markup};

use crate::components::{alert, csrf_field, query_value, AlertKind};
use crate::layout::page;
use crate::routes::Route;

const SWITCH_PATH: &str = Route::AdminMfa.path();
const POLICY_ACTION: &str = Route::AdminPolicy.path();
const ADMIN_PATH: &str = Route::Admin.path();

/// Who holds a setting where it is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LockNote<'a> {
    /// The admin who set it, or "the configuration".
    pub by: &'a str,
    /// Their organisation, as shown.
    pub by_org: &'a str,
    /// Whether the admin looking may change or lift it.
    pub mine: bool,
}

/// One setting of an organisation, as shown.
#[derive(Debug, Clone, Copy, Default)]
pub struct Setting<'a, T> {
    pub value: T,
    pub lock: Option<LockNote<'a>>,
}

/// One organisation the admin administers.
#[derive(Debug, Clone, Copy, Default)]
pub struct OrgPolicyRow<'a> {
    /// The name forms post as `org`: empty for the root.
    pub name: &'a str,
    /// As shown.
    pub label: &'a str,
    /// How far below the admin's own organisation: 0 for their own.
    pub depth: usize,
    /// `off`, `optional` or `required`.
    pub mfa: Setting<'a, &'a str>,
    /// The least of those that the locks (the admin's own included) and the
    /// configuration allow here: the card offers no switch below it. Empty
    /// or `off` when nothing binds it.
    pub mfa_floor: &'a str,
    /// The allowed methods' names.
    pub methods: Setting<'a, &'a [&'a str]>,
    pub remember_device_days: Setting<'a, u32>,
    /// Comma-separated.
    pub require_groups: Setting<'a, &'a str>,
}

/// Every method a policy may allow today.
pub const METHODS: [(&str, &str); 3] = [
    ("totp", "Authenticator app"),
    ("email", "Email codes"),
    ("sms", "Text message codes"),
];

/// Modes from the loosest up; anything else counts as the loosest.
fn mode_rank(mode: &str) -> usize {
    match mode {
        "required" => 2,
        "optional" => 1,
        _ => 0,
    }
}

fn mode_label(mode: &str) -> &'static str {
    match mode {
        "required" => "Required",
        "off" => "Off",
        _ => "Optional",
    }
}

fn lock_text(lock: &LockNote) -> String {
    format!("Locked by {} ({})", lock.by, lock.by_org)
}

/// The organisations section: a card per organisation.
pub fn section(rows: &[OrgPolicyRow], csrf_token: &str) -> Markup {
    html! {
        section.section id="org-policies" aria-labelledby="org-policies-heading" {
            h2 id="org-policies-heading" { "Organisations" }
            p.muted {
                "A setting locked from above may be made stricter here, never looser. "
                "Locking a setting of an organisation below yours holds it there for that "
                "organisation and every one below it."
            }
            @for row in rows {
                (card(row, csrf_token))
            }
        }
    }
}

fn org_id(name: &str) -> String {
    if name.is_empty() {
        "org-root".to_owned()
    } else {
        format!("org-{name}")
    }
}

fn switch_href(org: &str, mode: &str, lock: Option<bool>) -> String {
    let mut href = format!("{SWITCH_PATH}?org={}&mfa={mode}", query_value(org));
    if let Some(lock) = lock {
        href.push_str(if lock { "&lock=1" } else { "&lock=0" });
    }
    href
}

fn card(row: &OrgPolicyRow, csrf_token: &str) -> Markup {
    let below = row.depth > 0;
    let locked = row.mfa.lock.is_some();
    html! {
        div.org-policy id=(org_id(row.name)) data-mfa=(row.mfa.value) data-locked=(locked) {
            h3 {
                (row.label) " "
                span class={ "badge " (if row.mfa.value == "required" { "badge-ok" } else { "badge-warn" }) } {
                    "MFA " (mode_label(row.mfa.value))
                }
            }
            @if let Some(lock) = &row.mfa.lock {
                p.org-lock data-field="mfa" { (lock_text(lock)) }
            }
            p.actions {
                // Only the switches the locks allow: one below the floor
                // would be refused after the password was typed.
                @for mode in ["required", "optional", "off"] {
                    @if mode != row.mfa.value && mode_rank(mode) >= mode_rank(row.mfa_floor) {
                        a.btn.btn-secondary href=(switch_href(row.name, mode, None)) {
                            "Make " (mode_label(mode).to_lowercase())
                        }
                        " "
                    }
                }
                @if below {
                    @match row.mfa.lock {
                        Some(lock) if lock.mine => {
                            a.btn.btn-secondary href=(switch_href(row.name, row.mfa.value, Some(false))) { "Unlock" }
                        }
                        Some(_) => {}
                        None => {
                            a.btn.btn-secondary href=(switch_href(row.name, row.mfa.value, Some(true))) {
                                "Lock at " (mode_label(row.mfa.value).to_lowercase())
                            }
                        }
                    }
                }
            }
            (policy_form(row, csrf_token, below))
        }
    }
}

fn lock_box(field: &str, lock: &Option<LockNote>, below: bool) -> Markup {
    html! {
        @if let Some(lock) = lock {
            " " span.org-lock data-field=(field) { (lock_text(lock)) }
        }
        @if below {
            " " label {
                input type="checkbox" name="lock" value=(field) checked[lock.is_some()];
                " lock"
            }
        }
    }
}

fn policy_form(row: &OrgPolicyRow, csrf_token: &str, below: bool) -> Markup {
    html! {
        form method="post" action=(POLICY_ACTION) {
            (csrf_field(csrf_token))
            input type="hidden" name="org" value=(row.name);
            fieldset {
                legend { "Allowed methods" (lock_box("methods", &row.methods.lock, below)) }
                @for (name, label) in METHODS {
                    label {
                        input type="checkbox" name="methods" value=(name)
                            checked[row.methods.value.contains(&name)];
                        " " (label)
                    }
                    " "
                }
            }
            label {
                "Remember a browser for (days, 0 for never) "
                input type="number" min="0" max="365" name="remember_device_days"
                    value=(row.remember_device_days.value);
            }
            (lock_box("remember_device_days", &row.remember_device_days.lock, below))
            br;
            label {
                "Groups that must always use MFA (comma-separated) "
                input type="text" name="require_groups" value=(row.require_groups.value);
            }
            (lock_box("require_groups", &row.require_groups.lock, below))
            br;
            button.btn.btn-secondary type="submit" { "Save " (row.label) "'s policy" }
        }
    }
}

/// The page a switch of MFA goes through before it happens.
#[derive(Debug, Clone, Copy, Default)]
pub struct SwitchView<'a> {
    pub csrf_token: &'a str,
    /// As posted (`org`), and as shown.
    pub org: &'a str,
    pub org_label: &'a str,
    /// `off`, `optional` or `required`.
    pub mode: &'a str,
    /// Lock it there (`Some(true)`), unlock (`Some(false)`), or leave locks.
    pub lock: Option<bool>,
    /// Looser than now: the password is asked, and forgetting is offered.
    pub loosening: bool,
    /// Users who will have to set up a factor at their next request.
    pub to_enroll: usize,
    /// Users of the organisation and those below.
    pub users: usize,
    pub error: Option<&'a str>,
}

/// `POST /.gatehouse/admin/mfa` with `org`, `mfa`, `lock`, `confirm=yes`,
/// and to loosen, `password` and the `forget_devices` checkbox.
pub fn mfa_switch_page(v: &SwitchView) -> String {
    let title = match v.mode {
        "required" => format!("Require two-factor authentication for {}?", v.org_label),
        "off" => format!("Turn two-factor authentication off for {}?", v.org_label),
        _ => format!(
            "Make two-factor authentication optional for {}?",
            v.org_label
        ),
    };
    let body = html! {
        div.card {
            p.eyebrow { "Gatehouse administration" }
            h1 { (title) }
            @if let Some(error) = v.error {
                (alert(AlertKind::Error, Some("switch-error"), error))
            }
            p id="switch-effect" data-to-enroll=(v.to_enroll) {
                @if v.mode == "required" {
                    (v.to_enroll) " of the " (v.users) " users of " (v.org_label)
                    " (and the organisations below it) will have to set up a second factor at "
                    "their next request. The others have one, or must set one up already."
                } @else if v.mode == "off" {
                    "Nobody in " (v.org_label) " will be asked for a code, and setting one up "
                    "is no longer offered. Apps whose rules need two-factor authentication stay "
                    "closed to them."
                } @else {
                    "Users of " (v.org_label) " will choose for themselves; those who set it up keep it."
                }
            }
            @match v.lock {
                Some(true) => p { "The setting will be locked: " (v.org_label) "'s admins may make it stricter, never looser." },
                Some(false) => p { "The lock will be lifted: " (v.org_label) "'s admins may change it." },
                None => {},
            }
            form method="post" action=(SWITCH_PATH) {
                (csrf_field(v.csrf_token))
                input type="hidden" name="org" value=(v.org);
                input type="hidden" name="mfa" value=(v.mode);
                @if let Some(lock) = v.lock {
                    input type="hidden" name="lock" value=(if lock { "1" } else { "0" });
                }
                input type="hidden" name="confirm" value="yes";
                @if v.loosening {
                    div.field {
                        label for="password" { "Your password" }
                        input id="password" type="password" name="password"
                            autocomplete="current-password" required;
                    }
                    div.field {
                        label {
                            input type="checkbox" name="forget_devices" value="1";
                            " Also forget all devices: remove every authenticator, phone, email, "
                            "recovery code and remembered browser of these " (v.users)
                            " users, and sign them out everywhere."
                        }
                    }
                }
                button.btn.btn-primary type="submit" { "Confirm" }
                " "
                a.btn.btn-secondary href=(ADMIN_PATH) { "Cancel" }
            }
        }
    };
    page(&title, body).into_string()
}

#[cfg(test)]
#[path = "admin_policy_tests.rs"]
mod tests;
