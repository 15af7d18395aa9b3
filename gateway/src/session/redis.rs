//! Sessions in Redis: they survive a gateway restart and are shared by
//! every replica that points at the same Redis.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock};
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
/// Where a user's session generation lives: only users whose sessions were
/// ever all ended have one, so it costs nothing per session.
const GENERATION_PREFIX: &str = "gh:gen:";

/// Saving a session checks the generation and the session it replaces in
/// the same step as the write, so nothing can come between them.
static SAVE: LazyLock<redis::Script> =
    LazyLock::new(|| redis::Script::new(include_str!("save.lua")));

fn generation_key(user: &str) -> String {
    format!("{GENERATION_PREFIX}{user}")
}

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

    /// The user's session generation (see [`Session::generation`]).
    pub async fn generation(&self, user: &str) -> Result<u64, SessionError> {
        let mut conn = self.client.connection().await?;
        let generation: Option<u64> = conn
            .get(generation_key(user))
            .await
            .map_err(|e| self.client.error(e))?;
        Ok(generation.unwrap_or(0))
    }

    /// Refuses every sign-in or step-up of `user` under way; sessions stay.
    pub async fn advance_generation(&self, user: &str) -> Result<(), SessionError> {
        let mut conn = self.client.connection().await?;
        let _: u64 = conn
            .incr(generation_key(user), 1)
            .await
            .map_err(|e| self.client.error(e))?;
        Ok(())
    }

    /// Saves a new session with a TTL, so Redis forgets it by itself too,
    /// replacing `replacing` if given. Refused (false) when the user's
    /// sessions were ended since the session's sign-in began, or when the
    /// session it replaces is gone.
    pub async fn insert(
        &self,
        key: &StoreKey,
        s: &Session,
        ttl: Duration,
        replacing: Option<&StoreKey>,
    ) -> Result<bool, SessionError> {
        let bytes = serde_json::to_vec(s)?;
        let mut invocation = SAVE.prepare_invoke();
        invocation
            .key(generation_key(&s.user))
            .key(key.redis_key())
            .arg(s.generation)
            .arg(bytes)
            .arg(ttl_ms(ttl))
            .arg(INVALIDATION_CHANNEL);
        if let Some(old) = replacing {
            self.cache.evict(old);
            invocation.key(old.redis_key()).arg(&old.0[..]);
        }
        let mut conn = self.client.connection().await?;
        let saved: bool = invocation
            .invoke_async(&mut conn)
            .await
            .map_err(|e| self.client.error(e))?;
        if saved {
            self.cache.put(key, s);
        }
        Ok(saved)
    }

    /// Writes back a session's use. Only an existing record is overwritten
    /// (SET XX): a request in flight must not bring back a session that was
    /// signed out meanwhile. Refused (false) when it is gone.
    pub async fn touch(
        &self,
        key: &StoreKey,
        s: &Session,
        ttl: Duration,
    ) -> Result<bool, SessionError> {
        let bytes = serde_json::to_vec(s)?;
        let mut conn = self.client.connection().await?;
        let written: Option<String> = redis::cmd("SET")
            .arg(key.redis_key())
            .arg(bytes)
            .arg("PX")
            .arg(ttl_ms(ttl))
            .arg("XX")
            .query_async(&mut conn)
            .await
            .map_err(|e| self.client.error(e))?;
        if written.is_some() {
            self.cache.put(key, s);
        } else {
            self.cache.evict(key);
        }
        Ok(written.is_some())
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

    /// Deletes every session of `user`, and every sign-in of theirs under
    /// way, and tells the other replicas; returns how many sessions there were.
    ///
    /// The generation moves on first, so a session saved from then on by a
    /// sign-in or step-up that began before is refused, and every session
    /// saved before is in Redis for the whole walk below.
    ///
    /// Sessions are keyed by a hash of their id alone, so this walks them
    /// all (SCAN, in batches). That is the price of admin resets, which are
    /// rare, in exchange for no per-user index: an index would cost bytes on
    /// every session and a write on every sign-in.
    pub async fn remove_user(&self, user: &str) -> Result<usize, SessionError> {
        self.advance_generation(user).await?;
        let mut conn = self.client.connection().await?;
        let pattern = format!("{REDIS_PREFIX}*");
        let mut cursor: u64 = 0;
        let mut ended = 0;
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
                let mut doomed = redis::pipe();
                let before = ended;
                for (raw, value) in keys.iter().zip(values) {
                    // A record that fails to parse can't be anyone's live session.
                    let owned = value
                        .and_then(|v| serde_json::from_slice::<Session>(&v).ok())
                        .is_some_and(|s| s.user == user);
                    if let Some(key) = StoreKey::from_redis_key(raw).filter(|_| owned) {
                        self.cache.evict(&key);
                        doomed
                            .del(raw)
                            .ignore()
                            .publish(INVALIDATION_CHANNEL, &key.0[..])
                            .ignore();
                        ended += 1;
                    }
                }
                if ended > before {
                    let _: () = doomed
                        .query_async(&mut conn)
                        .await
                        .map_err(|e| self.client.error(e))?;
                }
            }
            if next == 0 {
                break;
            }
            cursor = next;
        }
        Ok(ended)
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

fn ttl_ms(ttl: Duration) -> u64 {
    ttl.as_millis().max(1) as u64
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
