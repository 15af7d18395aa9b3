//! TOTP enrollments and recovery codes.
//!
//! The store only keeps what it is given: the TOTP secret arrives sealed
//! (AEAD, see `auth::secret_box`) and recovery codes arrive hashed.

use std::fmt;

use sqlx::Row;

use super::{Store, StoreError};

/// A user's authenticator-app enrollment.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpEnrollment {
    /// The TOTP secret, sealed with the at-rest key (base64 text).
    pub secret_sealed: String,
    /// When the user proved the app works (ms); `None` while pending.
    pub confirmed_at: Option<i64>,
    /// When the secret was generated (ms).
    pub created_at: i64,
}

impl TotpEnrollment {
    /// Whether the enrollment was confirmed with a code, i.e. MFA is on.
    pub fn is_confirmed(&self) -> bool {
        self.confirmed_at.is_some()
    }
}

// Hand-written so that not even the sealed secret reaches a log line.
impl fmt::Debug for TotpEnrollment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TotpEnrollment")
            .field("secret_sealed", &"<sealed>")
            .field("confirmed_at", &self.confirmed_at)
            .field("created_at", &self.created_at)
            .finish()
    }
}

impl Store {
    /// The user's enrollment, pending or confirmed.
    pub async fn totp_get(&self, user: &str) -> Result<Option<TotpEnrollment>, StoreError> {
        const WHAT: &str = "read a TOTP enrollment";
        let row = sqlx::query(
            "SELECT secret_sealed, confirmed_at, created_at FROM totp_enrollments \
             WHERE username = $1",
        )
        .bind(user)
        .fetch_optional(self.pool())
        .await
        .map_err(self.fail(WHAT))?;
        let Some(row) = row else { return Ok(None) };
        let enrollment = (|| {
            Ok::<_, sqlx::Error>(TotpEnrollment {
                secret_sealed: row.try_get(0)?,
                confirmed_at: row.try_get(1)?,
                created_at: row.try_get(2)?,
            })
        })()
        .map_err(self.fail(WHAT))?;
        Ok(Some(enrollment))
    }

    /// Starts (or restarts) an enrollment with a new sealed secret. Replaces a
    /// pending enrollment; returns `false` and changes nothing if the user
    /// already has a confirmed one (turn MFA off or reset it first).
    pub async fn totp_begin(
        &self,
        user: &str,
        secret_sealed: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        // One statement, so a concurrent confirm cannot be overwritten.
        let done = sqlx::query(
            "INSERT INTO totp_enrollments (username, secret_sealed, confirmed_at, created_at) \
             VALUES ($1, $2, NULL, $3) \
             ON CONFLICT (username) DO UPDATE \
             SET secret_sealed = excluded.secret_sealed, created_at = excluded.created_at \
             WHERE totp_enrollments.confirmed_at IS NULL",
        )
        .bind(user)
        .bind(secret_sealed)
        .bind(now)
        .execute(self.pool())
        .await
        .map_err(self.fail("begin a TOTP enrollment"))?;
        Ok(done.rows_affected() == 1)
    }

    /// Marks a pending enrollment confirmed. `false` if there is none pending.
    pub async fn totp_confirm(&self, user: &str, now: i64) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE totp_enrollments SET confirmed_at = $1 \
             WHERE username = $2 AND confirmed_at IS NULL",
        )
        .bind(now)
        .bind(user)
        .execute(self.pool())
        .await
        .map_err(self.fail("confirm a TOTP enrollment"))?;
        Ok(done.rows_affected() == 1)
    }

    /// Removes the user's enrollment, pending or confirmed. `false` if there was none.
    pub async fn totp_delete(&self, user: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM totp_enrollments WHERE username = $1")
            .bind(user)
            .execute(self.pool())
            .await
            .map_err(self.fail("delete a TOTP enrollment"))?;
        Ok(done.rows_affected() > 0)
    }

    /// Replaces all of the user's recovery codes with `hashes`, in one
    /// transaction: the old codes stop working exactly when the new ones start.
    pub async fn recovery_replace(
        &self,
        user: &str,
        hashes: &[String],
        now: i64,
    ) -> Result<(), StoreError> {
        const WHAT: &str = "replace recovery codes";
        let mut tx = self.pool().begin().await.map_err(self.fail(WHAT))?;
        sqlx::query("DELETE FROM recovery_codes WHERE username = $1")
            .bind(user)
            .execute(&mut *tx)
            .await
            .map_err(self.fail(WHAT))?;
        for hash in hashes {
            sqlx::query(
                "INSERT INTO recovery_codes (username, code_hash, used_at, created_at) \
                 VALUES ($1, $2, NULL, $3)",
            )
            .bind(user)
            .bind(hash)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(self.fail(WHAT))?;
        }
        tx.commit().await.map_err(self.fail(WHAT))
    }

    /// Uses up the recovery code with this hash. `true` exactly once per code,
    /// even when two requests race; `false` for unknown or used codes.
    pub async fn recovery_consume(
        &self,
        user: &str,
        hash: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE recovery_codes SET used_at = $1 \
             WHERE username = $2 AND code_hash = $3 AND used_at IS NULL",
        )
        .bind(now)
        .bind(user)
        .bind(hash)
        .execute(self.pool())
        .await
        .map_err(self.fail("use a recovery code"))?;
        Ok(done.rows_affected() == 1)
    }

    /// How many unused recovery codes the user has.
    pub async fn recovery_remaining(&self, user: &str) -> Result<i64, StoreError> {
        const WHAT: &str = "count recovery codes";
        let row = sqlx::query(
            "SELECT COUNT(*) FROM recovery_codes WHERE username = $1 AND used_at IS NULL",
        )
        .bind(user)
        .fetch_one(self.pool())
        .await
        .map_err(self.fail(WHAT))?;
        row.try_get(0).map_err(self.fail(WHAT))
    }

    /// Removes all of the user's recovery codes (MFA turned off or reset).
    pub async fn recovery_delete_all(&self, user: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM recovery_codes WHERE username = $1")
            .bind(user)
            .execute(self.pool())
            .await
            .map_err(self.fail("delete recovery codes"))?;
        Ok(())
    }
}
