//! Failed-attempt limits: lockouts per user and per client IP.
//!
//! A fixed window per key: failures count up, and the window starts at the
//! first failure. The per-user counter is keyed by the name *as typed*, so a
//! known and an unknown username lock out identically and a lockout says
//! nothing about whether an account exists.

mod memory;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use redis::AsyncCommands;

pub use memory::MemoryCounters;

use crate::config::LimitSettings;
use crate::redis_client::{RedisClient, RedisError};

/// Which kind of attempt failed; each has its own counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Attempt {
    Password,
    /// A code from an authenticator app.
    Totp,
    /// A recovery code.
    Recovery,
    /// A code sent by email or text message, while enrolling that channel.
    OneTimeCode,
    /// Not a failure: each code sent counts, so that nobody can flood a
    /// user's inbox or phone (or the SMS bill) through the gateway.
    CodeSent,
}

impl Attempt {
    fn tag(self) -> &'static str {
        match self {
            Attempt::Password => "pw",
            Attempt::Totp => "totp",
            Attempt::Recovery => "rc",
            Attempt::OneTimeCode => "otc",
            Attempt::CodeSent => "sent",
        }
    }
}

#[derive(Clone)]
enum Counters {
    Memory(Arc<MemoryCounters>),
    Redis(Arc<RedisClient>),
}

/// Counts failures and says when a user or an IP is locked out.
#[derive(Clone)]
pub struct Limiter {
    counters: Counters,
    settings: LimitSettings,
}

/// The verdict before an attempt is even checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Allowed,
    /// Locked out; try again after this long.
    Locked(Duration),
}

impl Limiter {
    pub fn memory(settings: LimitSettings) -> Self {
        Self {
            counters: Counters::Memory(Arc::new(MemoryCounters::new())),
            settings,
        }
    }

    pub fn redis(client: Arc<RedisClient>, settings: LimitSettings) -> Self {
        Self {
            counters: Counters::Redis(client),
            settings,
        }
    }

    fn keys(kind: Attempt, user: &str, ip: IpAddr) -> [String; 2] {
        let user = user.trim().to_lowercase();
        [
            format!("gh:l:{}:u:{user}", kind.tag()),
            format!("gh:l:{}:ip:{ip}", kind.tag()),
        ]
    }

    /// Whether another attempt for `user` from `ip` may be checked now.
    pub async fn check(
        &self,
        kind: Attempt,
        user: &str,
        ip: IpAddr,
    ) -> Result<Verdict, RedisError> {
        let [user_key, ip_key] = Self::keys(kind, user, ip);
        let limits = [
            (user_key, self.settings.max_failures_per_user),
            (ip_key, self.settings.max_failures_per_ip),
        ];
        let mut wait = Duration::ZERO;
        for (key, max) in &limits {
            let (count, ttl) = self.read(key).await?;
            if count >= u64::from(*max) {
                wait = wait.max(ttl);
            }
        }
        Ok(if wait.is_zero() {
            Verdict::Allowed
        } else {
            Verdict::Locked(wait)
        })
    }

    /// Counts a failed attempt against both the user and the IP.
    pub async fn record_failure(
        &self,
        kind: Attempt,
        user: &str,
        ip: IpAddr,
    ) -> Result<(), RedisError> {
        let window = self.settings.window;
        for key in Self::keys(kind, user, ip) {
            match &self.counters {
                Counters::Memory(m) => m.increment(&key, window),
                Counters::Redis(client) => {
                    let mut conn = client.connection().await?;
                    // INCR and arming the expiry together, so a counter never
                    // lives without one; NX keeps the window fixed.
                    let _: () = redis::pipe()
                        .atomic()
                        .incr(&key, 1)
                        .ignore()
                        .cmd("PEXPIRE")
                        .arg(&key)
                        .arg(window.as_millis() as u64)
                        .arg("NX")
                        .ignore()
                        .query_async(&mut conn)
                        .await
                        .map_err(|e| client.error(e))?;
                }
            }
        }
        Ok(())
    }

    /// Clears the user's counter after a success; the IP's stays.
    pub async fn record_success(
        &self,
        kind: Attempt,
        user: &str,
        ip: IpAddr,
    ) -> Result<(), RedisError> {
        let [user_key, _] = Self::keys(kind, user, ip);
        match &self.counters {
            Counters::Memory(m) => m.clear(&user_key),
            Counters::Redis(client) => {
                let mut conn = client.connection().await?;
                let _: () = conn.del(&user_key).await.map_err(|e| client.error(e))?;
            }
        }
        Ok(())
    }

    /// Claims a one-time marker: true the first time for `key`, false after,
    /// until `ttl` passes. Atomic across replicas sharing Redis, so a TOTP
    /// code works once per user however many sessions race with it.
    pub async fn claim_once(&self, key: &str, ttl: Duration) -> Result<bool, RedisError> {
        let key = format!("gh:once:{key}");
        match &self.counters {
            Counters::Memory(m) => Ok(m.claim(&key, ttl)),
            Counters::Redis(client) => {
                let mut conn = client.connection().await?;
                let set: Option<String> = redis::cmd("SET")
                    .arg(&key)
                    .arg(1)
                    .arg("NX")
                    .arg("PX")
                    .arg(ttl.as_millis() as u64)
                    .query_async(&mut conn)
                    .await
                    .map_err(|e| client.error(e))?;
                Ok(set.is_some())
            }
        }
    }

    /// How long the claim on `key` (see [`Limiter::claim_once`]) has left;
    /// zero if there is none.
    pub async fn claim_left(&self, key: &str) -> Result<Duration, RedisError> {
        Ok(self.read(&format!("gh:once:{key}")).await?.1)
    }

    async fn read(&self, key: &str) -> Result<(u64, Duration), RedisError> {
        match &self.counters {
            Counters::Memory(m) => Ok(m.read(key)),
            Counters::Redis(client) => {
                let mut conn = client.connection().await?;
                let (count, ttl): (Option<u64>, i64) = redis::pipe()
                    .get(key)
                    .pttl(key)
                    .query_async(&mut conn)
                    .await
                    .map_err(|e| client.error(e))?;
                Ok((count.unwrap_or(0), Duration::from_millis(ttl.max(0) as u64)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(per_user: u32, per_ip: u32) -> Limiter {
        Limiter::memory(LimitSettings {
            max_failures_per_user: per_user,
            max_failures_per_ip: per_ip,
            window: Duration::from_secs(60),
        })
    }

    const IP: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

    #[tokio::test]
    async fn a_user_is_locked_after_the_configured_failures() {
        let l = limiter(3, 100);
        for _ in 0..3 {
            assert_eq!(
                l.check(Attempt::Password, "Alice", IP).await.unwrap(),
                Verdict::Allowed
            );
            l.record_failure(Attempt::Password, "Alice", IP)
                .await
                .unwrap();
        }
        assert!(matches!(
            l.check(Attempt::Password, "alice", IP).await.unwrap(),
            Verdict::Locked(_)
        ));
    }

    #[tokio::test]
    async fn an_ip_is_locked_across_usernames() {
        let l = limiter(100, 2);
        l.record_failure(Attempt::Password, "a", IP).await.unwrap();
        l.record_failure(Attempt::Password, "b", IP).await.unwrap();
        assert!(matches!(
            l.check(Attempt::Password, "c", IP).await.unwrap(),
            Verdict::Locked(_)
        ));
    }

    #[tokio::test]
    async fn a_one_time_marker_is_claimed_once() {
        let l = limiter(5, 5);
        assert!(l
            .claim_once("totp:alice:1", Duration::from_secs(60))
            .await
            .unwrap());
        assert!(!l
            .claim_once("totp:alice:1", Duration::from_secs(60))
            .await
            .unwrap());
        assert!(l
            .claim_once("totp:alice:2", Duration::from_secs(60))
            .await
            .unwrap());
        let left = l.claim_left("totp:alice:2").await.unwrap();
        assert!(left > Duration::from_secs(58) && left <= Duration::from_secs(60));
        assert_eq!(l.claim_left("totp:alice:3").await.unwrap(), Duration::ZERO);
    }

    #[tokio::test]
    async fn success_clears_the_user_counter() {
        let l = limiter(2, 100);
        l.record_failure(Attempt::Password, "a", IP).await.unwrap();
        l.record_success(Attempt::Password, "a", IP).await.unwrap();
        l.record_failure(Attempt::Password, "a", IP).await.unwrap();
        assert_eq!(
            l.check(Attempt::Password, "a", IP).await.unwrap(),
            Verdict::Allowed
        );
    }
}
