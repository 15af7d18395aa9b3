//! The sign-in page.

use maud::html;

use crate::components::{alert, csrf_field, field, AlertKind, Field};
use crate::layout::page;
use crate::LOGIN_ACTION;

/// What the sign-in page shows. All strings are escaped on output.
#[derive(Debug, Clone, Copy, Default)]
pub struct LoginView<'a> {
    /// Goes in the hidden `csrf_token` field.
    pub csrf_token: &'a str,
    /// Return path, posted back in the hidden `rd` field.
    pub rd: &'a str,
    /// Prefill of the username field (after a failed attempt).
    pub username: &'a str,
    /// Why the last attempt failed; shown in `role="alert"`.
    pub error: Option<&'a str>,
    /// Informational, e.g. "You have been signed out."
    pub notice: Option<&'a str>,
}

const ERROR_ID: &str = "login-error";

/// The full sign-in document: `POST /.gatehouse/login` with `username`,
/// `password`, `csrf_token` and `rd`.
pub fn login_page(v: &LoginView) -> String {
    // Both fields point at the error: it is about the pair, and we must not
    // reveal which of the two was wrong.
    let error_id = v.error.map(|_| ERROR_ID);
    let body = html! {
        div.card {
            h1 { "Sign in" }
            p.muted { "Sign in to continue to your application." }
            @if let Some(notice) = v.notice {
                (alert(AlertKind::Info, Some("login-notice"), notice))
            }
            @if let Some(error) = v.error {
                (alert(AlertKind::Error, Some(ERROR_ID), error))
            }
            form method="post" action=(LOGIN_ACTION) {
                (csrf_field(v.csrf_token))
                input type="hidden" name="rd" value=(v.rd);
                (field(&Field {
                    id: "username",
                    label: "Username",
                    value: v.username,
                    autocomplete: "username",
                    autofocus: true,
                    error_id,
                    verbatim: true,
                    ..Field::default()
                }))
                (field(&Field {
                    id: "password",
                    label: "Password",
                    input_type: "password",
                    autocomplete: "current-password",
                    error_id,
                    ..Field::default()
                }))
                button.btn.btn-primary.btn-block type="submit" { "Sign in" }
            }
        }
    };
    page("Sign in", body).into_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view() -> LoginView<'static> {
        LoginView {
            csrf_token: "csrf-abc123",
            rd: "/wiki/page?x=1&y=2",
            ..LoginView::default()
        }
    }

    #[test]
    fn form_posts_to_the_login_endpoint() {
        let html = login_page(&view());
        assert!(html.contains(r#"<form method="post" action="/.gatehouse/login">"#));
        assert!(html.contains(
            r#"<button class="btn btn-primary btn-block" type="submit">Sign in</button>"#
        ));
        assert!(html.contains("<h1>Sign in</h1>"));
        assert!(html.contains("<title>Sign in · Gatehouse</title>"));
        assert!(html.contains(crate::CSS_PATH));
    }

    #[test]
    fn csrf_token_and_return_path_are_hidden_fields() {
        let html = login_page(&view());
        assert!(html.contains(r#"<input type="hidden" name="csrf_token" value="csrf-abc123">"#));
        assert!(html.contains(r#"<input type="hidden" name="rd" value="/wiki/page?x=1&amp;y=2">"#));
    }

    #[test]
    fn username_and_password_have_labels_and_autocomplete() {
        let html = login_page(&view());
        assert!(html.contains(r#"<label for="username">Username</label>"#));
        assert!(html.contains(r#"<label for="password">Password</label>"#));
        assert!(html.contains(r#"id="username" name="username" type="text""#));
        assert!(html.contains(r#"id="password" name="password" type="password""#));
        assert!(html.contains(r#"autocomplete="username""#));
        assert!(html.contains(r#"autocomplete="current-password""#));
    }

    #[test]
    fn username_field_has_autofocus() {
        let html = login_page(&view());
        let username = html.find(r#"id="username""#).unwrap();
        let autofocus = html.find("autofocus").unwrap();
        let password = html.find(r#"id="password""#).unwrap();
        assert!(username < autofocus && autofocus < password);
        assert_eq!(html.matches("autofocus").count(), 1);
    }

    #[test]
    fn username_is_prefilled_and_escaped() {
        let html = login_page(&LoginView {
            username: r#"<script>alert("x")</script>"#,
            ..view()
        });
        assert!(!html.contains("<script>"));
        assert!(html.contains(r#"value="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;""#));
    }

    #[test]
    fn password_is_never_prefilled() {
        let html = login_page(&LoginView {
            username: "alice",
            ..view()
        });
        let password_input = &html[html.find(r#"id="password""#).unwrap()..];
        let password_input = &password_input[..password_input.find('>').unwrap()];
        assert!(!password_input.contains("value="));
    }

    #[test]
    fn error_is_announced_and_linked_from_the_fields() {
        let html = login_page(&LoginView {
            error: Some("Incorrect username or password."),
            ..view()
        });
        assert!(html.contains(
            r#"role="alert" aria-live="assertive" id="login-error">Incorrect username or password.</div>"#
        ));
        assert_eq!(
            html.matches(r#"aria-invalid="true" aria-describedby="login-error""#)
                .count(),
            2
        );
    }

    #[test]
    fn no_error_means_no_alert_and_no_invalid_fields() {
        let html = login_page(&view());
        assert!(!html.contains(r#"role="alert""#));
        assert!(!html.contains("aria-invalid"));
    }

    #[test]
    fn error_and_notice_are_escaped() {
        let html = login_page(&LoginView {
            error: Some("<img src=x>"),
            notice: Some("<b>bye</b>"),
            ..view()
        });
        assert!(html.contains("&lt;img src=x&gt;"));
        assert!(html.contains("&lt;b&gt;bye&lt;/b&gt;"));
        assert!(!html.contains("<img"));
    }

    #[test]
    fn notice_is_a_polite_status() {
        let html = login_page(&LoginView {
            notice: Some("You have been signed out."),
            ..view()
        });
        assert!(html.contains(
            r#"role="status" aria-live="polite" id="login-notice">You have been signed out.</div>"#
        ));
    }
}
