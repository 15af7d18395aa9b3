//! One lazily connected, self-reconnecting Redis client, shared by the
//! session store and the rate limiter.
//!
//! The connection is made on first use rather than at start-up, for two
//! reasons: Pingora gives each service its own tokio runtime, and the
//! connection's driver task must live on the runtime that uses it; and a
//! gateway started while Redis is down must still start, answer 503, and
//! recover when Redis returns.

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::sync::OnceCell;

/// Why a Redis operation failed; always means "the store is unavailable".
#[derive(Debug, thiserror::Error)]
#[error("redis at {url}: {source}")]
pub struct RedisError {
    pub url: String,
    #[source]
    pub source: redis::RedisError,
}

pub struct RedisClient {
    url: String,
    client: redis::Client,
    manager: OnceCell<ConnectionManager>,
}

impl RedisClient {
    /// Parses the URL; connects later.
    pub fn new(url: &str) -> Result<Self, RedisError> {
        let client = redis::Client::open(url).map_err(|source| RedisError {
            url: redacted(url),
            source,
        })?;
        Ok(Self {
            url: redacted(url),
            client,
            manager: OnceCell::new(),
        })
    }

    /// A handle to the shared connection, connecting first if needed.
    ///
    /// Timeouts are short: a request waiting on a dead Redis should get its
    /// 503 in about a second, not hang.
    pub async fn connection(&self) -> Result<ConnectionManager, RedisError> {
        let conn = self
            .manager
            .get_or_try_init(|| async {
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Duration::from_secs(1))
                    .set_response_timeout(Duration::from_secs(2))
                    .set_number_of_retries(1)
                    .set_max_delay(500);
                ConnectionManager::new_with_config(self.client.clone(), config).await
            })
            .await
            .map_err(|source| self.error(source))?;
        Ok(conn.clone())
    }

    /// A dedicated connection for subscriptions.
    pub async fn pubsub(&self) -> Result<redis::aio::PubSub, RedisError> {
        tokio::time::timeout(Duration::from_secs(2), self.client.get_async_pubsub())
            .await
            .map_err(|_| {
                self.error(redis::RedisError::from((
                    redis::ErrorKind::IoError,
                    "connect timed out",
                )))
            })?
            .map_err(|e| self.error(e))
    }

    /// Wraps a command error with this client's (password-free) URL.
    pub fn error(&self, source: redis::RedisError) -> RedisError {
        RedisError {
            url: self.url.clone(),
            source,
        }
    }
}

/// Drops any password from a Redis URL, so it can go into logs.
fn redacted(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            format!("{}://***@{}", &url[..scheme_end], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redacted;

    #[test]
    fn redis_passwords_never_reach_messages() {
        assert_eq!(
            redacted("redis://:hunter2@db:6379/0"),
            "redis://***@db:6379/0"
        );
        assert_eq!(redacted("redis://127.0.0.1:6379"), "redis://127.0.0.1:6379");
    }
}
