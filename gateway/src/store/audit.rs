//! The audit log: one row per security event. Callers must never put a
//! secret, code or token in any field.

use sqlx::any::AnyRow;
use sqlx::Row;

use super::{Store, StoreError};

/// One security event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// When it happened (unix ms).
    pub at_ms: i64,
    /// Who it concerns, when known.
    pub username: Option<String>,
    /// The client IP, when known.
    pub ip: Option<String>,
    /// What happened, e.g. `mfa_enrolled`, `mfa_challenge`.
    pub event: String,
    /// How it ended, e.g. `ok`, `failed`, `replay`.
    pub outcome: String,
    /// Free text for people; never a secret.
    pub detail: Option<String>,
}

impl AuditEntry {
    fn from_row(row: &AnyRow) -> Result<AuditEntry, sqlx::Error> {
        Ok(AuditEntry {
            at_ms: row.try_get(0)?,
            username: row.try_get(1)?,
            ip: row.try_get(2)?,
            event: row.try_get(3)?,
            outcome: row.try_get(4)?,
            detail: row.try_get(5)?,
        })
    }
}

impl Store {
    /// Appends an entry to the audit log.
    pub async fn audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO audit_log (at_ms, username, ip, event, outcome, detail) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(entry.at_ms)
        .bind(entry.username.as_deref())
        .bind(entry.ip.as_deref())
        .bind(&entry.event)
        .bind(&entry.outcome)
        .bind(entry.detail.as_deref())
        .execute(self.pool())
        .await
        .map_err(StoreError::query("write the audit log"))?;
        Ok(())
    }

    /// The latest `limit` entries, for one user or for everyone, newest first
    /// (entries written in the same millisecond: last written first).
    pub async fn audit_recent(
        &self,
        user: Option<&str>,
        limit: i64,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        const WHAT: &str = "read the audit log";
        let rows = match user {
            Some(user) => {
                sqlx::query(
                    "SELECT at_ms, username, ip, event, outcome, detail FROM audit_log \
                     WHERE username = $1 ORDER BY at_ms DESC, id DESC LIMIT $2",
                )
                .bind(user)
                .bind(limit)
                .fetch_all(self.pool())
                .await
            }
            None => {
                sqlx::query(
                    "SELECT at_ms, username, ip, event, outcome, detail FROM audit_log \
                     ORDER BY at_ms DESC, id DESC LIMIT $1",
                )
                .bind(limit)
                .fetch_all(self.pool())
                .await
            }
        }
        .map_err(StoreError::query(WHAT))?;
        rows.iter()
            .map(AuditEntry::from_row)
            .collect::<Result<_, _>>()
            .map_err(StoreError::query(WHAT))
    }

    /// When `user` last had an `event` (ms), if ever. The (username, at_ms)
    /// index finds it without reading the whole log.
    pub async fn audit_last(&self, user: &str, event: &str) -> Result<Option<i64>, StoreError> {
        sqlx::query_scalar(
            "SELECT at_ms FROM audit_log WHERE username = $1 AND event = $2 \
             ORDER BY at_ms DESC LIMIT 1",
        )
        .bind(user)
        .bind(event)
        .fetch_optional(self.pool())
        .await
        .map_err(StoreError::query("read the audit log"))
    }
}
