//! Codes by email, through the configured SMTP server.

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::{CodeMessage, NotifyError};
use crate::config::EmailSettings;

/// A slow mail server must not hold a user's request for long.
const SMTP_TIMEOUT: Duration = Duration::from_secs(10);

pub struct EmailSender {
    /// Validated by the config; kept as text so that the transport is
    /// built inside the runtime that uses it.
    smtp_url: String,
    from: Mailbox,
}

impl EmailSender {
    pub fn new(settings: &EmailSettings) -> Self {
        Self {
            smtp_url: settings.smtp_url.clone(),
            from: settings
                .from
                .parse()
                .expect("notify.email.from is checked when the config loads"),
        }
    }

    pub async fn send(&self, to: &str, message: &CodeMessage<'_>) -> Result<(), NotifyError> {
        let bad_message = |detail: String| NotifyError::Message {
            to: to.to_owned(),
            detail,
        };
        let mailbox: Mailbox = to.parse().map_err(|e| bad_message(format!("{e}")))?;
        let email = Message::builder()
            .from(self.from.clone())
            .to(mailbox)
            .subject(message.email_subject())
            .header(ContentType::TEXT_PLAIN)
            .body(message.email_text())
            .map_err(|e| bad_message(e.to_string()))?;
        // One connection per code: codes are rare, and a pooled connection
        // would outlive the runtime that opened it.
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&self.smtp_url)
            .map_err(|e| NotifyError::Smtp(e.to_string()))?
            .timeout(Some(SMTP_TIMEOUT))
            .build();
        transport
            .send(email)
            .await
            .map(drop)
            .map_err(|e| NotifyError::Smtp(e.to_string()))
    }
}
