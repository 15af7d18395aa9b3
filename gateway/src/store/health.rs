//! Whether the durable store answers, so that a store that is down costs a
//! request one wait, not one per query.
//!
//! A sign-in makes several queries one after another. Each waits up to the
//! store's timeout for a connection, so with the database down a sign-in
//! would take that timeout several times over before its 503. Once one
//! query finds the database unreachable, the store is marked down: later
//! callers are refused at once, and one caller per [`RETRY`] is let through
//! to find out whether it is back. A ping that gets an answer, or the pool
//! connecting, marks it up again, so it recovers by itself.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How often, while the store is down, one caller tries it again.
pub(crate) const RETRY: Duration = Duration::from_secs(1);

/// What a caller may do now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Admit {
    /// The store is up as far as anyone knows: go ahead.
    Up,
    /// It was down; this caller is the one to try it again.
    Probe,
    /// It is down and someone tried it less than [`RETRY`] ago.
    Refused,
}

#[derive(Debug)]
pub(crate) struct Health {
    origin: Instant,
    /// 0 while the store is up; otherwise when (ms after `origin`, at
    /// least 1) the next caller may try it again.
    retry_at: AtomicU64,
}

impl Default for Health {
    fn default() -> Self {
        Self {
            origin: Instant::now(),
            retry_at: AtomicU64::new(0),
        }
    }
}

impl Health {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.origin.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn later(&self, by: Duration) -> u64 {
        let by = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
        self.now_ms().saturating_add(by).max(1)
    }

    /// Whether a caller may use the store now. A probe that may itself wait
    /// `patience` holds the next probe off until then, so that probes don't
    /// pile up on a database that doesn't answer.
    pub(crate) fn admit(&self, patience: Duration) -> Admit {
        let at = self.retry_at.load(Ordering::Acquire);
        if at == 0 {
            return Admit::Up;
        }
        if self.now_ms() < at {
            return Admit::Refused;
        }
        let next = self.later(patience + RETRY);
        match self
            .retry_at
            .compare_exchange(at, next, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => Admit::Probe,
            // Another caller claimed the probe, or the store came back.
            Err(0) => Admit::Up,
            Err(_) => Admit::Refused,
        }
    }

    /// The store could not be reached.
    pub(crate) fn failed(&self) {
        self.retry_at.store(self.later(RETRY), Ordering::Release);
    }

    /// The store answered.
    pub(crate) fn recovered(&self) {
        self.retry_at.store(0, Ordering::Release);
    }

    pub(crate) fn is_down(&self) -> bool {
        self.retry_at.load(Ordering::Acquire) != 0
    }
}

/// Whether `error` means the database could not be reached (as opposed to
/// a query it refused or data it couldn't store).
pub(crate) fn is_unreachable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::WorkerCrashed => true,
        // SQLSTATE class 08 is "connection exception"; 57P01-57P03 are the
        // server shutting down or not yet accepting connections.
        sqlx::Error::Database(db) => db
            .code()
            .is_some_and(|code| code.starts_with("08") || code.starts_with("57P")),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_up_store_admits_everyone() {
        let health = Health::default();
        assert_eq!(health.admit(Duration::from_secs(3)), Admit::Up);
        assert_eq!(health.admit(Duration::from_secs(3)), Admit::Up);
        assert!(!health.is_down());
    }

    #[test]
    fn a_failure_refuses_callers_until_the_retry() {
        let health = Health {
            origin: Instant::now() - Duration::from_secs(10),
            retry_at: AtomicU64::new(0),
        };
        health.failed();
        assert!(health.is_down());
        assert_eq!(health.admit(Duration::ZERO), Admit::Refused);
        // As if the retry period had passed.
        health.retry_at.store(1, Ordering::Release);
        assert_eq!(health.admit(Duration::from_secs(3)), Admit::Probe);
        // Only one caller probes; the rest are refused while it waits.
        assert_eq!(health.admit(Duration::from_secs(3)), Admit::Refused);
        health.recovered();
        assert_eq!(health.admit(Duration::from_secs(3)), Admit::Up);
        assert!(!health.is_down());
    }

    #[test]
    fn connection_errors_count_as_unreachable_and_others_do_not() {
        assert!(is_unreachable(&sqlx::Error::PoolTimedOut));
        assert!(is_unreachable(&sqlx::Error::Io(std::io::Error::from(
            std::io::ErrorKind::ConnectionRefused
        ))));
        assert!(!is_unreachable(&sqlx::Error::RowNotFound));
        assert!(!is_unreachable(&sqlx::Error::ColumnNotFound("x".into())));
    }
}
