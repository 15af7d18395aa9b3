//! Setting up a second factor (an authenticator app, or codes by email or
//! text message), and the reminder that invites users to.

use maud::{html, Markup, PreEscaped};

use crate::channel::{channel_field, media_list, send_form, CodeChannel};
use crate::components::{alert, count, csrf_field, local_href, rd_field, totp_field};
use crate::components::{AlertKind, Field};
use crate::layout::page;
use crate::phone::{phone_form, PhoneEntry, APP_ANCHOR};
use crate::Route;
use crate::{ENROLL_PATH, ENROLL_SEND_ACTION};

/// What the enrollment page shows. Strings are escaped on output, except
/// `app.qr_svg`, which is inlined as markup.
#[derive(Debug, Clone, Copy, Default)]
pub struct EnrollView<'a> {
    pub csrf_token: &'a str,
    /// Return path, posted back in the hidden `rd` field; "Cancel" goes there.
    pub rd: &'a str,
    pub issuer: &'a str,
    pub account: &'a str,
    /// The organisation requires MFA: say so, and offer no way to skip (only
    /// while setting up the app; with `app: None` the user already has MFA).
    pub enforced: bool,
    /// Why the last confirmation failed; shown in `role="alert"` in the form
    /// it is about: the channel's confirmation when `sent`, else the app's.
    pub error: Option<&'a str>,
    /// Setting up an authenticator app; `None`: the user already has one,
    /// so the page offers only `channels`.
    pub app: Option<AppSetup<'a>>,
    /// Email addresses and phones the user can still turn on; one send form each.
    pub channels: &'a [CodeChannel<'a>],
    /// A confirmation code was just sent this way: the page asks for it first.
    pub sent: Option<CodeChannel<'a>>,
    /// How long a sent code lives, in minutes; 0 leaves it unsaid.
    pub code_minutes: u32,
    /// Users type the number for codes by text message: the SMS channel's
    /// form asks for it.
    pub phone: Option<PhoneEntry<'a>>,
}

/// The authenticator-app part of enrollment: a fresh secret to scan or type.
#[derive(Debug, Clone, Copy, Default)]
pub struct AppSetup<'a> {
    /// Trusted SVG markup made by the gateway (the QR code of `otpauth_uri`).
    /// Never pass anything derived from user input without escaping it first.
    pub qr_svg: &'a str,
    /// The base32 secret in groups of four, for typing by hand.
    pub secret_grouped: &'a str,
    /// `otpauth://totp/…`; the "open in app" link on phones.
    pub otpauth_uri: &'a str,
    /// Ask for two consecutive codes (`code`, `code2`) instead of one.
    pub two_codes: bool,
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

/// The full enrollment document. The app form: `POST /.gatehouse/enroll` with
/// `code` (and `code2` when `two_codes`), `csrf_token` and `rd`. Each channel:
/// `POST /.gatehouse/enroll/send` with `channel`, `csrf_token` and `rd`; once
/// sent, `POST /.gatehouse/enroll` with `channel`, `code`, `csrf_token`, `rd`.
pub fn enroll_page(v: &EnrollView) -> String {
    let body = html! {
        div.card.card-wide {
            h1 { "Set up two-factor authentication" }
            @if v.enforced && v.app.is_some() {
                (alert(AlertKind::Info, Some("enroll-enforced"),
                    "Your organisation requires two-factor authentication. Set it up to continue."))
            }
            p.muted {
                @if v.app.is_some() && !v.channels.is_empty() {
                    "After your password, you will also enter a code: from an app on your "
                    "phone, or one we send you. "
                    "Your account stays safe even if someone learns your password."
                } @else if v.app.is_some() {
                    "After your password, you will also enter a code from an app on your phone. "
                    "Your account stays safe even if someone learns your password."
                } @else {
                    "You already have an authenticator app. Add another way to get sign-in "
                    "codes, for when you can't use it."
                }
            }
            @if let Some(sent) = v.sent {
                (confirm_channel(v, sent))
            } @else if v.app.is_none() {
                @if let Some(error) = v.error {
                    (alert(AlertKind::Error, Some(ERROR_ID), error))
                }
            }
            @if let Some(app) = v.app {
                (app_steps(v, &app))
            }
            (channels(v))
            @if v.app.is_none() {
                div.actions {
                    a.btn.btn-secondary href=(local_href(v.rd)) { "Back" }
                }
            }
        }
    };
    page("Set up two-factor authentication", body).into_string()
}

/// Install, scan, confirm: the authenticator app's three steps.
fn app_steps(v: &EnrollView, app: &AppSetup) -> Markup {
    // An error belongs to the channel's form while one is being confirmed.
    let error = v.error.filter(|_| v.sent.is_none());
    let error_id = error.map(|_| ERROR_ID);
    html! {
        ol.steps {
            // The anchor the SMS form's "use the app instead" points at.
            li id=(APP_ANCHOR) {
                h2 { "Install an authenticator app" }
                p {
                    "Any app that supports time-based codes works, for example "
                    @for (i, name) in APPS.iter().enumerate() {
                        @if i + 1 == APPS.len() { " or " } @else if i > 0 { ", " }
                        strong { (name) }
                    }
                    "."
                }
            }
            li {
                h2 { "Scan this QR code with the app" }
                p.muted { "In the app, choose to add an account, then scan the code." }
                div.qr role="img" aria-label={ "QR code to add " (v.account) " at " (v.issuer) " to your authenticator app" } {
                    (PreEscaped(strip_xml_declaration(app.qr_svg)))
                }
                (manual_entry(v, app))
            }
            li {
                h2 { "Enter the code from the app" }
                form method="post" action=(ENROLL_PATH) {
                    (csrf_field(v.csrf_token))
                    (rd_field(v.rd))
                    @if let Some(error) = error {
                        (alert(AlertKind::Error, Some(ERROR_ID), error))
                    }
                    div.codes-row {
                        (totp_field(Field {
                            id: "code",
                            label: if app.two_codes { "First code" } else { "6-digit code" },
                            // Focus only after a failed try: on a first visit it would
                            // scroll the QR code out of view on small screens.
                            autofocus: error.is_some(),
                            error_id,
                            ..Field::default()
                        }))
                        @if app.two_codes {
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
}

/// The "Can't scan it?" disclosure: the key and the settings to type by hand.
fn manual_entry(v: &EnrollView, app: &AppSetup) -> Markup {
    html! {
        details.manual {
            summary { "Can't scan it?" }
            p { "Add the account by hand instead. Enter this key:" }
            p.secret id="totp-secret" { (app.secret_grouped) }
            dl.kv {
                dt { "Account" }
                dd { (v.account) }
                dt { "Issuer" }
                dd { (v.issuer) }
                dt { "Type" }
                dd { "Time-based, 6 digits, every 30 seconds" }
            }
            // Only an otpauth: URI becomes a link, whatever the caller passes.
            @if app.otpauth_uri.starts_with("otpauth://") {
                p {
                    "On the phone with the app? "
                    a href=(app.otpauth_uri) { "Open in authenticator app" }
                }
            }
            p.hint { "Keep this key private: anyone who has it can make your codes." }
        }
    }
}

/// Confirming the channel a code was just sent to. The code field is named
/// `code` like the app's, but its element id differs: ids stay unique.
fn confirm_channel(v: &EnrollView, sent: CodeChannel) -> Markup {
    let error_id = v.error.map(|_| ERROR_ID);
    let mut notice = format!(
        "We sent a code {}. Enter it to turn on codes by {}.",
        sent.sent_phrase(),
        sent.medium()
    );
    if v.code_minutes > 0 {
        notice.push_str(&format!(
            " It expires in {}.",
            count(v.code_minutes.into(), "minute")
        ));
    }
    html! {
        section.section id="confirm-channel" aria-labelledby="confirm-channel-heading" {
            h2 id="confirm-channel-heading" { "Turn on codes by " (sent.medium()) }
            (alert(AlertKind::Info, Some("code-sent"), &notice))
            // As narrow as the app's code field: a 6-digit code in a
            // full-width box reads like a message field.
            form method="post" action=(ENROLL_PATH) class="narrow" {
                (csrf_field(v.csrf_token))
                (rd_field(v.rd))
                (channel_field(sent.channel))
                @if let Some(error) = v.error {
                    (alert(AlertKind::Error, Some(ERROR_ID), error))
                }
                (totp_field(Field {
                    id: "channel-code",
                    name: Some("code"),
                    label: "6-digit code",
                    autofocus: true,
                    error_id,
                    ..Field::default()
                }))
                button.btn.btn-primary type="submit" { "Confirm" }
            }
        }
    }
}

/// The channels the user can still turn on, one send form each.
fn channels(v: &EnrollView) -> Markup {
    html! {
        @if !v.channels.is_empty() {
            section.section id="enroll-channels" aria-labelledby="enroll-channels-heading" {
                h2 id="enroll-channels-heading" {
                    @if v.app.is_some() {
                        "Or get codes by " (media_list(v.channels.iter().copied()))
                    } @else {
                        "Add a way to get codes"
                    }
                }
                p.muted { "We send a code to confirm it's yours." }
                div.channels {
                    @for c in v.channels {
                        @match v.phone.filter(|_| c.channel == CodeChannel::SMS) {
                            Some(entry) => (phone_form(*c, &entry, v.csrf_token, v.rd, v.app.is_some())),
                            None => (send_form(ENROLL_SEND_ACTION, "enroll-send-", *c, v.csrf_token, v.rd)),
                        }
                    }
                }
            }
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
                a.btn.btn-primary.btn-block href=(Route::Enroll.with_rd(v.rd)) { "Set up now" }
                a.btn.btn-secondary.btn-block href=(local_href(v.rd)) { "Remind me later" }
            }
        }
    };
    page("Protect your account", body).into_string()
}

#[cfg(test)]
#[path = "enroll_tests.rs"]
mod tests;
