//! "Forget all devices" for an organisation: every factor, recovery code
//! and remembered browser of its users, gone in one transaction, so a
//! sign-in racing it sees either all of a user's factors or none.

use super::{Store, StoreError};

/// Every table that holds a way past the second step, by user.
const TABLES: [&str; 4] = [
    "totp_enrollments",
    "contact_factors",
    "recovery_codes",
    "remembered_devices",
];

impl Store {
    /// Removes every factor, recovery code and remembered device of
    /// `users`, in one transaction. Returns how many rows went.
    pub async fn forget_users(&self, users: &[String]) -> Result<u64, StoreError> {
        const WHAT: &str = "forget every device of an organisation";
        let mut tx = self.pool().begin().await.map_err(self.fail(WHAT))?;
        let mut removed = 0;
        for user in users {
            for table in TABLES {
                let done = sqlx::query(&format!("DELETE FROM {table} WHERE username = $1"))
                    .bind(user)
                    .execute(&mut *tx)
                    .await
                    .map_err(self.fail(WHAT))?;
                removed += done.rows_affected();
            }
        }
        tx.commit().await.map_err(self.fail(WHAT))?;
        Ok(removed)
    }
}
