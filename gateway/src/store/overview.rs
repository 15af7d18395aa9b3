//! The organisation at a glance, for the admin console: each user's second
//! factor, recovery codes, remembered browsers and last sign-in.
//!
//! One query per table, merged here, so the page costs five queries however
//! many users there are.

use std::collections::BTreeMap;

use sqlx::any::AnyRow;
use sqlx::Row;

use super::{Store, StoreError};

/// What the store knows about one user's sign-in factors. Users the store has
/// never heard of simply have no entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserFactors {
    /// When an authenticator was confirmed (ms); `None` while off or pending.
    pub totp_confirmed_at: Option<i64>,
    /// An enrollment was started but never confirmed.
    pub totp_pending: bool,
    /// Unused recovery codes.
    pub recovery_remaining: i64,
    /// Remembered browsers that have not expired.
    pub devices: i64,
    /// The last successful password sign-in (ms), from the audit log.
    pub last_sign_in: Option<i64>,
    /// Confirmed email/SMS channels and when (ms), by channel name.
    pub contact: Vec<(String, i64)>,
}

impl UserFactors {
    /// When the user's first confirmed factor was confirmed: MFA is on.
    pub fn mfa_since(&self) -> Option<i64> {
        self.contact
            .iter()
            .map(|(_, at)| *at)
            .chain(self.totp_confirmed_at)
            .min()
    }
}

/// What a failed read here says it was doing.
const WHAT: &str = "read the users' factors";

impl Store {
    /// Every user the store knows anything about, by username.
    pub async fn factor_overview(
        &self,
        now: i64,
    ) -> Result<BTreeMap<String, UserFactors>, StoreError> {
        let mut users: BTreeMap<String, UserFactors> = BTreeMap::new();

        let rows = sqlx::query("SELECT username, confirmed_at FROM totp_enrollments")
            .fetch_all(self.pool())
            .await
            .map_err(self.fail(WHAT))?;
        merge(&mut users, &rows, |u, confirmed: Option<i64>| {
            u.totp_confirmed_at = confirmed;
            u.totp_pending = confirmed.is_none();
        })?;

        let rows = sqlx::query(
            "SELECT username, COUNT(*) FROM recovery_codes WHERE used_at IS NULL \
             GROUP BY username",
        )
        .fetch_all(self.pool())
        .await
        .map_err(self.fail(WHAT))?;
        merge(&mut users, &rows, |u, n: i64| u.recovery_remaining = n)?;

        let rows = sqlx::query(
            "SELECT username, COUNT(*) FROM remembered_devices WHERE expires_at > $1 \
             GROUP BY username",
        )
        .bind(now)
        .fetch_all(self.pool())
        .await
        .map_err(self.fail(WHAT))?;
        merge(&mut users, &rows, |u, n: i64| u.devices = n)?;

        // Served by the (username, at_ms) index.
        let rows = sqlx::query(
            "SELECT username, MAX(at_ms) FROM audit_log \
             WHERE event = 'login' AND outcome = 'ok' AND username IS NOT NULL \
             GROUP BY username",
        )
        .fetch_all(self.pool())
        .await
        .map_err(self.fail(WHAT))?;
        merge(&mut users, &rows, |u, at: i64| u.last_sign_in = Some(at))?;

        let rows = sqlx::query(
            "SELECT username, channel, confirmed_at FROM contact_factors \
             ORDER BY username, channel",
        )
        .fetch_all(self.pool())
        .await
        .map_err(self.fail(WHAT))?;
        for row in &rows {
            let (user, channel, at): (String, String, i64) =
                (|| Ok::<_, sqlx::Error>((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?)))()
                    .map_err(self.fail(WHAT))?;
            users.entry(user).or_default().contact.push((channel, at));
        }
        Ok(users)
    }
}

/// Hands each `(username, value)` row's value to `set` on that user's entry.
fn merge<T>(
    users: &mut BTreeMap<String, UserFactors>,
    rows: &[AnyRow],
    set: impl Fn(&mut UserFactors, T),
) -> Result<(), StoreError>
where
    T: for<'r> sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any>,
{
    for row in rows {
        let user: String = row.try_get(0).map_err(StoreError::query(WHAT))?;
        let value: T = row.try_get(1).map_err(StoreError::query(WHAT))?;
        set(users.entry(user).or_default(), value);
    }
    Ok(())
}
