//! The second step of signing in: an authenticator code or a code sent by
//! email or text message, or a recovery code for someone who can use neither.

use maud::{html, Markup};

use crate::channel::{send_form, CodeChannel};
use crate::components::{alert, count, csrf_field, field, rd_field, totp_field, AlertKind, Field};
use crate::layout::page;
use crate::Route;
use crate::{CONFIRM_PATH, CONFIRM_SEND_ACTION, MFA_PATH, MFA_SEND_ACTION, RECOVER_PATH};

/// The one-time-code challenge. All strings are escaped on output.
#[derive(Debug, Clone, Copy, Default)]
pub struct MfaChallengeView<'a> {
    pub csrf_token: &'a str,
    /// Return path, posted back in the hidden `rd` field and carried (percent-
    /// encoded by the page) on the link to the recovery-code page.
    pub rd: &'a str,
    /// Why the last code was refused; shown in `role="alert"`.
    pub error: Option<&'a str>,
    /// Days a remembered browser skips the code; 0 hides the checkbox.
    pub remember_days: u32,
    /// The user has an authenticator app: the page asks for its code first.
    pub has_app: bool,
    /// Where the user can have a code sent; one send button each.
    pub channels: &'a [CodeChannel<'a>],
    /// A code was just sent this way: the page says where, and for how long.
    pub sent: Option<CodeChannel<'a>>,
    /// How long a sent code lives, in minutes; 0 leaves it unsaid.
    pub code_minutes: u32,
    /// A signed-in user confirming a sensitive action: the forms post to
    /// the confirm page, and nothing is remembered or recovered from here.
    pub confirm: bool,
}

const CHALLENGE_ERROR_ID: &str = "mfa-error";

/// The full challenge document: `POST /.gatehouse/mfa` with `code`,
/// `remember_device` (`1` when ticked), `csrf_token` and `rd`; and one
/// `POST /.gatehouse/mfa/send` form per channel with `channel`, `csrf_token`
/// and `rd`. The code form is always there: a code sent earlier still works.
pub fn mfa_challenge_page(v: &MfaChallengeView) -> String {
    let error_id = v.error.map(|_| CHALLENGE_ERROR_ID);
    // Without an app and before any code was sent, there is nothing to type
    // yet: the send buttons come first and the field doesn't grab focus.
    let choose_first = !v.has_app && v.sent.is_none();
    let (title, action) = if v.confirm {
        ("Confirm it's you", CONFIRM_PATH)
    } else {
        ("Enter your code", MFA_PATH)
    };
    let body = html! {
        div.card {
            h1 { (title) }
            @if v.confirm {
                p.muted id="confirm-why" {
                    "This change needs a fresh code from your second factor."
                }
            }
            p.muted {
                @if v.has_app {
                    "Open the authenticator app on your phone and enter the 6-digit code "
                    "it shows for this account"
                    @if !v.channels.is_empty() { ", or a code we send you" }
                    "."
                } @else {
                    "We'll send you a 6-digit code. Choose where to get it."
                }
            }
            @if let Some(sent) = v.sent {
                (alert(AlertKind::Info, Some("code-sent"), &sent_notice(sent, v.code_minutes)))
            }
            @if let Some(error) = v.error {
                (alert(AlertKind::Error, Some(CHALLENGE_ERROR_ID), error))
            }
            @if choose_first {
                (channels(v))
            }
            form method="post" action=(action) {
                (csrf_field(v.csrf_token))
                (rd_field(v.rd))
                (totp_field(Field {
                    id: "code",
                    label: "Authentication code",
                    autofocus: !choose_first || v.error.is_some(),
                    error_id,
                    ..Field::default()
                }))
                @if v.remember_days > 0 && !v.confirm {
                    div.field {
                        label.check {
                            input type="checkbox" name="remember_device" value="1";
                            "Don't ask again on this browser for "
                            (count(v.remember_days.into(), "day"))
                        }
                    }
                }
                button.btn.btn-primary.btn-block type="submit" { "Verify" }
            }
            @if !choose_first {
                (channels(v))
            }
            @if !v.confirm { p.aside {
                a href=(Route::Recover.with_rd(v.rd)) {
                    @if v.has_app { "Can't use your authenticator?" } @else { "Use a recovery code" }
                }
            } }
        }
    };
    page(title, body).into_string()
}

/// "We sent a code by email to a•••e@example.com. It expires in 10 minutes."
fn sent_notice(sent: CodeChannel, minutes: u32) -> String {
    let mut notice = format!("We sent a code {}.", sent.sent_phrase());
    if minutes > 0 {
        notice.push_str(&format!(
            " It expires in {}.",
            count(minutes.into(), "minute")
        ));
    }
    notice
}

/// The send buttons, one form each; nothing when there are no channels.
fn channels(v: &MfaChallengeView) -> Markup {
    html! {
        @if !v.channels.is_empty() {
            div.channels id="code-channels" {
                @for c in v.channels {
                    (send_form(
                        if v.confirm { CONFIRM_SEND_ACTION } else { MFA_SEND_ACTION },
                        "send-", *c, v.csrf_token, v.rd,
                    ))
                }
            }
        }
    }
}

/// The recovery-code form. All strings are escaped on output.
#[derive(Debug, Clone, Copy, Default)]
pub struct RecoverView<'a> {
    pub csrf_token: &'a str,
    /// Return path: hidden field, and carried on the link back to the challenge.
    pub rd: &'a str,
    /// Why the last code was refused; shown in `role="alert"`.
    pub error: Option<&'a str>,
}

const RECOVER_ERROR_ID: &str = "recover-error";

/// The full recovery document: `POST /.gatehouse/recover` with `code`,
/// `csrf_token` and `rd`.
pub fn recover_page(v: &RecoverView) -> String {
    let error_id = v.error.map(|_| RECOVER_ERROR_ID);
    let body = html! {
        div.card {
            h1 { "Use a recovery code" }
            p.muted {
                "Enter one of the recovery codes you saved when you set up two-factor "
                "authentication. Each code works only once."
            }
            @if let Some(error) = v.error {
                (alert(AlertKind::Error, Some(RECOVER_ERROR_ID), error))
            }
            form method="post" action=(RECOVER_PATH) {
                (csrf_field(v.csrf_token))
                (rd_field(v.rd))
                (field(&Field {
                    id: "code",
                    label: "Recovery code",
                    autofocus: true,
                    error_id,
                    hint: Some("It looks like xxxx-xxxx-xxxx. Dashes and spaces are optional."),
                    verbatim: true,
                    mono: true,
                    ..Field::default()
                }))
                button.btn.btn-primary.btn-block type="submit" { "Sign in" }
            }
            p.aside {
                a href=(Route::Mfa.with_rd(v.rd)) { "Use your authenticator app instead" }
            }
            p.hint {
                "No recovery codes either? Ask your administrator to reset "
                "two-factor authentication for your account."
            }
        }
    };
    page("Use a recovery code", body).into_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{assert_send_forms, forms};

    fn challenge() -> MfaChallengeView<'static> {
        MfaChallengeView {
            csrf_token: "tok",
            rd: "/wiki?a=1&b=2",
            error: None,
            remember_days: 30,
            has_app: true,
            ..MfaChallengeView::default()
        }
    }

    #[test]
    fn challenge_posts_a_one_time_code_with_csrf_and_rd() {
        let html = mfa_challenge_page(&challenge());
        assert!(html.contains(r#"<form method="post" action="/.gatehouse/mfa">"#));
        assert!(html.contains(r#"<input type="hidden" name="csrf_token" value="tok">"#));
        assert!(html.contains(r#"<input type="hidden" name="rd" value="/wiki?a=1&amp;b=2">"#));
        assert!(html.contains(r#"name="code" type="text" autocomplete="one-time-code""#));
        assert!(html.contains(r#"inputmode="numeric" pattern="[0-9 ]*" maxlength="7""#));
        assert!(html.contains("required autofocus"));
    }

    #[test]
    fn remember_checkbox_names_the_number_of_days() {
        let html = mfa_challenge_page(&challenge());
        assert!(html.contains(r#"<input type="checkbox" name="remember_device" value="1">"#));
        assert!(html.contains("Don't ask again on this browser for 30 days"));
        let one = mfa_challenge_page(&MfaChallengeView {
            remember_days: 1,
            ..challenge()
        });
        assert!(one.contains("for 1 day<"));
    }

    #[test]
    fn remember_checkbox_only_when_remember_days_is_positive() {
        let html = mfa_challenge_page(&MfaChallengeView {
            remember_days: 0,
            ..challenge()
        });
        assert!(!html.contains("remember_device"));
        assert!(!html.contains("Don't ask again"));
    }

    #[test]
    fn recover_link_carries_the_encoded_rd() {
        let html = mfa_challenge_page(&challenge());
        assert!(html.contains(
            r#"<a href="/.gatehouse/recover?rd=%2Fwiki%3Fa%3D1%26b%3D2">Can't use your authenticator?</a>"#
        ));
    }

    #[test]
    fn challenge_error_is_an_alert_linked_from_the_code_field() {
        let html = mfa_challenge_page(&MfaChallengeView {
            error: Some("That code didn't work. <Try> the newest one."),
            ..challenge()
        });
        assert!(html.contains(r#"role="alert" aria-live="assertive" id="mfa-error">That code didn't work. &lt;Try&gt; the newest one.</div>"#));
        assert!(html.contains(r#"aria-invalid="true" aria-describedby="mfa-error""#));
        assert!(!mfa_challenge_page(&challenge()).contains(r#"role="alert""#));
    }

    const CHANNELS: [CodeChannel<'static>; 2] = crate::channel::SAMPLE_CHANNELS;

    #[test]
    fn app_only_challenge_offers_no_send_buttons() {
        let html = mfa_challenge_page(&challenge());
        assert!(html.contains("enter the 6-digit code it shows for this account.</p>"));
        assert!(!html.contains("code-channels") && !html.contains("code-sent"));
        assert!(forms(&html, "/.gatehouse/mfa/send").is_empty());
    }

    #[test]
    fn each_channel_is_its_own_send_form_with_csrf_rd_and_channel() {
        let html = mfa_challenge_page(&MfaChallengeView {
            channels: &CHANNELS,
            ..challenge()
        });
        assert!(html.contains("it shows for this account, or a code we send you.</p>"));
        assert!(html.contains(r#"<div class="channels" id="code-channels">"#));
        assert_send_forms(&html, "/.gatehouse/mfa/send", "send-");
        // With an app, the code field comes first and takes the focus.
        assert!(html.find(r#"name="code""#) < html.find("code-channels"));
        assert!(html.contains("required autofocus"));
    }

    #[test]
    fn without_an_app_the_send_buttons_come_first() {
        let html = mfa_challenge_page(&MfaChallengeView {
            has_app: false,
            channels: &CHANNELS,
            ..challenge()
        });
        assert!(html.contains("We'll send you a 6-digit code. Choose where to get it."));
        assert!(!html.contains("authenticator app"));
        assert!(html.find("code-channels") < html.find(r#"name="code""#));
        assert!(!html.contains("autofocus"));
        assert_eq!(
            forms(&html, "/.gatehouse/mfa").len(),
            1,
            "the code form stays"
        );
        assert!(html.contains(
            r#"<a href="/.gatehouse/recover?rd=%2Fwiki%3Fa%3D1%26b%3D2">Use a recovery code</a>"#
        ));
    }

    #[test]
    fn sent_code_is_announced_with_its_lifetime() {
        let html = mfa_challenge_page(&MfaChallengeView {
            has_app: false,
            channels: &CHANNELS,
            sent: Some(CHANNELS[0]),
            code_minutes: 10,
            ..challenge()
        });
        assert!(html.contains(
            r#"role="status" aria-live="polite" id="code-sent">We sent a code by email to a•••e@example.com. It expires in 10 minutes.</div>"#
        ));
        assert!(
            html.contains("required autofocus"),
            "now there is a code to type"
        );
        assert!(html.find(r#"name="code""#) < html.find("code-channels"));
        let sms = mfa_challenge_page(&MfaChallengeView {
            sent: Some(CHANNELS[1]),
            code_minutes: 1,
            ..challenge()
        });
        assert!(sms.contains("We sent a code by text message to ••• 4567. It expires in 1 minute."));
    }

    #[test]
    fn destinations_and_channels_are_escaped() {
        let odd = [CodeChannel {
            channel: r#""><b>"#,
            destination: "<script>x</script>",
        }];
        let html = mfa_challenge_page(&MfaChallengeView {
            channels: &odd,
            sent: Some(odd[0]),
            ..challenge()
        });
        assert!(!html.contains("<script>") && !html.contains("<b>"));
        assert!(html.contains(r#"<span class="muted">&lt;script&gt;x&lt;/script&gt;</span>"#));
        assert!(html.contains(r#"name="channel" value="&quot;&gt;&lt;b&gt;""#));
        assert!(html.contains("to &lt;script&gt;x&lt;/script&gt;."));
    }

    #[test]
    fn recover_posts_a_recovery_code_and_links_back_with_rd() {
        let html = recover_page(&RecoverView {
            csrf_token: "tok",
            rd: "/x y",
            error: Some("That recovery code has already been used."),
        });
        assert!(html.contains(r#"<form method="post" action="/.gatehouse/recover">"#));
        assert!(html.contains(r#"<input type="hidden" name="csrf_token" value="tok">"#));
        assert!(html.contains(r#"<input type="hidden" name="rd" value="/x y">"#));
        assert!(html.contains(r#"name="code" type="text" autocomplete="off""#));
        assert!(html.contains(r#"href="/.gatehouse/mfa?rd=%2Fx%20y""#));
        assert!(html.contains(r#"role="alert""#));
        assert!(html.contains(r#"aria-describedby="recover-error code-hint""#));
    }

    #[test]
    fn rd_is_escaped_in_hidden_fields_and_links() {
        let rd = r#"/"><script>x</script>"#;
        for html in [
            mfa_challenge_page(&MfaChallengeView { rd, ..challenge() }),
            recover_page(&RecoverView {
                rd,
                ..RecoverView::default()
            }),
        ] {
            assert!(!html.contains("<script>"));
            assert!(html.contains(r#"value="/&quot;&gt;&lt;script&gt;x&lt;/script&gt;""#));
            assert!(html.contains("rd=%2F%22%3E%3Cscript%3Ex%3C%2Fscript%3E"));
        }
    }

    #[test]
    fn the_confirm_mode_posts_to_the_confirm_page_and_remembers_nothing() {
        let html = mfa_challenge_page(&MfaChallengeView {
            confirm: true,
            channels: &CHANNELS,
            ..challenge()
        });
        assert_eq!(forms(&html, CONFIRM_PATH).len(), 1, "{html}");
        assert!(forms(&html, MFA_PATH).is_empty(), "{html}");
        assert_send_forms(&html, CONFIRM_SEND_ACTION, "send-");
        assert!(html.contains("<h1>Confirm it"), "{html}");
        assert!(!html.contains("remember_device"), "{html}");
        assert!(!html.contains(RECOVER_PATH), "{html}");
    }
}
