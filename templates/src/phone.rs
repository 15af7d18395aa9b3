//! Codes by text message to a number the user types (`notify.sms.countries`
//! on the gateway): the enrollment page's SMS form asks for the number
//! instead of naming one from the users file.

use maud::{html, Markup};

use crate::channel::{channel_field, CodeChannel};
use crate::components::{csrf_field, field, rd_field, Field};
use crate::Route;
use crate::ENROLL_SEND_ACTION;

/// The SMS form when users type their number.
#[derive(Debug, Clone, Copy, Default)]
pub struct PhoneEntry<'a> {
    /// The countries numbers may be in, as the hint says them, e.g.
    /// "AU (+61), NZ (+64) or GB (+44)".
    pub countries: &'a str,
    /// What the user typed, shown again after a refusal; empty at first.
    pub typed: &'a str,
    /// Why the number, or sending to it, was refused; shown at the field.
    pub error: Option<&'a str>,
    /// The number can't get codes at all (another country, or not a
    /// number): the message also offers the authenticator app, when the
    /// page offers it.
    pub offer_app: bool,
}

/// The id of the authenticator app's steps, which the offer links to.
pub(crate) const APP_ANCHOR: &str = "app-setup";

const ERROR_ID: &str = "phone-error";

/// The SMS channel's send form with a `phone` field: posts `csrf_token`,
/// `rd`, `channel=sms` and `phone` to `/.gatehouse/enroll/send`. The
/// button keeps the id the plain form has (`enroll-send-sms`).
/// `app_on_page`: the page also sets up an authenticator app.
pub(crate) fn phone_form(
    c: CodeChannel,
    entry: &PhoneEntry,
    csrf_token: &str,
    rd: &str,
    app_on_page: bool,
) -> Markup {
    let hint = format!("A mobile number in {}. Spaces are fine.", entry.countries);
    let app_href = (entry.offer_app && app_on_page)
        .then(|| format!("{}#{APP_ANCHOR}", Route::Enroll.with_rd(rd)));
    html! {
        form method="post" action=(ENROLL_SEND_ACTION) id="enroll-phone" {
            (csrf_field(csrf_token))
            (rd_field(rd))
            (channel_field(c.channel))
            @if let Some(error) = entry.error {
                div.alert.alert-error role="alert" aria-live="assertive" id=(ERROR_ID) {
                    (error)
                    @if let Some(href) = &app_href {
                        " "
                        a href=(href) { "Set up an authenticator app instead" }
                    }
                }
            }
            (field(&Field {
                id: "phone",
                label: "Your mobile number",
                input_type: "tel",
                value: entry.typed,
                autocomplete: "tel",
                autofocus: entry.error.is_some(),
                error_id: entry.error.map(|_| ERROR_ID),
                hint: Some(&hint),
                inputmode: Some("tel"),
                maxlength: Some(32),
                ..Field::default()
            }))
            button.btn.btn-secondary.btn-block.btn-channel type="submit" id={ "enroll-send-" (c.channel) } {
                span { (c.send_label()) }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMS: CodeChannel = CodeChannel {
        channel: CodeChannel::SMS,
        destination: "",
    };

    fn entry() -> PhoneEntry<'static> {
        PhoneEntry {
            countries: "AU (+61) or NZ (+64)",
            ..PhoneEntry::default()
        }
    }

    #[test]
    fn the_form_asks_for_a_phone_and_names_the_countries() {
        let html = phone_form(SMS, &entry(), "tok", "/wiki?a=1", true).into_string();
        assert!(html.starts_with(
            r#"<form method="post" action="/.gatehouse/enroll/send" id="enroll-phone">"#
        ));
        assert!(html.contains(r#"<input type="hidden" name="csrf_token" value="tok">"#));
        assert!(html.contains(r#"<input type="hidden" name="channel" value="sms">"#));
        assert!(html.contains(r#"id="phone" name="phone" type="tel" autocomplete="tel" inputmode="tel" maxlength="32""#));
        assert!(html.contains("A mobile number in AU (+61) or NZ (+64). Spaces are fine."));
        assert!(html.contains(r#"id="enroll-send-sms"><span>Text me a code</span></button>"#));
        assert!(!html.contains("role=\"alert\""));
        assert!(!html.contains("autofocus"));
    }

    #[test]
    fn a_refused_number_is_kept_and_the_app_offered() {
        let refused = PhoneEntry {
            typed: "+1 <201> 555 0123",
            error: Some("Not <here>."),
            offer_app: true,
            ..entry()
        };
        let html = phone_form(SMS, &refused, "tok", "/wiki?a=1", true).into_string();
        assert!(html.contains(r#"value="+1 &lt;201&gt; 555 0123""#));
        assert!(html.contains(
            r#"id="phone-error">Not &lt;here&gt;. <a href="/.gatehouse/enroll?rd=%2Fwiki%3Fa%3D1#app-setup">Set up an authenticator app instead</a></div>"#
        ));
        assert!(html.contains(r#"aria-invalid="true" aria-describedby="phone-error phone-hint""#));
        assert!(html.contains("autofocus"));
        // No app on the page (the user has one): no link to it.
        let html = phone_form(SMS, &refused, "tok", "/", false).into_string();
        assert!(html.contains(r#"id="phone-error">Not &lt;here&gt;.</div>"#));
        // A refusal to send again soon is no reason to switch.
        let soon = PhoneEntry {
            offer_app: false,
            ..refused
        };
        let html = phone_form(SMS, &soon, "tok", "/", true).into_string();
        assert!(!html.contains("authenticator app instead"));
    }
}
