//! Email and text-message factors: which users proved they receive codes
//! on which channel. Channels are stored by name (`email`, `sms`); the
//! store does not interpret them.

use sqlx::Row;

use super::{Store, StoreError};

impl Store {
    /// Records that `user` receives codes over `channel` at the address in
    /// the users file; a repeat keeps the first confirmation's time.
    pub async fn contact_confirm(
        &self,
        user: &str,
        channel: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        self.contact_confirm_to(user, channel, None, now).await
    }

    /// Records that `user` receives codes over `channel`, at `destination`
    /// when they typed it themselves (`None`: the users file's address). A
    /// repeat keeps the first confirmation, destination included: the code
    /// proved that one.
    pub async fn contact_confirm_to(
        &self,
        user: &str,
        channel: &str,
        destination: Option<&str>,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO contact_factors (username, channel, confirmed_at, destination) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (username, channel) DO NOTHING",
        )
        .bind(user)
        .bind(channel)
        .bind(now)
        .bind(destination)
        .execute(self.pool())
        .await
        .map_err(self.fail("confirm an email or SMS factor"))?;
        Ok(())
    }

    /// The user's confirmed channels with their confirmation times (ms),
    /// by channel name.
    pub async fn contact_list(&self, user: &str) -> Result<Vec<(String, i64)>, StoreError> {
        const WHAT: &str = "read email and SMS factors";
        let rows = sqlx::query(
            "SELECT channel, confirmed_at FROM contact_factors WHERE username = $1 \
             ORDER BY channel",
        )
        .bind(user)
        .fetch_all(self.pool())
        .await
        .map_err(self.fail(WHAT))?;
        rows.iter()
            .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(self.fail(WHAT))
    }

    /// The destinations users typed for their channels, by channel name;
    /// channels that use the users file's address are not listed.
    pub async fn contact_destinations(
        &self,
        user: &str,
    ) -> Result<Vec<(String, String)>, StoreError> {
        const WHAT: &str = "read where email and SMS codes go";
        let rows = sqlx::query(
            "SELECT channel, destination FROM contact_factors \
             WHERE username = $1 AND destination IS NOT NULL ORDER BY channel",
        )
        .bind(user)
        .fetch_all(self.pool())
        .await
        .map_err(self.fail(WHAT))?;
        rows.iter()
            .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(self.fail(WHAT))
    }

    /// Removes one channel; false if the user did not have it.
    pub async fn contact_delete(&self, user: &str, channel: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM contact_factors WHERE username = $1 AND channel = $2")
            .bind(user)
            .bind(channel)
            .execute(self.pool())
            .await
            .map_err(self.fail("remove an email or SMS factor"))?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn contact_delete_all(&self, user: &str) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM contact_factors WHERE username = $1")
            .bind(user)
            .execute(self.pool())
            .await
            .map_err(self.fail("remove email and SMS factors"))?;
        Ok(done.rows_affected())
    }
}
