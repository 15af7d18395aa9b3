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
    /// The token this one replaced, while it still works.
    pub previous: Option<PreviousToken>,
}

/// A replaced token, kept working for a while so its integration can move
/// over to the new one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PreviousToken {
    pub sha256: [u8; 32],
    /// When it stops working (ms).
    pub until: i64,
}

const WHAT_LIST: &str = "read service tokens";

impl IssuedToken {
    fn from_row(row: &AnyRow) -> Result<IssuedToken, StoreError> {
        let get = |e| StoreError::query(WHAT_LIST)(e);
        let name: String = row.try_get(0).map_err(get)?;
        let hash = |hex_hash: &str, which: &str| {
            hex::decode(hex_hash)
                .ok()
                .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
                .ok_or_else(|| StoreError::Corrupt {
                    what: WHAT_LIST,
                    detail: format!("the {which} hash of token {name:?} is not 64 hex digits"),
                })
        };
        let sha256 = hash(&row.try_get::<String, _>(1).map_err(get)?, "current")?;
        let previous_sha256: Option<String> = row.try_get(6).map_err(get)?;
        let previous_until: Option<i64> = row.try_get(7).map_err(get)?;
        let previous = match (previous_sha256, previous_until) {
            (Some(hex_hash), Some(until)) => Some(PreviousToken {
                sha256: hash(&hex_hash, "replaced")?,
                until,
            }),
            _ => None,
        };
        Ok(IssuedToken {
            app: row.try_get(2).map_err(get)?,
            created_at: row.try_get(3).map_err(get)?,
            created_by: row.try_get(4).map_err(get)?,
            expires_at: row.try_get(5).map_err(get)?,
            name,
            sha256,
            previous,
        })
    }
}

/// A new secret for an existing console token.
#[derive(Debug, Clone, Copy)]
pub struct Replacement<'a> {
    pub name: &'a str,
    pub sha256: [u8; 32],
    /// The admin, shown as the creator from now on.
    pub by: &'a str,
    pub now_ms: i64,
    /// Until when the replaced secret keeps working (ms); None ends it now.
    /// Never later than its own expiry.
    pub previous_until: Option<i64>,
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
        .map_err(self.fail("create a service token"))?;
        Ok(done.rows_affected() == 1)
    }

    /// Every console token, by name, expired ones included (the console
    /// shows them until an admin removes them).
    pub async fn tokens_list(&self) -> Result<Vec<IssuedToken>, StoreError> {
        sqlx::query(
            "SELECT name, token_sha256, app, created_at, created_by, expires_at, \
             previous_sha256, previous_until FROM service_tokens ORDER BY name",
        )
        .fetch_all(self.pool())
        .await
        .map_err(self.fail(WHAT_LIST))?
        .iter()
        .map(IssuedToken::from_row)
        .collect()
    }

    /// Gives token `name` a new secret, keeping its name, app and lifetime:
    /// it expires as long after `now_ms` as it did after it was created.
    /// The old secret becomes the previous one until `previous_until` (an
    /// older previous one ends). The row is the record of when the current
    /// secret was made, and by whom. False if there is no token by that name.
    pub async fn token_replace(&self, r: &Replacement<'_>) -> Result<bool, StoreError> {
        // Every SET reads the row as it was before the update, on both
        // backends: token_sha256 on the right is the old secret.
        let mut sql = String::from(
            "UPDATE service_tokens SET token_sha256 = $1, \
             expires_at = CASE WHEN expires_at IS NULL THEN NULL \
             ELSE $2 + (expires_at - created_at) END, \
             created_at = $3, created_by = $4, ",
        );
        sql += match r.previous_until {
            Some(_) => {
                "previous_sha256 = token_sha256, previous_until = \
                 CASE WHEN expires_at IS NOT NULL AND expires_at < $6 THEN expires_at ELSE $7 END"
            }
            None => "previous_sha256 = NULL, previous_until = NULL",
        };
        sql += " WHERE name = $5";
        let mut query = sqlx::query(&sql)
            .bind(hex::encode(r.sha256))
            .bind(r.now_ms)
            .bind(r.now_ms)
            .bind(r.by)
            .bind(r.name);
        if let Some(until) = r.previous_until {
            query = query.bind(until).bind(until);
        }
        let done = query
            .execute(self.pool())
            .await
            .map_err(self.fail("replace a service token"))?;
        Ok(done.rows_affected() == 1)
    }

    /// Ends the secret token `name` replaced, now. False if it had none.
    pub async fn token_end_previous(&self, name: &str) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE service_tokens SET previous_sha256 = NULL, previous_until = NULL \
             WHERE name = $1 AND previous_sha256 IS NOT NULL",
        )
        .bind(name)
        .execute(self.pool())
        .await
        .map_err(self.fail("end a replaced service token"))?;
        Ok(done.rows_affected() == 1)
    }

    /// Removes a token; false if there was none by that name.
    pub async fn token_delete(&self, name: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM service_tokens WHERE name = $1")
            .bind(name)
            .execute(self.pool())
            .await
            .map_err(self.fail("revoke a service token"))?;
        Ok(done.rows_affected() == 1)
    }
}
