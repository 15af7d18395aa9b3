//! Remembered devices: browsers where a user chose to skip the code for a
//! while. The browser holds a signed cookie naming the device id; this record
//! is what makes "forget all devices" and an MFA reset take effect at once.

use sqlx::any::AnyRow;
use sqlx::Row;

use super::{Store, StoreError};

/// A remembered device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    /// Random id, also in the browser's signed cookie.
    pub id: String,
    pub username: String,
    /// Shown on the account page, e.g. "Firefox on Linux".
    pub label: String,
    /// When it was remembered (ms).
    pub created_at: i64,
    /// When it stops being remembered (ms).
    pub expires_at: i64,
    /// When it last let the user skip the code (ms).
    pub last_used_at: Option<i64>,
}

impl Device {
    fn from_row(row: &AnyRow) -> Result<Device, sqlx::Error> {
        Ok(Device {
            id: row.try_get(0)?,
            username: row.try_get(1)?,
            label: row.try_get(2)?,
            created_at: row.try_get(3)?,
            expires_at: row.try_get(4)?,
            last_used_at: row.try_get(5)?,
        })
    }
}

impl Store {
    /// Remembers a device.
    pub async fn device_add(&self, device: &Device) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO remembered_devices \
             (id, username, label, created_at, expires_at, last_used_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&device.id)
        .bind(&device.username)
        .bind(&device.label)
        .bind(device.created_at)
        .bind(device.expires_at)
        .bind(device.last_used_at)
        .execute(self.pool())
        .await
        .map_err(self.fail("remember a device"))?;
        Ok(())
    }

    /// Whether device `id` is remembered for `user` and not expired at `now`;
    /// if so, records `now` as its last use.
    pub async fn device_is_valid(
        &self,
        user: &str,
        id: &str,
        now: i64,
        not_before: i64,
    ) -> Result<bool, StoreError> {
        // Check and touch in one statement; `now` is bound twice to keep the
        // placeholders in order for SQLite.
        let done = sqlx::query(
            "UPDATE remembered_devices SET last_used_at = $1 \
             WHERE username = $2 AND id = $3 AND expires_at > $4 AND created_at >= $5",
        )
        .bind(now)
        .bind(user)
        .bind(id)
        .bind(now)
        .bind(not_before)
        .execute(self.pool())
        .await
        .map_err(self.fail("check a remembered device"))?;
        Ok(done.rows_affected() == 1)
    }

    /// The user's unexpired devices, newest first.
    pub async fn devices_list(&self, user: &str, now: i64) -> Result<Vec<Device>, StoreError> {
        const WHAT: &str = "list remembered devices";
        let rows = sqlx::query(
            "SELECT id, username, label, created_at, expires_at, last_used_at \
             FROM remembered_devices WHERE username = $1 AND expires_at > $2 \
             ORDER BY created_at DESC, id DESC",
        )
        .bind(user)
        .bind(now)
        .fetch_all(self.pool())
        .await
        .map_err(self.fail(WHAT))?;
        rows.iter()
            .map(Device::from_row)
            .collect::<Result<_, _>>()
            .map_err(self.fail(WHAT))
    }

    /// Forgets every device of the user (forget-all, MFA reset or turned
    /// off); returns how many there were, expired ones included.
    pub async fn devices_revoke_all(&self, user: &str) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM remembered_devices WHERE username = $1")
            .bind(user)
            .execute(self.pool())
            .await
            .map_err(self.fail("forget remembered devices"))?;
        Ok(done.rows_affected())
    }

    /// Deletes devices that expired before `now` (housekeeping); returns how many.
    pub async fn devices_purge_expired(&self, now: i64) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM remembered_devices WHERE expires_at <= $1")
            .bind(now)
            .execute(self.pool())
            .await
            .map_err(self.fail("purge expired devices"))?;
        Ok(done.rows_affected())
    }
}
