//! One-time codes sent by email or text message: issued, kept until they
//! expire, and accepted once.
//!
//! A user has at most one outstanding code: asking again replaces it, so an
//! older message stops working. Only a MAC of the code is kept, in Redis
//! (shared by every replica) or in this process, never the code itself.
//! A code sent to a number the user typed keeps that number beside it, so
//! that entering the code proves that number and no other.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use rand::Rng;
use redis::AsyncCommands;
use sha2::Sha256;

use crate::limits::Limiter;
use crate::notify::Channel;
use crate::redis_client::{RedisClient, RedisError};

type HmacSha256 = Hmac<Sha256>;

/// What a code is for: a code sent to prove an address during enrollment
/// must not open a sign-in, and the other way round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Enroll,
    SignIn,
}

impl Purpose {
    fn tag(self) -> &'static str {
        match self {
            Purpose::Enroll => "enroll",
            Purpose::SignIn => "sign-in",
        }
    }
}

/// What a submitted one-time code turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OneTimeCheck {
    /// Right, and now used up; it was sent over `channel`, to `typed` if
    /// that was a number the user typed (see [`PendingCodes::issue_to`]).
    Accepted {
        channel: Channel,
        typed: Option<String>,
    },
    Wrong,
    /// Right, but another request used it first.
    Replayed,
    /// No code for this purpose is outstanding (none sent, or expired).
    NoneOutstanding,
}

enum Backend {
    Memory(Mutex<HashMap<String, (String, Instant)>>),
    Redis(Arc<RedisClient>),
}

/// The outstanding codes, one per user.
pub struct PendingCodes {
    backend: Backend,
    key: [u8; 32],
}

/// A stored code: `tag:channel:mac`, then `:to` when it went to a typed
/// number (E.164 has no colon; the last part takes the rest anyway).
struct Stored<'a> {
    tag: &'a str,
    channel: Channel,
    mac: &'a str,
    typed: Option<&'a str>,
}

impl Stored<'_> {
    /// `None` for anything this version did not write: treated as no code.
    fn parse(value: &str) -> Option<Stored<'_>> {
        let mut parts = value.splitn(4, ':');
        Some(Stored {
            tag: parts.next()?,
            channel: Channel::from_name(parts.next()?)?,
            mac: parts.next()?,
            typed: parts.next().filter(|to| !to.is_empty()),
        })
    }
}

/// Digits only, so that "123 456" and "123-456" from a message still work.
fn normalise(input: &str) -> Option<String> {
    let digits: String = input
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    (digits.len() == 6 && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

impl PendingCodes {
    /// In this process: for the single-node memory backend.
    pub fn memory(key: [u8; 32]) -> Self {
        Self {
            backend: Backend::Memory(Mutex::new(HashMap::new())),
            key,
        }
    }

    /// In Redis, so a code sent by one replica works on any other.
    pub fn redis(client: Arc<RedisClient>, key: [u8; 32]) -> Self {
        Self {
            backend: Backend::Redis(client),
            key,
        }
    }

    fn redis_key(user: &str) -> String {
        format!("gh:otc:{user}")
    }

    fn mac(&self, user: &str, code: &str) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(user.as_bytes());
        mac.update(b"\0");
        mac.update(code.as_bytes());
        mac
    }

    /// Makes a new code for `user`, replacing any outstanding one, and
    /// returns it for sending. It is accepted for `lifetime`.
    pub async fn issue(
        &self,
        user: &str,
        purpose: Purpose,
        channel: Channel,
        lifetime: Duration,
    ) -> Result<String, RedisError> {
        self.issue_to(user, purpose, channel, None, lifetime).await
    }

    /// [`PendingCodes::issue`] for a code going to `typed`, a number the
    /// user typed: [`PendingCodes::check`] hands it back with the code.
    pub async fn issue_to(
        &self,
        user: &str,
        purpose: Purpose,
        channel: Channel,
        typed: Option<&str>,
        lifetime: Duration,
    ) -> Result<String, RedisError> {
        // ThreadRng is a CSPRNG seeded from the OS.
        let code = format!("{:06}", rand::rng().random_range(0..1_000_000u32));
        let mac = hex::encode(self.mac(user, &code).finalize().into_bytes());
        let mut value = format!("{}:{}:{mac}", purpose.tag(), channel.as_str());
        if let Some(to) = typed {
            value.push(':');
            value.push_str(to);
        }
        match &self.backend {
            Backend::Memory(map) => {
                let now = Instant::now();
                let mut map = map.lock().unwrap_or_else(|p| p.into_inner());
                map.retain(|_, (_, until)| *until > now);
                map.insert(user.to_owned(), (value, now + lifetime));
            }
            Backend::Redis(client) => {
                let mut conn = client.connection().await?;
                let _: () = conn
                    .pset_ex(Self::redis_key(user), value, lifetime.as_millis() as u64)
                    .await
                    .map_err(|e| client.error(e))?;
            }
        }
        Ok(code)
    }

    async fn read(&self, user: &str) -> Result<Option<String>, RedisError> {
        match &self.backend {
            Backend::Memory(map) => {
                let map = map.lock().unwrap_or_else(|p| p.into_inner());
                Ok(map
                    .get(user)
                    .filter(|(_, until)| *until > Instant::now())
                    .map(|(value, _)| value.clone()))
            }
            Backend::Redis(client) => {
                let mut conn = client.connection().await?;
                conn.get(Self::redis_key(user))
                    .await
                    .map_err(|e| client.error(e))
            }
        }
    }

    /// Forgets the user's outstanding code, if any.
    pub async fn discard(&self, user: &str) -> Result<(), RedisError> {
        match &self.backend {
            Backend::Memory(map) => {
                map.lock().unwrap_or_else(|p| p.into_inner()).remove(user);
            }
            Backend::Redis(client) => {
                let mut conn = client.connection().await?;
                let _: () = conn
                    .del(Self::redis_key(user))
                    .await
                    .map_err(|e| client.error(e))?;
            }
        }
        Ok(())
    }

    /// The channel of the user's outstanding code for `purpose`, if any.
    pub async fn outstanding(
        &self,
        user: &str,
        purpose: Purpose,
    ) -> Result<Option<Channel>, RedisError> {
        Ok(self
            .outstanding_to(user, purpose)
            .await?
            .map(|(channel, _)| channel))
    }

    /// [`PendingCodes::outstanding`] with the typed number the code went
    /// to, if it went to one.
    pub async fn outstanding_to(
        &self,
        user: &str,
        purpose: Purpose,
    ) -> Result<Option<(Channel, Option<String>)>, RedisError> {
        Ok(self.read(user).await?.and_then(|value| {
            let stored = Stored::parse(&value)?;
            (stored.tag == purpose.tag()).then(|| (stored.channel, stored.typed.map(str::to_owned)))
        }))
    }

    /// Checks `input` against the user's outstanding code for `purpose`.
    /// A right code is claimed through `markers`, so that two requests
    /// racing with it cannot both pass, even on different replicas.
    pub async fn check(
        &self,
        user: &str,
        purpose: Purpose,
        input: &str,
        markers: &Limiter,
    ) -> Result<OneTimeCheck, RedisError> {
        let Some(value) = self.read(user).await? else {
            return Ok(OneTimeCheck::NoneOutstanding);
        };
        let Some(Stored {
            tag,
            channel,
            mac,
            typed,
        }) = Stored::parse(&value)
        else {
            return Ok(OneTimeCheck::NoneOutstanding);
        };
        if tag != purpose.tag() {
            return Ok(OneTimeCheck::NoneOutstanding);
        }
        let Some(code) = normalise(input) else {
            return Ok(OneTimeCheck::Wrong);
        };
        let Ok(stored) = hex::decode(mac) else {
            return Ok(OneTimeCheck::NoneOutstanding);
        };
        // verify_slice compares in constant time.
        if self.mac(user, &code).verify_slice(&stored).is_err() {
            return Ok(OneTimeCheck::Wrong);
        }
        // The marker outlives any code: the longest lifetime is an hour.
        let marker = format!("otc:{user}:{}", hex::encode(&stored));
        if !markers
            .claim_once(&marker, Duration::from_secs(3600))
            .await?
        {
            return Ok(OneTimeCheck::Replayed);
        }
        self.discard(user).await?;
        Ok(OneTimeCheck::Accepted {
            channel,
            typed: typed.map(str::to_owned),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::LimitSettings;

    fn setup() -> (PendingCodes, Limiter) {
        let limiter = Limiter::memory(LimitSettings {
            max_failures_per_user: 5,
            max_failures_per_ip: 5,
            window: Duration::from_secs(60),
        });
        (PendingCodes::memory([7; 32]), limiter)
    }

    const TEN_MINUTES: Duration = Duration::from_secs(600);

    /// Accepted, for a code sent to an address in the users file.
    fn accepted(channel: Channel) -> OneTimeCheck {
        OneTimeCheck::Accepted {
            channel,
            typed: None,
        }
    }

    async fn check(
        codes: &PendingCodes,
        markers: &Limiter,
        user: &str,
        purpose: Purpose,
        input: &str,
    ) -> OneTimeCheck {
        codes.check(user, purpose, input, markers).await.unwrap()
    }

    #[tokio::test]
    async fn an_issued_code_is_accepted_once() {
        let (codes, markers) = setup();
        let code = codes
            .issue("alice", Purpose::SignIn, Channel::Email, TEN_MINUTES)
            .await
            .unwrap();
        assert_eq!(code.len(), 6);
        assert_eq!(
            codes.outstanding("alice", Purpose::SignIn).await.unwrap(),
            Some(Channel::Email)
        );
        let spaced = format!("{} {}", &code[..3], &code[3..]);
        assert_eq!(
            check(&codes, &markers, "alice", Purpose::SignIn, &spaced).await,
            accepted(Channel::Email)
        );
        assert_eq!(
            check(&codes, &markers, "alice", Purpose::SignIn, &code).await,
            OneTimeCheck::NoneOutstanding,
            "used up"
        );
    }

    #[tokio::test]
    async fn a_wrong_code_leaves_the_right_one_usable() {
        let (codes, markers) = setup();
        let code = codes
            .issue("alice", Purpose::SignIn, Channel::Sms, TEN_MINUTES)
            .await
            .unwrap();
        let wrong = if code == "000000" { "000001" } else { "000000" };
        for input in [wrong, "12345", "abcdef", ""] {
            assert_eq!(
                check(&codes, &markers, "alice", Purpose::SignIn, input).await,
                OneTimeCheck::Wrong,
                "{input:?}"
            );
        }
        assert_eq!(
            check(&codes, &markers, "alice", Purpose::SignIn, &code).await,
            accepted(Channel::Sms)
        );
    }

    #[tokio::test]
    async fn a_new_code_replaces_the_old_one() {
        let (codes, markers) = setup();
        let old = codes
            .issue("alice", Purpose::SignIn, Channel::Email, TEN_MINUTES)
            .await
            .unwrap();
        let new = codes
            .issue("alice", Purpose::SignIn, Channel::Email, TEN_MINUTES)
            .await
            .unwrap();
        if old != new {
            assert_eq!(
                check(&codes, &markers, "alice", Purpose::SignIn, &old).await,
                OneTimeCheck::Wrong
            );
        }
        assert_eq!(
            check(&codes, &markers, "alice", Purpose::SignIn, &new).await,
            accepted(Channel::Email)
        );
    }

    #[tokio::test]
    async fn codes_are_bound_to_their_user_and_purpose() {
        let (codes, markers) = setup();
        let code = codes
            .issue("alice", Purpose::Enroll, Channel::Email, TEN_MINUTES)
            .await
            .unwrap();
        assert_eq!(
            check(&codes, &markers, "bob", Purpose::Enroll, &code).await,
            OneTimeCheck::NoneOutstanding
        );
        assert_eq!(
            check(&codes, &markers, "alice", Purpose::SignIn, &code).await,
            OneTimeCheck::NoneOutstanding,
            "an enrollment code does not sign in"
        );
        assert_eq!(
            check(&codes, &markers, "alice", Purpose::Enroll, &code).await,
            accepted(Channel::Email)
        );
    }

    #[tokio::test]
    async fn an_expired_code_is_refused() {
        let (codes, markers) = setup();
        let code = codes
            .issue("alice", Purpose::SignIn, Channel::Email, Duration::ZERO)
            .await
            .unwrap();
        assert_eq!(
            check(&codes, &markers, "alice", Purpose::SignIn, &code).await,
            OneTimeCheck::NoneOutstanding
        );
    }

    #[tokio::test]
    async fn a_discarded_code_is_refused() {
        let (codes, markers) = setup();
        let code = codes
            .issue("alice", Purpose::SignIn, Channel::Email, TEN_MINUTES)
            .await
            .unwrap();
        codes.discard("alice").await.unwrap();
        assert_eq!(
            check(&codes, &markers, "alice", Purpose::SignIn, &code).await,
            OneTimeCheck::NoneOutstanding
        );
    }

    #[tokio::test]
    async fn a_code_to_a_typed_number_hands_the_number_back() {
        let (codes, markers) = setup();
        let code = codes
            .issue_to(
                "dave",
                Purpose::Enroll,
                Channel::Sms,
                Some("+61412345678"),
                TEN_MINUTES,
            )
            .await
            .unwrap();
        assert_eq!(
            codes.outstanding_to("dave", Purpose::Enroll).await.unwrap(),
            Some((Channel::Sms, Some("+61412345678".to_owned())))
        );
        assert_eq!(
            codes.outstanding_to("dave", Purpose::SignIn).await.unwrap(),
            None
        );
        assert_eq!(
            check(&codes, &markers, "dave", Purpose::Enroll, &code).await,
            OneTimeCheck::Accepted {
                channel: Channel::Sms,
                typed: Some("+61412345678".to_owned()),
            }
        );
    }

    #[test]
    fn stored_values_are_read_with_and_without_a_number() {
        let plain = Stored::parse("sign-in:email:abcd").unwrap();
        assert_eq!(
            (plain.tag, plain.channel, plain.mac),
            ("sign-in", Channel::Email, "abcd")
        );
        assert_eq!(plain.typed, None);
        let typed = Stored::parse("enroll:sms:abcd:+61412345678").unwrap();
        assert_eq!(typed.typed, Some("+61412345678"));
        assert!(Stored::parse("enroll:fax:abcd").is_none());
        assert!(Stored::parse("enroll:sms").is_none());
    }
}
