//! Failure counters in this process.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Fixed-window counters; expired windows are swept as new ones open.
pub struct MemoryCounters {
    inner: Mutex<HashMap<String, (u64, Instant)>>,
}

impl Default for MemoryCounters {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryCounters {
    pub fn new() -> Self {
        Self {
            inner: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (u64, Instant)>> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The count and the time left in the window.
    pub fn read(&self, key: &str) -> (u64, Duration) {
        let now = Instant::now();
        match self.lock().get(key) {
            Some(&(count, until)) if until > now => (count, until - now),
            _ => (0, Duration::ZERO),
        }
    }

    pub fn increment(&self, key: &str, window: Duration) {
        let now = Instant::now();
        let mut map = self.lock();
        if map.len() > 10_000 {
            map.retain(|_, (_, until)| *until > now);
        }
        let entry = map.entry(key.to_owned()).or_insert((0, now + window));
        if entry.1 <= now {
            *entry = (0, now + window);
        }
        entry.0 += 1;
    }

    /// Sets `key` if it is not live; true if this call set it.
    pub fn claim(&self, key: &str, ttl: Duration) -> bool {
        let now = Instant::now();
        let mut map = self.lock();
        match map.get(key) {
            Some(&(_, until)) if until > now => false,
            _ => {
                map.insert(key.to_owned(), (1, now + ttl));
                true
            }
        }
    }

    pub fn clear(&self, key: &str) {
        self.lock().remove(key);
    }
}
