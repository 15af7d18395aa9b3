//! Setting up an authenticator app, and the reminder that invites users to.

use maud::{html, Markup, PreEscaped};

use crate::components::{alert, csrf_field, local_href, rd_field, totp_field, with_rd};
use crate::components::{AlertKind, Field};
use crate::layout::page;
use crate::ENROLL_PATH;

/// What the enrollment page shows. Strings are escaped on output, except
/// `qr_svg`, which is inlined as markup.
#[derive(Debug, Clone, Copy, Default)]
pub struct EnrollView<'a> {
    pub csrf_token: &'a str,
    /// Return path, posted back in the hidden `rd` field; "Cancel" goes there.
    pub rd: &'a str,
    /// Trusted SVG markup made by the gateway (the QR code of `otpauth_uri`).
    /// Never pass anything derived from user input without escaping it first.
    pub qr_svg: &'a str,
    /// The base32 secret in groups of four, for typing by hand.
    pub secret_grouped: &'a str,
    /// `otpauth://totp/…`; the "open in app" link on phones.
    pub otpauth_uri: &'a str,
    pub issuer: &'a str,
    pub account: &'a str,
    /// Ask for two consecutive codes (`code`, `code2`) instead of one.
    pub two_codes: bool,
    /// The organisation requires MFA: say so, and offer no way to skip.
    pub enforced: bool,
    /// Why the last confirmation failed; shown in `role="alert"` by the codes.
    pub error: Option<&'a str>,
}

const APPS: [&str; 6] = [
    "Google Authenticator",
    "Microsoft Authenticator",
    "Authy",
    "Duo Mobile",
    "Okta Verify",
    "1Password",
];

const ERROR_ID: &str = "enroll-error";

/// The full enrollment document: `POST /.gatehouse/enroll` with `code` (and
/// `code2` when `two_codes`), `csrf_token` and `rd`.
pub fn enroll_page(v: &EnrollView) -> String {
    let error_id = v.error.map(|_| ERROR_ID);
    let body = html! {
        div.card.card-wide {
            h1 { "Set up two-factor authentication" }
            @if v.enforced {
                (alert(AlertKind::Info, Some("enroll-enforced"),
                    "Your organisation requires two-factor authentication. Set it up to continue."))
            }
            p.muted {
                "After your password, you will also enter a code from an app on your phone. "
                "Your account stays safe even if someone learns your password."
            }
            ol.steps {
                li {
                    h2 { "Install an authenticator app" }
                    p {
                        "Any app that supports time-based codes works, for example "
                        @for (i, app) in APPS.iter().enumerate() {
                            @if i + 1 == APPS.len() { " or " } @else if i > 0 { ", " }
                            strong { (app) }
                        }
                        "."
                    }
                }
                li {
                    h2 { "Scan this QR code with the app" }
                    p.muted { "In the app, choose to add an account, then scan the code." }
                    div.qr role="img" aria-label={ "QR code to add " (v.account) " at " (v.issuer) " to your authenticator app" } {
                        (PreEscaped(strip_xml_declaration(v.qr_svg)))
                    }
                    (manual_entry(v))
                }
                li {
                    h2 { "Enter the code from the app" }
                    form method="post" action=(ENROLL_PATH) {
                        (csrf_field(v.csrf_token))
                        (rd_field(v.rd))
                        @if let Some(error) = v.error {
                            (alert(AlertKind::Error, Some(ERROR_ID), error))
                        }
                        div.codes-row {
                            (totp_field(Field {
                                id: "code",
                                label: if v.two_codes { "First code" } else { "6-digit code" },
                                // Focus only after a failed try: on a first visit it would
                                // scroll the QR code out of view on small screens.
                                autofocus: v.error.is_some(),
                                error_id,
                                ..Field::default()
                            }))
                            @if v.two_codes {
                                (totp_field(Field {
                                    id: "code2",
                                    label: "Next code",
                                    error_id,
                                    hint: Some("Wait for the code in the app to change, then enter the new one."),
                                    ..Field::default()
                                }))
                            }
                        }
                        div.actions {
                            button.btn.btn-primary type="submit" { "Turn on two-factor authentication" }
                            @if !v.enforced {
                                a.btn.btn-secondary href=(local_href(v.rd)) { "Cancel" }
                            }
                        }
                    }
                }
            }
        }
    };
    page("Set up two-factor authentication", body).into_string()
}

/// The "Can't scan it?" disclosure: the key and the settings to type by hand.
fn manual_entry(v: &EnrollView) -> Markup {
    html! {
        details.manual {
            summary { "Can't scan it?" }
            p { "Add the account by hand instead. Enter this key:" }
            p.secret id="totp-secret" { (v.secret_grouped) }
            dl.kv {
                dt { "Account" }
                dd { (v.account) }
                dt { "Issuer" }
                dd { (v.issuer) }
                dt { "Type" }
                dd { "Time-based, 6 digits, every 30 seconds" }
            }
            // Only an otpauth: URI becomes a link, whatever the caller passes.
            @if v.otpauth_uri.starts_with("otpauth://") {
                p {
                    "On the phone with the app? "
                    a href=(v.otpauth_uri) { "Open in authenticator app" }
                }
            }
            p.hint { "Keep this key private: anyone who has it can make your codes." }
        }
    }
}

/// `qrcode` renders a standalone SVG document; its `<?xml …?>` line has no
/// place inside HTML.
fn strip_xml_declaration(svg: &str) -> &str {
    let trimmed = svg.trim_start();
    match trimmed
        .strip_prefix("<?xml")
        .and_then(|r| r.split_once("?>"))
    {
        Some((_, rest)) => rest.trim_start(),
        None => trimmed,
    }
}

/// The reminder shown after the password to users without MFA, when the
/// organisation does not require it.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReminderView<'a> {
    /// Not used by the page today: both choices are plain links.
    pub csrf_token: &'a str,
    /// Where "Remind me later" goes, and where enrollment returns to.
    pub rd: &'a str,
}

/// The full reminder document: "Set up now" links to `/.gatehouse/enroll?rd=…`,
/// "Remind me later" links to `rd`.
pub fn mfa_reminder_page(v: &ReminderView) -> String {
    let body = html! {
        div.card {
            p.eyebrow { "Recommended" }
            h1 { "Protect your account with two-factor authentication" }
            p {
                "A password alone can be guessed or stolen. With two-factor "
                "authentication, signing in also needs a code from an app on your phone, "
                "such as Google Authenticator or Microsoft Authenticator."
            }
            p.muted { "It takes about a minute." }
            div.actions.stack {
                a.btn.btn-primary.btn-block href=(with_rd(ENROLL_PATH, v.rd)) { "Set up now" }
                a.btn.btn-secondary.btn-block href=(local_href(v.rd)) { "Remind me later" }
            }
        }
    };
    page("Protect your account", body).into_string()
}

#[cfg(test)]
#[path = "enroll_tests.rs"]
mod tests;
