//! The fresh proof a user with no second factor gives before a sensitive
//! action: their password. (Users with a factor confirm on the challenge
//! page in its confirm mode.)

use maud::html;

use crate::components::{alert, csrf_field, field, rd_field, AlertKind, Field};
use crate::layout::page;
use crate::CONFIRM_PATH;

/// All strings are escaped on output.
#[derive(Debug, Clone, Copy, Default)]
pub struct ConfirmPasswordView<'a> {
    pub csrf_token: &'a str,
    /// Where to go back to once confirmed: the hidden `rd` field.
    pub rd: &'a str,
    /// Why the last password was refused; shown in `role="alert"`.
    pub error: Option<&'a str>,
}

const ERROR_ID: &str = "confirm-error";

/// `POST /.gatehouse/confirm` with `password`, `csrf_token` and `rd`.
pub fn confirm_password_page(v: &ConfirmPasswordView) -> String {
    let error_id = v.error.map(|_| ERROR_ID);
    let body = html! {
        div.card {
            h1 { "Confirm it's you" }
            p.muted id="confirm-why" {
                "This change needs your password again."
            }
            @if let Some(error) = v.error {
                (alert(AlertKind::Error, Some(ERROR_ID), error))
            }
            form method="post" action=(CONFIRM_PATH) {
                (csrf_field(v.csrf_token))
                (rd_field(v.rd))
                (field(&Field {
                    id: "password",
                    label: "Password",
                    input_type: "password",
                    autocomplete: "current-password",
                    autofocus: true,
                    error_id,
                    ..Field::default()
                }))
                button.btn.btn-primary.btn-block type="submit" { "Confirm" }
            }
        }
    };
    page("Confirm it's you", body).into_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::forms;

    #[test]
    fn the_password_form_posts_back_to_the_confirm_page_with_its_return_path() {
        let html = confirm_password_page(&ConfirmPasswordView {
            csrf_token: "csrf-1",
            rd: "/.gatehouse/account",
            error: Some("wrong <b>"),
        });
        let posted = forms(&html, CONFIRM_PATH);
        assert_eq!(posted.len(), 1, "{html}");
        assert!(posted[0].contains(r#"name="password""#), "{html}");
        assert!(
            posted[0].contains(r#"name="csrf_token" value="csrf-1""#),
            "{html}"
        );
        assert!(
            posted[0].contains(r#"name="rd" value="/.gatehouse/account""#),
            "{html}"
        );
        assert!(html.contains("wrong &lt;b&gt;"), "escaped: {html}");
    }
}
