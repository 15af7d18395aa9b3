//! The organisation at a glance, for the admin console: each user's second
//! factor, recovery codes, remembered browsers and last sign-in.
//!
//! One query per table, merged here, so the page costs four queries however
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
}

impl Store {
    /// Every user the store knows anything about, by username.
    pub async fn factor_overview(
        &self,
        now: i64,
    ) -> Result<BTreeMap<String, UserFactors>, StoreError> {
        const WHAT: &str = "read the users' factors";
        let mut users: BTreeMap<String, UserFactors> = BTreeMap::new();

        let rows = sqlx::query("SELECT username, confirmed_at FROM totp_enrollments")
            .fetch_all(self.pool())
            .await
            .map_err(StoreError::query(WHAT))?;
        for row in &rows {
            let confirmed: Option<i64> = column(row, 1)?;
            let entry = users.entry(column(row, 0)?).or_default();
            entry.totp_confirmed_at = confirmed;
            entry.totp_pending = confirmed.is_none();
        }

        let rows = sqlx::query(
            "SELECT username, COUNT(*) FROM recovery_codes WHERE used_at IS NULL \
             GROUP BY username",
        )
        .fetch_all(self.pool())
        .await
        .map_err(StoreError::query(WHAT))?;
        for row in &rows {
            let n: i64 = column(row, 1)?;
            users.entry(column(row, 0)?).or_default().recovery_remaining = n;
        }

        let rows = sqlx::query(
            "SELECT username, COUNT(*) FROM remembered_devices WHERE expires_at > $1 \
             GROUP BY username",
        )
        .bind(now)
        .fetch_all(self.pool())
        .await
        .map_err(StoreError::query(WHAT))?;
        for row in &rows {
            let n: i64 = column(row, 1)?;
            users.entry(column(row, 0)?).or_default().devices = n;
        }

        // Served by the (username, at_ms) index.
        let rows = sqlx::query(
            "SELECT username, MAX(at_ms) FROM audit_log \
             WHERE event = 'login' AND outcome = 'ok' AND username IS NOT NULL \
             GROUP BY username",
        )
        .fetch_all(self.pool())
        .await
        .map_err(StoreError::query(WHAT))?;
        for row in &rows {
            let at: i64 = column(row, 1)?;
            users.entry(column(row, 0)?).or_default().last_sign_in = Some(at);
        }
        Ok(users)
    }
}

fn column<T>(row: &AnyRow, i: usize) -> Result<T, StoreError>
where
    T: for<'r> sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any>,
{
    row.try_get(i)
        .map_err(StoreError::query("read the users' factors"))
}
