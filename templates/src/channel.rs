//! Email and text message: the ways a user can receive one-time codes, and
//! the words every page uses for them, so the pages never disagree.

use maud::{html, Markup};

use crate::components::{csrf_field, rd_field};

/// A way to receive one-time codes, as a page offers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CodeChannel<'a> {
    /// The form value and hook: "email" or "sms".
    pub channel: &'a str,
    /// Where codes go, already masked by the caller: "a•••e@example.com", "••• 4567".
    pub destination: &'a str,
}

impl<'a> CodeChannel<'a> {
    /// The `channel` value for codes sent by email.
    pub const EMAIL: &'static str = "email";
    /// The `channel` value for codes sent by text message.
    pub const SMS: &'static str = "sms";

    /// "Email", "Text message": a label or the start of a sentence. A channel
    /// the pages don't know shows as its raw value rather than as nothing.
    pub fn name(self) -> &'a str {
        match self.channel {
            Self::EMAIL => "Email",
            Self::SMS => "Text message",
            other => other,
        }
    }

    /// "email", "text message": the name inside a sentence ("codes by email").
    pub fn medium(self) -> &'a str {
        match self.channel {
            Self::EMAIL => "email",
            Self::SMS => "text message",
            other => other,
        }
    }

    /// The send button's label: "Email me a code", "Text me a code".
    pub fn send_label(self) -> String {
        match self.channel {
            Self::EMAIL => "Email me a code".to_owned(),
            Self::SMS => "Text me a code".to_owned(),
            other => format!("Send me a code by {other}"),
        }
    }

    /// "by email to a•••e@example.com", to follow "We sent a code".
    pub fn sent_phrase(self) -> String {
        format!("by {} to {}", self.medium(), self.destination)
    }
}

/// The hidden `channel` field of every form that acts on one channel.
pub(crate) fn channel_field(channel: &str) -> Markup {
    html! { input type="hidden" name="channel" value=(channel); }
}

/// A one-button form asking for a code by `c`: posts `csrf_token`, `rd` and
/// `channel` to `action`. The button is `id="{id_prefix}{channel}"` and
/// names the (masked) destination, so the user sees where the code will go.
pub(crate) fn send_form(
    action: &str,
    id_prefix: &str,
    c: CodeChannel,
    csrf_token: &str,
    rd: &str,
) -> Markup {
    html! {
        form method="post" action=(action) {
            (csrf_field(csrf_token))
            (rd_field(rd))
            (channel_field(c.channel))
            button.btn.btn-secondary.btn-block.btn-channel type="submit" id={ (id_prefix) (c.channel) } {
                span { (c.send_label()) }
                span.muted { (c.destination) }
            }
        }
    }
}

/// "email", "email or text message", "a, b or c": the media of `channels`,
/// for a heading or a sentence that covers them all.
pub(crate) fn media_list<'a>(channels: impl IntoIterator<Item = CodeChannel<'a>>) -> String {
    let media: Vec<&str> = channels.into_iter().map(CodeChannel::medium).collect();
    match media.split_last() {
        None => String::new(),
        Some((last, [])) => (*last).to_owned(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}

/// A second factor's name from its stable key ("app", "email", "sms"), as the
/// admin console lists them.
pub(crate) fn factor_name(key: &str) -> &str {
    match key {
        "app" => "Authenticator app",
        channel => CodeChannel {
            channel,
            destination: "",
        }
        .name(),
    }
}

/// An email address and a phone, masked as the gateway masks them: the
/// channels page tests offer.
#[cfg(test)]
pub(crate) const SAMPLE_CHANNELS: [CodeChannel<'static>; 2] = [
    CodeChannel {
        channel: CodeChannel::EMAIL,
        destination: "a•••e@example.com",
    },
    CodeChannel {
        channel: CodeChannel::SMS,
        destination: "••• 4567",
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    const EMAIL: CodeChannel = SAMPLE_CHANNELS[0];
    const SMS: CodeChannel = SAMPLE_CHANNELS[1];
    const FAX: CodeChannel = CodeChannel {
        channel: "fax",
        destination: "555",
    };

    #[test]
    fn known_channels_have_human_words() {
        assert_eq!((EMAIL.name(), SMS.name()), ("Email", "Text message"));
        assert_eq!(EMAIL.send_label(), "Email me a code");
        assert_eq!(SMS.send_label(), "Text me a code");
        assert_eq!(EMAIL.sent_phrase(), "by email to a•••e@example.com");
        assert_eq!(SMS.sent_phrase(), "by text message to ••• 4567");
    }

    #[test]
    fn unknown_channels_fall_back_to_the_raw_value() {
        assert_eq!(FAX.name(), "fax");
        assert_eq!(FAX.send_label(), "Send me a code by fax");
        assert_eq!(FAX.sent_phrase(), "by fax to 555");
        assert_eq!(CodeChannel::default().name(), "");
    }

    #[test]
    fn media_list_joins_with_or() {
        assert_eq!(media_list([]), "");
        assert_eq!(media_list([SMS]), "text message");
        assert_eq!(media_list([EMAIL, SMS]), "email or text message");
        assert_eq!(media_list([EMAIL, SMS, FAX]), "email, text message or fax");
    }

    #[test]
    fn send_form_posts_the_channel_and_names_the_destination() {
        let html = send_form("/send", "send-", EMAIL, "tok", "/app").into_string();
        assert!(html.starts_with(r#"<form method="post" action="/send">"#));
        assert!(html.contains(r#"<input type="hidden" name="csrf_token" value="tok">"#));
        assert!(html.contains(r#"<input type="hidden" name="rd" value="/app">"#));
        assert!(html.contains(r#"<input type="hidden" name="channel" value="email">"#));
        assert!(html.contains(
            r#"type="submit" id="send-email"><span>Email me a code</span><span class="muted">a•••e@example.com</span></button>"#
        ));
    }

    #[test]
    fn factor_names() {
        assert_eq!(factor_name("app"), "Authenticator app");
        assert_eq!(factor_name("email"), "Email");
        assert_eq!(factor_name("sms"), "Text message");
        assert_eq!(factor_name("totp?"), "totp?");
    }
}
