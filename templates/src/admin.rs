//! The admin console: the two-factor policy, every user's two-factor state
//! with per-user reset and sign-out, the service tokens (in `admin_tokens`),
//! and the audit log (in `admin_audit`).

use maud::{html, Markup};

use crate::admin_audit::{self, AuditView};
use crate::admin_tokens::{self, TokenRow};
use crate::channel::factor_name;
use crate::components::{alert, count, csrf_field, table_head, AlertKind};
use crate::layout::page;
use crate::{ACCOUNT_PATH, ADMIN_ENFORCE_ACTION, ADMIN_RESET_ACTION, ADMIN_SIGN_OUT_ACTION};

/// Who decides whether every user must have two-factor authentication.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Enforcement {
    /// Not required: users opt in.
    #[default]
    Off,
    /// Required, switched on by an admin in this console (can be switched off here).
    OnByAdmin,
    /// Required by the config file (`mfa.enforce: true`); the console cannot change it.
    OnByConfig,
    /// Required and locked by an admin of an organisation above the admin's
    /// own; only they can lift it (the organisations section says who).
    OnByLock,
}

impl Enforcement {
    fn is_on(self) -> bool {
        self != Enforcement::Off
    }
}

/// A user's two-factor state as the admin sees it. Dates preformatted by the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UserMfa<'a> {
    #[default]
    Off,
    /// Enrollment started (QR shown) but never confirmed with a code.
    Pending,
    On {
        since: &'a str,
    },
}

impl UserMfa<'_> {
    /// The row's `data-mfa` value, a stable hook for tests and scripts.
    fn key(self) -> &'static str {
        match self {
            UserMfa::Off => "off",
            UserMfa::Pending => "pending",
            UserMfa::On { .. } => "on",
        }
    }
}

/// One user, as a row of the admin's user table. All strings are escaped on output.
#[derive(Debug, Clone, Copy, Default)]
pub struct AdminUserRow<'a> {
    pub username: &'a str,
    /// Display name; may be empty, then show only the username.
    pub display_name: &'a str,
    pub email: Option<&'a str>,
    pub groups: &'a [String],
    pub disabled: bool,
    pub mfa: UserMfa<'a>,
    pub recovery_remaining: i64,
    /// Remembered browsers still valid.
    pub devices: i64,
    /// Last successful password sign-in, preformatted; None = never.
    pub last_sign_in: Option<&'a str>,
    /// The user's second factors by stable key: "app", "email", "sms".
    pub factors: &'a [&'a str],
}

/// Everything the admin console shows. Every form posts `csrf_token`.
#[derive(Debug, Clone, Copy, Default)]
pub struct AdminView<'a> {
    /// The signed-in admin's username.
    pub admin: &'a str,
    pub csrf_token: &'a str,
    pub enforcement: Enforcement,
    /// The organisations the admin administers, their own first.
    pub orgs: &'a [crate::OrgPolicyRow<'a>],
    pub users: &'a [AdminUserRow<'a>],
    /// Every service token, config ones first.
    pub tokens: &'a [TokenRow<'a>],
    /// The apps a new console token may be limited to (names, in config order).
    pub token_apps: &'a [&'a str],
    /// One page of the audit log, with its filter.
    pub audit: AuditView<'a>,
    /// Outcome of the last action; role="status", id="admin-notice".
    pub notice: Option<&'a str>,
    /// Why the last action failed; role="alert", id="admin-error".
    pub error: Option<&'a str>,
}

/// The full admin document. Every action is a plain POST form (no
/// JavaScript), so each one works, and is CSRF-checked, on its own.
pub fn admin_page(v: &AdminView) -> String {
    let body = html! {
        div.card.card-full {
            p.eyebrow { "Gatehouse administration" }
            h1 { "Admin console" }
            p.muted {
                "Signed in as " code { (v.admin) } ". "
                a href=(ACCOUNT_PATH) { "Back to your account" }
            }
            @if let Some(notice) = v.notice {
                (alert(AlertKind::Success, Some("admin-notice"), notice))
            }
            @if let Some(error) = v.error {
                (alert(AlertKind::Error, Some("admin-error"), error))
            }
            (policy(v))
            (crate::admin_policy::section(v.orgs, v.csrf_token))
            (users(v))
            (admin_tokens::section(v.tokens, v.token_apps, v.csrf_token))
            (admin_audit::section(&v.audit, v.csrf_token))
        }
    };
    page("Admin console", body).into_string()
}

/// The policy switch. A requirement from the config file, or locked from
/// above, shows no form: the console could not honour a change, so it does
/// not offer one.
fn policy(v: &AdminView) -> Markup {
    let enforced = v.enforcement.is_on();
    html! {
        section.section id="mfa-policy" data-enforced=(enforced) aria-labelledby="mfa-policy-heading" {
            h2 id="mfa-policy-heading" {
                "Two-factor policy "
                @if enforced {
                    span.badge.badge-ok { "Required for everyone" }
                } @else {
                    span.badge.badge-warn { "Optional" }
                }
            }
            (summary(v.users))
            @match v.enforcement {
                Enforcement::Off => {
                    p { "Users may turn on two-factor authentication for themselves; nobody has to." }
                    p.muted {
                        "Once it is required, users without it are sent to set it up at "
                        "their next request."
                    }
                    (enforce_form(v.csrf_token, "on", "btn-primary",
                        "Require two-factor authentication for everyone"))
                }
                Enforcement::OnByAdmin => {
                    p {
                        "Every user must use two-factor authentication; it was switched on "
                        "in this console. Users without it are sent to set it up at their "
                        "next request."
                    }
                    p.muted { "Stopping makes it optional again; users who set it up keep it." }
                    (enforce_form(v.csrf_token, "off", "btn-secondary",
                        "Stop requiring two-factor authentication"))
                }
                Enforcement::OnByConfig => {
                    p {
                        "Every user must use two-factor authentication. Users without it are "
                        "sent to set it up at their next request."
                    }
                    p.muted {
                        "This is required by the gateway's configuration ("
                        code { "mfa.enforce: true" }
                        ") and can only be changed there."
                    }
                }
                Enforcement::OnByLock => {
                    p {
                        "Every user must use two-factor authentication. Users without it are "
                        "sent to set it up at their next request."
                    }
                    p.muted {
                        "An organisation above yours requires it and has locked it (see "
                        "Organisations below), so only its admins can stop requiring it."
                    }
                }
            }
        }
    }
}

fn enforce_form(csrf_token: &str, enforce: &str, class: &str, label: &str) -> Markup {
    html! {
        form method="post" action=(ADMIN_ENFORCE_ACTION) {
            (csrf_field(csrf_token))
            input type="hidden" name="enforce" value=(enforce);
            button class={ "btn " (class) } type="submit" { (label) }
        }
    }
}

/// "2 of 3 users have two-factor authentication.", plus unfinished set-ups,
/// which are easy to mistake for "on" when scanning the table.
fn summary(users: &[AdminUserRow]) -> Markup {
    let on = users
        .iter()
        .filter(|u| matches!(u.mfa, UserMfa::On { .. }))
        .count();
    let pending = users.iter().filter(|u| u.mfa == UserMfa::Pending).count();
    let total = users.len();
    // "1 of 3 users has", "0 of 1 user has", "0 of 3 users have".
    let verb = if on == 1 || total == 1 { "has" } else { "have" };
    html! {
        p id="mfa-summary" {
            (on) " of " (count(total as i64, "user")) " " (verb)
            " two-factor authentication."
            @if pending > 0 {
                " " (pending) " more started setting it up but never confirmed a code."
            }
        }
    }
}

fn users(v: &AdminView) -> Markup {
    html! {
        section.section aria-labelledby="users-heading" {
            h2 id="users-heading" { "Users" }
            @if v.users.is_empty() {
                p { "No users are configured." }
            } @else {
                div.table-wrap {
                    table id="users" {
                        (table_head(&["User", "Groups", "Two-factor", "Recovery codes", "Remembered browsers", "Last sign-in", "Actions"]))
                        tbody {
                            @for u in v.users {
                                (user_row(u, v.csrf_token))
                            }
                        }
                    }
                }
                p.muted {
                    "Resetting two-factor removes the user's authenticator, recovery codes "
                    "and remembered browsers, and signs them out everywhere. At their next "
                    "sign-in they set up a new authenticator (if two-factor is required) "
                    "or sign in with their password alone."
                }
            }
        }
    }
}

fn user_row(u: &AdminUserRow, csrf_token: &str) -> Markup {
    html! {
        tr data-username=(u.username) data-mfa=(u.mfa.key()) data-factors=(u.factors.join(" ")) {
            th scope="row" {
                @if !u.display_name.is_empty() {
                    div { (u.display_name) }
                }
                div {
                    code { (u.username) }
                    @if u.disabled {
                        " " span.badge.badge-bad { "Disabled" }
                    }
                }
                @if let Some(email) = u.email {
                    div.muted { (email) }
                }
            }
            td {
                @if u.groups.is_empty() {
                    span.muted { "None" }
                } @else {
                    ul.badges {
                        @for group in u.groups {
                            li { span.badge { (group) } }
                        }
                    }
                }
            }
            td {
                @match u.mfa {
                    // The day under the badge keeps the column narrow
                    // enough for the actions to fit beside it.
                    UserMfa::On { since } => {
                        span.badge.badge-ok { "On" }
                        div.hint { "Since " span.nowrap { (since) } }
                    }
                    UserMfa::Pending => span.badge.badge-warn { "Pending" },
                    UserMfa::Off => span.badge.badge-warn { "Off" },
                }
                @if matches!(u.mfa, UserMfa::On { .. }) && !u.factors.is_empty() {
                    div.hint.factor-names {
                        @for (i, key) in u.factors.iter().enumerate() {
                            @if i > 0 { ", " }
                            (factor_name(key))
                        }
                    }
                }
            }
            td {
                @if u.mfa == UserMfa::Off {
                    span.muted { "—" }
                } @else {
                    (u.recovery_remaining)
                }
            }
            td { (u.devices) }
            td {
                // The day, then the time under it: a narrow column wraps
                // where it reads best, not mid-time.
                @match u.last_sign_in.map(|at| at.split_once(' ').unwrap_or((at, ""))) {
                    Some((day, time)) => {
                        span.nowrap { (day) } " " span.nowrap.muted { (time) }
                    }
                    None => span.muted { "Never" },
                }
            }
            td {
                div.row-actions {
                    // Off has nothing to reset; Pending does: a half-finished
                    // set-up whose QR code may have been seen by someone else.
                    @if u.mfa != UserMfa::Off {
                        form method="post" action=(ADMIN_RESET_ACTION) {
                            (csrf_field(csrf_token))
                            input type="hidden" name="username" value=(u.username);
                            button.btn.btn-danger.btn-small type="submit"
                                aria-label={ "Reset two-factor for " (u.username) } {
                                "Reset two-factor"
                            }
                        }
                    }
                    form method="post" action=(ADMIN_SIGN_OUT_ACTION) {
                        (csrf_field(csrf_token))
                        input type="hidden" name="username" value=(u.username);
                        button.btn.btn-secondary.btn-small type="submit"
                            aria-label={ "Sign out everywhere: " (u.username) } {
                            "Sign out everywhere"
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
#[path = "admin_tests.rs"]
mod tests;
