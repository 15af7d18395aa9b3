//! Sessions in Redis: they survive a gateway restart and are shared by
//! every replica that points at the same Redis.

use std::sync::Arc;
use std::time::Duration;

use redis::AsyncCommands;

use super::{Session, SessionError, StoreKey};
use crate::redis_client::{RedisClient, RedisError};

pub struct RedisStore {
    client: Arc<RedisClient>,
}

impl RedisStore {
    pub fn new(client: Arc<RedisClient>) -> Self {
        Self { client }
    }

    pub async fn get(&self, key: &StoreKey) -> Result<Option<Session>, SessionError> {
        let mut conn = self.client.connection().await?;
        let raw: Option<Vec<u8>> = conn
            .get(key.redis_key())
            .await
            .map_err(|e| self.client.error(e))?;
        match raw {
            None => Ok(None),
            Some(bytes) => Ok(Some(serde_json::from_slice(&bytes)?)),
        }
    }

    /// Writes the session with a TTL, so Redis forgets it by itself too.
    pub async fn put(
        &self,
        key: &StoreKey,
        s: &Session,
        ttl: Duration,
    ) -> Result<(), SessionError> {
        let bytes = serde_json::to_vec(s)?;
        let ms = ttl.as_millis().max(1) as u64;
        let mut conn = self.client.connection().await?;
        let _: () = conn
            .pset_ex(key.redis_key(), bytes, ms)
            .await
            .map_err(|e| self.client.error(e))?;
        Ok(())
    }

    pub async fn remove(&self, key: &StoreKey) -> Result<(), RedisError> {
        let mut conn = self.client.connection().await?;
        let _: () = conn
            .del(key.redis_key())
            .await
            .map_err(|e| self.client.error(e))?;
        Ok(())
    }

    pub async fn ping(&self) -> Result<(), RedisError> {
        let mut conn = self.client.connection().await?;
        let _: String = redis::cmd("PING")
            .query_async(&mut conn)
            .await
            .map_err(|e| self.client.error(e))?;
        Ok(())
    }
}
