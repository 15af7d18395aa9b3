//! Sessions in Redis: they survive a gateway restart and are shared by
//! every replica that points at the same Redis.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use redis::AsyncCommands;

use super::cache::SessionCache;
use super::id::REDIS_PREFIX;
use super::{Session, SessionError, StoreKey};
use crate::redis_client::{RedisClient, RedisError};

/// Where deletions are announced to the other replicas.
const INVALIDATION_CHANNEL: &str = "gh:inv";
/// Keys asked for per SCAN step when looking for one user's sessions.
const SCAN_BATCH: usize = 1000;

pub struct RedisStore {
    client: Arc<RedisClient>,
    cache: Arc<SessionCache>,
    listening: AtomicBool,
}

impl RedisStore {
    pub fn new(client: Arc<RedisClient>, cache_ttl: Duration) -> Self {
        Self {
            client,
            cache: Arc::new(SessionCache::new(cache_ttl)),
            listening: AtomicBool::new(false),
        }
    }

    /// Starts the invalidation listener on first use, from inside the
    /// runtime that serves requests.
    fn listen_for_invalidations(&self) {
        if !self.cache.enabled() || self.listening.swap(true, Ordering::AcqRel) {
            return;
        }
        let client = self.client.clone();
        let cache = self.cache.clone();
        tokio::spawn(async move {
            loop {
                if let Err(e) = listen(&client, &cache).await {
                    tracing::warn!("session invalidation listener: {e}; retrying");
                }
                // Whatever is published from now on is missed: stop serving
                // copies, and drop them.
                cache.set_live(false);
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        });
    }

    pub async fn get(&self, key: &StoreKey) -> Result<Option<Session>, SessionError> {
        self.listen_for_invalidations();
        if let Some(session) = self.cache.get(key) {
            return Ok(Some(session));
        }
        let mut conn = self.client.connection().await?;
        let raw: Option<Vec<u8>> = conn
            .get(key.redis_key())
            .await
            .map_err(|e| self.client.error(e))?;
        match raw {
            None => Ok(None),
            Some(bytes) => {
                let session: Session = serde_json::from_slice(&bytes)?;
                self.cache.put(key, &session);
                Ok(Some(session))
            }
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
        self.cache.put(key, s);
        Ok(())
    }

    /// Deletes the session here and in Redis, and tells the other replicas.
    pub async fn remove(&self, key: &StoreKey) -> Result<(), RedisError> {
        self.cache.evict(key);
        let mut conn = self.client.connection().await?;
        let _: () = redis::pipe()
            .del(key.redis_key())
            .ignore()
            .publish(INVALIDATION_CHANNEL, &key.0[..])
            .ignore()
            .query_async(&mut conn)
            .await
            .map_err(|e| self.client.error(e))?;
        Ok(())
    }

    /// Deletes every session of `user` and tells the other replicas; returns
    /// how many there were.
    ///
    /// Sessions are keyed by a hash of their id alone, so this walks them
    /// all (SCAN, in batches). That is the price of admin resets, which are
    /// rare, in exchange for no per-user index: an index would cost bytes on
    /// every session and a write on every sign-in.
    pub async fn remove_user(&self, user: &str) -> Result<usize, SessionError> {
        let mut conn = self.client.connection().await?;
        let pattern = format!("{REDIS_PREFIX}*");
        let mut cursor: u64 = 0;
        let mut doomed: Vec<StoreKey> = Vec::new();
        loop {
            let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(SCAN_BATCH)
                .query_async(&mut conn)
                .await
                .map_err(|e| self.client.error(e))?;
            if !keys.is_empty() {
                let values: Vec<Option<Vec<u8>>> = redis::cmd("MGET")
                    .arg(&keys)
                    .query_async(&mut conn)
                    .await
                    .map_err(|e| self.client.error(e))?;
                for (key, value) in keys.iter().zip(values) {
                    // A record that fails to parse can't be anyone's live session.
                    let owned = value
                        .and_then(|v| serde_json::from_slice::<Session>(&v).ok())
                        .is_some_and(|s| s.user == user);
                    if owned {
                        doomed.extend(StoreKey::from_redis_key(key));
                    }
                }
            }
            if next == 0 {
                break;
            }
            cursor = next;
        }
        for key in &doomed {
            self.remove(key).await?;
        }
        Ok(doomed.len())
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

/// Evicts every session another replica announces as deleted, until the
/// subscription breaks.
async fn listen(client: &RedisClient, cache: &SessionCache) -> Result<(), RedisError> {
    let mut pubsub = client.pubsub().await?;
    pubsub
        .subscribe(INVALIDATION_CHANNEL)
        .await
        .map_err(|e| client.error(e))?;
    cache.set_live(true);
    let mut messages = pubsub.on_message();
    while let Some(message) = messages.next().await {
        if let Ok(key) = <[u8; 32]>::try_from(message.get_payload_bytes()) {
            cache.evict(&StoreKey(key));
        }
    }
    Ok(())
}
