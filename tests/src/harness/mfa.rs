//! The second-factor flows as a browser walks them: enrollment, the code
//! challenge, recovery codes and the account page's buttons. Each helper
//! loads the page first and posts the form's own CSRF token and `rd`, as a
//! browser would.

use crate::harness::client::{attribute, unescape_html};
use crate::harness::{hidden_input, Authenticator, Client, Response, Stack};

pub const ENROLL: &str = "/.gatehouse/enroll";
pub const MFA: &str = "/.gatehouse/mfa";
pub const RECOVER: &str = "/.gatehouse/recover";
pub const REMIND: &str = "/.gatehouse/remind";
pub const ACCOUNT: &str = "/.gatehouse/account";

/// What a finished enrollment left the test with.
#[derive(Debug, Clone)]
pub struct Enrollment {
    pub authenticator: Authenticator,
    /// The ten codes shown once, in `id="recovery-codes"`.
    pub recovery_codes: Vec<String>,
    /// The code (or two) that confirmed it: spent from now on.
    pub confirmation_codes: Vec<String>,
    /// The enrollment page, as first shown.
    pub enroll_page: Response,
    /// The answer to the confirmed code: the recovery codes page.
    pub codes_page: Response,
}

impl Client {
    /// Enrolls the signed-in user's new authenticator app (one code, or two
    /// when the page asks for two), saves the recovery codes and continues.
    pub fn enroll(&self) -> (Authenticator, Vec<String>) {
        let enrollment = self.enroll_with(None, "/");
        (enrollment.authenticator, enrollment.recovery_codes)
    }

    /// Enrolls a new app for a user who had `previous` (after a reset or
    /// after turning MFA off): the steps used so far stay used.
    pub fn enroll_again(&self, previous: &Authenticator) -> (Authenticator, Vec<String>) {
        let enrollment = self.enroll_with(Some(previous), "/");
        (enrollment.authenticator, enrollment.recovery_codes)
    }

    /// The whole enrollment, returning to `rd`; panics at any unexpected
    /// answer.
    pub fn enroll_with(&self, previous: Option<&Authenticator>, rd: &str) -> Enrollment {
        let enroll_page = self.get_html(&with_rd(ENROLL, rd));
        assert_eq!(
            enroll_page.status, 200,
            "the enrollment page: {}",
            enroll_page.body
        );
        let fresh = Authenticator::from_enroll_page(&enroll_page.body);
        let authenticator = match previous {
            Some(previous) => previous.replaced_by(fresh.secret()),
            None => fresh,
        };
        let token = form_token(&enroll_page);
        let (code, code2) = if enroll_page.body.contains(r#"name="code2""#) {
            let (first, second) = authenticator.consecutive_codes();
            (first, Some(second))
        } else {
            (authenticator.code(), None)
        };
        let mut fields = vec![("code", code.as_str()), ("csrf_token", &token), ("rd", rd)];
        if let Some(code2) = &code2 {
            fields.push(("code2", code2));
        }
        let codes_page = self.post_form(ENROLL, &fields);
        assert_eq!(
            codes_page.status, 200,
            "confirming the enrollment: {}",
            codes_page.body
        );
        let recovery_codes = recovery_codes(&codes_page.body);
        assert_eq!(
            recovery_codes.len(),
            10,
            "recovery codes: {}",
            codes_page.body
        );
        let saved = self.save_recovery_codes(&codes_page);
        assert_eq!(saved.status, 303, "acknowledging the recovery codes");
        assert_eq!(saved.location(), Some(rd));
        Enrollment {
            authenticator,
            recovery_codes,
            confirmation_codes: std::iter::once(code).chain(code2).collect(),
            enroll_page,
            codes_page,
        }
    }

    /// Ticks "I have saved these codes" on a recovery codes page and
    /// continues.
    pub fn save_recovery_codes(&self, codes_page: &Response) -> Response {
        let token = form_token(codes_page);
        let rd = hidden_input(&codes_page.body, "rd").expect("an rd field on the codes page");
        self.post_form(
            "/.gatehouse/recovery-codes/ack",
            &[("csrf_token", &token), ("rd", &rd), ("saved", "1")],
        )
    }

    /// Enters `code` on the challenge page, returning to `/`.
    pub fn pass_challenge(&self, code: &str, remember: bool) -> Response {
        self.submit_code("/", code, remember)
    }

    /// Loads the challenge page for `rd` and submits `code` (ticking
    /// "Don't ask again" when `remember`). Returns the POST's answer.
    pub fn submit_code(&self, rd: &str, code: &str, remember: bool) -> Response {
        let token = self.token_from(&with_rd(MFA, rd));
        let mut fields = vec![("code", code), ("csrf_token", &token), ("rd", rd)];
        if remember {
            fields.push(("remember_device", "1"));
        }
        self.post_form(MFA, &fields)
    }

    /// Signs in with the password and a code, ending at `rd`; panics unless
    /// both steps work. Returns the challenge's answer (303 to `rd`).
    pub fn sign_in_with_code(&self, user: &str, rd: &str, code: &str) -> Response {
        let login = self.login(user, crate::PASSWORD, Some(rd));
        assert_eq!(
            login.location(),
            Some(with_rd(MFA, rd).as_str()),
            "after the password an enrolled user is asked for a code"
        );
        let answer = self.submit_code(rd, code, false);
        assert_eq!(
            (answer.status, answer.location()),
            (303, Some(rd)),
            "the code {code} was refused: {}",
            answer.body
        );
        answer
    }

    /// Loads the recovery page for `rd` and submits a recovery code.
    pub fn submit_recovery_code(&self, rd: &str, code: &str) -> Response {
        let token = self.token_from(&with_rd(RECOVER, rd));
        self.post_form(
            RECOVER,
            &[("code", code), ("csrf_token", &token), ("rd", rd)],
        )
    }

    /// Loads the account page and posts one of its forms.
    pub fn account_post(&self, action: &str, fields: &[(&str, &str)]) -> Response {
        let token = self.token_from(ACCOUNT);
        let mut all = fields.to_vec();
        all.push(("csrf_token", &token));
        self.post_form(action, &all)
    }

    /// The CSRF token of the form on `page`, or, when that page is not
    /// shown (e.g. a redirect), of the login page: one browser's tokens are
    /// interchangeable.
    pub fn token_from(&self, page: &str) -> String {
        let response = self.get_html(page);
        hidden_input(&response.body, "csrf_token").unwrap_or_else(|| self.csrf_token())
    }
}

impl Stack {
    /// Signs `user` in on a fresh client and enrolls an authenticator;
    /// returns the app and the recovery codes.
    pub fn enrolled(&self, user: &str) -> (Authenticator, Vec<String>) {
        let client = self.client();
        client.login_ok(user);
        client.enroll()
    }

    /// A fresh browser where `user` (enrolled) typed the password and now
    /// owes a code, on the way to `rd`.
    pub fn at_challenge(&self, user: &str, rd: &str) -> Client {
        let client = self.client();
        let login = client.login(user, crate::PASSWORD, Some(rd));
        assert!(
            login.succeeded(),
            "{user}'s password refused: {}",
            login.status()
        );
        assert_eq!(
            login.location(),
            Some(with_rd(MFA, rd).as_str()),
            "after the password an enrolled user is asked for a code"
        );
        client
    }
}

/// The text of the page's `role="alert"` box (errors and lockouts).
pub fn alert_text(html: &str) -> String {
    let at = html
        .find(r#"role="alert""#)
        .unwrap_or_else(|| panic!("no alert on the page: {html}"));
    let start = at + html[at..].find('>').expect("end of the alert tag") + 1;
    let end = start + html[start..].find('<').expect("end of the alert text");
    unescape_html(html[start..end].trim())
}

/// `path?rd=<rd, percent-encoded>`, as the gateway writes it.
pub fn with_rd(path: &str, rd: &str) -> String {
    format!("{path}?rd={}", percent_encode(rd))
}

/// Percent-encodes every byte but ASCII letters and digits.
pub fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The page's `csrf_token` field; panics (with the page) if it has none.
pub fn form_token(page: &Response) -> String {
    hidden_input(&page.body, "csrf_token").unwrap_or_else(|| {
        panic!(
            "no csrf_token on the page (status {}): {}",
            page.status, page.body
        )
    })
}

/// The codes inside `id="recovery-codes"`, each from its own `<code>`.
pub fn recovery_codes(html: &str) -> Vec<String> {
    let Some(start) = html.find(r#"id="recovery-codes""#) else {
        return Vec::new();
    };
    let list = &html[start..];
    let list = &list[..list.find("</ol>").unwrap_or(list.len())];
    list.split("<code>")
        .skip(1)
        .filter_map(|part| part.split_once("</code>"))
        .map(|(code, _)| unescape_html(code.trim()))
        .collect()
}

/// The `href` of the link whose text is `text`, entities decoded.
pub fn link_href(html: &str, text: &str) -> Option<String> {
    let end = html.find(&format!(">{text}</a>"))?;
    let start = html[..end].rfind("<a ")?;
    attribute(&html[start..end], "href")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovery_codes_are_read_one_per_code_element() {
        let html = r#"<ol class="recovery-codes" id="recovery-codes">
            <li><code>k7f3-9xq2-mp4d</code></li><li><code>a2b3-c4d5-e6f7</code></li></ol>
            <p><code>not-a-recovery-code</code></p>"#;
        assert_eq!(recovery_codes(html), ["k7f3-9xq2-mp4d", "a2b3-c4d5-e6f7"]);
        assert!(recovery_codes("<p>nothing</p>").is_empty());
    }

    #[test]
    fn link_href_finds_the_link_by_its_text() {
        let html = r#"<a class="btn" href="/.gatehouse/enroll?rd=%2Fx">Set up now</a>
            <a class="btn" href="/x?a=1&amp;b=2">Remind me later</a>"#;
        assert_eq!(
            link_href(html, "Remind me later").as_deref(),
            Some("/x?a=1&b=2")
        );
        assert_eq!(
            link_href(html, "Set up now").as_deref(),
            Some("/.gatehouse/enroll?rd=%2Fx")
        );
        assert_eq!(link_href(html, "Nope"), None);
    }

    #[test]
    fn with_rd_encodes_like_the_gateway() {
        assert_eq!(
            with_rd("/.gatehouse/mfa", "/a b?c=1"),
            "/.gatehouse/mfa?rd=%2Fa%20b%3Fc%3D1"
        );
    }
}
