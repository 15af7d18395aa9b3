//! Sessions: what a signed-in browser has proven, and where that is kept.
//!
//! A session is server-side state keyed by a random id that only the
//! browser's cookie holds. The store keys it by a hash of the id, so a leaked
//! store dump does not hand out live cookies.

mod cache;
pub mod handoff;
mod id;
mod memory;
mod redis;

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

pub use id::{SessionId, StoreKey};
pub use memory::MemoryStore;
pub use redis::RedisStore;

use crate::redis_client::RedisError;

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// What a session knows. Field names are short because every byte is stored
/// once per signed-in browser.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// The username.
    #[serde(rename = "u")]
    pub user: String,
    /// When the session was created (ms); the absolute lifetime counts from here.
    #[serde(rename = "c")]
    pub created_ms: u64,
    /// When the session was last used (ms); the idle timeout counts from here.
    #[serde(rename = "l")]
    pub last_seen_ms: u64,
    /// When the password step was done (ms).
    #[serde(rename = "p")]
    pub password_at_ms: u64,
    /// When the second factor was done (ms), if it was.
    #[serde(rename = "m", default, skip_serializing_if = "Option::is_none")]
    pub mfa_at_ms: Option<u64>,
    /// How that second factor was proven: sensitive actions ask, since a
    /// remembered browser or a recovery code is not a fresh proof.
    #[serde(rename = "k", default, skip_serializing_if = "Proof::is_code")]
    pub proof: Proof,
    /// What the user still owes before reaching any app.
    #[serde(rename = "o", default, skip_serializing_if = "Owed::is_nothing")]
    pub owed: Owed,
    /// The user's session generation when the sign-in began. Ending every
    /// session of a user (an admin reset, "sign out everywhere") moves it
    /// on, so a sign-in or step-up already under way can't save a session
    /// afterwards. Nearly always 0, and then not stored.
    #[serde(rename = "g", default, skip_serializing_if = "is_zero")]
    pub generation: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// A second step the session must complete before it counts as signed in.
///
/// An enrolled user who stops after the password must not get in on the
/// password alone, or opting in to MFA would protect nothing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Owed {
    #[default]
    #[serde(rename = "")]
    Nothing,
    /// A code from the enrolled authenticator (or a recovery code).
    #[serde(rename = "c")]
    Challenge,
    /// Enrollment, because the organisation requires MFA.
    #[serde(rename = "e")]
    Enrollment,
}

/// How a session's second step was proven.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Proof {
    /// A code from the authenticator app, or one sent by email or SMS.
    #[default]
    #[serde(rename = "")]
    Code,
    /// A recovery code: enough to replace a lost authenticator, not to
    /// change anything else.
    #[serde(rename = "r")]
    Recovery,
    /// A remembered browser's cookie, with no code typed.
    #[serde(rename = "d")]
    Device,
}

impl Proof {
    pub fn is_code(&self) -> bool {
        *self == Proof::Code
    }

    /// The name the audit log gives it.
    pub fn as_str(self) -> &'static str {
        match self {
            Proof::Code => "code",
            Proof::Recovery => "recovery_code",
            Proof::Device => "remembered_device",
        }
    }
}

impl Owed {
    pub fn is_nothing(&self) -> bool {
        *self == Owed::Nothing
    }
}

impl Session {
    /// A session for a user who has just given the right password, in a
    /// sign-in that began at the user's session `generation`.
    pub fn after_password(user: &str, now_ms: u64, generation: u64) -> Self {
        Self {
            user: user.to_owned(),
            created_ms: now_ms,
            last_seen_ms: now_ms,
            password_at_ms: now_ms,
            mfa_at_ms: None,
            proof: Proof::Code,
            owed: Owed::Nothing,
            generation,
        }
    }

    /// The same sign-in with the second factor done now, by a code.
    pub fn with_mfa(&self, now_ms: u64) -> Self {
        self.with_proof(now_ms, Proof::Code)
    }

    /// The same sign-in with the second factor done now, by `proof`.
    pub fn with_proof(&self, now_ms: u64, proof: Proof) -> Self {
        Self {
            mfa_at_ms: Some(now_ms),
            proof,
            owed: Owed::Nothing,
            last_seen_ms: now_ms,
            ..self.clone()
        }
    }

    pub fn mfa_done(&self) -> bool {
        self.mfa_at_ms.is_some()
    }
}

/// The two clocks that end a session.
#[derive(Debug, Clone, Copy)]
pub struct Expiry {
    pub lifetime: Duration,
    pub idle_timeout: Duration,
}

impl Expiry {
    /// Whether `s` is still alive at `now_ms`.
    pub fn is_alive(&self, s: &Session, now_ms: u64) -> bool {
        now_ms
            < s.created_ms
                .saturating_add(self.lifetime.as_millis() as u64)
            && now_ms
                < s.last_seen_ms
                    .saturating_add(self.idle_timeout.as_millis() as u64)
    }

    /// How long the store should keep `s` from `now_ms` if nothing touches it.
    pub fn remaining(&self, s: &Session, now_ms: u64) -> Duration {
        let absolute = s
            .created_ms
            .saturating_add(self.lifetime.as_millis() as u64);
        let idle = now_ms.saturating_add(self.idle_timeout.as_millis() as u64);
        Duration::from_millis(absolute.min(idle).saturating_sub(now_ms))
    }

    /// How stale `last_seen` may get before a use is written back. Writing on
    /// every request would double the store's traffic; a small fraction of
    /// the idle timeout keeps the idle clock honest within that fraction.
    pub fn touch_interval(&self) -> Duration {
        (self.idle_timeout / 20).clamp(Duration::from_millis(100), Duration::from_secs(60))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("session store unavailable: {0}")]
    Unavailable(#[from] RedisError),
    #[error("session record is corrupt: {0}")]
    Corrupt(#[from] serde_json::Error),
    /// The session this step would save or replace was ended meanwhile: by
    /// a sign-out, or by ending every session of the user.
    #[error("the session was ended while this step was under way")]
    Ended,
}

/// Where sessions live: in this process, or in Redis for restarts and
/// several replicas.
#[derive(Clone)]
pub enum SessionStore {
    Memory(Arc<MemoryStore>),
    Redis(Arc<RedisStore>),
}

impl SessionStore {
    /// The user's session generation, to read when a sign-in begins (see
    /// [`Session::generation`]).
    pub async fn generation(&self, user: &str) -> Result<u64, SessionError> {
        match self {
            SessionStore::Memory(m) => Ok(m.generation(user)),
            SessionStore::Redis(r) => r.generation(user).await,
        }
    }

    /// Creates a session and returns its new id. Fails with
    /// [`SessionError::Ended`] when the user's sessions were all ended since
    /// its sign-in began.
    pub async fn create(
        &self,
        session: &Session,
        expiry: Expiry,
    ) -> Result<SessionId, SessionError> {
        self.save(session, expiry, None).await
    }

    /// Looks up a live session, refreshing its idle clock when due. An
    /// expired session is deleted and reported as absent.
    pub async fn get(
        &self,
        id: &SessionId,
        expiry: Expiry,
    ) -> Result<Option<Session>, SessionError> {
        let key = id.store_key();
        let now = now_ms();
        let found = match self {
            SessionStore::Memory(m) => m.get(&key),
            SessionStore::Redis(r) => r.get(&key).await?,
        };
        let Some(mut session) = found else {
            return Ok(None);
        };
        if !expiry.is_alive(&session, now) {
            self.delete_key(&key).await?;
            return Ok(None);
        }
        if now.saturating_sub(session.last_seen_ms) >= expiry.touch_interval().as_millis() as u64 {
            session.last_seen_ms = now;
            let ttl = expiry.remaining(&session, now);
            let still_there = match self {
                SessionStore::Memory(m) => m.touch(&key, session.clone()),
                SessionStore::Redis(r) => r.touch(&key, &session, ttl).await?,
            };
            if !still_there {
                return Ok(None);
            }
        }
        Ok(Some(session))
    }

    /// Replaces a session with a new id holding `next`: the id changes at
    /// every step up, so an id seen before the step is worthless after it.
    /// Fails with [`SessionError::Ended`] when `old` is gone, or when the
    /// user's sessions were all ended since the sign-in began.
    pub async fn rotate(
        &self,
        old: &SessionId,
        next: &Session,
        expiry: Expiry,
    ) -> Result<SessionId, SessionError> {
        self.save(next, expiry, Some(&old.store_key())).await
    }

    async fn save(
        &self,
        session: &Session,
        expiry: Expiry,
        replacing: Option<&StoreKey>,
    ) -> Result<SessionId, SessionError> {
        let id = SessionId::generate();
        let key = id.store_key();
        let saved = match self {
            SessionStore::Memory(m) => m.insert(key, session.clone(), replacing),
            SessionStore::Redis(r) => {
                let ttl = expiry.remaining(session, now_ms());
                r.insert(&key, session, ttl, replacing).await?
            }
        };
        if saved {
            Ok(id)
        } else {
            Err(SessionError::Ended)
        }
    }

    /// Deletes a session; deleting an absent one is not an error.
    pub async fn delete(&self, id: &SessionId) -> Result<(), SessionError> {
        self.delete_key(&id.store_key()).await
    }

    async fn delete_key(&self, key: &StoreKey) -> Result<(), SessionError> {
        match self {
            SessionStore::Memory(m) => m.remove(key),
            SessionStore::Redis(r) => r.remove(key).await?,
        }
        Ok(())
    }

    /// Refuses every sign-in or step-up of `user` already under way, and
    /// leaves their sessions be. A reset calls it before it removes the
    /// factors, so an enrollment whose write lands after the removal finds
    /// its step-up refused, and takes the factor back (`portal::enroll`).
    pub async fn refuse_under_way(&self, user: &str) -> Result<(), SessionError> {
        match self {
            SessionStore::Memory(m) => {
                m.advance_generation(user);
                Ok(())
            }
            SessionStore::Redis(r) => r.advance_generation(user).await,
        }
    }

    /// Deletes every session of `user`, on every replica, and refuses every
    /// sign-in or step-up of theirs already under way: an admin reset, or
    /// "sign out everywhere". Returns how many sessions there were.
    pub async fn delete_user(&self, user: &str) -> Result<usize, SessionError> {
        match self {
            SessionStore::Memory(m) => Ok(m.remove_user(user)),
            SessionStore::Redis(r) => r.remove_user(user).await,
        }
    }

    /// Whether the store answers; for the health check.
    pub async fn ping(&self) -> Result<(), SessionError> {
        match self {
            SessionStore::Memory(_) => Ok(()),
            SessionStore::Redis(r) => Ok(r.ping().await?),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expiry(lifetime_s: u64, idle_s: u64) -> Expiry {
        Expiry {
            lifetime: Duration::from_secs(lifetime_s),
            idle_timeout: Duration::from_secs(idle_s),
        }
    }

    #[test]
    fn idle_and_absolute_expiry_both_end_a_session() {
        let e = expiry(100, 10);
        let mut s = Session::after_password("alice", 0, 0);
        assert!(e.is_alive(&s, 9_999));
        assert!(!e.is_alive(&s, 10_000), "idle timeout");
        s.last_seen_ms = 99_000;
        assert!(e.is_alive(&s, 99_999));
        assert!(
            !e.is_alive(&s, 100_000),
            "absolute lifetime despite activity"
        );
    }

    #[test]
    fn store_ttl_never_outlives_the_absolute_lifetime() {
        let e = expiry(100, 10);
        let s = Session::after_password("alice", 0, 0);
        assert_eq!(e.remaining(&s, 0), Duration::from_secs(10));
        assert_eq!(e.remaining(&s, 95_000), Duration::from_secs(5));
    }

    #[test]
    fn a_serialised_session_is_small() {
        let mut s = Session::after_password("alice", now_ms(), 0);
        s.mfa_at_ms = Some(now_ms());
        let bytes = serde_json::to_vec(&s).unwrap();
        assert!(bytes.len() < 100, "{} bytes", bytes.len());
    }

    #[test]
    fn a_generation_is_stored_only_once_sessions_were_ended() {
        let s = Session::after_password("alice", 1, 0);
        let bytes = serde_json::to_string(&s).unwrap();
        assert!(!bytes.contains("\"g\""), "{bytes}");
        let later = Session::after_password("alice", 1, 3);
        let bytes = serde_json::to_vec(&later).unwrap();
        let back: Session = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(back.generation, 3);
        assert_eq!(back.with_mfa(2).generation, 3, "a step-up keeps it");
    }

    #[tokio::test]
    async fn deleting_a_users_sessions_leaves_everyone_elses() {
        let store = SessionStore::Memory(Arc::new(MemoryStore::new()));
        let e = expiry(60, 60);
        let mut ids = Vec::new();
        for user in ["alice", "bob", "alice"] {
            let s = Session::after_password(user, now_ms(), 0);
            ids.push(store.create(&s, e).await.unwrap());
        }
        assert_eq!(store.delete_user("alice").await.unwrap(), 2);
        assert!(store.get(&ids[0], e).await.unwrap().is_none());
        assert!(store.get(&ids[2], e).await.unwrap().is_none());
        assert_eq!(store.get(&ids[1], e).await.unwrap().unwrap().user, "bob");
        assert_eq!(store.delete_user("alice").await.unwrap(), 0);
    }

    #[tokio::test]
    async fn memory_store_round_trips_and_deletes() {
        let store = SessionStore::Memory(Arc::new(MemoryStore::new()));
        let e = expiry(60, 60);
        let id = store
            .create(&Session::after_password("bob", now_ms(), 0), e)
            .await
            .unwrap();
        assert_eq!(store.get(&id, e).await.unwrap().unwrap().user, "bob");
        store.delete(&id).await.unwrap();
        assert!(store.get(&id, e).await.unwrap().is_none());
    }
}
