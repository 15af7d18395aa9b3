//! Settings: small values Gatehouse must keep, such as a secret created on
//! first start when the config names none, or the MFA policy an admin set.

use sqlx::Row;

use super::{Store, StoreError};

impl Store {
    /// The value stored under `key`, if any.
    pub async fn setting(&self, key: &str) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT value FROM settings WHERE key = $1")
            .bind(key)
            .fetch_optional(self.pool())
            .await
            .map_err(self.fail("read a setting"))?;
        row.map(|r| r.try_get::<String, _>(0))
            .transpose()
            .map_err(self.fail("read a setting"))
    }

    /// Stores `value` under `key` unless a value is already there, and returns
    /// the stored value. Two replicas starting at once therefore agree on
    /// whichever value was written first.
    pub async fn setting_insert_if_absent(
        &self,
        key: &str,
        value: &str,
    ) -> Result<String, StoreError> {
        sqlx::query(
            "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
        )
        .bind(key)
        .bind(value)
        .execute(self.pool())
        .await
        .map_err(self.fail("insert a setting"))?;
        self.setting(key).await?.ok_or(StoreError::Corrupt {
            what: "insert a setting",
            detail: format!("setting {key:?} is missing right after it was inserted"),
        })
    }

    /// Stores `value` under `key`, replacing any value there: settings an
    /// admin changes, such as the organisation's MFA policy.
    pub async fn setting_put(&self, key: &str, value: &str) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO settings (key, value) VALUES ($1, $2) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(key)
        .bind(value)
        .execute(self.pool())
        .await
        .map_err(self.fail("write a setting"))?;
        Ok(())
    }
}

impl Store {
    /// Every setting whose key starts with `prefix`, as (key, value).
    pub async fn settings_with_prefix(
        &self,
        prefix: &str,
    ) -> Result<Vec<(String, String)>, StoreError> {
        // Prefixes are ours and hold no LIKE wildcards; the check keeps
        // it so.
        debug_assert!(!prefix.contains(['%', '_', '\\']));
        let rows = sqlx::query("SELECT key, value FROM settings WHERE key LIKE $1 ORDER BY key")
            .bind(format!("{prefix}%"))
            .fetch_all(self.pool())
            .await
            .map_err(self.fail("read settings"))?;
        rows.into_iter()
            .map(|r| Ok((r.try_get::<String, _>(0)?, r.try_get::<String, _>(1)?)))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(self.fail("read settings"))
    }

    /// Removes the setting under `key`, if there is one.
    pub async fn setting_delete(&self, key: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM settings WHERE key = $1")
            .bind(key)
            .execute(self.pool())
            .await
            .map_err(self.fail("remove a setting"))?;
        Ok(())
    }
}
