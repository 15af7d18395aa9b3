//! The admin console as an admin's browser uses it: reading the user table
//! and posting its forms with the page's own CSRF token.

use crate::harness::client::{attribute, unescape_html};
use crate::harness::{Authenticator, Client, Response, Stack};

pub const ADMIN: &str = "/.gatehouse/admin";
pub const ENFORCE: &str = "/.gatehouse/admin/enforce";
pub const RESET: &str = "/.gatehouse/admin/reset";
pub const SIGN_OUT: &str = "/.gatehouse/admin/sign-out";

impl Client {
    /// Loads the admin console and posts one of its forms.
    pub fn admin_post(&self, action: &str, fields: &[(&str, &str)]) -> Response {
        let token = self.token_from(ADMIN);
        let mut all = fields.to_vec();
        all.push(("csrf_token", &token));
        self.post_form(action, &all)
    }
}

impl Stack {
    /// alice (in `admins`) signed in with an enrolled authenticator, so the
    /// console lets her in.
    pub fn admin(&self) -> (Client, Authenticator) {
        let client = self.client();
        client.login_ok("alice");
        let (app, _) = client.enroll();
        (client, app)
    }
}

/// Each row of `id="users"` as (username, two-factor state: on, pending, off).
pub fn user_rows(html: &str) -> Vec<(String, String)> {
    let Some(start) = html.find(r#"id="users""#) else {
        return Vec::new();
    };
    let table = &html[start..];
    let table = &table[..table.find("</table>").unwrap_or(table.len())];
    table
        .split("<tr ")
        .skip(1)
        .filter_map(|row| {
            let tag = &row[..row.find('>')?];
            let user = attribute(tag, "data-username")?;
            let mfa = attribute(tag, "data-mfa")?;
            Some((unescape_html(&user), mfa))
        })
        .collect()
}

/// The two-factor state the console shows for `user`.
pub fn mfa_state(html: &str, user: &str) -> Option<String> {
    user_rows(html)
        .into_iter()
        .find(|(name, _)| name == user)
        .map(|(_, mfa)| mfa)
}

/// Whether the console says MFA is required for everyone.
pub fn enforced(html: &str) -> bool {
    let at = html
        .find(r#"id="mfa-policy""#)
        .unwrap_or_else(|| panic!("no policy section: {html}"));
    let tag = &html[at..at + html[at..].find('>').expect("end of the tag")];
    attribute(tag, "data-enforced").as_deref() == Some("true")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_read_from_their_data_attributes() {
        let html = r#"<table id="users"><thead><tr><th>User</th></tr></thead><tbody>
            <tr data-username="alice" data-mfa="on"><td>x</td></tr>
            <tr data-username="o&#39;neil" data-mfa="pending"></tr></tbody></table>
            <table><tr data-username="not-a-user" data-mfa="off"></tr></table>"#;
        assert_eq!(
            user_rows(html),
            [
                ("alice".to_owned(), "on".to_owned()),
                ("o'neil".to_owned(), "pending".to_owned())
            ]
        );
        assert_eq!(mfa_state(html, "alice").as_deref(), Some("on"));
        assert_eq!(mfa_state(html, "bob"), None);
    }

    #[test]
    fn the_policy_is_read_from_its_section() {
        assert!(enforced(
            r#"<section class="section" id="mfa-policy" data-enforced="true">"#
        ));
        assert!(!enforced(
            r#"<section id="mfa-policy" data-enforced="false">"#
        ));
    }
}
