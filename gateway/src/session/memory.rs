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
    /// Users whose sessions were all ended at least once, and how often.
    generations: HashMap<String, u64>,
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
                generations: HashMap::new(),
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

    /// The user's session generation (see [`Session::generation`]).
    pub fn generation(&self, user: &str) -> u64 {
        self.lock().generation(user)
    }

    /// Saves a new session, replacing `replacing` if given. Refused (false)
    /// when the user's sessions were ended since the session's sign-in
    /// began, or when the session it replaces is gone.
    pub fn insert(&self, key: StoreKey, session: Session, replacing: Option<&StoreKey>) -> bool {
        let mut inner = self.lock();
        if inner.generation(&session.user) != session.generation {
            return false;
        }
        if let Some(old) = replacing {
            if inner.sessions.remove(old).is_none() {
                return false;
            }
        }
        inner.sessions.insert(key, session);
        inner.writes_since_sweep += 1;
        if inner.writes_since_sweep >= SWEEP_EVERY {
            inner.writes_since_sweep = 0;
            let now = now_ms();
            inner
                .sessions
                .retain(|_, s| now.saturating_sub(s.last_seen_ms) < SWEEP_AGE_MS);
        }
        true
    }

    /// Writes back a session's use; refused (false) when it was deleted
    /// meanwhile, so a request in flight can't bring back a signed-out session.
    pub fn touch(&self, key: &StoreKey, session: Session) -> bool {
        match self.lock().sessions.get_mut(key) {
            Some(stored) => {
                *stored = session;
                true
            }
            None => false,
        }
    }

    pub fn remove(&self, key: &StoreKey) {
        self.lock().sessions.remove(key);
    }

    /// Refuses every sign-in or step-up of `user` under way; sessions stay.
    pub fn advance_generation(&self, user: &str) {
        *self.lock().generations.entry(user.to_owned()).or_default() += 1;
    }

    /// Removes every session of `user`, and every sign-in of theirs under
    /// way; returns how many sessions there were.
    pub fn remove_user(&self, user: &str) -> usize {
        self.advance_generation(user);
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

impl Inner {
    fn generation(&self, user: &str) -> u64 {
        self.generations.get(user).copied().unwrap_or(0)
    }
}
