//! Codes by text message, through a provider speaking Twilio's Messages
//! API: `POST {api}/2010-04-01/Accounts/{sid}/Messages.json` with HTTP
//! Basic auth and the form fields `To`, `From`, `Body`.

use std::time::Duration;

use tokio::sync::OnceCell;

use super::{CodeMessage, NotifyError};
use crate::config::SmsSettings;

const SMS_TIMEOUT: Duration = Duration::from_secs(10);

pub struct SmsSender {
    settings: SmsSettings,
    /// Made at the first send, inside the runtime that uses it.
    client: OnceCell<reqwest::Client>,
}

/// Twilio's error body: `{"code": 21211, "message": "...", ...}`.
#[derive(serde::Deserialize)]
struct ProviderError {
    code: Option<i64>,
    message: Option<String>,
}

impl SmsSender {
    pub fn new(settings: &SmsSettings) -> Self {
        Self {
            settings: settings.clone(),
            client: OnceCell::new(),
        }
    }

    async fn client(&self) -> Result<&reqwest::Client, NotifyError> {
        self.client
            .get_or_try_init(|| async {
                reqwest::Client::builder()
                    .timeout(SMS_TIMEOUT)
                    .build()
                    .map_err(|e| NotifyError::SmsUnreachable(e.to_string()))
            })
            .await
    }

    fn endpoint(&self) -> String {
        format!(
            "{}/2010-04-01/Accounts/{}/Messages.json",
            self.settings.api_url, self.settings.account_sid
        )
    }

    pub async fn send(&self, to: &str, message: &CodeMessage<'_>) -> Result<(), NotifyError> {
        let body = message.sms_text();
        let response = self
            .client()
            .await?
            .post(self.endpoint())
            .basic_auth(&self.settings.account_sid, Some(&self.settings.auth_token))
            .form(&[
                ("To", to),
                ("From", self.settings.from.as_str()),
                ("Body", body.as_str()),
            ])
            .send()
            .await
            // Without the URL: reqwest's message would name the endpoint,
            // which is harmless, but keep errors to what an operator acts on.
            .map_err(|e| NotifyError::SmsUnreachable(e.without_url().to_string()))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let text = response.text().await.unwrap_or_default();
        let detail = match serde_json::from_str::<ProviderError>(&text) {
            Ok(ProviderError {
                code: Some(code),
                message: Some(message),
            }) => format!("error {code}: {message}"),
            _ => text.chars().take(200).collect(),
        };
        Err(NotifyError::SmsRefused {
            status: status.as_u16(),
            detail,
        })
    }
}
