//! A replica's short-lived copy of Redis sessions.
//!
//! Signed-in traffic would otherwise cost a Redis round trip per request.
//! Entries live at most `ttl` (≤ 1 s, by config), and a deletion on any
//! replica is published so the others drop their copy at once; if that
//! message is lost, the TTL still bounds how long a signed-out session can
//! be honoured elsewhere.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::{Session, StoreKey};

/// Past this many entries the cache drops stale ones, then everything.
const MAX_ENTRIES: usize = 100_000;

pub struct SessionCache {
    ttl: Duration,
    entries: Mutex<HashMap<StoreKey, (Session, Instant)>>,
    /// Whether invalidations are being received. Copies are only served
    /// while they are: when Redis goes away the subscription drops, and the
    /// gateway fails closed instead of honouring what it remembers.
    live: AtomicBool,
}

impl SessionCache {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Mutex::new(HashMap::new()),
            live: AtomicBool::new(false),
        }
    }

    /// Serving starts once the invalidation subscription is up.
    pub fn set_live(&self, live: bool) {
        self.live.store(live, Ordering::Release);
        if !live {
            self.clear();
        }
    }

    pub fn enabled(&self) -> bool {
        !self.ttl.is_zero()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<StoreKey, (Session, Instant)>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn get(&self, key: &StoreKey) -> Option<Session> {
        if !self.enabled() || !self.live.load(Ordering::Acquire) {
            return None;
        }
        match self.lock().get(key) {
            Some((session, at)) if at.elapsed() < self.ttl => Some(session.clone()),
            _ => None,
        }
    }

    pub fn put(&self, key: &StoreKey, session: &Session) {
        if !self.enabled() {
            return;
        }
        let now = Instant::now();
        let mut entries = self.lock();
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, (_, at)| now.duration_since(*at) < self.ttl);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(key.clone(), (session.clone(), now));
    }

    pub fn evict(&self, key: &StoreKey) {
        self.lock().remove(key);
    }

    /// Forgets everything: after missing invalidations, nothing cached can
    /// be trusted.
    pub fn clear(&self) {
        self.lock().clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_after_the_ttl_and_can_be_evicted() {
        let cache = SessionCache::new(Duration::from_millis(50));
        cache.set_live(true);
        let key = StoreKey([1; 32]);
        let s = Session::after_password("alice", 0, 0);
        cache.put(&key, &s);
        assert_eq!(cache.get(&key), Some(s.clone()));
        cache.evict(&key);
        assert_eq!(cache.get(&key), None);
        cache.put(&key, &s);
        let deadline = Instant::now() + Duration::from_secs(5);
        while cache.get(&key).is_some() {
            assert!(Instant::now() < deadline, "entry outlived its ttl");
            std::thread::yield_now();
        }
    }

    #[test]
    fn nothing_is_served_while_invalidations_are_not_received() {
        let cache = SessionCache::new(Duration::from_secs(60));
        let key = StoreKey([3; 32]);
        cache.put(&key, &Session::after_password("carol", 0, 0));
        assert_eq!(
            cache.get(&key),
            None,
            "served before the subscription was up"
        );
        cache.set_live(true);
        cache.put(&key, &Session::after_password("carol", 0, 0));
        assert!(cache.get(&key).is_some());
        cache.set_live(false);
        cache.set_live(true);
        assert_eq!(cache.get(&key), None, "kept across a lost subscription");
    }

    #[test]
    fn a_zero_ttl_caches_nothing() {
        let cache = SessionCache::new(Duration::ZERO);
        let key = StoreKey([2; 32]);
        cache.put(&key, &Session::after_password("bob", 0, 0));
        assert_eq!(cache.get(&key), None);
    }
}
