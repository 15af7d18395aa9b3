//! Service tokens created in the admin console. The store keeps the SHA-256
//! of each token (hex), never the token: whoever reads the database can't
//! call an app with what they find.

use sqlx::any::AnyRow;
use sqlx::Row;

use super::{Store, StoreError};

/// A console-created service token, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedToken {
    /// Unique among console tokens; the upstream sees `service:<name>`.
    pub name: String,
    pub sha256: [u8; 32],
    /// The one app it may reach, by name; None for every app that takes
    /// console tokens.
    pub app: Option<String>,
    pub created_at: i64,
    /// The admin who created it.
    pub created_by: String,
    /// When it stops working (ms); None = never.
    pub expires_at: Option<i64>,
}

const WHAT_LIST: &str = "read service tokens";

impl IssuedToken {
    fn from_row(row: &AnyRow) -> Result<IssuedToken, StoreError> {
        let get = |e| StoreError::query(WHAT_LIST)(e);
        let name: String = row.try_get(0).map_err(get)?;
        let hex_hash: String = row.try_get(1).map_err(get)?;
        let sha256 = hex::decode(&hex_hash)
            .ok()
            .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
            .ok_or_else(|| StoreError::Corrupt {
                what: WHAT_LIST,
                detail: format!("the hash of token {name:?} is not 64 hex digits"),
            })?;
        Ok(IssuedToken {
            name,
            sha256,
            app: row.try_get(2).map_err(get)?,
            created_at: row.try_get(3).map_err(get)?,
            created_by: row.try_get(4).map_err(get)?,
            expires_at: row.try_get(5).map_err(get)?,
        })
    }
}

impl Store {
    /// Adds a token; false, and nothing written, if its name or hash is
    /// already taken.
    pub async fn token_insert(&self, token: &IssuedToken) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO service_tokens \
             (name, token_sha256, app, created_at, created_by, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
        )
        .bind(&token.name)
        .bind(hex::encode(token.sha256))
        .bind(&token.app)
        .bind(token.created_at)
        .bind(&token.created_by)
        .bind(token.expires_at)
        .execute(self.pool())
        .await
        .map_err(StoreError::query("create a service token"))?;
        Ok(done.rows_affected() == 1)
    }

    /// Every console token, by name, expired ones included (the console
    /// shows them until an admin removes them).
    pub async fn tokens_list(&self) -> Result<Vec<IssuedToken>, StoreError> {
        sqlx::query(
            "SELECT name, token_sha256, app, created_at, created_by, expires_at \
             FROM service_tokens ORDER BY name",
        )
        .fetch_all(self.pool())
        .await
        .map_err(StoreError::query(WHAT_LIST))?
        .iter()
        .map(IssuedToken::from_row)
        .collect()
    }

    /// Removes a token; false if there was none by that name.
    pub async fn token_delete(&self, name: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM service_tokens WHERE name = $1")
            .bind(name)
            .execute(self.pool())
            .await
            .map_err(StoreError::query("revoke a service token"))?;
        Ok(done.rows_affected() == 1)
    }
}
