//! The durable store, connected on first use.
//!
//! sqlx pools spawn maintenance tasks on the runtime that creates them, and
//! Pingora gives each service its own runtime, so the pool is made lazily
//! from inside the proxy's. Start-up has already checked the store once
//! (migrations run, key read) on a throwaway runtime, so first use here
//! normally just connects.
//!
//! A store that is down fails fast: each query waits at most `store.timeout`
//! for a connection, and once one finds the database unreachable the
//! callers after it are refused at once (see [`crate::store::health`]), so a
//! sign-in answers 503 within about one timeout however many queries it
//! makes. Neither a failed connect nor a failed query is kept: one caller a
//! second tries again, and the first that gets through brings it back.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::OnceCell;

use crate::store::health::{Admit, Health};
use crate::store::{redact_url, Store, StoreError, DEFAULT_TIMEOUT};

pub struct LazyStore {
    url: String,
    timeout: Duration,
    health: Arc<Health>,
    cell: OnceCell<Store>,
}

impl LazyStore {
    /// A store whose queries wait [`DEFAULT_TIMEOUT`] for a connection.
    pub fn new(url: &str) -> Self {
        Self {
            url: url.to_owned(),
            timeout: DEFAULT_TIMEOUT,
            health: Arc::default(),
            cell: OnceCell::new(),
        }
    }

    /// This store, its queries waiting at most `timeout` for a connection
    /// (`store.timeout`).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The store, or an error at once while it is known to be down.
    pub async fn get(&self) -> Result<&Store, StoreError> {
        let admit = self.health.admit(self.timeout);
        if admit == Admit::Refused {
            return Err(self.unavailable());
        }
        let store = match self.cell.get() {
            Some(store) => store,
            None => self.connect(admit).await?,
        };
        if admit == Admit::Probe {
            // The caller's own query would find out too, but only a success
            // here tells the others that the store is back.
            self.bounded(self.timeout, store.ping()).await?;
        }
        Ok(store)
    }

    /// Whether the store answers now, within `within`: for readiness
    /// checks. While the store is known to be down this answers at once,
    /// except once a second, when it tries again.
    pub async fn check(&self, within: Duration) -> Result<(), StoreError> {
        let checked = async { self.get().await?.ping().await };
        self.bounded(within, checked).await
    }

    async fn connect(&self, admit: Admit) -> Result<&Store, StoreError> {
        self.cell
            .get_or_try_init(|| async {
                // Callers queued behind a connect that failed don't each
                // wait a timeout of their own.
                if admit == Admit::Up && self.health.is_down() {
                    return Err(self.unavailable());
                }
                let opened = Store::open(&self.url, self.timeout, self.health.clone());
                // The pool's first connection gets the timeout, and the
                // migrations as long again.
                let store = self
                    .bounded(self.timeout * 2, opened)
                    .await
                    .inspect_err(|_| self.health.failed())?;
                self.health.recovered();
                Ok(store)
            })
            .await
    }

    /// `work`, given `limit`; a store that doesn't answer in time is marked
    /// down. (Queries that fail mark it themselves: see [`Store::fail`].)
    async fn bounded<T>(
        &self,
        limit: Duration,
        work: impl std::future::Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        match tokio::time::timeout(limit, work).await {
            Ok(result) => result,
            Err(_) => {
                self.health.failed();
                Err(self.unavailable())
            }
        }
    }

    fn unavailable(&self) -> StoreError {
        StoreError::Unavailable {
            url: redact_url(&self.url),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use gatehouse_testkit::{free_port, Postgres};

    /// Long enough for a local PostgreSQL, short enough for a quick test.
    const TIMEOUT: Duration = Duration::from_millis(500);

    #[tokio::test]
    async fn a_store_that_never_answered_is_refused_at_once_after_one_wait() {
        let url = format!("postgres://postgres@127.0.0.1:{}/none", free_port());
        let store = LazyStore::new(&url).with_timeout(TIMEOUT);
        // The first caller waits for the connect and finds it refused.
        assert!(matches!(
            store.get().await,
            Err(StoreError::Connect { .. } | StoreError::Unavailable { .. })
        ));
        // The next ones are told at once, without trying.
        assert!(matches!(
            store.get().await,
            Err(StoreError::Unavailable { .. })
        ));
        assert!(store.check(TIMEOUT).await.is_err());
    }

    #[tokio::test]
    async fn a_store_that_goes_down_is_refused_then_found_again() {
        if std::env::var("GATEHOUSE_SKIP_POSTGRES").is_ok_and(|v| v == "1") {
            return;
        }
        let server = tokio::task::spawn_blocking(Postgres::start).await.unwrap();
        let store = LazyStore::new(&server.admin_url()).with_timeout(TIMEOUT);
        store.check(TIMEOUT).await.unwrap();

        let server = tokio::task::spawn_blocking(move || {
            server.stop();
            server
        })
        .await
        .unwrap();
        // A query finds it gone and marks it down for the ones after it.
        let store_now = store.get().await.unwrap();
        assert!(store_now.setting("k").await.is_err());
        assert!(matches!(
            store.get().await,
            Err(StoreError::Unavailable { .. })
        ));
        assert!(store.check(TIMEOUT).await.is_err());

        let _server = tokio::task::spawn_blocking(move || {
            server.restart();
            server
        })
        .await
        .unwrap();
        // Within a retry period (plus a probe's wait) a caller gets through.
        let deadline = tokio::time::Instant::now() + RETRY_WAIT;
        loop {
            if store.check(TIMEOUT).await.is_ok() {
                break;
            }
            assert!(tokio::time::Instant::now() < deadline, "never recovered");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(store.get().await.unwrap().setting("k").await.is_ok());
    }

    const RETRY_WAIT: Duration = Duration::from_secs(10);
}
