//! The signed-in user's account page.

use maud::html;

use crate::account_mfa::{mfa_sections, AccountMfa};
use crate::components::{alert, csrf_field, AlertKind};
use crate::layout::page;
use crate::{ACCOUNT_SIGN_OUT_EVERYWHERE_ACTION, ADMIN_PATH, LOGOUT_ACTION};

/// Who is signed in, for the account page. All strings are escaped on output.
#[derive(Debug, Clone, Copy, Default)]
pub struct AccountView<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub email: Option<&'a str>,
    pub groups: &'a [String],
    /// For every form on the page (sign out, MFA actions).
    pub csrf_token: &'a str,
    /// When this session started, preformatted by the caller.
    pub signed_in_at: &'a str,
    /// Whether this session completed a second factor.
    pub mfa_done: bool,
    /// Two-factor status and remembered devices.
    pub mfa: AccountMfa<'a>,
    /// Outcome of the last action, e.g. "Recovery codes regenerated."; `role="status"`.
    pub notice: Option<&'a str>,
    /// Why the last action failed; `role="alert"`.
    pub error: Option<&'a str>,
    /// The user may open the admin console: the page links to it.
    pub is_admin: bool,
}

/// The full account document: MFA status and actions (see [`AccountMfa`]),
/// a link to the admin console for admins, a `POST /.gatehouse/logout`
/// sign-out form, and a `POST /.gatehouse/account/sign-out-everywhere` form
/// for a user who fears a session left open elsewhere (a shared or lost
/// computer). Every form carries `csrf_token`.
pub fn account_page(v: &AccountView) -> String {
    let name = if v.display_name.is_empty() {
        v.username
    } else {
        v.display_name
    };
    let body = html! {
        div.card.card-wide {
            p.eyebrow { "Your account" }
            h1 { (name) }
            p.muted { "You are signed in to Gatehouse." }
            @if let Some(notice) = v.notice {
                (alert(AlertKind::Success, Some("account-notice"), notice))
            }
            @if let Some(error) = v.error {
                (alert(AlertKind::Error, Some("account-error"), error))
            }

            dl.kv {
                dt { "Username" }
                dd { code { (v.username) } }
                dt { "Email" }
                dd {
                    @match v.email {
                        Some(email) => (email),
                        None => span.muted { "Not set" },
                    }
                }
                dt { "Groups" }
                dd {
                    @if v.groups.is_empty() {
                        span.muted { "None" }
                    } @else {
                        ul.badges {
                            @for group in v.groups {
                                li { span.badge { (group) } }
                            }
                        }
                    }
                }
                dt { "Signed in" }
                dd { (v.signed_in_at) }
                dt { "Verified with" }
                dd {
                    @if v.mfa_done {
                        "Password and second factor"
                    } @else {
                        "Password only"
                    }
                }
            }

            (mfa_sections(&v.mfa, v.csrf_token))

            @if v.is_admin {
                div.section {
                    a.btn.btn-secondary href=(ADMIN_PATH) { "Admin console" }
                }
            }

            div.section {
                div.row-actions {
                    form method="post" action=(LOGOUT_ACTION) {
                        (csrf_field(v.csrf_token))
                        button.btn.btn-secondary type="submit" { "Sign out" }
                    }
                    form method="post" action=(ACCOUNT_SIGN_OUT_EVERYWHERE_ACTION) id="sign-out-everywhere" {
                        (csrf_field(v.csrf_token))
                        button.btn.btn-secondary type="submit" { "Sign out everywhere" }
                    }
                }
                p.hint.muted { "Ends your sessions in every browser, this one included." }
            }
        }
    };
    page("Your account", body).into_string()
}

#[cfg(test)]
#[path = "account_mfa_tests.rs"]
mod mfa_tests;

#[cfg(test)]
mod tests {
    use super::*;

    fn groups() -> Vec<String> {
        vec!["admins".to_string(), "dev".to_string()]
    }

    fn view(groups: &[String]) -> AccountView<'_> {
        AccountView {
            username: "alice",
            display_name: "Alice Liddell",
            email: Some("alice@example.com"),
            groups,
            csrf_token: "tok-42",
            signed_in_at: "2025-01-02 10:00 UTC",
            mfa_done: false,
            mfa: AccountMfa::default(),
            notice: None,
            error: None,
            is_admin: false,
        }
    }

    #[test]
    fn shows_who_you_are() {
        let groups = groups();
        let html = account_page(&view(&groups));
        assert!(html.contains("<h1>Alice Liddell</h1>"));
        assert!(html.contains("<code>alice</code>"));
        assert!(html.contains("alice@example.com"));
        assert!(html.contains(r#"<span class="badge">admins</span>"#));
        assert!(html.contains(r#"<span class="badge">dev</span>"#));
        assert!(html.contains("2025-01-02 10:00 UTC"));
        assert!(html.contains("Password only"));
        assert!(html.contains("<title>Your account · Gatehouse</title>"));
    }

    #[test]
    fn has_logout_form_with_csrf_token() {
        let groups = groups();
        let html = account_page(&view(&groups));
        let form = &html[html
            .find(r#"<form method="post" action="/.gatehouse/logout">"#)
            .unwrap()..];
        let form = &form[..form.find("</form>").unwrap()];
        assert!(form.contains(r#"<input type="hidden" name="csrf_token" value="tok-42">"#));
        assert!(form.contains(">Sign out</button>"));
    }

    #[test]
    fn has_sign_out_everywhere_form_with_csrf_token() {
        let groups = groups();
        let html = account_page(&view(&groups));
        let open = r#"<form method="post" action="/.gatehouse/account/sign-out-everywhere" id="sign-out-everywhere">"#;
        assert_eq!(html.matches(open).count(), 1);
        let form = &html[html.find(open).unwrap()..];
        let form = &form[..form.find("</form>").unwrap()];
        assert!(form.contains(r#"<input type="hidden" name="csrf_token" value="tok-42">"#));
        assert!(form.contains(
            r#"<button class="btn btn-secondary" type="submit">Sign out everywhere</button>"#
        ));
        assert!(html.contains("Ends your sessions in every browser, this one included."));
        let logout = html.find(r#"action="/.gatehouse/logout""#).unwrap();
        assert!(
            logout < html.find(open).unwrap(),
            "comes after the plain sign-out"
        );
    }

    #[test]
    fn has_two_factor_section() {
        let html = account_page(&view(&[]));
        assert!(html.contains("Two-factor authentication"));
        assert!(html.contains("not set up yet"));
    }

    #[test]
    fn missing_email_groups_and_display_name_are_handled() {
        let html = account_page(&AccountView {
            display_name: "",
            email: None,
            ..view(&[])
        });
        assert!(html.contains("<h1>alice</h1>"));
        assert!(html.contains("Not set"));
        assert!(html.contains(r#"<span class="muted">None</span>"#));
    }

    #[test]
    fn second_factor_is_reported() {
        let html = account_page(&AccountView {
            mfa_done: true,
            ..view(&[])
        });
        assert!(html.contains("Password and second factor"));
    }

    #[test]
    fn admin_console_link_only_for_admins() {
        let link = r#"<a class="btn btn-secondary" href="/.gatehouse/admin">Admin console</a>"#;
        assert!(!account_page(&view(&[])).contains("/.gatehouse/admin"));
        let html = account_page(&AccountView {
            is_admin: true,
            ..view(&[])
        });
        let at = html.find(link).unwrap();
        assert!(at < html.find(r#"action="/.gatehouse/logout""#).unwrap());
    }

    #[test]
    fn user_data_is_escaped() {
        let groups = vec!["<g>".to_string()];
        let html = account_page(&AccountView {
            username: "<script>x</script>",
            display_name: "<b>Eve</b>",
            email: Some("\"@x"),
            groups: &groups,
            csrf_token: "\"><x",
            ..view(&[])
        });
        assert!(!html.contains("<script>"));
        assert!(html.contains("&lt;script&gt;x&lt;/script&gt;"));
        assert!(html.contains("<h1>&lt;b&gt;Eve&lt;/b&gt;</h1>"));
        assert!(html.contains("&quot;@x"));
        assert!(html.contains("&lt;g&gt;"));
        assert!(html.contains(r#"value="&quot;&gt;&lt;x""#));
    }
}
