//! The account page's two-factor sections: status and factors, recovery
//! codes, turning MFA off, and remembered devices.

use maud::{html, Markup};

use crate::channel::{channel_field, media_list, CodeChannel};
use crate::components::{count, csrf_field, table_head, totp_field, Field};
use crate::Route;
use crate::{
    ACCOUNT_PATH, DEVICES_FORGET_ACTION, FACTOR_REMOVE_ACTION, MFA_DISABLE_ACTION,
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

/// An email address or phone that receives the user's sign-in codes.
#[derive(Debug, Clone, Copy, Default)]
pub struct ContactFactorRow<'a> {
    pub channel: CodeChannel<'a>,
    /// When it was turned on, preformatted by the caller.
    pub since: &'a str,
    /// false: it is the last factor and MFA is required, so it can't go.
    pub removable: bool,
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
    /// When the authenticator app was turned on (preformatted); `None`: no app.
    pub app_since: Option<&'a str>,
    /// Email addresses and phones that receive codes.
    pub contact_factors: &'a [ContactFactorRow<'a>],
    /// The user can still add a factor: link to enrollment (only while MFA is on).
    pub can_add: bool,
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
                p.muted { (sign_in_sentence(m)) }
                (factors(m, csrf_token))
                (recovery_codes(m, csrf_token))
                (turn_off(m, csrf_token))
            } @else {
                p.muted {
                    "Two-factor authentication is not set up yet. A second factor keeps "
                    "your account safe even if your password leaks."
                }
                a.btn.btn-primary href=(Route::Enroll.with_rd(ACCOUNT_PATH)) {
                    "Set up two-factor authentication"
                }
            }
        }
        @if m.remember_days > 0 {
            (devices(m, csrf_token))
        }
    }
}

/// What signing in asks for, naming the factors the user has.
fn sign_in_sentence(m: &AccountMfa) -> String {
    let media = media_list(m.contact_factors.iter().map(|f| f.channel));
    match (m.app_since.is_some(), media.is_empty()) {
        (true, true) => {
            "When you sign in, you also enter a code from your authenticator app.".into()
        }
        (true, false) => format!(
            "When you sign in, you also enter a code from your authenticator app, \
             or one we send you by {media}."
        ),
        (false, false) => {
            format!("When you sign in, you also enter a code we send you by {media}.")
        }
        (false, true) => "When you sign in, you also enter a one-time code.".into(),
    }
}

/// The list of second factors, each with its own remove form when it may go.
fn factors(m: &AccountMfa, csrf_token: &str) -> Markup {
    html! {
        ul.factors id="factors" {
            @if let Some(since) = m.app_since {
                li data-factor="app" {
                    span { "Authenticator app — on since " (since) }
                }
            }
            @for f in m.contact_factors {
                li data-factor=(f.channel.channel) {
                    span {
                        (f.channel.name()) " codes to " (f.channel.destination)
                        " — on since " (f.since)
                    }
                    @if f.removable {
                        form method="post" action=(FACTOR_REMOVE_ACTION) {
                            (csrf_field(csrf_token))
                            (channel_field(f.channel.channel))
                            button.btn.btn-secondary.btn-small type="submit"
                                aria-label={ "Remove " (f.channel.medium()) " codes to " (f.channel.destination) } {
                                "Remove"
                            }
                        }
                    }
                }
            }
        }
        @if m.can_add {
            p {
                a id="add-factor" href=(Route::Enroll.with_rd(ACCOUNT_PATH)) {
                    "Add another way to get codes"
                }
            }
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
                    // With an app, a current code proves the phone is at hand;
                    // without one, the second step of this sign-in stands in.
                    @if m.app_since.is_some() {
                        div.inline {
                            (totp_field(Field {
                                id: "code",
                                label: "Current authenticator code",
                                ..Field::default()
                            }))
                            button.btn.btn-danger type="submit" { "Turn off" }
                        }
                    } @else {
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
                        (table_head(&["Device", "Remembered", "Last used", "Expires"]))
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
