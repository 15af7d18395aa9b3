//! Delivering one-time codes: email over SMTP, text messages through an
//! HTTP provider speaking Twilio's Messages API.
//!
//! This module only delivers. Which code, to whom, and how often is decided
//! in `auth`; nothing here sees a code except to put it in a message, and
//! nothing here logs one.

mod email;
mod phone;
mod sms;

use std::fmt;
use std::time::Duration;

pub use email::EmailSender;
pub use phone::{normalise_phone, PhoneError};
pub use sms::SmsSender;

use crate::config::NotifySettings;

/// A way to receive one-time codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Channel {
    Email,
    Sms,
}

impl Channel {
    pub const ALL: [Channel; 2] = [Channel::Email, Channel::Sms];

    /// The form value, store value and audit detail: `email` or `sms`.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Sms => "sms",
        }
    }

    pub fn from_name(name: &str) -> Option<Channel> {
        Channel::ALL.into_iter().find(|c| c.as_str() == name)
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("{0} delivery is not configured")]
    NotConfigured(Channel),
    #[error("the email to {to} could not be built: {detail}")]
    Message { to: String, detail: String },
    #[error("the SMTP server refused or could not be reached: {0}")]
    Smtp(String),
    #[error("the SMS provider could not be reached: {0}")]
    SmsUnreachable(String),
    #[error("the SMS provider answered {status}: {detail}")]
    SmsRefused { status: u16, detail: String },
}

/// What a code message says, shared by both channels.
pub struct CodeMessage<'a> {
    pub code: &'a str,
    /// The name users know the gateway by (`mfa.issuer`).
    pub issuer: &'a str,
    pub lifetime: Duration,
}

impl CodeMessage<'_> {
    fn minutes(&self) -> u64 {
        self.lifetime.as_secs().div_ceil(60).max(1)
    }

    /// Short enough for one SMS segment. The code comes first so that
    /// phones can offer it from the notification.
    pub fn sms_text(&self) -> String {
        format!(
            "{} is your {} sign-in code. It expires in {} min. Don't share it.",
            self.code,
            self.issuer,
            self.minutes()
        )
    }

    pub fn email_subject(&self) -> String {
        format!("Your {} sign-in code: {}", self.issuer, self.code)
    }

    pub fn email_text(&self) -> String {
        format!(
            "Your {issuer} sign-in code is:\n\n    {code}\n\n\
             It expires in {minutes} minutes and works once.\n\n\
             If you did not just try to sign in, someone may know your password: \
             change it, and tell your administrator.\n",
            issuer = self.issuer,
            code = self.code,
            minutes = self.minutes(),
        )
    }
}

/// The configured delivery channels.
pub struct Notifier {
    email: Option<EmailSender>,
    sms: Option<SmsSender>,
}

impl Notifier {
    pub fn new(settings: &NotifySettings) -> Self {
        Self {
            email: settings.email.as_ref().map(EmailSender::new),
            sms: settings.sms.as_ref().map(SmsSender::new),
        }
    }

    /// Whether codes can go out over `channel` at all.
    pub fn offers(&self, channel: Channel) -> bool {
        match channel {
            Channel::Email => self.email.is_some(),
            Channel::Sms => self.sms.is_some(),
        }
    }

    /// Sends `message` to `to` (an address or an E.164 number).
    pub async fn send(
        &self,
        channel: Channel,
        to: &str,
        message: &CodeMessage<'_>,
    ) -> Result<(), NotifyError> {
        match channel {
            Channel::Email => {
                let sender = self
                    .email
                    .as_ref()
                    .ok_or(NotifyError::NotConfigured(channel))?;
                sender.send(to, message).await
            }
            Channel::Sms => {
                let sender = self
                    .sms
                    .as_ref()
                    .ok_or(NotifyError::NotConfigured(channel))?;
                sender.send(to, message).await
            }
        }
    }
}

/// How a destination is shown on pages: enough to recognise, not enough to
/// harvest. `alice@example.com` → `a•••e@example.com`; `+15555550123` →
/// `••• 0123`.
pub fn mask(channel: Channel, destination: &str) -> String {
    match channel {
        Channel::Email => match destination.rsplit_once('@') {
            Some((local, domain)) => {
                let chars: Vec<char> = local.chars().collect();
                let shown = match chars.as_slice() {
                    [] => String::new(),
                    [only] => format!("{only}•••"),
                    [first, .., last] => format!("{first}•••{last}"),
                };
                format!("{shown}@{domain}")
            }
            None => "•••".to_owned(),
        },
        Channel::Sms => {
            let digits: Vec<char> = destination.chars().filter(char::is_ascii_digit).collect();
            let tail: String = digits[digits.len().saturating_sub(4)..].iter().collect();
            format!("••• {tail}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_masked_to_their_ends() {
        assert_eq!(
            mask(Channel::Email, "alice@example.com"),
            "a•••e@example.com"
        );
        assert_eq!(mask(Channel::Email, "a@example.com"), "a•••@example.com");
        assert_eq!(mask(Channel::Sms, "+15555550123"), "••• 0123");
    }

    #[test]
    fn channel_names_round_trip_and_unknown_ones_are_refused() {
        for channel in Channel::ALL {
            assert_eq!(Channel::from_name(channel.as_str()), Some(channel));
        }
        assert_eq!(Channel::from_name("pigeon"), None);
        assert_eq!(Channel::from_name("EMAIL"), None);
    }

    #[test]
    fn a_code_message_names_the_code_and_its_lifetime() {
        let m = CodeMessage {
            code: "123456",
            issuer: "Acme",
            lifetime: Duration::from_secs(600),
        };
        assert!(m.sms_text().starts_with("123456 is your Acme sign-in code"));
        assert!(m.sms_text().contains("10 min"));
        assert!(m.sms_text().len() <= 160, "one SMS segment");
        assert!(m.email_text().contains("123456"));
        assert!(m.email_text().contains("10 minutes"));
    }
}
