//! Remembered browsers: "don't ask for a code on this browser for N days".
//! The cookie names a record in the store and carries a MAC binding it to
//! the user, so a cookie copied to another account opens nothing.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::Mac;
use rand::rngs::OsRng;
use rand::TryRngCore;

use super::{now_ms, HmacSha256, Mfa, MfaError};
use crate::store::Device;

impl Mfa {
    fn device_mac(&self, user: &str, id: &str) -> HmacSha256 {
        let mut mac =
            HmacSha256::new_from_slice(&self.device_key).expect("HMAC takes any key length");
        mac.update(user.as_bytes());
        mac.update(b"\0");
        mac.update(id.as_bytes());
        mac
    }

    /// Records a remembered device and returns the cookie value, bound to
    /// the user by a MAC.
    /// `days` is the user's organisation's `remember_device_days`.
    pub async fn remember_device(
        &self,
        user: &str,
        label: &str,
        days: u32,
    ) -> Result<String, MfaError> {
        let mut raw = [0u8; 18];
        OsRng
            .try_fill_bytes(&mut raw)
            .expect("the OS random number generator is available");
        let id = URL_SAFE_NO_PAD.encode(raw);
        let now = now_ms();
        let days = i64::from(days);
        self.store()
            .await?
            .device_add(&Device {
                id: id.clone(),
                username: user.to_owned(),
                label: label.chars().take(120).collect(),
                created_at: now,
                expires_at: now + days * 24 * 3600 * 1000,
                last_used_at: None,
            })
            .await?;
        let sig = URL_SAFE_NO_PAD.encode(self.device_mac(user, &id).finalize().into_bytes());
        Ok(format!("{id}.{sig}"))
    }

    /// Whether the device cookie is this user's and its record is live,
    /// and no older than `days`, the organisation's setting now: one made
    /// shorter since the browser was remembered counts from then.
    pub async fn device_remembered(
        &self,
        user: &str,
        cookie: &str,
        days: u32,
    ) -> Result<bool, MfaError> {
        if days == 0 {
            return Ok(false);
        }
        let Some((id, sig)) = cookie.split_once('.') else {
            return Ok(false);
        };
        let Ok(sig) = URL_SAFE_NO_PAD.decode(sig) else {
            return Ok(false);
        };
        if self.device_mac(user, id).verify_slice(&sig).is_err() {
            return Ok(false);
        }
        let now = now_ms();
        Ok(self
            .store()
            .await?
            .device_is_valid(user, id, now, now - i64::from(days) * 24 * 3600 * 1000)
            .await?)
    }

    pub async fn devices(&self, user: &str) -> Result<Vec<Device>, MfaError> {
        Ok(self.store().await?.devices_list(user, now_ms()).await?)
    }

    pub async fn forget_devices(&self, user: &str) -> Result<u64, MfaError> {
        Ok(self.store().await?.devices_revoke_all(user).await?)
    }
}
