//! The second step of signing in: an authenticator code, or a recovery code
//! for someone who can't use their authenticator.

use maud::html;

use crate::components::{
    alert, count, csrf_field, field, rd_field, totp_field, with_rd, AlertKind, Field,
};
use crate::layout::page;
use crate::{MFA_PATH, RECOVER_PATH};

/// The authenticator-code challenge. All strings are escaped on output.
#[derive(Debug, Clone, Copy, Default)]
pub struct MfaChallengeView<'a> {
    pub csrf_token: &'a str,
    /// Return path, posted back in the hidden `rd` field and carried (percent-
    /// encoded by the page) on the "Can't use your authenticator?" link.
    pub rd: &'a str,
    /// Why the last code was refused; shown in `role="alert"`.
    pub error: Option<&'a str>,
    /// Days a remembered browser skips the code; 0 hides the checkbox.
    pub remember_days: u32,
}

const CHALLENGE_ERROR_ID: &str = "mfa-error";

/// The full challenge document: `POST /.gatehouse/mfa` with `code`,
/// `remember_device` (`1` when ticked), `csrf_token` and `rd`.
pub fn mfa_challenge_page(v: &MfaChallengeView) -> String {
    let error_id = v.error.map(|_| CHALLENGE_ERROR_ID);
    let body = html! {
        div.card {
            h1 { "Enter your code" }
            p.muted {
                "Open the authenticator app on your phone and enter the 6-digit code "
                "it shows for this account."
            }
            @if let Some(error) = v.error {
                (alert(AlertKind::Error, Some(CHALLENGE_ERROR_ID), error))
            }
            form method="post" action=(MFA_PATH) {
                (csrf_field(v.csrf_token))
                (rd_field(v.rd))
                (totp_field(Field {
                    id: "code",
                    label: "Authentication code",
                    autofocus: true,
                    error_id,
                    ..Field::default()
                }))
                @if v.remember_days > 0 {
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
            p.aside {
                a href=(with_rd(RECOVER_PATH, v.rd)) { "Can't use your authenticator?" }
            }
        }
    };
    page("Enter your code", body).into_string()
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
                a href=(with_rd(MFA_PATH, v.rd)) { "Use your authenticator app instead" }
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

    fn challenge() -> MfaChallengeView<'static> {
        MfaChallengeView {
            csrf_token: "tok",
            rd: "/wiki?a=1&b=2",
            error: None,
            remember_days: 30,
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
}
