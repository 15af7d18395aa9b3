//! The admin console as an admin's browser uses it: reading the user table
//! and posting its forms with the page's own CSRF token.

use crate::harness::client::{attribute, unescape_html};
use crate::harness::{Authenticator, Client, Response, Stack};

pub const ADMIN: &str = "/.gatehouse/admin";
pub const ENFORCE: &str = "/.gatehouse/admin/enforce";
/// An organisation's MFA switch: GET its confirmation page, POST it.
pub const SWITCH: &str = "/.gatehouse/admin/mfa";
/// The rest of an organisation's policy.
pub const POLICY: &str = "/.gatehouse/admin/policy";
pub const RESET: &str = "/.gatehouse/admin/reset";
pub const SIGN_OUT: &str = "/.gatehouse/admin/sign-out";
pub const TOKENS: &str = "/.gatehouse/admin/tokens";
pub const TOKEN_REVOKE: &str = "/.gatehouse/admin/tokens/revoke";
pub const TOKEN_REPLACE: &str = "/.gatehouse/admin/tokens/replace";
pub const TOKEN_END_REPLACED: &str = "/.gatehouse/admin/tokens/end-replaced";
pub const AUDIT: &str = "/.gatehouse/admin/audit";

impl Client {
    /// Loads the admin console and posts one of its forms.
    pub fn admin_post(&self, action: &str, fields: &[(&str, &str)]) -> Response {
        let token = self.token_from(ADMIN);
        let mut all = fields.to_vec();
        all.push(("csrf_token", &token));
        self.post_form(action, &all)
    }
}

impl Client {
    /// Creates a service token in the console (`app` "" for every app,
    /// `expires` one of the form's choices) and returns the token the
    /// page shows once.
    pub fn create_token(&self, name: &str, app: &str, expires: &str) -> String {
        let created = self.admin_post(
            TOKENS,
            &[("name", name), ("app", app), ("expires", expires)],
        );
        assert_eq!(
            created.status, 200,
            "creating token {name}: {}",
            created.body
        );
        shown_token(&created.body).unwrap_or_else(|| panic!("no token shown: {}", created.body))
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

/// Each `<tr …>` of the table with this `id`, as (opening tag, the row's
/// markup up to `</tr>`).
fn table_rows<'h>(html: &'h str, id: &str) -> Vec<(&'h str, &'h str)> {
    let Some(start) = html.find(&format!(r#"id="{id}""#)) else {
        return Vec::new();
    };
    let table = &html[start..];
    let table = &table[..table.find("</table>").unwrap_or(table.len())];
    table
        .split("<tr ")
        .skip(1)
        .filter_map(|row| {
            let tag = &row[..row.find('>')?];
            Some((tag, &row[..row.find("</tr>").unwrap_or(row.len())]))
        })
        .collect()
}

/// Each row of `id="users"` as (username, two-factor state: on, pending, off).
pub fn user_rows(html: &str) -> Vec<(String, String)> {
    table_rows(html, "users")
        .into_iter()
        .filter_map(|(tag, _)| {
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

/// The text of `id="service-token"` on the page that shows a new token.
pub fn shown_token(html: &str) -> Option<String> {
    let at = html.find(r#"id="service-token""#)?;
    let start = at + html[at..].find('>')? + 1;
    let end = start + html[start..].find('<')?;
    Some(unescape_html(html[start..end].trim()))
}

/// One row of the console's `id="tokens"` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRow {
    pub name: String,
    /// `config` or `console`.
    pub source: String,
    pub expired: bool,
    /// The row's markup, for what the attributes don't say.
    pub html: String,
}

/// Each row of the console's `id="tokens"` table, in order.
pub fn token_rows(html: &str) -> Vec<TokenRow> {
    table_rows(html, "tokens")
        .into_iter()
        .filter_map(|(tag, row)| {
            Some(TokenRow {
                name: unescape_html(&attribute(tag, "data-token")?),
                source: attribute(tag, "data-source")?,
                expired: attribute(tag, "data-expired")? == "true",
                html: row.to_owned(),
            })
        })
        .collect()
}

/// One row of the console's audit table, as text; a missing value is "—".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditLine {
    pub at: String,
    pub user: String,
    pub event: String,
    pub outcome: String,
    pub ip: String,
    pub detail: String,
}

/// The rows of the console's audit table, newest first.
pub fn audit_lines(html: &str) -> Vec<AuditLine> {
    let Some(start) = html.find(r#"id="audit""#) else {
        return Vec::new();
    };
    let section = &html[start..];
    let Some(body) = section.find("<tbody>") else {
        return Vec::new();
    };
    let body = &section[body..section.find("</tbody>").expect("end of the table")];
    body.split("<tr>")
        .skip(1)
        .map(|row| {
            let cells: Vec<String> = row
                .split("<td>")
                .skip(1)
                .map(|cell| {
                    let text = &cell[..cell.find("</td>").expect("end of a cell")];
                    let text = text
                        .replace(r#"<span class="muted">"#, "")
                        .replace("</span>", "");
                    unescape_html(&text)
                })
                .collect();
            let [at, user, event, outcome, ip, detail] =
                <[String; 6]>::try_from(cells).expect("six cells in an audit row");
            AuditLine {
                at,
                user,
                event,
                outcome,
                ip,
                detail,
            }
        })
        .collect()
}

impl Client {
    /// Opens a console link as a browser does: the `#fragment` stays home.
    pub fn open_link(&self, href: &str) -> Response {
        self.get_html(href.split('#').next().unwrap_or(href))
    }
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
    fn token_rows_and_the_shown_token_are_read_from_their_markup() {
        let html = r#"<table id="tokens"><tbody>
            <tr data-token="ci" data-source="config" data-expired="false"><td>Never</td></tr>
            <tr data-token="old" data-source="console" data-expired="true"><td>x</td></tr>
            </tbody></table><p><code id="service-token">gatehouse_abc</code></p>"#;
        let rows = token_rows(html);
        assert_eq!(rows.len(), 2);
        assert_eq!(
            (rows[0].name.as_str(), rows[0].source.as_str()),
            ("ci", "config")
        );
        assert!(!rows[0].expired && rows[1].expired);
        assert!(rows[0].html.contains("Never") && !rows[1].html.contains("Never"));
        assert_eq!(shown_token(html).as_deref(), Some("gatehouse_abc"));
        assert_eq!(shown_token("<p>none</p>"), None);
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
