//! The account page's two-factor sections: status, recovery codes, turning
//! MFA off, and remembered devices.

use maud::{html, Markup};

use crate::components::{count, csrf_field, totp_field, with_rd, Field};
use crate::{
    ACCOUNT_PATH, DEVICES_FORGET_ACTION, ENROLL_PATH, MFA_DISABLE_ACTION,
    RECOVERY_REGENERATE_ACTION,
};

/// One remembered browser. Dates are preformatted by the caller.
#[derive(Debug, Clone, Copy, Default)]
pub struct DeviceRow<'a> {
    /// e.g. "Firefox on Linux".
    pub label: &'a str,
    pub created: &'a str,
    pub last_used: Option<&'a str>,
    pub expires: &'a str,
}

/// The user's two-factor state, for the account page.
#[derive(Debug, Clone, Copy, Default)]
pub struct AccountMfa<'a> {
    /// When MFA was turned on (preformatted); `None` means it is off.
    pub enabled_since: Option<&'a str>,
    /// The organisation requires MFA: it cannot be turned off.
    pub enforced: bool,
    pub recovery_remaining: i64,
    pub devices: &'a [DeviceRow<'a>],
    /// 0 means remembering devices is switched off: no devices section.
    pub remember_days: u32,
}

/// The "Two-factor authentication" section (and "Remembered devices", when
/// that feature is on). Every form posts `csrf_token`.
pub(crate) fn mfa_sections(m: &AccountMfa, csrf_token: &str) -> Markup {
    html! {
        section.section aria-labelledby="mfa-heading" {
            h2 id="mfa-heading" {
                "Two-factor authentication "
                @match m.enabled_since {
                    Some(since) => span.badge.badge-ok { "On since " (since) },
                    None => span.badge.badge-warn { "Off" },
                }
            }
            @if m.enabled_since.is_some() {
                p.muted { "When you sign in, you also enter a code from your authenticator app." }
                (recovery_codes(m, csrf_token))
                (turn_off(m, csrf_token))
            } @else {
                p.muted {
                    "Two-factor authentication is not set up yet. A second factor keeps "
                    "your account safe even if your password leaks."
                }
                a.btn.btn-primary href=(with_rd(ENROLL_PATH, ACCOUNT_PATH)) {
                    "Set up two-factor authentication"
                }
            }
        }
        @if m.remember_days > 0 {
            (devices(m, csrf_token))
        }
    }
}

fn recovery_codes(m: &AccountMfa, csrf_token: &str) -> Markup {
    html! {
        div.subsection {
            h3 { "Recovery codes" }
            p {
                (count(m.recovery_remaining, "recovery code")) " left."
                @if m.recovery_remaining <= 2 {
                    " You are running out: generate new ones."
                }
            }
            p.muted { "New codes replace all your old ones: the old codes stop working." }
            form method="post" action=(RECOVERY_REGENERATE_ACTION) {
                (csrf_field(csrf_token))
                button.btn.btn-secondary type="submit" { "Generate new recovery codes" }
            }
        }
    }
}

fn turn_off(m: &AccountMfa, csrf_token: &str) -> Markup {
    html! {
        div.subsection {
            h3 { "Turn off two-factor authentication" }
            @if m.enforced {
                p.muted {
                    "Two-factor authentication can't be turned off, because your "
                    "organisation requires it."
                }
            } @else {
                p.muted {
                    "Signing in will need only your password. Your recovery codes and "
                    "remembered browsers are removed too."
                }
                form method="post" action=(MFA_DISABLE_ACTION) {
                    (csrf_field(csrf_token))
                    div.inline {
                        (totp_field(Field {
                            id: "code",
                            label: "Current authenticator code",
                            ..Field::default()
                        }))
                        button.btn.btn-danger type="submit" { "Turn off" }
                    }
                }
            }
        }
    }
}

fn devices(m: &AccountMfa, csrf_token: &str) -> Markup {
    html! {
        section.section aria-labelledby="devices-heading" {
            h2 id="devices-heading" { "Remembered devices" }
            p.muted {
                "Browsers where you ticked \u{201c}Don't ask again\u{201d} skip the "
                "authenticator code for up to " (count(m.remember_days.into(), "day")) "."
            }
            @if m.devices.is_empty() {
                p { "No devices are remembered." }
            } @else {
                div.table-wrap {
                    table {
                        thead {
                            tr { th scope="col" { "Device" } th scope="col" { "Remembered" }
                                 th scope="col" { "Last used" } th scope="col" { "Expires" } }
                        }
                        tbody {
                            @for d in m.devices {
                                tr {
                                    td { (d.label) }
                                    td { (d.created) }
                                    td {
                                        @match d.last_used {
                                            Some(at) => (at),
                                            None => span.muted { "Never" },
                                        }
                                    }
                                    td { (d.expires) }
                                }
                            }
                        }
                    }
                }
                p.muted { "Forgetting them makes every browser, this one included, ask for a code again." }
                form method="post" action=(DEVICES_FORGET_ACTION) {
                    (csrf_field(csrf_token))
                    button.btn.btn-secondary type="submit" { "Forget all devices" }
                }
            }
        }
    }
}
