//! One sign-in across unrelated hosts: a handoff carries a session from the
//! sign-in portal's host to an app's host.
//!
//! Cookies can't cross domains, so after signing in on the portal the
//! browser is sent back to the app host's `/.gatehouse/sso` with a code.
//! The code names the session and the state the app host gave that
//! browser when it sent it to sign in, so a code lured into another
//! browser is refused there. It works once (taken atomically, so a replay
//! finds nothing), and only for [`LIFETIME`]. The app host then sets its
//! own host-only cookie for the same session, so signing out anywhere ends
//! it everywhere. Codes are kept under their SHA-256, as session ids are.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use super::{now_ms, SessionError, SessionId, StoreKey};
use crate::redis_client::RedisClient;

/// How long a handoff code may wait to be used.
pub const LIFETIME: Duration = Duration::from_secs(60);

const REDIS_PREFIX: &str = "gh:handoff:";

/// What a code hands over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handoff {
    pub session: SessionId,
    /// The app host's state for the browser that set out to sign in.
    pub state: String,
}

impl Handoff {
    fn encode(&self) -> String {
        format!("{} {}", self.session.as_str(), self.state)
    }

    fn decode(text: &str) -> Option<Handoff> {
        let (session, state) = text.split_once(' ')?;
        Some(Handoff {
            session: SessionId::parse(session)?,
            state: state.to_owned(),
        })
    }
}

pub enum Handoffs {
    /// Code key → (handoff, expiry in ms).
    Memory(Mutex<HashMap<StoreKey, (Handoff, u64)>>),
    Redis(Arc<RedisClient>),
}

impl Handoffs {
    pub fn memory() -> Self {
        Handoffs::Memory(Mutex::new(HashMap::new()))
    }

    /// A new single-use code for `handoff`.
    pub async fn issue(&self, handoff: &Handoff) -> Result<SessionId, SessionError> {
        let code = SessionId::generate();
        let key = code.store_key();
        match self {
            Handoffs::Memory(map) => {
                let now = now_ms();
                let mut map = map.lock().unwrap_or_else(|p| p.into_inner());
                // Unused codes are dropped as new ones come, so the map
                // holds at most a minute's worth.
                map.retain(|_, (_, expires)| *expires > now);
                let expires = now + LIFETIME.as_millis() as u64;
                map.insert(key, (handoff.clone(), expires));
            }
            Handoffs::Redis(client) => {
                let mut conn = client.connection().await?;
                redis::cmd("SET")
                    .arg(redis_key(&key))
                    .arg(handoff.encode())
                    .arg("EX")
                    .arg(LIFETIME.as_secs())
                    .query_async::<()>(&mut conn)
                    .await
                    .map_err(|e| client.error(e))?;
            }
        }
        Ok(code)
    }

    /// What a code was issued for, taking the code: a second use, or one
    /// after [`LIFETIME`], finds nothing.
    pub async fn redeem(&self, code: &str) -> Result<Option<Handoff>, SessionError> {
        let Some(code) = SessionId::parse(code) else {
            return Ok(None);
        };
        let key = code.store_key();
        match self {
            Handoffs::Memory(map) => {
                let mut map = map.lock().unwrap_or_else(|p| p.into_inner());
                Ok(map
                    .remove(&key)
                    .filter(|(_, expires)| *expires > now_ms())
                    .map(|(handoff, _)| handoff))
            }
            Handoffs::Redis(client) => {
                let mut conn = client.connection().await?;
                let found: Option<String> = redis::cmd("GETDEL")
                    .arg(redis_key(&key))
                    .query_async(&mut conn)
                    .await
                    .map_err(|e| client.error(e))?;
                Ok(found.as_deref().and_then(Handoff::decode))
            }
        }
    }
}

fn redis_key(key: &StoreKey) -> String {
    format!("{REDIS_PREFIX}{}", URL_SAFE_NO_PAD.encode(key.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn handoff() -> Handoff {
        Handoff {
            session: SessionId::generate(),
            state: "state-1".into(),
        }
    }

    #[test]
    fn a_handoff_reads_back_as_written() {
        let h = handoff();
        assert_eq!(Handoff::decode(&h.encode()), Some(h));
        assert_eq!(Handoff::decode("no-space"), None);
    }

    #[tokio::test]
    async fn a_code_works_once_for_its_session() {
        let handoffs = Handoffs::memory();
        let session = handoff();
        let code = handoffs.issue(&session).await.expect("issue");
        let found = handoffs.redeem(code.as_str()).await.expect("redeem");
        assert_eq!(found, Some(session));
        assert_eq!(handoffs.redeem(code.as_str()).await.expect("again"), None);
    }

    #[tokio::test]
    async fn an_expired_or_unknown_or_malformed_code_finds_nothing() {
        let handoffs = Handoffs::memory();
        let code = handoffs.issue(&handoff()).await.expect("issue");
        if let Handoffs::Memory(map) = &handoffs {
            for (_, expires) in map.lock().expect("lock").values_mut() {
                *expires = now_ms() - 1;
            }
        }
        assert_eq!(handoffs.redeem(code.as_str()).await.expect("expired"), None);
        let unknown = SessionId::generate();
        assert_eq!(
            handoffs.redeem(unknown.as_str()).await.expect("unknown"),
            None
        );
        assert_eq!(
            handoffs.redeem("not a code").await.expect("malformed"),
            None
        );
    }
}
