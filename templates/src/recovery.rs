//! Recovery codes: the one-time display after enrollment (or regeneration),
//! and the page after signing in with one.

use maud::html;

use crate::components::{alert, count, csrf_field, local_href, query_value, rd_field, AlertKind};
use crate::layout::page;
use crate::{ENROLL_RESET_ACTION, RECOVERY_ACK_ACTION};

/// Fresh recovery codes, shown once. All strings are escaped on output.
#[derive(Debug, Clone, Copy, Default)]
pub struct RecoveryCodesView<'a> {
    pub codes: &'a [String],
    pub csrf_token: &'a str,
    /// Where to continue after "I have saved these codes"; hidden field.
    pub rd: &'a str,
}

/// The full document: `<ol id="recovery-codes">`, and a form
/// `POST /.gatehouse/recovery-codes/ack` with `saved=1`, `csrf_token`, `rd`.
pub fn recovery_codes_page(v: &RecoveryCodesView) -> String {
    let mut text = String::from("Gatehouse recovery codes (each works once)\n\n");
    for code in v.codes {
        text.push_str(code);
        text.push('\n');
    }
    // A data: URI lets the browser save the file without any script.
    let download = format!("data:text/plain;charset=utf-8,{}", query_value(&text));
    let body = html! {
        div.card.card-wide {
            h1 { "Save your recovery codes" }
            p {
                "If you lose your phone or can't get a sign-in code, you can "
                "sign in with one of these codes instead. "
                strong { "Each code works only once." }
            }
            ol.recovery-codes id="recovery-codes" {
                @for code in v.codes {
                    li { code { (code) } }
                }
            }
            p.no-print {
                a href=(download) download="gatehouse-recovery-codes.txt" { "Download as a text file" }
            }
            (alert(AlertKind::Info, None,
                "Store them somewhere safe, such as your password manager, or print them. \
                 Anyone with these codes can get past your second factor. \
                 You won't see them again."))
            form.no-print method="post" action=(RECOVERY_ACK_ACTION) {
                (csrf_field(v.csrf_token))
                (rd_field(v.rd))
                div.field {
                    label.check {
                        input type="checkbox" name="saved" value="1" required;
                        "I have saved these codes"
                    }
                }
                button.btn.btn-primary.btn-block type="submit" { "Continue" }
            }
        }
    };
    page("Save your recovery codes", body).into_string()
}

/// After signing in with a recovery code. All strings are escaped on output.
#[derive(Debug, Clone, Copy, Default)]
pub struct RecoveredView<'a> {
    pub csrf_token: &'a str,
    /// Where "Continue" goes; also posted with the reset form.
    pub rd: &'a str,
    /// Unused recovery codes left.
    pub remaining: i64,
}

/// The full document: a form `POST /.gatehouse/enroll/reset` (`csrf_token`,
/// `rd`) to replace the authenticator, and a "Continue" link to `rd`.
pub fn recovered_page(v: &RecoveredView) -> String {
    let left = format!("{} left.", count(v.remaining, "recovery code"));
    let body = html! {
        div.card {
            h1 { "Recovery code accepted" }
            (alert(AlertKind::Success, Some("recovered-status"),
                &format!("You're signed in with a recovery code. {left}")))
            @if v.remaining <= 2 {
                p {
                    "You are running out of recovery codes. Setting up a new authenticator "
                    "also gives you a fresh set."
                }
            }
            h2 { "Lost your phone?" }
            p {
                "Set up a new authenticator now. It replaces the old one: codes from "
                "the old app, and remembered browsers, stop working."
            }
            div.actions.stack {
                form method="post" action=(ENROLL_RESET_ACTION) {
                    (csrf_field(v.csrf_token))
                    (rd_field(v.rd))
                    button.btn.btn-primary.btn-block type="submit" { "Set up a new authenticator" }
                }
                a.btn.btn-secondary.btn-block href=(local_href(v.rd)) { "Continue" }
            }
        }
    };
    page("Signed in with a recovery code", body).into_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes() -> Vec<String> {
        ["k7f3-9xq2-mp4d", "a2b3-c4d5-e6f7", "<script>x</script>"]
            .map(String::from)
            .to_vec()
    }

    fn codes_view(codes: &[String]) -> RecoveryCodesView<'_> {
        RecoveryCodesView {
            codes,
            csrf_token: "tok",
            rd: "/app",
        }
    }

    #[test]
    fn codes_each_in_their_own_element_inside_recovery_codes() {
        let codes = codes();
        let html = recovery_codes_page(&codes_view(&codes));
        let start = html
            .find(r#"<ol class="recovery-codes" id="recovery-codes">"#)
            .unwrap();
        let list = &html[start..start + html[start..].find("</ol>").unwrap()];
        assert_eq!(list.matches("<li><code>").count(), 3);
        assert!(list.contains("<li><code>k7f3-9xq2-mp4d</code></li>"));
        assert!(list.contains("<li><code>a2b3-c4d5-e6f7</code></li>"));
    }

    #[test]
    fn codes_are_escaped() {
        let codes = codes();
        let html = recovery_codes_page(&codes_view(&codes));
        assert!(!html.contains("<script>"));
        assert!(html.contains("<li><code>&lt;script&gt;x&lt;/script&gt;</code></li>"));
    }

    #[test]
    fn ack_form_requires_the_saved_checkbox() {
        let codes = codes();
        let html = recovery_codes_page(&codes_view(&codes));
        let form = &html[html.find("<form").unwrap()..html.find("</form>").unwrap()];
        assert!(form.contains(r#"method="post" action="/.gatehouse/recovery-codes/ack""#));
        assert!(form.contains(r#"<input type="hidden" name="csrf_token" value="tok">"#));
        assert!(form.contains(r#"<input type="hidden" name="rd" value="/app">"#));
        assert!(form.contains(r#"<input type="checkbox" name="saved" value="1" required>"#));
        assert!(form.contains("I have saved these codes"));
        assert!(form.contains(">Continue</button>"));
    }

    #[test]
    fn codes_page_explains_single_use_and_safe_storage() {
        let html = recovery_codes_page(&codes_view(&[]));
        assert!(html.contains("Each code works only once."));
        assert!(html.contains("password manager"));
        assert!(html.contains("print"));
    }

    #[test]
    fn download_link_holds_the_codes_as_text() {
        let codes = codes();
        let html = recovery_codes_page(&codes_view(&codes));
        assert!(html.contains(r#"download="gatehouse-recovery-codes.txt""#));
        assert!(html.contains("%0A%0Ak7f3-9xq2-mp4d%0Aa2b3-c4d5-e6f7%0A%3Cscript%3E"));
    }

    fn recovered(remaining: i64) -> String {
        recovered_page(&RecoveredView {
            csrf_token: "tok",
            rd: "/app?x=1",
            remaining,
        })
    }

    #[test]
    fn recovered_says_how_many_codes_are_left() {
        assert!(
            recovered(7).contains("You're signed in with a recovery code. 7 recovery codes left.")
        );
        assert!(recovered(1).contains("1 recovery code left."));
        assert!(!recovered(7).contains("running out"));
        assert!(recovered(0).contains("running out"));
    }

    #[test]
    fn recovered_offers_reset_form_and_continue_link() {
        let html = recovered(5);
        let form = &html[html.find("<form").unwrap()..html.find("</form>").unwrap()];
        assert!(form.contains(r#"method="post" action="/.gatehouse/enroll/reset""#));
        assert!(form.contains(r#"name="csrf_token" value="tok""#));
        assert!(form.contains(r#"name="rd" value="/app?x=1""#));
        assert!(form.contains(">Set up a new authenticator</button>"));
        assert!(html.contains("replaces the old one"));
        assert!(
            html.contains(r#"<a class="btn btn-secondary btn-block" href="/app?x=1">Continue</a>"#)
        );
    }
}
