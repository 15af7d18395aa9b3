//! In-process sessions: the single-node default, needing nothing else.

use std::collections::HashMap;
use std::sync::Mutex;

use super::{now_ms, Session, StoreKey};

/// Sessions in a map. Expired entries are swept every few thousand writes,
/// so abandoned sessions cannot grow the map without bound.
pub struct MemoryStore {
    inner: Mutex<Inner>,
}

struct Inner {
    sessions: HashMap<StoreKey, Session>,
    writes_since_sweep: usize,
}

const SWEEP_EVERY: usize = 4096;
/// Nothing lives longer than this after its last use, whatever the config.
const SWEEP_AGE_MS: u64 = 31 * 24 * 3600 * 1000;

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryStore {
    pub fn new() -> Self {
        Self {
            inner: Mutex::new(Inner {
                sessions: HashMap::new(),
                writes_since_sweep: 0,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic elsewhere while holding the lock leaves the map intact.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn get(&self, key: &StoreKey) -> Option<Session> {
        self.lock().sessions.get(key).cloned()
    }

    pub fn put(&self, key: StoreKey, session: Session) {
        let mut inner = self.lock();
        inner.sessions.insert(key, session);
        inner.writes_since_sweep += 1;
        if inner.writes_since_sweep >= SWEEP_EVERY {
            inner.writes_since_sweep = 0;
            let now = now_ms();
            inner
                .sessions
                .retain(|_, s| now.saturating_sub(s.last_seen_ms) < SWEEP_AGE_MS);
        }
    }

    pub fn remove(&self, key: &StoreKey) {
        self.lock().sessions.remove(key);
    }

    /// Removes every session of `user`; returns how many there were.
    pub fn remove_user(&self, user: &str) -> usize {
        let mut inner = self.lock();
        let before = inner.sessions.len();
        inner.sessions.retain(|_, s| s.user != user);
        before - inner.sessions.len()
    }

    pub fn len(&self) -> usize {
        self.lock().sessions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
